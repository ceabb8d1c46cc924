// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye events`: one record per socket event, from stable hooks only.
 *
 *   create, close, bind      cgroup/sock_create, sock_release, post_bind4/6,
 *                            else fexit/fentry where they run (Linux 6.1)
 *   connect (TCP)            tp_btf/inet_sock_set_state: CLOSE->SYN_SENT starts
 *                            it in the caller's context, leaving SYN_SENT ends it
 *   connect (UDP)            cgroup/connect4/6, else fentry/inet_dgram_connect
 *   listen, disconnect,
 *   state                    tp_btf/inet_sock_set_state
 *   send, recv               tp_btf/sock_send_length, sock_recv_length, else
 *                            fexit or kprobes (sockio.bpf.h)
 *   accept, shutdown         tp/syscalls: nothing else runs in the accepting
 *                            or shutting-down process and knows the fd/how
 *   reset sent/received      tp_btf/tcp_send_reset, tcp_receive_reset
 *   error                    tp_btf/inet_sk_error_report
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "sockeye.bpf.h"
#include "owners.bpf.h"
#include "records.bpf.h"
#include "sockio.bpf.h"
#include "events.h"

#define SHUTDOWN_MASK 3

const volatile __u32 event_mask = EV_DEFAULT_MASK;
const volatile __u8 proto_mask = PROTO_TCP_BIT | PROTO_UDP_BIT;

#define SIN6_LEN_RFC2133 24	/* an IPv6 address without the scope id */

/* TCP connects in flight: the connecting process, kept until SYN_SENT ends. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct sock_owner);
} connecting SEC(".maps");

struct shutdown_call {
	__s32 fd;
	__u32 how;
};

/* shutdown() calls in flight, by thread; LRU because a thread killed
 * inside the call never reaches the exit that deletes its entry. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);	/* tid */
	__type(value, struct shutdown_call);
} shutdowns SEC(".maps");

static __always_inline bool kind_wanted(enum event_kind kind)
{
	return event_mask & EV_BIT(kind);
}

static __always_inline bool wanted(enum event_kind kind, __u8 protocol)
{
	if (!kind_wanted(kind))
		return false;
	if (protocol == IPPROTO_TCP)
		return proto_mask & PROTO_TCP_BIT;
	if (protocol == IPPROTO_UDP)
		return proto_mask & PROTO_UDP_BIT;
	return false;
}

/* Filters and sends one record. The caller read the tuple, and patched it
 * where it knows better (new TCP state, UDP connect's destination, a reset
 * sent for no socket); sk, when there is one, gives the buffer sizes.
 * typed: sk may be loaded from directly (LOAD in sockeye.bpf.h). */
static __always_inline void emit(enum event_kind kind, const struct sock *sk, bool typed,
				 const struct sock_tuple *tuple, __u64 cookie,
				 const struct sock_owner *owner, __s32 result, __u8 arg)
{
	struct event_record *e;

	if (!tuple_passes(tuple) || !owner_passes(owner))
		return;
	e = reserve_record(sizeof(*e));
	if (!e)
		return;
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->cookie = cookie;
	e->tuple = *tuple;
	e->owner = *owner;
	e->result = result;
	e->kind = kind;
	e->arg = arg;
	if (sk) {
		e->rcvbuf = LOAD(typed, sk, sk_rcvbuf);
		e->sndbuf = LOAD(typed, sk, sk_sndbuf);
	}
	submit_record(e);
}

/* An event of a socket: read its tuple, attribute it (to the current
 * process, or on the packet path to the socket's recorded owner), send it. */
static __always_inline void emit_sock(enum event_kind kind, const struct sock *sk, bool typed,
				      __u64 cookie, bool in_process, __s32 result, __u8 arg)
{
	struct sock_tuple tuple = {};
	struct sock_owner owner = {};

	/* Book-keeping programs run for every socket: skip the reads when
	 * their event is not asked for. */
	if (!kind_wanted(kind))
		return;
	read_tuple_of(sk, &tuple, typed);
	if (!is_inet(tuple.family) || !wanted(kind, tuple.protocol))
		return;
	if (in_process)
		current_owner(&owner);
	else
		lookup_owner(cookie, &owner);
	emit(kind, sk, typed, &tuple, cookie, &owner, result, arg);
}

