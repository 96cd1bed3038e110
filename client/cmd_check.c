/*
 * cmd_check: `commentctl check TEXT|-`, the answer to "why was this held?".
 * It asks the daemon twice: POST /v1/check with dry_run, for the verdict
 * the daemon would give (the author's record and rate limits included,
 * nothing charged, nothing queued), and POST /v1/admin/explain, for the
 * normalised text each rule matched.  It must never send a comment that
 * could be queued or charged: dry_run is always set.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

#define CHECK_TEXT_MAX	(1024 * 1024)	/* bytes of a text to check */
#define CHECK_ID	"commentctl-check"	/* the id a dry run is sent as */

/*
 * Reads standard input whole, at most CHECK_TEXT_MAX bytes: a malloc'd,
 * NUL-terminated string with its length in *len, or NULL having printed
 * why.
 */
static char *
check_stdin(struct ctl *ctl, size_t *len)
{
	char *buf = malloc(CHECK_TEXT_MAX + 1);
	ssize_t n;

	*len = 0;
	if (buf == NULL) {
		ctl_fail(ctl, "out of memory");
		return NULL;
	}
	while ((n = read(STDIN_FILENO, buf + *len, CHECK_TEXT_MAX + 1 -
	    *len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			ctl_fail(ctl, "reading standard input: %s",
			    strerror(errno));
			free(buf);
			return NULL;
		}
		*len += (size_t)n;
		if (*len > CHECK_TEXT_MAX) {
			ctl_fail(ctl, "standard input is over %d bytes",
			    CHECK_TEXT_MAX);
			free(buf);
			return NULL;
		}
	}
	buf[*len] = '\0';
	return buf;
}

/*
 * The comment as both routes take it: the text, who writes it, the site;
 * NULL having printed why (text that is not UTF-8).
 */
static json_t *
check_body(struct ctl *ctl, const char *text, size_t len)
{
	json_t *body, *s, *author;

	if ((s = json_stringn(text, len)) == NULL) {
		ctl_fail(ctl, "the text is not UTF-8");
		return NULL;
	}
	author = json_pack("{s:s}", "id", ctl->author != NULL ? ctl->author :
	    CHECK_ID);
	if (ctl->name != NULL)
		json_object_set_new(author, "name", json_string(ctl->name));
	body = json_pack("{s:s,s:o,s:o,s:b}", "id", CHECK_ID, "author", author,
	    "body", s, "dry_run", 1);
	if (ctl->site != NULL)
		json_object_set_new(body, "site", json_string(ctl->site));
	return body;
}

/*
 * Adds to each reason of the verdict the normalised text explain found for
 * the same rule, field and span, and the normalised comment.  Reasons that
 * need state (rate limits, new commenters) are not the engine's: they have
 * none.
 */
static void
check_merge(json_t *verdict, json_t *explain)
{
	json_t *r, *e, *vs, *es;
	size_t i, k;

	json_array_foreach(json_object_get(verdict, "reasons"), i, r) {
		vs = json_object_get(r, "span");
		json_array_foreach(json_object_get(explain, "reasons"), k, e) {
			es = json_object_get(e, "span");
			if (strcmp(ctl_str(r, "rule", ""), ctl_str(e, "rule",
			    "")) == 0 && strcmp(ctl_str(r, "field", ""),
			    ctl_str(e, "field", "")) == 0 &&
			    json_equal(vs, es)) {
				json_object_set(r, "normalized",
				    json_object_get(e, "normalized"));
				break;
			}
		}
	}
	json_object_set(verdict, "normalized", json_object_get(explain,
	    "normalized"));
}

/* The verdict for a human: the decision, each reason, the normalised text. */
static void
check_print(struct ctl *ctl, json_t *v, const char *text, bool explained)
{
	json_t *policy = json_object_get(v, "policy"), *item, *r, *norm;
	const char *n;
	size_t i;

	out_style(&ctl->out, stdout, out_decision_style(ctl_str(v, "decision",
	    NULL)));
	fputs(ctl_str(v, "decision", "?"), stdout);
	out_style(&ctl->out, stdout, OUT_PLAIN);
	printf("  score %lld, policy %s %s", ctl_int(v, "score", 0),
	    ctl_str(policy, "name", "?"), ctl_str(policy, "version", ""));
	if (ctl_int(v, "retry_after_s", 0) > 0)
		printf(", retry after %llds", ctl_int(v, "retry_after_s", 0));
	printf("\n");
	item = json_pack("{s:s,s:{s:s}}", "body", text, "author", "name",
	    ctl->name != NULL ? ctl->name : "");
	if (json_array_size(json_object_get(v, "reasons")) == 0)
		printf("  no rule matched\n");
	json_array_foreach(json_object_get(v, "reasons"), i, r)
		cmd_show_reason(ctl, item, r);
	json_decref(item);
	norm = json_object_get(v, "normalized");
	if ((n = ctl_str(norm, "body", NULL)) != NULL) {
		printf("\nnormalised text\n  ");
		out_text(&ctl->out, stdout, n, strlen(n), 0, OUT_ONELINE, NULL,
		    0);
		printf("\n");
	}
	if (!explained)
		printf("\n(this daemon has no /v1/admin/explain: the normalised "
		    "text is not shown)\n");
	printf("\nA dry run: no rate limit was charged and nothing was "
	    "queued.\n");
}

int
cmd_check(struct ctl *ctl)
{
	struct ctl_url u;
	json_t *body, *v, *x = NULL;
	char *text, *buf = NULL;
	size_t len;
	int status, rc = CTL_EXIT_FAIL;

	if (strcmp(ctl->argv[0], "-") == 0) {
		if ((buf = check_stdin(ctl, &len)) == NULL)
			return CTL_EXIT_FAIL;
		text = buf;
	} else {
		text = ctl->argv[0];
		len = strlen(text);
	}
	if (ctl->author != NULL && (ctl->author[0] == '\0' ||
	    strlen(ctl->author) > CTL_ID_MAX)) {
		free(buf);
		return ctl_usage(ctl, "--author is 1 to %d bytes", CTL_ID_MAX);
	}
	if ((body = check_body(ctl, text, len)) == NULL) {
		free(buf);
		return CTL_EXIT_FAIL;
	}
	ctl_url_init(&u, "/v1/check");
	if (ctl_call(ctl, NULL, "POST", &u, body, &v) == -1)
		goto out;
	/* The normalised text is the engine's; a daemon without it is older. */
	ctl_url_init(&u, "/v1/admin/explain");
	status = ctl_request(ctl, "POST", &u, body, &x);
	if (status == -1)
		goto out;
	if (status == 200)
		check_merge(v, x);
	else if (status != 404) {
		ctl_print_error(ctl, "explain", status, x);
		goto out;
	}
	if (ctl->json)
		ctl_print_json(v);
	else
		check_print(ctl, v, text, status == 200);
	rc = CTL_EXIT_OK;
out:
	json_decref(x);
	json_decref(v);
	json_decref(body);
	free(buf);
	return rc;
}
