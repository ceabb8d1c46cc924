// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye events`' records: any bytes, of any size, through the ring
 * buffer's callback into the command's printer, as text or JSON (the first
 * byte's low bit). */
#include "events_print.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct events_printer p = { .json = fuzz_byte(&data, &size) & 1 };

	fuzz_record(events_print_event, &p, sizeof(struct event_record), data, size);
	return 0;
}
