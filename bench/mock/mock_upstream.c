/*
 * mock_upstream.c: the LLM upstream mock used by the end-to-end tests and as
 * the "limit" baseline of the benchmarks.  This file owns the process: the
 * command line, the listening sockets (one per worker, SO_REUSEPORT, loopback
 * only), the worker threads with their epoll loop and timer heap, and the
 * connection state machine (keep-alive, pipelining, first-byte delay, frame
 * pacing, resets and stalls, lingering close).  What is answered lives in
 * mock_vendor.c / mock_render.c, the request parser in mock_http.c, the
 * request record in mock_ledger.c.
 *
 *   mock_upstream --port N [--host 127.0.0.1] [--threads N] [--latency-ms N]
 *                 [--frames N] [--frame-interval-ms N] [--expect-key KEY]
 *                 [--die-with-parent]
 *
 * Prints "listening on HOST:PORT" once every worker's socket is bound
 * (--port 0 picks a free port and prints it).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mock_buf.h"
#include "mock_http.h"
#include "mock_json.h"
#include "mock_ledger.h"
#include "mock_vendor.h"

#define MAX_EVENTS 256
#define READ_CHUNK 16384
#define MAX_INPUT (MOCK_MAX_HEAD + MOCK_MAX_BODY + 64 * 1024)
#define RESET_GRACE_MS 20	/* let the client read the frames before RST */
#define LINGER_MS 1000		/* drain input after a closing response */
#define STREAM_BACKLOG (256 * 1024)	/* unsent bytes before an unpaced stream waits */
#define KEEP_BUF (1024 * 1024)	/* larger buffers are freed after use */

enum phase {
	P_READ,			/* no response in progress: parse input */
	P_WAIT,			/* waiting for the first-byte deadline */
	P_STREAM,		/* waiting for the next frame's deadline */
	P_FLUSH,		/* response fully queued, sending */
	P_STALL,		/* silent until the client goes away */
	P_RESET_WAIT,		/* frames sent, RST at the deadline */
	P_LINGER,		/* write side shut, draining input */
};

typedef struct worker worker;

typedef struct conn {
	int fd;
	int phase;
	int events;		/* current epoll interest */
	int close_after;	/* close once the response is sent */
	int rd_eof;
	int sent_continue;
	int frames_sent;
	int heap_idx;		/* -1 when no timer */
	long long deadline;
	long long t_start;	/* monotonic ms when the request was complete */
	size_t in_off;
	size_t out_off;
	worker *w;
	mock_buf in;
	mock_buf out;
	mock_buf staged;	/* a rendered answer waiting for its delay */
	mock_buf frame;
	mock_parser parser;
	mock_resp resp;
	mock_req req;
} conn;

