// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye http`'s records: the copies of socket calls, any bytes of any
 * size, through the ring buffer's callback into the session, which follows
 * connections and parses, and the exchanges into the command's printer.
 * The first byte picks JSON, --summary (then printed once at the end)
 * and a --method filter; then come records, each after its size in two
 * bytes (little-endian). */
#include "../../src/http.c"
#include "fuzz.h"

static struct http_slot slots[HTTP_CONNS];
static struct summary_row rows[SUMMARY_ROWS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t mode = fuzz_byte(&data, &size);
	struct http_opts o = { .common.json = mode & 1, .summary = mode & 2 };
	struct printer p = { .o = &o, .endpoint_width = 47, .rows = rows };
	struct http_session s = { .slots = slots, .fn = on_event, .ctx = &p };

	if (mode & 4)
		parse_method("GET", &o.match);
	memset(slots, 0, sizeof(slots));
	while (size >= 2) {
		size_t len = data[0] | data[1] << 8;

		data += 2;
		size -= 2;
		len = len < size ? len : size;
		fuzz_record(on_record, &s, offsetof(struct http_record, data), data, len);
		data += len;
		size -= len;
	}
	if (o.summary)
		report_summary(&p, &(struct report_span){ 0 });
	return 0;
}
