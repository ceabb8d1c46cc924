// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye http`'s records: the copies of socket calls, any bytes of any
 * size, through the ring buffer's callback into the session, which follows
 * connections and parses, and the exchanges into the command's printer.
 * The first byte picks JSON (bit 0) and a --method filter (bit 2; bit 1
 * picked --summary when it summed records, which the kernel does now);
 * then come records, each after its size in two bytes (little-endian). */
#include <string.h>
#include "http_print.h"
#include "fuzz.h"

static struct http_slot slots[HTTP_CONNS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t mode = fuzz_byte(&data, &size);
	struct http_opts o = { .common.json = mode & 1 };
	struct http_printer p = { .o = &o, .endpoint_width = 47 };
	struct http_session s = { .slots = slots, .fn = http_print_event, .ctx = &p };

	if (mode & 4)
		strcpy(o.match.method, "GET");	/* --method GET */
	memset(slots, 0, sizeof(slots));
	while (size >= 2) {
		size_t len = data[0] | data[1] << 8;

		data += 2;
		size -= 2;
		len = len < size ? len : size;
		fuzz_record(http_session_on_record, &s, offsetof(struct http_record, data), data, len);
		data += len;
		size -= len;
	}
	return 0;
}
