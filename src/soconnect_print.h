/* SPDX-License-Identifier: GPL-2.0-only */
/* `sockeye soconnect`'s printers (src/soconnect.c): what the fuzz target
 * drives. */
#ifndef SOCKEYE_SOCONNECT_PRINT_H
#define SOCKEYE_SOCONNECT_PRINT_H

#include "soconnect_session.h"

struct soconnect_printer {
	bool json;
	uint64_t clock_offset;	/* monotonic -> realtime */
	int addr_width;
};

/* The ring buffer's callback (ctx: a struct soconnect_printer): one struct
 * soconnect_record as a line or JSON. */
void soconnect_print_record(void *ctx, const void *record, size_t size);

#endif