/* The two for a typed sk, which most hooks give. */
static __always_inline void emit_current(enum event_kind kind, const struct sock *sk,
					 __u64 cookie, __s32 result, __u8 arg)
{
	emit_sock(kind, sk, true, cookie, true, result, arg);
}

static __always_inline void emit_owned(enum event_kind kind, const struct sock *sk,
				       __u64 cookie, __s32 result, __u8 arg)
{
	emit_sock(kind, sk, true, cookie, false, result, arg);
}

/* The state-change tracepoint fires before the new state is stored: the
 * record carries the new one. */
static __always_inline void emit_transition(enum event_kind kind, const struct sock *sk,
					    __u64 cookie, const struct sock_owner *owner,
					    int oldstate, int newstate, __s32 result)
{
	struct sock_tuple tuple = {};

	if (!kind_wanted(kind))
		return;
	read_tuple_typed(sk, &tuple);
	if (!is_inet(tuple.family) || !wanted(kind, tuple.protocol))
		return;
	tuple.state = newstate;
	emit(kind, sk, true, &tuple, cookie, owner, result, oldstate);
}

/* tcp_disconnect() (connect(AF_UNSPEC), shutdown of a listener or of a
 * connecting socket) moves to CLOSE with no error and without the full
 * shutdown mask that close() and a finished connection set. */
static __always_inline bool is_disconnect(const struct sock *sk, int oldstate)
{
	return oldstate != TCP_SYN_SENT && oldstate != TCP_CLOSE && sk->sk_err == 0 &&
	       sk->sk_shutdown != SHUTDOWN_MASK;
}

static __always_inline void connect_started(__u64 cookie)
{
	struct sock_owner owner = {};

	current_owner(&owner);
	bpf_map_update_elem(&connecting, &cookie, &owner, BPF_ANY);
	remember_owner(cookie, &owner);
}

