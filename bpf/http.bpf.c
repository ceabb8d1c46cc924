// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye http`: the first bytes of HTTP/1.x messages read from and
 * written to TCP sockets (and, through bpf/http_tls.bpf.h, inside TLS),
 * copied out of the caller's buffer at the end of
 * read/write/readv/writev/sendto/recvfrom/sendmsg/recvmsg (the only place
 * both the bytes and the count are known; a writer's buffer is still as it
 * was sent). User space (src/http_parse.c) reassembles and parses them.
 *
 * A socket is watched from the first call whose bytes start like a request
 * or a response; from then on every call that starts a message copies up
 * to max_bytes, and the calls after it copy what is left of that budget,
 * so a request written in pieces arrives whole while a large body costs
 * nothing. Writes on other sockets cost a look-up and an 8-byte read; reads
 * a map update and delete as well, since what they read is known only at
 * their end.
 *
 * With summarize (--summary, the agent) nothing is copied out: the calls
 * that start a request or a response are read here, up to the end of the
 * request's path group, and each exchange is added to the sums map, so
 * user space only reads that map. Unlike user space's parser this mode
 * does not follow message bodies: a body whose write or read starts like
 * a request or a response is taken for one.
 *
 * Program names: http_<call>_e on sys_enter, http_<call>_x on sys_exit,
 * short enough to stay apart in the kernel's 15 characters. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "sockeye.bpf.h"
#include "records.bpf.h"
#include "http.h"

char LICENSE[] SEC("license") = "GPL";

#define MSG_PEEK 2
#define HEAD_BYTES 8	/* enough for the longest start token, "CONNECT " */

/* --max-bytes, set by user space before load (at most HTTP_MAX_BYTES). */
const volatile __u32 max_bytes = HTTP_DEFAULT_BYTES;
/* Sum exchanges in the sums map instead of copying bytes out. */
const volatile bool summarize = false;
/* When summing: key the sums by path group too (--summary; the agent
 * does not), and count only paths starting with path_prefix. */
const volatile bool group_by_path = false;
const volatile char path_prefix[HTTP_PATH_LEN + 1] = {};
const volatile __u32 path_prefix_len = 0;

/* A call in progress, from sys_enter to sys_exit of its thread. */
struct http_call {
	__u64 sk;
	__u64 buf;		/* the caller's (first) buffer */
	__u64 buf_len;
	__u64 ts_ns;		/* a write's start; 0 for a read */
	__u32 nr;		/* the system call (an int in the tracepoint: the
				 * upper half of ctx->id is padding) */
	__u8 dir;
	__u8 tls;		/* a TLS library's call: the bytes are plaintext */
	__u8 pad[2];
};

/* Task storage: goes with the thread, and costs no hash look-up (or the
 * fallback of thread_slot() in bpf/sockeye.bpf.h). */
static const struct http_call no_call;

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct http_call);
} calls SEC(".maps");

/* When summing: a request waiting for its answer. */
struct pending_request {
	__u64 ts_ns;
	char method[HTTP_METHOD_LEN];
	char group[HTTP_PATH_LEN + 8];
};

/* A watched socket. Its ports tell a reused struct sock from the old one;
 * its tuple, read once, goes into every record. */
struct http_conn {
	__u64 id;
	__u32 budget[2];	/* bytes still to copy of the current message */
	__u32 asked, answered;	/* requests seen and answered (summing) */
	__u32 tls_seq[2];	/* TLS: plaintext bytes moved since it was seen */
	struct sock_tuple tuple;	/* state: as when it was first seen */
	/* Summing: request number held_n, asked when no other was waiting,
	 * as most are; the others wait in the pending map. */
	__u32 held_n;
	struct pending_request held;
};

