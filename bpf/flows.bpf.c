// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye flows`: per-connection TCP health. Unless asked for drops (-e),
 * layer times (-t) or packets (--packets), nothing runs per packet: state
 * changes open an entry per connection (who, which end, since when), the
 * retransmit tracepoints count into it, and user space takes each snapshot
 * by reading an iter/tcp pass over every TCP socket, which adds what struct
 * tcp_sock knows (window, RTT, bytes, queues). The entry leaves when the
 * socket is destroyed, as a last record with the final numbers. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "sockeye.bpf.h"
#include "owners.bpf.h"
#include "records.bpf.h"
#include "flows.h"

char LICENSE[] SEC("license") = "GPL";

#define TCP_CA_Recovery 3
#define TCP_CA_Loss 4

/* Set by user space before load. */
const volatile __u16 filter_sport = 0;	/* local port */
const volatile __u16 filter_dport = 0;	/* remote port */
const volatile bool show_listeners = false;
const volatile bool retrans_events = false;
const volatile bool packet_events = false;
/* A record per closed connection, for the table's closed rows; off in the
 * line-by-line views and for the agent, which have no table. */
const volatile bool closed_records = true;
/* An entry for every connection from its first state change. Off for the
 * agent, which reads only the counters: there a connection gets its entry
 * at its first retransmit (see first_retransmit), or when an iterator pass
 * meets it, so an RST connect/close loop makes none. */
const volatile bool entry_per_connection = true;
const volatile bool layer_times = false;
/* Whether kfree_skb has its rx_sk argument (Linux 6.11 on): only then can
 * a drop count on its connection. */
const volatile bool drop_socket = false;
/* Whether kfree_skb has its reason argument (Linux 5.17 on). */
const volatile bool drop_reason_given = true;
/* Only this network namespace's connections, retransmits and drops count
 * (its inode number, as in /proc/self/ns/net); 0: every namespace's. */
const volatile __u32 filter_netns = 0;
/* Retransmits counted by namespace too (retrans_netns): for the agent,
 * which counts every namespace's, so that a reader of its pins can show
 * its own namespace's totals. */
const volatile bool retrans_per_netns = false;

/* Sockets with a file but no known owner in the last pass, so user space
 * knows when a walk of the processes' files (flows_owners) would help; 1
 * at first, as nothing is known. The iterator runs in one reader at a
 * time: no atomics needed. */
__u64 ownerless = 1;

