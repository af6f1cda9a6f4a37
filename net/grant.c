/* grant.c: signed grants: a JWT from the application that names a user and the channels it may read and publish to. */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <jwt.h>

#include "access.h"
#include "grant.h"

/* The largest key file read. */
#define GRANT_KEY_MAX (64 * 1024)

struct grant_key {
	unsigned char *bytes;
	size_t         len;
	int            public_key; /* PEM: RS256 or ES256; else HS256 */
};

/* Loads the key file. */
int
grant_key_load(
    const char *path, struct grant_key **keyp, char *reason, size_t len)
{
	struct grant_key *key;
	FILE             *f;
	size_t            n;

	*keyp = NULL;
	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(reason, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	key = calloc(1, sizeof *key);
	if (key == NULL || (key->bytes = malloc(GRANT_KEY_MAX + 1)) == NULL) {
		free(key);
		fclose(f);
		snprintf(reason, len, "%s: out of memory", path);
		return -1;
	}
	n = fread(key->bytes, 1, GRANT_KEY_MAX + 1, f);
	fclose(f);
	if (n > GRANT_KEY_MAX || n == 0) {
		snprintf(reason, len, "%s: %s", path,
		    n == 0 ? "empty" : "larger than 64 KiB");
		grant_key_free(key);
		return -1;
	}
	key->public_key = n >= 11 && memcmp(key->bytes, "-----BEGIN ", 11) == 0;
	/* A secret written with echo ends with a newline that is no part of it.
	 */
	if (!key->public_key && key->bytes[n - 1] == '\n')
		n--;
	key->bytes[n] = '\0'; /* libjwt reads a PEM as a string */
	key->len = n;
	*keyp = key;
	return 0;
}

/* Frees a key. */
void
grant_key_free(struct grant_key *key)
{
	if (key == NULL)
		return;
	free(key->bytes);
	free(key);
}

/* Returns non-zero if alg is one key may have signed with. */
static int
grant_alg_allowed(const struct grant_key *key, jwt_alg_t alg)
{
	if (key->public_key)
		return alg == JWT_ALG_RS256 || alg == JWT_ALG_ES256;
	return alg == JWT_ALG_HS256;
}

/* Copies a claim's list of strings into list; returns 0 or -1. */
static int
grant_list(json_t *claim, const char *name, char **list, size_t *count)
{
	json_t *array = json_object_get(claim, name), *item;
	size_t  i;

	if (array == NULL)
		return 0;
	if (!json_is_array(array) || json_array_size(array) > GRANT_LIST_MAX)
		return -1;
	json_array_foreach(array, i, item)
	{
		if (!json_is_string(item) ||
		    (list[*count] = strdup(json_string_value(item))) == NULL)
			return -1;
		(*count)++;
	}
	return 0;
}

/* Verifies token with key. */
int
grant_verify(const struct grant_key *key, const char *token, int64_t now,
    struct grant *grant, char *reason, size_t len)
{
	jwt_t       *jwt = NULL;
	const char  *sub;
	char        *text;
	json_t      *claim = NULL;
	json_error_t error;
	long         exp;
	int          rc = -1;

	memset(grant, 0, sizeof *grant);
	if (jwt_decode(&jwt, token, key->bytes, (int)key->len) != 0 ||
	    jwt == NULL) {
		snprintf(reason, len, "bad token: not signed with the key");
		goto out;
	}
	/* The algorithm is the key's to say, not the token's. */
	if (!grant_alg_allowed(key, jwt_get_alg(jwt))) {
		snprintf(reason, len,
		    "bad token: algorithm %s is not the key's",
		    jwt_alg_str(jwt_get_alg(jwt)));
		goto out;
	}
	errno = 0;
	exp = jwt_get_grant_int(jwt, "exp");
	if (errno != 0) {
		snprintf(reason, len, "bad token: no exp claim");
		goto out;
	}
	if ((int64_t)exp <= now) {
		snprintf(reason, len, "the token has expired");
		goto out;
	}
	sub = jwt_get_grant(jwt, "sub");
	if (sub == NULL || *sub == '\0') {
		snprintf(reason, len, "bad token: no sub claim");
		goto out;
	}
	grant->expires = (int64_t)exp;
	if ((grant->user = strdup(sub)) == NULL) {
		snprintf(reason, len, "out of memory");
		goto out;
	}
	text = jwt_get_grants_json(jwt, "litepush");
	if (text != NULL) {
		claim = json_loads(text, 0, &error);
		free(text);
		if (!json_is_object(claim) ||
		    grant_list(claim, "subscribe", grant->subscribe,
		        &grant->nsubscribe) != 0 ||
		    grant_list(claim, "publish", grant->publish,
		        &grant->npublish) != 0) {
			snprintf(reason, len,
			    "bad token: litepush must be {\"subscribe\": "
			    "[...], "
			    "\"publish\": [...]}, at most %d strings each",
			    GRANT_LIST_MAX);
			goto out;
		}
	}
	rc = 0;

out:
	json_decref(claim);
	jwt_free(jwt);
	if (rc != 0)
		grant_free(grant);
	return rc;
}

/* Returns non-zero if the grant lets its user read channel. */
int
grant_may_subscribe(const struct grant *grant, const char *channel)
{
	size_t i;

	for (i = 0; i < grant->nsubscribe; i++)
		if (fnmatch(grant->subscribe[i], channel, 0) == 0)
			return 1;
	return 0;
}

/* Returns non-zero if c may appear in a JWT (base64url and '.'). */
static int
grant_token_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == '=';
}

