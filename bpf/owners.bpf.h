/* SPDX-License-Identifier: GPL-2.0-only */
/* The socket-owner map: attributes packet-path events to the process that
 * created, connected or accepted the socket. */
#ifndef SOCKEYE_OWNERS_BPF_H
#define SOCKEYE_OWNERS_BPF_H

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

#endif
