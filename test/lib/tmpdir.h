/*
 * One scratch directory at a time for a unit-test program.
 *
 *	1. unit_fresh_dir("files") removes the previous scratch directory (if
 *	   any), makes /tmp/criu-test-files.XXXXXX and returns an O_DIRECTORY
 *	   fd on it (or -1);
 *	2. unit_dir_path() names it, e.g. for log_init();
 *	3. the last one is removed when the program exits.
 * The fd belongs to this helper: callers must not close it.
 */
#ifndef TEST_TMPDIR_H
#define TEST_TMPDIR_H

int unit_fresh_dir(const char *tag);
const char *unit_dir_path(void);

#endif /* TEST_TMPDIR_H */
