/*
 * redis_scripts: the Lua scripts of docs/redis.md (daemon/redis/NAME.lua) as
 * NUL-terminated C strings, generated at configure time.
 *
 * It holds text only: loading them (EVALSHA, EVAL on NOSCRIPT) is redis.c's,
 * and a script's keys and arguments are documented at its top.  Never edit a
 * script's copy here; edit the .lua file.
 */
#ifndef COMMENTD_REDIS_SCRIPTS_H
#define COMMENTD_REDIS_SCRIPTS_H

/* check.lua: state facts of one comment, read and charged atomically. */
extern const char redis_script_check[];

/* enqueue.lua: a queued comment added to the moderation stream, once. */
extern const char redis_script_enqueue[];

/* decide.lua: a moderator's approve or reject, with its audit entry. */
extern const char redis_script_decide[];

/* author.lua: ban, unban, trust, untrust or reset-limits, audited. */
extern const char redis_script_author[];

/* tally.lua: a daemon's decision counts added to their time buckets. */
extern const char redis_script_tally[];

/* tally_sum.lua: the decision counts of the last hour and day. */
extern const char redis_script_tally_sum[];

#endif
