#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tmpdir.h"

static char dir_path[64];
static int dir_fd = -1;

static int remove_dir(void)
{
	char cmd[96];

	if (dir_fd < 0)
		return 0;
	close(dir_fd);
	dir_fd = -1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir_path);
	return system(cmd) ? -1 : 0;
}

static void remove_last_dir(void)
{
	remove_dir();
}

int unit_fresh_dir(const char *tag)
{
	static bool registered;

	if (!registered && !atexit(remove_last_dir))
		registered = true;
	if (remove_dir())
		return -1;
	snprintf(dir_path, sizeof(dir_path), "/tmp/criu-test-%s.XXXXXX", tag);
	if (!mkdtemp(dir_path))
		return -1;
	dir_fd = open(dir_path, O_RDONLY | O_DIRECTORY);
	return dir_fd;
}

const char *unit_dir_path(void)
{
	return dir_path;
}
