/* check_grant.c: unit tests of signed grants, with tokens minted by Debian's python3-jwt and keys made by openssl. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access.h"
#include "grant.h"
#include "query.h"
#include "testutil.h"

/* An hour from now, and an hour ago, in unix seconds. */
#define LATER  ((long long)time(NULL) + 3600)
#define BEFORE ((long long)time(NULL) - 3600)

/* Runs a shell command and keeps its first output line in out. */
static void
run(const char *command, char *out, size_t len)
{
	FILE  *p = popen(command, "r");
	size_t n;

	ck_assert_ptr_nonnull(p);
	if (fgets(out, (int)len, p) == NULL)
		out[0] = '\0';
	ck_assert_msg(pclose(p) == 0, "failed: %s", command);
	n = strlen(out);
	if (n > 0 && out[n - 1] == '\n')
		out[n - 1] = '\0';
}

/*
 * Mints a token for the JSON claims with python3-jwt: algorithm alg,
 * signed with the file key (NULL for alg "none").
 */
static void
mint(
    const char *claims, const char *alg, const char *key, char *out, size_t len)
{
	char command[4096];

	snprintf(command, sizeof command,
	    "/usr/bin/python3 -c 'import json, jwt, sys\n"
	    "key = open(sys.argv[3], \"rb\").read() if sys.argv[3] != \"-\" "
	    "else None\n"
	    "print(jwt.encode(json.loads(sys.argv[1]), key, "
	    "algorithm=sys.argv[2]))' '%s' '%s' '%s'",
	    claims, alg, key != NULL ? key : "-");
	run(command, out, len);
}

static char dir[512], secret[600], secret_bytes[600], other_secret[600],
    rsa_priv[600], rsa_pub[600], ec_priv[600], ec_pub[600];

/* Makes an HS256 secret and RSA and EC key pairs once. */
static void
setup(void)
{
	char  command[4096], out[64];
	FILE *f;

	snprintf(dir, sizeof dir, "%s", testutil_tmpdir_create());
	testutil_path(secret, sizeof secret, "secret");
	testutil_path(rsa_priv, sizeof rsa_priv, "rsa.pem");
	testutil_path(rsa_pub, sizeof rsa_pub, "rsa.pub");
	testutil_path(ec_priv, sizeof ec_priv, "ec.pem");
	testutil_path(ec_pub, sizeof ec_pub, "ec.pub");
	testutil_path(secret_bytes, sizeof secret_bytes, "secret.bytes");
	f = fopen(secret, "w");
	ck_assert_ptr_nonnull(f);
	fputs("a shared secret of the application\n", f);
	fclose(f);
	testutil_path(other_secret, sizeof other_secret, "other");
	f = fopen(other_secret, "w");
	ck_assert_ptr_nonnull(f);
	fputs("somebody else's secret", f);
	fclose(f);
	/* What the application signs with: the secret without the newline. */
	f = fopen(secret_bytes, "w");
	ck_assert_ptr_nonnull(f);
	fputs("a shared secret of the application", f);
	fclose(f);
	snprintf(command, sizeof command,
	    "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 "
	    "-out '%s' 2>/dev/null && openssl pkey -in '%s' -pubout -out "
	    "'%s' && openssl genpkey -algorithm EC -pkeyopt "
	    "ec_paramgen_curve:P-256 -out '%s' && openssl pkey -in '%s' "
	    "-pubout -out '%s' && echo made",
	    rsa_priv, rsa_priv, rsa_pub, ec_priv, ec_priv, ec_pub);
	run(command, out, sizeof out);
	ck_assert_str_eq(out, "made");
}

static void
teardown(void)
{
	testutil_tmpdir_remove();
}

/* Verifies token with the key file path; returns the result, reason in out. */
static int
verify(const char *path, const char *token, struct grant *g, char *reason,
    size_t len)
{
	struct grant_key *key;
	char              err[512];
	int               rc;

	ck_assert_msg(
	    grant_key_load(path, &key, err, sizeof err) == 0, "%s", err);
	rc = grant_verify(key, token, (long long)time(NULL), g, reason, len);
	grant_key_free(key);
	return rc;
}

