/*
 * cmd_author: `commentctl author ID [show|ban|unban|trust|untrust|
 * reset-limits]`: an author's record on a site, and what moderators may
 * do to it.  Every action is recorded by the daemon in the audit trail
 * with the caller's user name; show only reads.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

/* The actions, and what the line printed after each says was done. */
static const struct {
	const char	*name;
	const char	*done;
} author_actions[] = {
	{ "ban", "banned" },
	{ "unban", "unbanned" },
	{ "trust", "trusted" },
	{ "untrust", "stopped trusting" },
	{ "reset-limits", "reset the rate limits of" },
};

void
cmd_author_record(json_t *rec)
{
	bool banned = json_is_true(json_object_get(rec, "banned"));

	printf("approved %lld, rejected %lld; %s; %s\n",
	    ctl_int(rec, "approved", 0), ctl_int(rec, "rejected", 0),
	    banned ? "BANNED" : "not banned", json_is_true(json_object_get(rec,
	    "trusted")) ? "trusted" : "not trusted");
}

int
cmd_author(struct ctl *ctl)
{
	const char *id = ctl->argv[0], *action = ctl->argc > 1 ?
	    ctl->argv[1] : "show", *done = NULL;
	struct ctl_url u;
	char what[CTL_ID_MAX + 32];
	json_t *a, *body = NULL;
	size_t i;
	int rc;

	for (i = 0; i < sizeof author_actions / sizeof author_actions[0]; i++)
		if (strcmp(action, author_actions[i].name) == 0)
			done = author_actions[i].done;
	if (done == NULL && strcmp(action, "show") != 0)
		return ctl_usage(ctl, "\"%s\" is not an action: show, ban, "
		    "unban, trust, untrust or reset-limits", action);
	if (done == NULL && ctl->note != NULL)
		return ctl_usage(ctl, "--note goes with an action, not show");
	if (id[0] == '\0' || strlen(id) > CTL_ID_MAX)
		return ctl_usage(ctl, "an author id is 1 to %d bytes",
		    CTL_ID_MAX);
	if ((rc = ctl_check_note(ctl, ctl->note)) != CTL_EXIT_OK)
		return rc;
	ctl_url_init(&u, "/v1/admin/authors/");
	ctl_url_seg(&u, id);
	if (done != NULL) {
		ctl_url_add(&u, "/");
		ctl_url_add(&u, action);
		body = json_object();
		if (ctl->note != NULL)
			json_object_set_new(body, "note", json_string(ctl->note));
	}
	ctl_url_param(&u, "site", ctl->site);
	snprintf(what, sizeof what, "%s %s", action, id);
	rc = ctl_call(ctl, what, done != NULL ? "POST" : "GET", &u, body, &a);
	json_decref(body);
	if (rc == -1)
		return CTL_EXIT_FAIL;
	if (ctl->json) {
		ctl_print_json(a);
		json_decref(a);
		return CTL_EXIT_OK;
	}
	if (done != NULL) {
		printf("%s %s on %s as %s (uid %lld)", done, id, ctl_str(a,
		    "site", "?"), ctl_str(a, "moderator", "?"), ctl_int(a, "uid",
		    -1));
		if (strcmp(action, "reset-limits") == 0)
			printf(": %lld rate-limit key%s forgotten",
			    ctl_int(a, "deleted_keys", 0), ctl_int(a,
			    "deleted_keys", 0) == 1 ? "" : "s");
		printf("\nrecord   ");
	} else {
		out_style(&ctl->out, stdout, OUT_BOLD);
		out_text(&ctl->out, stdout, id, strlen(id), 0, OUT_ONELINE,
		    NULL, 0);
		out_style(&ctl->out, stdout, OUT_PLAIN);
		printf(" on %s\nrecord   ", ctl_str(a, "site", "?"));
	}
	cmd_author_record(json_object_get(a, "record"));
	json_decref(a);
	return CTL_EXIT_OK;
}
