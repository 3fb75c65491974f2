/*
 * A task of another user: uid/gid 1000 everywhere, one supplementary group,
 * no capabilities. criu (root, without CAP_SYS_RESOURCE) dumps and restores
 * it; the credentials must come back exactly, and the session keyring it
 * sees (criu's, or when criu has none, uid 1000's user session keyring).
 */
#include <grp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/keyctl.h>

#include "e2e.h"

static unsigned long long cap_eff(void)
{
	unsigned long long v = ~0ull;
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	uid_t r, e, s;
	gid_t gr, ge, gs, groups[4];
	int n;
	long keyring;

	e2e_init(argc, argv);
	e2e_result_for(1000, 1000);
	if (setgroups(1, (gid_t[]){ 1001 }) || setresgid(1000, 1000, 1000) ||
	    setresuid(1000, 1000, 1000))
		e2e_fail("dropping to uid 1000: %s", strerror(errno));
	keyring = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
	e2e_ready();
	e2e_wait_stop();
	if (syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0) != keyring)
		e2e_fail("session keyring: %ld, not %ld as before", syscall(SYS_keyctl,
			 KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0), keyring);

	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	if (r != 1000 || e != 1000 || s != 1000)
		e2e_fail("uids %d %d %d", r, e, s);
	if (gr != 1000 || ge != 1000 || gs != 1000)
		e2e_fail("gids %d %d %d", gr, ge, gs);
	n = getgroups(4, groups);
	if (n != 1 || groups[0] != 1001)
		e2e_fail("%d supplementary groups", n);
	if (cap_eff() != 0)
		e2e_fail("effective capabilities %#llx", cap_eff());
	e2e_pass();
}
