/*
 * memfd descriptors keep name, content (holes too), size, seals, mode,
 * positions, close-on-exec and sharing: a sealed sparse memfd with a dup
 * and a second open file description reopened through /proc (and an O_PATH
 * one); an unsealable
 * close-on-exec memfd with mode 0600.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include "e2e.h"

#define SIZE	(1024 * 1024)
#define DATA2	(512 * 1024)

static void check_bytes(int fd, off_t off, const char *want, size_t len)
{
	char buf[64];

	if (pread(fd, buf, len, off) != (ssize_t)len || memcmp(buf, want, len))
		e2e_fail("fd %d: bytes at %lld differ", fd, (long long)off);
}

int main(int argc, char **argv)
{
	int a, shared, other, plain, seals, opath;
	char self[64], zero[16] = { 0 };
	struct stat sa, so;

	e2e_init(argc, argv);
	a = memfd_create("criu test: a", MFD_ALLOW_SEALING);
	plain = memfd_create("plain", MFD_CLOEXEC);
	if (a < 0 || plain < 0)
		e2e_fail("memfd_create: %s", strerror(errno));
	if (ftruncate(a, SIZE) || pwrite(a, "head of a", 9, 0) != 9 ||
	    pwrite(a, "middle", 6, DATA2) != 6 || write(plain, "x", 1) != 1 || fchmod(plain, 0600))
		e2e_fail("fill: %s", strerror(errno));
	if (fcntl(a, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW))
		e2e_fail("F_ADD_SEALS: %s", strerror(errno));
	snprintf(self, sizeof(self), "/proc/self/fd/%d", a);
	other = open(self, O_RDONLY | O_NONBLOCK);
	opath = open(self, O_PATH);
	shared = dup2(a, 50);
	if (other < 0 || opath < 0 || shared != 50 || lseek(a, 777, SEEK_SET) != 777 ||
	    lseek(other, 5, SEEK_SET) != 5)
		e2e_fail("setup: %s", strerror(errno));

	e2e_ready();
	e2e_wait_stop();

	e2e_check_fd_link(a, "/memfd:criu test: a (deleted)");
	e2e_check_fd_link(other, "/memfd:criu test: a (deleted)");
	e2e_check_fd_link(plain, "/memfd:plain (deleted)");
	e2e_check_fd_link(opath, "/memfd:criu test: a (deleted)");
	if (!(fcntl(opath, F_GETFL) & O_PATH))
		e2e_fail("O_PATH memfd fd lost O_PATH: %o", fcntl(opath, F_GETFL));
	if (fstat(a, &sa) || fstat(other, &so) || sa.st_ino != so.st_ino || sa.st_size != SIZE)
		e2e_fail("the two open files of memfd a are not one %d-byte memfd", SIZE);
	seals = fcntl(a, F_GET_SEALS);
	if (seals != (F_SEAL_SHRINK | F_SEAL_GROW) || fcntl(plain, F_GET_SEALS) != F_SEAL_SEAL)
		e2e_fail("seals %#x and %#x", seals, fcntl(plain, F_GET_SEALS));
	if (ftruncate(a, SIZE / 2) == 0 || errno != EPERM)
		e2e_fail("F_SEAL_SHRINK no longer holds");
	check_bytes(a, 0, "head of a", 9);
	check_bytes(a, DATA2, "middle", 6);
	check_bytes(a, 4096, zero, sizeof(zero));
	if (lseek(a, 8192, SEEK_DATA) != DATA2 && lseek(a, 8192, SEEK_DATA) != (DATA2 & ~4095))
		e2e_fail("the hole is gone");
	lseek(a, 777, SEEK_SET);
	if (lseek(shared, 0, SEEK_CUR) != 777 || lseek(other, 0, SEEK_CUR) != 5)
		e2e_fail("positions %lld and %lld", (long long)lseek(shared, 0, SEEK_CUR),
			 (long long)lseek(other, 0, SEEK_CUR));
	if ((fcntl(other, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) != (O_RDONLY | O_NONBLOCK))
		e2e_fail("flags of the reopened file: %o", fcntl(other, F_GETFL));
	if (!(fcntl(plain, F_GETFD) & FD_CLOEXEC) || (fcntl(a, F_GETFD) & FD_CLOEXEC))
		e2e_fail("close-on-exec flags lost");
	if (fstat(plain, &so) || (so.st_mode & 07777) != 0600 || so.st_size != 1)
		e2e_fail("plain: mode %o size %lld", so.st_mode & 07777, (long long)so.st_size);
	if (pwrite(a, "Z", 1, 4) != 1)
		e2e_fail("write: %s", strerror(errno));
	check_bytes(other, 0, "headZ", 5);
	e2e_pass();
}
