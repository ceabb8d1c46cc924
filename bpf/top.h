/* SPDX-License-Identifier: GPL-2.0-only */
/* Per-process traffic of `sockeye top`, shared by bpf/top.bpf.c and src/top.c. */
#ifndef SOCKEYE_TOP_H
#define SOCKEYE_TOP_H

#include "sock.h"

/* Bytes are split by protocol and family: TRAFFIC_SPLIT(proto_is_udp, is_ipv6). */
enum traffic_split { SPLIT_TCP4, SPLIT_TCP6, SPLIT_UDP4, SPLIT_UDP6, TRAFFIC_SPLITS };
enum traffic_dir { DIR_SENT, DIR_RECV, TRAFFIC_DIRS };

/* One process's bytes since sockeye started (one copy per CPU; user space
 * adds them up), keyed by its pid (thread group id). Bytes are what send and
 * receive calls moved: payload, without headers. */
struct traffic_stats {
	__u64 bytes[TRAFFIC_DIRS][TRAFFIC_SPLITS];
	__u64 cgroup_id;	/* cgroup v2 of the process when first seen */
	__u64 first_ns;		/* when the row was made (boot clock): with the pid,
				 * tells a reused pid's row from the old one's */
	__u32 uid;
	char comm[16];		/* the thread group leader's, as ps shows it */
	__u8 pad[4];
};

/* One UDP socket's bytes since top's connections view began to count its
 * process's calls: one copy for every CPU, added to atomically. Keyed by
 * the socket's id (sk_address_id), deleted when the socket is closed. */
struct udp_sock_stats {
	__u64 bytes[TRAFFIC_DIRS];
	struct sock_tuple tuple;	/* dport 0: not connected (sendto any peer) */
	__u32 pid;		/* the process that made the first call on it */
	__u8 pad[4];
};

#endif