/* LRU: sockets are not followed to their end; idle ones age out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct http_conn);
} conns SEC(".maps");

/* Connections met on each CPU: a connection's id is its CPU's count and
 * the CPU, unique with no atomic fetch (which needs Linux 5.12): a
 * program does not leave its CPU while it runs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} conns_met SEC(".maps");

static __always_inline __u64 new_conn_id(void)
{
	__u32 zero = 0;
	__u64 *met = bpf_map_lookup_elem(&conns_met, &zero);

	if (!met)
		return 0;
	/* The count in the low bits: user space spreads connections over its
	 * slots by the id's remainder. */
	return (__u64)bpf_get_smp_processor_id() << 48 | ++*met;
}

/* When summing: the requests of a connection that wait for their answer
 * behind an older one (pipelined), by connection and number. An entry of
 * its own costs an LRU hash update, look-up and delete (about 1 us a
 * request, both sides, in bench/results/2026-12-07-profile.md), so the
 * first waits in the connection's entry. */
struct pending_key {
	__u64 conn_id;
	__u32 n;
	__u32 pad;
};

/* User space makes it one entry when not summing. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct pending_key);
	__type(value, struct pending_request);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, HTTP_SUM_ROWS);
	__type(key, struct http_sum_key);
	__type(value, struct http_sum);
} sums SEC(".maps");

/* Exchanges not summed: the sums map was full. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sums_full SEC(".maps");

static const struct http_sum zero_sum;

/* Records are built here: too large for the stack, and sent with only the
 * bytes copied. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct http_record);
} scratch SEC(".maps");

/* A start token: its bytes as a little-endian word, and how many count. */
#define TOKEN(a, b, c, d, e, f, g, h, n)                                        \
	{ (__u64)(a) | (__u64)(b) << 8 | (__u64)(c) << 16 | (__u64)(d) << 24 |  \
	  (__u64)(e) << 32 | (__u64)(f) << 40 | (__u64)(g) << 48 | (__u64)(h) << 56, n }

struct token {
	__u64 word;
	__u32 len;
};

static __always_inline bool token_matches(__u64 head, __u32 n, const struct token *t)
{
	return n >= t->len && (head & (~0ULL >> (64 - 8 * t->len))) == t->word;
}

static const struct token response_token = TOKEN('H', 'T', 'T', 'P', '/', '1', '.', 0, 7);

/* If the n bytes of head begin a request: the length of its method and the
 * space after it; else 0. */
static __always_inline __u32 request_start(__u64 head, __u32 n)
{
	static const struct token requests[] = {
		TOKEN('G', 'E', 'T', ' ', 0, 0, 0, 0, 4),
		TOKEN('P', 'O', 'S', 'T', ' ', 0, 0, 0, 5),
		TOKEN('P', 'U', 'T', ' ', 0, 0, 0, 0, 4),
		TOKEN('H', 'E', 'A', 'D', ' ', 0, 0, 0, 5),
		TOKEN('D', 'E', 'L', 'E', 'T', 'E', ' ', 0, 7),
		TOKEN('P', 'A', 'T', 'C', 'H', ' ', 0, 0, 6),
		TOKEN('O', 'P', 'T', 'I', 'O', 'N', 'S', ' ', 8),
		TOKEN('C', 'O', 'N', 'N', 'E', 'C', 'T', ' ', 8),
		TOKEN('T', 'R', 'A', 'C', 'E', ' ', 0, 0, 6),
	};

	for (int i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		if (token_matches(head, n, &requests[i]))
			return requests[i].len;
	return 0;
}

/* HTTP_START_* if the n bytes of head begin a request or a response. */
static __always_inline __u8 message_start(__u64 head, __u32 n)
{
	if (token_matches(head, n, &response_token))
		return HTTP_START_RESPONSE;
	return request_start(head, n) ? HTTP_START_REQUEST : 0;
}

/* The first bytes of a buffer, as a word; false if they cannot be read
 * (BPF cannot fault a page in). */
static __always_inline bool read_head(__u64 buf, __u64 len, __u64 *head, __u32 *n)
{
	*head = 0;
	*n = len < HEAD_BYTES ? len : HEAD_BYTES;
	return !bpf_probe_read_user(head, *n, (const void *)buf);
}

static __always_inline __u8 start_of(__u64 buf, __u64 len)
{
	__u64 head;
	__u32 n;

	return read_head(buf, len, &head, &n) ? message_start(head, n) : 0;
}

/* The TCP socket behind fd, if it and the caller pass the filters. */
static __always_inline struct sock *watched_socket(long fd)
{
	struct sock *sk;

	if (!current_passes())
		return NULL;
	sk = sock_of_fd(fd);
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP ||
	    !is_inet(BPF_CORE_READ(sk, __sk_common.skc_family)))
		return NULL;
	if (filter.port || filter.family) {
		struct sock_tuple t;

		read_tuple(sk, &t);
		if (!tuple_passes(&t))
			return NULL;
	}
	return sk;
}

