/* SPDX-License-Identifier: GPL-2.0-only */
/* Records of `sockeye flows`, shared by bpf/flows.bpf.c and src/flows_session.c. */
#ifndef SOCKEYE_FLOWS_H
#define SOCKEYE_FLOWS_H

#include "sock.h"

/* Which end opened the connection. */
#define FLOW_DIR_UNKNOWN 0
#define FLOW_CLIENT 1	/* connect(): it sent the SYN */
#define FLOW_SERVER 2	/* a listener's child, or the listener itself */

/* Kinds of retransmit, by what the sender was doing (its congestion
 * state, or the handshake), as the slots of retrans_total. */
enum flow_retrans_kind {
	RETRANS_FAST,		/* in fast recovery (TCP_CA_Recovery): dup ACKs, SACK, RACK */
	RETRANS_TIMEOUT,	/* after the retransmit timer fired (TCP_CA_Loss) */
	RETRANS_PROBE,		/* in any other state: tail-loss probes */
	RETRANS_SYN,		/* the SYN of connect() */
	RETRANS_SYNACK,		/* a listener's SYN-ACK */
	RETRANS_KINDS,
};

/* Segments dropped on arrival at a connection (-e), by the kernel's drop
 * reason: a bad checksum, a sequence or ACK number outside the window, or
 * any other reason. */
enum flow_drop_kind {
	DROP_CSUM,
	DROP_SEQ,
	DROP_OTHER,
	DROP_KINDS,
};

/* The drop_reasons key of drops the kernel gives no reason for (its
 * kfree_skb tracepoint has none before Linux 5.17). */
#define DROP_REASON_UNKNOWN 0xffffffffu

/* The key of the drop_reasons map. */
struct drop_key {
	__u32 reason;	/* enum skb_drop_reason, or DROP_REASON_UNKNOWN */
	__u8 proto;	/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad[3];
};

/* What the hooks know of one connection: the value of the flows map. */
struct flow_entry {
	struct sock_owner owner;	/* pid 0 until known */
	__u64 start_ns;		/* CLOCK_MONOTONIC; 0: open before sockeye started */
	__u64 first_seen_ns;	/* when sockeye first saw it */
	__u64 retrans[RETRANS_KINDS];	/* segments, by enum flow_retrans_kind */
	__u64 drops[DROP_KINDS];	/* by enum flow_drop_kind */
	__u32 total_retrans_seen;	/* the socket's total_retrans when last counted */
	__u8 direction;		/* FLOW_* */
	__u8 pad[3];
};

/* The socket's own numbers at the time of the record (what `ss -ti`
 * shows), read from struct tcp_sock. */
struct flow_tcp {
	__u64 bytes_acked;
	__u64 bytes_received;
	__u32 snd_cwnd;		/* segments */
	__u32 snd_ssthresh;	/* segments */
	__u32 srtt_us;
	__u32 rttvar_us;
	__u32 total_retrans;	/* segments, the kernel's count over the whole life */
	__u32 packets_out;	/* sent, not yet acknowledged */
	__u32 bytes_in_flight;	/* snd_nxt - snd_una */
	__u32 send_q;		/* written by the process, not yet acknowledged */
	__u32 recv_q;		/* received, not yet read by the process */
	__u32 snd_wnd;		/* what the peer advertised */
	__u32 rcv_wnd;		/* what this end advertised */
	__s32 sndbuf;		/* send buffer size */
	__s32 rcvbuf;
	__s32 wmem_queued;	/* send buffer in use */
	__u32 backlog;		/* listeners: connections waiting for accept() */
	__u32 max_backlog;
	__u32 mss;
	__u8 ca_state;		/* TCP_CA_Open (0) ... TCP_CA_Loss (4) */
	__u8 pad[3];
};

/* Per-packet time between two points of the stack (-t), as log2
 * histograms of microseconds: slot 0 holds 0-1 us, slot n 2^n to
 * 2^(n+1)-1 us, the last one everything longer. */
enum flow_layer {
	LAYER_RX_DEVICE,	/* netif_receive_skb -> tcp_probe: up the stack to TCP */
	LAYER_RX_QUEUE,		/* tcp_probe -> skb_copy_datagram_iovec: in the socket's queue */
	LAYER_TX_TCP,		/* TCP's departure stamp (skb->tstamp) -> net_dev_queue */
	LAYER_TX_DEVICE,	/* net_dev_queue -> net_dev_xmit: qdisc and driver */
	LAYERS,
};
#define LAYER_SLOTS 24

/* One connection's layer times, the value of the layers map. */
struct flow_layers {
	__u64 count[LAYERS];
	__u64 sum_ns[LAYERS];
	__u32 slots[LAYERS][LAYER_SLOTS];
};

#define FLOW_RECORD_CONN 1	/* a connection, live or closed */
#define FLOW_RECORD_RETRANS 2	/* one retransmit, for --retrans-events */
#define FLOW_RECORD_PACKET 3	/* one segment, for --packets */

/* The value of retrans_netns: one namespace's retransmitted segments,
 * by enum flow_retrans_kind. */
struct netns_retrans {
	__u64 segs[RETRANS_KINDS];
};

/* Both record kinds begin with the kind, so one reader takes them both. */
struct flow_record {
	__u8 kind;		/* FLOW_RECORD_CONN */
	__u8 closed;		/* 1: from tcp_destroy_sock, the final numbers */
	__u8 pad[2];
	__u32 netns;		/* its network namespace's inode number */
	__u64 cookie;
	__u64 ts_ns;		/* CLOCK_MONOTONIC, when it was read */
	struct sock_tuple tuple;
	struct flow_entry entry;
	struct flow_tcp tcp;
};

struct retrans_record {
	__u8 kind;		/* FLOW_RECORD_RETRANS */
	__u8 retrans_kind;	/* enum flow_retrans_kind */
	__u8 pad[2];
	__u32 segs;
	__u32 netns;		/* the connection's network namespace */
	__u8 pad2[4];
	__u64 cookie;
	__u64 ts_ns;
	struct sock_tuple tuple;
	struct sock_owner owner;
};

/* A TCP segment of a watched connection, as it left for the device or as
 * TCP took it in. Numbers as on the wire, in host order. */
struct packet_record {
	__u8 kind;		/* FLOW_RECORD_PACKET */
	__u8 outgoing;		/* 1: sent (net_dev_queue), 0: received (tcp_probe) */
	__u8 flags;		/* TCP flags: FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, ... */
	__u8 pad;
	__u32 seq;
	__u32 ack;
	__u32 len;		/* payload bytes; a TSO segment carries many MSS */
	__u16 window;		/* as sent, before scaling */
	__u8 pad2[2];
	__u32 netns;		/* the connection's network namespace */
	__u64 cookie;
	__u64 ts_ns;
	struct sock_tuple tuple;	/* local end first */
	struct sock_owner owner;
};

#endif
