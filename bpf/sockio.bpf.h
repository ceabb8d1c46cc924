/* SPDX-License-Identifier: GPL-2.0-only */
/* Fallbacks for the end of a TCP or UDP socket's send and receive calls,
 * where the tracepoints sock_send_length and sock_recv_length (added in
 * Linux 6.5) are missing: fexit, else a kprobe/kretprobe pair, on
 * inet_sendmsg and inet6_sendmsg (inet_recvmsg, inet6_recvmsg). Those are
 * the ->sendmsg/->recvmsg of every TCP and UDP socket, whose return value
 * the tracepoints report right after the same call: the same calls, the
 * same byte counts (or -errno). They see no other families; the tracepoint
 * users that count TCP and UDP alone lose nothing. */
#ifndef SOCKEYE_SOCKIO_BPF_H
#define SOCKEYE_SOCKIO_BPF_H

#include <bpf/bpf_tracing.h>
#include "sockeye.bpf.h"

/* The socket of each thread's send or receive call in flight, from the
 * kprobe to the kretprobe (which sees only the result). A thread is in one
 * such call at a time; LRU because a kretprobe can be missed (too many calls
 * blocked at once), which leaves its entry behind. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct sock *);
} io_calls SEC(".maps");

static __always_inline void io_call_started(struct socket *sock)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct sock *sk = BPF_CORE_READ(sock, sk);

	bpf_map_update_elem(&io_calls, &tid, &sk, BPF_ANY);
}

static __always_inline struct sock *io_call_ended(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct sock **found = bpf_map_lookup_elem(&io_calls, &tid);
	struct sock *sk = found ? *found : NULL;

	if (found)
		bpf_map_delete_elem(&io_calls, &tid);
	return sk;
}

#define IO_KPROBES(name, func, handler)						\
	SEC("kprobe/" #func)							\
	int BPF_KPROBE(name##_kp, struct socket *sock)				\
	{									\
		io_call_started(sock);						\
		return 0;							\
	}									\
	SEC("kretprobe/" #func)							\
	int BPF_KRETPROBE(name##_kr, int ret)					\
	{									\
		struct sock *sk = io_call_ended();				\
										\
		if (sk)								\
			handler(sk, ret);					\
		return 0;							\
	}

/* The fexit and kprobes of one function; the arguments after size end
 * with the result, ret (recvmsg has flags before it). */
#define IO_FALLBACK(name, func, handler, ...)					\
	SEC("fexit/" #func)							\
	int BPF_PROG(name##_fx, struct socket *sock, struct msghdr *msg,	\
		     size_t size, __VA_ARGS__)					\
	{									\
		handler(sock->sk, ret);						\
		return 0;							\
	}									\
	IO_KPROBES(name, func, handler)

/* The fallback programs of one object: PREFIX_s4_fx, PREFIX_s4_kp,
 * PREFIX_s4_kr (send, IPv4), PREFIX_s6_*, PREFIX_r4_*, PREFIX_r6_*, calling
 * on_send(sk, ret) and on_recv(sk, ret). The handlers read the socket with
 * BPF_CORE_READ: a kprobe's pointers are not typed. src/sockio.h lists
 * them for select_programs(). */
#define SOCK_IO_FALLBACKS(prefix, on_send, on_recv)				\
	IO_FALLBACK(prefix##_s4, inet_sendmsg, on_send, int ret)		\
	IO_FALLBACK(prefix##_s6, inet6_sendmsg, on_send, int ret)		\
	IO_FALLBACK(prefix##_r4, inet_recvmsg, on_recv, int flags, int ret)	\
	IO_FALLBACK(prefix##_r6, inet6_recvmsg, on_recv, int flags, int ret)

#endif
