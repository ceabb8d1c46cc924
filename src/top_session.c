// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye top`'s session (top_session.h): loads and attaches the byte
 * counting programs, or borrows the agent's pinned maps, and reads the
 * per-process counters. Kernel side: bpf/top.bpf.c; counters: bpf/top.h;
 * the command: src/top.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "sockeye.h"
#include "array.h"
#include "top_session.h"
#include "maps.h"
#include "options.h"
#include "pins.h"
#include "programs.h"
#include "sockio.h"
#include "top.skel.h"

#define GIVES_BYTES 1u
#define GIVES_AGENT 2u
#define GIVES_UDP_SOCKETS 4u

static const struct hook_use top_hooks[] = {
	SOCK_IO_USES("top_send", "top_recv", "top", "", GIVES_BYTES, GIVES_BYTES,
		     PROTO_TCP_BIT | PROTO_UDP_BIT),
	/* The agent's own copies, fallbacks included. */
	SOCK_IO_USES("agent_send", "agent_recv", "agent", "agent ", GIVES_AGENT, GIVES_AGENT,
		     PROTO_TCP_BIT | PROTO_UDP_BIT),
	/* When UDP sockets close, so that top can count each one's bytes. */
	{ "top_udp_release", GIVES_UDP_SOCKETS, PROTO_UDP_BIT, false, "UDP close", KFUNC_TO_KERN },
	{ "top_udp_release_fe", GIVES_UDP_SOCKETS, PROTO_UDP_BIT, false, "UDP close" },
};

static const char *gives_name(int bit)
{
	switch (1u << bit) {
	case GIVES_AGENT:
		return "the agent's bytes per process";
	case GIVES_UDP_SOCKETS:
		return "bytes per UDP socket (connections view)";
	default:
		return "bytes per process";
	}
}

const struct program_set top_programs = {
	.cmd = "top",
	.hooks = top_hooks,
	.n_hooks = sizeof(top_hooks) / sizeof(top_hooks[0]),
	.gives_name = gives_name,
	.elf_bytes = top_bpf__elf_bytes,
};

#define TOP_PROTOS (PROTO_TCP_BIT | PROTO_UDP_BIT)

/* Chooses the programs for wanted. Counting per UDP socket
 * (GIVES_UDP_SOCKETS) needs a hook at close, to forget the socket: without
 * one (said at start, by select_programs) top counts per process only. The
 * rest is required first, so that a top that cannot run says only why. */
static int choose_top_programs(struct top_bpf *skel, uint32_t wanted)
{
	uint32_t needed = wanted & ~GIVES_UDP_SOCKETS;
	int err = require_programs(skel->obj, &top_programs, needed, TOP_PROTOS);

	if (!err && wanted != needed)
		skel->rodata->count_udp_sockets =
			!(select_programs(skel->obj, &top_programs, wanted, TOP_PROTOS) &
			  GIVES_UDP_SOCKETS);
	return err;
}

static int start_programs(struct top_session *s, const struct sock_filters *filters,
			  uint32_t programs)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->traffic_fd = s->lost_fd = s->udp_fd = s->udp_lost_fd = -1;
	s->skel = top_bpf__open();
	if (!s->skel)
		return open_failed("top");
	set_filters(&s->skel->rodata->filter, filters);
	s->skel->rodata->sk_id_key = socket_id_key();
	shrink_for_tests(s->skel->maps.traffic);
	shrink_for_tests(s->skel->maps.udp_socks);
	err = choose_top_programs(s->skel, programs);
	if (!err)
		err = load_and_attach(s->skel->skeleton, "top");
	if (err) {
		top_session_stop(s);
		return err;
	}
	s->traffic_fd = bpf_map__fd(s->skel->maps.traffic);
	s->lost_fd = bpf_map__fd(s->skel->maps.traffic_lost);
	if (s->skel->rodata->count_udp_sockets) {
		s->udp_fd = bpf_map__fd(s->skel->maps.udp_socks);
		s->udp_lost_fd = bpf_map__fd(s->skel->maps.udp_socks_lost);
	}
	return 0;
}

int top_session_start(struct top_session *s, const struct sock_filters *filters)
{
	return start_programs(s, filters, GIVES_BYTES | GIVES_UDP_SOCKETS);
}

/* The grace period, shortened by tests that fill the map and cannot wait
 * a minute for an ended process's row to make room. */
static uint64_t ended_grace_ns(void)
{
	const char *ms = getenv("SOCKEYE_ENDED_GRACE_MS");

	if (!ms || !*ms)
		return TOP_AGENT_ENDED_GRACE_NS;
	return parse_ulong(NULL, "SOCKEYE_ENDED_GRACE_MS", ms, 0, 3600000) * 1000000ULL;
}

