/* SPDX-License-Identifier: GPL-2.0-only */
/* `sockeye http`'s options and printers (src/http.c): what the fuzz target
 * drives. */
#ifndef SOCKEYE_HTTP_PRINT_H
#define SOCKEYE_HTTP_PRINT_H

#include "json.h"
#include "http_session.h"

/* The kernel's sums: one row per method, status, path group and role
 * (an exchange between two processes of the host is in one row of each
 * role), never more rows than the kernel has sums. */
struct summary_row {
	char method[HTTP_METHOD_LEN];
	uint16_t status;
	bool tls;
	bool server;	/* the role: the request was received here */
	char group[HTTP_PATH_LEN + 1];
	uint64_t count;
	uint64_t slots[HTTP_LATENCY_SLOTS];	/* log2 of latency in microseconds */
};

struct summary_rows {
	struct summary_row *rows;	/* HTTP_SUM_ROWS */
	size_t n;
};

struct http_opts {
	struct common_opts common;
	struct http_match match;
	uint32_t max_bytes;
	bool summary;
	bool tls_plaintext;
	struct tls_libs tls_libs;	/* --tls-lib, then the ones found */
};

struct http_printer {
	const struct http_opts *o;
	uint64_t clock_offset;	/* monotonic -> realtime */
	int endpoint_width;
	struct http_session *session;
	struct summary_rows now, before;	/* totals since the start: now, at the last report */
	uint64_t full_before;	/* http_sums_full() at the last report */
	uint64_t skipped_before;	/* http_skipped() at the last report */
	struct json_lost lost;		/* under --summary --json: not summed or skipped */
};

/* The session's callback (ctx: a struct http_printer): one exchange, if
 * it matches the filters, as a line or JSON. */
void http_print_event(void *ctx, const struct http_event *e);

#endif
