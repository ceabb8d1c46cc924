/* SPDX-License-Identifier: GPL-2.0-only */
/* Records of `sockeye soconnect`, shared by bpf/soconnect.bpf.c and src/soconnect.c. */
#ifndef SOCKEYE_SOCONNECT_H
#define SOCKEYE_SOCONNECT_H

#include "sock.h"

/* One connect(2) call to an IPv4 or IPv6 address. */
struct soconnect_record {
	__u64 ts_ns;		/* CLOCK_MONOTONIC, when the call returned */
	__u64 latency_ns;	/* time spent in the call */
	struct sock_owner owner;
	__u8 daddr[16];		/* network order, IPv4 in the first 4 bytes */
	__u16 family;		/* of the address: AF_INET or AF_INET6 */
	__u16 dport;		/* host order */
	__u16 sport;		/* local port after the call; 0 if none */
	__u8 protocol;		/* IPPROTO_TCP, IPPROTO_UDP, ...; 0 if unknown */
	__u8 pad;
	__s32 result;		/* what connect() returned: 0 or -errno */
	__s32 fd;
};

#endif