static __always_inline void connect_ended(const struct sock *sk, __u64 cookie, int newstate)
{
	struct sock_owner *found = bpf_map_lookup_elem(&connecting, &cookie);
	struct sock_owner owner;

	if (!found)
		return;		/* started before sockeye */
	owner = *found;
	bpf_map_delete_elem(&connecting, &cookie);
	emit_transition(EV_CONNECT, sk, cookie, &owner, TCP_SYN_SENT, newstate, -sk->sk_err);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(set_state, struct sock *sk, int oldstate, int newstate)
{
	struct sock_owner owner = {};
	__u64 cookie;

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	/* Asking for the cookie makes the kernel assign one now, so the
	 * syscall programs below, which can only read it, find it set. */
	cookie = sk_cookie(sk);

	if (oldstate == TCP_CLOSE && newstate == TCP_SYN_SENT) {
		connect_started(cookie);
	} else if (oldstate == TCP_SYN_SENT) {
		connect_ended(sk, cookie, newstate);
	} else if (newstate == TCP_LISTEN ||
		   (newstate == TCP_CLOSE && is_disconnect(sk, oldstate))) {
		current_owner(&owner);
		emit_transition(newstate == TCP_LISTEN ? EV_LISTEN : EV_DISCONNECT, sk, cookie,
				&owner, oldstate, newstate, 0);
	}
	if (kind_wanted(EV_STATE)) {
		lookup_owner(cookie, &owner);
		emit_transition(EV_STATE, sk, cookie, &owner, oldstate, newstate, 0);
	}
	return 0;
}

/* Reads the socket's cookie without assigning one (no helper does in
 * kprobes), so the kprobe fallbacks can call it too (untyped). The cookie
 * was assigned when the socket was created or changed state. */
static __always_inline void io_event(enum event_kind kind, const struct sock *sk, bool typed,
				     int ret)
{
	if (!is_inet(LOAD(typed, sk, __sk_common.skc_family)))
		return;
	emit_sock(kind, sk, typed, stored_cookie_of(sk, typed), true, ret, 0);
}

static __always_inline void sent(const struct sock *sk, int ret)
{
	io_event(EV_SEND, sk, false, ret);
}

static __always_inline void received(const struct sock *sk, int ret)
{
	io_event(EV_RECV, sk, false, ret);
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(send_length, struct sock *sk, int ret, int flags)
{
	io_event(EV_SEND, sk, true, ret);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(recv_length, struct sock *sk, int ret, int flags)
{
	io_event(EV_RECV, sk, true, ret);
	return 0;
}

SOCK_IO_FALLBACKS(ev, sent, received)

/* A reset sent for a segment no socket wanted (a connect to a closed
 * port): the addresses come from that segment, reversed. */
static __always_inline void reset_without_socket(const struct sk_buff *skb)
{
	struct sock_owner nobody = {};
	struct sock_tuple tuple = {};
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	__u16 th = BPF_CORE_READ(skb, transport_header);
	struct tcphdr tcp;
	__u8 version;

	if (!wanted(EV_RESET_SENT, IPPROTO_TCP))
		return;
	if (bpf_probe_read_kernel(&version, 1, head + nh) ||
	    bpf_probe_read_kernel(&tcp, sizeof(tcp), head + th))
		return;
	version >>= 4;
	if (version == 4) {
		struct iphdr ip;

		if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh))
			return;
		tuple.family = AF_INET;
		__builtin_memcpy(tuple.saddr, &ip.daddr, 4);
		__builtin_memcpy(tuple.daddr, &ip.saddr, 4);
	} else if (version == 6) {
		struct ipv6hdr ip6;

		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh))
			return;
		tuple.family = AF_INET6;
		__builtin_memcpy(tuple.saddr, &ip6.daddr, 16);
		__builtin_memcpy(tuple.daddr, &ip6.saddr, 16);
	} else {
		return;
	}
	tuple.protocol = IPPROTO_TCP;
	tuple.state = TCP_CLOSE;
	tuple.sport = bpf_ntohs(tcp.dest);
	tuple.dport = bpf_ntohs(tcp.source);
	emit(EV_RESET_SENT, NULL, false, &tuple, 0, &nobody, 0, 0);
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(send_reset, const struct sock *sk, const struct sk_buff *skb)
{
	if (sk)
		emit_owned(EV_RESET_SENT, sk, sk_cookie((void *)sk), 0, 0);
	else if (skb)
		reset_without_socket(skb);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(receive_reset, struct sock *sk)
{
	emit_owned(EV_RESET_RECV, sk, sk_cookie(sk), 0, 0);
	return 0;
}

SEC("tp_btf/inet_sk_error_report")
int BPF_PROG(error_report, const struct sock *sk)
{
	/* tcp_disconnect() reports with no error set, to wake up waiters. */
	if (!sk->sk_err)
		return 0;
	emit_owned(EV_ERROR, sk, sk_cookie((void *)sk), -sk->sk_err, 0);
	return 0;
}

static __always_inline void forget_sock(struct sock *sk)
{
	__u64 cookie = sk_cookie(sk);

	bpf_map_delete_elem(&connecting, &cookie);
	bpf_map_delete_elem(&owners, &cookie);
}

/* A destroyed socket leaves the maps, by twin programs (sockeye.bpf.h). */
FORGET_ON_DESTROY(forget_a, forget_b, forget_sock)

/* cgroup socket hooks: process context, TCP and UDP alike. They only
 * observe: every one returns 1, "allow". They reach the socket through
 * bpf_cast_to_kern_ctx (Linux 6.2+); before it, fexit and fentry on the
 * functions that run these hooks take their place (the _fx and _fe
 * programs): the same calls, at the same points, for the same sockets. */

static __always_inline void created(struct sock *sk, __u64 cookie)
{
	struct sock_owner owner = {};

	current_owner(&owner);
	remember_owner(cookie, &owner);
	emit_current(EV_CREATE, sk, cookie, 0, 0);
}

SEC("cgroup/sock_create")
int sock_create(struct bpf_sock *ctx)
{
	if (ctx->protocol == IPPROTO_TCP || ctx->protocol == IPPROTO_UDP)
		created(bpf_cast_to_kern_ctx(ctx), bpf_get_socket_cookie(ctx));
	return 1;
}

/* inet_create and inet6_create run the hook as they end, for sockets a
 * process asked for (not the kernel's own). */
static __always_inline void created_fx(struct socket *sock, int kern, int ret)
{
	struct sock *sk = sock->sk;

	if (ret || kern || !sk)
		return;
	if (sk->sk_protocol == IPPROTO_TCP || sk->sk_protocol == IPPROTO_UDP)
		created(sk, sk_cookie(sk));
}

SEC("fexit/inet_create")
int BPF_PROG(ev_create4_fx, struct net *net, struct socket *sock, int protocol, int kern, int ret)
{
	created_fx(sock, kern, ret);
	return 0;
}

SEC("fexit/inet6_create")
int BPF_PROG(ev_create6_fx, struct net *net, struct socket *sock, int protocol, int kern, int ret)
{
	created_fx(sock, kern, ret);
	return 0;
}

static __always_inline void released(struct sock *sk, __u64 cookie, __u8 protocol)
{
	emit_current(EV_CLOSE, sk, cookie, 0, 0);
	/* A TCP socket lives on after close (FIN, TIME_WAIT, resets) and keeps
	 * its owner until tcp_destroy_sock; a UDP socket ends here. */
	if (protocol == IPPROTO_UDP)
		bpf_map_delete_elem(&owners, &cookie);
}

SEC("cgroup/sock_release")
int sock_release(struct bpf_sock *ctx)
{
	released(bpf_cast_to_kern_ctx(ctx), bpf_get_socket_cookie(ctx), ctx->protocol);
	return 1;
}

/* inet_release (inet6_release calls it) runs the hook first, for sockets
 * the kernel did not make. */
SEC("fentry/inet_release")
int BPF_PROG(ev_release_fe, struct socket *sock)
{
	struct sock *sk = sock->sk;

	if (sk && !BPF_CORE_READ_BITFIELD_PROBED(sk, sk_kern_sock))
		released(sk, sk_cookie(sk), sk->sk_protocol);
	return 0;
}

static __always_inline int bound(struct bpf_sock *ctx)
{
	emit_current(EV_BIND, bpf_cast_to_kern_ctx(ctx), bpf_get_socket_cookie(ctx), 0, 0);
	return 1;
}

SEC("cgroup/post_bind4")
int post_bind4(struct bpf_sock *ctx)
{
	return bound(ctx);
}

SEC("cgroup/post_bind6")
int post_bind6(struct bpf_sock *ctx)
{
	return bound(ctx);
}

/* inet_bind and inet6_bind run the hook once the address is taken. */
static __always_inline void bound_fx(struct socket *sock, int ret)
{
	struct sock *sk = sock->sk;

	if (!ret && sk)
		emit_current(EV_BIND, sk, sk_cookie(sk), 0, 0);
}

SEC("fexit/inet_bind")
int BPF_PROG(ev_bind4_fx, struct socket *sock, struct sockaddr *uaddr, int addr_len, int ret)
{
	bound_fx(sock, ret);
	return 0;
}

SEC("fexit/inet6_bind")
int BPF_PROG(ev_bind6_fx, struct socket *sock, struct sockaddr *uaddr, int addr_len, int ret)
{
	bound_fx(sock, ret);
	return 0;
}

/* UDP connect sets no TCP state, so the hook before it is the one place to
 * see it; the destination (network order, 4 or 16 bytes in daddr) is the
 * caller's. */
static __always_inline void udp_connected(struct sock *sk, __u64 cookie, const __u8 *daddr,
					  __u16 dport)
{
	struct sock_tuple tuple = {};
	struct sock_owner owner = {};

	read_tuple_typed(sk, &tuple);
	if (!wanted(EV_CONNECT, tuple.protocol))
		return;
	__builtin_memcpy(tuple.daddr, daddr, sizeof(tuple.daddr));
	tuple.dport = bpf_ntohs(dport);
	current_owner(&owner);
	remember_owner(cookie, &owner);
	emit(EV_CONNECT, sk, true, &tuple, cookie, &owner, 0, 0);
}

/* family is a constant per hook: each may only read its own user_ip field. */
static __always_inline int udp_connect(struct bpf_sock_addr *ctx, __u16 family)
{
	struct bpf_sock_addr_kern *kctx = bpf_cast_to_kern_ctx(ctx);
	__u32 daddr[4] = {};

	if (ctx->protocol != IPPROTO_UDP)
		return 1;
	if (family == AF_INET) {
		daddr[0] = ctx->user_ip4;
	} else {
		daddr[0] = ctx->user_ip6[0];
		daddr[1] = ctx->user_ip6[1];
		daddr[2] = ctx->user_ip6[2];
		daddr[3] = ctx->user_ip6[3];
	}
	udp_connected(kctx->sk, bpf_get_socket_cookie(ctx), (const __u8 *)daddr, ctx->user_port);
	return 1;
}

SEC("cgroup/connect4")
int connect4(struct bpf_sock_addr *ctx)
{
	return udp_connect(ctx, AF_INET);
}

SEC("cgroup/connect6")
int connect6(struct bpf_sock_addr *ctx)
{
	return udp_connect(ctx, AF_INET6);
}

/* inet_dgram_connect (IPv4 and IPv6 UDP) runs the hooks through the
 * protocol's pre_connect, for an address of the right size; an AF_UNSPEC
 * one disconnects instead. The hook follows the address's family: an IPv4
 * address on an IPv6 socket goes to connect4. */
SEC("fentry/inet_dgram_connect")
int BPF_PROG(ev_connect_fe, struct socket *sock, struct sockaddr *uaddr, int addr_len)
{
	struct sock *sk = sock->sk;
	struct sockaddr_in6 in6 = {};
	struct sockaddr_in in = {};
	__u32 daddr[4] = {};
	__u16 family;

	if (!sk || sk->sk_protocol != IPPROTO_UDP)
		return 0;
	family = BPF_CORE_READ(uaddr, sa_family);
	if (family == AF_INET && addr_len >= (int)sizeof(in) &&
	    !bpf_probe_read_kernel(&in, sizeof(in), uaddr)) {
		daddr[0] = in.sin_addr.s_addr;
		udp_connected(sk, sk_cookie(sk), (const __u8 *)daddr, in.sin_port);
	} else if (family == AF_INET6 && addr_len >= SIN6_LEN_RFC2133 &&
		   !bpf_probe_read_kernel(&in6, SIN6_LEN_RFC2133, uaddr)) {
		__builtin_memcpy(daddr, &in6.sin6_addr, 16);
		udp_connected(sk, sk_cookie(sk), (const __u8 *)daddr, in6.sin6_port);
	}
	return 0;
}

static __always_inline void accepted(long fd)
{
	struct sock *sk;
	struct sock_owner owner = {};
	__u64 cookie;

	if (fd < 0 || !(sk = sock_of_fd(fd)))
		return;
	cookie = stored_cookie(sk);
	current_owner(&owner);
	remember_owner(cookie, &owner);
	emit_sock(EV_ACCEPT, sk, false, cookie, true, 0, 0);	/* sk from helper reads */
}

ON_ACCEPT_EXIT(exit_accept, accepted)

SEC("tp/syscalls/sys_enter_shutdown")
int enter_shutdown(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct shutdown_call call = { .fd = ctx->args[0], .how = ctx->args[1] };

	bpf_map_update_elem(&shutdowns, &tid, &call, BPF_ANY);
	return 0;
}

SEC("tp/syscalls/sys_exit_shutdown")
int exit_shutdown(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct shutdown_call *call = bpf_map_lookup_elem(&shutdowns, &tid);
	struct sock *sk;

	if (!call)
		return 0;
	sk = sock_of_fd(call->fd);
	if (sk)
		emit_sock(EV_SHUTDOWN, sk, false, stored_cookie(sk), true, ctx->ret, call->how);
	bpf_map_delete_elem(&shutdowns, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
