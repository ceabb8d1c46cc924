/* SPDX-License-Identifier: GPL-2.0-only */
/* The maps of objects that send records one by one and attribute
 * packet-path events to processes: the owner map, and the ring buffer with
 * its lost-record counter. Apart from sockeye.bpf.h so that objects that
 * only count (sockstat) do not create them: together they take megabytes
 * of locked kernel memory. */
#ifndef SOCKEYE_RECORDS_BPF_H
#define SOCKEYE_RECORDS_BPF_H

#include "sockeye.bpf.h"

/* Who owns each socket, keyed by socket cookie: written in process context
 * (create, connect, accept), read on the packet path where "current" is
 * whatever task the softirq interrupted. LRU so it can never fill up. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct sock_owner);
} owners SEC(".maps");

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
