/* SPDX-License-Identifier: GPL-2.0-only */
/* Records of `sockeye http`, shared by bpf/http.bpf.c and src/http.c: the
 * first bytes of socket reads and writes that carry HTTP/1.x messages. */
#ifndef SOCKEYE_HTTP_H
#define SOCKEYE_HTTP_H

#include "sock.h"

/* The hard upper bound of --max-bytes: the most payload copied out of one
 * message (its first bytes, across however many calls carry them). */
#define HTTP_MAX_BYTES 4096
#define HTTP_DEFAULT_BYTES 512

/* Direction of a call, from the traced socket's side. */
#define HTTP_SENT 0
#define HTTP_RECEIVED 1

/* The call's first bytes look like the start of a request (a method and a
 * space) or of a response ("HTTP/1."). */
#define HTTP_START_REQUEST 1u
#define HTTP_START_RESPONSE 2u

/* One read or write on a TCP socket that carries HTTP: a call that starts a
 * message, or one that continues a message whose first --max-bytes bytes are
 * not all copied yet. Only the first `len` bytes of `data` cross the ring
 * buffer. */
struct http_record {
	__u64 ts_ns;		/* CLOCK_MONOTONIC: a write's start, a read's end */
	__u64 conn_id;		/* names the connection while sockeye runs */
	__u32 seq;		/* TCP sequence number of the call's first byte */
	__u32 count;		/* bytes the call moved */
	__u16 len;		/* bytes of data copied: the call's first ones */
	__u8 dir;		/* HTTP_SENT or HTTP_RECEIVED */
	__u8 flags;		/* HTTP_START_* */
	__u32 pad;
	struct sock_tuple tuple;
	struct sock_owner owner;
	__u8 data[HTTP_MAX_BYTES];
};

#endif
