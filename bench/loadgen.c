/* loadgen.c: litepush-bench, the load generator: N SSE or WebSocket streams, a paced publisher, latency and loss. */
#include "config.h"

#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

/*
 * One thread runs every subscriber on one epoll loop; a second thread
 * publishes, so that its pacing does not depend on how busy the receiving
 * side is.  Each event's data starts "s=<seq> t=<publish CLOCK_REALTIME ns> "
 * and is padded with 'x' to the requested size; a subscriber finds "s=" in
 * whatever it received (an SSE data field, litepush-ws's JSON envelope or
 * nchan's raw message), so one parser serves every server.
 *
 * A run: ramp the connections up (a bounded number of handshakes in flight,
 * so that no listen backlog overflows), settle, sample the servers' CPU and
 * the feed counters, publish for --duration seconds, drain until every
 * stream has everything or --drain seconds pass, sample again, report.
 *
 * Note that the receiving side is single-threaded on purpose: on a 2-core
 * machine a second receiving thread would only steal the server's core.
 * Very high delivery rates are then bounded by this process; the JSON says
 * how much CPU it used (bench_cpu_s) so that this shows.
 */

#define BENCH_MAX_EVENTS   256
#define BENCH_INBUF        65536
#define BENCH_HIST_SUB     64 /* sub-buckets per power of two: ~1.6% precision */
#define BENCH_HIST_BUCKETS (48 * BENCH_HIST_SUB)
#define BENCH_MAX_GROUPS   8
#define BENCH_MAX_PIDS     256

enum loadgen_proto { BENCH_SSE, BENCH_WS };

enum loadgen_conn_state {
	CONN_IDLE,       /* not started */
	CONN_CONNECTING, /* connect() in progress */
	CONN_HEADERS,    /* request sent, reading the response head */
	CONN_STREAMING,  /* 200 / 101 received */
	CONN_FAILED,     /* never streamed */
	CONN_CLOSED,     /* streamed, then closed by the server */
};

/* One subscriber stream. */
struct loadgen_conn {
	int                     fd;
	enum loadgen_conn_state state;
	int                     index;
	/* Input not yet parsed. */
	char  *in;
	size_t inlen;
	/* HTTP chunked body: bytes left in the chunk; -1 reading a size line.
	 */
	int     chunked;
	int64_t chunk_left;
	int     chunk_crlf; /* CRLF after the chunk data still to skip */
	/* SSE: the current line, and the data of the event being built. */
	char  *line;
	size_t linelen, linecap;
	int    line_cr; /* the last byte seen was CR */
	char  *data;
	size_t datalen, datacap;
	int    has_data;
	/* WebSocket: a fragmented message being assembled. */
	char  *msg;
	size_t msglen, msgcap;
	/* Sequence bookkeeping. */
	uint8_t *seen;    /* bitmap of received sequence numbers */
	size_t   seencap; /* in bits */
	uint64_t received, distinct, repeated, out_of_order, max_seq;
	char    *fail_reason;
	double   started; /* when it was started (monotonic s) */
};

struct loadgen_group {
	char name[64];
	int  roots[BENCH_MAX_PIDS];
	int  tree[BENCH_MAX_PIDS]; /* the root's descendants count too */
	int  nroots;
	/* Sampled at the start of the window. */
	int    pids[BENCH_MAX_PIDS];
	double cpu_start[BENCH_MAX_PIDS];
	int    npids;
	double cpu_s;
	long   peak_rss_kb, rss_kb;
	long   rss_before_kb; /* before the first connection */
	int    nprocs;
};

struct loadgen_feed_stats {
	int  ok;
	char line[1024];
};

/* The command line, and what parsing --url made of it. */
struct loadgen_options {
	const char        *url;
	enum loadgen_proto proto;
	char               host[64];
	int                port;
	char               path[1024];
	int                conns;
	int                inflight;
	double ramp_rate; /* connections per second, 0 = as fast as inflight
	                     allows */
	double duration;
	double rate; /* events per second; <0 = as fast as possible; 0 = none */
	int    burst; /* > 0: publish this many at once, then stop */
	int    size;
	double drain;
	double settle;
	double connect_timeout;
	const char *db;
	const char *publish_url;
	const char *channel;
	const char *label;
	const char *json_path;
	const char *header; /* one more request header line, or NULL */
	int         busy_ms;
	const char *feed_pid_log[4];
	int         nfeed;
	int         quiet;
};

/* Delivery latencies, in microseconds. */
struct loadgen_latency {
	uint64_t buckets[BENCH_HIST_BUCKETS];
	uint64_t min, max, count;
};

/*
 * What the publisher thread reports.  Note that the receiving loop polls
 * done and published while the publisher runs: volatile, so that each poll
 * reads them again (a stale value costs one more turn of the loop); the
 * rest is read only after pthread_join().
 */
struct loadgen_publisher {
	volatile int      done;
	volatile uint64_t published, errors;
	char              error_text[256];
	double            start, end; /* the publishing window (monotonic s) */
};

/* One run of the generator: passed to every function that needs its state. */
struct loadgen {
	struct loadgen_options opt;
	struct loadgen_group   groups[BENCH_MAX_GROUPS];
	int                    ngroups;
	struct loadgen_conn   *conns; /* opt.conns of them */
	int                    epfd;
	struct loadgen_latency latency;
	int                    n_streaming, n_failed, n_closed;
	int      n_done_connecting; /* handshakes over, either way */
	uint64_t total_received;
	double   last_receipt; /* monotonic s */
	struct loadgen_publisher pub;
};

/* Prints "litepush-bench: " and the message on stderr, then exits 2. */
static void loadgen_die(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));
static void
loadgen_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("litepush-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

/* realloc() that dies instead of returning NULL. */
static void *
loadgen_xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (p == NULL)
		loadgen_die("out of memory");
	return p;
}

/* The monotonic clock, in seconds: for durations and deadlines. */
static double
loadgen_now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The wall clock in ns: events carry it, so latency spans processes. */
static uint64_t
loadgen_now_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* --- latency histogram (log-linear, in microseconds) ------------------------
 */

/* The bucket of v: exact below 128, then 64 per power of two. */
static int
loadgen_hist_index(uint64_t v)
{
	int msb, shift, idx;

	if (v < 2 * BENCH_HIST_SUB)
		return (int)v;
	msb = 63 - __builtin_clzll(v);
	shift = msb - 6;
	idx =
	    (shift + 1) * BENCH_HIST_SUB + (int)((v >> shift) - BENCH_HIST_SUB);
	return idx < BENCH_HIST_BUCKETS ? idx : BENCH_HIST_BUCKETS - 1;
}

/* The middle of bucket idx. */
static uint64_t
loadgen_hist_value(int idx)
{
	int shift;

	if (idx < 2 * BENCH_HIST_SUB)
		return (uint64_t)idx;
	shift = idx / BENCH_HIST_SUB - 1;
	return ((uint64_t)(idx % BENCH_HIST_SUB + BENCH_HIST_SUB) << shift) +
	       ((1ull << shift) >> 1);
}

/* Books one latency of `us` microseconds. */
static void
loadgen_hist_add(struct loadgen_latency *h, uint64_t us)
{
	h->buckets[loadgen_hist_index(us)]++;
	h->count++;
	if (us < h->min)
		h->min = us;
	if (us > h->max)
		h->max = us;
}

