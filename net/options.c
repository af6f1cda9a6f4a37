/* options.c: command-line options that also come from LITEPUSH_<NAME> variables. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

/*
 * Marks in given[] (one flag per entry of opts) the long options that argv
 * holds, by letting getopt_long() itself parse a copy of it: so every
 * spelling it accepts counts, abbreviations ("--pub" for "--publish")
 * included, and a value that looks like an option, or anything after
 * "--", does not.  Returns 0, or -1 when memory ran out.  Note that getopt
 * is left to be initialised again (optind 0) for the caller's own parse.
 */
static int
options_given(int argc, char *const *argv, const char *shortopts,
    const struct option *opts, unsigned char *given)
{
	char **copy = calloc((size_t)argc + 1, sizeof *copy);
	int    saved_opterr = opterr, index, i;

	if (copy == NULL)
		return -1;
	for (i = 0; i < argc; i++)
		copy[i] = argv[i];
	opterr = 0;
	optind = 0;
	for (;;) {
		index = -1;
		if (getopt_long(argc, copy, shortopts, opts, &index) == -1)
			break;
		if (index >= 0)
			given[index] = 1;
	}
	opterr = saved_opterr;
	optind = 0;
	free(copy);
	return 0;
}

/* Writes LITEPUSH_<NAME> for an option name to out. */
static void
options_variable(const char *name, char *out, size_t len)
{
	size_t i, n = (size_t)snprintf(out, len, "LITEPUSH_%s", name);

	for (i = 9; i < n && i < len; i++)
		out[i] =
		    out[i] == '-' ? '_' : (char)toupper((unsigned char)out[i]);
}

/* Returns argv with environment defaults in front of it. */
char **
options_with_env(int argc, char *const *argv, const char *shortopts,
    const struct option *opts, int *argcp)
{
	char               **out;
	unsigned char       *given;
	const struct option *o;
	size_t               count = 0;
	int                  n = 0, i;

	for (o = opts; o->name != NULL; o++)
		count++;
	given = calloc(count + 1, 1);
	out = calloc(count + (size_t)argc + 1, sizeof *out);
	if (given == NULL || out == NULL ||
	    options_given(argc, argv, shortopts, opts, given) != 0) {
		free(given);
		free(out);
		return NULL;
	}
	out[n++] = strdup(argc > 0 ? argv[0] : "litepush");
	for (o = opts; o->name != NULL; o++) {
		char        variable[128];
		const char *value;

		if (o->has_arg == no_argument || given[o - opts])
			continue;
		options_variable(o->name, variable, sizeof variable);
		value = getenv(variable);
		if (value == NULL)
			continue;
		if (asprintf(&out[n], "--%s=%s", o->name, value) == -1) {
			out[n] = NULL;
			options_free(out);
			free(given);
			return NULL;
		}
		n++;
	}
	for (i = 1; i < argc; i++) {
		if ((out[n++] = strdup(argv[i])) == NULL) {
			options_free(out);
			free(given);
			return NULL;
		}
	}
	free(given);
	out[n] = NULL;
	*argcp = n;
	return out;
}

/* Frees what options_with_env() returned. */
void
options_free(char **argv)
{
	char **p;

	if (argv == NULL)
		return;
	for (p = argv; *p != NULL; p++)
		free(*p);
	free(argv);
}

/* Parses a whole decimal number in [min, max]. */
int
options_number(const char *value, int64_t min, int64_t max, int64_t *valuep)
{
	char     *end;
	long long v;

	if (value == NULL || !isdigit((unsigned char)*value))
		return -1;
	errno = 0;
	v = strtoll(value, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*valuep = v;
	return 0;
}
