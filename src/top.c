// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye top`: per-process bandwidth. Kernel side: bpf/traffic.bpf.c;
 * counters: bpf/traffic.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "sockeye.h"
#include "top_session.h"
#include "maps.h"
#include "probe.h"
#include "sockio.h"
#include "traffic.skel.h"

#define GIVES_BYTES 1u

static const struct hook_use top_hooks[] = {
	SOCK_IO_USES("top_send", "top_recv", "top", GIVES_BYTES, GIVES_BYTES,
		     PROTO_TCP_BIT | PROTO_UDP_BIT),
};

static const char *gives_name(int bit)
{
	return "bytes per process";
}

const struct program_set top_programs = {
	.cmd = "top",
	.hooks = top_hooks,
	.n_hooks = sizeof(top_hooks) / sizeof(top_hooks[0]),
	.gives_name = gives_name,
	.elf_bytes = traffic_bpf__elf_bytes,
};

int top_session_start(struct top_session *s, const struct sock_filters *filters)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->skel = traffic_bpf__open();
	if (!s->skel)
		return open_failed("top");
	set_filters(&s->skel->rodata->filter, filters);
	err = require_programs(s->skel->obj, &top_programs, GIVES_BYTES,
			       PROTO_TCP_BIT | PROTO_UDP_BIT);
	if (!err)
		err = load_and_attach(s->skel->skeleton, "top");
	if (err)
		top_session_stop(s);
	return err;
}

void top_session_stop(struct top_session *s)
{
	traffic_bpf__destroy(s->skel);
	s->skel = NULL;
}

/* Adds the CPUs' copies of one process's counters; the names are the
 * same in every copy that was written. */
static void sum_copies(const struct traffic_stats *copies, int ncpus, struct traffic_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (int cpu = 0; cpu < ncpus; cpu++) {
		const struct traffic_stats *c = &copies[cpu];

		for (int d = 0; d < TRAFFIC_DIRS; d++)
			for (int i = 0; i < TRAFFIC_SPLITS; i++)
				sum->bytes[d][i] += c->bytes[d][i];
		if (c->comm[0] && !sum->comm[0]) {
			memcpy(sum->comm, c->comm, sizeof(sum->comm));
			sum->uid = c->uid;
			sum->cgroup_id = c->cgroup_id;
		}
	}
}

int top_read(const struct top_session *s, struct process_traffic **rows)
{
	int fd = bpf_map__fd(s->skel->maps.traffic), ncpus = libbpf_num_possible_cpus();
	struct traffic_stats *copies;
	struct process_traffic *out = NULL;
	uint32_t key, *after = NULL;
	size_t n = 0, cap = 0;
	int err = 0;

	if (ncpus <= 0)
		return -EINVAL;
	copies = calloc(ncpus, sizeof(*copies));
	if (!copies)
		return -ENOMEM;
	while (!bpf_map_get_next_key(fd, after, &key)) {
		after = &key;
		if (bpf_map_lookup_elem(fd, &key, copies))
			continue;	/* deleted since: nothing to show */
		if (n == cap) {
			struct process_traffic *grown = realloc(out, (cap = cap ? 2 * cap : 64) *
								sizeof(*out));
			if (!grown) {
				err = -ENOMEM;
				break;
			}
			out = grown;
		}
		out[n].pid = key;
		sum_copies(copies, ncpus, &out[n++].stats);
	}
	free(copies);
	if (err) {
		free(out);
		return err;
	}
	*rows = out;
	return n;
}

uint64_t top_lost(const struct top_session *s)
{
	return percpu_counter(bpf_map__fd(s->skel->maps.traffic_lost));
}
