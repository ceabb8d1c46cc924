// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye sockstat`, `sofamily` and `soprotocol`: counts kept in maps that
 * user space reads at its own pace; nothing per call leaves the kernel.
 *
 *   sockstat       tp/syscalls/sys_enter_* of the socket calls; every
 *                  socket-level send and receive from tp_btf/sock_send_length
 *                  and sock_recv_length
 *   sofamily,      tp/syscalls/sys_enter_connect, sys_exit_accept and
 *   soprotocol     sys_exit_accept4: the family and protocol of the socket
 *                  behind the fd, by process name
 *
 * Each command loads only its own programs (src/sockstat.c).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "sockeye.bpf.h"
#include "sockstat.h"

/* sockstat: calls counted per CPU and never cleared; user space sums the
 * CPUs and prints the difference from its previous read. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SS_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} ss_calls SEC(".maps");

static __always_inline int count_call(__u32 counter)
{
	if (current_passes())
		count_percpu(&ss_calls, counter);
	return 0;
}

#define COUNTING_PROG(section, name, counter)	\
	SEC(section)				\
	int name(void *ctx)			\
	{					\
		return count_call(counter);	\
	}

COUNTING_PROG("tp/syscalls/sys_enter_socket", ss_socket, SS_SOCKET)
COUNTING_PROG("tp/syscalls/sys_enter_socketpair", ss_socketpair, SS_SOCKETPAIR)
COUNTING_PROG("tp/syscalls/sys_enter_bind", ss_bind, SS_BIND)
COUNTING_PROG("tp/syscalls/sys_enter_listen", ss_listen, SS_LISTEN)
COUNTING_PROG("tp/syscalls/sys_enter_accept", ss_accept, SS_ACCEPT)
COUNTING_PROG("tp/syscalls/sys_enter_accept4", ss_accept4, SS_ACCEPT)
COUNTING_PROG("tp/syscalls/sys_enter_connect", ss_connect, SS_CONNECT)
COUNTING_PROG("tp/syscalls/sys_enter_sendto", ss_sendto, SS_SEND)
COUNTING_PROG("tp/syscalls/sys_enter_sendmsg", ss_sendmsg, SS_SEND)
COUNTING_PROG("tp/syscalls/sys_enter_sendmmsg", ss_sendmmsg, SS_SEND)
COUNTING_PROG("tp/syscalls/sys_enter_recvfrom", ss_recvfrom, SS_RECV)
COUNTING_PROG("tp/syscalls/sys_enter_recvmsg", ss_recvmsg, SS_RECV)
COUNTING_PROG("tp/syscalls/sys_enter_recvmmsg", ss_recvmmsg, SS_RECV)
COUNTING_PROG("tp/syscalls/sys_enter_shutdown", ss_shutdown, SS_SHUTDOWN)
/* What the seed's kprobes on sock_sendmsg/sock_recvmsg counted: these fire
 * at the end of every one, whichever system call (or the kernel) made it. */
COUNTING_PROG("tp_btf/sock_send_length", ss_sock_send, SS_SOCK_SEND)
COUNTING_PROG("tp_btf/sock_recv_length", ss_sock_recv, SS_SOCK_RECV)

/* sofamily and soprotocol: accepts and connects by process name, family
 * and protocol, counted per CPU (no atomic add on a count every CPU
 * shares; user space sums the CPUs). A plain hash, not LRU: an evicted row
 * would make counts go backwards between two reads, so a full map counts
 * what it turns away. Not preallocated: the map costs nothing until rows
 * come, and sockstat, which shares this object, never adds any. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, SO_MAX_ROWS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct so_key);
	__type(value, __u64);
} so_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} so_lost SEC(".maps");

static __always_inline void count_key(const struct so_key *key)
{
	if (count_key_percpu(&so_counts, key))
		count_percpu(&so_lost, 0);	/* the map is full */
}

/* Family and protocol come from the socket, not from the caller's address
 * (accept's may be NULL, connect's may be bad). */
static __always_inline void count_socket(enum so_kind kind, long fd)
{
	struct sock_owner owner = {};
	struct so_key key = {};
	struct sock *sk;

	current_owner(&owner);
	if (!current_owner_passes(&owner) || !(sk = sock_of_fd(fd)))
		return;
	key.family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (filter.family && key.family != filter.family)
		return;
	key.protocol = BPF_CORE_READ(sk, sk_protocol);
	key.kind = kind;
	__builtin_memcpy(key.comm, owner.comm, sizeof(key.comm));
	count_key(&key);
}

/* Every connect() on a socket, whether it then succeeds or not. */
SEC("tp/syscalls/sys_enter_connect")
int so_connect(struct trace_event_raw_sys_enter *ctx)
{
	count_socket(SO_CONNECT, ctx->args[0]);
	return 0;
}

/* Every accepted connection: the new fd is known on exit. */
static __always_inline int accepted(const struct trace_event_raw_sys_exit *ctx)
{
	if (ctx->ret >= 0)
		count_socket(SO_ACCEPT, ctx->ret);
	return 0;
}

#define ACCEPTING_PROG(syscall)					\
	SEC("tp/syscalls/sys_exit_" #syscall)			\
	int so_##syscall(struct trace_event_raw_sys_exit *ctx)	\
	{							\
		return accepted(ctx);				\
	}

ACCEPTING_PROG(accept)
ACCEPTING_PROG(accept4)

char LICENSE[] SEC("license") = "GPL";
