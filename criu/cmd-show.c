/*
 * criu show FILE|DIR   - images to JSON on stdout
 * criu encode IN OUT   - the JSON back to an image
 *
 * The JSON form is described in Documentation/images.md. A directory is
 * shown as one JSON object keyed by file name, in name order, holding every
 * regular "*.img" file that is not hidden (so ".name.part" leftovers of an
 * unfinished dump are skipped). A file that fails to decode is left out of
 * that object (the error is logged) and the command fails at the end, but
 * the output stays one valid JSON document.
 *
 * Images of the established format (and a directory whose inventory.img is
 * one) print as crit decode prints them, --pretty as crit decode --pretty;
 * encode reads that JSON back (criu/est-show.c).
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
#include "commands.h"
#include "est-show.h"
#include "image.h"
#include "log.h"
#include "pbjson.h"

#define RAW_PAGE_SIZE	4096u
#define RAW_CHUNK	(16 * RAW_PAGE_SIZE)

/* ---- image -> JSON -------------------------------------------------------- */

/* Read until @len bytes or EOF; returns the bytes read or -1. */
static ssize_t read_full(int fd, uint8_t *buf, size_t len, const char *name)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pr_perror("can't read %s", name);
			return -1;
		}
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

static bool page_is_zero(const uint8_t *p)
{
	static const uint8_t zero[RAW_PAGE_SIZE];

	return !memcmp(p, zero, RAW_PAGE_SIZE);
}

/* A raw page file: its size and page counts, never the data. */
static int raw_summary(struct cr_img *img, struct jbuf *jb, unsigned int level)
{
	static uint8_t buf[RAW_CHUNK];
	unsigned long long size = 0, zero = 0;
	ssize_t n;
	size_t i;

	do {
		n = read_full(img_raw_fd(img), buf, sizeof(buf), img_name(img));
		if (n < 0)
			return -1;
		for (i = 0; i + RAW_PAGE_SIZE <= (size_t)n; i += RAW_PAGE_SIZE)
			zero += page_is_zero(buf + i);
		size += n;
	} while (n == sizeof(buf));
	jbuf_indent(jb, level + 1);
	jbuf_printf(jb, "\"size\": %llu, \"page_size\": %u, \"pages\": %llu,", size,
		    RAW_PAGE_SIZE, size / RAW_PAGE_SIZE);
	jbuf_indent(jb, level + 1);
	jbuf_printf(jb, "\"zero_pages\": %llu, \"tail_bytes\": %llu", zero, size % RAW_PAGE_SIZE);
	return 0;
}

static int entries_to_json(struct cr_img *img, struct jbuf *jb, unsigned int level)
{
	ProtobufCMessage *msg;
	unsigned int n = 0;
	int ret;

	jbuf_indent(jb, level + 1);
	jbuf_puts(jb, "\"entries\": [");
	while ((ret = img_read_entry(img, &msg)) == 1) {
		if (n++)
			jbuf_putn(jb, ",", 1);
		jbuf_indent(jb, level + 2);
		pbjson_print(jb, msg, level + 2);
		img_free_entry(msg);
	}
	if (ret < 0)
		return -1;
	if (n)
		jbuf_indent(jb, level + 1);
	jbuf_putn(jb, "]", 1);
	return 0;
}

int img_to_json(int dirfd, const char *name, struct jbuf *jb, unsigned int level)
{
	struct cr_img *img = img_open_file(dirfd, name);
	const struct img_desc *d;
	int ret;

	if (!img)
		return -1;
	d = img_kind_of(img);
	jbuf_putn(jb, "{", 1);
	jbuf_indent(jb, level + 1);
	jbuf_puts(jb, "\"magic\": ");
	json_put_string(jb, d->name, strlen(d->name));
	jbuf_putn(jb, ",", 1);
	ret = d->pb ? entries_to_json(img, jb, level) : raw_summary(img, jb, level);
	img_close(img);
	jbuf_indent(jb, level);
	jbuf_putn(jb, "}", 1);
	return ret || jb->oom ? -1 : 0;
}

