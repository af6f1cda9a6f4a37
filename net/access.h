/* access.h: whom a channel belongs to: the --private rules, patterns where {user} stands for the authenticated user. */
#ifndef LITEPUSH_ACCESS_H
#define LITEPUSH_ACCESS_H

#include <stddef.h>

/*
 * A rule is a channel pattern: channel characters ([A-Za-z0-9_.:-]), '*'
 * for any run of them (also none), and "{user}" for the user asking.  A
 * channel that a rule covers (some user would match it) is private: it is
 * served only to a user with whom one of the rules covering it matches.
 * `--private 'user.{user}'` makes user.alice alice's alone; a rule
 * without {user} ("members.*") asks only that somebody logged in.
 */
#define ACCESS_PATTERN_MAX 128

/*
 * Returns 0 if pattern is a rule, or -1 with the reason (NUL-terminated,
 * cut to len) for a usage error.
 */
int access_pattern_valid(const char *pattern, char *reason, size_t len);

enum access_verdict {
	ACCESS_PUBLIC,  /* no rule covers the channel */
	ACCESS_ALLOWED, /* a rule covers it and matches with this user */
	ACCESS_DENIED,  /* rules cover it; none matches with this user */
};

/*
 * Judges a request by user (NULL when nobody logged in) for channel under
 * the npatterns rules (each valid).  The cost is bounded by the lengths:
 * no pattern makes it exponential.
 */
enum access_verdict access_check(const char *const *patterns, size_t npatterns,
    const char *channel, const char *user);

struct query;

/* A daemon's rules: --private and --require-login. */
struct access_rules {
	const char *const *patterns; /* each valid */
	size_t             npatterns;
	int                require_login; /* a channel no rule covers, too */
};

/*
 * Judges a subscription by user (NULL or "" for nobody): returns 0 when
 * every channel of query may be read, else 401 (nobody logged in) or 403
 * (this login may not) with the reason, naming the first refused channel,
 * in reason (NUL-terminated, cut to len).  The answer comes from the rules
 * and the login alone, never from the store.
 */
int access_subscription(const struct access_rules *rules,
    const struct query *query, const char *user, char *reason, size_t len);

/*
 * The same, where a channel that granted(arg, channel) says yes to (a
 * signed grant lists it) is also allowed; granted may be NULL.
 */
int access_subscription_granted(const struct access_rules *rules,
    const struct query *query, const char                            *user,
    int (*granted)(const void *arg, const char *channel), const void *arg,
    char *reason, size_t len);

#endif
