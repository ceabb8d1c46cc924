// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye flows`' records: any bytes, of any size, through the ring
 * buffer's callback into the session, which keeps closed connections for
 * the table and hands retransmits and segments to the command's printer;
 * the closed rows are then printed as the table and as JSON. The first
 * byte's low bit picks JSON. */
#include "flows_print.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flows_opts o = { .common.json = fuzz_byte(&data, &size) & 1, .extra = true,
				.retrans = true, .drops = true, .sort = 0 };
	struct flows_event_printer p = { .json = o.common.json };
	struct flows_session s = { .event_fn = flows_print_event, .event_ctx = &p };
	struct report_span span = { 0 };

	fuzz_record(flows_session_on_record, &s, sizeof(struct retrans_record), data, size);
	if (o.common.json)
		for (size_t i = 0; i < s.closed.n; i++)
			flows_json_row(&s.closed.rows[i], 0, true, NULL, NULL);
	else
		flows_print_table(&o, &s.closed, NULL, NULL, &span, false);
	flow_table_free(&s.closed);
	return 0;
}
