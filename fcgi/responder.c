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

#include "buf.h"
#include "feed.h"
#include "intake.h"
#include "listen.h"
#include "loop.h"
#include "options.h"
#include "proc.h"
#include "query.h"
#include "stream.h"

/*
 * One event loop serves every stream of the process.  New FastCGI
 * connections are read on it too (fcgi/intake.h: libfcgi parses each
 * request's records once they have all come, so a silent or slow peer
 * holds nobody up), validated here, and answered or streamed.  As plain
 * CGI the same stream runs alone on standard output.
 */

/* Shutdown deadline: streams that have not drained their pause by then are cut. */
#define RESPONDER_EXIT_MS 1500

static struct loop          *responder_loop;
static struct stream_server *responder_server;
static struct intake        *responder_intake;
static struct loop_async     responder_shutdown_async;
static struct loop_async     responder_stats_async;
static struct feed          *responder_feed;
static volatile sig_atomic_t responder_stats_ready; /* the async exists */
static struct loop_timer     responder_exit_timer;
static int                   responder_cgi_mode; /* one stream, then exit */
static int                   responder_ending;   /* shutdown has begun */

static const struct option responder_options[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "listen", required_argument, NULL, 'l' },
	{ "max-streams", required_argument, NULL, 'm' },
	{ "keepalive", required_argument, NULL, 'k' },
	{ "retry", required_argument, NULL, 'r' },
	{ "max-age", required_argument, NULL, 'a' },
	{ "poll-ms", required_argument, NULL, 'p' },
	{ "backlog-max", required_argument, NULL, 'b' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* Prints the usage text. */
static void
responder_usage(FILE *f)
{
	fputs("usage: litepush-sse --db PATH [--listen ADDR] [options]\n"
	      "\n"
	      "Streams the rows of an SQLite events table as text/event-stream.\n"
	      "Runs spawned by the web server (FastCGI socket on fd 0), standalone\n"
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
	      "  --help, --version\n"
	      "\n"
	      "Every option also comes from LITEPUSH_<NAME> (LITEPUSH_DB,\n"
	      "LITEPUSH_MAX_STREAMS, ...); the command line wins.\n",
	    f);
}

/* Prints a message to standard error (the web server's error log). */
static void __attribute__((format(printf, 1, 2)))
responder_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("litepush-sse: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Exits with a usage error. */
static void __attribute__((noreturn, format(printf, 1, 2)))
responder_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("litepush-sse: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\nTry 'litepush-sse --help'.\n", stderr);
	va_end(ap);
	exit(2);
}

/*
 * Validates a request.  Returns 0 with the query and resume point (-1 for
 * none), or -1 with the status line, an extra header and the reason.
 */
static int
responder_validate(const char *method, const char *query_string,
    const char *last_event_id, const char *content_length,
    const char *transfer_encoding, struct query *query, int64_t *resume,
    const char **status, const char **extra_header, char *reason, size_t len)
{
	int64_t id;
	int     rc;

	*extra_header = NULL;
	*resume = -1;
	if (method == NULL || strcmp(method, "GET") != 0) {
		*status = "405 Method Not Allowed";
		*extra_header = "Allow: GET";
		snprintf(reason, len, "only GET is allowed: this is an event stream");
		return -1;
	}
	*status = "400 Bad Request";
	/*
	 * A body is refused, not read: reading it would cost the loop time for
	 * nothing (RFC 9110 9.3.1 gives content in a GET no meaning), and a
	 * stream that sends one anyway is ended (fcgi_input_scan).
	 */
	if ((content_length != NULL && content_length[0] != '\0' &&
		strspn(content_length, "0") != strlen(content_length)) ||
	    transfer_encoding != NULL) {
		snprintf(reason, len, "a GET request for an event stream has no "
		    "body");
		return -1;
	}
	/*
	 * CGI (RFC 3875 4.1.7) always sets QUERY_STRING, empty without a
	 * query.  Its absence means the web server dropped it (mod_proxy_fcgi
	 * drops one over 16 KB): serving the channel "default" instead would
	 * quietly answer another question than the one asked.
	 */
	if (query_string == NULL) {
		snprintf(reason, len, "the web server passed no QUERY_STRING "
		    "(a query string too long for it is dropped)");
		return -1;
	}
	if (query_parse(query_string, strlen(query_string), query, reason,
		len) != 0)
		return -1;
	if (last_event_id != NULL) {
		rc = query_parse_last_event_id(last_event_id, &id, reason, len);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			*resume = id;
			return 0;
		}
	}
	if (query->has_last_id)
		*resume = query->last_id;
	return 0;
}

