// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye top`: bytes sent and received per process, counted when the
 * process's send or receive call completes (tp_btf/sock_send_length and
 * sock_recv_length fire at the end of every sock_sendmsg/sock_recvmsg, in
 * the caller's context, with the byte count). The counts stay in a per-CPU
 * hash that user space reads each interval; nothing per call leaves. For
 * its connections view, top (not the agent) also counts the bytes of each
 * UDP socket of the process shown, until the socket is closed. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "sockeye.bpf.h"
#include "sockio.bpf.h"
#include "top.h"

char LICENSE[] SEC("license") = "GPL";

/* Not LRU: an evicted process would lose its totals without a trace. User
 * space deletes the rows of processes that have ended, once shown. Not
 * preallocated: a copy per CPU of 16384 entries would take megabytes on a
 * large host whatever it runs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct traffic_stats);
} traffic SEC(".maps");

/* Calls not counted because the map was full. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} traffic_lost SEC(".maps");

/* Set by user space where a hook tells it when a socket closes (top, not
 * the agent): then the UDP calls of the process udp_sockets_pid, which
 * top sets while it shows that process's connections (0: none), count per
 * socket too, in udp_socks. Only that process's: a hash look-up and an
 * atomic add per call would double the cost of every UDP call of the host. */
const volatile bool count_udp_sockets = false;
__u32 udp_sockets_pid = 0;

/* Sockets leave at close (top_udp_release), and when top stops showing
 * their process; not preallocated, as traffic. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct udp_sock_stats);
} udp_socks SEC(".maps");

/* Calls on UDP sockets not counted per socket because udp_socks was full. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} udp_socks_lost SEC(".maps");

static __always_inline struct traffic_stats *stats_of(__u32 pid)
{
	struct traffic_stats *s = bpf_map_lookup_elem(&traffic, &pid), fresh = {};
	struct task_struct *task;

	if (s)
		return s;
	/* The leader's name, as ps shows the process, not the sending
	 * thread's ("http-nio-8080-e"). */
	task = (struct task_struct *)bpf_get_current_task();
	BPF_CORE_READ_STR_INTO(&fresh.comm, task, group_leader, comm);
	fresh.first_ns = bpf_ktime_get_boot_ns();
	fresh.uid = (__u32)bpf_get_current_uid_gid();
	fresh.cgroup_id = bpf_get_current_cgroup_id();
	bpf_map_update_elem(&traffic, &pid, &fresh, BPF_NOEXIST);
	s = bpf_map_lookup_elem(&traffic, &pid);
	if (!s)
		count_percpu(&traffic_lost, 0);
	return s;
}

/* The family on the wire: an IPv6 socket connected to a v4-mapped address
 * (::ffff:a.b.c.d, a dual-stack server's IPv4 client) carries IPv4. */
static __always_inline __u16 wire_family(const struct sock *sk, __u16 family)
{
	__u32 daddr[4] = {};

	if (family != AF_INET6)
		return family;
	BPF_CORE_READ_INTO(&daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr32);
	return !daddr[0] && !daddr[1] && daddr[2] == bpf_htonl(0xffff) ? AF_INET : family;
}

/* The ports are read only under --port: this runs for every send and
 * receive on the host. */
static __always_inline bool port_passes(const struct sock *sk)
{
	if (!filter.port)
		return true;
	return BPF_CORE_READ(sk, __sk_common.skc_num) == filter.port ||
	       bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport)) == filter.port;
}

/* A UDP socket's tuple is read when it is first seen, and again when its
 * remote port has changed (a connect, or a disconnect: connect to AF_UNSPEC). */
static __always_inline void account_udp_socket(const struct sock *sk, __u32 pid, int bytes,
					       enum traffic_dir dir)
{
	struct udp_sock_stats *u, fresh = {};
	__u64 id = sk_address_id(sk);

