// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye connlat`: how long TCP handshakes take, from state changes
 * alone. connect() moves a socket to SYN_SENT; the SYN-ACK moves it to
 * ESTABLISHED (or, after a simultaneous open, through SYN_RECV); a reset,
 * a timeout, an ICMP error or close() moves it to CLOSE, and so does every
 * other end, destruction included. The start time waits in `pending`
 * between the two and leaves it on every path. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "sockeye.bpf.h"
#include "records.bpf.h"
#include "connlat.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by user space before load. */
const volatile __u64 min_latency_ns = 0;
const volatile __u16 filter_lport = 0;
const volatile bool report_failed = false;
const volatile bool histogram_only = false;
/* The agent's program: also counts connections opened and closed. */
const volatile bool count_connections = false;

struct pending {
	__u64 start_ns;
	struct sock_owner owner;
	__u8 opened_as;		/* count_connections: 1 + the CONN_OPENED_* it
				 * was counted in, so that its close is counted
				 * in the same direction */
	__u8 pad[7];
};

/* Keyed by the struct sock address: cheaper than a cookie on every
 * connect, and safe because the entry leaves on the socket's first move out
 * of SYN_SENT (or SYN_RECV after a simultaneous open), and every socket
 * moves to CLOSE, through this tracepoint, before it can be freed and its
 * address reused. With count_connections, the entry of a connection
 * counted as opened stays until that move to CLOSE: a connect()'s entry
 * goes on from its handshake, an accepted one gets its entry then. That is
 * half the map work of a second map for the open ones, and socket storage
 * (an allocation per socket and a free at its destruction) cost twice as
 * much again in an RST connect/close loop. A plain hash, so a full map
 * shows as untimed handshakes and uncounted connections instead of
 * evicting ones in flight; allocated as it fills. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct pending);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} untimed SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CONNLAT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} latency_hist SEC(".maps");

/* Nanoseconds of all the handshakes the histogram counts (its _sum). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} latency_sum SEC(".maps");

/* Histogram mode with report_failed: failed handshakes by errno. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CONNLAT_ERRNOS);
	__type(key, __u32);
	__type(value, __u64);
} failures SEC(".maps");

/* enum conn_counter. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CONN_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} connections SEC(".maps");

static __always_inline void handshake_started(const struct sock *sk, __u64 key)
{
	struct pending p = {};

	/* connect() runs in its caller's context; a histogram needs no owner. */
	if (!histogram_only || filter.pid || filter.comm_set)
		current_owner(&p.owner);
	if (!owner_passes(&p.owner))
		return;
	if (filter.family && sk->__sk_common.skc_family != filter.family)
		return;
	p.start_ns = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&pending, &key, &p, BPF_ANY))
		count_percpu(&untimed, 0);
}

/* The histogram needs the tuple only to filter by port; records always. */
static __always_inline bool needs_tuple(void)
{
	return !histogram_only || filter.port || filter_lport;
}

static __always_inline bool wanted(const struct sock_tuple *t, __u64 latency_ns, bool established)
{
	if (!established && !report_failed)
		return false;
	if (latency_ns < min_latency_ns)
		return false;
	if (!needs_tuple())
		return true;
	if (filter_lport && t->sport != filter_lport)
		return false;
	return tuple_passes(t);
}

/* The socket of the last reset each CPU received: tcp_reset() fires
 * tcp_receive_reset and then moves the socket to CLOSE on the same CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} last_reset SEC(".maps");

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(connlat_reset, struct sock *sk)
{
	__u32 zero = 0;
	__u64 *last = bpf_map_lookup_elem(&last_reset, &zero);

	if (last)	/* this CPU's copy: no other writer */
		*last = (__u64)sk;
	return 0;
}

#define ECONNREFUSED 111
#define EHOSTUNREACH 113

/* A handshake refused without an RST on sk was refused by an ICMP error
 * (port or protocol unreachable), which the kernel turns into the same
 * ECONNREFUSED. */
static __always_inline bool refused_by_icmp(const struct sock *sk, int err)
{
	__u32 zero = 0;
	__u64 *last;

	if (err != ECONNREFUSED)
		return false;
	last = bpf_map_lookup_elem(&last_reset, &zero);
	return last && *last != (__u64)sk;
}

static __always_inline void count_handshake(const struct sock *sk, __u64 latency, bool established)
{
	__u32 zero = 0, err;
	__u64 *sum;

	if (!established) {
		err = sk->sk_err;
		if (refused_by_icmp(sk, err))
			err = EHOSTUNREACH;
		count_percpu(&failures, err < CONNLAT_ERRNOS - 1 ? err : CONNLAT_ERRNOS - 1);
		return;
	}
	count_percpu(&latency_hist, log2_slot(latency / 1000, CONNLAT_SLOTS));
	sum = bpf_map_lookup_elem(&latency_sum, &zero);
	if (sum)	/* this CPU's copy: no other writer */
		*sum += latency;
}

