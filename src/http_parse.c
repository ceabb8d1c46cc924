// SPDX-License-Identifier: GPL-2.0-only
/* Feeding libhttp-parser from the pieces the kernel copies. Each direction
 * has its own parser. A gap (bytes not copied) is crossed by feeding the
 * parser filler when it is inside a body of known length, which it skips
 * without looking; anywhere else the stream loses step and waits for a
 * piece that starts a message. */
#include <stdio.h>
#include <string.h>
#include "http_parse.h"

static void queue_request(struct http_stream *s, int64_t size)
{
	struct http_conn *c = s->conn;
	struct http_request *r;

	if (c->n == HTTP_PENDING) {	/* the oldest will never be answered */
		c->head = (c->head + 1) % HTTP_PENDING;
		c->n--;
	}
	r = &c->pending[(c->head + c->n++) % HTTP_PENDING];
	*r = s->msg;
	r->size = size;
	r->method = s->parser.method;
	r->major = s->parser.http_major;
	r->minor = s->parser.http_minor;
}

/* The body size the headers announce: Content-Length, 0 for a message that
 * has no body, else unknown (-1). */
static int64_t announced_size(const http_parser *p, bool no_body)
{
	if (p->flags & F_CONTENTLENGTH)
		return p->content_length;
	return no_body ? 0 : -1;
}

/* A response's headers: the exchange with the oldest request waiting.
 * Returns 1 (no body follows, whatever Content-Length says) for a HEAD. */
static int answer(struct http_stream *s, bool cut)
{
	const http_parser *p = &s->parser;
	struct http_conn *c = s->conn;
	const struct http_request *r = &c->pending[c->head];
	unsigned status = p->status_code;
	struct http_exchange x;
	bool head;

	/* Interim responses (100 Continue) precede the real one. */
	if ((status / 100 == 1 && status != 101) || !c->n)
		return 0;
	head = r->method == HTTP_HEAD;
	x = (struct http_exchange){
		.request_ns = r->ts_ns,
		.response_ns = s->msg.ts_ns,
		.request_size = r->size,
		.response_size = cut ? -1 : announced_size(p, head || status == 204 || status == 304),
		.method = http_method_str(r->method),
		.path_cut = r->path_cut,
		.server = s->dir == HTTP_SENT,
		.major = r->major,
		.minor = r->minor,
		.status = status,
	};
	memcpy(x.path, r->path, sizeof(x.path));
	c->head = (c->head + 1) % HTTP_PENDING;
	c->n--;
	c->fn(c->ctx, &x);
	return head;
}

/* The headers are complete, or cut short by a gap (cut: sizes unknown). */
static int headers_done(struct http_stream *s, bool cut)
{
	const http_parser *p = &s->parser;

	if (p->type == HTTP_RESPONSE)
		return answer(s, cut);
	queue_request(s, cut ? -1 : announced_size(p, !(p->flags & F_CHUNKED)));
	return 0;
}

static int on_message_begin(http_parser *p)
{
	struct http_stream *s = p->data;

	memset(&s->msg, 0, sizeof(s->msg));
	s->msg.ts_ns = s->piece_ns;
	s->in_message = true;
	s->first_line = s->in_body = false;
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct http_request *m = &((struct http_stream *)p->data)->msg;
	size_t have = strlen(m->path);

	if (len > HTTP_PATH_LEN - have) {
		m->path_cut = true;
		len = HTTP_PATH_LEN - have;
	}
	memcpy(m->path + have, at, len);
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	((struct http_stream *)p->data)->first_line = true;
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct http_stream *s = p->data;

	s->first_line = s->in_body = true;
	return headers_done(s, false);
}

static int on_message_complete(http_parser *p)
{
	struct http_stream *s = p->data;

	s->in_message = s->in_body = false;
	return 0;
}

static const http_parser_settings settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_headers_complete = on_headers_complete,
	.on_message_complete = on_message_complete,
};

/* Stops parsing until a piece starts a message. With partial, a message
 * whose headers a gap cut short still counts if its first line was seen. */
