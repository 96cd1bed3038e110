/*
 * fuzz_admin: raw bytes to the daemon's admin socket, where the moderators'
 * routes answer (the queue, claims, decisions, authors, audit, stats,
 * policy, explain, reload) besides the submit side's, with "Redis"
 * (redis_stub.c) answering their commands and scripts plausibly or not.
 * The input's layout and every promise checked are fuzz_server's
 * (fuzz_server.h).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_server.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_server_input(FUZZ_ADMIN, data, size);
	return 0;
}
