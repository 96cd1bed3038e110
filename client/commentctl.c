/*
 * commentctl: the moderators' and operators' CLI for commentd.
 *
 * The command line is a table of verbs (OpenSMTPD's smtpctl is the model):
 * each names its operands, the options it takes and the function that runs
 * it.  This file only parses the command line and dispatches; it must not
 * grow logic of its own.  Exit status: 0 success, 1 failure, 2 a wrong
 * command line.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#ifndef COMMENTCTL_VERSION
#define COMMENTCTL_VERSION	"0.1.0"
#endif

static const struct ctl_cmd ctl_cmds[] = {
	{ "queue", "", "pending comments, oldest first",
	  "Lists the comments waiting for a moderator, oldest first: id, age, "
	  "author, the rules that held each one and the start of its text with "
	  "what they matched highlighted.",
	  CTL_OPT_SITE | CTL_OPT_RULE | CTL_OPT_LIMIT, 0, 0, true, cmd_queue },
	{ "show", "ID", "one comment whole, with its reasons and author",
	  "Shows a queued comment whole: its text, the verdict, each reason "
	  "with the matched text in context, who claims it, and its author's "
	  "record.",
	  CTL_OPT_SITE, 1, 1, true, cmd_show },
	{ "approve", "ID...", "approve queued comments",
	  "Approves queued comments: the decision goes to the decisions feed "
	  "and the audit trail, with your user name.  Every ID is looked up "
	  "first; if one cannot be decided, none is.",
	  CTL_OPT_SITE | CTL_OPT_NOTE, 1, -1, true, cmd_approve },
	{ "reject", "ID...", "reject queued comments, with a reason code",
	  "Rejects queued comments with a reason code: offensive, abuse, hate, "
	  "threat, spam, ad, privacy, off-topic or other (docs/moderation.md). "
	  "Every ID is looked up first; if one cannot be decided, none is.",
	  CTL_OPT_SITE | CTL_OPT_NOTE | CTL_OPT_REASON, 1, -1, true,
	  cmd_reject },
	{ "review", "", "work the queue one comment at a time",
	  "An interactive loop for a terminal: one comment at a time with its "
	  "reasons; a approves, r rejects (then asks the reason and a note), "
	  "s skips, q quits.  Each comment is claimed while it is on screen, so "
	  "two moderators never review the same one; a comment claimed by a "
	  "moderator who left comes back after --timeout seconds (300).",
	  CTL_OPT_SITE | CTL_OPT_TIMEOUT, 0, 0, false, cmd_review },
	{ "check", "TEXT|-", "the verdict the daemon would give, and why",
	  "Asks the daemon what it would decide for TEXT (or standard input, "
	  "with -), without charging rate limits or queueing anything: every "
	  "rule that matched, the text it matched and the normalised text the "
	  "matchers read.  --author and --name say who writes it.",
	  CTL_OPT_SITE | CTL_OPT_AUTHOR | CTL_OPT_NAME, 1, 1, true, cmd_check },
	{ "author", "ID [show|ban|unban|trust|untrust|reset-limits]",
	  "an author's record, and what moderators may do to it",
	  "Shows an author's record on the site (show, the default), or bans, "
	  "unbans, trusts, untrusts or forgets the rate limits of the author. "
	  "Every action is in the audit trail with your user name.",
	  CTL_OPT_SITE | CTL_OPT_NOTE, 1, 2, true, cmd_author },
	{ "stats", "", "decisions, the queue, and which rules moderators overturn",
	  "The queue's depth and oldest item; the moderators' decisions of the "
	  "last hour and day by outcome and by rule, with the share of each "
	  "rule's holds that moderators approved (overturned); and this "
	  "daemon's decisions and rule hits since it started.",
	  CTL_OPT_SITE, 0, 0, true, cmd_stats },
	{ "log", "", "the audit trail of moderator actions",
	  "The audit trail, newest first: when, who (user name and uid), what, "
	  "on which comment or author, the reason and the note.",
	  CTL_OPT_SITE | CTL_OPT_LIMIT, 0, 0, true, cmd_log },
	{ "policy", "", "the loaded policies: version, digest and counts",
	  "The policy serving each site: name, version, digest, file and how "
	  "many rules, word lists, regexes, checks, rate limits, allowed terms "
	  "and examples it holds.",
	  0, 0, 0, true, cmd_policy },
	{ "reload", "", "reload the configuration and every policy",
	  "Reloads the configuration and every policy, as SIGHUP does.  When "
	  "the new ones have errors, prints every error and exits 1; the "
	  "running configuration keeps serving.",
	  0, 0, 0, true, cmd_reload },
};
#define CTL_NCMDS	(sizeof ctl_cmds / sizeof ctl_cmds[0])
#define CTL_HELP_WIDTH	76

/* The options: each command takes those its table entry names. */
enum {
	OPT_JSON = 256,
	OPT_SITE,
	OPT_RULE,
	OPT_LIMIT,
	OPT_NOTE,
	OPT_REASON,
	OPT_AUTHOR,
	OPT_TIMEOUT,
	OPT_NAME,
	OPT_VERSION,
};