/* Whether a write will copy anything: it starts a message, or continues
 * one whose budget is not spent. */
static __always_inline bool write_copies(__u64 key, __u64 buf, __u64 len)
{
	struct http_conn *conn;
	__u64 head;
	__u32 n;

	/* Summing copies nothing but starts. */
	conn = summarize ? NULL : bpf_map_lookup_elem(&conns, &key);
	if (conn && conn->budget[HTTP_SENT])
		return true;
	/* A buffer not yet faulted in (constant data, a child after fork) is
	 * readable at the exit, once the kernel has copied from it. */
	return !read_head(buf, len, &head, &n) || message_start(head, n);
}

static __always_inline void remember(const struct trace_event_raw_sys_enter *ctx,
				     struct sock *sk, __u64 buf, __u64 len, __u8 dir)
{
	__u64 key = (__u64)sk;
	struct http_call c = {
		/* A read's time is its end (call_time()): no clock read here. */
		.sk = key, .buf = buf, .buf_len = len,
		.ts_ns = dir == HTTP_SENT ? bpf_ktime_get_ns() : 0,
		.nr = (__u32)ctx->id, .dir = dir,
	};
	struct http_call *slot;

	/* Most writes on the host copy nothing (not HTTP, or the rest of a
	 * body): leave them before any map update. Reads cannot be judged
	 * before their bytes are there. */
	if (dir == HTTP_SENT && !write_copies(key, buf, len))
		return;
	slot = thread_slot(&calls, &no_call, true);
	if (slot)
		*slot = c;
}

static __always_inline void remember_iov(const struct trace_event_raw_sys_enter *ctx,
					 struct sock *sk, const struct iovec *iov, __u8 dir)
{
	struct iovec v;

	if (!bpf_probe_read_user(&v, sizeof(v), iov))
		remember(ctx, sk, (__u64)v.iov_base, v.iov_len, dir);
}

static __always_inline void remember_msg(const struct trace_event_raw_sys_enter *ctx,
					 struct sock *sk, const struct user_msghdr *msg, __u8 dir)
{
	struct user_msghdr m;

	if (!bpf_probe_read_user(&m, sizeof(m), msg) && m.msg_iovlen)
		remember_iov(ctx, sk, m.msg_iov, dir);
}

/* The call's connection entry: found when its socket's ports still match,
 * made when the call starts a message. The plaintext inside TLS has an
 * entry of its own, keyed by the socket's address with its lowest bit set
 * (a struct sock is aligned). */
static __always_inline struct http_conn *connection(const struct http_call *c, __u8 start)
{
	const struct inet_sock *inet = (const struct inet_sock *)c->sk;
	__u64 key = c->sk | c->tls;
	struct http_conn *conn = bpf_map_lookup_elem(&conns, &key);
	struct http_conn fresh = {};

	if (!conn && !start)
		return NULL;
	if (conn && conn->tuple.sport == bpf_ntohs(BPF_CORE_READ(inet, inet_sport)) &&
	    conn->tuple.dport == bpf_ntohs(BPF_CORE_READ(inet, sk.__sk_common.skc_dport)))
		return conn;
	if (!start)
		return NULL;
	fresh.id = new_conn_id();
	read_tuple((const struct sock *)c->sk, &fresh.tuple);
	bpf_map_update_elem(&conns, &key, &fresh, BPF_ANY);
	return bpf_map_lookup_elem(&conns, &key);
}

