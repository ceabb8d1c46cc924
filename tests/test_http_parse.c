// SPDX-License-Identifier: GPL-2.0-only
/* The HTTP parser glue on hand-made pieces: what the kernel side would
 * copy from calls of known sizes and sequence numbers. */
#include <stdlib.h>
#include "test.h"
#include "helpers.h"
#include "histogram.h"
#include "http_parse.h"

#define MAX_SEEN 16

struct seen {
	int n;
	struct http_exchange x[MAX_SEEN];
};

static void remember(void *ctx, const struct http_exchange *x)
{
	struct seen *s = ctx;

	if (s->n < MAX_SEEN)
		s->x[s->n] = *x;
	s->n++;
}

/* Both directions of one connection, with the next sequence numbers. */
struct wire {
	struct http_conn conn;
	struct seen seen;
	uint32_t seq[2];
	uint64_t now;
};

static void wire_init(struct wire *w)
{
	memset(w, 0, sizeof(*w));
	http_conn_init(&w->conn, remember, &w->seen);
	w->seq[0] = 1000;
	w->seq[1] = 0xfffffff0;	/* wraps inside the tests */
}

/* One call of count bytes, of which text (its first bytes) is copied. The
 * start flags are what bpf/http.bpf.c would set for text. */
static void call(struct wire *w, int dir, const char *text, uint32_t count)
{
	uint8_t flags = 0;

	if (!strncmp(text, "HTTP/1.", 7))
		flags = HTTP_START_RESPONSE;
	else if (!strncmp(text, "GET ", 4) || !strncmp(text, "POST ", 5) ||
		 !strncmp(text, "HEAD ", 5))
		flags = HTTP_START_REQUEST;
	struct http_piece p = {
		.ts_ns = w->now += 1000, .seq = w->seq[dir], .count = count,
		.data = (const uint8_t *)text, .len = strlen(text), .dir = dir, .flags = flags,
	};

	w->seq[dir] += count;
	http_conn_feed(&w->conn, &p);
}

