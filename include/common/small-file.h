/*
 * Small /proc and sysfs files, shared by compel and criu.
 *
 * Uses libc: the freestanding parasite and restorer must not include it.
 *
 *   read_small_file(path, buf, size)   the whole file (at most size - 1
 *       bytes) in @buf, NUL-terminated. Returns its length, or -1 with errno
 *       set and @buf "" (nothing logged: whether a missing file is an error
 *       is the caller's call).
 *   proc_stat_state(text, len)         the state letter of a /proc/PID/stat
 *       text, or NULL. The one place that knows where it is: COMM in
 *       "PID (COMM) S ..." may hold anything, ')' included, so it ends at
 *       the last ')' of the text. criu's full parser (proc_parse_stat) finds
 *       it here too.
 */
#ifndef COMMON_SMALL_FILE_H
#define COMMON_SMALL_FILE_H

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static inline ssize_t read_small_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;
	size_t len = 0;
	ssize_t n = 0;

	buf[0] = '\0';
	if (fd < 0)
		return -1;
	while (len + 1 < size) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	err = errno;
	close(fd);
	errno = err;
	buf[n < 0 ? 0 : len] = '\0';
	return n < 0 ? -1 : (ssize_t)len;
}

static inline const char *proc_stat_state(const char *text, size_t len)
{
	const char *close = memrchr(text, ')', len);

	if (!close || close + 2 >= text + len || close[1] != ' ' || close[2] == ' ' ||
	    close[2] == '\n' || close[2] == '\0')
		return NULL;
	return close + 2;
}

#endif /* COMMON_SMALL_FILE_H */
