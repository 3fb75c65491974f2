/*
 * libFuzzer target for the image reader and the JSON printer.
 *
 * Input: one byte choosing the image kind (modulo the number of kinds),
 * then the file's bytes. The file is written under that kind's standard
 * name into a private directory and shown with img_to_json, which reads it
 * with img_open/img_read_entry and prints every entry. The same bytes are
 * also read through img_open_fd on a memfd, the path for files under any
 * name. Nothing may crash, leak or trip a sanitizer, whatever the bytes.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image.h"
#include "json.h"
#include "log.h"
#include "pbjson.h"

static char dir[64];
static int dirfd = -1;

static void cleanup(void)
{
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init(NULL, NULL, LOG_NONE);
	snprintf(dir, sizeof(dir), "/dev/shm/criu-fuzz-image.XXXXXX");
	if (!mkdtemp(dir)) {
		snprintf(dir, sizeof(dir), "/tmp/criu-fuzz-image.XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (dirfd < 0)
		abort();
	atexit(cleanup);
	return 0;
}

static int put(int fd, const uint8_t *data, size_t size)
{
	ssize_t n = write(fd, data, size);

	return n == (ssize_t)size ? 0 : -1;
}

/* Read all entries through img_open_fd, printing each. */
static void read_by_fd(const char *name, const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	ProtobufCMessage *msg;
	struct cr_img *img;
	struct jbuf jb;

	if (fd < 0)
		abort();
	if (put(fd, data, size) || lseek(fd, 0, SEEK_SET)) {
		close(fd);
		return;
	}
	img = img_open_fd(fd, name);
	if (!img)
		return;
	jbuf_init(&jb);
	if (img_kind_of(img) && img_kind_of(img)->pb) {
		while (img_read_entry(img, &msg) == 1) {
			pbjson_print(&jb, msg, 0);
			img_free_entry(msg);
		}
	}
	jbuf_free(&jb);
	img_close(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct img_desc *d;
	struct jbuf jb;
	char name[64];
	int fd;

	if (size < 1)
		return 0;
	d = img_desc(data[0] % IMG_KIND_MAX);
	snprintf(name, sizeof(name), d->fmt, 1u);
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	if (put(fd, data + 1, size - 1))
		abort();
	close(fd);
	jbuf_init(&jb);
	img_to_json(dirfd, name, &jb, 0);
	jbuf_free(&jb);
	unlinkat(dirfd, name, 0);
	read_by_fd(name, data + 1, size - 1);
	return 0;
}