/* Claims for alice with exp at exp, the litepush claim as given. */
static void
claims_for(char *out, size_t len, long long exp, const char *litepush)
{
	snprintf(out, len, "{\"sub\": \"alice\", \"exp\": %lld%s%s}", exp,
	    litepush != NULL ? ", \"litepush\": " : "",
	    litepush != NULL ? litepush : "");
}

#define LISTS                                                                  \
	"{\"subscribe\": [\"user.alice\", \"room.*\"], \"publish\": "          \
	"[\"room.7\"]}"

START_TEST(test_grant_hs256)
{
	char         token[4096], claims[512], reason[256];
	struct grant g;

	claims_for(claims, sizeof claims, LATER, LISTS);
	mint(claims, "HS256", secret_bytes, token, sizeof token);
	/* The key file's final newline is no part of the secret. */
	ck_assert_msg(verify(secret, token, &g, reason, sizeof reason) == 0,
	    "%s", reason);
	ck_assert_str_eq(g.user, "alice");
	ck_assert_uint_eq(g.nsubscribe, 2);
	ck_assert_str_eq(g.subscribe[1], "room.*");
	ck_assert_uint_eq(g.npublish, 1);
	ck_assert_str_eq(g.publish[0], "room.7");
	ck_assert(g.expires > (long long)time(NULL));
	ck_assert(grant_may_subscribe(&g, "user.alice"));
	ck_assert(grant_may_subscribe(&g, "room.42"));
	ck_assert(!grant_may_subscribe(&g, "user.bob"));
	grant_free(&g);
}
END_TEST

START_TEST(test_grant_refusals)
{
	char         token[4096], claims[512], reason[256];
	struct grant g;
	size_t       dot;

	claims_for(claims, sizeof claims, BEFORE, LISTS);
	mint(claims, "HS256", secret_bytes, token, sizeof token);
	ck_assert_int_eq(verify(secret, token, &g, reason, sizeof reason), -1);
	ck_assert_str_eq(reason, "the token has expired");

	mint(
	    "{\"sub\": \"alice\"}", "HS256", secret_bytes, token, sizeof token);
	ck_assert_int_eq(verify(secret, token, &g, reason, sizeof reason), -1);
	ck_assert_str_eq(reason, "bad token: no exp claim");

	claims_for(claims, sizeof claims, LATER, NULL);
	mint(claims, "HS256", other_secret, token, sizeof token);
	ck_assert_int_eq(verify(secret, token, &g, reason, sizeof reason), -1);
	ck_assert_str_eq(reason, "bad token: not signed with the key");

	mint(claims, "none", NULL, token, sizeof token);
	ck_assert_int_eq(verify(secret, token, &g, reason, sizeof reason), -1);

	/* A payload changed after signing: "alice" becomes "alicf". */
	mint(claims, "HS256", secret_bytes, token, sizeof token);
	dot = strcspn(token, ".");
	token[dot + 5] = token[dot + 5] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(verify(secret, token, &g, reason, sizeof reason), -1);

	claims_for(claims, sizeof claims, LATER, "[\"user.alice\"]");
	mint(claims, "HS256", secret_bytes, token, sizeof token);
	ck_assert_int_eq(verify(secret, token, &g, reason, sizeof reason), -1);
	ck_assert_ptr_null(strstr(reason, token));
	ck_assert_ptr_nonnull(strstr(reason, "litepush must be"));
}
END_TEST

START_TEST(test_grant_public_keys)
{
	char         token[4096], claims[512], reason[256], command[2048];
	struct grant g;

	claims_for(claims, sizeof claims, LATER, LISTS);
	mint(claims, "RS256", rsa_priv, token, sizeof token);
	ck_assert_msg(verify(rsa_pub, token, &g, reason, sizeof reason) == 0,
	    "%s", reason);
	ck_assert_str_eq(g.user, "alice");
	grant_free(&g);
	mint(claims, "ES256", ec_priv, token, sizeof token);
	ck_assert_msg(verify(ec_pub, token, &g, reason, sizeof reason) == 0,
	    "%s", reason);
	grant_free(&g);
	/* Signed by the other key pair. */
	ck_assert_int_eq(verify(rsa_pub, token, &g, reason, sizeof reason), -1);

	/*
	 * HS256 with the RSA public key as the secret (python3-jwt refuses
	 * to make one, so it is made by hand): the key is a public key, so
	 * HS256 is not its algorithm, however the MAC comes out.
	 */
	snprintf(command, sizeof command,
	    "/usr/bin/python3 -c 'import base64, hashlib, hmac, json, sys\n"
	    "b = lambda d: base64.urlsafe_b64encode(d).rstrip(b\"=\")\n"
	    "head = b(json.dumps({\"alg\": \"HS256\", \"typ\": "
	    "\"JWT\"}).encode())\n"
	    "body = b(sys.argv[1].encode())\n"
	    "key = open(sys.argv[2], \"rb\").read()\n"
	    "mac = b(hmac.new(key, head + b\".\" + body, "
	    "hashlib.sha256).digest())\n"
	    "print((head + b\".\" + body + b\".\" + mac).decode())' '%s' '%s'",
	    claims, rsa_pub);
	run(command, token, sizeof token);
	ck_assert_int_eq(verify(rsa_pub, token, &g, reason, sizeof reason), -1);
}
END_TEST