/* The p-th percentile, within the exact minimum and maximum; 0 when empty. */
static uint64_t
loadgen_hist_percentile(const struct loadgen_latency *h, double p)
{
	uint64_t want, sum = 0;
	int      i;

	if (h->count == 0)
		return 0;
	want = (uint64_t)(p / 100.0 * h->count + 0.5);
	if (want == 0)
		want = 1;
	for (i = 0; i < BENCH_HIST_BUCKETS; i++) {
		sum += h->buckets[i];
		if (sum >= want) {
			uint64_t v = loadgen_hist_value(i);

			return v < h->min ? h->min : v > h->max ? h->max : v;
		}
	}
	return h->max;
}

/* --- receiving an event
 * -------------------------------------------------------- */

/* Takes one message (SSE data, a WebSocket text) and books its sequence number.
 */
static void
loadgen_conn_message(
    struct loadgen *lg, struct loadgen_conn *c, const char *p, size_t n)
{
	const char *s = memmem(p, n, "s=", 2), *end = p + n;
	uint64_t    seq = 0, t = 0, now;
	size_t      byte;

	if (s == NULL)
		return; /* not one of ours */
	for (s += 2; s < end && isdigit((unsigned char)*s); s++)
		seq = seq * 10 + (uint64_t)(*s - '0');
	if (end - s < 3 || s[0] != ' ' || s[1] != 't' || s[2] != '=')
		return;
	for (s += 3; s < end && isdigit((unsigned char)*s); s++)
		t = t * 10 + (uint64_t)(*s - '0');
	now = loadgen_now_real_ns();
	loadgen_hist_add(&lg->latency, now > t ? (now - t) / 1000 : 0);
	lg->last_receipt = loadgen_now_mono();
	c->received++;
	lg->total_received++;
	if (seq >= c->seencap) {
		size_t cap = c->seencap ? c->seencap : 4096;

		while (cap <= seq)
			cap *= 2;
		c->seen = loadgen_xrealloc(c->seen, cap / 8);
		memset(c->seen + c->seencap / 8, 0, (cap - c->seencap) / 8);
		c->seencap = cap;
	}
	byte = seq / 8;
	if (c->seen[byte] & (1u << (seq % 8))) {
		c->repeated++;
		return;
	}
	c->seen[byte] |= (uint8_t)(1u << (seq % 8));
	c->distinct++;
	if (seq < c->max_seq)
		c->out_of_order++;
	else
		c->max_seq = seq;
}

/* --- SSE, by the WHATWG event-stream rules
 * --------------------------------------- */

/* Takes one SSE line: a field, a comment, or the blank line that dispatches. */
static void
loadgen_sse_line(
    struct loadgen *lg, struct loadgen_conn *c, const char *line, size_t n)
{
	const char *colon, *value;
	size_t      flen, vlen;

	if (n == 0) { /* dispatch */
		if (c->has_data) {
			/* The data buffer ends with the LF of its last line. */
			loadgen_conn_message(
			    lg, c, c->data, c->datalen ? c->datalen - 1 : 0);
		}
		c->datalen = 0;
		c->has_data = 0;
		return;
	}
	if (line[0] == ':')
		return; /* comment, e.g. keepalive */
	colon = memchr(line, ':', n);
	if (colon != NULL) {
		flen = (size_t)(colon - line);
		value = colon + 1;
		vlen = n - flen - 1;
		if (vlen > 0 && *value == ' ') {
			value++;
			vlen--;
		}
	} else {
		flen = n;
		value = "";
		vlen = 0;
	}
	if (flen == 4 && memcmp(line, "data", 4) == 0) {
		if (c->datalen + vlen + 1 > c->datacap) {
			c->datacap = (c->datalen + vlen + 1) * 2;
			c->data = loadgen_xrealloc(c->data, c->datacap);
		}
		memcpy(c->data + c->datalen, value, vlen);
		c->datalen += vlen;
		c->data[c->datalen++] = '\n';
		c->has_data = 1;
	}
	/* id, event, retry: not needed for the measurement. */
}

/* Feeds body bytes to the SSE line splitter (CRLF, LF or CR end a line). */
static void
loadgen_sse_body(
    struct loadgen *lg, struct loadgen_conn *c, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char ch = p[i];

		if (c->line_cr) {
			c->line_cr = 0;
			if (ch == '\n')
				continue;
		}
		if (ch == '\r' || ch == '\n') {
			c->line_cr = ch == '\r';
			loadgen_sse_line(lg, c, c->line, c->linelen);
			c->linelen = 0;
			continue;
		}
		if (c->linelen == c->linecap) {
			c->linecap = c->linecap ? c->linecap * 2 : 256;
			c->line = loadgen_xrealloc(c->line, c->linecap);
		}
		c->line[c->linelen++] = ch;
	}
}

/* --- WebSocket frames (RFC 6455; the server's are unmasked)
 * ---------------------- */

/* Sends one masked control frame (payload cut to 125 bytes); -1 on error. */
static int
loadgen_ws_send(
    struct loadgen_conn *c, int opcode, const char *payload, size_t n)
{
	unsigned char frame[2 + 4 + 125];
	uint32_t      mask = (uint32_t)rand();
	size_t        i;

	if (n > 125)
		n = 125;
	frame[0] = (unsigned char)(0x80 | opcode);
	frame[1] = (unsigned char)(0x80 | n);
	memcpy(frame + 2, &mask, 4);
	for (i = 0; i < n; i++)
		frame[6 + i] = (unsigned char)(payload[i] ^ frame[2 + i % 4]);
	return send(c->fd, frame, 6 + n, MSG_NOSIGNAL) == (ssize_t)(6 + n) ? 0
	                                                                   : -1;
}

/* Parses the frames in c->in; returns -1 when the connection should close. */
static int
loadgen_ws_frames(struct loadgen *lg, struct loadgen_conn *c)
{
	size_t off = 0;

	for (;;) {
		const unsigned char *p = (const unsigned char *)c->in + off;
		size_t               avail = c->inlen - off, head = 2;
		uint64_t             len;
		int                  fin, opcode;

		if (avail < 2)
			break;
		fin = p[0] & 0x80;
		opcode = p[0] & 0x0f;
		len = p[1] & 0x7f;
		if (p[1] & 0x80)
			return -1; /* a server must not mask */
		if (len == 126) {
			if (avail < 4)
				break;
			len = (uint64_t)p[2] << 8 | p[3];
			head = 4;
		} else if (len == 127) {
			int i;

			if (avail < 10)
				break;
			for (len = 0, i = 2; i < 10; i++)
				len = len << 8 | p[i];
			head = 10;
		}
		/* Note that a frame must fit the input buffer: events are
		 * small. */
		if (head + len > BENCH_INBUF)
			return -1;
		if (head + len > avail)
			break;
		p += head;
		switch (opcode) {
		case 0x0:
		case 0x1:
		case 0x2:
			if (opcode != 0 || !fin) {
				if (opcode != 0)
					c->msglen = 0;
				if (c->msglen + len > c->msgcap) {
					c->msgcap = (c->msglen + len) * 2;
					c->msg =
					    loadgen_xrealloc(c->msg, c->msgcap);
				}
				memcpy(c->msg + c->msglen, p, len);
				c->msglen += len;
				if (fin)
					loadgen_conn_message(
					    lg, c, c->msg, c->msglen);
			} else
				loadgen_conn_message(
				    lg, c, (const char *)p, len);
			break;
		case 0x8:
			loadgen_ws_send(
			    c, 0x8, (const char *)p, len >= 2 ? 2 : 0);
			return -1;
		case 0x9:
			loadgen_ws_send(c, 0xA, (const char *)p, len);
			break;
		default:
			break;
		}
		off += head + len;
	}
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
	return 0;
}

/* --- HTTP
 * ------------------------------------------------------------------------- */

