/*
 * libFuzzer target for the image reader and the JSON printer.
 *
 * Input: one byte choosing the image kind (modulo the number of kinds),
 * then the file's bytes. The file is written under that kind's standard
 * name into a private directory (tmpfs when there is one) and shown with
 * img_to_json, which finds the kind from the magic (img_open_file) and
 * prints every entry. Then it is read again as the kind its name says
 * (img_open with the expected magic, or img_read_one for single-entry
 * kinds); mnts.img also through mnt_check_entries(), as a restore reads it. Nothing may crash, leak or trip a sanitizer, whatever the bytes.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "json.h"
#include "mnt-entry.h"
#include "log.h"
#include "pbjson.h"
#include "fuzz-dir.h"

static int dir_fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dir_fd = fuzz_dir_init("fuzz-image");
	return 0;
}

static int put(int fd, const uint8_t *data, size_t size)
{
	ssize_t n = write(fd, data, size);

	return n == (ssize_t)size ? 0 : -1;
}

/* The same file read as the kind the caller expects (img_open, img_read_one). */
static void read_as_kind(enum img_kind kind)
{
	const struct img_desc *d = img_desc(kind);
	ProtobufCMessage *msg;
	struct cr_img *img;
	struct jbuf jb;

	if (!d->pb)
		return;
	if (kind == IMG_MNTS) {
		ProtobufCMessage **m;
		enum mnt_how how[MNT_MAX];
		size_t n;

		/* the restore's reader: the whole namespace, then its checks */
		if (!img_read_all(dir_fd, kind, 1, MNT_MAX, NULL, NULL, &m, &n)) {
			mnt_check_entries((Est__MntEntry *const *)m, n, how);
			img_free_all(m, n);
		}
	}
	if (d->max_entries == 1) {
		if (!img_read_one(dir_fd, kind, 1, &msg))
			img_free_entry(msg);
		return;
	}
	img = img_open(dir_fd, kind, 1);
	if (!img)
		return;
	jbuf_init(&jb);
	while (img_read_entry(img, &msg) == 1) {
		pbjson_print(&jb, msg, 0);
		img_free_entry(msg);
	}
	jbuf_free(&jb);
	img_close(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct img_desc *d;
	enum img_kind kind;
	struct jbuf jb;
	char name[64];
	int fd;

	if (size < 1)
		return 0;
	kind = data[0] % IMG_KIND_MAX;
	d = img_desc(kind);
	snprintf(name, sizeof(name), d->fmt, 1u);
	fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	if (put(fd, data + 1, size - 1))
		abort();
	close(fd);
	jbuf_init(&jb);
	img_to_json(dir_fd, name, &jb, 0);
	jbuf_free(&jb);
	read_as_kind(kind);
	unlinkat(dir_fd, name, 0);
	return 0;
}
