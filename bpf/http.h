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
/* Paths longer than this are cut (and say so). */
#define HTTP_PATH_LEN 128
/* Requests waiting for their response on one connection (pipelining);
 * an older one is dropped when more arrive. */
#define HTTP_PENDING 8

/* Direction of a call, from the traced socket's side. */
#define HTTP_SENT 0
#define HTTP_RECEIVED 1

/* The call's first bytes look like the start of a request (a method and a
 * space) or of a response ("HTTP/1."). */
#define HTTP_START_REQUEST 1u
#define HTTP_START_RESPONSE 2u
/* The bytes are the plaintext of a TLS connection, read in the TLS
 * library (bpf/http_tls.bpf.h); seq then counts plaintext bytes. */
#define HTTP_FROM_TLS 4u

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
	__u8 flags;		/* HTTP_START_*, HTTP_FROM_TLS */
	__u32 pad;
	struct sock_tuple tuple;
	struct sock_owner owner;
	__u8 data[HTTP_MAX_BYTES];
};

/* Summing in the kernel (--summary, the agent): exchanges by method,
 * status, role and path group (the path up to its second '/', without the
 * query; see http_path_group()), with a log2 histogram of latency in
 * microseconds. Nothing per exchange crosses to user space. */
#define HTTP_LATENCY_SLOTS 32
#define HTTP_METHOD_LEN 8	/* "OPTIONS" and "CONNECT" with their NUL */
/* Distinct sums the kernel keeps; exchanges beyond are counted, not summed. */
#define HTTP_SUM_ROWS 2048

struct http_sum_key {
	char method[HTTP_METHOD_LEN];	/* as sent, NUL-padded */
	char group[HTTP_PATH_LEN + 8];	/* NUL-padded; empty unless grouped by path */
	__u16 status;
	__u8 server;		/* the request was received here */
	__u8 tls;		/* inside TLS (HTTPS) */
	__u8 pad[4];
};

/* Per CPU; user space adds the CPUs up. */
struct http_sum {
	__u64 count;
	__u64 sum_ns;
	__u64 slots[HTTP_LATENCY_SLOTS];	/* slot n: 2^n to 2^(n+1)-1 us; 0: 0-1 us */
};

#endif
