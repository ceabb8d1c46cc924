/* SPDX-License-Identifier: GPL-2.0-only */
/* `sockeye events`' printers (src/events.c): what the fuzz target drives. */
#ifndef SOCKEYE_EVENTS_PRINT_H
#define SOCKEYE_EVENTS_PRINT_H

#include "events_session.h"
#include "format.h"

struct events_printer {
	bool json;
	uint64_t clock_offset;	/* monotonic -> realtime */
	/* The last comm printed, raw and as text (printable_comm()). */
	bool comm_valid;
	char comm_raw[16];
	struct comm_str comm;
};

/* The ring buffer's callback (ctx: a struct events_printer): one struct
 * event_record as a line or JSON. */
void events_print_event(void *ctx, const void *record, size_t size);

#endif
