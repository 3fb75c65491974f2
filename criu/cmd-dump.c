/* criu dump: being built (run with CRIU_WIP=1 to reach it meanwhile). */
#include "commands.h"
#include "log.h"

int cmd_dump(struct cr_options *o)
{
	(void)o;
	pr_err("dump is not supported yet");
	return -1;
}