/* Copies the token at p (ended by end or a non-token byte) to out. */
static int
grant_copy_token(const char *p, const char *end, char *out)
{
	size_t n = 0;

	while (p + n < end && grant_token_char((unsigned char)p[n]))
		n++;
	if (n == 0 || n > GRANT_TOKEN_MAX)
		return -1;
	if (p + n < end && p[n] != ';' && p[n] != '&' && p[n] != ' ')
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 1;
}

/* Finds the value of name= in a list separated by sep ("; " or "&"). */
static const char *
grant_find_pair(const char *list, const char *name, char sep)
{
	size_t      len = strlen(name);
	const char *p = list;

	while (p != NULL && *p != '\0') {
		while (*p == ' ')
			p++;
		if (strncmp(p, name, len) == 0 && p[len] == '=')
			return p + len + 1;
		p = strchr(p, sep);
		if (p != NULL)
			p++;
	}
	return NULL;
}

/* Finds the client's token. */
int
grant_find_token(const char *authorization, const char *cookie,
    const char *query_string, char *out)
{
	const char *p;

	if (authorization != NULL &&
	    strncasecmp(authorization, "Bearer ", 7) == 0)
		return grant_copy_token(authorization + 7,
		    authorization + strlen(authorization), out);
	if (cookie != NULL &&
	    (p = grant_find_pair(cookie, "litepush_token", ';')) != NULL)
		return grant_copy_token(p, p + strlen(p), out);
	if (query_string != NULL &&
	    (p = grant_find_pair(query_string, "token", '&')) != NULL)
		return grant_copy_token(p, p + strlen(p), out);
	return 0;
}

/* Copies target with any token= value replaced by "-". */
void
grant_redact(const char *target, char *out, size_t len)
{
	const char *p = target;
	size_t      n = 0;

	if (len == 0)
		return;
	while (*p != '\0' && n + 1 < len) {
		int at_pair = p > target && (p[-1] == '?' || p[-1] == '&');

		if (at_pair && strncmp(p, "token=", 6) == 0) {
			size_t skip = strcspn(p + 6, "&");

			if (n + 7 >= len)
				break;
			memcpy(out + n, "token=-", 7);
			n += 7;
			p += 6 + skip;
			continue;
		}
		out[n++] = *p++;
	}
	out[n] = '\0';
}

/* Whether a grant lists channel (for access_subscription_granted()). */
static int
grant_lists(const void *arg, const char *channel)
{
	return grant_may_subscribe(arg, channel);
}

/* Judges a subscription by the login and a signed grant. */
int
grant_judge(const struct access_rules *rules, const struct grant_key *key,
    const struct grant_request *req, const struct query *query, int64_t now,
    struct grant_verdict *out, char *reason, size_t len)
{
	struct grant grant = {0};
	char         token[GRANT_TOKEN_MAX + 1];
	int          found = 0, status;

	out->expires_ms = 0;
	out->token_refused = 0;
	if (key != NULL)
		found = grant_find_token(
		    req->authorization, req->cookie, req->query_string, token);
	if (found < 0) {
		out->token_refused = 1;
		snprintf(reason, len, "bad token: too long or not a JWT");
		return 401;
	}
	if (found == 0)
		return access_subscription(
		    rules, query, req->user, reason, len);
	if (grant_verify(key, token, now, &grant, reason, len) != 0) {
		out->token_refused = 1;
		return 401;
	}
	out->expires_ms = grant.expires * 1000;
	status = access_subscription_granted(
	    rules, query, grant.user, grant_lists, &grant, reason, len);
	out->token_refused = status == 401;
	if (status == 0 && req->keep != NULL)
		*req->keep = grant;
	else
		grant_free(&grant);
	return status;
}

/* Frees a grant's strings. */
void
grant_free(struct grant *grant)
{
	size_t i;

	free(grant->user);
	for (i = 0; i < grant->nsubscribe; i++)
		free(grant->subscribe[i]);
	for (i = 0; i < grant->npublish; i++)
		free(grant->publish[i]);
	memset(grant, 0, sizeof *grant);
}