/* A call copied whole. */
static void whole(struct wire *w, int dir, const char *text)
{
	call(w, dir, text, strlen(text));
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: h\r\nUser-Agent: t\r\n\r\n"
#define OK(len, body) "HTTP/1.1 200 OK\r\nContent-Length: " #len "\r\n\r\n" body

static void check(const struct seen *s, int i, const char *method, const char *path,
		  unsigned status, int64_t req_size, int64_t resp_size)
{
	const struct http_exchange *x = &s->x[i];

	if (!ASSERT_TRUE(i < s->n, "an exchange"))
		return;
	ASSERT_STR_EQ(x->method, method, "method");
	ASSERT_STR_EQ(x->path, path, "path");
	ASSERT_EQ(x->status, status, "status");
	ASSERT_EQ(x->request_size, req_size, "request size");
	ASSERT_EQ(x->response_size, resp_size, "response size");
	ASSERT_EQ(x->major * 10 + x->minor, 11, "version");
	ASSERT_TRUE(x->response_ns > x->request_ns, "response after request");
}

TEST(http_parse_client_exchange)
{
	struct wire w;

	wire_init(&w);
	whole(&w, HTTP_SENT, GET("/index.html?q=1"));
	whole(&w, HTTP_RECEIVED, OK(5, "hello"));
	ASSERT_EQ(w.seen.n, 1, "one exchange");
	check(&w.seen, 0, "GET", "/index.html?q=1", 200, 0, 5);
	ASSERT_TRUE(!w.seen.x[0].server, "the client's side");
	ASSERT_EQ(w.seen.x[0].response_ns - w.seen.x[0].request_ns, 1000, "latency");
}

TEST(http_parse_server_side_and_split_messages)
{
	struct wire w;

	wire_init(&w);
	whole(&w, HTTP_RECEIVED, "POST /form HTTP/1.1\r\nHo");
	whole(&w, HTTP_RECEIVED, "st: h\r\nContent-Len");
	whole(&w, HTTP_RECEIVED, "gth: 4\r\n\r\nab");
	ASSERT_EQ(w.seen.n, 0, "no response yet");
	whole(&w, HTTP_RECEIVED, "cd");
	whole(&w, HTTP_SENT, "HTTP/1.1 201 Created\r\n");
	whole(&w, HTTP_SENT, "Content-Length: 2\r\n\r\n");
	whole(&w, HTTP_SENT, "ok");
	ASSERT_EQ(w.seen.n, 1, "one exchange");
	check(&w.seen, 0, "POST", "/form", 201, 4, 2);
	ASSERT_TRUE(w.seen.x[0].server, "the server's side");
	/* The request's time is its first piece's; the response's too. */
	ASSERT_EQ(w.seen.x[0].response_ns - w.seen.x[0].request_ns, 4000, "latency");
}

TEST(http_parse_keep_alive_and_pipelining)
{
	struct wire w;

	wire_init(&w);
	for (int i = 0; i < 3; i++) {
		whole(&w, HTTP_SENT, GET("/k"));
		whole(&w, HTTP_RECEIVED, OK(2, "hi"));
	}
	whole(&w, HTTP_SENT, GET("/p1") GET("/p2") GET("/p3"));
	whole(&w, HTTP_RECEIVED, OK(1, "a") "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	whole(&w, HTTP_RECEIVED, OK(1, "c"));
	ASSERT_EQ(w.seen.n, 6, "six exchanges");
	for (int i = 0; i < 3; i++)
		check(&w.seen, i, "GET", "/k", 200, 0, 2);
	check(&w.seen, 3, "GET", "/p1", 200, 0, 1);
	check(&w.seen, 4, "GET", "/p2", 404, 0, 0);
	check(&w.seen, 5, "GET", "/p3", 200, 0, 1);
}

/* Bodies larger than what is copied: the gaps are crossed by length. */
TEST(http_parse_bodies_not_copied)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n";
	struct wire w;

	wire_init(&w);
	whole(&w, HTTP_SENT, GET("/big"));
	call(&w, HTTP_RECEIVED, head, 70000);
	w.seq[HTTP_RECEIVED] += 900000;	/* calls the kernel did not report */
	call(&w, HTTP_RECEIVED, "yyy", strlen(head) + 1000000 - 70000 - 900000);
	whole(&w, HTTP_SENT, GET("/next"));
	whole(&w, HTTP_RECEIVED, OK(2, "hi"));
	ASSERT_EQ(w.seen.n, 2, "two exchanges");
	check(&w.seen, 0, "GET", "/big", 200, 0, 1000000);
	check(&w.seen, 1, "GET", "/next", 200, 0, 2);
}

/* A chunked body cannot be crossed blind: the stream waits for the next
 * message, and still gets it. */
TEST(http_parse_chunked_gap_resyncs)
{
	struct wire w;

	wire_init(&w);
	whole(&w, HTTP_SENT, GET("/chunked"));
	call(&w, HTTP_RECEIVED, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhe", 5000);
	whole(&w, HTTP_SENT, GET("/after"));
	whole(&w, HTTP_RECEIVED, OK(2, "hi"));
	ASSERT_EQ(w.seen.n, 2, "two exchanges");
	check(&w.seen, 0, "GET", "/chunked", 200, 0, -1);
	check(&w.seen, 1, "GET", "/after", 200, 0, 2);
}

/* Headers longer than the copy: what the first line says still counts. */
TEST(http_parse_headers_cut_short)
{
	struct wire w;

	wire_init(&w);
	call(&w, HTTP_SENT, "GET /long HTTP/1.1\r\nCookie: aaaa", 3000);
	call(&w, HTTP_RECEIVED, "HTTP/1.1 302 Found\r\nSet-Cookie: b", 2000);
	whole(&w, HTTP_SENT, GET("/again"));
	whole(&w, HTTP_RECEIVED, OK(0, ""));
	ASSERT_EQ(w.seen.n, 2, "two exchanges");
	check(&w.seen, 0, "GET", "/long", 302, -1, -1);
	check(&w.seen, 1, "GET", "/again", 200, 0, 0);
}

TEST(http_parse_head_interim_and_no_body_statuses)
{
	struct wire w;

	wire_init(&w);
	whole(&w, HTTP_SENT, "HEAD /h HTTP/1.1\r\n\r\n");
	whole(&w, HTTP_RECEIVED, "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n");
	whole(&w, HTTP_SENT, "POST /up HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n");
	whole(&w, HTTP_RECEIVED, "HTTP/1.1 100 Continue\r\n\r\n");
	whole(&w, HTTP_SENT, "z");
	whole(&w, HTTP_RECEIVED, "HTTP/1.1 204 No Content\r\n\r\n");
	ASSERT_EQ(w.seen.n, 2, "two exchanges, no interim one");
	check(&w.seen, 0, "HEAD", "/h", 200, 0, 99);
	check(&w.seen, 1, "POST", "/up", 204, 1, 0);
}

TEST(http_parse_not_http)
{
	struct wire w;

	wire_init(&w);
	whole(&w, HTTP_SENT, "SSH-2.0-OpenSSH_9.2\r\n");
	whole(&w, HTTP_SENT, "GET \x01\x02 garbage\r\n\r\n");
	whole(&w, HTTP_RECEIVED, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
	whole(&w, HTTP_RECEIVED, "\x16\x03\x01 tls bytes");
	ASSERT_EQ(w.seen.n, 0, "no exchange");
}

TEST(http_parse_long_path_is_cut)
{
	char req[512], path[300];
	struct wire w;

	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n\r\n", path);
	wire_init(&w);
	whole(&w, HTTP_SENT, req);
	whole(&w, HTTP_RECEIVED, OK(0, ""));
	if (ASSERT_EQ(w.seen.n, 1, "one exchange")) {
		ASSERT_EQ(strlen(w.seen.x[0].path), HTTP_PATH_LEN, "path length");
		ASSERT_TRUE(w.seen.x[0].path_cut, "said to be cut");
		ASSERT_TRUE(!strncmp(w.seen.x[0].path, path, HTTP_PATH_LEN), "its start");
	}
}

TEST(http_parse_path_group_and_match)
{
	static const struct { const char *path, *group; } groups[] = {
		{ "/api/users/7?x=1", "/api" }, { "/a.html", "/a.html" }, { "/", "/" },
		{ "/q?x=/y", "/q" }, { "*", "*" }, { "", "" },
	};
	struct http_exchange x = { .method = "GET", .status = 404, .path = "/api/v1" };
	struct http_match m = {};
	char buf[HTTP_PATH_LEN + 1];

	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		http_path_group(buf, sizeof(buf), groups[i].path);
		ASSERT_STR_EQ(buf, groups[i].group, groups[i].path);
	}
	ASSERT_TRUE(http_matches(&m, &x), "no filter lets all through");
	strcpy(m.method, "POST");
	ASSERT_TRUE(!http_matches(&m, &x), "other method");
	strcpy(m.method, "GET");
	m.status_min = 400;
	m.status_max = 499;
	ASSERT_TRUE(http_matches(&m, &x), "4xx");
	m.status_min = m.status_max = 200;
	ASSERT_TRUE(!http_matches(&m, &x), "not 200");
	m.status_max = 0;
	strcpy(m.path_prefix, "/api/");
	ASSERT_TRUE(http_matches(&m, &x), "path prefix");
	strcpy(m.path_prefix, "/apix");
	ASSERT_TRUE(!http_matches(&m, &x), "other path prefix");
}

/* --summary's latency slots, as the kernel-side histograms count them. */
TEST(http_summary_log2_slots)
{
	static const struct { uint64_t value; size_t slot; } cases[] = {
		{ 0, 0 }, { 1, 0 }, { 2, 1 }, { 3, 1 }, { 4, 2 }, { 1023, 9 }, { 1024, 10 },
		{ UINT64_MAX, 31 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ASSERT_EQ(log2_slot(cases[i].value, 32), cases[i].slot, "slot");
}
