/* SPDX-License-Identifier: GPL-2.0-only */
/* Counters of `sockeye sockstat`, `sofamily` and `soprotocol`, shared by
 * bpf/sockstat.bpf.c, src/sockstat.c and src/socount.c. */
#ifndef SOCKEYE_SOCKSTAT_H
#define SOCKEYE_SOCKSTAT_H

/* The slots of the per-CPU call counters: one per column of `sockstat`. */
enum ss_counter {
	SS_SOCKET,
	SS_SOCKETPAIR,
	SS_BIND,
	SS_LISTEN,
	SS_ACCEPT,	/* accept and accept4 */
	SS_CONNECT,
	SS_SEND,	/* sendto (which send() is), sendmsg, sendmmsg */
	SS_RECV,	/* recvfrom (which recv() is), recvmsg, recvmmsg */
	SS_SHUTDOWN,
	SS_SOCK_SEND,	/* every sock_sendmsg: each message of a sendmmsg, write() on a socket */
	SS_SOCK_RECV,	/* every sock_recvmsg, read() on a socket included */
	SS_COUNTERS,
};

#define SS_BIT(counter) (1u << (counter))
#define SS_ALL_MASK ((1u << SS_COUNTERS) - 1)

/* What `sofamily` and `soprotocol` count. */
enum so_kind {
	SO_ACCEPT,
	SO_CONNECT,
	SO_KINDS,
};

#define SO_BIT(kind) (1u << (kind))
#define SO_ALL_MASK ((1u << SO_KINDS) - 1)

/* Rows of the accept/connect map; inserts beyond are counted as lost. */
#define SO_MAX_ROWS 8192

/* One key serves both commands: sofamily adds up the protocols of a
 * family, soprotocol the families of a protocol. */
struct so_key {
	char comm[16];
	__u16 family;	/* the socket's AF_* */
	__u16 protocol;	/* its sk_protocol: IPPROTO_* for IP, 0 for UNIX */
	__u8 kind;	/* enum so_kind */
	__u8 pad[3];
};

#endif
