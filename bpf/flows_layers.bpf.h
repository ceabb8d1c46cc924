/* SPDX-License-Identifier: GPL-2.0-only */
/* Part of bpf/flows.bpf.c (one object, one skeleton): the time packets of
 * tracked connections spend in each layer (--layers: up the stack to TCP,
 * in the socket's queue, from TCP to the device queue, in qdisc and
 * driver; enum flow_layer), host-wide and per connection, and the
 * line-per-packet view (--packets). The per-connection map, layers, is in
 * flows.bpf.c, which deletes a connection's entry with the connection. */
#ifndef SOCKEYE_FLOWS_LAYERS_BPF_H
#define SOCKEYE_FLOWS_LAYERS_BPF_H

/* Layer times host-wide: LAYERS x LAYER_SLOTS counts. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LAYERS * LAYER_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} layer_totals SEC(".maps");

/* And the total time in each layer, host-wide, for Prometheus's _sum. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LAYERS);
	__type(key, __u32);
	__type(value, __u64);
} layer_sum_ns SEC(".maps");

/* Where a packet was last seen, by skb address, until the next point
 * takes it. An LRU: packets that never reach the next point (dropped,
 * merged into another skb) must not fill it, and a reused address is
 * stamped again at the first point before it is looked up. User space
 * shrinks it to one entry when -t is off: an LRU is allocated whole. */
struct stamp {
	__u64 ns;
	__u64 cookie;
	__u32 layer;	/* the layer this stamp starts */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct stamp);
} stamps SEC(".maps");

/* The TCP header of a packet, found from its network header; the tuple
 * with the local end first. Returns the offset of the TCP header from
 * skb->head, or 0 if it is not TCP over IP. */
static __always_inline __u32 read_tcp_header(const struct sk_buff *skb, bool outgoing,
					     struct tcphdr *th, struct sock_tuple *t)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	__u8 *local = outgoing ? t->saddr : t->daddr, *remote = outgoing ? t->daddr : t->saddr;
	struct iphdr ip;
	__u32 off;

	if (nh == (__u16)~0U || bpf_probe_read_kernel(&ip, sizeof(ip), head + nh))
		return 0;
	if (ip.version == 4 && ip.protocol == IPPROTO_TCP) {
		t->family = AF_INET;
		__builtin_memcpy(t->saddr, &ip.saddr, 4);
		__builtin_memcpy(t->daddr, &ip.daddr, 4);
		off = nh + ip.ihl * 4;
	} else if (ip.version == 6) {
		struct ipv6hdr ip6;

		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh) || ip6.nexthdr != IPPROTO_TCP)
			return 0;
		t->family = AF_INET6;
		__builtin_memcpy(t->saddr, &ip6.saddr, 16);
		__builtin_memcpy(t->daddr, &ip6.daddr, 16);
		off = nh + sizeof(ip6);
	} else {
		return 0;
	}
	if (bpf_probe_read_kernel(th, sizeof(*th), head + off))
		return 0;
	if (!outgoing) {	/* the addresses were read in wire order */
		__u8 tmp[16];

		__builtin_memcpy(tmp, local, 16);
		__builtin_memcpy(local, remote, 16);
		__builtin_memcpy(remote, tmp, 16);
	}
	t->protocol = IPPROTO_TCP;
	t->sport = bpf_ntohs(outgoing ? th->source : th->dest);
	t->dport = bpf_ntohs(outgoing ? th->dest : th->source);
	return off;
}

static __always_inline __u32 layer_slot(__u64 ns)
{
	__u64 us = ns / 1000;
	__u32 slot = 0;

	for (int i = 0; i < LAYER_SLOTS - 1 && us > 1; i++) {
		us >>= 1;
		slot++;
	}
	return slot;
}

/* Too big for the stack: a new entry starts as a copy of this. */
static const struct flow_layers no_layers;

/* Counts one packet's time in a layer, host-wide and on its connection,
 * if that connection has an entry and passes the owner filters. */
