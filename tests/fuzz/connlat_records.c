// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye connlat`'s records: any bytes, of any size, through the ring
 * buffer's callback into the command's printer. The first byte's bits pick
 * JSON, -t (time since the start) and --failed (the RESULT column). */
#include "connlat_print.h"
#include "format.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t mode = fuzz_byte(&data, &size);
	struct connlat_opts o = {
		.common.json = mode & 1, .relative_time = mode & 2, .cfg.failed = mode & 4,
	};
	struct connlat_printer p = { .o = &o, .addr_width = ADDR_LEN };

	fuzz_record(connlat_print_record, &p, sizeof(struct connlat_record), data, size);
	return 0;
}
