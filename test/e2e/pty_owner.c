/*
 * The slave node of a pty pair keeps the owner, group and mode the task
 * gave it (chown 1000:5, chmod 0620 as login(1) does; a second pair 0600
 * with owner 1001:1001 whose slave is not held, only the master).
 */
#include "e2e-pty.h"

static void set_owner(const char *name, uid_t uid, gid_t gid, mode_t mode)
{
	if (chown(name, uid, gid) || chmod(name, mode))
		e2e_fail("%s: chown/chmod: %s", name, strerror(errno));
}

static void check_owner(const char *name, uid_t uid, gid_t gid, mode_t mode)
{
	struct stat st;

	if (stat(name, &st))
		e2e_fail("%s: stat: %s", name, strerror(errno));
	if (st.st_uid != uid || st.st_gid != gid || (st.st_mode & 07777) != mode)
		e2e_fail("%s: owner %u:%u mode %o, was %u:%u %o", name, st.st_uid, st.st_gid,
			 st.st_mode & 07777, uid, gid, mode);
}

int main(int argc, char **argv)
{
	struct e2e_pty a, b;

	e2e_init(argc, argv);
	e2e_pty_open(&a, O_NOCTTY);
	set_owner(a.name, 1000, 5, 0620);
	e2e_pty_open(&b, O_NOCTTY);
	set_owner(b.name, 1001, 1001, 0600);
	close(b.slave);

	e2e_ready();
	e2e_wait_stop();

	if (tcgetattr(a.slave, &a.tio))
		e2e_fail("%s: the slave is gone: %s", a.name, strerror(errno));
	check_owner(a.name, 1000, 5, 0620);
	check_owner(b.name, 1001, 1001, 0600);
	e2e_pty_carry(a.master, a.slave, "x\n", "x\n", 2, "a: master to slave");
	e2e_pass();
}