	u = bpf_map_lookup_elem(&udp_socks, &id);
	if (!u) {
		fresh.pid = pid;
		read_tuple(sk, &fresh.tuple);
		bpf_map_update_elem(&udp_socks, &id, &fresh, BPF_NOEXIST);
		u = bpf_map_lookup_elem(&udp_socks, &id);
		if (!u) {
			count_percpu(&udp_socks_lost, 0);
			return;
		}
	} else if (u->tuple.dport != bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport))) {
		read_tuple(sk, &u->tuple);
	}
	__sync_fetch_and_add(&u->bytes[dir], bytes);
}

/* Counts a call on sk, whose family and protocol the caller read. */
static __always_inline void account(const struct sock *sk, __u16 family, __u8 protocol,
				    int bytes, enum traffic_dir dir)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct traffic_stats *s;

	if (bytes <= 0 || !is_inet(family) || (protocol != IPPROTO_TCP && protocol != IPPROTO_UDP))
		return;
	family = wire_family(sk, family);
	if ((filter.family && family != filter.family) || !port_passes(sk) || !current_passes())
		return;
	s = stats_of(pid);
	if (s)	/* this CPU's copy: no other writer */
		s->bytes[dir][(protocol == IPPROTO_UDP) * 2 + (family == AF_INET6)] += bytes;
	if (count_udp_sockets && protocol == IPPROTO_UDP && pid == udp_sockets_pid)
		account_udp_socket(sk, pid, bytes, dir);
}

/* The tracepoints' socket is typed: plain loads, where a helper call per
 * field (BPF_CORE_READ) made each run about a third slower. */
static __always_inline void account_typed(const struct sock *sk, int bytes,
					  enum traffic_dir dir)
{
	account(sk, sk->__sk_common.skc_family, sk->sk_protocol, bytes, dir);
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(top_send, struct sock *sk, int ret, int flags)
{
	account_typed(sk, ret, DIR_SENT);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(top_recv, struct sock *sk, int ret, int flags)
{
	account_typed(sk, ret, DIR_RECV);
	return 0;
}

/* The same, under the agent's own names, so that `bpftool prog` and the
 * tests tell the agent's programs from top's. */
SEC("tp_btf/sock_send_length")
int BPF_PROG(agent_send, struct sock *sk, int ret, int flags)
{
	account_typed(sk, ret, DIR_SENT);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(agent_recv, struct sock *sk, int ret, int flags)
{
	account_typed(sk, ret, DIR_RECV);
	return 0;
}

/* The fallbacks' kprobes pass an untyped pointer: BPF_CORE_READ. */
static __always_inline void account_untyped(const struct sock *sk, int bytes,
					    enum traffic_dir dir)
{
	account(sk, BPF_CORE_READ(sk, __sk_common.skc_family), BPF_CORE_READ(sk, sk_protocol),
		bytes, dir);
}

static __always_inline void sent(const struct sock *sk, int ret)
{
	account_untyped(sk, ret, DIR_SENT);
}

static __always_inline void received(const struct sock *sk, int ret)
{
	account_untyped(sk, ret, DIR_RECV);
}

SOCK_IO_FALLBACKS(top, sent, received)
SOCK_IO_FALLBACKS(agent, sent, received)

/* A closed UDP socket leaves udp_socks: the cgroup hook, which reaches the
 * socket through bpf_cast_to_kern_ctx (Linux 6.2+), else fentry on
 * inet_release (inet6_release calls it), which runs that hook. */
static __always_inline void forget_udp_socket(const struct sock *sk)
{
	__u64 id = sk_address_id(sk);

	bpf_map_delete_elem(&udp_socks, &id);
}

SEC("cgroup/sock_release")
int top_udp_release(struct bpf_sock *ctx)
{
	if (ctx->protocol == IPPROTO_UDP)
		forget_udp_socket(bpf_cast_to_kern_ctx(ctx));
	return 1;
}

SEC("fentry/inet_release")
int BPF_PROG(top_udp_release_fe, struct socket *sock)
{
	struct sock *sk = sock->sk;

	if (sk && sk->sk_protocol == IPPROTO_UDP)
		forget_udp_socket(sk);
	return 0;
}
