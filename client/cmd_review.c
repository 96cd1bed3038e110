/*
 * cmd_review: `commentctl review`, the moderator's loop at a terminal: one
 * comment at a time, claimed while it is on screen (POST /v1/admin/claim),
 * so two moderators never see the same one; a approves, r rejects (asking
 * the reason and a note), s skips, q quits.  A comment left on screen, or
 * skipped, stays claimed until the claim timeout and then comes back to
 * whoever claims next.
 *
 * It reads single keys with the terminal in non-canonical mode and must
 * always give the terminal back as it found it, on q, at the end of input
 * and on SIGINT, SIGTERM or SIGHUP alike.  Comment text goes through out.c,
 * never to the terminal raw.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ctl.h"

#define REVIEW_TIMEOUT_S	300	/* the daemon's default claim timeout */
#define REVIEW_POLL_MS		2000	/* asking again while the queue is empty */
#define REVIEW_SKIPPED_MAX	256	/* ids remembered as skipped */
#define REVIEW_KEY_EOF		(-1)
#define REVIEW_KEY_NONE		0	/* nothing typed in time */
#define REVIEW_ESC		0x1b
#define REVIEW_SEQUENCE_MS	30	/* a key's escape sequence arrives within */

static volatile sig_atomic_t review_stop;

struct review {
	struct ctl	*ctl;
	struct termios	 saved;
	bool		 raw;
	uint64_t	 timeout_s;
	char		*skipped[REVIEW_SKIPPED_MAX];	/* a ring */
	size_t		 nskipped;
	unsigned	 approved, rejected, skips;
};

/* Asks the loop to end; the loop gives the terminal back. */
static void
review_signal(int sig)
{
	(void)sig;
	review_stop = 1;
}

/*
 * Turns off line buffering and echo on standard input (signals stay on, so
 * ^C reaches review_signal), and catches the signals that end the loop
 * without SA_RESTART, so a wait for a key returns at once.
 */
static int
review_raw(struct review *r)
{
	struct sigaction sa;
	struct termios t;

	if (tcgetattr(STDIN_FILENO, &r->saved) == -1)
		return -1;
	t = r->saved;
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == -1)
		return -1;
	r->raw = true;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = review_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	return 0;
}

/* Gives the terminal back as it was. */
static void
review_restore(struct review *r)
{
	if (r->raw)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &r->saved);
	r->raw = false;
}

/*
 * Reads and drops what follows an Esc at once: the rest of an arrow or
 * function key's sequence ("\033[A"), whose letters must not count as keys
 * (A would approve).
 */
static void
review_drain(void)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	unsigned char buf[64];

	while (poll(&pfd, 1, REVIEW_SEQUENCE_MS) == 1 &&
	    read(STDIN_FILENO, buf, sizeof buf) > 0)
		;
}

/*
 * Waits up to timeout_ms (-1: for ever) for one key: the byte, REVIEW_KEY_NONE
 * when none came in time, REVIEW_KEY_EOF at the end of input or on a
 * signal that ends the loop.
 */
static int
review_key(int timeout_ms)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	unsigned char c;
	ssize_t n;
	int rc;

	fflush(stdout);
	if (review_stop)
		return REVIEW_KEY_EOF;
	rc = poll(&pfd, 1, timeout_ms);
	if (rc == 0)
		return REVIEW_KEY_NONE;
	if (rc == -1 || review_stop)
		return errno == EINTR && !review_stop ? REVIEW_KEY_NONE :
		    REVIEW_KEY_EOF;
	n = read(STDIN_FILENO, &c, 1);
	if (n == 1 && c == REVIEW_ESC)
		review_drain();
	if (n == 1)
		return c;
	return n == -1 && errno == EINTR && !review_stop ? REVIEW_KEY_NONE :
	    REVIEW_KEY_EOF;
}

