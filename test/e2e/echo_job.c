/*
 * A job of an interactive shell: reads lines from its terminal and echoes
 * them back until end of file. The shell_job case dumps it with
 * --shell-job and restores it onto criu's own terminal in the same tmux
 * pane, then types into it.
 */
#include <stdio.h>
#include <string.h>

int main(void)
{
	char line[256];

	setvbuf(stdout, NULL, _IONBF, 0);
	printf("READY\n");
	while (fgets(line, sizeof(line), stdin))
		printf("echo: %s", line);
	return 0;
}
