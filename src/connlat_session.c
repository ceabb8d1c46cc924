// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye connlat`'s session (connlat_session.h): loads and attaches the
 * handshake programs and reads their records and histogram. Kernel side:
 * bpf/connlat.bpf.c; records: bpf/connlat.h; the command: src/connlat.c. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "sockeye.h"
#include "connlat_session.h"
#include "format.h"
#include "maps.h"
#include "probe.h"
#include "programs.h"
#include "connlat.skel.h"

#define GIVES_LATENCY 1u
#define GIVES_AGENT 2u

static const struct hook_use connlat_hooks[] = {
	{ "connlat_state", GIVES_LATENCY, PROTO_TCP_BIT },
	{ "agent_tcp_state", GIVES_AGENT, PROTO_TCP_BIT },
	/* Tells a reset from an ICMP error, both ECONNREFUSED. */
	{ "connlat_reset", 0, PROTO_TCP_BIT, true },
};

static const char *gives_name(int bit)
{
	return 1u << bit == GIVES_AGENT ? "the agent's handshakes and connections" :
					  "handshake latency";
}

const struct program_set connlat_programs = {
	.cmd = "connlat",
	.hooks = connlat_hooks,
	.n_hooks = sizeof(connlat_hooks) / sizeof(connlat_hooks[0]),
	.gives_name = gives_name,
	.elf_bytes = connlat_bpf__elf_bytes,
};

const char *handshake_result(const struct connlat_record *r)
{
	if (r->icmp)
		return "unreachable";
	return r->established ? "ok" : handshake_failure(r->error);
}

const char *handshake_failure(int error)
{
	switch (error) {
	case 0:
		return "aborted";	/* closed by the process before an answer */
	case ECONNREFUSED:
		return "refused";
	case ETIMEDOUT:
		return "timed out";
	case ECONNRESET:
		return "reset";
	case ENETUNREACH:
	case EHOSTUNREACH:
	case ENETDOWN:
	case EHOSTDOWN:
		return "unreachable";
	default:
		return errno_name(error);
	}
}

static void configure(struct connlat_bpf *skel, const struct connlat_config *cfg)
{
	set_filters(&skel->rodata->filter, &cfg->filters);
	skel->rodata->filter_lport = cfg->lport;
	skel->rodata->min_latency_ns = cfg->min_us * 1000;
	skel->rodata->report_failed = cfg->failed;
	skel->rodata->histogram_only = cfg->hist;
	skel->rodata->count_connections = cfg->agent;
	skel->rodata->task_btf = has_task_btf();
}

int connlat_session_start(struct connlat_session *s, const struct connlat_config *cfg,
			  record_fn fn, void *ctx)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->skel = connlat_bpf__open();
	if (!s->skel)
		return open_failed("connlat");
	configure(s->skel, cfg);
	err = require_programs(s->skel->obj, &connlat_programs,
			       cfg->agent ? GIVES_AGENT : GIVES_LATENCY, PROTO_TCP_BIT);
	if (err)
		goto out;
	if (fn) {
		err = start_reading(s->skel->skeleton, "connlat", &s->reader,
				    sizeof(struct connlat_record), fn, ctx);
	} else {
		/* Nothing to read: the smallest ring buffer, unmapped. */
		bpf_map__set_max_entries(s->skel->maps.records, getpagesize());
		err = load_and_attach(s->skel->skeleton, "connlat");
	}
out:
	if (err)
		connlat_session_stop(s);
	return err;
}

void connlat_session_stop(struct connlat_session *s)
{
	reader_close(&s->reader);
	connlat_bpf__destroy(s->skel);
	s->skel = NULL;
}

const struct bpf_object_skeleton *connlat_session_skeleton(const struct connlat_session *s)
{
	return s->skel->skeleton;
}

int connlat_hist(const struct connlat_session *s, uint64_t *slots)
{
	return percpu_array_sum(bpf_map__fd(s->skel->maps.latency_hist), CONNLAT_SLOTS, slots);
}

int connlat_hist_delta(const struct connlat_session *s, uint64_t *last, uint64_t *delta)
{
	return percpu_array_delta(bpf_map__fd(s->skel->maps.latency_hist), CONNLAT_SLOTS, last,
				  delta);
}

uint64_t connlat_latency_sum_ns(const struct connlat_session *s)
{
	return percpu_counter(bpf_map__fd(s->skel->maps.latency_sum));
}

int connlat_failures(const struct connlat_session *s, uint64_t *by_errno)
{
	return percpu_array_sum(bpf_map__fd(s->skel->maps.failures), CONNLAT_ERRNOS, by_errno);
}

int connlat_connections(const struct connlat_session *s, uint64_t counts[CONN_COUNTERS])
{
	return percpu_array_sum(bpf_map__fd(s->skel->maps.connections), CONN_COUNTERS, counts);
}

uint64_t connlat_untimed(const struct connlat_session *s)
{
	return percpu_counter(bpf_map__fd(s->skel->maps.untimed));
}

uint32_t connlat_in_flight_max(const struct connlat_session *s)
{
	return bpf_map__max_entries(s->skel->maps.pending);
}
