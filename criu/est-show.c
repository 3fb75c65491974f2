/*
 * criu show / criu encode for images in the established format
 * (include/est-json.h has the JSON rules, cmd-show.c the commands).
 *
 * A file is an established image when its first word is one of that
 * format's head words (or the inventory's single magic); anything else is
 * left to our own format's reader. A directory is shown the established way
 * when its inventory.img is established: one object keyed by file name, laid
 * out as Python's json.dump would lay out {name: crit's document}, holding
 * every regular file that is an image (stats-dump has no ".img"); a raw
 * pages-N.img is summarised ({"magic": "pages", "size": ..., "pages": ...}),
 * since crit has no form for it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_PREFIX "show: "
#include "est-json.h"
#include "est-json-text.h"
#include "est-show.h"
#include "log.h"

#define EST_FILE_MAX	(256ull << 20)	/* what show reads of one file */
#define PAGE		4096u

int est_file_kind(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	uint8_t head[4];
	ssize_t n;

	if (fd < 0) {
		pr_perror("can't open %s", name);
		return -1;
	}
	n = read(fd, head, sizeof(head));
	close(fd);
	if (n < 0) {
		pr_perror("can't read %s", name);
		return -1;
	}
	return est_looks_like_image(head, n) ? 1 : 0;
}

int est_show_file(int dirfd, const char *name, bool pretty, unsigned int level, struct jbuf *jb)
{
	const struct est_kind *k;
	uint8_t *buf;
	size_t len;
	int ret = -1;

	if (est_load_file(dirfd, name, EST_FILE_MAX, &buf, &len))
		return -1;
	k = est_kind_of_buf(buf, len, name);
	if (k)
		ret = est_to_json(k, buf, len, name, pretty, level, jb);
	free(buf);
	return ret;
}

/* ---- directories ------------------------------------------------------------ */

static void newline(struct jbuf *jb, bool pretty, unsigned int level)
{
	unsigned int i;

	if (!pretty)
		return;
	jbuf_putn(jb, "\n", 1);
	for (i = 0; i < level * 4; i++)
		jbuf_putn(jb, " ", 1);
}

/* crit has no form for raw page data: its size and page count. */
static int show_raw(int dirfd, const char *name, bool pretty, unsigned int level,
		    struct jbuf *jb)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, 0)) {
		pr_perror("can't stat %s", name);
		return -1;
	}
	jbuf_putn(jb, "{", 1);
	newline(jb, pretty, level + 1);
	jbuf_puts(jb, pretty ? "\"magic\": \"pages\"," : "\"magic\": \"pages\", ");
	newline(jb, pretty, level + 1);
	jbuf_printf(jb, "\"size\": %llu,%s", (unsigned long long)st.st_size, pretty ? "" : " ");
	newline(jb, pretty, level + 1);
	jbuf_printf(jb, "\"pages\": %llu", (unsigned long long)st.st_size / PAGE);
	newline(jb, pretty, level);
	jbuf_putn(jb, "}", 1);
	return 0;
}

static int image_file(const struct dirent *de)
{
	const struct est_kind *k;

	if (de->d_name[0] == '.')
		return 0;
	k = est_kind_by_name(de->d_name);
	return k != NULL;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Member "name": document of the directory object; 1 if not a regular file. */
static int show_member(int dirfd, const char *name, bool pretty, unsigned int nr,
		       struct jbuf *jb)
{
	const struct est_kind *k = est_kind_by_name(name);
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW)) {
		pr_perror("can't stat %s", name);
		return -1;
	}
	if (!S_ISREG(st.st_mode))
		return 1;
	if (nr)
		jbuf_puts(jb, pretty ? "," : ", ");
	newline(jb, pretty, 1);
	est_put_string(jb, name, strlen(name));
	jbuf_puts(jb, ": ");
	if (!k->magic)
		return show_raw(dirfd, name, pretty, 1, jb);
	return est_show_file(dirfd, name, pretty, 1, jb);
}

int est_show_dir(int dirfd, bool pretty, struct jbuf *jb, int (*flush)(struct jbuf *))
{
	struct dirent **list;
	unsigned int shown = 0;
	int i, n, ret = 0;

	n = scandirat(dirfd, ".", &list, image_file, by_name);
	if (n < 0) {
		pr_perror("can't list the directory");
		return -1;
	}
	jbuf_putn(jb, "{", 1);
	for (i = 0; i < n; i++) {
		size_t mark = jb->len;
		int r = show_member(dirfd, list[i]->d_name, pretty, shown, jb);

		if (r) {
			jb->len = mark;		/* drop what the failed file left */
			ret |= r < 0 ? -1 : 0;
		} else {
			shown++;
			ret |= flush(jb);
		}
		free(list[i]);
	}
	free(list);
	if (shown)
		newline(jb, pretty, 0);
	jbuf_puts(jb, "}\n");
	ret |= flush(jb);
	return ret ? -1 : 0;
}

/* ---- encode ----------------------------------------------------------------- */

bool est_doc_names_est_kind(const struct json_value *doc)
{
	const struct json_value *magic = json_get(doc, "magic");
	const struct est_kind *k;
	unsigned int n, i;

	if (!magic || magic->type != JSON_STRING)
		return false;
	k = est_kinds(&n);
	for (i = 0; i < n; i++)
		if (k[i].magic && !strcmp(k[i].name, magic->str))
			return true;
	return false;
}

/* Write @len bytes to @name in @dirfd through a hidden temporary and rename. */
static int write_file(int dirfd, const char *name, const char *buf, size_t len)
{
	char tmp[PATH_MAX];
	size_t done = 0;
	ssize_t n;
	int fd;

	if (snprintf(tmp, sizeof(tmp), ".%s.part", name) >= (int)sizeof(tmp)) {
		pr_err("%s: name too long", name);
		return -1;
	}
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		pr_perror("can't create %s", tmp);
		return -1;
	}
	while (done < len) {
		n = write(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			pr_perror("can't write %s", tmp);
			goto err;
		}
		done += n;
	}
	if (fsync(fd) || close(fd)) {
		fd = -1;
		pr_perror("can't write %s", tmp);
		goto err;
	}
	if (renameat(dirfd, tmp, dirfd, name)) {
		pr_perror("can't rename %s to %s", tmp, name);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	return 0;
err:
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	return -1;
}

int est_encode(const struct json_value *doc, const char *src, int dirfd, const char *out_name)
{
	struct jbuf out;
	int ret = -1;

	jbuf_init(&out);
	if (!est_from_json(doc, src, out_name, &out))
		ret = write_file(dirfd, out_name, out.buf, out.len);
	jbuf_free(&out);
	return ret;
}
