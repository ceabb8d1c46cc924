/* SPDX-License-Identifier: GPL-2.0-only */
/* HTTP/1.x exchanges from the pieces of a connection's byte streams that
 * `sockeye http` copies: the first bytes of each read and write, with the
 * TCP sequence number and size of the whole call, so that what was not
 * copied is known as a gap of known size. Parsing is libhttp-parser's;
 * this glue keeps each direction in step, matches responses to requests in
 * order (keep-alive, pipelining) and says one exchange per response.
 * Pure: no kernel, no I/O; unit-tested and fuzzed. */
#ifndef SOCKEYE_HTTP_PARSE_H
#define SOCKEYE_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <http_parser.h>
#include <linux/types.h>
#include "http.h"

/* One request and the response to it. */
struct http_exchange {
	uint64_t request_ns;	/* the request's first byte, as seen by the caller */
	uint64_t response_ns;	/* the response's first byte */
	int64_t request_size;	/* body bytes the headers announce; -1 unknown */
	int64_t response_size;
	const char *method;	/* "GET", ... (static strings) */
	char path[HTTP_PATH_LEN + 1];
	bool path_cut;		/* the path was longer than HTTP_PATH_LEN */
	bool server;		/* requests were received here: the server's side */
	uint8_t major, minor;	/* the request's HTTP version */
	uint16_t status;
};

typedef void (*http_exchange_fn)(void *ctx, const struct http_exchange *x);

/* One call's bytes, as the kernel side reports them (struct http_record). */
struct http_piece {
	uint64_t ts_ns;
	uint32_t seq;		/* TCP sequence number of the call's first byte */
	uint32_t count;		/* bytes the call moved */
	const uint8_t *data;	/* its first len bytes */
	uint32_t len;
	uint8_t dir;		/* HTTP_SENT or HTTP_RECEIVED */
	uint8_t flags;		/* HTTP_START_* */
};

struct http_request {
	uint64_t ts_ns;
	int64_t size;
	uint8_t method;		/* enum http_method */
	uint8_t major, minor;
	bool path_cut;
	char path[HTTP_PATH_LEN + 1];
};

/* One direction of a connection. */
struct http_stream {
	http_parser parser;
	struct http_conn *conn;
	bool synced;		/* the parser is where the stream is */
	bool in_message;	/* a message has begun and not ended */
	bool in_body;		/* its headers are done */
	bool first_line;	/* its request or status line is complete */
	uint8_t dir;
	uint32_t next_seq;	/* sequence number of the next byte expected */
	uint64_t piece_ns;	/* time of the piece being parsed */
	struct http_request msg;	/* the message being parsed */
};

struct http_conn {
	struct http_stream streams[2];	/* by HTTP_SENT / HTTP_RECEIVED */
	struct http_request pending[HTTP_PENDING];
	unsigned head, n;		/* the queue of requests in pending[] */
	http_exchange_fn fn;
	void *ctx;
};

/* Sets up an empty connection; it owns no memory (nothing to free), and
 * must stay where it is (its streams point to it). */
void http_conn_init(struct http_conn *c, http_exchange_fn fn, void *ctx);
/* Takes the next piece of one direction; calls fn for each response whose
 * request is known. */
void http_conn_feed(struct http_conn *c, const struct http_piece *p);

/* What --method, --status and --path-prefix let through; zeroed: all. */
struct http_match {
	char method[16];	/* exact, as sent ("GET") */
	uint16_t status_min, status_max;	/* 404-404, or 400-499 for "4xx" */
	char path_prefix[HTTP_PATH_LEN + 1];
};

bool http_matches(const struct http_match *m, const struct http_exchange *x);
/* The same without the path (the kernel applies the path prefix when it sums). */
bool http_method_status_match(const struct http_match *m, const char *method, unsigned status);

/* The prefix of a path that --summary groups by: up to its second '/',
 * without the query: "/api/users/7?x=1" -> "/api", "/a.html" -> "/a.html". */
void http_path_group(char *buf, size_t len, const char *path);

#endif
