/*
 * out: what commentctl prints for a human: comment text made safe for a
 * terminal, display widths, colour only on a terminal, the matched spans of
 * a comment highlighted, and tables sized to the terminal.
 *
 * Comment text is a stranger's: it must never reach the terminal raw.
 * Control characters are shown in caret notation (^[), C1 controls, bidi
 * overrides and characters the terminal cannot show as <U+202E>, so a
 * comment can neither move the cursor nor pass itself off as other text.
 * It never prints JSON (--json prints the daemon's answer as it is).
 */
#ifndef COMMENTCTL_OUT_H
#define COMMENTCTL_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Where the terminal is unknown and COLUMNS is not set. */
#define OUT_DEFAULT_WIDTH	100

struct out {
	bool		 tty;		/* stdout is a terminal */
	bool		 colour;	/* a terminal, and NO_COLOR unset */
	size_t		 width;		/* columns */
};

enum out_style {
	OUT_PLAIN,
	OUT_BOLD,
	OUT_DIM,
	OUT_MATCH,		/* a matched span */
	OUT_GOOD,		/* accept, approve */
	OUT_BAD,		/* reject */
	OUT_WARN,		/* queue */
};

/* Line breaks and tabs become spaces: the text fits on one line. */
#define OUT_ONELINE	0x1

/* A byte range [start, end) of a text, to highlight. */
struct out_span {
	size_t		 start, end;
};

/* Reads the terminal's width and whether to use colour. */
void	out_init(struct out *);

/* Starts a style (nothing without colour); OUT_PLAIN ends one. */
void	out_style(const struct out *, FILE *, enum out_style);

/* The style a decision or outcome is shown in. */
enum out_style out_decision_style(const char *decision);

/*
 * Prints len bytes of UTF-8 made safe, its spans highlighted (in colour, or
 * between [ and ] without), in at most cols columns (0: no limit), cut with
 * "…" when longer.  Returns the columns printed.
 */
size_t	out_text(const struct out *, FILE *, const char *s, size_t len,
	    size_t cols, unsigned flags, const struct out_span *spans,
	    size_t nspans);

/* The columns out_text would print with no limit. */
size_t	out_width(const struct out *, const char *s, size_t len,
	    unsigned flags, const struct out_span *spans, size_t nspans);

/* Prints n spaces. */
void	out_pad(FILE *, size_t n);

/* A table's column: its title, a cap on its width, right-aligned or not. */
struct out_col {
	const char	*title;
	size_t		 max;		/* 0: no cap */
	bool		 right;
};

/* A cell: one line of text, optionally with spans and a style. */
struct out_cell {
	const char		*text;	/* NULL: empty */
	size_t			 len;
	const struct out_span	*spans;
	size_t			 nspans;
	enum out_style		 style;
};

/*
 * Prints a table of nrows rows of ncols cells (row by row) under a title
 * line; every column is as wide as its widest cell up to its cap, and the
 * last takes what the terminal has left.
 */
void	out_table(const struct out *, FILE *, const struct out_col *,
	    size_t ncols, const struct out_cell *, size_t nrows);

/* A cell of a C string (len computed), plain. */
struct out_cell out_cell_str(const char *);

/* "45s", "12m", "3h", "2d": an age or a duration in seconds, short. */
void	out_age(char *buf, size_t size, long long seconds);

/* A time in ms since the epoch as "2024-05-01 12:00:00Z" (UTC). */
void	out_time(char *buf, size_t size, long long ms);

#endif