static __always_inline void count_layer(__u64 cookie, __u32 layer, __u64 ns)
{
	struct flow_entry *s = bpf_map_lookup_elem(&flows, &cookie);
	__u32 slot = layer_slot(ns);
	struct flow_layers *l;
	__u64 *sum;

	if (!s || !owner_wanted(&s->owner) || layer >= LAYERS)
		return;
	count_percpu(&layer_totals, layer * LAYER_SLOTS + slot);
	sum = bpf_map_lookup_elem(&layer_sum_ns, &(__u32){ layer });
	if (sum)
		*sum += ns;	/* per-CPU */
	l = bpf_map_lookup_elem(&layers, &cookie);
	if (!l) {
		bpf_map_update_elem(&layers, &cookie, &no_layers, BPF_NOEXIST);
		l = bpf_map_lookup_elem(&layers, &cookie);
		if (!l)
			return;
	}
	__sync_fetch_and_add(&l->count[layer], 1);
	__sync_fetch_and_add(&l->sum_ns[layer], ns);
	__sync_fetch_and_add(&l->slots[layer][slot], 1);
}

static __always_inline void stamp(const void *skb, __u64 cookie, __u32 layer, __u64 now)
{
	__u64 key = (__u64)skb;
	struct stamp st = { .ns = now, .cookie = cookie, .layer = layer };

	bpf_map_update_elem(&stamps, &key, &st, BPF_ANY);
}

/* Ends the layer a stamp of skb began, if it is that one; returns the
 * stamp's cookie, or 0. */
static __always_inline __u64 end_layer(const void *skb, __u32 layer, __u64 now)
{
	__u64 key = (__u64)skb, cookie;
	struct stamp *st = bpf_map_lookup_elem(&stamps, &key);

	if (!st || st->layer != layer)
		return 0;
	cookie = st->cookie;
	count_layer(cookie, layer, now - st->ns);
	return cookie;
}

static __always_inline void send_packet(const struct sk_buff *skb, const struct sock *sk,
					bool outgoing)
{
	struct packet_record *r;
	struct sock_tuple t = {};
	struct sock_owner o = {};
	struct tcphdr th;
	__u64 cookie = stored_cookie(sk);
	__u32 off, data_off;
	struct flow_entry *s;

	if (!netns_wanted(sk))
		return;
	off = read_tcp_header(skb, outgoing, &th, &t);
	if (!off || !tuple_wanted(&t))
		return;
	s = bpf_map_lookup_elem(&flows, &cookie);
	if (s)
		o = s->owner;
	if (!o.pid)
		lookup_owner(cookie, &o);
	if (!owner_wanted(&o) || !(r = reserve_record(sizeof(*r))))
		return;
	__builtin_memset(r, 0, sizeof(*r));
	r->kind = FLOW_RECORD_PACKET;
	r->outgoing = outgoing;
	r->flags = ((__u8 *)&th)[13];
	r->seq = bpf_ntohl(th.seq);
	r->ack = bpf_ntohl(th.ack_seq);
	r->window = bpf_ntohs(th.window);
	r->netns = sk_netns(sk);
	data_off = BPF_CORE_READ(skb, data) - BPF_CORE_READ(skb, head);
	/* skb->len counts from skb->data: the link header on the way out,
	 * the TCP header on the way in. */
	r->len = BPF_CORE_READ(skb, len) - (off - data_off) - th.doff * 4;
	r->cookie = cookie;
	r->ts_ns = bpf_ktime_get_ns();
	r->tuple = t;
	r->owner = o;
	submit_record(r);
}

/* TCP's departure time of a segment (Linux's EDT model: set when TCP
 * sent it, later when it paces), on the clock of bpf_ktime_get_ns. */
/* The bit before Linux 6.11 made it tstamp_type. */
struct sk_buff___mono_bit {
	__u8 mono_delivery_time:1;
} __attribute__((preserve_access_index));

/* Before Linux 5.18 no bit tells the stamp's clock. TCP's departure times
 * are monotonic then too, and forwarding clears the stamp; any other is a
 * wall-clock time, decades past the monotonic clock, or a time to send on
 * another clock (SO_TXTIME), which TCP does not use. A departure is at
 * most the pacing horizon ahead (fq's is 10 s). */
#define DEPARTURE_AHEAD_NS (60 * 1000000000ULL)