struct worker {
	int idx;
	int epfd;
	int lfd;
	const mock_config *cfg;
	mock_jarena ja;
	mock_buf scratch;
	conn **heap;
	size_t heap_len;
	size_t heap_cap;
	unsigned long long seq;
	pthread_t thread;
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- timer heap (min-heap on deadline, per worker) ---- */

static void
heap_swap(worker *w, size_t a, size_t b)
{
	conn *t = w->heap[a];

	w->heap[a] = w->heap[b];
	w->heap[b] = t;
	w->heap[a]->heap_idx = (int) a;
	w->heap[b]->heap_idx = (int) b;
}

static void
heap_up(worker *w, size_t i)
{
	while (i > 0 && w->heap[(i - 1) / 2]->deadline > w->heap[i]->deadline) {
		heap_swap(w, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
heap_down(worker *w, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < w->heap_len && w->heap[l]->deadline < w->heap[m]->deadline)
			m = l;
		if (r < w->heap_len && w->heap[r]->deadline < w->heap[m]->deadline)
			m = r;
		if (m == i)
			return;
		heap_swap(w, i, m);
		i = m;
	}
}

static void
timer_cancel(conn *c)
{
	worker *w = c->w;
	size_t i;

	if (c->heap_idx < 0)
		return;
	i = (size_t) c->heap_idx;
	c->heap_idx = -1;
	w->heap_len--;
	if (i == w->heap_len)
		return;
	w->heap[i] = w->heap[w->heap_len];
	w->heap[i]->heap_idx = (int) i;
	heap_up(w, i);
	heap_down(w, (size_t) w->heap[i]->heap_idx);
}

static void
timer_set(conn *c, long long deadline)
{
	worker *w = c->w;

	timer_cancel(c);
	if (w->heap_len == w->heap_cap) {
		w->heap_cap = w->heap_cap ? w->heap_cap * 2 : 256;
		w->heap = realloc(w->heap, w->heap_cap * sizeof(*w->heap));
		if (w->heap == NULL) {
			fprintf(stderr, "mock_upstream: out of memory\n");
			abort();
		}
	}
	c->deadline = deadline;
	c->heap_idx = (int) w->heap_len;
	w->heap[w->heap_len++] = c;
	heap_up(w, (size_t) c->heap_idx);
}

/* ---- connection lifecycle ---- */

static void
set_events(conn *c, int ev)
{
	struct epoll_event e;

	if (ev == c->events)
		return;
	e.events = (uint32_t) ev;
	e.data.ptr = c;
	epoll_ctl(c->w->epfd, EPOLL_CTL_MOD, c->fd, &e);
	c->events = ev;
}

static int
response_active(const conn *c)
{
	return c->phase != P_READ && c->phase != P_LINGER;
}

static void
ledger_record(conn *c, const char *outcome)
{
	const mock_req *q = &c->req;
	const mock_resp *r = &c->resp;
	mock_ledger_entry e;
	char path[MOCK_MAX_TARGET];

	if (!r->record)
		return;
	memset(&e, 0, sizeof(e));
	memcpy(path, q->target, q->path_len);
	path[q->path_len] = '\0';
	e.ts_ms = wall_ms();
	e.duration_ms = (long) (now_ms() - c->t_start);
	e.request_id = q->has_request_id ? q->request_id : r->id;
	e.vendor = mock_vendor_name(r->vendor);
	e.method = q->method;
	e.path = path;
	e.model = r->model[0] ? r->model : NULL;
	e.outcome = outcome;
	e.fault = r->fault_name[0] ? r->fault_name : NULL;
	e.authorization = q->has_authorization ? q->authorization : NULL;
	e.x_api_key = q->has_x_api_key ? q->x_api_key : NULL;
	e.goog_api_key = q->has_goog_api_key ? q->goog_api_key : NULL;
	e.query_key = r->has_query_key ? r->query_key : NULL;
	e.anthropic_version = q->has_anthropic_version ? q->anthropic_version : NULL;
	e.body = r->has_body ? r->body : NULL;
	e.stream = r->stream;
	/* a stream's 200 went out with its head; 0 = nothing was sent */
	e.status = r->status ? r->status : (r->stream && c->frames_sent > 0 ? 200 : 0);
	e.frames_sent = c->frames_sent;
	e.usage_sent = r->usage_sent && strcmp(outcome, "completed") == 0;
	mock_vendor_usage(r, &e.prompt_tokens, &e.completion_tokens, &e.total_tokens);
	e.cache_read_tokens = e.status == 200 ? r->cache_read : 0;
	e.cache_write_tokens = e.status == 200 ? r->cache_write : 0;
	mock_ledger_record(&e);
}

static void
conn_close(conn *c, const char *outcome)
{
	if (response_active(c))
		ledger_record(c, outcome);
	timer_cancel(c);
	close(c->fd);
	mock_buf_free(&c->in);
	mock_buf_free(&c->out);
	mock_buf_free(&c->staged);
	mock_buf_free(&c->frame);
	mock_http_free(&c->parser);
	free(c);
}

static void
conn_reset(conn *c)
{
	struct linger lg = { 1, 0 };

	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	conn_close(c, "reset");
}

/* send queued output; -1 if the connection was closed */
static int
conn_flush(conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL);

		if (n > 0) {
			c->out_off += (size_t) n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return 0;
		} else {
			conn_close(c, "client_gone");
			return -1;
		}
	}
	mock_buf_reset(&c->out);
	c->out_off = 0;
	return 0;
}

