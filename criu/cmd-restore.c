/* criu restore: being built (run with CRIU_WIP=1 to reach it meanwhile). */
#include "commands.h"
#include "log.h"

int cmd_restore(struct cr_options *o)
{
	(void)o;
	pr_err("restore is not supported yet");
	return -1;
}
