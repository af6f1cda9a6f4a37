/* grant.h: signed grants: a JWT from the application that names a user and the channels it may read and publish to. */
#ifndef LITEPUSH_GRANT_H
#define LITEPUSH_GRANT_H

#include <stddef.h>
#include <stdint.h>

/*
 * The key of --jwt-key: an HS256 secret (the file's bytes, a final newline
 * dropped), or a public key in PEM for RS256 or ES256.  Only the key's own
 * kind of algorithm is accepted: a token signed HS256 "with" a public key,
 * or with "alg": "none", is refused however it is signed.
 */
struct grant_key;

/* Loads path; returns 0, or -1 with the reason (naming the path). */
int grant_key_load(
    const char *path, struct grant_key **keyp, char *reason, size_t len);

/* Frees a key; NULL is ignored. */
void grant_key_free(struct grant_key *key);

/* The most channels or globs a grant may list in each of its lists. */
#define GRANT_LIST_MAX 32

/*
 * A verified grant: the claims sub (the user), exp (seconds since the
 * epoch, required) and litepush = {"subscribe": [...], "publish": [...]},
 * lists of channel names or globs (fnmatch).  The strings are the grant's
 * own; grant_free() frees them.
 */
struct grant {
	char   *user;
	int64_t expires; /* unix seconds */
	char   *subscribe[GRANT_LIST_MAX];
	size_t  nsubscribe;
	char   *publish[GRANT_LIST_MAX];
	size_t  npublish;
};

/*
 * Verifies token with key at time now (unix seconds): returns 0 and fills
 * *grant, or -1 with a one-line reason for a 401 ("the token has
 * expired", "bad token signature", ...) that never repeats the token.
 */
int grant_verify(const struct grant_key *key, const char *token, int64_t now,
    struct grant *grant, char *reason, size_t len);

/* Returns non-zero if the grant lets its user read channel. */
int grant_may_subscribe(const struct grant *grant, const char *channel);

/* The longest token taken. */
#define GRANT_TOKEN_MAX 8192

/*
 * Finds the client's token: the Authorization header's "Bearer TOKEN",
 * else the cookie litepush_token, else the query parameter token= (an
 * EventSource can set no header); each argument may be NULL.  Returns 1
 * with the token copied to out (GRANT_TOKEN_MAX + 1 bytes), 0 when there
 * is none, or -1 when it is too long or not made of token characters.
 */
int grant_find_token(const char *authorization, const char *cookie,
    const char *query_string, char *out);

/*
 * Copies a request target to out (cut to len) with the value of a token=
 * parameter replaced by "-", for the logs, which must never hold a token.
 */
void grant_redact(const char *target, char *out, size_t len);

struct access_rules;
struct query;

/* Who asks, as a request says it; each NULL when absent. */
struct grant_request {
	const char *user;          /* the web server's login (REMOTE_USER) */
	const char *authorization; /* the Authorization header */
	const char *cookie;        /* the Cookie header */
	const char *query_string;  /* the raw query, for token= */
	/*
	 * Where the verified grant goes when the judgement is 0 (NULL: it is
	 * dropped): a daemon that keeps its publish list.  Left zeroed
	 * without one; grant_free() it.
	 */
	struct grant *keep;
};

/* What grant_judge() found besides the status. */
struct grant_verdict {
	int64_t expires_ms;    /* the grant's exp in unix ms; 0 without one */
	int     token_refused; /* a 401 for a token the client sent */
};

/*
 * Judges a subscription as access_subscription() does, and with key (NULL
 * for none, --jwt-key) the signed grant of the token the client sent, if
 * any: a bad token is a 401; a good one's sub is the login, and the
 * channels it lists are allowed too.  now is unix seconds.  Returns 0,
 * with out->expires_ms the grant's exp in unix ms (0 without a grant), or
 * 401 or 403 with the reason.  out->token_refused is set when the status
 * is 401 and the client presented a token (to a daemon with a key) that
 * cannot open the channels: bad, expired, or naming no user where a login
 * is needed.  It is 0 for any other answer, so that a 401 with it clear
 * means that credentials are missing (RFC 6750 3.1: error="invalid_token"
 * or a bare challenge).  Both daemons judge with it.
 */
int grant_judge(const struct access_rules *rules, const struct grant_key *key,
    const struct grant_request *req, const struct query *query, int64_t now,
    struct grant_verdict *out, char *reason, size_t len);

/*
 * The challenge every 401 carries (RFC 9110 11.6.1), one header line
 * without its line end: Bearer, the scheme of a grant, which makes no
 * browser ask for a password over the page (Basic would); with
 * error="invalid_token" (RFC 6750 3.1) when token_refused says that the
 * client's token was refused.  No error_description: the one-line body
 * says why, and it never repeats the token.
 */
#define GRANT_CHALLENGE           "WWW-Authenticate: Bearer realm=\"litepush\""
#define GRANT_CHALLENGE_BAD_TOKEN GRANT_CHALLENGE ", error=\"invalid_token\""

/* Frees what grant_verify() filled; a zeroed grant is fine. */
void grant_free(struct grant *grant);

#endif
