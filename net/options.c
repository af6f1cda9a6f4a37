/* options.c: command-line options that also come from LITEPUSH_<NAME> variables. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

/* Returns non-zero if argv names the long option `name` (as --name or --name=). */
static int
options_given(int argc, char *const *argv, const char *name)
{
	size_t len = strlen(name);
	int    i;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (strcmp(arg, "--") == 0)
			break;
		if (strncmp(arg, "--", 2) == 0 && strncmp(arg + 2, name, len) == 0 &&
		    (arg[2 + len] == '\0' || arg[2 + len] == '='))
			return 1;
	}
	return 0;
}

/* Writes LITEPUSH_<NAME> for an option name to out. */
static void
options_variable(const char *name, char *out, size_t len)
{
	size_t i, n = (size_t)snprintf(out, len, "LITEPUSH_%s", name);

	for (i = 9; i < n && i < len; i++)
		out[i] = out[i] == '-' ? '_' : (char)toupper((unsigned char)out[i]);
}

/* Returns argv with environment defaults in front of it. */
char **
options_with_env(int argc, char *const *argv, const struct option *opts,
    int *argcp)
{
	char      **out;
	const struct option *o;
	size_t      count = 0;
	int         n = 0, i;

	for (o = opts; o->name != NULL; o++)
		count++;
	out = calloc(count + (size_t)argc + 1, sizeof *out);
	if (out == NULL)
		return NULL;
	out[n++] = strdup(argc > 0 ? argv[0] : "litepush");
	for (o = opts; o->name != NULL; o++) {
		char        variable[128];
		const char *value;

		if (o->has_arg == no_argument || options_given(argc, argv, o->name))
			continue;
		options_variable(o->name, variable, sizeof variable);
		value = getenv(variable);
		if (value == NULL)
			continue;
		if (asprintf(&out[n], "--%s=%s", o->name, value) == -1) {
			out[n] = NULL;
			options_free(out);
			return NULL;
		}
		n++;
	}
	for (i = 1; i < argc; i++) {
		if ((out[n++] = strdup(argv[i])) == NULL) {
			options_free(out);
			return NULL;
		}
	}
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