static void
append_frame(conn *c)
{
	if (c->frame.len == 0)
		return;
	c->frames_sent++;
	if (c->resp.chunked) {
		char hdr[24];
		int n = snprintf(hdr, sizeof(hdr), "%zx\r\n", c->frame.len);

		mock_buf_put(&c->out, hdr, (size_t) n);
		mock_buf_put(&c->out, c->frame.data, c->frame.len);
		mock_buf_put(&c->out, "\r\n", 2);
	} else {
		mock_buf_put(&c->out, c->frame.data, c->frame.len);
	}
}

/* produce frames until one needs waiting; sets the next phase */
static void
stream_tick(conn *c)
{
	int interval = c->w->cfg->frame_interval_ms;

	for (;;) {
		int step;

		mock_buf_reset(&c->frame);
		step = mock_vendor_stream_step(&c->resp, &c->frame);
		append_frame(c);
		switch (step) {
		case MOCK_STEP_MORE:
			if (interval > 0) {
				c->phase = P_STREAM;
				timer_set(c, now_ms() + interval);
				return;
			}
			if (c->out.len - c->out_off > STREAM_BACKLOG) {
				/* unpaced stream: resume when the output drained */
				c->phase = P_STREAM;
				return;
			}
			continue;
		case MOCK_STEP_DONE:
			if (c->resp.chunked)
				mock_buf_put(&c->out, "0\r\n\r\n", 5);
			else
				c->close_after = 1;
			c->phase = P_FLUSH;
			return;
		case MOCK_STEP_RESET:
			c->phase = P_RESET_WAIT;
			timer_set(c, now_ms() + (interval > 0 ? 0 : RESET_GRACE_MS));
			return;
		default:	/* MOCK_STEP_STALL */
			c->phase = P_STALL;
			return;
		}
	}
}

/* the first byte is due: queue the answer (or the stream's start) */
static void
start_response(conn *c)
{
	mock_resp *r = &c->resp;

	if (!r->keep_alive)
		c->close_after = 1;
	if (r->stream) {
		mock_vendor_stream_head(r, &c->out);
		stream_tick(c);
		return;
	}
	if (c->staged.len == 0 && r->fault == MF_RESET) {
		c->phase = P_RESET_WAIT;
		timer_set(c, now_ms());
		return;
	}
	if (c->staged.len == 0 && r->fault == MF_STALL) {
		c->phase = P_STALL;
		return;
	}
	if (c->out.len == 0) {
		mock_buf t = c->out;	/* hand the rendered answer over, no copy */

		c->out = c->staged;
		c->staged = t;
		c->out_off = 0;
	} else {
		mock_buf_put(&c->out, c->staged.data, c->staged.len);
	}
	mock_buf_reset(&c->staged);
	if (c->staged.cap > KEEP_BUF)
		mock_buf_free(&c->staged);
	c->phase = P_FLUSH;
}

static void
handle_request(conn *c, size_t used)
{
	worker *w = c->w;
	unsigned long long seq = ((unsigned long long) w->idx << 48) | ++w->seq;

	mock_buf_reset(&c->staged);
	mock_vendor_handle(w->cfg, &c->req, &w->ja, seq, &c->resp, &c->staged, &w->scratch);
	mock_json_arena_reset(&w->ja);
	if (w->scratch.cap > KEEP_BUF)
		mock_buf_free(&w->scratch);
	c->in_off += used;
	mock_http_next(&c->parser);
	c->sent_continue = 0;
	c->frames_sent = 0;
	c->t_start = now_ms();
	if (c->resp.delay_ms > 0) {
		c->phase = P_WAIT;
		timer_set(c, c->t_start + c->resp.delay_ms);
	} else {
		start_response(c);
	}
}

