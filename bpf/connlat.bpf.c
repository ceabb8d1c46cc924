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
};

/* Keyed by the struct sock address: cheaper than a cookie on every
 * connect, and safe because the entry leaves on the socket's first move out
 * of SYN_SENT (or SYN_RECV after a simultaneous open), and every socket
 * moves to CLOSE, through this tracepoint, before it can be freed and its
 * address reused. A plain hash, so a full map shows as untimed handshakes
 * instead of evicting ones in flight. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
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

/* The direction an open connection was counted in, plus one (0: not
 * counted), so that its close is counted in the same one. Socket storage
 * goes with the socket: nothing to delete, and no map to fill up. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u8);
} opened_as SEC(".maps");

static __always_inline __u32 log2_slot(__u64 us)
{
	__u32 slot = 0;

	for (int i = 0; i < CONNLAT_SLOTS - 1 && us > 1; i++) {
		us >>= 1;
		slot++;
	}
	return slot;
}

static __always_inline void handshake_started(const struct sock *sk, __u64 key)
{
	struct pending p = {};

	current_owner(&p.owner);	/* connect() runs in its caller's context */
	if (!owner_passes(&p.owner))
		return;
	if (filter.family && BPF_CORE_READ(sk, __sk_common.skc_family) != filter.family)
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

static __always_inline void count_handshake(const struct sock *sk, __u64 latency, bool established)
{
	__u32 zero = 0, err;
	__u64 *sum;

	if (!established) {
		err = BPF_CORE_READ(sk, sk_err);
		count_percpu(&failures, err < CONNLAT_ERRNOS - 1 ? err : CONNLAT_ERRNOS - 1);
		return;
	}
	count_percpu(&latency_hist, log2_slot(latency / 1000));
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
	bpf_map_delete_elem(&pending, &key);
	if (needs_tuple())
		read_tuple(sk, &tuple);
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
	r->error = established ? 0 : BPF_CORE_READ(sk, sk_err);
	r->established = established;
	submit_record(r);
}

/* Active opens come out of SYN_SENT, or out of SYN_RECV after a
 * simultaneous open (the socket has its struct socket); passive children
 * come out of SYN_RECV before accept() gives them one. */
static __always_inline void count_connection(struct sock *sk, int oldstate, int newstate)
{
	struct sock_tuple tuple = {};
	__u8 *dir;

	if (newstate == TCP_ESTABLISHED && (oldstate == TCP_SYN_SENT || oldstate == TCP_SYN_RECV)) {
		if (filter.port || filter.family) {
			read_tuple(sk, &tuple);
			if (!tuple_passes(&tuple))
				return;
		}
		dir = bpf_sk_storage_get(&opened_as, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (!dir)
			return;
		*dir = 1 + (oldstate == TCP_SYN_RECV && !sk->sk_socket ? CONN_OPENED_PASSIVE :
							CONN_OPENED_ACTIVE);
		count_percpu(&connections, *dir - 1);
	} else if (newstate == TCP_CLOSE) {
		dir = bpf_sk_storage_get(&opened_as, sk, 0, 0);
		if (!dir || !*dir)
			return;		/* opened before the agent, filtered out, or never */
		count_percpu(&connections, CONN_CLOSED_ACTIVE + *dir - 1);
		*dir = 0;	/* a socket can connect again after a failure */
	}
}

static __always_inline int state_changed(struct sock *sk, int oldstate, int newstate)
{
	__u64 key = (__u64)sk;

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	if (count_connections)
		count_connection(sk, oldstate, newstate);
	if (newstate == TCP_SYN_SENT)
		handshake_started(sk, key);
	else if (newstate != TCP_SYN_RECV &&
		 (oldstate == TCP_SYN_SENT ||
		  /* After a simultaneous open; a passive child, which has no
		   * struct socket before accept, never had an entry. */
		  (oldstate == TCP_SYN_RECV && sk->sk_socket)))
		handshake_ended(sk, key, newstate);
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
