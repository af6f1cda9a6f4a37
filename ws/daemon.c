/* daemon.c: litepush-ws: options, listening, accepting, shutdown. */
#include "config.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "grant.h"
#include "feed.h"
#include "listen.h"
#include "loop.h"
#include "options.h"
#include "proc.h"
#include "publish.h"
#include "store.h"
#include "wsconn.h"

/*
 * One thread, one epoll loop: the listening socket, every connection, the
 * feed's watcher and the timers all run in it.  Signals only wake the loop
 * (through an eventfd), which then closes every WebSocket with 1001 and
 * exits once they are gone, or after PROC_EXIT_MS at the latest.
 */

/* How long output may stay stuck with pings off before a drop. */
#define DAEMON_STALL_MS 60000
/* How long accepting pauses when the process is out of descriptors. */
#define DAEMON_ACCEPT_PAUSE_MS 100
/* The largest backlog=N honoured, as for litepush-sse. */
#define DAEMON_BACKLOG_MAX 1000
/* Most --origin and --publish values. */
#define DAEMON_LIST_MAX 64

static struct loop          *daemon_loop;
static struct wsconn_server *daemon_server;
static struct loop_io        daemon_listen_io;
static struct loop_timer     daemon_accept_timer;
static struct feed          *daemon_feed;
static int                   daemon_listen_fd = -1;
static const char           *daemon_unix_path; /* removed at exit */