static void
bad_request(conn *c, int status)
{
	mock_resp *r = &c->resp;

	memset(r, 0, sizeof(*r));
	r->vendor = MV_UNKNOWN;
	r->record = 0;
	mock_render_error(r, &c->out, status,
			  status == 413 ? "request body larger than 16 MiB" :
			  status == 431 ? "request head larger than 64 KiB" :
			  status == 414 ? "request target too long" :
			  status == 501 ? "transfer coding not supported" : "malformed HTTP request");
	c->close_after = 1;
	c->phase = P_FLUSH;
}

static void
update_interest(conn *c)
{
	int ev = 0;

	if (!c->rd_eof && c->in.len - c->in_off < MAX_INPUT)
		ev |= EPOLLIN | EPOLLRDHUP;
	if (c->out_off < c->out.len)
		ev |= EPOLLOUT;
	set_events(c, ev);
}

/* drive the connection as far as it goes; c may be freed on return */
static void
conn_run(conn *c)
{
	for (;;) {
		/* empty lines before a request line are ignored (RFC 9112 2.2) */
		if (c->phase == P_READ && c->parser.state == MOCK_PARSE_HEAD && c->parser.scan == 0)
			while (c->in_off < c->in.len &&
			       (c->in.data[c->in_off] == '\r' || c->in.data[c->in_off] == '\n'))
				c->in_off++;
		if (c->phase == P_READ && c->in_off < c->in.len) {
			size_t used = 0;
			int status = 0;
			int rc = mock_http_parse(&c->parser, &c->req, c->in.data + c->in_off,
						 c->in.len - c->in_off, &used, &status);

			if (rc < 0) {
				bad_request(c, status);
			} else if (rc > 0) {
				handle_request(c, used);
			} else if (c->parser.headers_done && c->req.expect_continue &&
				   !c->sent_continue) {
				mock_buf_puts(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
				c->sent_continue = 1;
			}
		}
		if (c->in_off == c->in.len) {
			mock_buf_reset(&c->in);
			c->in_off = 0;
		}
		if (conn_flush(c) < 0)
			return;
		if (c->phase == P_STREAM && c->heap_idx < 0 && c->out.len == 0) {
			stream_tick(c);		/* unpaced stream whose backlog drained */
			continue;
		}
		if (c->phase == P_FLUSH && c->out.len == 0) {
			if (c->out.cap > KEEP_BUF)
				mock_buf_free(&c->out);
			ledger_record(c, "completed");
			c->phase = P_READ;
			if (c->close_after) {
				shutdown(c->fd, SHUT_WR);
				c->phase = P_LINGER;
				timer_set(c, now_ms() + LINGER_MS);
				if (c->rd_eof) {
					conn_close(c, NULL);
					return;
				}
				break;
			}
			continue;
		}
		if (c->phase == P_READ && c->rd_eof) {
			/* nothing more will arrive: finish what is buffered, then close */
			if (c->in_off == c->in.len || c->parser.state == MOCK_PARSE_HEAD ||
			    mock_http_parse(&c->parser, &c->req, c->in.data + c->in_off,
					    c->in.len - c->in_off, &(size_t){0}, &(int){0}) == 0) {
				conn_close(c, NULL);
				return;
			}
			continue;
		}
		break;
	}
	update_interest(c);
}

static void
conn_readable(conn *c)
{
	for (;;) {
		ssize_t n;

		if (c->in.len - c->in_off >= MAX_INPUT)
			break;
		if (c->in_off > 0 && c->in.cap - c->in.len < READ_CHUNK) {
			mock_buf_consume(&c->in, c->in_off);
			c->in_off = 0;
		}
		mock_buf_reserve(&c->in, READ_CHUNK);
		n = recv(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len - 1, 0);
		if (n > 0) {
			c->in.len += (size_t) n;
			if (c->phase == P_LINGER)
				c->in.len = c->in_off = 0;	/* discard */
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		/* EOF or error */
		if (c->phase == P_LINGER || response_active(c) || n < 0) {
			conn_close(c, "client_gone");
			return;
		}
		c->rd_eof = 1;
		break;
	}
	conn_run(c);
}

static void
conn_timer(conn *c)
{
	c->heap_idx = -1;
	switch (c->phase) {
	case P_WAIT:
		start_response(c);
		break;
	case P_STREAM:
		stream_tick(c);
		break;
	case P_RESET_WAIT:
		conn_reset(c);
		return;
	case P_LINGER:
		conn_close(c, NULL);
		return;
	default:
		break;
	}
	conn_run(c);
}

static void
accept_all(worker *w)
{
	for (;;) {
		int fd = accept4(w->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		int one = 1;
		struct epoll_event e;
		conn *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE)
				fprintf(stderr, "mock_upstream: accept: %s\n", strerror(errno));
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->w = w;
		c->heap_idx = -1;
		c->phase = P_READ;
		c->events = EPOLLIN | EPOLLRDHUP;
		e.events = (uint32_t) c->events;
		e.data.ptr = c;
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
			close(fd);
			free(c);
		}
	}
}

static void *
worker_main(void *arg)
{
	worker *w = arg;
	struct epoll_event evs[MAX_EVENTS];

	for (;;) {
		int timeout = -1;
		int n;

		if (w->heap_len > 0) {
			long long d = w->heap[0]->deadline - now_ms();

			timeout = d < 0 ? 0 : (int) d;
		}
		n = epoll_wait(w->epfd, evs, MAX_EVENTS, timeout);
		for (int i = 0; i < n; i++) {
			conn *c = evs[i].data.ptr;
			uint32_t ev = evs[i].events;

			if (c == NULL) {
				accept_all(w);
				continue;
			}
			if (ev & EPOLLERR) {
				conn_close(c, "client_gone");
				continue;
			}
			if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))
				conn_readable(c);	/* also runs the connection */
			else if (ev & EPOLLOUT)
				conn_run(c);
		}
		if (w->heap_len > 0) {
			long long now = now_ms();

			while (w->heap_len > 0 && w->heap[0]->deadline <= now) {
				conn *c = w->heap[0];

				timer_cancel(c);
				conn_timer(c);
			}
		}
	}
	return NULL;
}

