// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye soconnect`'s records: any bytes, of any size, through the ring
 * buffer's callback into the command's printer, as text or JSON (the first
 * byte's low bit). */
#include "soconnect_print.h"
#include "format.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct soconnect_printer p = { .json = fuzz_byte(&data, &size) & 1, .addr_width = ADDR_LEN };

	fuzz_record(soconnect_print_record, &p, sizeof(struct soconnect_record), data, size);
	return 0;
}