START_TEST(test_grant_key_load)
{
	struct grant_key *key;
	char              reason[512], path[600];
	FILE             *f;

	testutil_path(path, sizeof path, "missing");
	ck_assert_int_eq(grant_key_load(path, &key, reason, sizeof reason), -1);
	ck_assert_ptr_nonnull(strstr(reason, "No such file"));
	testutil_path(path, sizeof path, "empty");
	f = fopen(path, "w");
	fclose(f);
	ck_assert_int_eq(grant_key_load(path, &key, reason, sizeof reason), -1);
	ck_assert_ptr_nonnull(strstr(reason, "empty"));
}
END_TEST

/* Where a token is found, in which order, and what is no token. */
START_TEST(test_grant_find_token)
{
	char out[GRANT_TOKEN_MAX + 1], big[GRANT_TOKEN_MAX + 40];

	ck_assert_int_eq(grant_find_token("Bearer a.b.c",
	                     "litepush_token=d.e.f", "token=g.h.i", out),
	    1);
	ck_assert_str_eq(out, "a.b.c");
	ck_assert_int_eq(
	    grant_find_token(
	        NULL, "x=1; litepush_token=d.e.f; y=2", "token=g.h.i", out),
	    1);
	ck_assert_str_eq(out, "d.e.f");
	ck_assert_int_eq(
	    grant_find_token(NULL, "x=1", "channel=a&token=g.h-_i&b=2", out),
	    1);
	ck_assert_str_eq(out, "g.h-_i");
	ck_assert_int_eq(
	    grant_find_token("Basic eA==", NULL, "channel=a", out), 0);
	ck_assert_int_eq(grant_find_token(NULL, NULL, "mytoken=x", out), 0);
	ck_assert_int_eq(grant_find_token(NULL, NULL, "token=a%2Eb", out), -1);
	ck_assert_int_eq(grant_find_token(NULL, NULL, "token=", out), -1);
	memcpy(big, "token=", 6);
	memset(big + 6, 'a', GRANT_TOKEN_MAX + 1);
	big[6 + GRANT_TOKEN_MAX + 1] = '\0';
	ck_assert_int_eq(grant_find_token(NULL, NULL, big, out), -1);
}
END_TEST

/* The logs get the target without the token. */
START_TEST(test_grant_redact)
{
	char out[64];

	grant_redact(
	    "/ws?channel=a&token=s3cr3t.x.y&backlog=2", out, sizeof out);
	ck_assert_str_eq(out, "/ws?channel=a&token=-&backlog=2");
	grant_redact("/ws?token=abc", out, sizeof out);
	ck_assert_str_eq(out, "/ws?token=-");
	grant_redact("/ws?mytoken=abc", out, sizeof out);
	ck_assert_str_eq(out, "/ws?mytoken=abc");
	grant_redact("/ws?channel=a&token=abc", out, 10);
	ck_assert_str_eq(out, "/ws?chann");
}
END_TEST