/* The TCP sequence number of the call's first byte: what the socket had
 * written or handed to the reader once the call was done, less the call's
 * bytes. It counts what no hook here sees (sendfile, splice), so user space
 * knows the size of every gap. */
static __always_inline __u32 call_seq(__u64 key, __u8 dir, __u32 count)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)key;
	__u32 end = dir == HTTP_SENT ? BPF_CORE_READ(tp, write_seq) : BPF_CORE_READ(tp, copied_seq);

	return end - count;
}

/* When the call's bytes were there: a write's start, a read's end. */
static __always_inline __u64 call_time(const struct http_call *c)
{
	return c->dir == HTTP_SENT ? c->ts_ns : bpf_ktime_get_ns();
}

static __always_inline void emit(const struct http_call *c, const struct http_conn *conn,
				 __u32 seq, __u32 count, __u64 len, __u8 start)
{
	__u32 zero = 0;
	struct http_record *r = bpf_map_lookup_elem(&scratch, &zero);

	if (!r)
		return;
	__builtin_memset(r, 0, offsetof(struct http_record, data));
	r->ts_ns = call_time(c);
	r->conn_id = conn->id;
	r->seq = seq;
	r->count = count;
	r->dir = c->dir;
	r->flags = start | (c->tls ? HTTP_FROM_TLS : 0);
	r->tuple = conn->tuple;
	current_owner(&r->owner);
	if (len > HTTP_MAX_BYTES)
		len = HTTP_MAX_BYTES;
	if (bpf_probe_read_user(r->data, len, (const void *)c->buf))
		len = 0;
	r->len = len;
	output_record(r, offsetof(struct http_record, data) + len);
}

/* ---- summing in the kernel ---- */

/* What is read of a call that starts a message: the longest method and
 * its space, a path of HTTP_PATH_LEN and the byte after it. */
#define LINE_BYTES 144
/* Where in the scratch record's data a request waiting is built, after
 * the line (too large for the stack beside the rest). */
#define PENDING_AT 256

/* The request target after the method (mlen bytes) of the n bytes of the
 * scratch line: its group, NUL-padded, into the request built after it
 * (PENDING_AT) if grouping by path. 0 if there is no target, a byte
 * that cannot be in one (user space's parser rejects those requests too),
 * or the target does not start with path_prefix.
 * Global, so the verifier checks it once on its own: inlined, each exit
 * of its loop carried different bounds into the rest of the program and
 * loading took seconds. */
__noinline int target_group(__u32 n, __u32 mlen)
{
	__u32 zero = 0, i;
	struct http_record *r = bpf_map_lookup_elem(&scratch, &zero);
	bool in_group = true;
	char *group;

	if (!r || mlen > HEAD_BYTES)	/* bounds the verifier can see */
		return 0;
	group = ((struct pending_request *)(r->data + PENDING_AT))->group;
	for (i = 0; i < HTTP_PATH_LEN; i++) {
		__u32 at = mlen + i;
		__u8 ch;

		if (at >= n)
			break;
		ch = r->data[at & (HTTP_MAX_BYTES - 1)];
		if (ch == ' ')
			break;
		if (ch <= ' ' || ch >= 0x7f)
			return 0;
		if (i < path_prefix_len && ch != path_prefix[i])
			return 0;
		/* As http_path_group(): up to the query or the second '/'. */
		if (ch == '?' || ch == '#' || (ch == '/' && i > 0))
			in_group = false;
		if (in_group && group_by_path)
			group[i] = ch;
	}
	return i > 0 && i >= path_prefix_len;
}

/* A request: head holds its first bytes, mlen of them its method and the
 * space after it (4 to 8). */
