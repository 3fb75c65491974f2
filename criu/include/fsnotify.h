/*
 * Helpers shared by the inotify and fanotify fd kinds (criu/fsnotify.c):
 * turning what fdinfo shows of a mark (file handle, device, mount id) into
 * a path criu checked, and refusing queued events. All log their errors.
 */
#ifndef CRIU_FSNOTIFY_H
#define CRIU_FSNOTIFY_H

#include <stdint.h>
#include <sys/types.h>

#include "files.h"
#include "proc_parse.h"

/* The kernel's s_dev as fdinfo prints it, as a dev_t. */
dev_t fsn_dev(unsigned int sdev);
/* Path (heap) of inode @ino on @dev opened through @fh; @what names the mark. */
char *fsn_handle_path(const char *what, const struct proc_fhandle *fh, uint64_t ino, dev_t dev);
/* Mount point (heap) of some mount of @dev. */
char *fsn_dev_path(const char *what, dev_t dev);
/* Mount point (heap) of mount @mnt_id of task @pid, and its device. */
char *fsn_mnt_path(const char *what, pid_t pid, int mnt_id, dev_t *dev);
/* Is @path still inode @ino on @dev (@ino 0: any inode of @dev)? -1 logged if not. */
int fsn_check_path(const char *path, uint64_t ino, uint64_t dev);
/* -1 logged if the probed inotify/fanotify fd has events nobody read. */
int fsn_no_queued_events(struct fd_probe *p, const char *kind);

#endif /* CRIU_FSNOTIFY_H */