int top_session_start_agent(struct top_session *s, const struct sock_filters *filters)
{
	int err = start_programs(s, filters, GIVES_AGENT);

	s->ended_grace_ns = ended_grace_ns();
	return err;
}

int top_session_borrow(struct top_session *s, const char *pin_dir)
{
	memset(s, 0, sizeof(*s));
	s->udp_fd = s->udp_lost_fd = -1;	/* the agent counts per process only */
	s->traffic_fd = open_pin(pin_dir, TRAFFIC_PIN_SUBDIR, "traffic");
	s->lost_fd = s->traffic_fd < 0 ? -1 : open_pin(pin_dir, TRAFFIC_PIN_SUBDIR, "traffic_lost");
	if (s->lost_fd >= 0)
		return 0;
	top_session_stop(s);
	return -ENOENT;
}

void top_session_stop(struct top_session *s)
{
	if (s->skel)
		top_bpf__destroy(s->skel);	/* closes the fds */
	else if (s->traffic_fd >= 0)
		close(s->traffic_fd);
	if (!s->skel && s->lost_fd >= 0)
		close(s->lost_fd);
	s->skel = NULL;
	s->traffic_fd = s->lost_fd = s->udp_fd = s->udp_lost_fd = -1;
}

const struct bpf_object_skeleton *top_session_skeleton(const struct top_session *s)
{
	return s->skel->skeleton;
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
			sum->first_ns = c->first_ns;
		}
	}
}

int top_read(const struct top_session *s, struct process_traffic **rows)
{
	int fd = s->traffic_fd, ncpus = libbpf_num_possible_cpus();
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
		if (!ARRAY_GROW(out, n, cap)) {
			err = -ENOMEM;
			break;
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

int top_read_again(const struct top_session *s, struct process_traffic *row)
{
	int ncpus = libbpf_num_possible_cpus(), err = 0;
	struct traffic_stats *copies = ncpus > 0 ? calloc(ncpus, sizeof(*copies)) : NULL;

	if (!copies)
		return -ENOMEM;
	if (bpf_map_lookup_elem(s->traffic_fd, &row->pid, copies))
		err = -errno;
	else
		sum_copies(copies, ncpus, &row->stats);
	free(copies);
	return err;
}

void top_forget(const struct top_session *s, uint32_t pid)
{
	if (s->skel)
		bpf_map_delete_elem(s->traffic_fd, &pid);
}

uint64_t top_lost(const struct top_session *s)
{
	return percpu_counter(s->lost_fd);
}

uint64_t top_skipped(const struct top_session *s)
{
	return s->skel ? skipped_runs(s->skel->obj) : 0;
}

int top_watch_udp(struct top_session *s, uint32_t pid)
{
	uint64_t key, next;
	struct udp_sock_stats u;
	bool more;

	if (s->udp_fd < 0)
		return -EOPNOTSUPP;
	s->skel->bss->udp_sockets_pid = pid;
	/* The sockets of the process watched before go (a call that raced the
	 * change may have added one). Each next key is taken before its
	 * predecessor is deleted: a walk cannot go on from a deleted key. */
	more = !bpf_map_get_next_key(s->udp_fd, NULL, &next);
	while (more) {
		key = next;
		more = !bpf_map_get_next_key(s->udp_fd, &key, &next);
		if (!bpf_map_lookup_elem(s->udp_fd, &key, &u) && u.pid != pid)
			bpf_map_delete_elem(s->udp_fd, &key);
	}
	return 0;
}

int top_read_udp(const struct top_session *s, uint32_t pid, struct udp_socket **socks)
{
	struct udp_socket *out = NULL;
	size_t n = 0, cap = 0;
	uint64_t key, *after = NULL;
	struct udp_sock_stats u;

	if (s->udp_fd < 0)
		return -EOPNOTSUPP;
	while (!bpf_map_get_next_key(s->udp_fd, after, &key)) {
		after = &key;
		if (bpf_map_lookup_elem(s->udp_fd, &key, &u) || u.pid != pid)
			continue;	/* closed since, or another process's */
		if (!ARRAY_GROW(out, n, cap)) {
			free(out);
			return -ENOMEM;
		}
		out[n++] = (struct udp_socket){ .id = key, .stats = u };
	}
	*socks = out;
	return n;
}

uint64_t top_udp_lost(const struct top_session *s)
{
	return s->udp_lost_fd < 0 ? 0 : percpu_counter(s->udp_lost_fd);
}
