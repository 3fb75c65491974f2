/*
 * Restore: the tree's own uts and ipc namespaces (include/utsipc.h,
 * Documentation/namespaces.md). criu reads their images before the first
 * fork; the root is cloned with CLONE_NEWUTS / CLONE_NEWIPC and, first
 * thing, sets its host and domain names and the ipc sysctls, which
 * /proc/sys shows and takes for the writer's own ipc namespace. Its
 * children inherit both namespaces.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "restore: "
#include "log.h"
#include "restore.h"
#include "restore-task.h"

#include "est/ipc-var.pb-c.h"
#include "est/utsns.pb-c.h"

int rst_utsipc_read(int dirfd, struct rst_tree *tr)
{
	struct rst_utsipc *u = &tr->utsipc;
	ProtobufCMessage *m;
	int ret;

	memset(u, 0, sizeof(*u));
	ret = utsipc_read(dirfd, UTSIPC_UTS_IMG, &m);
	if (ret < 0)
		return -1;
	if (ret) {
		const Est__UtsnsEntry *e = (const Est__UtsnsEntry *)m;

		u->flags |= CLONE_NEWUTS;
		strcpy(u->nodename, e->nodename);	/* checked: at most UTSIPC_NAME_MAX */
		strcpy(u->domainname, e->domainname);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	ret = utsipc_read(dirfd, UTSIPC_IPC_VAR_IMG, &m);
	if (ret < 0)
		return -1;
	if (ret) {
		u->flags |= CLONE_NEWIPC;
		utsipc_var_from_entry((const Est__IpcVarEntry *)m, &u->vars);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	if (u->flags)
		pr_info("the root gets a new%s%s namespace", u->flags & CLONE_NEWUTS ? " uts" : "",
			u->flags & CLONE_NEWIPC ? " ipc" : "");
	return 0;
}

static void write_sysctl(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t len = (ssize_t)strlen(text);

	if (fd < 0 || write(fd, text, (size_t)len) != len)
		rst_die("cannot write %s to %s: %s", text, path, strerror(errno));
	close(fd);
}

static void apply_ipc(const struct utsipc_vars *v)
{
	char buf[96];
	int i;

	snprintf(buf, sizeof(buf), "%u %u %u %u", v->sem[0], v->sem[1], v->sem[2], v->sem[3]);
	write_sysctl(UTSIPC_SEM_PATH, buf);
	for (i = 0; i < IV_NR; i++) {
		/* a next id nobody asked for reads -1, which the kernel takes from nobody */
		if ((i == IV_MSG_NEXT_ID || i == IV_SEM_NEXT_ID || i == IV_SHM_NEXT_ID) &&
		    v->v[i] == UINT32_MAX)
			continue;
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v->v[i]);
		write_sysctl(utsipc_var_path(i), buf);
	}
}

void rst_utsipc_apply(const struct rst_tree *tr)
{
	const struct rst_utsipc *u = &tr->utsipc;

	if ((u->flags & CLONE_NEWUTS) &&
	    (sethostname(u->nodename, strlen(u->nodename)) ||
	     setdomainname(u->domainname, strlen(u->domainname))))
		rst_die("cannot set the host or domain name: %s", strerror(errno));
	if (u->flags & CLONE_NEWIPC)
		apply_ipc(&u->vars);
}