static __always_inline void queue_request(const struct http_call *c, __u8 *line, __u32 n,
					  __u64 head, __u32 mlen)
{
	__u64 method = head & (~0ULL >> (64 - 8 * (mlen - 1)));
	struct pending_request *p = (struct pending_request *)(line + PENDING_AT);
	struct pending_key key = {};
	struct http_conn *conn;

	__builtin_memset(p, 0, sizeof(*p));
	if (!target_group(n, mlen))
		return;
	conn = connection(c, HTTP_START_REQUEST);
	if (!conn)
		return;
	p->ts_ns = call_time(c);
	__builtin_memcpy(p->method, &method, sizeof(method));
	key.conn_id = conn->id;
	key.n = conn->asked++;
	if (key.n == conn->answered) {
		conn->held_n = key.n;
		conn->held = *p;
	} else {
		bpf_map_update_elem(&pending, &key, p, BPF_ANY);
	}
	/* The held one, if it is the oldest, has no entry to delete. */
	if (conn->asked - conn->answered > HTTP_PENDING) {	/* never to be answered */
		key.n = conn->answered++;
		bpf_map_delete_elem(&pending, &key);
	}
}

/* The status code of a status line ("HTTP/1.1 200 ..."), 0 if none. */
static __always_inline __u16 status_code(const __u8 *line, __u32 n)
{
	__u16 status = 0;

	if (n < 12 || line[8] != ' ')
		return 0;
	for (int i = 9; i < 12; i++) {
		if (line[i] < '0' || line[i] > '9')
			return 0;
		status = status * 10 + line[i] - '0';
	}
	return status;
}

static __always_inline void add_sum(const struct http_sum_key *key, __u64 latency_ns)
{
	struct http_sum *sum = bpf_map_lookup_elem(&sums, key);

	if (!sum) {
		bpf_map_update_elem(&sums, key, &zero_sum, BPF_NOEXIST);
		sum = bpf_map_lookup_elem(&sums, key);
	}
	if (!sum) {
		count_percpu(&sums_full, 0);
		return;
	}
	/* This CPU's copy: no other writer. */
	sum->count++;
	sum->sum_ns += latency_ns;
	sum->slots[log2_slot(latency_ns / 1000, HTTP_LATENCY_SLOTS) & (HTTP_LATENCY_SLOTS - 1)]++;
}

/* A response: the exchange with the oldest request waiting. */
static __always_inline void answer(const struct http_call *c, const __u8 *line, __u32 n)
{
	__u16 status = status_code(line, n);
	struct pending_key pkey = {};
	struct http_sum_key key = {};
	struct pending_request *p;
	struct http_conn *conn;
	__u64 now = call_time(c);

	/* Interim responses (100 Continue) precede the real one. */
	if (!status || (status / 100 == 1 && status != 101))
		return;
	conn = connection(c, 0);
	if (!conn || conn->asked == conn->answered)
		return;
	pkey.conn_id = conn->id;
	pkey.n = conn->answered++;
	/* held_n names the last request held, and each number is asked once. */
	p = pkey.n == conn->held_n ? &conn->held : bpf_map_lookup_elem(&pending, &pkey);
	if (!p)
		return;
	__builtin_memcpy(key.method, p->method, sizeof(key.method));
	__builtin_memcpy(key.group, p->group, sizeof(key.group));
	key.status = status;
	key.server = c->dir == HTTP_SENT;
	key.tls = c->tls;
	add_sum(&key, now > p->ts_ns ? now - p->ts_ns : 0);
	if (p != &conn->held)
		bpf_map_delete_elem(&pending, &pkey);
}

static __always_inline void sum_call(const struct http_call *c, __u32 count)
{
	__u64 avail = count < c->buf_len ? count : c->buf_len;
	__u32 n = avail < LINE_BYTES ? avail : LINE_BYTES, zero = 0, mlen;
	struct http_record *r = bpf_map_lookup_elem(&scratch, &zero);
	__u64 head;

	if (!r || bpf_probe_read_user(r->data, n, (const void *)c->buf))
		return;
	/* Only the first n of these bytes are compared. */
	__builtin_memcpy(&head, r->data, sizeof(head));
	mlen = request_start(head, n);
	if (mlen)
		queue_request(c, r->data, n, head, mlen);
	else if (token_matches(head, n, &response_token))
		answer(c, r->data, n);
}

