/* ref_access.c: a reference for the --private rules, plain backtracking, for check_access.c and fuzz_access.c. */
#include "config.h"

#include <string.h>

#include "access.h"
#include "ref_access.h"

/*
 * The reference: plain backtracking over the pattern text, with {user}
 * standing for user, or for any non-empty run when user is NULL.
 */
int
ref_access_match(const char *p, const char *c, const char *user)
{
	size_t k;

	if (*p == '\0')
		return *c == '\0';
	if (*p == '*') {
		for (k = 0;; k++) {
			if (ref_access_match(p + 1, c + k, user))
				return 1;
			if (c[k] == '\0')
				return 0;
		}
	}
	if (strncmp(p, "{user}", 6) == 0) {
		if (user != NULL)
			return strncmp(c, user, strlen(user)) == 0 &&
			       ref_access_match(p + 6, c + strlen(user), user);
		for (k = 1; k <= strlen(c); k++)
			if (ref_access_match(p + 6, c + k, NULL))
				return 1;
		return 0;
	}
	return *c == *p && ref_access_match(p + 1, c + 1, user);
}

/* The verdict from the reference, for one rule. */
enum access_verdict
ref_access_verdict(const char *pattern, const char *channel, const char *user)
{
	if (!ref_access_match(pattern, channel, NULL))
		return ACCESS_PUBLIC;
	return user != NULL && ref_access_match(pattern, channel, user)
	           ? ACCESS_ALLOWED
	           : ACCESS_DENIED;
}
