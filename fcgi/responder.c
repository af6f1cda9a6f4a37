/* responder.c: litepush-sse, the FastCGI (and plain CGI) Server-Sent Events responder. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fastcgi.h>
#include <fcgiapp.h>

#include "access.h"
#include "buf.h"
#include "cors.h"
#include "grant.h"
#include "feed.h"
#include "intake.h"
#include "listen.h"
#include "loop.h"
#include "options.h"
#include "proc.h"
#include "query.h"
#include "quote.h"
#include "stream.h"

/*
 * One event loop serves every stream of the process.  New FastCGI
 * connections are read on it too (fcgi/intake.h: libfcgi parses each
 * request's records once they have all come, so a silent or slow peer
 * holds nobody up), validated here, and answered or streamed.  As plain
 * CGI the same stream runs alone on standard output.
 */

/* The largest number an option takes (seconds become ms without overflow). */
#define RESPONDER_NUMBER_MAX (INT64_MAX / 1000)

static struct loop          *responder_loop;
static struct stream_server *responder_server;
static struct intake        *responder_intake;
static struct feed          *responder_feed;
static int                   responder_cgi_mode; /* one stream, then exit */

/* The most --private rules. */
#define RESPONDER_RULES_MAX 64

/* Who may read which channel: --private and --require-login. */
struct responder_access {
	const char         *patterns[RESPONDER_RULES_MAX];
	struct access_rules rules; /* points at patterns */
	struct grant_key   *key;   /* --jwt-key; NULL without */
};
static struct responder_access responder_access = {
    .rules = {responder_access.patterns, 0, 0}};

/* The origins of --cors-origin (none: no CORS header at all). */
static struct cors *responder_cors;

