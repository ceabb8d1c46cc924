/* SPDX-License-Identifier: GPL-2.0-only */
/* Records of `sockeye connlat`, shared by bpf/connlat.bpf.c and src/connlat.c. */
#ifndef SOCKEYE_CONNLAT_H
#define SOCKEYE_CONNLAT_H

#include "sock.h"

/* Latency histogram slots: slot 0 holds 0-1 us, slot n holds 2^n to
 * 2^(n+1)-1 us; the last catches everything longer. */
#define CONNLAT_SLOTS 32
/* Failed handshakes are counted by errno (sk_err; 0 when the process closed
 * the socket first), in slots 0 to CONNLAT_ERRNOS - 2; the last slot
 * catches larger numbers. One refused by an ICMP error (port unreachable)
 * counts as EHOSTUNREACH: unreachable, not refused by the peer. */
#define CONNLAT_ERRNOS 256

/* TCP connections opened (reached ESTABLISHED) and, of those, closed, by
 * direction: active (connect()) or passive (accepted); and those opened
 * but not counted, because the map of open ones was full. */
enum conn_counter {
	CONN_OPENED_ACTIVE,
	CONN_OPENED_PASSIVE,
	CONN_CLOSED_ACTIVE,
	CONN_CLOSED_PASSIVE,
	CONN_UNCOUNTED,
	CONN_COUNTERS,
};

/* A handshake that ended: completed (error 0, established) or not. */
struct connlat_record {
	__u64 ts_ns;		/* CLOCK_MONOTONIC, when it ended */
	__u64 latency_ns;	/* from SYN_SENT to the end */
	struct sock_tuple tuple;
	struct sock_owner owner;	/* the process that called connect() */
	__s32 error;		/* 0, or the socket's errno; see established */
	__u8 established;	/* 1: SYN-ACK received; 0: failed or aborted */
	__u8 icmp;		/* refused (ECONNREFUSED) by an ICMP error, not an RST */
	__u8 pad[2];
};

#endif
