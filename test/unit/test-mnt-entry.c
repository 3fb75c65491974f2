/* Mount entries: mountinfo into the image's mnt_entry, and the checks of entries read back. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "image.h"
#include "log.h"
#include "mnt-entry.h"
#include "proc_parse.h"
#include "unit.h"

/* A namespace as `unshare -m` leaves it plus what a container adds; listed children first. */
static const char mountinfo[] =
	"30 26 0:30 / /t rw,nosuid,relatime - tmpfs none rw,size=1024k,mode=750\n"
	"26 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n"
	"31 30 0:31 / /t/sub2 ro,nodev,noexec,noatime - tmpfs none ro,size=64k,lazytime\n"
	"32 26 254:0 /srv/data /b ro,relatime - ext4 /dev/vda rw,discard\n"
	"33 26 0:30 /sub /b2 rw,nosuid,relatime - tmpfs none rw,size=1024k,mode=750\n"
	"34 26 0:32 / /p rw,nosuid,nodev,noexec - proc proc rw,hidepid=invisible\n";

struct ns {
	struct proc_mounts pm;
	Est__MntEntry e[8];
	Est__MntEntry *pe[8];
	enum mnt_how how[8];
	size_t n;
};

static int load(struct ns *ns, const char *text)
{
	size_t i;

	memset(ns, 0, sizeof(*ns));
	if (proc_parse_mountinfo(text, strlen(text), "mountinfo", &ns->pm) ||
	    mnt_order_proc(&ns->pm) || ns->pm.nr > 8)
		return -1;
	for (i = 0; i < ns->pm.nr; i++) {
		if (mnt_from_proc(&ns->pm.m[i], &ns->e[i]))
			return -1;
		ns->pe[i] = &ns->e[i];
		ns->n = i + 1;
	}
	/* the root, as the dump finds it in criu's namespace */
	ns->e[0].has_ext_mount = ns->e[0].ext_mount = true;
	ns->e[0].ext_key = MNT_EXT_AUTO;
	return 0;
}

static void release(struct ns *ns)
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		free(ns->e[i].options);
	proc_mounts_free(&ns->pm);
}

static int test_from_mountinfo(void)
{
	struct ns ns;
	int ok;

	CHECK(load(&ns, mountinfo) == 0);
	/* parents first, else in mountinfo's order */
	ok = ns.n == 6 && ns.e[0].mnt_id == 26 && ns.e[1].mnt_id == 30 && ns.e[2].mnt_id == 31 &&
	     ns.e[3].mnt_id == 32 && ns.e[5].mnt_id == 34 &&
	     ns.e[0].fstype == EST__FSTYPE__UNSUPPORTED && !strcmp(ns.e[0].fsname, "ext4") &&
	     ns.e[0].root_dev == (254u << 20) && ns.e[1].root_dev == 30 &&
	     ns.e[1].fstype == EST__FSTYPE__TMPFS && ns.e[1].flags == (MS_NOSUID | MS_RELATIME) &&
	     !strcmp(ns.e[1].options, "size=1024k,mode=750") && ns.e[1].sb_flags == 0 &&
	     ns.e[2].flags == (MS_RDONLY | MS_NODEV | MS_NOEXEC | MS_NOATIME) &&
	     ns.e[2].sb_flags == (MS_RDONLY | MS_LAZYTIME) && !strcmp(ns.e[2].options, "size=64k") &&
	     !strcmp(ns.e[3].root, "/srv/data") && !strcmp(ns.e[3].mountpoint, "/b") &&
	     ns.e[5].fstype == EST__FSTYPE__PROC && !strcmp(ns.e[5].options, "hidepid=invisible") &&
	     ns.e[5].flags == (MS_NOSUID | MS_NODEV | MS_NOEXEC);
	if (ok)
		ok = mnt_check_entries(ns.pe, ns.n, ns.how) == 0 && ns.how[0] == MNT_HOST &&
		     ns.how[1] == MNT_FRESH && ns.how[2] == MNT_FRESH && ns.how[3] == MNT_BIND &&
		     ns.how[4] == MNT_BIND && ns.how[5] == MNT_FRESH;
	release(&ns);
	CHECK(ok);
	return 0;
}

static int test_bind_sources(void)
{
	char path[256];
	struct ns ns;
	int a, b;

	CHECK(load(&ns, mountinfo) == 0);
	a = mnt_bind_source(ns.pe, 3, path, sizeof(path));	/* /b: ext4 /srv/data */
	b = a == 0 ? mnt_bind_source(ns.pe, 4, path + 128, 128) : -1;	/* /b2: /t's sub */
	release(&ns);
	CHECK(a == 0 && !strcmp(path, "/srv/data"));
	CHECK(b == 1 && !strcmp(path + 128, "/t/sub"));
	return 0;
}

