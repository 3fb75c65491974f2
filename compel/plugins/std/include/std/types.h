/*
 * Kernel ABI types the parasite runtime needs, spelled out so that no
 * libc header is involved.  Layouts are those of x86_64/generic Linux.
 */
#ifndef STD_TYPES_H
#define STD_TYPES_H

#include <linux/types.h>

typedef unsigned long	size_t;
typedef long		ssize_t;

#ifndef NULL
#define NULL ((void *)0)
#endif

struct std_iovec {
	void		*iov_base;
	size_t		iov_len;
};

struct std_msghdr {
	void			*msg_name;
	int			msg_namelen;
	struct std_iovec	*msg_iov;
	size_t			msg_iovlen;
	void			*msg_control;
	size_t			msg_controllen;
	unsigned int		msg_flags;
};

struct std_cmsghdr {
	size_t		cmsg_len;
	int		cmsg_level;
	int		cmsg_type;
};

struct std_sockaddr_un {
	unsigned short	sun_family;
	char		sun_path[108];
};

struct std_pollfd {
	int		fd;
	short		events;
	short		revents;
};

struct std_stack {
	void		*ss_sp;
	int		ss_flags;
	size_t		ss_size;
};

struct std_timespec {
	long		tv_sec;
	long		tv_nsec;
};

#define STD_AF_UNIX		1
#define STD_SOCK_SEQPACKET	5
#define STD_SOCK_CLOEXEC	02000000
#define STD_SOL_SOCKET		1
#define STD_SCM_RIGHTS		1
#define STD_MSG_NOSIGNAL	0x4000
#define STD_MSG_DONTWAIT	0x40
#define STD_SIG_BLOCK		0
#define STD_SIGPIPE		13
#define STD_MSG_CMSG_CLOEXEC	0x40000000
#define STD_POLLHUP		0x010
#define STD_POLLERR		0x008

#define STD_CMSG_ALIGN(len)	(((len) + sizeof(size_t) - 1) & ~(sizeof(size_t) - 1))
#define STD_CMSG_SPACE(len)	(STD_CMSG_ALIGN(sizeof(struct std_cmsghdr)) + STD_CMSG_ALIGN(len))
#define STD_CMSG_LEN(len)	(STD_CMSG_ALIGN(sizeof(struct std_cmsghdr)) + (len))
#define STD_CMSG_DATA(c)	((unsigned char *)(c) + STD_CMSG_ALIGN(sizeof(struct std_cmsghdr)))

#endif /* STD_TYPES_H */