static const struct option daemon_options[] = {
    {"db", required_argument, NULL, 'd'},
    {"listen", required_argument, NULL, 'l'},
    {"origin", required_argument, NULL, 'o'},
    {"publish", required_argument, NULL, 'P'},
    {"max-conns", required_argument, NULL, 'm'},
    {"max-message", required_argument, NULL, 'M'},
    {"ping", required_argument, NULL, 'i'},
    {"handshake-timeout", required_argument, NULL, 't'},
    {"poll-ms", required_argument, NULL, 'p'},
    {"private", required_argument, NULL, 'R'},
    {"require-login", no_argument, NULL, 'L'},
    {"user-header", required_argument, NULL, 'u'},
    {"jwt-key", required_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* Prints the usage text. */
static void
daemon_usage(FILE *f)
{
	fputs("usage: litepush-ws --db PATH [--listen ADDR] [options]\n"
	      "\n"
	      "Serves the rows of an SQLite events table over WebSocket: each\n"
	      "event is a text frame {\"id\":..,\"channel\":..,\"event\":..,"
	      "\"data\":..}.\n"
	      "Connect to /any/path?channel=a&channel=b[&lastEventId=N|"
	      "&backlog=N].\n"
	      "\n"
	      "  --db PATH                 the event store (required)\n"
	      "  --listen ADDR             HOST:PORT or unix:PATH "
	      "(127.0.0.1:8131)\n"
	      "  --origin URL              an allowed browser Origin; "
	      "repeatable, or a\n"
	      "                            list; \"*\" allows any (default: "
	      "pages on\n"
	      "                            this machine only: localhost, "
	      "127.0.0.0/8, [::1])\n"
	      "  --publish GLOB            channels clients may publish to "
	      "(fnmatch;\n"
	      "                            {user}: the client's login); "
	      "repeatable, or a\n"
	      "                            list (default: none)\n"
	      "  --max-conns N             open WebSockets at most (10000); "
	      "then 503\n"
	      "  --max-message BYTES       largest client message (65536); "
	      "then close 1009\n"
	      "  --ping SECONDS            ping interval (30); silent for two: "
	      "closed;\n"
	      "                            0 turns pings off\n"
	      "                            (a client that stops reading is "
	      "dropped\n"
	      "                            after two intervals, or 60 s)\n"
	      "  --handshake-timeout SECONDS  to send the request in (10)\n"
	      "  --poll-ms MS              fallback poll of the store (1000)\n"
	      "  --private PATTERN         channels of that shape only for "
	      "the user\n"
	      "                            {user} names; repeatable\n"
	      "  --require-login           every other channel needs a login "
	      "too\n"
	      "  --jwt-key FILE            accept signed grants: an HS256 "
	      "secret or a\n"
	      "                            PEM public key (RS256, ES256)\n"
	      "  --user-header NAME        the request header a proxy sets to "
	      "the\n"
	      "                            logged-in user (trusted: see the "
	      "README)\n"
	      "  --help, --version\n"
	      "\n"
	      "Every option also comes from LITEPUSH_<NAME> (LITEPUSH_DB,\n"
	      "LITEPUSH_MAX_CONNS, ...); the command line wins.  A list is "
	      "separated\n"
	      "by commas or blanks, so one variable can hold several.\n",
	    f);
}

/* Writes the peer's address of an accepted socket to out. */
static void
daemon_peer_name(
    const struct sockaddr_storage *ss, socklen_t len, char *out, size_t outlen)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
		snprintf(out, outlen, "%s:%u", host, ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
		snprintf(out, outlen, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else
		snprintf(out, outlen, "%s", len > 0 ? "unix" : "-");
}

/* Accepts every waiting connection. */
static void
daemon_accept(struct loop_io *io, uint32_t events)
{
	(void)events;
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t               len = sizeof ss;
		char                    peer[80];
		int                     fd;

		fd = accept4(io->fd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* Level-triggered: pause, or it would spin. */
				proc_log(
				    "accept: %s (pausing)", strerror(errno));
				loop_io_stop(daemon_loop, io);
				loop_timer_start(daemon_loop,
				    &daemon_accept_timer,
				    DAEMON_ACCEPT_PAUSE_MS);
			}
			return; /* EAGAIN: all taken */
		}
		daemon_peer_name(&ss, len, peer, sizeof peer);
		wsconn_accept(daemon_server, fd, peer);
	}
}

/* Returns the address listened on, with the port a ":0" picked. */
static const char *
daemon_listen_name(const char *addr, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t               sslen = sizeof ss;

	if (strncmp(addr, "unix:", 5) == 0 ||
	    getsockname(daemon_listen_fd, (struct sockaddr *)&ss, &sslen) != 0)
		return addr;
	daemon_peer_name(&ss, sslen, out, len);
	return out;
}

/* Resumes accepting after a pause for descriptors. */
static void
daemon_accept_resume(struct loop_timer *timer)
{
	(void)timer;
	if (!proc_daemon_ending() && !daemon_listen_io.started)
		loop_io_start(daemon_loop, &daemon_listen_io, daemon_listen_fd,
		    EPOLLIN, daemon_accept, NULL);
}

/* The last connection has gone: at shutdown, that is the end. */
static void
daemon_empty(struct wsconn_server *server, void *arg)
{
	(void)server;
	(void)arg;
	proc_daemon_done();
}

/* After SIGTERM or SIGINT: no more accepting; every WebSocket closes with 1001.
 */
static void
daemon_shutdown(void *arg)
{
	(void)arg;
	loop_io_stop(daemon_loop, &daemon_listen_io);
	close(daemon_listen_fd);
	daemon_listen_fd = -1;
	wsconn_shutdown(daemon_server);
}

/* After SIGUSR1: the feed's counters. */
static void
daemon_stats(char *out, size_t len, void *arg)
{
	(void)arg;
	if (daemon_feed != NULL)
		feed_format_stats(daemon_feed, out, len);
	else
		snprintf(out, len, "{}");
}

/* The options: the configuration points into them, so they live as long
 * as the process (and leak checkers see them reachable on every exit). */
static char **daemon_args;

/* --jwt-key, loaded; kept for the process's life like the options. */
static struct grant_key *daemon_key;

int
main(int argc, char **argv)
{
	struct wsconn_config config = {0};
	struct feed_options  feed_options = {0};
	struct feed         *feed;
	const char          *listen_addr = "127.0.0.1:8131";
	const char         *origins[DAEMON_LIST_MAX], *publish[DAEMON_LIST_MAX];
	static const char  *private_rules[DAEMON_LIST_MAX];
	struct access_rules access = {private_rules, 0, 0};
	char                err[512];
	int                 nargs, c;
	struct proc_daemon_hooks hooks = {daemon_shutdown, daemon_stats, NULL};

	proc_set_name("litepush-ws");

	config.max_conns = 10000;
	config.max_message = 65536;
	config.ping_ms = 30000;
	config.handshake_timeout_ms = 10000;
	config.backlog_max = DAEMON_BACKLOG_MAX;
	config.origins = origins;
	config.publish = publish;
	config.access = &access;
	config.log = stderr;

	daemon_args = options_with_env(argc, argv, "h", daemon_options, &nargs);
	if (daemon_args == NULL) {
		proc_log("out of memory");
		return 1;
	}
	while ((c = getopt_long(
	            nargs, daemon_args, "h", daemon_options, NULL)) != -1) {
		switch (c) {
		case 'd':
			feed_options.db_path = optarg;
			config.db_path = optarg;
			break;
		case 'l':
			listen_addr = proc_listen_option(optarg);
			break;
		case 'o':
			proc_list_option("origin", optarg, origins,
			    &config.norigins, DAEMON_LIST_MAX);
			break;
		case 'P':
			proc_checked_list_option("publish", optarg, publish,
			    &config.npublish, DAEMON_LIST_MAX,
			    publish_pattern_valid);
			break;
		case 'm':
			config.max_conns = proc_number_option(
			    "max-conns", optarg, 0, INT32_MAX);
			break;
		case 'M':
			config.max_message = (uint64_t)proc_number_option(
			    "max-message", optarg, 1, INT32_MAX);
			break;
		case 'i':
			config.ping_ms =
			    proc_number_option("ping", optarg, 0, 86400) * 1000;
			break;
		case 't':
			config.handshake_timeout_ms =
			    proc_number_option(
			        "handshake-timeout", optarg, 1, 86400) *
			    1000;
			break;
		case 'p':
			feed_options.poll_ms = (int)proc_number_option(
			    "poll-ms", optarg, 1, 86400000);
			break;
		case 'R':
			proc_private_option(optarg, private_rules,
			    &access.npatterns, DAEMON_LIST_MAX);
			break;
		case 'L':
			access.require_login = 1;
			break;
		case 'u':
			config.user_header = optarg;
			break;
		case 'j':
			grant_key_free(daemon_key);
			if (grant_key_load(
			        optarg, &daemon_key, err, sizeof err) != 0)
				proc_usage_error("--jwt-key: %s", err);
			config.key = daemon_key;
			break;
		default:
			proc_last_option(c, daemon_usage);
		}
	}
	proc_options_done(nargs, daemon_args, feed_options.db_path);
	/* A client that stops reading is dropped after two ping intervals
	 * (60 s without pings), as litepush-sse does after two keepalives. */
	config.stall_ms =
	    config.ping_ms > 0 ? 2 * config.ping_ms : DAEMON_STALL_MS;

	proc_raise_nofile();
	proc_memory_returns();
	daemon_loop = loop_create();
	if (daemon_loop == NULL) {
		proc_log("cannot create the event loop: %s", strerror(errno));
		return 1;
	}
	proc_daemon_signals();
	proc_daemon_start(daemon_loop, &hooks);
	daemon_listen_fd = listen_open(listen_addr, 0, err, sizeof err);
	if (daemon_listen_fd < 0) {
		proc_log("%s", err);
		return 1;
	}
	if (strncmp(listen_addr, "unix:", 5) == 0) {
		/* As reachable as a loopback port: the proxy may be another
		 * user. */
		daemon_unix_path = listen_addr + 5;
		chmod(daemon_unix_path, 0666);
	}
	feed = feed_create(daemon_loop, &feed_options, err, sizeof err);
	if (feed == NULL) {
		proc_log("%s", err);
		return 1;
	}
	daemon_feed = feed;
	if (feed_store_error(feed) != NULL)
		proc_log("%s (new connections get 503 until it opens)",
		    feed_store_error(feed));
	daemon_server = wsconn_server_create(
	    daemon_loop, feed, &config, daemon_empty, NULL);
	if (daemon_server == NULL) {
		proc_log("out of memory");
		return 1;
	}
	loop_timer_init(&daemon_accept_timer, daemon_accept_resume, NULL);
	if (loop_io_start(daemon_loop, &daemon_listen_io, daemon_listen_fd,
	        EPOLLIN, daemon_accept, NULL) != 0) {
		proc_log(
		    "cannot watch the listening socket: %s", strerror(errno));
		return 1;
	}
	proc_log("listening on %s",
	    daemon_listen_name(listen_addr, err, sizeof err));
	if (loop_run(daemon_loop) != 0)
		proc_log("event loop failed: %s", strerror(errno));

	if (daemon_listen_fd >= 0) {
		loop_io_stop(daemon_loop, &daemon_listen_io);
		close(daemon_listen_fd);
	}
	if (daemon_unix_path != NULL)
		unlink(daemon_unix_path);
	loop_timer_stop(daemon_loop, &daemon_accept_timer);
	proc_daemon_stop();
	wsconn_server_free(daemon_server);
	daemon_feed = NULL;
	feed_free(feed);
	loop_free(daemon_loop);
	options_free(daemon_args);
	return 0;
}
