/*
 * metrics: the daemon's counters and their /metrics page.
 *
 * One registry, owned by the daemon and passed to whoever counts; it is
 * single-threaded like the event loop, so nothing here locks.  Rendering
 * writes the Prometheus text exposition format 0.0.4 into a metrics_buf,
 * not into a libevent buffer, so the module can be tested without a server.
 *
 * Every label set is bounded: a label value that comes from a request or a
 * config (a site, a rule id) must never let a client or a typo grow the
 * registry, or the page, without limit.
 *
 * Other modules (Redis state, the spool) keep their counters in their own
 * structs and append their families after metrics_render with the writer
 * in metrics_buf.h.
 */
#ifndef COMMENTD_METRICS_H
#define COMMENTD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "metrics_buf.h"
#include "policy.h"

/* Distinct sites counted by name; the rest are counted as site="_other". */
#define METRICS_MAX_SITES	256

/* Distinct (site, rule) pairs counted; hits past that only bump overflow. */
#define METRICS_MAX_RULE_SERIES	10000

/* The longest site or rule id kept as a label value, in bytes. */
#define METRICS_LABEL_MAX	256

/* The site label of everything that could not be counted by its name. */
#define METRICS_OTHER_SITE	"_other"

/* The routes requests are counted by; a fixed set keeps the label bounded. */
enum metrics_route {
	METRICS_ROUTE_CHECK,
	METRICS_ROUTE_DECISIONS,
	METRICS_ROUTE_HEALTHZ,
	METRICS_ROUTE_READYZ,
	METRICS_ROUTE_METRICS,
	METRICS_ROUTE_ADMIN,
	METRICS_ROUTE_OTHER,
	METRICS_NROUTES
};

/* The limits a client can run into. */
enum metrics_limit {
	METRICS_LIMIT_BODY_TOO_LARGE,
	METRICS_LIMIT_HEADERS_TOO_LARGE,
	METRICS_LIMIT_HEADER_TIMEOUT,
	METRICS_LIMIT_BODY_TIMEOUT,
	METRICS_NLIMITS
};

struct metrics;

/* A registry with every counter at zero; start_time is the process's. */
struct metrics	*metrics_new(time_t start_time);
void		 metrics_free(struct metrics *);

/* A request answered on a route with an HTTP status. */
void	metrics_request(struct metrics *, enum metrics_route, int status);

/* The time one /v1/check took, from its first byte to its answer. */
void	metrics_check_latency(struct metrics *, uint64_t usec);

/* A decision made for a site (NULL counts as "_other"). */
void	metrics_decision(struct metrics *, const char *site, enum decision);

/* A rule that fired for a site, once per reason. */
void	metrics_rule_hit(struct metrics *, const char *site,
	    const char *rule);

/* A reload attempt, whether it succeeded and how long it took. */
void	metrics_reload(struct metrics *, bool ok, uint64_t took_us);

/* A queued comment went to the spool (Redis could not take it). */
void	metrics_spooled(struct metrics *);

/* A comment was decided without Redis's facts. */
void	metrics_without_redis(struct metrics *);

/* Redis refused to store a queued comment (answered 503). */
void	metrics_redis_refused_write(struct metrics *);

/* The spool's depth now. */
void	metrics_spool_pending(struct metrics *, size_t);

/* A queued comment neither Redis nor the spool could take (answered 503). */
void	metrics_spool_refused(struct metrics *);

/* Whether the spool cannot take a comment now (not open, last append failed). */
void	metrics_spool_failing(struct metrics *, bool);

/* A connection admitted, one closed, one refused because of the limit. */
void	metrics_conn_accepted(struct metrics *);
void	metrics_conn_closed(struct metrics *);
void	metrics_conn_rejected(struct metrics *);

/* A client that ran into a limit. */
void	metrics_limit_hit(struct metrics *, enum metrics_limit);

/*
 * The policy serving each site: cleared and set again after every
 * successful load, so a site gone from the config leaves the page.  Setting
 * a site twice replaces it.  Returns -1 when METRICS_MAX_SITES are set.
 */
void	metrics_policy_clear(struct metrics *);
int	metrics_policy_set(struct metrics *, const char *site,
	    const char *policy, const char *version, const char *digest);

/* The number of hits that went to no series because the bound was hit. */
uint64_t metrics_rule_overflow(const struct metrics *);

/*
 * Appends every family to buf.  Returns 0, or -1 when the buffer could not
 * grow (the page is then incomplete and must not be served).
 */
int	metrics_render(const struct metrics *, struct metrics_buf *);

#endif