static const struct option responder_options[] = {
    {"db", required_argument, NULL, 'd'},
    {"listen", required_argument, NULL, 'l'},
    {"max-streams", required_argument, NULL, 'm'},
    {"keepalive", required_argument, NULL, 'k'},
    {"retry", required_argument, NULL, 'r'},
    {"max-age", required_argument, NULL, 'a'},
    {"poll-ms", required_argument, NULL, 'p'},
    {"backlog-max", required_argument, NULL, 'b'},
    {"private", required_argument, NULL, 'P'},
    {"require-login", no_argument, NULL, 'L'},
    {"jwt-key", required_argument, NULL, 'j'},
    {"cors-origin", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* Prints the usage text. */
static void
responder_usage(FILE *f)
{
	fputs(
	    "usage: litepush-sse --db PATH [--listen ADDR] [options]\n"
	    "\n"
	    "Streams the rows of an SQLite events table as text/event-stream.\n"
	    "Runs spawned by the web server (FastCGI socket on fd 0), "
	    "standalone\n"
	    "with --listen unix:/path or HOST:PORT, or as plain CGI.\n"
	    "\n"
	    "  --db PATH            the event store (required)\n"
	    "  --listen ADDR        listen on unix:PATH or HOST:PORT\n"
	    "  --max-streams N      open streams at most (10000); then 503\n"
	    "  --keepalive SECONDS  comment after this much silence (15); a\n"
	    "                       stream blocked for two of them is dropped\n"
	    "  --retry MS           the retry: field (3000)\n"
	    "  --max-age SECONDS    stream lifetime, +-10% (600); then pause\n"
	    "  --poll-ms MS         fallback poll of the store (1000)\n"
	    "  --backlog-max N      largest backlog=N honoured (1000)\n"
	    "  --private PATTERN    channels of that shape only for the user\n"
	    "                       {user} names (REMOTE_USER); repeatable\n"
	    "  --require-login      every other channel needs a login too\n"
	    "  --jwt-key FILE       accept signed grants: an HS256 secret or "
	    "a\n"
	    "                       PEM public key (RS256, ES256)\n"
	    "  --cors-origin ORIGIN a page of this origin "
	    "(scheme://host[:port])\n"
	    "                       may read the stream; repeatable\n"
	    "  --help, --version\n"
	    "\n"
	    "Every option also comes from LITEPUSH_<NAME> (LITEPUSH_DB,\n"
	    "LITEPUSH_MAX_STREAMS, ...); the command line wins.\n",
	    f);
}

/* What a request says, from FastCGI parameters or the CGI environment. */
struct responder_request {
	const char *method, *query_string, *last_event_id, *content_length,
	    *transfer_encoding, *user, *authorization, *cookie, *addr, *origin,
	    *request_method; /* a preflight's Access-Control-Request-Method */
};

/* Fills req with get(name, arg), a lookup of one parameter. */
static void
responder_request_read(struct responder_request *req,
    const char *(*get)(const char *name, void *arg), void *arg)
{
	req->method = get("REQUEST_METHOD", arg);
	req->query_string = get("QUERY_STRING", arg);
	req->last_event_id = get("HTTP_LAST_EVENT_ID", arg);
	req->content_length = get("CONTENT_LENGTH", arg);
	req->transfer_encoding = get("HTTP_TRANSFER_ENCODING", arg);
	req->user = get("REMOTE_USER", arg);
	req->authorization = get("HTTP_AUTHORIZATION", arg);
	req->cookie = get("HTTP_COOKIE", arg);
	req->addr = get("REMOTE_ADDR", arg);
	req->origin = get("HTTP_ORIGIN", arg);
	req->request_method = get("HTTP_ACCESS_CONTROL_REQUEST_METHOD", arg);
}

/* What a validated request asks for. */
struct responder_stream {
	struct query query;
	int64_t      resume;     /* -1 for none */
	int64_t      expires_ms; /* the grant's end; 0 without one */
};

/* A whole response instead of a stream: an error, or a preflight's 204. */
struct responder_answer {
	const char *status; /* "400 Bad Request" */
	const char *header; /* one more line of its own ("Allow: GET\r\n"), or
	                       NULL */
	int  preflight;     /* the 204: no body, and the preflight's headers */
	char reason[256];   /* the one-line body */
};

/* What responder_validate() decided. */
#define RESPONDER_STREAM 0 /* the request is streamed */
#define RESPONDER_ANSWER 1 /* it gets the responder_answer */

/*
 * Judges who asks (grant_judge(): the web server's login, or the grant of
 * a token with --jwt-key).  Returns RESPONDER_STREAM, or RESPONDER_ANSWER
 * with a 401 (and its challenge) or a 403.
 */
static int
responder_authorize(const struct responder_request *req,
    struct responder_stream *out, struct responder_answer *answer)
{
	struct grant_request who = {.user = req->user,
	    .authorization = req->authorization,
	    .cookie = req->cookie,
	    .query_string = req->query_string};
	struct grant_verdict verdict;
	int                  rc;

	rc = grant_judge(&responder_access.rules, responder_access.key, &who,
	    &out->query, loop_unix_ms() / 1000, &verdict, answer->reason,
	    sizeof answer->reason);
	out->expires_ms = verdict.expires_ms;
	if (rc == 0)
		return RESPONDER_STREAM;
	if (rc == 401) {
		answer->status = "401 Unauthorized";
		answer->header = verdict.token_refused
		                     ? GRANT_CHALLENGE_BAD_TOKEN "\r\n"
		                     : GRANT_CHALLENGE "\r\n";
	} else
		answer->status = "403 Forbidden";
	return RESPONDER_ANSWER;
}

/*
 * Answers a CORS preflight (an OPTIONS with Origin and
 * Access-Control-Request-Method) when --cors-origin is given: 204 for a
 * listed origin asking for GET, 403 for another origin (a plain 405 would
 * not say why the page cannot read), 405 for another method.  Returns
 * RESPONDER_ANSWER, or RESPONDER_STREAM when the request is no preflight
 * (it is then validated as any other).
 */
static int
responder_preflight(
    const struct responder_request *req, struct responder_answer *answer)
{
	char quoted[QUOTE_SIZE];

	if (!cors_enabled(responder_cors) ||
	    !cors_is_preflight(req->method, req->origin, req->request_method))
		return RESPONDER_STREAM;
	if (!cors_allowed(responder_cors, req->origin)) {
		answer->status = "403 Forbidden";
		snprintf(answer->reason, sizeof answer->reason,
		    "origin \"%s\" may not read this stream (--cors-origin)",
		    quote_value(quoted, req->origin, strlen(req->origin), 0));
		return RESPONDER_ANSWER;
	}
	if (strcmp(req->request_method, "GET") != 0) {
		answer->status = "405 Method Not Allowed";
		answer->header = "Allow: GET\r\n";
		snprintf(answer->reason, sizeof answer->reason,
		    "only GET is allowed: this is an event stream");
		return RESPONDER_ANSWER;
	}
	answer->status = "204 No Content";
	answer->preflight = 1;
	return RESPONDER_ANSWER;
}

/*
 * Validates a request.  Returns RESPONDER_STREAM with what it asks for, or
 * RESPONDER_ANSWER with the response it gets instead.
 */
static int
responder_validate(const struct responder_request *req,
    struct responder_stream *out, struct responder_answer *answer)
{
	char   *reason = answer->reason;
	size_t  len = sizeof answer->reason;
	int64_t id;
	int     rc;

	answer->header = NULL;
	answer->preflight = 0;
	out->resume = -1;
	out->expires_ms = 0;
	if (responder_preflight(req, answer) == RESPONDER_ANSWER)
		return RESPONDER_ANSWER;
	if (req->method == NULL || strcmp(req->method, "GET") != 0) {
		answer->status = "405 Method Not Allowed";
		answer->header = "Allow: GET\r\n";
		snprintf(reason, len,
		    "only GET is allowed: this is an event stream");
		return RESPONDER_ANSWER;
	}
	answer->status = "400 Bad Request";
	/*
	 * A body is refused, not read: reading it would cost the loop time for
	 * nothing (RFC 9110 9.3.1 gives content in a GET no meaning), and a
	 * stream that sends one anyway is ended (fcgi_input_scan).
	 */
	if ((req->content_length != NULL && req->content_length[0] != '\0' &&
	        strspn(req->content_length, "0") !=
	            strlen(req->content_length)) ||
	    req->transfer_encoding != NULL) {
		snprintf(reason, len,
		    "a GET request for an event stream has no "
		    "body");
		return RESPONDER_ANSWER;
	}
	/*
	 * CGI (RFC 3875 4.1.7) always sets QUERY_STRING, empty without a
	 * query.  Its absence means the web server dropped it (mod_proxy_fcgi
	 * drops one over 16 KB): serving the channel "default" instead would
	 * quietly answer another question than the one asked.
	 */
	if (req->query_string == NULL) {
		snprintf(reason, len,
		    "the web server passed no QUERY_STRING "
		    "(a query string too long for it is dropped)");
		return RESPONDER_ANSWER;
	}
	if (query_parse(req->query_string, strlen(req->query_string),
	        &out->query, reason, len) != 0)
		return RESPONDER_ANSWER;
	if (responder_authorize(req, out, answer) != RESPONDER_STREAM)
		return RESPONDER_ANSWER;
	if (req->last_event_id != NULL) {
		rc = query_parse_last_event_id(
		    req->last_event_id, &id, reason, len);
		if (rc < 0)
			return RESPONDER_ANSWER;
		if (rc == 0) {
			out->resume = id;
			return RESPONDER_STREAM;
		}
	}
	if (out->query.has_last_id)
		out->resume = out->query.last_id;
	return RESPONDER_STREAM;
}

/*
 * Logs an access refusal (401, 403) with the client's address and the
 * reason, which names the channel; nothing the client sent as a secret.
 */
static void
responder_log_refusal(const char *addr, const char *status, const char *reason)
{
	if (strncmp(status, "401", 3) == 0 || strncmp(status, "403", 3) == 0)
		proc_log("refuse %s %.3s %s", addr != NULL ? addr : "-", status,
		    reason);
}

/*
 * Judges a request (responder_validate()), logs a refusal, and writes the
 * response's extra header lines to headers (STREAM_HEADERS_MAX bytes):
 * the CORS ones, then the answer's own.  Returns RESPONDER_STREAM or
 * RESPONDER_ANSWER.
 */
static int
responder_judge(const struct responder_request *req,
    struct responder_stream *stream, struct responder_answer *answer,
    char *headers)
{
	int    rc = responder_validate(req, stream, answer);
	size_t n;

	if (rc == RESPONDER_ANSWER)
		responder_log_refusal(
		    req->addr, answer->status, answer->reason);
	/* CORS_HEADERS_MAX always suffices; were it short, no CORS at all. */
	if (cors_headers(responder_cors, req->origin,
	        answer->preflight && rc == RESPONDER_ANSWER, headers,
	        CORS_HEADERS_MAX) < 0)
		headers[0] = '\0';
	n = strlen(headers);
	if (rc == RESPONDER_ANSWER && answer->header != NULL)
		snprintf(
		    headers + n, STREAM_HEADERS_MAX - n, "%s", answer->header);
	return rc;
}

/* Logs a line for the intake. */
static void
responder_intake_log(const char *msg, void *arg)
{
	(void)arg;
	proc_log("%s", msg);
}

/* Looks a parameter up in a FastCGI request's environment. */
static const char *
responder_fcgi_param(const char *name, void *arg)
{
	return FCGX_GetParam(name, arg);
}

/* Looks a parameter up in the CGI environment. */
static const char *
responder_cgi_param(const char *name, void *arg)
{
	(void)arg;
	return getenv(name);
}

/* A FastCGI request has come whole: answer it, or stream. */
static void
responder_request(const struct intake_request *req, void *arg)
{
	struct responder_request request;
	struct responder_stream  stream;
	struct responder_answer  answer;
	char                     headers[STREAM_HEADERS_MAX];

	(void)arg;
	if (req->envp == NULL) {
		/* No Origin can be read: only the Vary, if any. */
		if (cors_headers(
		        responder_cors, NULL, 0, headers, sizeof headers) < 0)
			headers[0] = '\0';
		stream_refuse(responder_server, req->fd, req->request_id,
		    "431 Request Header Fields Too Large", headers,
		    req->too_large, req->input, req->input_len);
		return;
	}
	responder_request_read(&request, responder_fcgi_param, req->envp);
	if (responder_judge(&request, &stream, &answer, headers) ==
	    RESPONDER_ANSWER) {
		stream_refuse(responder_server, req->fd, req->request_id,
		    answer.status, headers,
		    answer.preflight ? NULL : answer.reason, req->input,
		    req->input_len);
		return;
	}
	stream_open(responder_server, req->fd, req->request_id, headers,
	    &stream.query, stream.resume, stream.expires_ms, req->input,
	    req->input_len);
}

/* The last stream has gone: in CGI mode or at shutdown, that is the end. */
static void
responder_empty(struct stream_server *server, void *arg)
{
	(void)server;
	(void)arg;
	if (responder_cgi_mode)
		loop_stop(responder_loop);
	proc_daemon_done();
}

/* After SIGTERM or SIGINT: every stream gets its pause, then the process exits.
 */
static void
responder_shutdown(void *arg)
{
	(void)arg;
	stream_shutdown(responder_server);
}

/* After SIGUSR1: the feed's counters. */
static void
responder_stats(char *out, size_t len, void *arg)
{
	(void)arg;
	feed_format_stats(responder_feed, out, len);
}

/* The options: the configuration points into them, so they live as long
 * as the process (and leak checkers see them reachable on every exit). */
static char **responder_args;

/* Serves one request as plain CGI: one process, one stream on stdout. */
static int
responder_cgi(void)
{
	struct responder_request request;
	struct responder_stream  stream;
	struct responder_answer  answer;
	char                     headers[STREAM_HEADERS_MAX];

	if (getenv("REQUEST_METHOD") == NULL) {
		proc_log("no FastCGI socket on standard input and no CGI "
		         "request (REQUEST_METHOD is unset); see --help");
		return 2;
	}
	responder_request_read(&request, responder_cgi_param, NULL);
	if (responder_judge(&request, &stream, &answer, headers) ==
	    RESPONDER_ANSWER) {
		struct buf out = {0};

		if (stream_error_response(&out, 0, answer.status, headers,
		        answer.preflight ? NULL : answer.reason) == 0 &&
		    buf_flush(&out, STDOUT_FILENO) < 0)
			proc_log(
			    "cannot write the response: %s", strerror(errno));
		buf_free(&out);
		return 0;
	}
	stream_open(responder_server, STDOUT_FILENO, 0, headers, &stream.query,
	    stream.resume, stream.expires_ms, NULL, 0);
	if (stream_count(responder_server) > 0)
		loop_run(responder_loop);
	return 0;
}

/* Adds the origins of one --cors-origin (a list, as --private takes). */
static void
responder_cors_option(char *value)
{
	const char *origins[CORS_ORIGINS_MAX];
	size_t      n = 0, i;
	char        reason[200], quoted[QUOTE_SIZE];

	proc_list_option("cors-origin", value, origins, &n, CORS_ORIGINS_MAX);
	for (i = 0; i < n; i++)
		if (cors_add(
		        responder_cors, origins[i], reason, sizeof reason) != 0)
			proc_usage_error("--cors-origin: \"%s\": %s",
			    quote_value(
			        quoted, origins[i], strlen(origins[i]), 0),
			    reason);
}

/*
 * After the options: credentials are on when a cookie, a token or a login
 * can change the answer, and Authorization matters with --jwt-key.
 */
static void
responder_cors_done(void)
{
	unsigned flags = 0;
	char     reason[200];

	if (responder_access.key != NULL ||
	    responder_access.rules.npatterns > 0 ||
	    responder_access.rules.require_login)
		flags |= CORS_CREDENTIALS;
	if (responder_access.key != NULL)
		flags |= CORS_AUTHORIZATION;
	if (cors_configure(responder_cors, flags, reason, sizeof reason) != 0)
		proc_usage_error("--cors-origin: %s", reason);
}

int
main(int argc, char **argv)
{
	struct stream_config     config = {10000, 15000, 3000, 600000, 1000};
	struct feed_options      feed_options = {0};
	struct feed             *feed;
	const char              *listen_addr = NULL;
	char                     err[512];
	int                      nargs, c, status = 0;
	int                      listen_fd = FCGI_LISTENSOCK_FILENO;
	int64_t                  n;
	struct proc_daemon_hooks hooks = {
	    responder_shutdown, responder_stats, NULL};

	proc_set_name("litepush-sse");
	responder_args =
	    options_with_env(argc, argv, "h", responder_options, &nargs);
	responder_cors = cors_create();
	if (responder_args == NULL || responder_cors == NULL) {
		proc_log("out of memory");
		return 1;
	}
	while ((c = getopt_long(nargs, responder_args, "h", responder_options,
	            NULL)) != -1) {
		switch (c) {
		case 'd':
			feed_options.db_path = optarg;
			break;
		case 'l':
			listen_addr = proc_listen_option(optarg);
			break;
		case 'm':
			config.max_streams = proc_number_option(
			    "max-streams", optarg, 0, RESPONDER_NUMBER_MAX);
			break;
		case 'k':
			config.keepalive_ms =
			    1000 * proc_number_option("keepalive", optarg, 1,
			               RESPONDER_NUMBER_MAX);
			break;
		case 'r':
			config.retry_ms = proc_number_option(
			    "retry", optarg, 0, RESPONDER_NUMBER_MAX);
			break;
		case 'a':
			config.max_age_ms =
			    1000 * proc_number_option("max-age", optarg, 0,
			               RESPONDER_NUMBER_MAX);
			break;
		case 'p':
			n = proc_number_option(
			    "poll-ms", optarg, 1, RESPONDER_NUMBER_MAX);
			feed_options.poll_ms = n > 86400000 ? 86400000 : (int)n;
			break;
		case 'b':
			config.backlog_max = proc_number_option(
			    "backlog-max", optarg, 0, RESPONDER_NUMBER_MAX);
			break;
		case 'P':
			proc_private_option(optarg, responder_access.patterns,
			    &responder_access.rules.npatterns,
			    RESPONDER_RULES_MAX);
			break;
		case 'L':
			responder_access.rules.require_login = 1;
			break;
		case 'j':
			grant_key_free(responder_access.key);
			if (grant_key_load(optarg, &responder_access.key, err,
			        sizeof err) != 0)
				proc_usage_error("--jwt-key: %s", err);
			break;
		case 'o':
			responder_cors_option(optarg);
			break;
		default:
			proc_last_option(c, responder_usage);
		}
	}
	proc_options_done(nargs, responder_args, feed_options.db_path);
	responder_cors_done();

	/* Before FCGX_Init(): libfcgi's SIGUSR1 handler would stop acceptors.
	 */
	proc_daemon_signals();
	proc_raise_nofile();
	proc_memory_returns();
	if (FCGX_Init() != 0) {
		proc_log("cannot initialise libfcgi");
		return 1;
	}
	if (listen_addr != NULL) {
		listen_fd = listen_open(listen_addr, 1024, err, sizeof err);
		if (listen_fd < 0) {
			proc_log("%s", err);
			return 1;
		}
	} else
		responder_cgi_mode = FCGX_IsCGI();

	responder_loop = loop_create();
	if (responder_loop == NULL) {
		proc_log("cannot create the event loop: %s", strerror(errno));
		return 1;
	}
	feed = feed_create(responder_loop, &feed_options, err, sizeof err);
	if (feed == NULL) {
		proc_log("%s", err);
		return 1;
	}
	if (feed_store_error(feed) != NULL)
		proc_log("%s (new streams get 503 until it opens)",
		    feed_store_error(feed));
	if (responder_cgi_mode)
		config.max_streams = 1;
	responder_server = stream_server_create(
	    responder_loop, feed, &config, responder_empty, NULL);
	if (responder_server == NULL) {
		proc_log("out of memory");
		return 1;
	}
	responder_feed = feed;
	proc_daemon_start(responder_loop, &hooks);
	if (responder_cgi_mode) {
		status = responder_cgi();
	} else {
		responder_intake = intake_create(responder_loop, listen_fd,
		    responder_request, responder_intake_log, NULL);
		if (responder_intake == NULL) {
			proc_log("cannot accept on the FastCGI socket: %s",
			    strerror(errno));
			return 1;
		}
		loop_run(responder_loop);
		intake_free(responder_intake);
	}
	proc_daemon_stop();
	stream_server_free(responder_server);
	feed_free(feed);
	loop_free(responder_loop);
	cors_free(responder_cors);
	options_free(responder_args);
	return status;
}