/* One entry per connection, keyed by socket cookie. A plain hash, not an
 * LRU: every entry ends at tcp_destroy_sock, and an LRU would silently
 * drop a live connection's counters where this one counts the refusal. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct flow_entry);
} flows SEC(".maps");

/* Connections the full map refused: shown without per-connection counts. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} untracked SEC(".maps");

/* Retransmitted segments of the connections that pass the filters, by
 * enum flow_retrans_kind, since the start. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RETRANS_KINDS);
	__type(key, __u32);
	__type(value, __u64);
} retrans_total SEC(".maps");

/* What retrans_total counts, by network namespace (retrans_per_netns).
 * An LRU: the entries of namespaces that are gone make room for new ones. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct netns_retrans);
} retrans_netns SEC(".maps");

/* Layer times (-t) per connection, with an entry in flows, by cookie. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct flow_layers);
} layers SEC(".maps");

/* Ports with a listener, set as the iterator meets listeners (it walks
 * them before the established sockets): a connection open before sockeye
 * started is a server's when its local port is listened on. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} listening SEC(".maps");

/* A record is too big for the iterator's stack with the rest. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct flow_record);
} scratch SEC(".maps");

/* A socket's network namespace: the inode number of /proc/PID/ns/net. */
static __always_inline __u32 sk_netns(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/* Whether a socket is in the namespace shown (filter_netns). */
static __always_inline bool netns_wanted(const struct sock *sk)
{
	return !filter_netns || (sk && sk_netns(sk) == filter_netns);
}

static __always_inline bool tuple_wanted(const struct sock_tuple *t)
{
	if (filter_sport && t->sport != filter_sport)
		return false;
	if (filter_dport && t->dport != filter_dport)
		return false;
	return tuple_passes(t);
}

/* Without a pid or comm filter the owner does not matter; with one, an
 * unknown owner does not pass. */
static __always_inline bool owner_wanted(const struct sock_owner *o)
{
	if (!filter.pid && !filter.comm_set)
		return true;
	return o->pid && owner_passes(o);
}

static __always_inline __u32 total_retrans(const struct sock *sk)
{
	return BPF_CORE_READ((const struct tcp_sock *)sk, total_retrans);
}

static __always_inline struct flow_entry *track(const struct sock *sk, __u64 cookie,
						__u8 direction, bool new,
						const struct sock_owner *owner)
{
	struct flow_entry s = { .direction = direction };
	long err;

	/* One open before the start comes with its whole past; a listener's
	 * child with the SYN-ACKs sent again for it, which the kernel adds to
	 * its total_retrans and the totals counted as they went out. */
	s.total_retrans_seen = total_retrans(sk);
	if (new && direction == FLOW_SERVER)
		s.retrans[RETRANS_SYNACK] = s.total_retrans_seen;
	s.first_seen_ns = bpf_ktime_get_ns();
	s.start_ns = new ? s.first_seen_ns : 0;
	if (owner)
		s.owner = *owner;
	err = bpf_map_update_elem(&flows, &cookie, &s, new ? BPF_ANY : BPF_NOEXIST);
	if (err && err != -EEXIST && new)
		count_percpu(&untracked, 0);
	return bpf_map_lookup_elem(&flows, &cookie);
}

/* Without entry_per_connection, a new connection needs an entry only when
 * it already has retransmits that must not be counted again: a listener's
 * child starts with its SYN-ACK's, counted on the listener; a socket that
 * connects again may keep an entry from the connection before. */
static __always_inline bool needs_entry(const struct sock *sk)
{
	__u64 cookie;

	if (entry_per_connection || total_retrans(sk))
		return true;
	cookie = stored_cookie(sk);
	return cookie && bpf_map_lookup_elem(&flows, &cookie);
}

/* connect() moves the socket to SYN_SENT in its caller's context. Its
 * port may not be chosen yet: the tuple filters wait for the snapshot. */
static __always_inline void client_started(struct sock *sk)
{
	struct sock_owner o = {};

	if (!netns_wanted(sk) || !needs_entry(sk))
		return;
	current_owner(&o);
	if (!owner_passes(&o))
		return;
	if (filter.family && sk->__sk_common.skc_family != filter.family)
		return;
	track(sk, sk_cookie(sk), FLOW_CLIENT, true, &o);
}

/* A listener's child, born in softirq: its owner is whoever accepts it,
 * found later by flows_owners. Taken when it is established, not born:
 * until then some kernels (6.12) give it a cookie it does not keep. A
 * client of a simultaneous open passes here too, already tracked. */
static __always_inline void server_started(struct sock *sk)
{
	struct sock_tuple t = {};
	__u64 cookie;

	/* A new child has no entry yet. */
	if ((!entry_per_connection && !total_retrans(sk)) || !netns_wanted(sk))
		return;
	cookie = sk_cookie(sk);
	if (bpf_map_lookup_elem(&flows, &cookie))
		return;
	read_tuple(sk, &t);
	if (tuple_wanted(&t))
		track(sk, cookie, FLOW_SERVER, true, NULL);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(flows_state, struct sock *sk, int oldstate, int newstate)
{
	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	if (newstate == TCP_SYN_SENT)
		client_started(sk);
	else if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_RECV)
		server_started(sk);
	return 0;
}

static __always_inline void send_retrans_event(const struct sock *sk, __u64 cookie,
					       const struct sock_tuple *t,
					       const struct sock_owner *o, __u8 kind, __u32 segs)
{
	struct retrans_record *r = reserve_record(sizeof(*r));

	if (!r)
		return;
	__builtin_memset(r, 0, sizeof(*r));
	r->kind = FLOW_RECORD_RETRANS;
	r->retrans_kind = kind;
	r->segs = segs;
	r->netns = sk_netns(sk);
	r->cookie = cookie;
	r->ts_ns = bpf_ktime_get_ns();
	r->tuple = *t;
	r->owner = *o;
	submit_record(r);
}

/* Adds segs of kind to the retransmits of the namespace netns. */
static __always_inline void count_netns_retrans(__u32 netns, __u32 kind, __u32 segs)
{
	static const struct netns_retrans none;
	struct netns_retrans *n = bpf_map_lookup_elem(&retrans_netns, &netns);

	if (!n) {
		bpf_map_update_elem(&retrans_netns, &netns, &none, BPF_NOEXIST);
		n = bpf_map_lookup_elem(&retrans_netns, &netns);
	}
	if (n && kind < RETRANS_KINDS)
		n->segs[kind] += segs;	/* per-CPU */
}

/* Counts segs retransmitted segments of kind for the connection whose
 * tuple is t, in its entry s (the listener's, for a SYN-ACK) if it has
 * one; sk is the socket that sent them. */
static __always_inline void count_retrans(const struct sock *sk, struct flow_entry *s,
					  __u64 cookie, const struct sock_tuple *t, __u32 kind,
					  __u32 segs)
{
	struct sock_owner o = {};
	__u64 *total;

	if (s)
		o = s->owner;
	else
		lookup_owner(cookie, &o);
	if (!tuple_wanted(t) || !owner_wanted(&o) || kind >= RETRANS_KINDS)
		return;
	if (s)
		__sync_fetch_and_add(&s->retrans[kind], segs);
	total = bpf_map_lookup_elem(&retrans_total, &kind);
	if (total)
		*total += segs;	/* per-CPU */
	if (retrans_per_netns)
		count_netns_retrans(sk_netns(sk), kind, segs);
	if (retrans_events)
		send_retrans_event(sk, cookie, t, &o, kind, segs);
}

/* The kind of a retransmit by what the sender is doing: the kernel counts
 * TCPFastRetrans outside TCP_CA_Loss and TCPSlowStartRetrans (after a
 * timeout) in it; tail-loss probes go out in the open state. */
static __always_inline __u32 retrans_kind(const struct sock *sk, __u8 state)
{
	const struct inet_connection_sock *icsk = (const void *)sk;
	__u8 ca_state = BPF_CORE_READ_BITFIELD_PROBED(icsk, icsk_ca_state);

	if (state == TCP_SYN_SENT)
		return RETRANS_SYN;
	if (ca_state == TCP_CA_Loss)
		return RETRANS_TIMEOUT;
	return ca_state == TCP_CA_Recovery ? RETRANS_FAST : RETRANS_PROBE;
}

/* Which end opened a connection first seen after it did. */
static __always_inline __u8 guess_direction(const struct sock_tuple *t)
{
	__u32 port = t->sport;
	__u8 *listened = bpf_map_lookup_elem(&listening, &port);

	if (t->state == TCP_LISTEN)
		return FLOW_SERVER;
	return listened && *listened ? FLOW_SERVER : FLOW_CLIENT;
}

/* Without entry_per_connection, the entry of a connection at its first
 * retransmit. Every retransmit comes here, and those a connection had
 * before it would have made the entry, so its total_retrans counted from
 * 0: except a listener's child and a socket connecting again, which get
 * their entries when they start (needs_entry), and connections open before
 * the agent started, which an iterator pass at its start gives entries. */
static __always_inline struct flow_entry *first_retransmit(__u64 cookie,
							    const struct sock_tuple *t)
{
	struct flow_entry s = { .direction = guess_direction(t) };
	long err;

	s.first_seen_ns = bpf_ktime_get_ns();
	err = bpf_map_update_elem(&flows, &cookie, &s, BPF_NOEXIST);
	if (err && err != -EEXIST)
		count_percpu(&untracked, 0);
	return bpf_map_lookup_elem(&flows, &cookie);
}

/* Counts what the kernel added to the socket's total_retrans since the
 * last call: one call may send several segments, or none (it failed), and
 * the kernel's own counters (TcpRetransSegs, ss's retrans) count segments.
 * Only sk is read: the tracepoint's later arguments differ between kernels
 * (recent ones add err). The socket is locked here, so its entry has one
 * writer. A connection without an entry (the map was full) is not counted. */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(flows_retrans, const struct sock *sk)
{
	__u64 cookie = sk_cookie((void *)sk);
	struct flow_entry *s = bpf_map_lookup_elem(&flows, &cookie);
	struct sock_tuple t = {};
	__u32 total, segs;

	if (!netns_wanted(sk))
		return 0;
	read_tuple(sk, &t);
	if (!s && !entry_per_connection)
		s = first_retransmit(cookie, &t);
	if (!s)
		return 0;
	total = total_retrans(sk);
	segs = total - s->total_retrans_seen;
	if (!segs)
		return 0;
	s->total_retrans_seen = total;
	count_retrans(sk, s, cookie, &t, retrans_kind(sk, t.state), segs);
	return 0;
}

/* The kernel sends a SYN-ACK from the listener's request socket and calls
 * this only when it went out. */
SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(flows_synack, const struct sock *sk, const struct request_sock *req)
{
	__u64 cookie = sk_cookie((void *)sk);
	struct flow_entry *s = bpf_map_lookup_elem(&flows, &cookie);
	struct sock_tuple t = {};

	if (!netns_wanted(sk))
		return 0;
	read_common_tuple(&req->__req_common, &t);
	t.protocol = IPPROTO_TCP;
	count_retrans(sk, s, cookie, &t, RETRANS_SYNACK, 1);
	return 0;
}

/* tp comes from bpf_skc_to_tcp_sock(), so its fields are plain loads (with
 * CO-RE offsets) rather than a helper call each. */
static __always_inline void read_tcp(const struct tcp_sock *tp, struct flow_tcp *t)
{
	const struct sock *sk = &tp->inet_conn.icsk_inet.sk;
	__u32 una = tp->snd_una;
	__s32 unread = tp->rcv_nxt - tp->copied_seq;

	t->bytes_acked = tp->bytes_acked;
	t->bytes_received = tp->bytes_received;
	t->snd_cwnd = tp->snd_cwnd;
	t->snd_ssthresh = tp->snd_ssthresh;
	/* Stored scaled by 8 and 4, as tcp_get_info() unscales them. */
	t->srtt_us = tp->srtt_us >> 3;
	t->rttvar_us = tp->mdev_us >> 2;
	t->total_retrans = tp->total_retrans;
	t->packets_out = tp->packets_out;
	t->bytes_in_flight = tp->snd_nxt - una;
	t->send_q = tp->write_seq - una;
	t->recv_q = unread > 0 ? unread : 0;	/* as ss computes Recv-Q */
	t->snd_wnd = tp->snd_wnd;
	t->rcv_wnd = tp->rcv_wnd;
	t->sndbuf = sk->sk_sndbuf;
	t->rcvbuf = sk->sk_rcvbuf;
	t->wmem_queued = sk->sk_wmem_queued;
	t->backlog = sk->sk_ack_backlog;
	t->max_backlog = sk->sk_max_ack_backlog;
	t->mss = tp->mss_cache;
	t->ca_state = BPF_CORE_READ_BITFIELD(&tp->inet_conn, icsk_ca_state);
}

/* Fills r but its tcp part; returns whether it passes the filters. sk
 * is typed (a tracepoint's, or from bpf_skc_to_tcp_sock()). */
static __always_inline bool describe(const struct sock *sk, __u64 cookie,
				     const struct flow_entry *s, struct flow_record *r)
{
	r->kind = FLOW_RECORD_CONN;
	r->cookie = cookie;
	r->ts_ns = bpf_ktime_get_ns();
	r->netns = sk_netns(sk);
	read_tuple_typed(sk, &r->tuple);
	if (s)
		r->entry = *s;
	if (!r->entry.owner.pid)
		lookup_owner(cookie, &r->entry.owner);
	return tuple_wanted(&r->tuple) && owner_wanted(&r->entry.owner);
}

/* The entry of a socket the iterator meets, made if it has none (open
 * before the start), with its owner once flows_owners found it. */
static __always_inline struct flow_entry *iter_entry(const struct sock *sk, __u64 cookie,
						     const struct sock_tuple *t)
{
	struct flow_entry *s = bpf_map_lookup_elem(&flows, &cookie);
	struct sock_owner o = {};

	if (!s)
		s = track(sk, cookie, guess_direction(t), false, NULL);
	if (s && !s->owner.pid) {
		lookup_owner(cookie, &o);
		if (o.pid)
			s->owner = o;
	}
	if ((!s || !s->owner.pid) && BPF_CORE_READ(sk, sk_socket))
		ownerless++;
	return s;
}

SEC("iter/tcp")
int flows_iter(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct flow_record *r;
	struct flow_entry *s;
	struct tcp_sock *tp;
	struct sock *sk;
	__u64 cookie;
	__u32 zero = 0;

	if (!skc)
		return 0;
	/* NULL for request and TIME_WAIT sockets: not full sockets. */
	tp = bpf_skc_to_tcp_sock(skc);
	r = bpf_map_lookup_elem(&scratch, &zero);
	if (!tp || !r)
		return 0;
	sk = (struct sock *)tp;
	if (!netns_wanted(sk))
		return 0;
	__builtin_memset(r, 0, sizeof(*r));
	read_tuple_typed(sk, &r->tuple);
	if (r->tuple.state == TCP_LISTEN) {
		__u32 port = r->tuple.sport;
		__u8 one = 1;

		bpf_map_update_elem(&listening, &port, &one, BPF_ANY);
		if (!show_listeners)
			return 0;
	}
	/* No entry for a connection the filters leave out anyway. */
	if (!tuple_wanted(&r->tuple))
		return 0;
	cookie = sk_cookie(sk);
	s = iter_entry(sk, cookie, &r->tuple);
	if (!describe(sk, cookie, s, r))
		return 0;
	read_tcp(tp, &r->tcp);
	bpf_seq_write(ctx->meta->seq, r, sizeof(*r));
	return 0;
}

/* The last record of a connection, with its final numbers; its entry
 * leaves. Listeners too, when they are shown. */
static __always_inline void forget_flow(struct sock *sk)
{
	__u64 cookie = stored_cookie_of(sk, true);
	struct flow_entry *s = cookie ? bpf_map_lookup_elem(&flows, &cookie) : NULL;
	struct tcp_sock *tp;
	struct flow_record *r;

	/* An end the full map left untracked may have an owner too. */
	if (cookie)
		bpf_map_delete_elem(&owners, &cookie);
	if (!s || !(tp = bpf_skc_to_tcp_sock(sk)))
		return;
	/* Built in the ring buffer itself: no copy of a record this size. */
	if (closed_records && (r = reserve_record(sizeof(*r)))) {
		__builtin_memset(r, 0, sizeof(*r));
		if (describe(sk, cookie, s, r) &&
		    (show_listeners || r->tuple.state != TCP_LISTEN)) {
			r->closed = 1;
			read_tcp(tp, &r->tcp);
			submit_record(r);
		} else {
			bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
		}
	}
	bpf_map_delete_elem(&flows, &cookie);
	if (layer_times)
		bpf_map_delete_elem(&layers, &cookie);
}

/* By twin programs, so that no connection stays behind (sockeye.bpf.h). */
FORGET_ON_DESTROY(flow_end_a, flow_end_b, forget_flow)

/* A socket's struct socket, or NULL if the file is no socket's: the
 * helper from Linux 5.11 on, before that the file's own fields. */
static __always_inline struct socket *socket_of_file(struct file *file)
{
	if (bpf_core_type_exists(btf_bpf_sock_from_file))
		return bpf_sock_from_file(file);
	return file_socket(file);
}

/* accept() hands a listener's child to its owner, in the owner's own
 * context: a connection that ends before the next walk of the processes'
 * files (flows_owners) is named all the same, as events and http name it. */
static __always_inline void accepted(long fd)
{
	struct sock_owner o = {};
	struct flow_entry *s;
	struct sock *sk;
	__u64 cookie;

	if (fd < 0 || !(sk = sock_of_fd(fd)) || !(cookie = stored_cookie(sk)))
		return;
	s = bpf_map_lookup_elem(&flows, &cookie);
	if (!s || s->owner.pid)
		return;
	current_owner(&o);
	s->owner = o;
}

ON_ACCEPT_EXIT(flows_accept, accepted)

/* Who owns each TCP socket: a walk over every open file of every process,
 * run by user space when the iterator met sockets without a known owner
 * (open before the start, or accepted: a child is born in softirq). */
SEC("iter/task_file")
int flows_owners(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct sock_owner o = {};
	struct sock_tuple t = {};
	struct socket *sock;
	struct sock *sk;
	__u64 cookie;

	if (!task || !file)
		return 0;
	sock = socket_of_file(file);
	if (!sock)
		return 0;
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP ||
	    !is_inet(BPF_CORE_READ(sk, __sk_common.skc_family)))
		return 0;
	/* The cookie as stored, not bpf_get_socket_cookie(): 6.18.44's verifier
	 * counts the socket's sk untrusted here and refuses the helper. Zero is
	 * a socket no program has asked for its cookie yet, so not one of ours:
	 * the walk looks for sockets the iterator met. Where sockets have no
	 * cookie for programs (before 5.12) every one has an id: those the
	 * iterator lists are the ones whose tuple passes the filters. */
	cookie = stored_cookie(sk);
	if (!sk_has_cookie()) {
		read_tuple(sk, &t);
		if (!tuple_wanted(&t))
			return 0;
	}
	if (!cookie)
		return 0;
	o.pid = task->tgid;
	o.tid = task->pid;
	BPF_CORE_READ_STR_INTO(&o.comm, task, group_leader, comm);	/* as current_owner() */
	remember_owner(cookie, &o);
	return 0;
}

/* The per-packet parts, only loaded (or only run) when asked for. */
#include "flows_drops.bpf.h"
#include "flows_layers.bpf.h"