static const struct option ctl_longopts[] = {
	{ "socket",	required_argument,	NULL, 's' },
	{ "help",	no_argument,		NULL, 'h' },
	{ "json",	no_argument,		NULL, OPT_JSON },
	{ "site",	required_argument,	NULL, OPT_SITE },
	{ "rule",	required_argument,	NULL, OPT_RULE },
	{ "limit",	required_argument,	NULL, OPT_LIMIT },
	{ "note",	required_argument,	NULL, OPT_NOTE },
	{ "reason",	required_argument,	NULL, OPT_REASON },
	{ "author",	required_argument,	NULL, OPT_AUTHOR },
	{ "timeout",	required_argument,	NULL, OPT_TIMEOUT },
	{ "name",	required_argument,	NULL, OPT_NAME },
	{ "version",	no_argument,		NULL, OPT_VERSION },
	{ NULL,		0,			NULL, 0 }
};

/* Each CTL_OPT_* bit: its option and what --help says of it. */
static const struct {
	unsigned	 bit;
	const char	*name;
	const char	*help;
} ctl_opt_help[] = {
	{ CTL_OPT_SITE, "--site S", "the site (the daemon's default site "
	  "without it)" },
	{ CTL_OPT_RULE, "--rule R", "only comments rule R held" },
	{ CTL_OPT_LIMIT, "--limit N", "at most N items" },
	{ CTL_OPT_NOTE, "--note T", "a note for the audit trail (1000 bytes at "
	  "most)" },
	{ CTL_OPT_REASON, "--reason CODE", "why: offensive, abuse, hate, "
	  "threat, spam, ad, privacy, off-topic, other" },
	{ CTL_OPT_AUTHOR, "--author ID", "the author's id (their record "
	  "counts: new, trusted, banned)" },
	{ CTL_OPT_NAME, "--name NAME", "the author's display name (rules on "
	  "author.name see it)" },
	{ CTL_OPT_TIMEOUT, "--timeout S", "a claim untouched this many seconds "
	  "counts as abandoned (300)" },
};

/* The list of commands and where the socket is, for commentctl --help. */
static void
ctl_main_usage(FILE *f)
{
	fprintf(f, "usage: commentctl [-s SOCKET] [--json] COMMAND [ARGS]\n"
	    "       commentctl COMMAND --help\n\ncommands:\n");
	for (size_t i = 0; i < CTL_NCMDS; i++)
		fprintf(f, "  %-9s %s\n", ctl_cmds[i].name,
		    ctl_cmds[i].summary);
	fprintf(f, "\nThe admin socket is -s SOCKET, else $COMMENTCTL_SOCKET, "
	    "else %s.\nEach request waits at most $COMMENTCTL_TIMEOUT seconds "
	    "(%d).\nExit status: 0 success, 1 failure, 2 a wrong command "
	    "line.\n", CTL_DEFAULT_SOCKET, CTL_TIMEOUT_MS / 1000);
}