/*
 * Reads a line into buf with its own echo and backspace (the terminal's are
 * off): 0 on Enter, -1 on Esc, the end of input or a signal.
 */
static int
review_line(char *buf, size_t size)
{
	size_t n = 0;
	int c;

	buf[0] = '\0';
	for (;;) {
		if ((c = review_key(-1)) == REVIEW_KEY_NONE)
			continue;
		if (c == REVIEW_KEY_EOF || c == REVIEW_ESC)
			return -1;
		if (c == '\n' || c == '\r') {
			fputc('\n', stdout);
			return 0;
		}
		if (c == 0x7f || c == '\b') {
			/* A whole character: its continuation bytes too. */
			while (n > 0 && ((unsigned char)buf[n - 1] & 0xc0) ==
			    0x80)
				n--;
			if (n > 0) {
				n--;
				fputs("\b \b", stdout);
			}
			buf[n] = '\0';
			continue;
		}
		if (c < 0x20 || n + 1 >= size)
			continue;
		buf[n++] = (char)c;
		buf[n] = '\0';
		/* The terminal puts a character's bytes together itself. */
		fputc(c, stdout);
	}
}

/* Whether id was skipped earlier in this session. */
static bool
review_was_skipped(const struct review *r, const char *id)
{
	size_t n = r->nskipped < REVIEW_SKIPPED_MAX ? r->nskipped :
	    REVIEW_SKIPPED_MAX;

	for (size_t i = 0; i < n; i++)
		if (strcmp(r->skipped[i], id) == 0)
			return true;
	return false;
}

/* Remembers a skipped id, forgetting the oldest when the ring is full. */
static void
review_skip(struct review *r, const char *id)
{
	size_t at = r->nskipped % REVIEW_SKIPPED_MAX;
	char *copy;

	r->skips++;
	if (review_was_skipped(r, id) || (copy = strdup(id)) == NULL)
		return;
	free(r->skipped[at]);
	r->skipped[at] = copy;
	r->nskipped++;
}

/*
 * Claims the next comment for this moderator: 0 with *item (NULL when the
 * queue has nothing unclaimed), or -1 having printed why.
 */
static int
review_claim(struct review *r, json_t **answer, json_t **item)
{
	struct ctl_url u;

	ctl_url_init(&u, "/v1/admin/claim");
	ctl_url_param(&u, "site", r->ctl->site);
	ctl_url_uint(&u, "timeout_s", r->timeout_s);
	*item = NULL;
	if (ctl_call(r->ctl, "claim", "POST", &u, NULL, answer) == -1)
		return -1;
	*item = json_object_get(*answer, "item");
	if (!json_is_object(*item))
		*item = NULL;
	return 0;
}

/*
 * Asks for the reason of a rejection, 1 to 9, and a note: 0 with *code and
 * note filled, or -1 when the moderator changed their mind (Esc, or any
 * other key).
 */
static int
review_ask_reason(struct review *r, const char **code, char *note,
    size_t size)
{
	int c;

	printf("reason:");
	for (size_t i = 0; ctl_reason_codes[i] != NULL; i++)
		printf(" %zu %s", i + 1, ctl_reason_codes[i]);
	printf("  (Esc: back) ? ");
	while ((c = review_key(-1)) == REVIEW_KEY_NONE)
		;
	if (c < '1' || c > '9') {
		printf("\n");
		return -1;
	}
	*code = ctl_reason_codes[c - '1'];
	printf("%s\nnote (Enter: none, Esc: back): ", *code);
	return review_line(note, size);
}

/*
 * One comment on screen until the moderator acts on it: 1 to go on to the
 * next, 0 to quit.
 */
