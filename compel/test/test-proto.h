/* Commands of the test parasite; shared by test/parasite.c and the driver. */
#ifndef COMPEL_TEST_PROTO_H
#define COMPEL_TEST_PROTO_H

enum {
	TCMD_ECHO = 1,		/* args: string; reply: getpid, args "echo:<s>" */
	TCMD_THREAD_INFO,	/* reply: gettid; args: struct tinfo */
	TCMD_VMSPLICE,		/* fds[0]: pipe; args: struct tsplice */
	TCMD_SEND_FDS,		/* args: struct tfds; send those victim fds */
	TCMD_LOG,		/* log a formatted line at every level */
	TCMD_CRASH,		/* fault on purpose */
	TCMD_NOP,		/* return 0 */
	TCMD_RELOCS,		/* 'a'+'b'+'g' + (1 + 0x5eed) + 0x5eed */
};

struct tinfo {
	unsigned long	tls;		/* %fs:0 in the thread: its TCB */
	int		tid;
};

struct tsplice {
	unsigned long	addr;
	unsigned long	len;
};

struct tfds {
	int		n;
	int		fd[8];
};

#endif