/* Prints text in lines of at most CTL_HELP_WIDTH columns, at word breaks. */
static void
ctl_wrap(FILE *f, const char *text)
{
	const char *p = text, *space, *last;

	while (strlen(p) > CTL_HELP_WIDTH) {
		last = NULL;
		for (space = p; (space = strchr(space, ' ')) != NULL &&
		    space - p <= CTL_HELP_WIDTH; space++)
			last = space;
		if (last == NULL)
			break;
		fprintf(f, "%.*s\n", (int)(last - p), p);
		p = last + 1;
	}
	fprintf(f, "%s\n", p);
}

/* A command's synopsis, help and options, for commentctl CMD --help. */
static void
ctl_cmd_usage(const struct ctl_cmd *c, FILE *f)
{
	fprintf(f, "usage: commentctl %s [options]%s%s\n\n", c->name,
	    c->args[0] != '\0' ? " " : "", c->args);
	ctl_wrap(f, c->help);
	fprintf(f, "\noptions:\n");
	for (size_t i = 0; i < sizeof ctl_opt_help / sizeof ctl_opt_help[0];
	    i++)
		if (c->opts & ctl_opt_help[i].bit)
			fprintf(f, "  %-15s %s\n", ctl_opt_help[i].name,
			    ctl_opt_help[i].help);
	if (c->json)
		fprintf(f, "  %-15s %s\n", "--json", "print the daemon's "
		    "answer as JSON, for scripts");
	fprintf(f, "  %-15s %s\n  %-15s %s\n", "-s SOCKET", "the admin socket",
	    "-h, --help", "this help");
}

/* The command called name, or NULL. */
static const struct ctl_cmd *
ctl_find(const char *name)
{
	for (size_t i = 0; i < CTL_NCMDS; i++)
		if (strcmp(ctl_cmds[i].name, name) == 0)
			return &ctl_cmds[i];
	return NULL;
}

/* A whole number from 1 to max: 0 with *out, or -1. */
static int
ctl_number(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || errno != 0 || v < 1 || v > max)
		return -1;
	*out = v;
	return 0;
}

/* The CTL_OPT_* bit of an option, or 0 for those every command takes. */
static unsigned
ctl_opt_bit(int ch)
{
	switch (ch) {
	case OPT_SITE:
		return CTL_OPT_SITE;
	case OPT_RULE:
		return CTL_OPT_RULE;
	case OPT_LIMIT:
		return CTL_OPT_LIMIT;
	case OPT_NOTE:
		return CTL_OPT_NOTE;
	case OPT_REASON:
		return CTL_OPT_REASON;
	case OPT_AUTHOR:
		return CTL_OPT_AUTHOR;
	case OPT_TIMEOUT:
		return CTL_OPT_TIMEOUT;
	case OPT_NAME:
		return CTL_OPT_NAME;
	}
	return 0;
}

/*
 * Reads options (the global ones before the command, or the command's
 * after it): 0 to go on, 1 when --help or --version has been answered, or
 * CTL_EXIT_USAGE + 1 after a usage error.
 */
