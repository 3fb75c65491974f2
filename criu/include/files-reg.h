/*
 * Regular files inside the reg-files kinds (criu/files-reg.c) and their
 * deleted-file ghosts (criu/files-ghost.c).
 *
 * A file open (or mapped) after its last name was removed is a ghost: the
 * dump stores its content (up to --ghost-limit) once per inode in
 * ghost-files.img + ghost-data.img, and its reg_file_entry names it by
 * ghost_id. Restore creates the file again at its old path (or, when that
 * name is taken, as an O_TMPFILE in the same directory), fills it, unlinks
 * it and keeps one descriptor (criu makes every ghost before the first
 * fork, so all processes of a tree share it); every open of the entry
 * reopens that descriptor through /proc/self/fd with its own flags.
 */
#ifndef CRIU_FILES_REG_H
#define CRIU_FILES_REG_H

#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "file-data.h"
#include "files.h"
#include "ghost.pb-c.h"

struct cr_img;
struct dump_files;

/* The kernel's own O_TMPFILE bit (glibc's O_TMPFILE and __O_TMPFILE both include O_DIRECTORY). */
#define TMPFILE_BIT		(O_TMPFILE & ~O_DIRECTORY)
/* open(2) flags an unnamed temporary file (O_TMPFILE) is made again with. */
#define GHOST_TMPFILE_FLAGS	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | \
				 O_SYNC | O_DSYNC | KERNEL_O_LARGEFILE | O_TMPFILE)

/* Dump side of the ghosts: d->priv[FD_KIND__FD_REG]. */
struct ghost_dump {
	struct fd_list		list;		/* GhostFileEntry */
	uint64_t		*dev, *ino;	/* per entry, to find an inode again */
	struct fdata_out	out;
};

/*
 * A ghost for the deleted file @st whose /proc link reads @link; its
 * content is read through @src (criu may seek it). @path gets the old
 * path. -1 logged (over --ghost-limit, ...).
 */
int ghost_dump(struct dump_files *d, const struct cr_options *o, int dirfd, const char *link,
	       const struct stat *st, int src, char *path, size_t len, uint32_t *ghost_id);
/*
 * ghost_dump(), then a reg-files entry for it (@flags, @pos) whose id goes
 * to @id. @src: an fd to read the file through (-1: logged as unopenable).
 */
int ghost_add_file(struct dump_files *d, const struct cr_options *o, int dirfd, int src,
		   const char *link, const struct stat *st, unsigned int flags, uint64_t pos,
		   uint32_t *id);
int ghost_write(struct dump_files *d, int dirfd);
void ghost_free(struct dump_files *d);

/* Restore side: r->priv[FD_KIND__FD_REG]. */
struct ghost_rst {
	GhostFileEntry	**e;
	size_t		nr;
	struct cr_img	*raw;		/* ghost-data.img, NULL without ghosts */
	uint64_t	raw_size;
};

struct reg_rst {
	RegFileEntry	**e;
	size_t		nr;
	struct ghost_rst g;
};

int ghost_read(struct ghost_rst *g, int dirfd);
/* Is ghost @id known? -1 logged if not, or if it is not a file. */
int ghost_check(const struct ghost_rst *g, const RegFileEntry *rf);
/* A new open file description of @rf's ghost with @flags. -1 logged. */
int ghost_open(const struct fd_rst *r, const RegFileEntry *rf, int flags);
/*
 * Make every ghost of @r now (criu, before the first fork: the processes
 * inherit them), and close criu's descriptors of them once forked.
 */
int rst_ghosts_create(const struct fd_rst *r);
void rst_ghosts_close(void);
/* Remove the --link-remap names of @r's files once the tree is restored; -1 logged. */
int rst_link_remaps_remove(const struct fd_rst *r);
/* A link remap name of the dump's own making beside @path (files-reg.c) */
bool link_remap_name_ok(const char *path, const char *link);
void ghost_rst_free(struct ghost_rst *g);

#endif /* CRIU_FILES_REG_H */
