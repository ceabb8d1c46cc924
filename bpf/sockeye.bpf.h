/* SPDX-License-Identifier: GPL-2.0-only */
/* Kernel-side helpers every sockeye BPF object shares: constants missing
 * from vmlinux.h, reading a socket's tuple, the shared filters, the owner
 * map that attributes packet-path events to processes, and the ring buffer
 * with its lost-event counter. */
#ifndef SOCKEYE_BPF_H
#define SOCKEYE_BPF_H

#include "sock.h"

#define AF_INET		2
#define AF_INET6	10
#define IPPROTO_TCP	6
#define IPPROTO_UDP	17
#define TASK_COMM_LEN	16

/* Filters, set by user space between open and load (set_filters() in
 * src/options.h); the verifier drops the branches of filters left at zero. */
const volatile struct sock_filters filter = {};

/* Who owns each socket, keyed by socket cookie: written in process context
 * (create, connect, accept), read on the packet path where "current" is
 * whatever task the softirq interrupted. LRU so it can never fill up. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct sock_owner);
} owners SEC(".maps");

static __always_inline bool is_inet(__u16 family)
{
	return family == AF_INET || family == AF_INET6;
}

static __always_inline void read_tuple(const struct sock *sk, struct sock_tuple *t)
{
	const struct inet_sock *inet = (const struct inet_sock *)sk;
	__u16 sport = bpf_ntohs(BPF_CORE_READ(inet, inet_sport));

	t->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	t->protocol = BPF_CORE_READ(sk, sk_protocol);
	t->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	/* inet_sport is set last in bind() (after the post_bind hooks), and
	 * skc_num is cleared when a failed connect releases its port: take
	 * whichever is set. */
	t->sport = sport ? sport : BPF_CORE_READ(sk, __sk_common.skc_num);
	t->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (t->family == AF_INET) {
		bpf_core_read(t->saddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(t->daddr, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(t->saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(t->daddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
}

static __always_inline void current_owner(struct sock_owner *o)
{
	__u64 id = bpf_get_current_pid_tgid();

	o->pid = id >> 32;
	o->tid = (__u32)id;
	bpf_get_current_comm(o->comm, sizeof(o->comm));
}

static __always_inline void remember_owner(__u64 cookie, const struct sock_owner *o)
{
	if (cookie)
		bpf_map_update_elem(&owners, &cookie, o, BPF_ANY);
}

/* Falls back to an empty owner (pid 0) when the socket was never seen in
 * process context, e.g. it was opened before sockeye started. */
static __always_inline void lookup_owner(__u64 cookie, struct sock_owner *o)
{
	struct sock_owner *found = bpf_map_lookup_elem(&owners, &cookie);

	if (found)
		*o = *found;
}

static __always_inline bool comm_matches(const char *comm)
{
	for (int i = 0; i < TASK_COMM_LEN; i++) {
		if (comm[i] != filter.comm[i])
			return false;
		if (!comm[i])
			break;
	}
	return true;
}

static __always_inline bool owner_passes(const struct sock_owner *o)
{
	if (filter.pid && o->pid != filter.pid)
		return false;
	if (filter.comm_set && !comm_matches(o->comm))
		return false;
	return true;
}

static __always_inline bool tuple_passes(const struct sock_tuple *t)
{
	if (filter.family && t->family != filter.family)
		return false;
	if (filter.port && t->sport != filter.port && t->dport != filter.port)
		return false;
	return true;
}

/* Ring buffer for records the user asked to see one by one, and a per-CPU
 * count of those that did not fit. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} records SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost_records SEC(".maps");

/* Waking the reader for every record costs more than the programs at high
 * rates; the reader polls on a short timer anyway, so only wake it early
 * when a good share of the buffer is waiting. */
#define WAKEUP_BYTES (256 << 10)

static __always_inline void *reserve_record(__u64 size)
{
	void *rec = bpf_ringbuf_reserve(&records, size, 0);

	if (!rec) {
		__u32 zero = 0;
		__u64 *lost = bpf_map_lookup_elem(&lost_records, &zero);

		if (lost)
			(*lost)++;	/* per-CPU slot: no other writer */
	}
	return rec;
}

static __always_inline void submit_record(void *rec)
{
	__u64 queued = bpf_ringbuf_query(&records, BPF_RB_AVAIL_DATA);

	bpf_ringbuf_submit(rec, queued >= WAKEUP_BYTES ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

#endif
