/*
 * metrics_buf: writes the Prometheus text exposition format (0.0.4).
 *
 * Kept apart from the registry so that any module with counters of its own
 * (Redis state and the spool, later) renders them onto the same /metrics
 * page without the registry knowing its structs.  It uses no libevent type:
 * the server copies the finished text into its reply.
 */
#ifndef COMMENTD_METRICS_BUF_H
#define COMMENTD_METRICS_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growable text buffer; `failed` is set once an allocation failed. */
struct metrics_buf {
	char	*data;	/* NUL-terminated once anything was added */
	size_t	 len, cap;
	bool	 failed;
};

/* One label of a sample. */
struct metrics_label {
	const char	*name;
	const char	*value;
};

void	metrics_buf_init(struct metrics_buf *);
/* Empties the buffer but keeps its memory, for the next scrape. */
void	metrics_buf_reset(struct metrics_buf *);
void	metrics_buf_free(struct metrics_buf *);
void	metrics_buf_add(struct metrics_buf *, const char *, size_t);

/* The HELP and TYPE lines that must come before a family's samples. */
void	metrics_buf_family(struct metrics_buf *, const char *name,
	    const char *type, const char *help);

/*
 * One sample line.  Names are the caller's constants and are not checked;
 * label values may be anything and are escaped here.
 */
void	metrics_buf_sample(struct metrics_buf *, const char *name,
	    const struct metrics_label *, size_t nlabels, const char *value);
void	metrics_buf_sample_u64(struct metrics_buf *, const char *name,
	    const struct metrics_label *, size_t nlabels, uint64_t value);
void	metrics_buf_sample_i64(struct metrics_buf *, const char *name,
	    const struct metrics_label *, size_t nlabels, int64_t value);

#endif