/* Judges a request for qs with the key file path (NULL: no key). */
static int
judge(const char *path, const char *user, const char *qs,
    const char *authorization, struct grant_verdict *v)
{
	static const char *const patterns[] = {"user.{user}"};
	struct access_rules      rules = {patterns, 1, 0};
	struct grant_request     who = {user, authorization, NULL, qs, NULL};
	struct grant_key        *key = NULL;
	struct query             q;
	char                     err[512], reason[256];
	int                      rc;

	if (path != NULL)
		ck_assert_msg(grant_key_load(path, &key, err, sizeof err) == 0,
		    "%s", err);
	ck_assert_msg(
	    query_parse(qs, strlen(qs), &q, err, sizeof err) == 0, "%s", err);
	rc = grant_judge(&rules, key, &who, &q, (long long)time(NULL), v,
	    reason, sizeof reason);
	grant_key_free(key);
	return rc;
}

/* A 401 tells a bad token from missing credentials; the rest is unchanged. */
START_TEST(test_grant_judge_tells_bad_token)
{
	char                 token[4096], claims[512], qs[4300], bearer[4200];
	struct grant_verdict v;

	/* Nothing presented: a 401 for missing credentials. */
	ck_assert_int_eq(
	    judge(secret, NULL, "channel=user.alice", NULL, &v), 401);
	ck_assert_int_eq(v.token_refused, 0);
	ck_assert_int_eq(
	    judge(NULL, NULL, "channel=user.alice", NULL, &v), 401);
	ck_assert_int_eq(v.token_refused, 0);
	/* Without a key a token is no credential: still missing ones. */
	ck_assert_int_eq(
	    judge(NULL, NULL, "channel=user.alice&token=a.b.c", NULL, &v), 401);
	ck_assert_int_eq(v.token_refused, 0);
	/* A token that is not one, expired, or signed with another key. */
	ck_assert_int_eq(
	    judge(secret, NULL, "channel=user.alice&token=a%2Eb", NULL, &v),
	    401);
	ck_assert_int_eq(v.token_refused, 1);
	claims_for(claims, sizeof claims, BEFORE, LISTS);
	mint(claims, "HS256", secret_bytes, token, sizeof token);
	snprintf(qs, sizeof qs, "channel=user.alice&token=%s", token);
	ck_assert_int_eq(judge(secret, NULL, qs, NULL, &v), 401);
	ck_assert_int_eq(v.token_refused, 1);
	ck_assert_int_eq(v.expires_ms, 0);
	claims_for(claims, sizeof claims, LATER, LISTS);
	mint(claims, "HS256", other_secret, token, sizeof token);
	snprintf(bearer, sizeof bearer, "Bearer %s", token);
	ck_assert_int_eq(
	    judge(secret, NULL, "channel=user.alice", bearer, &v), 401);
	ck_assert_int_eq(v.token_refused, 1);
	/* A good token: allowed, with its exp; a 403 is not about the token. */
	mint(claims, "HS256", secret_bytes, token, sizeof token);
	snprintf(qs, sizeof qs, "channel=user.alice&token=%s", token);
	ck_assert_int_eq(judge(secret, NULL, qs, NULL, &v), 0);
	ck_assert_int_eq(v.token_refused, 0);
	ck_assert(v.expires_ms > (long long)time(NULL) * 1000);
	snprintf(qs, sizeof qs, "channel=user.bob&token=%s", token);
	ck_assert_int_eq(judge(secret, NULL, qs, NULL, &v), 403);
	ck_assert_int_eq(v.token_refused, 0);
	/* A good token naming no user, for a channel that needs a login. */
	mint("{\"exp\": 9999999999}", "HS256", secret_bytes, token,
	    sizeof token);
	snprintf(qs, sizeof qs, "channel=user.alice&token=%s", token);
	ck_assert_int_eq(judge(secret, NULL, qs, NULL, &v), 401);
	ck_assert_int_eq(v.token_refused, 1);
	/* The web server's login alone. */
	ck_assert_int_eq(
	    judge(secret, "bob", "channel=user.alice", NULL, &v), 403);
	ck_assert_int_eq(v.token_refused, 0);
}
END_TEST

static Suite *
grant_suite(void)
{
	Suite *s = suite_create("grant");
	TCase *tc = tcase_create("tokens");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_grant_hs256);
	tcase_add_test(tc, test_grant_refusals);
	tcase_add_test(tc, test_grant_public_keys);
	tcase_add_test(tc, test_grant_key_load);
	tcase_add_test(tc, test_grant_find_token);
	tcase_add_test(tc, test_grant_redact);
	tcase_add_test(tc, test_grant_judge_tells_bad_token);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(grant_suite());
	int      failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