/* Decodes chunked framing of c->in into the SSE parser; -1 on bad framing or
 * the last chunk. */
static int
loadgen_http_chunks(struct loadgen *lg, struct loadgen_conn *c)
{
	size_t off = 0;

	while (off < c->inlen) {
		if (c->chunk_crlf) {
			char ch = c->in[off];

			if (ch == '\r' || ch == '\n') {
				off++;
				if (ch == '\n')
					c->chunk_crlf = 0;
				continue;
			}
			c->chunk_crlf = 0;
		}
		if (c->chunk_left < 0) {
			char   *nl = memchr(c->in + off, '\n', c->inlen - off);
			int64_t size = 0;
			char   *q;

			if (nl == NULL)
				break;
			for (q = c->in + off; isxdigit((unsigned char)*q); q++)
				size = size * 16 +
				       (isdigit((unsigned char)*q)
				               ? *q - '0'
				               : (tolower((unsigned char)*q) -
				                     'a' + 10));
			if (q == c->in + off)
				return -1;
			off = (size_t)(nl + 1 - c->in);
			if (size == 0)
				return -1; /* end of body */
			c->chunk_left = size;
			continue;
		}
		{
			size_t take = c->inlen - off;

			if ((int64_t)take > c->chunk_left)
				take = (size_t)c->chunk_left;
			loadgen_sse_body(lg, c, c->in + off, take);
			off += take;
			c->chunk_left -= (int64_t)take;
			if (c->chunk_left == 0) {
				c->chunk_left = -1;
				c->chunk_crlf = 1;
			}
		}
	}
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
	return 0;
}

static void loadgen_conn_close(struct loadgen *lg, struct loadgen_conn *c,
    enum loadgen_conn_state state, const char *why);

/* Parses the response head; on success moves to streaming and leaves the rest
 * in c->in. */
static void
loadgen_http_head(struct loadgen *lg, struct loadgen_conn *c)
{
	char  *end = memmem(c->in, c->inlen, "\r\n\r\n", 4), *q;
	size_t headlen;
	int    status;

	if (end == NULL) {
		if (c->inlen >= BENCH_INBUF)
			loadgen_conn_close(
			    lg, c, CONN_FAILED, "response head too large");
		return;
	}
	*end = '\0';
	headlen = (size_t)(end + 4 - c->in);
	if (sscanf(c->in, "HTTP/1.%*d %d", &status) != 1) {
		loadgen_conn_close(lg, c, CONN_FAILED, "not an HTTP response");
		return;
	}
	if ((lg->opt.proto == BENCH_SSE && status != 200) ||
	    (lg->opt.proto == BENCH_WS && status != 101)) {
		char why[64];

		snprintf(why, sizeof why, "HTTP status %d", status);
		loadgen_conn_close(lg, c, CONN_FAILED, why);
		return;
	}
	for (q = c->in; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	c->chunked = strstr(c->in, "\ntransfer-encoding: chunked") != NULL;
	memmove(c->in, c->in + headlen, c->inlen - headlen);
	c->inlen -= headlen;
	c->state = CONN_STREAMING;
	lg->n_streaming++;
	lg->n_done_connecting++;
}

/* Reads what there is and parses it. */
static void
loadgen_conn_readable(struct loadgen *lg, struct loadgen_conn *c)
{
	for (;;) {
		ssize_t n =
		    recv(c->fd, c->in + c->inlen, BENCH_INBUF - c->inlen, 0);

		if (n == 0) {
			loadgen_conn_close(lg, c,
			    c->state == CONN_STREAMING ? CONN_CLOSED
			                               : CONN_FAILED,
			    "closed by the server");
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			loadgen_conn_close(lg, c,
			    c->state == CONN_STREAMING ? CONN_CLOSED
			                               : CONN_FAILED,
			    strerror(errno));
			return;
		}
		c->inlen += (size_t)n;
		if (c->state == CONN_HEADERS) {
			loadgen_http_head(lg, c);
			if (c->state == CONN_HEADERS)
				continue;
			if (c->state != CONN_STREAMING)
				return;
		}
		if (lg->opt.proto == BENCH_WS) {
			if (loadgen_ws_frames(lg, c) < 0) {
				loadgen_conn_close(
				    lg, c, CONN_CLOSED, "WebSocket closed");
				return;
			}
		} else if (c->chunked) {
			if (loadgen_http_chunks(lg, c) < 0) {
				loadgen_conn_close(
				    lg, c, CONN_CLOSED, "end of chunked body");
				return;
			}
		} else {
			loadgen_sse_body(lg, c, c->in, c->inlen);
			c->inlen = 0;
		}
		if (c->inlen >= BENCH_INBUF)
			loadgen_die("internal: input buffer full");
	}
}

/* --- connections
 * ---------------------------------------------------------------------- */

/* Closes c, counts it as failed or closed, and keeps the first reason. */
static void
loadgen_conn_close(struct loadgen *lg, struct loadgen_conn *c,
    enum loadgen_conn_state state, const char *why)
{
	if (c->fd >= 0) {
		epoll_ctl(lg->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	if (c->state == CONN_STREAMING)
		lg->n_streaming--;
	else if (c->state == CONN_CONNECTING || c->state == CONN_HEADERS)
		lg->n_done_connecting++;
	if (state == CONN_FAILED)
		lg->n_failed++;
	else
		lg->n_closed++;
	c->state = state;
	if (c->fail_reason == NULL)
		c->fail_reason = strdup(why);
}

/* Sends the SSE request or the WebSocket upgrade once connected. */
static void
loadgen_conn_send_request(struct loadgen *lg, struct loadgen_conn *c)
{
	const char *header = lg->opt.header != NULL ? lg->opt.header : "";
	const char *end = lg->opt.header != NULL ? "\r\n" : "";
	char        req[4096];
	int         n;

	if (lg->opt.proto == BENCH_WS)
		n = snprintf(req, sizeof req,
		    "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
		    "Connection: Upgrade\r\nSec-WebSocket-Key: "
		    "dGhlIHNhbXBsZSBub25jZQ==\r\n"
		    "Sec-WebSocket-Version: 13\r\n%s%s\r\n",
		    lg->opt.path, lg->opt.host, lg->opt.port, header, end);
	else
		n = snprintf(req, sizeof req,
		    "GET %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: "
		    "text/event-stream\r\n"
		    "Cache-Control: no-cache\r\n%s%s\r\n",
		    lg->opt.path, lg->opt.host, lg->opt.port, header, end);
	if (n < 0 || (size_t)n >= sizeof req) {
		loadgen_conn_close(lg, c, CONN_FAILED, "request too long");
		return;
	}
	if (send(c->fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		loadgen_conn_close(
		    lg, c, CONN_FAILED, "cannot send the request");
		return;
	}
	c->state = CONN_HEADERS;
}

/* Starts connection i; sources spread over 127.0.0.2.. past 10,000 connections.
 */
static void
loadgen_conn_start(struct loadgen *lg, struct loadgen_conn *c)
{
	struct sockaddr_in sa;
	struct epoll_event ev;
	int                one = 1;

	c->started = loadgen_now_mono();
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		c->state = CONN_CONNECTING;
		loadgen_conn_close(lg, c, CONN_FAILED, strerror(errno));
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (lg->opt.conns > 10000) {
		memset(&sa, 0, sizeof sa);
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr =
		    htonl(0x7f000002u + (uint32_t)(c->index % 32));
#ifdef IP_BIND_ADDRESS_NO_PORT
		setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof one);
#endif
		bind(c->fd, (struct sockaddr *)&sa, sizeof sa);
	}
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)lg->opt.port);
	inet_pton(AF_INET, lg->opt.host, &sa.sin_addr);
	c->state = CONN_CONNECTING;
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
	ev.data.ptr = c;
	epoll_ctl(lg->epfd, EPOLL_CTL_ADD, c->fd, &ev);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0 &&
	    errno != EINPROGRESS)
		loadgen_conn_close(lg, c, CONN_FAILED, strerror(errno));
}

