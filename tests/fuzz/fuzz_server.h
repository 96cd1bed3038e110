/*
 * fuzz_server: the harness fuzz_http and fuzz_admin share: one commentd
 * server in the fuzzing process, on its own event_base, with its real
 * listeners (Unix sockets in a scratch directory), routes, connection
 * table, check and admin code, spool (on disk, in the scratch directory)
 * and engine, and redis_stub.c in place of Redis.
 *
 * One input is one client connection to the submit or the admin socket:
 *
 *   byte 0   how the client behaves:
 *            bits 0-1  its end: 0 keeps its side open until every answer
 *                      is in, 1 half-closes after its last byte, 2 closes
 *                      at once after its last byte, 3 closes once the
 *                      first answer's head has arrived;
 *            bits 2-3  the pause after each segment: 0 until the server
 *                      has settled, 1 one loop turn, 2 three, 3 none;
 *            bit 4     Redis is down for the whole input;
 *            bit 5     Redis is down at the start, back a few turns later.
 *   byte 1   n, the length of the stub's script (redis_stub.h);
 *   n bytes  the script;
 *   the rest the bytes the client writes, in segments split at each 0xff
 *            byte (which is not sent): a slow client, whose requests
 *            reach evhttp in pieces.
 *
 * Between inputs the server is brought back to rest (every request
 * answered, Redis up, the spool replayed, no connection open), so an
 * input does the same thing alone as in a run.  Every broken promise
 * prints "broken promise:" and aborts, so that libFuzzer keeps the input.
 */
#ifndef COMMENTD_FUZZ_SERVER_H
#define COMMENTD_FUZZ_SERVER_H

#include <stddef.h>
#include <stdint.h>

enum fuzz_socket {
	FUZZ_SUBMIT,
	FUZZ_ADMIN,
};

/* Runs one input against the server (made on the first call). */
void	fuzz_server_input(enum fuzz_socket, const uint8_t *data,
	    size_t size);

#endif
