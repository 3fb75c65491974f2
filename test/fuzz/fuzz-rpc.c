/*
 * libFuzzer target for the RPC request decoder and the criu_opts mapping.
 *
 * Input: one criu_req as it arrives on the socket. rpc_req_decode must
 * never crash; a request that decodes has its criu_opts filled into a
 * struct cr_options as a DUMP would (every row of rpc_opt_map, the
 * caller's descriptors named by number are those of this process), then
 * the supported check runs. config_file is dropped: it names a file to
 * read, which is not the decoder's business.
 */
#include <stdint.h>
#include <stdlib.h>

#include "log.h"
#include "options.h"
#include "rpc.h"
#include "fuzz-dir.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_dir_init("fuzz-rpc");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpc_conn c = { .sk = -1 };
	struct cr_options o;
	CriuReq *req;

	req = rpc_req_decode(data, size);
	if (!req)
		return 0;
	c.peer = getpid();
	if (req->opts) {
		free(req->opts->config_file);
		req->opts->config_file = NULL;
		opts_init(&o);
		if (!rpc_opts_fill(&c, req->opts, &o, true) && !rpc_opts_fill(&c, req->opts, &o, false))
			opts_check_supported(&o);
		opts_free(&o);
		rpc_conn_release(&c);
	}
	criu_req__free_unpacked(req, NULL);
	return 0;
}
