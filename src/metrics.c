// SPDX-License-Identifier: GPL-2.0-only
/* The families the agent and flows --prom both write: see metrics.h. */
#include <string.h>
#include <netinet/in.h>
#include "sockeye.h"
#include "flows_session.h"
#include "metrics.h"
#include "prom.h"

int metrics_retransmits(FILE *out, const struct flows_session *s)
{
	static const char name[] = "sockeye_tcp_retransmits_total";
	uint64_t totals[RETRANS_KINDS];
	int err = flows_retrans_totals(s, totals);

	if (err) {
		p_err("cannot read the retransmit counters: %s", strerror(-err));
		return err;
	}
	prom_family(out, name, "counter",
		    "TCP segments retransmitted since sockeye started, by kind: fast (in "
		    "recovery), timeout (the retransmit timer), probe (tail-loss probe), syn, synack.");
	for (int k = 0; k < RETRANS_KINDS; k++)
		prom_uint(out, name, &(struct prom_label){ "kind", retrans_kind_name(k) }, 1,
			  totals[k]);
	return 0;
}

struct drop_family {
	FILE *out;
	const char *name;
};

static void write_drop(void *ctx, uint32_t reason, uint64_t count)
{
	const struct drop_family *f = ctx;

	prom_uint(f->out, f->name, &(struct prom_label){ "reason", drop_reason_name(reason) }, 1,
		  count);
}

/* Drop reasons are the kernel's own enum: a bounded set of label values. */
static int write_drops(FILE *out, const struct flows_session *s, uint8_t proto,
		       const char *name, const char *help)
{
	struct drop_family f = { out, name };
	int err;

	prom_family(out, name, "counter", help);
	err = flows_drop_counts(s, proto, write_drop, &f);
	if (err)
		p_err("cannot read the drop counts: %s", strerror(-err));
	return err;
}

int metrics_drops(FILE *out, const struct flows_session *s)
{
	int err = write_drops(out, s, IPPROTO_TCP, "sockeye_tcp_drops_total",
			      "TCP segments the host dropped since sockeye started, by the "
			      "kernel's drop reason.");

	return err ? err : write_drops(out, s, IPPROTO_UDP, "sockeye_udp_drops_total",
				       "UDP datagrams the host dropped since sockeye started, by "
				       "the kernel's drop reason (NO_SOCKET: to a port nobody "
				       "listens on, SOCKET_RCVBUFF: the receiver's buffer was full).");
}

void metrics_lost_events(FILE *out, const char *const *names, const uint64_t *counts, size_t n)
{
	static const char name[] = "sockeye_lost_events_total";

	prom_family(out, name, "counter",
		    "Events sockeye could not count since it started (a full map or ring buffer, "
		    "too many in flight, a run of its program the kernel skipped), by collector.");
	for (size_t i = 0; i < n; i++)
		prom_uint(out, name, &(struct prom_label){ "collector", names[i] }, 1, counts[i]);
}