static int
ctl_options(struct ctl *ctl, int argc, char **argv, bool global)
{
	char name[32];
	unsigned bit;
	int ch, idx;

	optind = 0;
	opterr = 0;
	while ((idx = -1, ch = getopt_long(argc, argv, global ? "+:s:h" :
	    ":s:h", ctl_longopts, &idx)) != -1) {
		if (idx >= 0)
			snprintf(name, sizeof name, "--%s",
			    ctl_longopts[idx].name);
		else
			snprintf(name, sizeof name, "%.31s", argv[optind - 1]);
		if (ch == '?' || ch == ':') {
			if (ch == ':')
				ctl_usage(ctl, "%s needs a value", name);
			else
				ctl_usage(ctl, "unknown option %s", name);
			return CTL_EXIT_USAGE + 1;
		}
		bit = ctl_opt_bit(ch);
		if (bit != 0 && (global || !(ctl->cmd->opts & bit))) {
			ctl_usage(ctl, "%s is not an option of %s", name,
			    global ? "commentctl itself" : ctl->cmd->name);
			return CTL_EXIT_USAGE + 1;
		}
		switch (ch) {
		case 's':
			ctl->socket = optarg;
			break;
		case 'h':
			if (global)
				ctl_main_usage(stdout);
			else
				ctl_cmd_usage(ctl->cmd, stdout);
			return 1;
		case OPT_VERSION:
			printf("commentctl %s\n", COMMENTCTL_VERSION);
			return 1;
		case OPT_JSON:
			if (!global && !ctl->cmd->json) {
				ctl_usage(ctl, "--json is not an option of %s",
				    ctl->cmd->name);
				return CTL_EXIT_USAGE + 1;
			}
			ctl->json = true;
			break;
		case OPT_SITE:
			ctl->site = optarg;
			break;
		case OPT_RULE:
			ctl->rule = optarg;
			break;
		case OPT_NOTE:
			ctl->note = optarg;
			break;
		case OPT_REASON:
			ctl->reason = optarg;
			break;
		case OPT_AUTHOR:
			ctl->author = optarg;
			break;
		case OPT_NAME:
			ctl->name = optarg;
			break;
		case OPT_LIMIT:
			if (ctl_number(optarg, 1000000, &ctl->limit) == -1) {
				ctl_usage(ctl, "--limit must be a whole number "
				    "from 1, not \"%s\"", optarg);
				return CTL_EXIT_USAGE + 1;
			}
			break;
		case OPT_TIMEOUT:
			if (ctl_number(optarg, 86400, &ctl->timeout_s) == -1) {
				ctl_usage(ctl, "--timeout must be a whole "
				    "number of seconds from 1 to 86400, not "
				    "\"%s\"", optarg);
				return CTL_EXIT_USAGE + 1;
			}
			break;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct ctl ctl;
	const char *env;
	uint64_t n;
	int rc, help;

	memset(&ctl, 0, sizeof ctl);
	out_init(&ctl.out);
	if ((env = getenv("COMMENTCTL_SOCKET")) != NULL && env[0] != '\0')
		ctl.socket = env;
	else
		ctl.socket = CTL_DEFAULT_SOCKET;
	ctl.wait_ms = CTL_TIMEOUT_MS;
	if ((env = getenv("COMMENTCTL_TIMEOUT")) != NULL && env[0] != '\0') {
		if (ctl_number(env, 3600, &n) == -1)
			return ctl_usage(&ctl, "COMMENTCTL_TIMEOUT must be a "
			    "whole number of seconds from 1 to 3600");
		ctl.wait_ms = (int)n * 1000;
	}
	if ((rc = ctl_options(&ctl, argc, argv, true)) != 0)
		return rc == 1 ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	if (optind >= argc)
		return ctl_usage(&ctl, "no command; commentctl --help lists "
		    "them");
	help = strcmp(argv[optind], "help") == 0;
	if (help && optind + 1 >= argc) {
		ctl_main_usage(stdout);
		return CTL_EXIT_OK;
	}
	if ((ctl.cmd = ctl_find(argv[optind + help])) == NULL)
		return ctl_usage(&ctl, "unknown command \"%s\"; commentctl "
		    "--help lists them", argv[optind + help]);
	if (help) {
		ctl_cmd_usage(ctl.cmd, stdout);
		return CTL_EXIT_OK;
	}
	argc -= optind;
	argv += optind;
	if ((rc = ctl_options(&ctl, argc, argv, false)) != 0)
		return rc == 1 ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	if (ctl.json && !ctl.cmd->json)
		return ctl_usage(&ctl, "--json is not an option of %s",
		    ctl.cmd->name);
	ctl.argc = argc - optind;
	ctl.argv = argv + optind;
	if (ctl.argc < ctl.cmd->min_args)
		return ctl_usage(&ctl, "too few arguments; usage: commentctl "
		    "%s %s", ctl.cmd->name, ctl.cmd->args);
	if (ctl.cmd->max_args >= 0 && ctl.argc > ctl.cmd->max_args)
		return ctl_usage(&ctl, "too many arguments; usage: commentctl "
		    "%s%s%s", ctl.cmd->name, ctl.cmd->args[0] != '\0' ? " " :
		    "", ctl.cmd->args);
	rc = ctl.cmd->run(&ctl);
	if (fflush(stdout) == EOF && rc == CTL_EXIT_OK)
		rc = ctl_fail(&ctl, "writing the output: %s", strerror(errno));
	return rc;
}
