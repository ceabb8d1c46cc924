/* SPDX-License-Identifier: GPL-2.0-only */
/* `sockeye flows`' options and printers (src/flows.c): what the fuzz target
 * drives. */
#ifndef SOCKEYE_FLOWS_PRINT_H
#define SOCKEYE_FLOWS_PRINT_H

#include "flows_session.h"
#include "flows_http.h"
#include "run.h"

struct flows_opts {
	struct common_opts common;
	struct flows_config cfg;
	bool batch, extra, retrans, drops, layers, all, http;
	const char *prom;
	bool from_agent;
	const char *pin_dir;
	int sort;	/* index in sort_keys; -1 until given */
};

struct flows_event_printer {
	bool json;
	bool all_netns;		/* a NETNS column in text */
	uint64_t clock_offset;
};

/* The table of t's rows, with the host-wide layer times (NULL: none) and
 * HTTP columns (NULL: none), as of span's end; live: redrawn in place. */
void flows_print_table(const struct flows_opts *o, const struct flow_table *t,
		       const struct flow_layers *layers, const struct flows_http *http,
		       const struct report_span *span, bool live);
/* One row as a JSON record of type flow. */
void flows_json_row(const struct flow_record *r, uint64_t realtime_ns, bool drops,
		    const struct flow_layers *l, const struct flows_http *http);
/* The session's callback for the line-per-event views (ctx: a struct
 * flows_event_printer): one retransmit or segment as a line or JSON. */
void flows_print_event(void *ctx, const void *record, size_t size);

#endif