/* Logs a line for the intake. */
static void
responder_intake_log(const char *msg, void *arg)
{
	(void)arg;
	responder_log("%s", msg);
}

/* A FastCGI request has come whole: answer it, or stream. */
static void
responder_request(const struct intake_request *req, void *arg)
{
	const char  *status, *extra;
	char         reason[256];
	struct query query;
	int64_t      resume;

	(void)arg;
	if (req->envp == NULL) {
		stream_refuse(responder_server, req->fd, req->request_id,
		    "431 Request Header Fields Too Large", NULL, req->too_large,
		    req->input, req->input_len);
		return;
	}
	if (responder_validate(FCGX_GetParam("REQUEST_METHOD", req->envp),
		FCGX_GetParam("QUERY_STRING", req->envp),
		FCGX_GetParam("HTTP_LAST_EVENT_ID", req->envp),
		FCGX_GetParam("CONTENT_LENGTH", req->envp),
		FCGX_GetParam("HTTP_TRANSFER_ENCODING", req->envp), &query,
		&resume, &status, &extra, reason, sizeof reason) != 0) {
		stream_refuse(responder_server, req->fd, req->request_id, status,
		    extra, reason, req->input, req->input_len);
		return;
	}
	stream_open(responder_server, req->fd, req->request_id, &query, resume,
	    req->input, req->input_len);
}

/* The last stream has gone: in CGI mode or at shutdown, that is the end. */
static void
responder_empty(struct stream_server *server, void *arg)
{
	(void)server;
	(void)arg;
	if (responder_cgi_mode || responder_ending)
		loop_stop(responder_loop);
}

/* Shutdown deadline: whatever has not drained by now is cut. */
static void
responder_exit_deadline(struct loop_timer *timer)
{
	(void)timer;
	loop_stop(responder_loop);
}

/* On the loop, after SIGTERM or SIGINT: pause every stream, then exit. */
static void
responder_shutdown(struct loop_async *async)
{
	(void)async;
	if (responder_ending)
		return;
	responder_ending = 1;
	loop_timer_init(&responder_exit_timer, responder_exit_deadline, NULL);
	loop_timer_start(responder_loop, &responder_exit_timer,
	    RESPONDER_EXIT_MS);
	stream_shutdown(responder_server);
}

/* On the loop, after SIGUSR1: the feed's counters, one JSON line on stderr. */
static void
responder_print_stats(struct loop_async *async)
{
	char line[512];

	(void)async;
	feed_format_stats(responder_feed, line, sizeof line);
	fprintf(stderr, "litepush-sse: %s\n", line);
}

/* Signal handler for SIGTERM and SIGINT; SIGUSR1 asks for the counters. */
static void
responder_signal(int sig)
{
	if (sig == SIGUSR1) {
		if (responder_stats_ready)
			loop_async_send(&responder_stats_async);
		return;
	}
	loop_async_send(&responder_shutdown_async);
}

/*
 * Installs the signal handlers.  Note that this runs before FCGX_Init():
 * libfcgi installs its own handlers only where the disposition is still the
 * default (its SIGUSR1 handler would stop the acceptors: ours prints the
 * feed's counters instead).  Apache's threaded MPMs start CGI children with
 * SIGTERM blocked, so it is unblocked here.
 */
static void
responder_signals(void)
{
	proc_signals(responder_signal);
}

/* The options: the configuration points into them, so they live as long
 * as the process (and leak checkers see them reachable on every exit). */
static char **responder_args;

/* Serves one request as plain CGI: one process, one stream on stdout. */
static int
responder_cgi(void)
{
	const char  *status, *extra;
	char         reason[256];
	struct query query;
	int64_t      resume;

	if (getenv("REQUEST_METHOD") == NULL) {
		responder_log("no FastCGI socket on standard input and no CGI "
			      "request (REQUEST_METHOD is unset); see --help");
		return 2;
	}
	if (responder_validate(getenv("REQUEST_METHOD"), getenv("QUERY_STRING"),
		getenv("HTTP_LAST_EVENT_ID"), getenv("CONTENT_LENGTH"),
		getenv("HTTP_TRANSFER_ENCODING"), &query, &resume, &status, &extra,
		reason, sizeof reason) != 0) {
		struct buf out = { 0 };

		if (stream_error_response(&out, 0, status, extra, reason) == 0 &&
		    write(STDOUT_FILENO, out.data, out.len) < 0)
			responder_log("cannot write the response: %s",
			    strerror(errno));
		buf_free(&out);
		return 0;
	}
	stream_open(responder_server, STDOUT_FILENO, 0, &query, resume, NULL, 0);
	if (stream_count(responder_server) > 0)
		loop_run(responder_loop);
	return 0;
}

