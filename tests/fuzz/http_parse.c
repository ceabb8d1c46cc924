// SPDX-License-Identifier: GPL-2.0-only
/* http's parser glue, which parses captured bytes: the input is cut into
 * pieces of both directions of one connection, as the kernel side would
 * report them, with copies shorter than the calls, gaps and sequence
 * numbers that go back. */
#include <stddef.h>
#include <stdint.h>
#include "http_parse.h"

static void count(void *ctx, const struct http_exchange *x)
{
	(*(unsigned *)ctx) += x->status;
}

/* Each piece: a control byte (bit 0: direction, bits 1-2: start flags,
 * bits 3-7: a signed jump of the sequence number), the number of bytes
 * copied, the bytes the call moved beyond them (in units of 257), then
 * the copied bytes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_conn conn;
	uint32_t seq[2] = { 0, 0x7ffffff0 };
	unsigned seen = 0;

	http_conn_init(&conn, count, &seen);
	while (size >= 3) {
		uint8_t ctl = data[0], dir = ctl & 1;
		size_t len = data[1] < size - 3 ? data[1] : size - 3;
		struct http_piece p = {
			.ts_ns = size,
			.seq = seq[dir] + (int8_t)(ctl & 0xf8) / 8,
			.count = len + data[2] * 257u,
			.data = data + 3,
			.len = len,
			.dir = dir,
			.flags = (ctl >> 1) & 3,
		};

		seq[dir] = p.seq + p.count;
		http_conn_feed(&conn, &p);
		data += 3 + len;
		size -= 3 + len;
	}
	return 0;
}