static __always_inline void capture(const struct http_call *c, __u32 count)
{
	__u64 avail = count < c->buf_len ? count : c->buf_len;
	__u8 start = start_of(c->buf, avail);
	struct http_conn *conn = connection(c, start);
	__u32 budget, seq;
	__u64 len;
	__u8 dir = c->dir & 1;

	if (!conn)
		return;
	/* Inside TLS the stream's own count stands in for the TCP sequence:
	 * every call moves it on, copied or not. */
	if (c->tls) {
		seq = conn->tls_seq[dir];
		conn->tls_seq[dir] = seq + count;
	} else {
		seq = call_seq(c->sk, dir, count);
	}
	if (start)
		conn->budget[dir] = max_bytes;
	budget = conn->budget[dir];
	if (!budget)
		return;
	len = avail < budget ? avail : budget;
	conn->budget[dir] = budget - len;
	emit(c, conn, seq, count, len, start);
}

static __always_inline int finish(const struct trace_event_raw_sys_exit *ctx)
{
	struct http_call *p = thread_slot(&calls, &no_call, false), c;

	if (!p || !p->sk)
		return 0;
	c = *p;
	p->sk = 0;	/* used up */
	/* An entry whose exit was missed (while attaching) is not this call's. */
	if (ctx->ret <= 0 || c.nr != (__u32)ctx->id)
		return 0;
	if (summarize)
		sum_call(&c, ctx->ret);
	else
		capture(&c, ctx->ret);
	return 0;
}

#include "http_tls.bpf.h"

#define ENTER(call, ...)                                                          \
	SEC("tp/syscalls/sys_enter_" #call)                                      \
	int http_##call##_e(struct trace_event_raw_sys_enter *ctx)               \
	{                                                                        \
		struct sock *sk = watched_socket(ctx->args[0]);                  \
		if (sk && !inside_tls_call(sk))                                  \
			__VA_ARGS__;                                             \
		return 0;                                                        \
	}

#define EXIT(call)                                                               \
	SEC("tp/syscalls/sys_exit_" #call)                                       \
	int http_##call##_x(struct trace_event_raw_sys_exit *ctx)                \
	{                                                                        \
		return finish(ctx);                                         \
	}

ENTER(read, remember(ctx, sk, ctx->args[1], ctx->args[2], HTTP_RECEIVED))
ENTER(write, remember(ctx, sk, ctx->args[1], ctx->args[2], HTTP_SENT))
ENTER(readv, remember_iov(ctx, sk, (const struct iovec *)ctx->args[1], HTTP_RECEIVED))
ENTER(writev, remember_iov(ctx, sk, (const struct iovec *)ctx->args[1], HTTP_SENT))
ENTER(sendto, remember(ctx, sk, ctx->args[1], ctx->args[2], HTTP_SENT))
ENTER(sendmsg, remember_msg(ctx, sk, (const struct user_msghdr *)ctx->args[1], HTTP_SENT))
EXIT(read)
EXIT(write)
EXIT(readv)
EXIT(writev)
EXIT(sendto)
EXIT(sendmsg)
EXIT(recvfrom)
EXIT(recvmsg)

/* A peek leaves the bytes queued: the read that takes them is the one
 * that counts. */
SEC("tp/syscalls/sys_enter_recvfrom")
int http_recvfrom_e(struct trace_event_raw_sys_enter *ctx)
{
	struct sock *sk = ctx->args[3] & MSG_PEEK ? NULL : watched_socket(ctx->args[0]);

	if (sk && !inside_tls_call(sk))
		remember(ctx, sk, ctx->args[1], ctx->args[2], HTTP_RECEIVED);
	return 0;
}

SEC("tp/syscalls/sys_enter_recvmsg")
int http_recvmsg_e(struct trace_event_raw_sys_enter *ctx)
{
	struct sock *sk = ctx->args[2] & MSG_PEEK ? NULL : watched_socket(ctx->args[0]);

	if (sk && !inside_tls_call(sk))
		remember_msg(ctx, sk, (const struct user_msghdr *)ctx->args[1], HTTP_RECEIVED);
	return 0;
}