static void lose_sync(struct http_stream *s, bool partial)
{
	if (partial && s->in_message && !s->in_body && s->first_line)
		headers_done(s, true);
	s->synced = s->in_message = s->in_body = false;
}

static bool resync(struct http_stream *s, uint8_t flags)
{
	if (!(flags & (HTTP_START_REQUEST | HTTP_START_RESPONSE)))
		return false;
	http_parser_init(&s->parser, flags & HTTP_START_REQUEST ? HTTP_REQUEST : HTTP_RESPONSE);
	s->parser.data = s;
	s->synced = true;
	s->in_message = s->in_body = false;
	return true;
}

static void parse(struct http_stream *s, const uint8_t *data, size_t len)
{
	size_t done;

	if (!len)	/* to http_parser, no bytes means the connection's end */
		return;
	done = http_parser_execute(&s->parser, &settings, (const char *)data, len);
	/* An error means these are not HTTP bytes; an upgrade (101, CONNECT)
	 * means the rest is some other protocol. */
	if (done != len || HTTP_PARSER_ERRNO(&s->parser) != HPE_OK || s->parser.upgrade)
		lose_sync(s, false);
}

/* Crosses gap bytes that were not copied. */
static void skip(struct http_stream *s, uint64_t gap)
{
	static const uint8_t filler[65536];

	while (gap && s->synced) {
		const http_parser *p = &s->parser;
		uint64_t n = gap;

		if (!s->in_body || (p->flags & F_CHUNKED)) {
			lose_sync(s, true);
			return;
		}
		/* A body without a length runs to the connection's end. */
		if (!(p->flags & F_CONTENTLENGTH))
			return;
		if (n > p->content_length)
			n = p->content_length;
		if (n > sizeof(filler))
			n = sizeof(filler);
		parse(s, filler, n);
		gap -= n;
	}
}

void http_conn_feed(struct http_conn *c, const struct http_piece *piece)
{
	struct http_stream *s = &c->streams[piece->dir & 1];
	uint32_t len = piece->len < piece->count ? piece->len : piece->count;
	int32_t gap = (int32_t)(piece->seq - s->next_seq);

	if (s->synced && gap > 0)
		skip(s, gap);
	else if (s->synced && gap < 0)
		lose_sync(s, false);
	s->next_seq = piece->seq + piece->count;
	/* A message that starts while another's headers are unfinished: the
	 * other was cut short where the copy ended. */
	if (s->synced && s->in_message && !s->in_body &&
	    (piece->flags & (HTTP_START_REQUEST | HTTP_START_RESPONSE)))
		lose_sync(s, true);
	if (!s->synced && !resync(s, piece->flags))
		return;
	s->piece_ns = piece->ts_ns;
	parse(s, piece->data, len);
	if (s->synced && piece->count > len)
		skip(s, piece->count - len);
}

void http_conn_init(struct http_conn *c, http_exchange_fn fn, void *ctx)
{
	memset(c, 0, sizeof(*c));
	c->fn = fn;
	c->ctx = ctx;
	for (int dir = 0; dir < 2; dir++) {
		c->streams[dir].conn = c;
		c->streams[dir].dir = dir;
	}
}

void http_path_group(char *buf, size_t len, const char *path)
{
	size_t n = strcspn(path, "?#");
	const char *second = n > 1 ? memchr(path + 1, '/', n - 1) : NULL;

	if (second)
		n = second - path;
	snprintf(buf, len, "%.*s", (int)n, path);
}

bool http_method_status_match(const struct http_match *m, const char *method, unsigned status)
{
	if (m->method[0] && strcmp(m->method, method))
		return false;
	return !m->status_max || (status >= m->status_min && status <= m->status_max);
}

bool http_matches(const struct http_match *m, const struct http_exchange *x)
{
	return http_method_status_match(m, x->method, x->status) &&
	       strncmp(x->path, m->path_prefix, strlen(m->path_prefix)) == 0;
}