static int put_stdout(struct jbuf *jb)
{
	if (jb->oom)
		return -1;
	if (fwrite(jb->buf, 1, jb->len, stdout) != jb->len || fflush(stdout)) {
		pr_perror("can't write the output");
		return -1;
	}
	jb->len = 0;
	return 0;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static int show_file(const char *path, bool pretty)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, slash - path + 1) : strdup(".");
	struct jbuf jb;
	int dirfd, ret = -1;

	dirfd = dir ? open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
	free(dir);
	if (dirfd < 0) {
		pr_perror("can't open the directory of %s", path);
		return -1;
	}
	jbuf_init(&jb);
	ret = est_file_kind(dirfd, base_name(path));
	if (ret == 1)
		ret = est_show_file(dirfd, base_name(path), pretty, 0, &jb);
	else if (!ret)
		ret = img_to_json(dirfd, base_name(path), &jb, 0);
	if (ret) {
		ret = -1;
	} else {
		jbuf_putn(&jb, "\n", 1);
		ret = put_stdout(&jb);
	}
	jbuf_free(&jb);
	close(dirfd);
	return ret;
}

static int image_name_filter(const struct dirent *de)
{
	size_t len = strlen(de->d_name);

	return de->d_name[0] != '.' && len > 4 && !strcmp(de->d_name + len - 4, ".img");
}

/* Plain byte order, whatever the locale. */
static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* One member "name": {...} of the directory object; 1 if skipped. */
static int show_dir_entry(int dirfd, const char *name, struct jbuf *jb, bool first)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW)) {
		pr_perror("can't stat %s", name);
		return -1;
	}
	if (!S_ISREG(st.st_mode))
		return 1;
	jbuf_puts(jb, first ? "" : ",");
	jbuf_indent(jb, 1);
	json_put_string(jb, name, strlen(name));
	jbuf_puts(jb, ": ");
	return img_to_json(dirfd, name, jb, 1);
}

static int show_dir(const char *path, bool pretty)
{
	struct dirent **list;
	struct jbuf jb;
	int i, n, dirfd, ret = 0, shown = 0;

	dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		pr_perror("can't open %s", path);
		return -1;
	}
	if (!faccessat(dirfd, "inventory.img", F_OK, 0) &&
	    est_file_kind(dirfd, "inventory.img") == 1) {
		jbuf_init(&jb);
		ret = est_show_dir(dirfd, pretty, &jb, put_stdout);
		jbuf_free(&jb);
		close(dirfd);
		return ret;
	}
	n = scandirat(dirfd, ".", &list, image_name_filter, by_name);
	if (n < 0) {
		pr_perror("can't list %s", path);
		close(dirfd);
		return -1;
	}
	jbuf_init(&jb);
	jbuf_putn(&jb, "{", 1);
	for (i = 0; i < n; i++) {
		size_t mark = jb.len;
		int r = show_dir_entry(dirfd, list[i]->d_name, &jb, !shown);

		if (r) {
			jb.len = mark;		/* drop what the failed file left */
			ret |= r < 0 ? -1 : 0;
		} else {
			shown++;
			ret |= put_stdout(&jb);
		}
		free(list[i]);
	}
	free(list);
	close(dirfd);
	jbuf_puts(&jb, shown ? "\n}\n" : "}\n");
	ret |= put_stdout(&jb);
	jbuf_free(&jb);
	return ret ? -1 : 0;
}