/* Handles what epoll reported for c. */
static void
loadgen_conn_event(struct loadgen *lg, struct loadgen_conn *c, uint32_t events)
{
	if (c->state == CONN_CONNECTING) {
		int                err = 0;
		socklen_t          len = sizeof err;
		struct epoll_event ev;

		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err != 0) {
			loadgen_conn_close(lg, c, CONN_FAILED, strerror(err));
			return;
		}
		memset(&ev, 0, sizeof ev);
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.ptr = c;
		epoll_ctl(lg->epfd, EPOLL_CTL_MOD, c->fd, &ev);
		loadgen_conn_send_request(lg, c);
		return;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		loadgen_conn_readable(lg, c);
}

/* Runs the loop for up to `seconds`, or until done() says so. */
static void
loadgen_loop_run_for(
    struct loadgen *lg, double seconds, int (*done)(struct loadgen *))
{
	struct epoll_event events[BENCH_MAX_EVENTS];
	double             end = loadgen_now_mono() + seconds;

	while (!(done != NULL && done(lg))) {
		double left = end - loadgen_now_mono();
		int    n, i;

		if (left <= 0)
			break;
		n = epoll_wait(lg->epfd, events, BENCH_MAX_EVENTS,
		    left > 0.05 ? 50 : (int)(left * 1000) + 1);
		for (i = 0; i < n; i++)
			loadgen_conn_event(
			    lg, events[i].data.ptr, events[i].events);
	}
}

/*
 * Fails the connections among the first n whose handshake has taken longer
 * than --connect-timeout: a server that stopped accepting (out of
 * descriptors) must not stall the ramp for ever.
 */
static void
loadgen_expire_handshakes(struct loadgen *lg, int n)
{
	double now = loadgen_now_mono();
	int    i;

	for (i = 0; i < n; i++)
		if ((lg->conns[i].state == CONN_CONNECTING ||
		        lg->conns[i].state == CONN_HEADERS) &&
		    now - lg->conns[i].started > lg->opt.connect_timeout)
			loadgen_conn_close(lg, &lg->conns[i], CONN_FAILED,
			    "handshake timed out");
}

/* Opens every connection, at most opt.inflight handshakes at a time. */
static double
loadgen_ramp_up(struct loadgen *lg)
{
	const struct loadgen_options *opt = &lg->opt;
	struct epoll_event            events[BENCH_MAX_EVENTS];
	double                        start = loadgen_now_mono(), deadline;
	double                        scanned = start;
	int                           next = 0;

	while (lg->n_done_connecting < opt->conns) {
		int n, i;

		while (
		    next < opt->conns &&
		    next - lg->n_done_connecting < opt->inflight &&
		    (opt->ramp_rate <= 0 ||
		        next < (loadgen_now_mono() - start) * opt->ramp_rate +
		                   1)) {
			loadgen_conn_start(lg, &lg->conns[next]);
			next++;
		}
		n = epoll_wait(lg->epfd, events, BENCH_MAX_EVENTS, 10);
		for (i = 0; i < n; i++)
			loadgen_conn_event(
			    lg, events[i].data.ptr, events[i].events);
		if (next == opt->conns) {
			break;
		}
		if (loadgen_now_mono() - scanned > 0.5) {
			scanned = loadgen_now_mono();
			loadgen_expire_handshakes(lg, next);
		}
	}
	/* The last handshakes. */
	deadline = loadgen_now_mono() + opt->connect_timeout;
	while (lg->n_done_connecting < opt->conns &&
	       loadgen_now_mono() < deadline) {
		int n = epoll_wait(lg->epfd, events, BENCH_MAX_EVENTS, 10), i;

		for (i = 0; i < n; i++)
			loadgen_conn_event(
			    lg, events[i].data.ptr, events[i].events);
	}
	for (int i = 0; i < opt->conns; i++)
		if (lg->conns[i].state == CONN_CONNECTING ||
		    lg->conns[i].state == CONN_HEADERS)
			loadgen_conn_close(lg, &lg->conns[i], CONN_FAILED,
			    "handshake timed out");
	return loadgen_now_mono() - start;
}

/* --- the publisher
 * -------------------------------------------------------------------- */

/* Writes event seq's data into buf (size opt.size, at least the header). */
static size_t
loadgen_event_data(
    const struct loadgen *lg, char *buf, size_t cap, uint64_t seq)
{
	int n = snprintf(buf, cap, "s=%" PRIu64 " t=%" PRIu64 " ", seq,
	    loadgen_now_real_ns());

	if ((size_t)n < (size_t)lg->opt.size && (size_t)lg->opt.size < cap) {
		memset(buf + n, 'x', (size_t)lg->opt.size - (size_t)n);
		n = lg->opt.size;
	}
	buf[n] = '\0';
	return (size_t)n;
}

