/*
 * A memfd holding a program: the memfd_create() descriptor (read-write, but
 * the kernel does not count it as a writer, so fexecve() of the memfd works
 * while it is open) stays open next to a read-only reopen, which is also
 * mapped shared and private (a loader looking at the headers). After the
 * restore fexecve() through either must still work: a restored writable
 * descriptor reopened through /proc would count as a writer (ETXTBSY). The
 * task has exactly the descriptors it had, the shared read-only mapping
 * cannot become writable.
 */
#include <dirent.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

#include "e2e-exec.h"

/* The open descriptor numbers, as a string "0 1 2 5 ". */
static void fd_list(char *out, size_t size)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int own = d ? dirfd(d) : -1, fds[256], n = 0, i, j;
	size_t len = 0;

	if (!d)
		e2e_fail("opendir: %s", strerror(errno));
	while ((e = readdir(d)) && n < 256)
		if (e->d_name[0] != '.' && atoi(e->d_name) != own)
			fds[n++] = atoi(e->d_name);
	closedir(d);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
			int t = fds[j];

			fds[j] = fds[j - 1];
			fds[j - 1] = t;
		}
	out[0] = '\0';
	for (i = 0; i < n && len + 12 < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%d ", fds[i]);
}

int main(int argc, char **argv)
{
	char self[64], before[512], after[512], *shared, *priv;
	int rw, src, ro, r;
	struct stat st;

	e2e_init(argc, argv);
	rw = memfd_create("program", MFD_CLOEXEC);
	src = open("/bin/true", O_RDONLY | O_CLOEXEC);
	if (rw < 0 || src < 0 || fstat(src, &st))
		e2e_fail("setup: %s", strerror(errno));
	if (sendfile(rw, src, NULL, (size_t)st.st_size) != st.st_size)
		e2e_fail("copy /bin/true: %s", strerror(errno));
	close(src);
	snprintf(self, sizeof(self), "/proc/self/fd/%d", rw);
	ro = open(self, O_RDONLY | O_CLOEXEC);
	if (ro < 0)
		e2e_fail("reopen read-only: %s", strerror(errno));
	shared = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ro, 0);
	priv = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, ro, 0);
	if (shared == MAP_FAILED || priv == MAP_FAILED)
		e2e_fail("mmap: %s", strerror(errno));
	r = e2e_fexec(ro) ?: e2e_fexec(rw);
	if (r)
		e2e_fail("fexecve before the dump: %d", r);

	/* once before ready too: opendir's first malloc makes the heap, which
	 * must exist before the harness looks at /proc */
	fd_list(before, sizeof(before));
	e2e_ready();	/* closes the harness's descriptor */
	fd_list(before, sizeof(before));
	e2e_wait_stop();

	fd_list(after, sizeof(after));
	if (strcmp(before, after))
		e2e_fail("descriptors were \"%s\", are \"%s\"", before, after);
	if (memcmp(shared, "\177ELF", 4) || memcmp(priv, "\177ELF", 4))
		e2e_fail("the mappings lost the program's header");
	if (mprotect(shared, 4096, PROT_READ | PROT_WRITE) == 0 || errno != EACCES)
		e2e_fail("the shared read-only mapping can be made writable");
	r = e2e_fexec(ro) ?: e2e_fexec(rw);
	if (r)
		e2e_fail("fexecve of the restored memfd: %s (%d)", r < 1000 ? strerror(r) : "bad exit", r);
	e2e_pass();
}