static __always_inline __u64 departure_ns(const struct sk_buff *skb, __u64 now)
{
	const struct sk_buff___mono_bit *old = (const void *)skb;
	__u64 stamp = BPF_CORE_READ(skb, tstamp);
	bool monotonic;

	if (bpf_core_field_exists(skb->tstamp_type))
		monotonic = BPF_CORE_READ_BITFIELD_PROBED(skb, tstamp_type) == SKB_CLOCK_MONOTONIC;
	else if (bpf_core_field_exists(old->mono_delivery_time))
		monotonic = BPF_CORE_READ_BITFIELD_PROBED(old, mono_delivery_time);
	else
		monotonic = stamp < now + DEPARTURE_AHEAD_NS;
	return monotonic ? stamp : 0;
}

/* What leaves, as it is queued to the device, headers built and skb->sk
 * the sender: a line for --packets, the end of TCP's part and the start of
 * the device's for -t. */
SEC("tp_btf/net_dev_queue")
int BPF_PROG(flows_dev_queue, struct sk_buff *skb)
{
	struct sock_tuple t = {};
	struct tcphdr th;
	__u64 now, sent, cookie;

	if (packet_events)
		send_packet(skb, skb->sk, true);
	if (!layer_times || !netns_wanted(skb->sk) || !read_tcp_header(skb, true, &th, &t) ||
	    !tuple_wanted(&t))
		return 0;
	now = bpf_ktime_get_ns();
	cookie = stored_cookie(skb->sk);
	sent = departure_ns(skb, now);
	/* A paced segment may be queued before its departure time (with
	 * the fq qdisc): no time in TCP then. */
	if (sent)
		count_layer(cookie, LAYER_TX_TCP, now > sent ? now - sent : 0);
	stamp(skb, cookie, LAYER_TX_DEVICE, now);
	return 0;
}

SEC("tp_btf/net_dev_xmit")
int BPF_PROG(flows_dev_xmit, struct sk_buff *skb, int rc)
{
	__u64 key = (__u64)skb;

	if (end_layer(skb, LAYER_TX_DEVICE, bpf_ktime_get_ns()))
		bpf_map_delete_elem(&stamps, &key);
	return 0;
}

/* A packet coming up from a device: skb->data is at its network header. */
SEC("tp_btf/netif_receive_skb")
int BPF_PROG(flows_dev_in, struct sk_buff *skb)
{
	unsigned char *data = BPF_CORE_READ(skb, data);
	__u8 ip[10];

	if (bpf_probe_read_kernel(ip, sizeof(ip), data))
		return 0;
	/* Filters by port wait for TCP, where the headers are parsed once. */
	if ((ip[0] >> 4 == 4 && ip[9] == IPPROTO_TCP) || (ip[0] >> 4 == 6 && ip[6] == IPPROTO_TCP))
		stamp(skb, 0, LAYER_RX_DEVICE, bpf_ktime_get_ns());
	return 0;
}

/* What TCP takes in on an established connection, with its socket: a line
 * for --packets; for -t, the end of the way up and the start of the wait
 * in the socket's queue. */
SEC("tp_btf/tcp_probe")
int BPF_PROG(flows_tcp_in, struct sock *sk, const struct sk_buff *skb)
{
	__u64 key = (__u64)skb, now, cookie;
	struct sock_tuple t = {};
	struct stamp *st;

	if (packet_events)
		send_packet(skb, sk, false);
	if (!layer_times)
		return 0;
	st = bpf_map_lookup_elem(&stamps, &key);
	if (!st || st->layer != LAYER_RX_DEVICE)
		return 0;
	read_tuple(sk, &t);
	if (!tuple_wanted(&t) || !netns_wanted(sk)) {
		bpf_map_delete_elem(&stamps, &key);
		return 0;
	}
	now = bpf_ktime_get_ns();
	cookie = sk_cookie(sk);
	count_layer(cookie, LAYER_RX_DEVICE, now - st->ns);
	stamp(skb, cookie, LAYER_RX_QUEUE, now);
	return 0;
}

/* The process copies the data out: the end of the wait in the queue. */
SEC("tp_btf/skb_copy_datagram_iovec")
int BPF_PROG(flows_copy, const struct sk_buff *skb, int len)
{
	__u64 key = (__u64)skb;

	if (end_layer(skb, LAYER_RX_QUEUE, bpf_ktime_get_ns()))
		bpf_map_delete_elem(&stamps, &key);
	return 0;
}

#endif
