/* SPDX-License-Identifier: GPL-2.0-only */
/* Records of `sockeye events`, shared by bpf/events.bpf.c and src/events.c. */
#ifndef SOCKEYE_EVENTS_H
#define SOCKEYE_EVENTS_H

#include "sock.h"

enum event_kind {
	EV_CREATE,
	EV_BIND,
	EV_LISTEN,
	EV_CONNECT,
	EV_ACCEPT,
	EV_SEND,
	EV_RECV,
	EV_SHUTDOWN,
	EV_DISCONNECT,
	EV_RESET_SENT,
	EV_RESET_RECV,
	EV_ERROR,
	EV_CLOSE,
	EV_STATE,
	EV_KIND_COUNT,
};

#define EV_BIT(kind) (1u << (kind))
#define EV_IO_MASK (EV_BIT(EV_SEND) | EV_BIT(EV_RECV))
#define EV_ALL_MASK ((1u << EV_KIND_COUNT) - 1)
/* State changes repeat what the other events say; they are asked for by name. */
#define EV_DEFAULT_MASK (EV_ALL_MASK & ~EV_BIT(EV_STATE))

struct event_record {
	__u64 ts_ns;		/* CLOCK_MONOTONIC */
	__u64 cookie;		/* socket cookie, 0 if the kernel gave none yet */
	struct sock_tuple tuple;
	struct sock_owner owner;
	__s32 result;		/* bytes for send/recv, else 0 or -errno */
	__u32 rcvbuf;
	__u32 sndbuf;
	__u8 kind;		/* enum event_kind */
	__u8 arg;		/* shutdown: how; state: the old state */
	__u8 pad[2];
};

#endif