static void loadgen_publish_error(struct loadgen_publisher *pub,
    const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Counts a failed publication and keeps its message (the last one wins). */
static void
loadgen_publish_error(struct loadgen_publisher *pub, const char *fmt, ...)
{
	va_list ap;

	pub->errors++;
	va_start(ap, fmt);
	vsnprintf(pub->error_text, sizeof pub->error_text, fmt, ap);
	va_end(ap);
}

/* Sleeps until event seq is due (absolute schedule, so delays do not add up).
 */
static void
loadgen_publish_pace(const struct loadgen *lg, double start, uint64_t seq)
{
	double          due = start + (double)(seq - 1) / lg->opt.rate;
	struct timespec ts;

	if (lg->opt.rate <= 0)
		return;
	ts.tv_sec = (time_t)due;
	ts.tv_nsec = (long)((due - (double)ts.tv_sec) * 1e9);
	while (
	    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* Publishes through the store: one INSERT per transaction, as a real publisher.
 */
static void
loadgen_publish_sqlite(struct loadgen *lg)
{
	sqlite3      *db;
	sqlite3_stmt *st;
	char         *buf = loadgen_xrealloc(NULL, (size_t)lg->opt.size + 64);
	double        start, end;
	uint64_t      seq;

	if (sqlite3_open_v2(lg->opt.db, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK)
		loadgen_die(
		    "cannot open %s: %s", lg->opt.db, sqlite3_errmsg(db));
	sqlite3_busy_timeout(db, lg->opt.busy_ms);
	if (sqlite3_prepare_v2(db,
	        "INSERT INTO events(channel, data) VALUES(?, ?)", -1, &st,
	        NULL) != SQLITE_OK)
		loadgen_die("%s: %s", lg->opt.db, sqlite3_errmsg(db));
	start = loadgen_now_mono();
	lg->pub.start = start;
	end = start + lg->opt.duration;
	if (lg->opt.burst > 0 &&
	    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		loadgen_die("BEGIN: %s", sqlite3_errmsg(db));
	for (seq = 1;; seq++) {
		size_t n;

		if (lg->opt.burst > 0) {
			if (seq > (uint64_t)lg->opt.burst)
				break;
		} else {
			loadgen_publish_pace(lg, start, seq);
			if (loadgen_now_mono() >= end)
				break;
		}
		n = loadgen_event_data(lg, buf, (size_t)lg->opt.size + 64, seq);
		sqlite3_bind_text(st, 1, lg->opt.channel, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, buf, (int)n, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			loadgen_publish_error(
			    &lg->pub, "INSERT: %s", sqlite3_errmsg(db));
			seq--; /* numbers stay dense: a failed one is not lost
			        */
		} else if (lg->opt.burst == 0)
			lg->pub.published = seq;
		sqlite3_reset(st);
	}
	/* A burst is one transaction: all of it appears at the commit. */
	if (lg->opt.burst > 0) {
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
			lg->pub.published = seq - 1;
		else
			loadgen_publish_error(
			    &lg->pub, "COMMIT: %s", sqlite3_errmsg(db));
	}
	lg->pub.end = loadgen_now_mono();
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(buf);
}

/* Connects to host:port (blocking), or returns -1. */
static int
loadgen_publish_connect(const char *host, int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, host, &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

/* Reads one HTTP response (head and Content-Length body); returns its status or
 * -1. */
static int
loadgen_publish_response(int fd)
{
	char   head[8192];
	size_t len = 0;
	char  *end, *cl;
	long   body;
	int    status;

	for (;;) {
		ssize_t n = recv(fd, head + len, sizeof head - 1 - len, 0);

		if (n <= 0)
			return -1;
		len += (size_t)n;
		head[len] = '\0';
		if ((end = strstr(head, "\r\n\r\n")) != NULL)
			break;
		if (len == sizeof head - 1)
			return -1;
	}
	if (sscanf(head, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	for (char *q = head; q < end; q++)
		*q = (char)tolower((unsigned char)*q);
	cl = strstr(head, "\ncontent-length:");
	body = cl != NULL && cl < end ? strtol(cl + 16, NULL, 10) : 0;
	body -= (long)(len - (size_t)(end + 4 - head));
	while (body > 0) {
		ssize_t n = recv(fd, head,
		    sizeof head < (size_t)body ? sizeof head : (size_t)body, 0);

		if (n <= 0)
			return -1;
		body -= n;
	}
	return status;
}

/* Publishes through an HTTP endpoint (nchan's publisher): POST, keep-alive. */
static void
loadgen_publish_http(struct loadgen *lg)
{
	char     host[64], path[1024], *req, *body;
	int      port, fd = -1;
	double   start, end;
	uint64_t seq;

	if (sscanf(lg->opt.publish_url, "http://%63[^:/]:%d%1023s", host, &port,
	        path) != 3)
		loadgen_die("--publish-url must be http://HOST:PORT/PATH");
	req = loadgen_xrealloc(NULL, (size_t)lg->opt.size + 2048);
	body = loadgen_xrealloc(NULL, (size_t)lg->opt.size + 64);
	start = loadgen_now_mono();
	lg->pub.start = start;
	end = start + lg->opt.duration;
	for (seq = 1;; seq++) {
		size_t blen;
		int    n, status;

		if (lg->opt.burst > 0) {
			/* As fast as the publisher endpoint takes them. */
			if (seq > (uint64_t)lg->opt.burst)
				break;
		} else {
			loadgen_publish_pace(lg, start, seq);
			if (loadgen_now_mono() >= end)
				break;
		}
		if (fd < 0 && (fd = loadgen_publish_connect(host, port)) < 0) {
			loadgen_publish_error(
			    &lg->pub, "cannot connect to %s:%d", host, port);
			seq--;
			usleep(10000);
			continue;
		}
		blen = loadgen_event_data(
		    lg, body, (size_t)lg->opt.size + 64, seq);
		n = snprintf(req, (size_t)lg->opt.size + 2048,
		    "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: "
		    "text/plain\r\n"
		    "Content-Length: %zu\r\n\r\n%s",
		    path, host, port, blen, body);
		if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n ||
		    (status = loadgen_publish_response(fd)) < 0) {
			close(fd);
			fd = -1;
			loadgen_publish_error(
			    &lg->pub, "publisher connection lost");
			seq--;
			continue;
		}
		if (status < 200 || status > 299) {
			loadgen_publish_error(
			    &lg->pub, "publisher answered %d", status);
			seq--;
			continue;
		}
		lg->pub.published = seq;
	}
	lg->pub.end = loadgen_now_mono();
	if (fd >= 0)
		close(fd);
	free(req);
	free(body);
}

/* The publisher thread: publishes, then sets pub.done. */
static void *
loadgen_publisher(void *arg)
{
	struct loadgen *lg = arg;

	if (lg->opt.db != NULL)
		loadgen_publish_sqlite(lg);
	else if (lg->opt.publish_url != NULL)
		loadgen_publish_http(lg);
	lg->pub.done = 1;
	return NULL;
}

/* --- server processes from /proc
 * ------------------------------------------------------ */

/* CPU seconds (user + system) of pid so far, or -1 when it is gone. */
static double
loadgen_proc_cpu(int pid)
{
	char          path[64], buf[1024], *p;
	FILE         *f;
	unsigned long utime, stime;

	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof buf, f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	p = strrchr(buf, ')');
	if (p == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	        &utime, &stime) != 2)
		return -1;
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* A kB field of /proc/PID/status (VmRSS, VmHWM), or -1. */
static long
loadgen_proc_status_kb(int pid, const char *field)
{
	char   path[64], line[256];
	FILE  *f;
	long   kb = -1;
	size_t flen = strlen(field);

	snprintf(path, sizeof path, "/proc/%d/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
			kb = strtol(line + flen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

/* pid's parent, or -1. */
static int
loadgen_proc_ppid(int pid)
{
	char  path[64], buf[1024], *p;
	FILE *f;
	int   ppid = -1;

	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof buf, f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL)
		sscanf(p + 2, "%*c %d", &ppid);
	fclose(f);
	return ppid;
}

/* Lists a group's live roots, and the descendants of its PID+ roots, into pids.
 */
static int
loadgen_group_pids(const struct loadgen_group *g, int *pids)
{
	/* Static: 64 KiB is much for a stack frame; only main's thread calls
	 * this. */
	static int     all[8192][2];
	DIR           *d = opendir("/proc");
	struct dirent *e;
	int            expand[BENCH_MAX_PIDS], nall = 0, n = 0, grew = 1;

	for (int i = 0; i < g->nroots; i++)
		if (loadgen_proc_cpu(g->roots[i]) >= 0) {
			expand[n] = g->tree[i];
			pids[n++] = g->roots[i];
		}
	if (d == NULL)
		return n;
	while ((e = readdir(d)) != NULL && nall < 8192)
		if (isdigit((unsigned char)e->d_name[0])) {
			all[nall][0] = atoi(e->d_name);
			all[nall][1] = loadgen_proc_ppid(all[nall][0]);
			nall++;
		}
	closedir(d);
	while (grew) {
		grew = 0;
		for (int i = 0; i < nall && n < BENCH_MAX_PIDS; i++) {
			int in = 0, parent = 0;

			for (int j = 0; j < n; j++) {
				if (pids[j] == all[i][0])
					in = 1;
				if (pids[j] == all[i][1] && expand[j])
					parent = 1;
			}
			if (!in && parent) {
				expand[n] = 1;
				pids[n++] = all[i][0];
				grew = 1;
			}
		}
	}
	return n;
}

/* Samples the servers' resident memory before any connection is opened. */
static void
loadgen_groups_baseline(struct loadgen *lg)
{
	for (int i = 0; i < lg->ngroups; i++) {
		struct loadgen_group *g = &lg->groups[i];
		int pids[BENCH_MAX_PIDS], n = loadgen_group_pids(g, pids);

		g->rss_before_kb = 0;
		for (int j = 0; j < n; j++)
			g->rss_before_kb +=
			    loadgen_proc_status_kb(pids[j], "VmRSS");
	}
}

/* Samples the servers' processes and CPU time at the start of the window. */
static void
loadgen_groups_start(struct loadgen *lg)
{
	for (int i = 0; i < lg->ngroups; i++) {
		struct loadgen_group *g = &lg->groups[i];

		g->npids = loadgen_group_pids(g, g->pids);
		for (int j = 0; j < g->npids; j++)
			g->cpu_start[j] = loadgen_proc_cpu(g->pids[j]);
	}
}

/* Sums CPU used since loadgen_groups_start(), and memory, at its end. */
static void
loadgen_groups_end(struct loadgen *lg)
{
	for (int i = 0; i < lg->ngroups; i++) {
		struct loadgen_group *g = &lg->groups[i];
		int pids[BENCH_MAX_PIDS], n = loadgen_group_pids(g, pids);

		g->cpu_s = 0;
		g->peak_rss_kb = g->rss_kb = 0;
		g->nprocs = n;
		for (int j = 0; j < n; j++) {
			double cpu = loadgen_proc_cpu(pids[j]), before = 0;

			for (int k = 0; k < g->npids; k++)
				if (g->pids[k] == pids[j])
					before = g->cpu_start[k];
			if (cpu >= 0)
				g->cpu_s += cpu - before;
			g->peak_rss_kb +=
			    loadgen_proc_status_kb(pids[j], "VmHWM");
			g->rss_kb += loadgen_proc_status_kb(pids[j], "VmRSS");
		}
	}
}

/*
 * Asks a litepush daemon for its feed counters (SIGUSR1) and reads the
 * "feed_stats" JSON line it writes to its log.
 */
static void
loadgen_feed_sample(const char *spec, struct loadgen_feed_stats *out)
{
	char  log[1024], line[1024];
	int   pid;
	FILE *f;

	out->ok = 0;
	if (sscanf(spec, "%d:%1023s", &pid, log) != 2 ||
	    kill(pid, SIGUSR1) != 0)
		return;
	usleep(300000);
	if ((f = fopen(log, "r")) == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL)
		if (strstr(line, "\"feed_stats\"") != NULL) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out->line, sizeof out->line, "%s",
			    strchr(line, '{'));
			out->ok = 1;
		}
	fclose(f);
}

/* Returns counter `name` of a feed_stats line, or -1. */
static long long
loadgen_feed_counter(const struct loadgen_feed_stats *s, const char *name)
{
	char        key[64];
	const char *p;

	if (!s->ok)
		return -1;
	snprintf(key, sizeof key, "\"%s\":", name);
	p = strstr(s->line, key);
	return p != NULL ? strtoll(p + strlen(key), NULL, 10) : -1;
}

/* --- main
 * ------------------------------------------------------------------------------
 */

/* Whether the publisher is done and every stream has every event. */
static int
loadgen_all_delivered(struct loadgen *lg)
{
	if (!lg->pub.done)
		return 0;
	for (int i = 0; i < lg->opt.conns; i++)
		if (lg->conns[i].state == CONN_STREAMING &&
		    lg->conns[i].distinct < lg->pub.published)
			return 0;
	return 1;
}

/* Whether the publisher thread is done. */
static int
loadgen_publisher_finished(struct loadgen *lg)
{
	return lg->pub.done;
}

/* Writes the usage text to f. */
static void
loadgen_usage(FILE *f)
{
	fputs("Usage: litepush-bench --url URL [options]\n"
	      "  --url URL            http://127.0.0.1:PORT/PATH (SSE) or "
	      "ws://127.0.0.1:PORT/PATH\n"
	      "  --conns N            subscribers (100)\n"
	      "  --inflight N         handshakes in flight at once while "
	      "ramping (64)\n"
	      "  --ramp N             connections opened per second at most "
	      "(no limit)\n"
	      "  --rate N|max         events per second (100); 0 publishes "
	      "nothing (idle run);\n"
	      "                       max is -1 in the JSON\n"
	      "  --size BYTES         event data size (100)\n"
	      "  --duration SECONDS   publishing time, or idle time with "
	      "--rate 0 (10)\n"
	      "  --burst N            publish N events at once instead (one "
	      "transaction for\n"
	      "                       the store, back-to-back POSTs for "
	      "nchan), then drain\n"
	      "  --drain SECONDS      wait at most this long for the last "
	      "deliveries (3)\n"
	      "  --db PATH            publish with INSERTs into this litepush "
	      "store\n"
	      "  --publish-url URL    or POST to this HTTP publisher (nchan)\n"
	      "  --channel NAME       the channel (bench); put it in --url's "
	      "query too\n"
	      "  --busy-timeout MS    SQLite busy timeout of the publisher "
	      "(5000)\n"
	      "  --pid NAME=PID[,PID] server processes to measure, summed "
	      "under NAME;\n"
	      "                       PID+ counts its descendants too; "
	      "repeatable\n"
	      "  --feed-stats PID:LOG send SIGUSR1 to a litepush daemon, read "
	      "its feed_stats\n"
	      "                       line from LOG; repeatable\n"
	      "  --label TEXT         names the run in the report\n"
	      "  --header LINE        one more request header (\"Name: "
	      "value\")\n"
	      "  --json FILE          also append the JSON line to FILE\n"
	      "  --quiet              no table, only the JSON line\n"
	      "Prints a table on stderr and one JSON line on stdout.  Exit "
	      "status 0 when\n"
	      "every connection streamed and nothing was lost, 1 otherwise, 2 "
	      "on usage.\n",
	    f);
}

/* Splits --url into protocol, host, port and path, or dies. */
static void
loadgen_parse_url(struct loadgen_options *opt)
{
	const char *rest;

	if (strncmp(opt->url, "http://", 7) == 0) {
		opt->proto = BENCH_SSE;
		rest = opt->url + 7;
	} else if (strncmp(opt->url, "ws://", 5) == 0) {
		opt->proto = BENCH_WS;
		rest = opt->url + 5;
	} else
		loadgen_die("--url must start with http:// or ws://");
	if (sscanf(rest, "%63[^:/]:%d", opt->host, &opt->port) != 2)
		loadgen_die("--url needs HOST:PORT");
	rest = strchr(rest, '/');
	snprintf(opt->path, sizeof opt->path, "%s", rest != NULL ? rest : "/");
	{
		struct in_addr a;

		if (inet_pton(AF_INET, opt->host, &a) != 1)
			loadgen_die(
			    "--url's host must be an IPv4 address (127.0.0.1)");
	}
}

/* Adds the server group of one --pid NAME=PID[+][,PID...]. */
static void
loadgen_parse_group(struct loadgen *lg, const char *arg)
{
	const char           *eq = strchr(arg, '=');
	struct loadgen_group *g;
	char                 *p;

	if (eq == NULL || lg->ngroups == BENCH_MAX_GROUPS)
		loadgen_die(
		    "--pid NAME=PID[,PID...] (at most %d)", BENCH_MAX_GROUPS);
	g = &lg->groups[lg->ngroups++];
	snprintf(g->name, sizeof g->name, "%.*s", (int)(eq - arg), arg);
	for (p = (char *)eq + 1; *p && g->nroots < BENCH_MAX_PIDS;) {
		g->roots[g->nroots] = (int)strtol(p, &p, 10);
		g->tree[g->nroots++] = *p == '+';
		if (*p == '+')
			p++;
		if (*p == ',')
			p++;
		else if (*p)
			loadgen_die("bad --pid %s", arg);
	}
}

/* Raises the descriptor limit to want, or as far as allowed (and says so). */
static void
loadgen_raise_nofile(int want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_max < (rlim_t)want) {
		struct rlimit up = {(rlim_t)want, (rlim_t)want};

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			return;
	}
	rl.rlim_cur = rl.rlim_max < (rlim_t)want ? rl.rlim_max : (rlim_t)want;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < (rlim_t)want)
		fprintf(stderr,
		    "litepush-bench: only %lu descriptors allowed\n",
		    (unsigned long)rl.rlim_cur);
}

/* Writes s to f as a quoted JSON string. */
static void
loadgen_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* Sets the defaults of a run that has not started. */
static void
loadgen_init(struct loadgen *lg)
{
	memset(lg, 0, sizeof *lg);
	lg->opt.proto = BENCH_SSE;
	lg->opt.conns = 100;
	lg->opt.inflight = 64;
	lg->opt.ramp_rate = 0;
	lg->opt.duration = 10;
	lg->opt.rate = 100;
	lg->opt.size = 100;
	lg->opt.drain = 3;
	lg->opt.settle = 0.5;
	lg->opt.connect_timeout = 10;
	lg->opt.channel = "bench";
	lg->opt.label = "run";
	lg->opt.busy_ms = 5000;
	lg->epfd = -1;
	lg->latency.min = UINT64_MAX;
}

/* Frees the subscribers' memory; their descriptors close at exit. */
static void
loadgen_free(struct loadgen *lg)
{
	for (int i = 0; lg->conns != NULL && i < lg->opt.conns; i++) {
		struct loadgen_conn *c = &lg->conns[i];

		free(c->in);
		free(c->line);
		free(c->data);
		free(c->msg);
		free(c->seen);
		free(c->fail_reason);
	}
	free(lg->conns);
	lg->conns = NULL;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"url", required_argument, NULL, 'u'},
	    {"conns", required_argument, NULL, 'c'},
	    {"inflight", required_argument, NULL, 'i'},
	    {"ramp", required_argument, NULL, 'R'},
	    {"rate", required_argument, NULL, 'r'},
	    {"burst", required_argument, NULL, 'N'},
	    {"size", required_argument, NULL, 's'},
	    {"duration", required_argument, NULL, 'd'},
	    {"drain", required_argument, NULL, 'D'},
	    {"db", required_argument, NULL, 'b'},
	    {"publish-url", required_argument, NULL, 'P'},
	    {"channel", required_argument, NULL, 'C'},
	    {"busy-timeout", required_argument, NULL, 'B'},
	    {"pid", required_argument, NULL, 'p'},
	    {"feed-stats", required_argument, NULL, 'F'},
	    {"label", required_argument, NULL, 'l'},
	    {"header", required_argument, NULL, 'H'},
	    {"json", required_argument, NULL, 'j'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct loadgen            run, *lg = &run;
	struct loadgen_options   *opt = &lg->opt;
	struct loadgen_publisher *pub = &lg->pub;
	struct loadgen_latency   *lat = &lg->latency;
	struct loadgen_feed_stats feed_before[4], feed_after[4];
	struct rusage             self_before, self_after;
	pthread_t                 thread;
	double                    connect_s, window_start, window_s, active_s;
	double                    bench_cpu;
	uint64_t                  lost = 0, repeated = 0, out_of_order = 0;
	uint64_t                  expected = 0;
	int                       c, failed_conns, streamed, status;
	char                      json[8192];
	size_t                    jl = 0;

	loadgen_init(lg);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'u':
			opt->url = optarg;
			break;
		case 'c':
			opt->conns = atoi(optarg);
			break;
		case 'i':
			opt->inflight = atoi(optarg);
			break;
		case 'R':
			opt->ramp_rate = atof(optarg);
			break;
		case 'r':
			opt->rate =
			    strcmp(optarg, "max") == 0 ? -1 : atof(optarg);
			break;
		case 'N':
			opt->burst = atoi(optarg);
			opt->rate = -1;
			break;
		case 's':
			opt->size = atoi(optarg);
			break;
		case 'd':
			opt->duration = atof(optarg);
			break;
		case 'D':
			opt->drain = atof(optarg);
			break;
		case 'b':
			opt->db = optarg;
			break;
		case 'P':
			opt->publish_url = optarg;
			break;
		case 'C':
			opt->channel = optarg;
			break;
		case 'B':
			opt->busy_ms = atoi(optarg);
			break;
		case 'p':
			loadgen_parse_group(lg, optarg);
			break;
		case 'F':
			if (opt->nfeed == 4)
				loadgen_die("at most 4 --feed-stats");
			opt->feed_pid_log[opt->nfeed++] = optarg;
			break;
		case 'l':
			opt->label = optarg;
			break;
		case 'H':
			opt->header = optarg;
			break;
		case 'j':
			opt->json_path = optarg;
			break;
		case 'q':
			opt->quiet = 1;
			break;
		case 'h':
			loadgen_usage(stdout);
			return 0;
		default:
			loadgen_usage(stderr);
			return 2;
		}
	}
	if (opt->url == NULL || optind < argc) {
		loadgen_usage(stderr);
		return 2;
	}
	if (opt->conns < 1 || opt->conns > 100000 || opt->inflight < 1 ||
	    opt->size < 0 || opt->size > 1 << 20 || opt->duration <= 0)
		loadgen_die("bad --conns, --inflight, --size or --duration");
	if (opt->rate != 0 && opt->db == NULL && opt->publish_url == NULL)
		loadgen_die("publishing needs --db PATH or --publish-url URL "
		            "(or --rate 0)");
	loadgen_parse_url(opt);
	loadgen_raise_nofile(opt->conns + 64 > 20000 ? opt->conns + 64 : 20000);
	signal(SIGPIPE, SIG_IGN);
	srand((unsigned)getpid());

	lg->conns = calloc((size_t)opt->conns, sizeof *lg->conns);
	if (lg->conns == NULL)
		loadgen_die("out of memory");
	for (int i = 0; i < opt->conns; i++) {
		lg->conns[i].fd = -1;
		lg->conns[i].index = i;
		lg->conns[i].chunk_left = -1;
		lg->conns[i].in = loadgen_xrealloc(NULL, BENCH_INBUF);
	}
	if ((lg->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		loadgen_die("epoll: %s", strerror(errno));

	loadgen_groups_baseline(lg);
	connect_s = loadgen_ramp_up(lg);
	loadgen_loop_run_for(lg, opt->settle, NULL);
	streamed = lg->n_streaming;

	loadgen_groups_start(lg);
	for (int i = 0; i < opt->nfeed; i++)
		loadgen_feed_sample(opt->feed_pid_log[i], &feed_before[i]);
	getrusage(RUSAGE_SELF, &self_before);
	window_start = loadgen_now_mono();
	if (opt->rate != 0) {
		if (pthread_create(&thread, NULL, loadgen_publisher, lg) != 0)
			loadgen_die("cannot start the publisher");
		loadgen_loop_run_for(
		    lg, opt->duration + 60, loadgen_publisher_finished);
		pthread_join(thread, NULL);
		loadgen_loop_run_for(lg, opt->drain, loadgen_all_delivered);
	} else {
		pub->done = 1;
		loadgen_loop_run_for(lg, opt->duration, NULL);
	}
	window_s = loadgen_now_mono() - window_start;
	getrusage(RUSAGE_SELF, &self_after);
	loadgen_groups_end(lg);
	for (int i = 0; i < opt->nfeed; i++)
		loadgen_feed_sample(opt->feed_pid_log[i], &feed_after[i]);
	bench_cpu =
	    (self_after.ru_utime.tv_sec - self_before.ru_utime.tv_sec) +
	    (self_after.ru_stime.tv_sec - self_before.ru_stime.tv_sec) +
	    (self_after.ru_utime.tv_usec - self_before.ru_utime.tv_usec) / 1e6 +
	    (self_after.ru_stime.tv_usec - self_before.ru_stime.tv_usec) / 1e6;

	/* Every connection that streamed owes every published event. */
	for (int i = 0; i < opt->conns; i++) {
		struct loadgen_conn *k = &lg->conns[i];

		if (k->state != CONN_STREAMING && k->state != CONN_CLOSED)
			continue;
		expected += pub->published;
		lost += pub->published > k->distinct
		            ? pub->published - k->distinct
		            : 0;
		repeated += k->repeated;
		out_of_order += k->out_of_order;
	}
	failed_conns = opt->conns - streamed;
	active_s =
	    lg->last_receipt > pub->start ? lg->last_receipt - pub->start : 0;

	jl += (size_t)snprintf(json + jl, sizeof json - jl, "{\"label\":");
	{
		char  *buf;
		size_t blen;
		FILE  *mf = open_memstream(&buf, &blen);

		loadgen_json_string(mf, opt->label);
		fputs(",\"url\":", mf);
		loadgen_json_string(mf, opt->url);
		fclose(mf);
		jl += (size_t)snprintf(json + jl, sizeof json - jl, "%s", buf);
		free(buf);
	}
	jl += (size_t)snprintf(json + jl, sizeof json - jl,
	    ",\"proto\":\"%s\",\"conns\":%d,\"conns_ok\":%d,\"conns_failed\":%"
	    "d,"
	    "\"conns_closed\":%d,\"connect_s\":%.3f,\"rate\":%.0f,\"burst\":%d,"
	    "\"size\":%d,"
	    "\"published\":%" PRIu64 ",\"publish_errors\":%" PRIu64 ","
	    "\"publish_s\":%.3f,\"received\":%" PRIu64 ",\"expected\":%" PRIu64
	    ","
	    "\"lost\":%" PRIu64 ",\"repeated\":%" PRIu64
	    ",\"out_of_order\":%" PRIu64 ","
	    "\"latency_us\":{\"min\":%" PRIu64 ",\"p50\":%" PRIu64
	    ",\"p90\":%" PRIu64 ",\"p99\":%" PRIu64 ",\"max\":%" PRIu64 "},"
	    "\"deliveries_per_s\":%.0f,\"window_s\":%.3f,\"bench_cpu_s\":%.3f,"
	    "\"servers\":[",
	    opt->proto == BENCH_WS ? "ws" : "sse", opt->conns, streamed,
	    failed_conns, lg->n_closed, connect_s, opt->rate, opt->burst,
	    opt->size, (uint64_t)pub->published, (uint64_t)pub->errors,
	    pub->end > pub->start ? pub->end - pub->start : 0,
	    lg->total_received, expected, lost, repeated, out_of_order,
	    lat->count ? lat->min : 0, loadgen_hist_percentile(lat, 50),
	    loadgen_hist_percentile(lat, 90), loadgen_hist_percentile(lat, 99),
	    lat->max, active_s > 0 ? lg->total_received / active_s : 0,
	    window_s, bench_cpu);
	for (int i = 0; i < lg->ngroups; i++) {
		struct loadgen_group *g = &lg->groups[i];

		jl += (size_t)snprintf(json + jl, sizeof json - jl,
		    "%s{\"name\":\"%s\",\"procs\":%d,\"cpu_s\":%.2f,\"peak_rss_"
		    "kb\":%ld,"
		    "\"rss_kb\":%ld,\"rss_before_kb\":%ld}",
		    i ? "," : "", g->name, g->nprocs, g->cpu_s, g->peak_rss_kb,
		    g->rss_kb, g->rss_before_kb);
	}
	jl += (size_t)snprintf(json + jl, sizeof json - jl, "]");
	if (opt->nfeed > 0) {
		static const char *names[] = {"statements", "polls",
		    "feed_queries", "catchup_queries", "events"};

		jl += (size_t)snprintf(
		    json + jl, sizeof json - jl, ",\"feed\":{");
		for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
			long long sum = 0;

			for (int i = 0; i < opt->nfeed; i++) {
				long long a, b;

				a = loadgen_feed_counter(
				    &feed_after[i], names[k]);
				b = loadgen_feed_counter(
				    &feed_before[i], names[k]);

				if (a < 0 || b < 0) {
					sum = -1;
					break;
				}
				sum += a - b;
			}
			jl += (size_t)snprintf(json + jl, sizeof json - jl,
			    "%s\"%s\":%lld", k ? "," : "", names[k], sum);
		}
		jl += (size_t)snprintf(json + jl, sizeof json - jl, "}");
	}
	if (pub->errors)
		jl += (size_t)snprintf(json + jl, sizeof json - jl,
		    ",\"publish_error\":\"%s\"", pub->error_text);
	for (int i = 0; i < opt->conns; i++)
		if (lg->conns[i].fail_reason != NULL) {
			char  *buf;
			size_t blen;
			FILE  *mf = open_memstream(&buf, &blen);

			loadgen_json_string(mf, lg->conns[i].fail_reason);
			fclose(mf);
			jl += (size_t)snprintf(json + jl, sizeof json - jl,
			    ",\"first_error\":%s", buf);
			free(buf);
			break;
		}
	snprintf(json + jl, sizeof json - jl, "}");

	if (!opt->quiet) {
		fprintf(stderr,
		    "%-28s %s\n"
		    "  connections   %d ok, %d failed, %d closed early (ramp "
		    "%.2f s)\n"
		    "  published     %" PRIu64
		    " events of %d bytes in %.2f s (%" PRIu64 " errors)\n"
		    "  received      %" PRIu64 " of %" PRIu64 ": lost %" PRIu64
		    ", repeated %" PRIu64 ", out of order %" PRIu64 "\n"
		    "  latency (ms)  min %.2f  p50 %.2f  p90 %.2f  p99 %.2f  "
		    "max %.2f\n"
		    "  deliveries/s  %.0f\n",
		    opt->label, opt->url, streamed, failed_conns, lg->n_closed,
		    connect_s, (uint64_t)pub->published, opt->size,
		    pub->end > pub->start ? pub->end - pub->start : 0,
		    (uint64_t)pub->errors, lg->total_received, expected, lost,
		    repeated, out_of_order, (lat->count ? lat->min : 0) / 1e3,
		    loadgen_hist_percentile(lat, 50) / 1e3,
		    loadgen_hist_percentile(lat, 90) / 1e3,
		    loadgen_hist_percentile(lat, 99) / 1e3, lat->max / 1e3,
		    active_s > 0 ? lg->total_received / active_s : 0);
		for (int i = 0; i < lg->ngroups; i++) {
			const struct loadgen_group *g = &lg->groups[i];

			fprintf(stderr,
			    "  %-13s %d procs, cpu %.2f s, peak rss %ld KiB, "
			    "rss %ld KiB (%ld before)\n",
			    g->name, g->nprocs, g->cpu_s, g->peak_rss_kb,
			    g->rss_kb, g->rss_before_kb);
		}
		fprintf(stderr, "  %-13s cpu %.2f s\n", "generator", bench_cpu);
	}
	puts(json);
	fflush(stdout);
	if (opt->json_path != NULL) {
		FILE *f = fopen(opt->json_path, "a");

		if (f == NULL || fprintf(f, "%s\n", json) < 0 || fclose(f) != 0)
			loadgen_die("cannot write %s", opt->json_path);
	}
	status = failed_conns == 0 && lost == 0 && lg->n_closed == 0 ? 0 : 1;
	loadgen_free(lg);
	return status;
}
