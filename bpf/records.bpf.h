/* SPDX-License-Identifier: GPL-2.0-only */
/* The ring buffer that carries records the user asked to see one by one,
 * with a per-CPU count of those that did not fit. */
#ifndef SOCKEYE_RECORDS_BPF_H
#define SOCKEYE_RECORDS_BPF_H

#include "sockeye.bpf.h"

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

	if (!rec)
		count_percpu(&lost_records, 0);
	return rec;
}

static __always_inline void submit_record(void *rec)
{
	__u64 queued = bpf_ringbuf_query(&records, BPF_RB_AVAIL_DATA);

	bpf_ringbuf_submit(rec, queued >= WAKEUP_BYTES ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

#endif