/* ---- start-up ---- */

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: mock_upstream --port N [--host 127.0.0.1] [--threads N] [--latency-ms N]\n"
		"                     [--frames N] [--frame-interval-ms N] [--expect-key KEY]\n"
		"                     [--die-with-parent]\n");
}

static int
parse_int(const char *flag, const char *v, int lo, int hi)
{
	char *end;
	long x;

	if (v == NULL) {
		fprintf(stderr, "mock_upstream: %s needs a value\n", flag);
		exit(2);
	}
	errno = 0;
	x = strtol(v, &end, 10);
	if (errno || *end || end == v || x < lo || x > hi) {
		fprintf(stderr, "mock_upstream: bad value for %s: \"%s\" (expected an integer %d..%d)\n",
			flag, v, lo, hi);
		exit(2);
	}
	return (int) x;
}

static int
open_listener(const char *host, int port)
{
	struct sockaddr_in a;
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t) port);
	inet_pton(AF_INET, host, &a.sin_addr);
	if (bind(fd, (struct sockaddr *) &a, sizeof(a)) < 0 || listen(fd, 4096) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
main(int argc, char **argv)
{
	static mock_config cfg = { "127.0.0.1", -1, 1, 0, 8, 0, NULL };
	int die_with_parent = 0;
	struct in_addr addr;
	worker *workers;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *eq = strchr(a, '=');
		char flag[64];
		const char *v;

		if (strncmp(a, "--", 2) != 0 || (eq && (size_t) (eq - a) >= sizeof(flag))) {
			fprintf(stderr, "mock_upstream: unknown argument \"%s\"\n", a);
			usage(stderr);
			return 2;
		}
		if (eq) {
			memcpy(flag, a, (size_t) (eq - a));
			flag[eq - a] = '\0';
			v = eq + 1;
		} else {
			snprintf(flag, sizeof(flag), "%s", a);
			v = NULL;
		}
		if (strcmp(flag, "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(flag, "--die-with-parent") == 0) {
			die_with_parent = 1;
			continue;
		}
		if (v == NULL)
			v = i + 1 < argc ? argv[++i] : NULL;
		if (strcmp(flag, "--port") == 0)
			cfg.port = parse_int(flag, v, 0, 65535);
		else if (strcmp(flag, "--threads") == 0)
			cfg.threads = parse_int(flag, v, 1, 256);
		else if (strcmp(flag, "--latency-ms") == 0)
			cfg.latency_ms = parse_int(flag, v, 0, 600000);
		else if (strcmp(flag, "--frames") == 0)
			cfg.frames = parse_int(flag, v, 1, 1000000);
		else if (strcmp(flag, "--frame-interval-ms") == 0)
			cfg.frame_interval_ms = parse_int(flag, v, 0, 600000);
		else if (strcmp(flag, "--host") == 0 && v != NULL)
			cfg.host = v;
		else if (strcmp(flag, "--expect-key") == 0 && v != NULL && *v)
			cfg.expect_key = v;
		else {
			fprintf(stderr, "mock_upstream: unknown or incomplete option \"%s\"\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (cfg.port < 0) {
		fprintf(stderr, "mock_upstream: --port is required (0 picks a free port)\n");
		usage(stderr);
		return 2;
	}
	if (strcmp(cfg.host, "localhost") == 0)
		cfg.host = "127.0.0.1";
	if (inet_pton(AF_INET, cfg.host, &addr) != 1 || (ntohl(addr.s_addr) >> 24) != 127) {
		fprintf(stderr, "mock_upstream: bad value for --host: \"%s\" (only loopback 127.x.x.x)\n",
			cfg.host);
		return 2;
	}
	if (die_with_parent)
		prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGPIPE, SIG_IGN);
	mock_ledger_init();

	workers = calloc((size_t) cfg.threads, sizeof(*workers));
	for (int i = 0; i < cfg.threads; i++) {
		worker *w = &workers[i];
		struct epoll_event e;

		w->idx = i;
		w->cfg = &cfg;
		w->lfd = open_listener(cfg.host, cfg.port);
		if (w->lfd < 0) {
			fprintf(stderr, "mock_upstream: cannot listen on %s:%d: %s\n",
				cfg.host, cfg.port, strerror(errno));
			return 1;
		}
		if (cfg.port == 0) {
			struct sockaddr_in a;
			socklen_t len = sizeof(a);

			getsockname(w->lfd, (struct sockaddr *) &a, &len);
			cfg.port = ntohs(a.sin_port);
		}
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		e.events = EPOLLIN;
		e.data.ptr = NULL;
		if (w->epfd < 0 || epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->lfd, &e) < 0) {
			fprintf(stderr, "mock_upstream: epoll: %s\n", strerror(errno));
			return 1;
		}
	}
	for (int i = 0; i < cfg.threads; i++)
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0) {
			fprintf(stderr, "mock_upstream: cannot start worker thread\n");
			return 1;
		}
	printf("listening on %s:%d\n", cfg.host, cfg.port);
	fflush(stdout);
	for (int i = 0; i < cfg.threads; i++)
		pthread_join(workers[i].thread, NULL);
	return 0;
}
