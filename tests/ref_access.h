/* ref_access.h: a reference for the --private rules, plain backtracking, for check_access.c and fuzz_access.c. */
#ifndef LITEPUSH_REF_ACCESS_H
#define LITEPUSH_REF_ACCESS_H

#include "access.h"

/*
 * Returns non-zero if pattern matches the whole channel, {user} standing
 * for user, or for any non-empty run when user is NULL.  Exponential in the
 * number of '*' and {user}: for small cases only.
 */
int ref_access_match(
    const char *pattern, const char *channel, const char *user);

/* The verdict of one rule, as access_check() should give it. */
enum access_verdict ref_access_verdict(
    const char *pattern, const char *channel, const char *user);

#endif
