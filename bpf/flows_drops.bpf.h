/* SPDX-License-Identifier: GPL-2.0-only */
/* Part of bpf/flows.bpf.c (one object, one skeleton): TCP segments and UDP
 * datagrams dropped on the host (--drops), counted by protocol and reason,
 * and TCP's by kind on the connection the kernel had found for them
 * (rx_sk, Linux 6.11 on). */
#ifndef SOCKEYE_FLOWS_DROPS_BPF_H
#define SOCKEYE_FLOWS_DROPS_BPF_H

/* TCP segments and UDP datagrams dropped since the start in the network
 * namespace of filter_netns (every one where 0), by protocol and enum
 * skb_drop_reason (--drops), per CPU (user space sums them). Keys are
 * never deleted. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct drop_key);
	__type(value, __u64);
} drop_reasons SEC(".maps");

/* The value of a drop reason in the running kernel, -1 if it has none:
 * the numbers change between kernels, the names stay. */
#define DROP_REASON(name)                                                            \
	(bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_##name) ?  \
	 (int)bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_##name) : -1)

/* A sequence or ACK number the connection does not accept. */
static __always_inline bool sequence_error(int reason)
{
	return reason == DROP_REASON(TCP_OLD_SEQUENCE) ||
	       reason == DROP_REASON(TCP_INVALID_SEQUENCE) ||
	       reason == DROP_REASON(TCP_INVALID_END_SEQUENCE) ||
	       reason == DROP_REASON(TCP_INVALID_ACK_SEQUENCE) ||
	       reason == DROP_REASON(TCP_OLD_DATA) || reason == DROP_REASON(TCP_OVERWINDOW) ||
	       reason == DROP_REASON(TCP_TOO_OLD_ACK) ||
	       reason == DROP_REASON(TCP_ACK_UNSENT_DATA);
}

/* The transport the packet's IP header names, if it has one yet (0 if
 * not). IPv6 extension headers are not followed: TCP and UDP come first. */
static __always_inline __u8 ip_protocol(const struct sk_buff *skb)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	__u8 ip[10];

	if (nh == (__u16)~0U || bpf_probe_read_kernel(ip, sizeof(ip), head + nh))
		return 0;
	if (ip[0] >> 4 == 4)
		return ip[9];	/* iphdr.protocol */
	return ip[0] >> 4 == 6 ? ip[6] : 0;	/* ipv6hdr.nexthdr */
}

/* The network namespace a dropped packet was in: its socket's where the
 * kernel names one, else its device's. UDP reuses skb->dev for its own
 * numbers (dev_scratch) once it queues a datagram; those have the top bit
 * clear, which no kernel address has (with 4- or 5-level page tables), so
 * such a value is not followed. */
static __always_inline __u32 drop_netns(const struct sk_buff *skb, const struct sock *rx_sk)
{
	struct net_device *dev;

	if (rx_sk)
		return BPF_CORE_READ(rx_sk, __sk_common.skc_net.net, ns.inum);
	dev = BPF_CORE_READ(skb, dev);
	if ((long)dev < 0)
		return BPF_CORE_READ(dev, nd_net.net, ns.inum);
	return 0;
}

static __always_inline void count_drop_reason(__u32 reason, __u8 proto)
{
	struct drop_key key = { .reason = reason, .proto = proto };

	count_key_percpu(&drop_reasons, &key);
}

/* Every dropped TCP segment and UDP datagram of the namespace counts by
 * reason; a TCP segment dropped after its socket was found (rx_sk, Linux
 * 6.11 on) counts on the connection too.
 * A checksum is checked before the socket is looked up when the segment is
 * 76 bytes or less (CHECKSUM_BREAK), after it otherwise. */
SEC("tp_btf/kfree_skb")
int BPF_PROG(flows_drop, struct sk_buff *skb)
{
	/* Read only where the kernel has it: the verifier refuses a read
	 * past the tracepoint's last argument. */
	struct sock *rx_sk = drop_socket ? (struct sock *)ctx[3] : NULL;
	__u32 why = drop_reason_given ? (__u32)ctx[2] : DROP_REASON_UNKNOWN;
	struct flow_entry *s;
	__u64 cookie;
	__u8 proto = ip_protocol(skb);
	__u32 kind;

	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return 0;
	if (filter_netns && drop_netns(skb, rx_sk) != filter_netns)
		return 0;
	count_drop_reason(why, proto);
	if (!rx_sk || proto != IPPROTO_TCP)
		return 0;
	cookie = sk_cookie(rx_sk);
	s = bpf_map_lookup_elem(&flows, &cookie);
	if (!s)
		return 0;
	kind = why == DROP_REASON(TCP_CSUM) ? DROP_CSUM :
	       sequence_error(why) ? DROP_SEQ : DROP_OTHER;
	if (kind < DROP_KINDS)
		__sync_fetch_and_add(&s->drops[kind], 1);
	return 0;
}

#endif