static int
review_one(struct review *r, json_t *item)
{
	const char *id = ctl_str(item, "id", "?"), *code;
	char note[CTL_NOTE_MAX + 1];
	json_t *a;
	int c;

	out_init(&r->ctl->out);		/* the terminal may have been resized */
	printf("\n");
	out_style(&r->ctl->out, stdout, OUT_DIM);
	for (size_t i = 0; i < r->ctl->out.width && i < 72; i++)
		fputs("─", stdout);
	out_style(&r->ctl->out, stdout, OUT_PLAIN);
	printf("\n");
	if (review_was_skipped(r, id))
		printf("(you skipped this one earlier; its claim ran out)\n");
	cmd_show_item(r->ctl, item);
	for (;;) {
		printf("\n[a]pprove  [r]eject  [s]kip  [q]uit ? ");
		while ((c = review_key(-1)) == REVIEW_KEY_NONE)
			;
		if (c == REVIEW_KEY_EOF || c == 'q' || c == 'Q') {
			printf("%s\n%s stays claimed by you until the claim "
			    "times out (%llus), then comes back\n",
			    c == REVIEW_KEY_EOF ? "" : "quit", id,
			    (unsigned long long)r->timeout_s);
			return 0;
		}
		if (c == 's' || c == 'S') {
			printf("skip\nskipped %s; it comes back after the "
			    "claim timeout\n", id);
			review_skip(r, id);
			return 1;
		}
		if (c == 'a' || c == 'A') {
			printf("approve\n");
			if (cmd_decide_one(r->ctl, id, "approve", NULL, NULL,
			    &a) == 0) {
				printf("approved %s\n", id);
				r->approved++;
				json_decref(a);
			}
			return 1;
		}
		if (c != 'r' && c != 'R')
			continue;
		printf("reject\n");
		if (review_ask_reason(r, &code, note, sizeof note) == -1) {
			if (review_stop)
				return 0;
			continue;
		}
		if (cmd_decide_one(r->ctl, id, "reject", code, note[0] != '\0' ?
		    note : NULL, &a) == 0) {
			printf("rejected %s (%s)\n", id, code);
			r->rejected++;
			json_decref(a);
		}
		return 1;
	}
}

/* The loop: claim, show, act, until q, the end of input or a signal. */
static int
review_loop(struct review *r)
{
	json_t *answer, *item;
	bool waiting = false;
	int c;

	for (;;) {
		if (review_stop)
			return CTL_EXIT_OK;
		if (review_claim(r, &answer, &item) == -1)
			return CTL_EXIT_FAIL;
		if (item != NULL) {
			waiting = false;
			c = review_one(r, item);
			json_decref(answer);
			if (c == 0)
				return CTL_EXIT_OK;
			continue;
		}
		json_decref(answer);
		if (!waiting)
			printf("\nNothing to review; waiting for comments "
			    "(q quits) ");
		waiting = true;
		c = review_key(REVIEW_POLL_MS);
		if (c == REVIEW_KEY_EOF || c == 'q' || c == 'Q') {
			printf("\n");
			return CTL_EXIT_OK;
		}
	}
}

int
cmd_review(struct ctl *ctl)
{
	struct review r;
	int rc;

	if (!isatty(STDIN_FILENO))
		return ctl_usage(ctl, "review needs a terminal; scripts use "
		    "queue, show, approve and reject");
	memset(&r, 0, sizeof r);
	r.ctl = ctl;
	r.timeout_s = ctl->timeout_s != 0 ? ctl->timeout_s : REVIEW_TIMEOUT_S;
	if (review_raw(&r) == -1) {
		review_restore(&r);
		return ctl_fail(ctl, "cannot set up the terminal: %s",
		    strerror(errno));
	}
	printf("Reviewing %s: a approves, r rejects, s skips, q quits.\n",
	    ctl->site != NULL ? ctl->site : "the default site");
	rc = review_loop(&r);
	review_restore(&r);
	printf("approved %u, rejected %u, skipped %u\n", r.approved,
	    r.rejected, r.skips);
	for (size_t i = 0; i < REVIEW_SKIPPED_MAX; i++)
		free(r.skipped[i]);
	return rc;
}
