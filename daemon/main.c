/*
 * main: commentd's command line.
 *
 * Without a mode flag commentd is the daemon (daemon_cmd.c).  -t checks a
 * policy or a configuration as `nginx -t` does; --eval runs a policy over
 * JSON Lines.  Exit status: 0 success, 1 the configuration, policy or input
 * was in error, 2 a wrong command line.  This file only parses options and dispatches; it must not
 * grow logic of its own.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_cmd.h"
#include "config.h"
#include "daemon_cmd.h"
#include "eval_cmd.h"

#ifndef COMMENTD_VERSION
#define COMMENTD_VERSION	"0.1.0"
#endif

#define MAIN_EXIT_USAGE		2

enum main_mode {
	MAIN_DAEMON,
	MAIN_TEST,
	MAIN_EVAL,
};

enum {
	MAIN_OPT_EVAL = 256,	/* --eval has no short form */
};

static const struct option main_longopts[] = {
	{ "config",	required_argument,	NULL, 'c' },
	{ "eval",	no_argument,		NULL, MAIN_OPT_EVAL },
	{ "help",	no_argument,		NULL, 'h' },
	{ "policy",	required_argument,	NULL, 'p' },
	{ "test",	no_argument,		NULL, 't' },
	{ "verbose",	no_argument,		NULL, 'v' },
	{ "version",	no_argument,		NULL, 'V' },
	{ NULL,		0,			NULL, 0 }
};

/* Prints the synopsis and what each mode does. */
static void
main_usage(FILE *f)
{
	fprintf(f,
	    "usage: commentd [-c CONFIG]\n"
	    "       commentd -t -p POLICY\n"
	    "       commentd -t [-v] -c CONFIG\n"
	    "       commentd --eval -p POLICY [FILE|-]\n"
	    "       commentd -h | -V\n"
	    "\n"
	    "  -t, --test           check POLICY; print every error as\n"
	    "                       file:line:column, or `policy OK`\n"
	    "  --eval               evaluate JSON Lines comments from FILE\n"
	    "                       (or standard input), one a line:\n"
	    "                       {\"id\", \"body\", "
	    "\"author\": {\"id\", \"name\"}};\n"
	    "                       print one verdict a line, and a summary\n"
	    "                       on standard error\n"
	    "  -p, --policy POLICY  the policy file\n"
	    "  -c, --config CONFIG  the configuration (default "
	    CONFIG_DEFAULT_PATH ");\n"
	    "                       with -t, checks it and every site's policy\n"
	    "  -v, --verbose        with -t -c, print every setting\n"
	    "  -h, --help           show this help\n"
	    "  -V, --version        show the version\n"
	    "\n"
	    "Exit status: 0 success, 1 the policy or some input line was\n"
	    "in error, 2 a wrong command line.\n");
}

/* Complains about the command line and returns the usage exit status. */
static int
main_bad_usage(const char *msg)
{
	if (msg != NULL)
		fprintf(stderr, "commentd: %s\n", msg);
	main_usage(stderr);
	return MAIN_EXIT_USAGE;
}

/* Parses the command line and runs the mode it asks for. */
int
main(int argc, char **argv)
{
	enum main_mode	 mode = MAIN_DAEMON;
	const char	*policy = NULL, *config = NULL;
	int		 ch, verbose = 0;

	while ((ch = getopt_long(argc, argv, "c:hp:tvV", main_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'h':
			main_usage(stdout);
			return 0;
		case 'p':
			policy = optarg;
			break;
		case 't':
			if (mode == MAIN_EVAL)
				return main_bad_usage("-t and --eval exclude "
				    "each other");
			mode = MAIN_TEST;
			break;
		case MAIN_OPT_EVAL:
			if (mode == MAIN_TEST)
				return main_bad_usage("-t and --eval exclude "
				    "each other");
			mode = MAIN_EVAL;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'V':
			printf("commentd %s\n", COMMENTD_VERSION);
			return 0;
		default:
			/* getopt_long has said what was wrong. */
			return main_bad_usage(NULL);
		}
	}
	argc -= optind;
	argv += optind;

	switch (mode) {
	case MAIN_DAEMON:
		if (policy != NULL || argc > 0)
			return main_bad_usage("the daemon takes -c CONFIG; -p is "
			    "for -t and --eval");
		return daemon_cmd_run(config != NULL ? config :
		    CONFIG_DEFAULT_PATH);
	case MAIN_TEST:
		if (argc > 0)
			return main_bad_usage("-t takes no file arguments");
		if (policy != NULL && config != NULL)
			return main_bad_usage("-t checks -p POLICY or -c CONFIG, "
			    "not both");
		if (policy != NULL)
			return check_cmd_policy(policy);
		return check_cmd_config(config != NULL ? config :
		    CONFIG_DEFAULT_PATH, verbose);
	case MAIN_EVAL:
		if (policy == NULL)
			return main_bad_usage("--eval needs -p POLICY");
		if (argc > 1)
			return main_bad_usage("--eval reads one FILE (or - "
			    "for standard input)");
		return eval_cmd_run(policy, argc == 1 ? argv[0] : NULL,
		    stdout, stderr);
	}
	return MAIN_EXIT_USAGE;
}