int
main(int argc, char **argv)
{
	struct stream_config config = { 10000, 15000, 3000, 600000, 1000 };
	struct feed_options  feed_options = { 0 };
	struct feed         *feed;
	const char          *listen_addr = NULL;
	char                 err[512];
	int                  nargs, c, status = 0;
	int                  listen_fd = FCGI_LISTENSOCK_FILENO;
	int64_t              n;

	responder_args =
	    options_with_env(argc, argv, "h", responder_options, &nargs);
	if (responder_args == NULL) {
		responder_log("out of memory");
		return 1;
	}
	while ((c = getopt_long(nargs, responder_args, "h", responder_options,
		    NULL)) != -1) {
		switch (c) {
		case 'd':
			feed_options.db_path = optarg;
			break;
		case 'l':
			if (!listen_valid(optarg))
				responder_usage_error("--listen: bad address \"%s\" "
						      "(expected unix:PATH or HOST:PORT)",
				    optarg);
			listen_addr = optarg;
			break;
		case 'm':
		case 'k':
		case 'r':
		case 'a':
		case 'p':
		case 'b':
			if (options_number(optarg, c == 'k' || c == 'p' ? 1 : 0,
				INT64_MAX / 1000, &n) != 0)
				responder_usage_error("--%s: expected a whole number, "
						      "got \"%s\"",
				    c == 'm' ? "max-streams" : c == 'k' ? "keepalive" :
				    c == 'r' ? "retry" : c == 'a' ? "max-age" :
				    c == 'p' ? "poll-ms" : "backlog-max",
				    optarg);
			if (c == 'm')
				config.max_streams = n;
			else if (c == 'k')
				config.keepalive_ms = n * 1000;
			else if (c == 'r')
				config.retry_ms = n;
			else if (c == 'a')
				config.max_age_ms = n * 1000;
			else if (c == 'p')
				feed_options.poll_ms = n > 86400000 ? 86400000 : (int)n;
			else
				config.backlog_max = n;
			break;
		case 'h':
			responder_usage(stdout);
			return 0;
		case 'V':
			puts("litepush-sse " PACKAGE_VERSION);
			return 0;
		default:
			fputs("Try 'litepush-sse --help'.\n", stderr);
			return 2;
		}
	}
	if (optind < nargs)
		responder_usage_error(
		    "unexpected argument \"%s\"", responder_args[optind]);
	if (feed_options.db_path == NULL)
		responder_usage_error("--db PATH is required (or LITEPUSH_DB)");

	responder_signals();
	proc_raise_nofile();
	proc_memory_returns();
	if (FCGX_Init() != 0) {
		responder_log("cannot initialise libfcgi");
		return 1;
	}
	if (listen_addr != NULL) {
		listen_fd = listen_open(listen_addr, 1024, err, sizeof err);
		if (listen_fd < 0) {
			responder_log("%s", err);
			return 1;
		}
	} else
		responder_cgi_mode = FCGX_IsCGI();

	responder_loop = loop_create();
	if (responder_loop == NULL) {
		responder_log("cannot create the event loop: %s", strerror(errno));
		return 1;
	}
	feed = feed_create(responder_loop, &feed_options, err, sizeof err);
	if (feed == NULL) {
		responder_log("%s", err);
		return 1;
	}
	if (feed_store_error(feed) != NULL)
		responder_log("%s (new streams get 503 until it opens)",
		    feed_store_error(feed));
	if (responder_cgi_mode)
		config.max_streams = 1;
	responder_server = stream_server_create(responder_loop, feed, &config,
	    responder_empty, NULL);
	if (responder_server == NULL) {
		responder_log("out of memory");
		return 1;
	}
	loop_async_init(responder_loop, &responder_shutdown_async,
	    responder_shutdown, NULL);
	responder_feed = feed;
	loop_async_init(responder_loop, &responder_stats_async,
	    responder_print_stats, NULL);
	responder_stats_ready = 1;
	if (responder_cgi_mode) {
		status = responder_cgi();
	} else {
		responder_intake = intake_create(responder_loop, listen_fd,
		    responder_request, responder_intake_log, NULL);
		if (responder_intake == NULL) {
			responder_log("cannot accept on the FastCGI socket: %s",
			    strerror(errno));
			return 1;
		}
		loop_run(responder_loop);
		intake_free(responder_intake);
	}
	stream_server_free(responder_server);
	feed_free(feed);
	loop_free(responder_loop);
	options_free(responder_args);
	return status;
}
