/*
 * cmd_decide: `commentctl approve ID...` and `commentctl reject ID...
 * --reason CODE`.  Every id is checked before any is decided: a typo, a
 * comment never queued or one decided already stops the command before it
 * changes anything.  The daemon records who decided (SO_PEERCRED), so
 * nothing here says who the moderator is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/* The reason codes of a rejection, as the daemon and docs/moderation.md list them. */
const char *const ctl_reason_codes[] = { "offensive", "abuse", "hate",
    "threat", "spam", "ad", "privacy", "off-topic", "other", NULL };

bool
ctl_reason_ok(const char *s)
{
	for (size_t i = 0; ctl_reason_codes[i] != NULL; i++)
		if (strcmp(s, ctl_reason_codes[i]) == 0)
			return true;
	return false;
}

int
cmd_decide_one(struct ctl *ctl, const char *id, const char *outcome,
    const char *reason, const char *note, json_t **answer)
{
	struct ctl_url u;
	char what[CTL_ID_MAX + 32];
	json_t *body = json_object();
	int rc;

	ctl_url_init(&u, "/v1/admin/queue/");
	ctl_url_seg(&u, id);
	ctl_url_add(&u, strcmp(outcome, "approve") == 0 ? "/approve" :
	    "/reject");
	ctl_url_param(&u, "site", ctl->site);
	if (reason != NULL)
		json_object_set_new(body, "reason", json_string(reason));
	if (note != NULL && json_object_set_new(body, "note",
	    json_string(note)) == -1) {
		json_decref(body);
		ctl_fail(ctl, "%s %s: the note is not UTF-8", outcome, id);
		return -1;
	}
	snprintf(what, sizeof what, "%s %s", outcome, id);
	rc = ctl_call(ctl, what, "POST", &u, body, answer);
	json_decref(body);
	return rc;
}

/*
 * Checks the operands and the note before anything is sent: ids that are
 * empty, too long or given twice, and a note that is too long or not UTF-8.
 */
static int
decide_check_args(struct ctl *ctl)
{
	int rc;

	if ((rc = ctl_check_note(ctl, ctl->note)) != CTL_EXIT_OK)
		return rc;
	for (int i = 0; i < ctl->argc; i++) {
		if (ctl->argv[i][0] == '\0' ||
		    strlen(ctl->argv[i]) > CTL_ID_MAX)
			return ctl_usage(ctl, "an id is 1 to %d bytes",
			    CTL_ID_MAX);
		for (int j = 0; j < i; j++)
			if (strcmp(ctl->argv[i], ctl->argv[j]) == 0)
				return ctl_usage(ctl, "%s is given twice",
				    ctl->argv[i]);
	}
	return CTL_EXIT_OK;
}

/*
 * Asks for every comment first, so that an id that cannot be decided
 * (unknown, decided already) stops the command before anything changes.
 */
static int
decide_preflight(struct ctl *ctl, const char *outcome)
{
	struct ctl_url u;
	char text[512];
	json_t *a;
	int status;

	for (int i = 0; i < ctl->argc; i++) {
		ctl_url_init(&u, "/v1/admin/queue/");
		ctl_url_seg(&u, ctl->argv[i]);
		ctl_url_param(&u, "site", ctl->site);
		if ((status = ctl_request(ctl, "GET", &u, NULL, &a)) == -1)
			return -1;
		if (status != 200) {
			ctl_error_text(status, a, text, sizeof text);
			ctl_fail(ctl, "%s: %s%s", ctl->argv[i], text,
			    ctl->argc == 1 ? "" : strcmp(outcome, "approve") ==
			    0 ? "; nothing was approved" :
			    "; nothing was rejected");
		}
		json_decref(a);
		if (status != 200)
			return -1;
	}
	return 0;
}

/* Decides every operand, printing each decision; the exit status. */
static int
decide_all(struct ctl *ctl, const char *outcome, const char *reason)
{
	json_t *list = json_array(), *a, *author;
	int rc = CTL_EXIT_OK;

	if (decide_preflight(ctl, outcome) == -1) {
		json_decref(list);
		return CTL_EXIT_FAIL;
	}
	for (int i = 0; i < ctl->argc; i++) {
		if (cmd_decide_one(ctl, ctl->argv[i], outcome, reason,
		    ctl->note, &a) == -1) {
			rc = CTL_EXIT_FAIL;
			continue;
		}
		if (ctl->json) {
			json_array_append_new(list, a);
			continue;
		}
		author = json_object_get(a, "author");
		out_style(&ctl->out, stdout, out_decision_style(outcome));
		printf("%s", reason != NULL ? "rejected" : "approved");
		out_style(&ctl->out, stdout, OUT_PLAIN);
		printf(" %s", ctl_str(a, "id", ctl->argv[i]));
		if (reason != NULL)
			printf(" (%s)", reason);
		printf(" as %s (uid %lld); the author has %lld approved, %lld "
		    "rejected\n", ctl_str(a, "moderator", "?"), ctl_int(a, "uid",
		    -1), ctl_int(author, "approved", 0), ctl_int(author,
		    "rejected", 0));
		json_decref(a);
	}
	if (ctl->json)
		ctl_print_json(list);
	json_decref(list);
	return rc;
}

int
cmd_approve(struct ctl *ctl)
{
	int rc;

	if ((rc = decide_check_args(ctl)) != CTL_EXIT_OK)
		return rc;
	return decide_all(ctl, "approve", NULL);
}

int
cmd_reject(struct ctl *ctl)
{
	int rc;

	if (ctl->reason == NULL)
		return ctl_usage(ctl, "--reason is required: offensive, abuse, "
		    "hate, threat, spam, ad, privacy, off-topic or other");
	if (!ctl_reason_ok(ctl->reason))
		return ctl_usage(ctl, "\"%s\" is not a reason code: offensive, "
		    "abuse, hate, threat, spam, ad, privacy, off-topic or other",
		    ctl->reason);
	if ((rc = decide_check_args(ctl)) != CTL_EXIT_OK)
		return rc;
	return decide_all(ctl, "reject", ctl->reason);
}
