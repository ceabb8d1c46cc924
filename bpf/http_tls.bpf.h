/* SPDX-License-Identifier: GPL-2.0-only */
/* HTTPS for `sockeye http`: the plaintext of TLS connections, taken in the
 * TLS libraries by uprobes on their calls that write and read application
 * data, attached by user space (src/tls_libs.c) to each library file:
 *
 *   OpenSSL  SSL_write, SSL_write_ex, SSL_read, SSL_read_ex
 *   GnuTLS   gnutls_record_send, gnutls_record_recv
 *
 * Every one takes (connection object, buffer, length) first. On entry the
 * call is remembered in the thread's storage; the library's own system
 * calls on the socket then come while it runs, and the syscall programs
 * (inside_tls_call()) tie the library's connection object to that socket
 * and leave those encrypted bytes alone, so an exchange is counted once.
 * On return, the plaintext goes through the same capture() or sum_call()
 * as cleartext, on a connection entry of its own (connection()).
 *
 * A call that needs no system call (the library had the bytes already)
 * takes the socket its connection object was last tied to in this process
 * (tls_socks); one on a connection never tied yet (nothing crossed its
 * socket inside one of these calls) is not seen. Included by
 * bpf/http.bpf.c, after what it uses. */
#ifndef SOCKEYE_HTTP_TLS_BPF_H
#define SOCKEYE_HTTP_TLS_BPF_H

#include <bpf/bpf_tracing.h>

/* Set by user space when it loads the TLS programs: otherwise the syscall
 * programs skip the look-up below entirely. */
const volatile bool tls = false;

/* A TLS call in progress, from its entry to its return. */
struct tls_call {
	__u64 conn;		/* the library's connection: SSL *, gnutls_session_t */
	__u64 buf, buf_len;
	__u64 done_at;		/* SSL_*_ex: where the call stores its byte count */
	__u64 sk;		/* the socket a system call inside it used, or 0 */
	__u64 ts_ns;		/* a write's start */
	__u8 dir;
};

static const struct tls_call no_tls_call;

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tls_call);
} tls_calls SEC(".maps");

/* A library's connection object in one process, and its socket. */
struct tls_sock_key {
	__u64 conn;
	__u32 tgid;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct tls_sock_key);
	__type(value, __u64);
} tls_socks SEC(".maps");

/* For the syscall programs, on a watched socket: whether this thread is
 * inside a TLS call (its bytes are then encrypted: not HTTP to parse),
 * which is then tied to sk. */
static __always_inline bool inside_tls_call(struct sock *sk)
{
	struct tls_call *t;

	if (!tls)
		return false;
	t = thread_slot(&tls_calls, &no_tls_call, false);
	if (!t || !t->conn)
		return false;
	t->sk = (__u64)sk;
	return true;
}

static __always_inline int tls_enter(struct pt_regs *ctx, __u8 dir)
{
	struct tls_call *t;

	if (!current_passes())
		return 0;
	t = thread_slot(&tls_calls, &no_tls_call, true);
	if (!t)
		return 0;
	*t = (struct tls_call){
		.conn = PT_REGS_PARM1(ctx), .buf = PT_REGS_PARM2(ctx),
		.buf_len = PT_REGS_PARM3(ctx), .done_at = PT_REGS_PARM4(ctx),
		.ts_ns = dir == HTTP_SENT ? bpf_ktime_get_ns() : 0, .dir = dir,
	};
	return 0;
}

/* The socket of the call: the one used inside it, remembered for the
 * calls that use none, or the one remembered. */
static __always_inline __u64 tls_socket(const struct tls_call *t)
{
	struct tls_sock_key key = { .conn = t->conn, .tgid = bpf_get_current_pid_tgid() >> 32 };
	__u64 *known = bpf_map_lookup_elem(&tls_socks, &key);

	if (!t->sk)
		return known ? *known : 0;
	if (!known || *known != t->sk)
		bpf_map_update_elem(&tls_socks, &key, &t->sk, BPF_ANY);
	return t->sk;
}

/* ret: the call's return value: the bytes it moved, 0 or less if it
 * failed; for the _ex calls 1 on success, the bytes stored at done_at.
 * The socket is tied even when the call moved nothing (a read that would
 * block), so that the next call can use it. */
static __always_inline int tls_exit(bool ex, int ret)
{
	struct tls_call *p = thread_slot(&tls_calls, &no_tls_call, false);
	struct http_call c = { .tls = 1 };
	struct tls_call t;
	__u64 count;

	if (!p || !p->conn)
		return 0;
	t = *p;
	p->conn = 0;	/* used up */
	if (ex && (ret != 1 || bpf_probe_read_user(&count, sizeof(count), (void *)t.done_at)))
		return 0;
	if (!ex)
		count = ret > 0 ? ret : 0;
	c.sk = tls_socket(&t);
	if (!count || !c.sk)
		return 0;
	c.buf = t.buf;
	c.buf_len = t.buf_len;
	c.ts_ns = t.ts_ns;
	c.dir = t.dir;
	if (summarize)
		sum_call(&c, count);
	else
		capture(&c, count);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(tls_send_e)
{
	return tls_enter(ctx, HTTP_SENT);
}

SEC("uprobe")
int BPF_KPROBE(tls_recv_e)
{
	return tls_enter(ctx, HTTP_RECEIVED);
}

/* SSL_write, SSL_read: an int; gnutls_record_*: an ssize_t, whose lower
 * half is the same int for any count below 2 GiB and for every error. */
SEC("uretprobe")
int BPF_KRETPROBE(tls_x, int ret)
{
	return tls_exit(false, ret);
}

/* SSL_write_ex, SSL_read_ex: 1 on success, the count stored. */
SEC("uretprobe")
int BPF_KRETPROBE(tls_ex_x, int ret)
{
	return tls_exit(true, ret);
}

#endif
