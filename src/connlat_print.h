/* SPDX-License-Identifier: GPL-2.0-only */
/* `sockeye connlat`'s options and printers (src/connlat.c): what the fuzz
 * target drives. */
#ifndef SOCKEYE_CONNLAT_PRINT_H
#define SOCKEYE_CONNLAT_PRINT_H

#include "connlat_session.h"

struct connlat_opts {
	struct common_opts common;
	struct connlat_config cfg;
	bool relative_time;	/* -t: seconds since start instead of the clock */
};

struct connlat_printer {
	const struct connlat_opts *o;
	uint64_t clock_offset;	/* monotonic -> realtime */
	uint64_t start_ns;	/* monotonic, for -t */
	int addr_width;
};

/* The ring buffer's callback (ctx: a struct connlat_printer): one struct
 * connlat_record as a line or JSON. */
void connlat_print_record(void *ctx, const void *record, size_t size);

#endif
