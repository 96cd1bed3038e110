/*
 * spool_replay: moves queued comments from the spool into Redis once Redis
 * is back, oldest first, one at a time, through the same idempotent enqueue
 * script, so a comment replayed twice (a crash between its replay and its
 * removal from the spool) is still queued once.
 */
#ifndef COMMENTD_SPOOL_REPLAY_H
#define COMMENTD_SPOOL_REPLAY_H

struct server;

/* Starts (or continues) replaying, if there is anything and Redis is up. */
void	spool_replay_kick(struct server *);

#endif
