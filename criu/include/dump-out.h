/* The images dir of a dump: scratch directories and the export (dump-out.c). */
#ifndef CRIU_DUMP_OUT_H
#define CRIU_DUMP_OUT_H

#include <limits.h>
#include <stdbool.h>

struct dump_dir {
	char path[PATH_MAX];
	int fd;
};

struct seal_key;

struct dump_out {
	char images_dir[PATH_MAX];
	int dirfd;		/* the images dir */
	int workfd;		/* the work dir, for stats-dump */
	struct dump_dir ours;	/* our own images, written by the dump */
	struct dump_dir est;	/* their conversion, moved into the images dir */
	struct seal_key *key;	/* --encrypt-key: every file sealed before the move */
	const char *parent;	/* --prev-images-dir: the `parent` link and its manifest's copy */
	int ps_fd;		/* --page-server: the page files go there, -1 */
};

/* Opens the dirs and makes the scratch dir for our images (o->ours.fd). */
int dump_out_begin(struct dump_out *o, const char *images_dir, const char *work_dir);
/* --encrypt-key: the key read now, before the tree is frozen. */
int dump_out_seal_with(struct dump_out *o, const char *key_path);
/* Converts our images (est_export() @flags besides EST_EXPORT_MOVE) and puts them in place. */
int dump_out_commit(struct dump_out *o, unsigned int flags);
/* Removes the scratch dirs; the images dir keeps what dump_out_commit() put there. */
void dump_out_end(struct dump_out *o);
void dump_dir_remove(struct dump_dir *d);

#endif /* CRIU_DUMP_OUT_H */