int cmd_show(struct cr_options *o)
{
	struct stat st;
	const char *path;

	if (o->args.n != 2) {
		pr_err("usage: criu show [--pretty] FILE|DIR");
		return -1;
	}
	path = o->args.v[1];
	if (stat(path, &st)) {
		pr_perror("can't stat %s", path);
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return show_dir(path, o->show_pretty);
	return show_file(path, o->show_pretty);
}

/* ---- JSON -> image ----------------------------------------------------------- */

/* The id in @name if it is a file name of kind @d ("pagemap-%u.img"). */
static int name_to_id(const struct img_desc *d, const char *name, unsigned int *id)
{
	const char *pct = strstr(d->fmt, "%u"), *s;
	unsigned long long v = 0;
	char again[64];

	if (!pct) {
		*id = 0;
		return strcmp(d->fmt, name) ? -1 : 0;
	}
	if (strncmp(name, d->fmt, pct - d->fmt))
		return -1;
	for (s = name + (pct - d->fmt); *s >= '0' && *s <= '9' && v <= UINT32_MAX; s++)
		v = v * 10 + (*s - '0');
	if (v > UINT32_MAX)
		return -1;
	*id = v;
	snprintf(again, sizeof(again), d->fmt, *id);
	return strcmp(again, name) ? -1 : 0;
}

static int find_kind(const struct json_value *magic, const char *src, enum img_kind *kind)
{
	int k;

	if (!magic || magic->type != JSON_STRING) {
		pr_err("%s: \"magic\" must be a string naming the image kind", src);
		return -1;
	}
	for (k = 0; k < IMG_KIND_MAX; k++) {
		if (!strcmp(img_desc(k)->name, magic->str)) {
			*kind = k;
			return 0;
		}
	}
	pr_err("%s:%u:%u: unknown image kind \"%s\"", src, magic->line, magic->col, magic->str);
	return -1;
}

static int write_entries(struct cr_img *img, const struct json_value *entries, const char *src)
{
	size_t i;

	for (i = 0; i < entries->len; i++) {
		ProtobufCMessage *msg = pbjson_build(img_next_type(img), &entries->items[i], src);
		int ret;

		if (!msg)
			return -1;
		ret = img_write_entry(img, msg);
		pbjson_free(msg);
		if (ret)
			return -1;
	}
	return 0;
}

static int check_doc(const struct json_value *doc, const char *src)
{
	const struct json_value *entries = json_get(doc, "entries");

	if (doc->type != JSON_OBJECT) {
		pr_err("%s: the document must be an object", src);
		return -1;
	}
	if (!entries || entries->type != JSON_ARRAY || doc->len != 2) {
		pr_err("%s: expected exactly the keys \"magic\" and \"entries\" (an array)", src);
		return -1;
	}
	return 0;
}

int json_to_img(const struct json_value *doc, const char *src, int dirfd, const char *out_name)
{
	const struct img_desc *d;
	enum img_kind kind;
	struct cr_img *img;
	unsigned int id;

	if (check_doc(doc, src) || find_kind(json_get(doc, "magic"), src, &kind))
		return -1;
	d = img_desc(kind);
	if (!d->pb) {
		pr_err("%s: %s files hold raw data that JSON does not carry", src, d->name);
		return -1;
	}
	if (name_to_id(d, out_name, &id)) {
		pr_err("%s: the file for a %s image must be named like \"%s\", not \"%s\"", src,
		       d->name, d->fmt, out_name);
		return -1;
	}
	img = img_create(dirfd, kind, id);
	if (!img)
		return -1;
	if (write_entries(img, json_get(doc, "entries"), src)) {
		img_abort(img);
		return -1;
	}
	return img_commit_durable(img);
}

/* The whole of @path ("-": stdin), at most JSON_MAX_DOC bytes. */
static char *read_text(const char *path, size_t *len)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : dup(STDIN_FILENO);
	size_t cap = 64 * 1024;
	char *buf = NULL, *p;
	ssize_t n;

	if (fd < 0) {
		pr_perror("can't open %s", path);
		return NULL;
	}
	*len = 0;
	do {
		if (*len == cap)
			cap *= 2;
		if (cap > JSON_MAX_DOC + 1 || !(p = realloc(buf, cap))) {
			pr_err("%s: %s", path, cap > JSON_MAX_DOC + 1 ? "larger than the JSON limit" :
			       "out of memory");
			goto err;
		}
		buf = p;
		n = read_full(fd, (uint8_t *)buf + *len, cap - *len, path);
		if (n < 0)
			goto err;
		*len += n;
	} while (*len == cap);
	close(fd);
	return buf;
err:
	free(buf);
	close(fd);
	return NULL;
}

int cmd_encode(struct cr_options *o)
{
	const char *in, *out, *slash;
	struct json_value *doc;
	char *text, *dir;
	size_t len;
	int dirfd, ret = -1;

	if (o->args.n != 3) {
		pr_err("usage: criu encode IN.json OUT.img");
		return -1;
	}
	in = o->args.v[1];
	out = o->args.v[2];
	text = read_text(in, &len);
	if (!text)
		return -1;
	doc = json_parse(text, len, in, NULL);
	free(text);
	if (!doc)
		return -1;
	slash = strrchr(out, '/');
	dir = slash ? strndup(out, slash - out + 1) : strdup(".");
	dirfd = dir ? open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
	if (dirfd < 0)
		pr_perror("can't open the directory of %s", out);
	else if (est_doc_names_est_kind(doc))
		ret = est_encode(doc, in, dirfd, base_name(out));
	else
		ret = json_to_img(doc, in, dirfd, base_name(out));
	if (dirfd >= 0)
		close(dirfd);
	free(dir);
	json_free(doc);
	return ret;
}
