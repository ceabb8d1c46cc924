/* SPDX-License-Identifier: GPL-2.0-only */
/* `sockeye events`' printers (src/events.c): what the fuzz target drives. */
#ifndef SOCKEYE_EVENTS_PRINT_H
#define SOCKEYE_EVENTS_PRINT_H

#include "events_session.h"

struct events_printer {
	bool json;
	uint64_t clock_offset;	/* monotonic -> realtime */
};

/* The ring buffer's callback (ctx: a struct events_printer): one struct
 * event_record as a line or JSON. */
void events_print_event(void *ctx, const void *record, size_t size);

#endif
