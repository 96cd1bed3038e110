/*
 * fuzz_http: raw bytes to the daemon's submit socket, through evhttp,
 * conn.c, the routes, the check's trip through "Redis" (redis_stub.c) and
 * the spool, in process.  The input's layout and every promise checked
 * are fuzz_server's (fuzz_server.h).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_server.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_server_input(FUZZ_SUBMIT, data, size);
	return 0;
}