static __always_inline void handshake_ended(const struct sock *sk, __u64 key, int newstate)
{
	struct pending *p = bpf_map_lookup_elem(&pending, &key);
	bool established = newstate == TCP_ESTABLISHED;
	struct connlat_record *r;
	struct sock_tuple tuple = {};
	struct sock_owner owner;
	__u64 now, latency;

	if (!p)
		return;		/* another process's, or begun before sockeye */
	now = bpf_ktime_get_ns();
	latency = now - p->start_ns;
	owner = p->owner;
	/* An established connect()'s entry stays, for count_connection(). */
	if (!count_connections || !established)
		bpf_map_delete_elem(&pending, &key);
	if (needs_tuple())
		read_tuple_typed(sk, &tuple);
	tuple.state = newstate;
	if (!wanted(&tuple, latency, established))
		return;
	if (histogram_only) {
		count_handshake(sk, latency, established);
		return;
	}
	r = reserve_record(sizeof(*r));
	if (!r)
		return;
	r->ts_ns = now;
	r->latency_ns = latency;
	r->tuple = tuple;
	r->owner = owner;
	/* A reset, timeout or ICMP error sets sk_err before the move to
	 * CLOSE; close() and a failed port search leave it 0. */
	r->error = established ? 0 : sk->sk_err;
	r->icmp = refused_by_icmp(sk, r->error);
	r->established = established;
	submit_record(r);
}

static __always_inline bool opened_wanted(const struct sock *sk)
{
	struct sock_tuple tuple = {};

	if (!filter.port && !filter.family)
		return true;
	read_tuple_typed(sk, &tuple);
	return tuple_passes(&tuple);
}

/* Keeps the direction of a connection counted as opened in its entry: the
 * one its handshake left, or a new one (always, for a new accepted
 * socket). Returns the counter to count. */
static __always_inline __u32 mark_opened(__u64 key, __u8 dir)
{
	struct pending opened = { .opened_as = 1 + dir }, *p = NULL;

	if (dir == CONN_OPENED_ACTIVE)
		p = bpf_map_lookup_elem(&pending, &key);
	if (p) {
		p->opened_as = 1 + dir;	/* the socket is locked: one writer */
		return dir;
	}
	return bpf_map_update_elem(&pending, &key, &opened, BPF_NOEXIST) ? CONN_UNCOUNTED : dir;
}

/* Active opens come out of SYN_SENT, or out of SYN_RECV after a
 * simultaneous open (the socket has its struct socket); passive children
 * come out of SYN_RECV before accept() gives them one. Runs after
 * handshake_ended(), which leaves an established connect()'s entry. */
static __always_inline void count_connection(struct sock *sk, __u64 key, int oldstate,
					     int newstate)
{
	bool passive = oldstate == TCP_SYN_RECV && !sk->sk_socket;
	struct pending *p;

	if (newstate == TCP_ESTABLISHED && (oldstate == TCP_SYN_SENT || oldstate == TCP_SYN_RECV)) {
		if (opened_wanted(sk))
			count_percpu(&connections, mark_opened(key, passive ? CONN_OPENED_PASSIVE :
									     CONN_OPENED_ACTIVE));
		else if (!passive)
			bpf_map_delete_elem(&pending, &key);
	} else if (newstate == TCP_CLOSE) {
		p = bpf_map_lookup_elem(&pending, &key);
		if (!p)
			return;		/* opened before the agent, filtered out, or never */
		if (p->opened_as)
			count_percpu(&connections, CONN_CLOSED_ACTIVE + p->opened_as - 1);
		/* Before a new connect() of this socket, or a new socket here. */
		bpf_map_delete_elem(&pending, &key);
	}
}

static __always_inline int state_changed(struct sock *sk, int oldstate, int newstate)
{
	__u64 key = (__u64)sk;

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	if (newstate == TCP_SYN_SENT)
		handshake_started(sk, key);
	else if (newstate != TCP_SYN_RECV &&
		 (oldstate == TCP_SYN_SENT ||
		  /* After a simultaneous open; a passive child, which has no
		   * struct socket before accept, never had an entry. */
		  (oldstate == TCP_SYN_RECV && sk->sk_socket)))
		handshake_ended(sk, key, newstate);
	if (count_connections)
		count_connection(sk, key, oldstate, newstate);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(connlat_state, struct sock *sk, int oldstate, int newstate)
{
	return state_changed(sk, oldstate, newstate);
}

/* The same, under the agent's own name, so that `bpftool prog` and the
 * tests tell the agent's program from connlat's. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(agent_tcp_state, struct sock *sk, int oldstate, int newstate)
{
	return state_changed(sk, oldstate, newstate);
}
