/* options.h: command-line options that also come from LITEPUSH_<NAME> variables. */
#ifndef LITEPUSH_OPTIONS_H
#define LITEPUSH_OPTIONS_H

#include <getopt.h>
#include <stdint.h>

/*
 * Returns a new argv (NULL-terminated, count in *argcp) that holds
 * "--name=value" for every long option of opts that has an argument, is
 * absent from argv and has a variable LITEPUSH_<NAME> (upper case, '-' as
 * '_') in the environment, followed by argv itself.  Parsed with
 * getopt_long (shortopts and opts as the caller will pass them), the
 * command line thus wins over the environment, for every spelling
 * getopt_long accepts: "--pub x" keeps LITEPUSH_PUBLISH out as "--publish
 * x" does.  A repeatable option given at all replaces the variable's
 * whole list.  The result is freed with options_free(); NULL when memory
 * ran out.
 */
char **options_with_env(int argc, char *const *argv, const char *shortopts,
    const struct option *opts, int *argcp);

/* Frees what options_with_env() returned. */
void options_free(char **argv);

/*
 * Parses a whole decimal number in [min, max] into *valuep; returns 0, or
 * -1 if value is empty, not a number or out of range.
 */
int options_number(
    const char *value, int64_t min, int64_t max, int64_t *valuep);

#endif
