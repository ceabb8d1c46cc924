// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye soconnect`: every connect(2) to an IPv4 or IPv6 address, with
 * the time the call took and what it returned. The entry tracepoint keeps
 * the address and the time per thread; the exit one completes the record. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "sockeye.bpf.h"
#include "records.bpf.h"
#include "soconnect.h"

char LICENSE[] SEC("license") = "GPL";

/* A call in progress, in the thread's task storage: it goes with the
 * thread (one that dies inside connect() leaves nothing behind) and costs
 * no hash update under a lock; before Linux 5.11, an LRU hash by thread id
 * (thread_slot() in sockeye.bpf.h). ts_ns is 0 once the exit used it. */
static const struct soconnect_record no_call;

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct soconnect_record);
} calls SEC(".maps");

/* Copies the destination out of the caller's sockaddr; false if it is not
 * an IPv4 or IPv6 address (or cannot be read: connect() will say EFAULT). */
static __always_inline bool read_destination(const void *uaddr, struct soconnect_record *r)
{
	struct sockaddr_in6 sa = {};

	if (bpf_probe_read_user(&sa.sin6_family, sizeof(sa.sin6_family), uaddr))
		return false;
	if (sa.sin6_family == AF_INET) {
		struct sockaddr_in sin = {};

		if (bpf_probe_read_user(&sin, sizeof(sin), uaddr))
			return false;
		__builtin_memcpy(r->daddr, &sin.sin_addr, 4);
		r->dport = bpf_ntohs(sin.sin_port);
	} else if (sa.sin6_family == AF_INET6) {
		if (bpf_probe_read_user(&sa, sizeof(sa), uaddr))
			return false;
		__builtin_memcpy(r->daddr, &sa.sin6_addr, 16);
		r->dport = bpf_ntohs(sa.sin6_port);
	} else {
		return false;
	}
	r->family = sa.sin6_family;
	return true;
}

SEC("tp/syscalls/sys_enter_connect")
int soconnect_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct soconnect_record r = {}, *slot;

	current_owner(&r.owner);
	if (!current_owner_passes(&r.owner) || !read_destination((const void *)ctx->args[1], &r))
		return 0;
	if ((filter.family && r.family != filter.family) ||
	    (filter.port && r.dport != filter.port))
		return 0;
	r.fd = ctx->args[0];
	r.ts_ns = bpf_ktime_get_ns();
	slot = thread_slot(&calls, &no_call, true);
	if (slot)
		*slot = r;
	return 0;
}

SEC("tp/syscalls/sys_exit_connect")
int soconnect_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct soconnect_record *call = thread_slot(&calls, &no_call, false), *r;
	struct sock *sk;
	__u64 now;

	if (!call || !call->ts_ns)
		return 0;
	now = bpf_ktime_get_ns();
	r = reserve_record(sizeof(*r));
	if (r) {
		*r = *call;
		r->latency_ns = now - call->ts_ns;
		r->ts_ns = now;
		r->result = ctx->ret;
		sk = sock_of_fd(r->fd);
		if (sk) {	/* two fields, not the whole tuple: a helper call each */
			r->protocol = BPF_CORE_READ(sk, sk_protocol);
			r->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
			if (!r->sport)
				r->sport = inet_sport(sk);
		}
		submit_record(r);
	}
	call->ts_ns = 0;	/* used up */
	return 0;
}