/* @text loads but the entries are refused (after @tweak of entry @i, if any). */
static int refused(const char *text, void (*tweak)(Est__MntEntry *), size_t i)
{
	struct ns ns;
	int r;

	if (load(&ns, text))
		return 0;
	if (tweak)
		tweak(&ns.e[i]);
	r = mnt_check_entries(ns.pe, ns.n, ns.how);
	release(&ns);
	return r != 0;
}

static void shared(Est__MntEntry *e) { e->has_shared_id = true; e->shared_id = 7; }
static void dotdot(Est__MntEntry *e) { e->mountpoint = "/t/../etc"; }
static void relative(Est__MntEntry *e) { e->root = "sub"; }
static void bad_flag(Est__MntEntry *e) { e->flags |= MS_BIND; }
static void other_key(Est__MntEntry *e) { e->has_ext_mount = e->ext_mount = true; e->ext_key = "mnt1"; }
static void orphan(Est__MntEntry *e) { e->parent_mnt_id = 999; }
static void same_id(Est__MntEntry *e) { e->mnt_id = 26; }
static void not_ext(Est__MntEntry *e) { e->ext_mount = false; }

static int test_refusals(void)
{
	static const char overlay[] =
		"26 1 254:0 / / rw - ext4 /dev/vda rw\n"
		"40 26 0:50 / /o rw - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w\n";
	/* a bind of /t/sub made after a mount over /t/sub: its path leads to that mount */
	static const char hidden[] =
		"26 1 254:0 / / rw - ext4 /dev/vda rw\n"
		"30 26 0:30 / /t rw - tmpfs none rw\n"
		"31 30 0:31 / /t/sub rw - tmpfs none rw\n"
		"32 26 0:30 /sub /b rw - tmpfs none rw\n";
	static const char idmapped[] = "26 1 254:0 / / rw,idmapped - ext4 /dev/vda rw\n";
	struct proc_mounts pm;
	Est__MntEntry e;

	CHECK(refused(overlay, NULL, 0));
	CHECK(refused(hidden, NULL, 0));
	CHECK(refused(mountinfo, shared, 1));
	CHECK(refused(mountinfo, dotdot, 1));
	CHECK(refused(mountinfo, relative, 3));
	CHECK(refused(mountinfo, bad_flag, 2));
	CHECK(refused(mountinfo, other_key, 3));
	CHECK(refused(mountinfo, orphan, 5));
	CHECK(refused(mountinfo, same_id, 3));
	CHECK(refused(mountinfo, not_ext, 0));
	/* an option of the mount this criu does not know */
	CHECK(proc_parse_mountinfo(idmapped, strlen(idmapped), "mountinfo", &pm) == 0);
	CHECK(mnt_from_proc(&pm.m[0], &e) == -1);
	proc_mounts_free(&pm);
	return 0;
}

static int test_image_round_trip(void)
{
	char dir[] = "/tmp/test-mnt-entry-XXXXXX";
	ProtobufCMessage **m = NULL;
	enum mnt_how how[8];
	struct cr_img *img;
	struct ns ns;
	size_t n = 0, i;
	int dfd, ok;

	CHECK(mkdtemp(dir) != NULL);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0 && load(&ns, mountinfo) == 0);
	img = img_create(dfd, IMG_MNTS, 0);
	for (i = 0; img && i < ns.n; i++)
		if (img_write_entry(img, &ns.e[i].base))
			break;
	ok = img && i == ns.n && img_commit(img) == 0 &&
	     img_read_all(dfd, IMG_MNTS, 0, MNT_MAX, NULL, NULL, &m, &n) == 0 && n == ns.n &&
	     mnt_check_entries((Est__MntEntry *const *)m, n, how) == 0 && how[1] == MNT_FRESH &&
	     !strcmp(((Est__MntEntry *)m[5])->options, "hidepid=invisible");
	img_free_all(m, n);
	release(&ns);
	unlinkat(dfd, "mnts.img", 0);
	close(dfd);
	rmdir(dir);
	CHECK(ok);
	return 0;
}

static const struct unit_case cases[] = {
	{ "mountinfo into mount entries", test_from_mountinfo },
	{ "a bind's source and path", test_bind_sources },
	{ "entries a restore cannot make are refused", test_refusals },
	{ "mnts.img round trip", test_image_round_trip },
};

int main(int argc, char **argv)
{
	(void)argc;
	log_init(NULL, NULL, getenv("UNIT_LOG") ? LOG_DEBUG : LOG_NONE);
	return unit_run(argv[0], cases, ARRAY_SIZE(cases));
}
