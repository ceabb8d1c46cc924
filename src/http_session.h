/* SPDX-License-Identifier: GPL-2.0-only */
/* `sockeye http` as a library: load the payload programs, read what they
 * copy and turn it into exchanges, one connection at a time. The command
 * prints them; the tests check them. */
#ifndef SOCKEYE_HTTP_SESSION_H
#define SOCKEYE_HTTP_SESSION_H

#include "options.h"
#include "run.h"
#include "http.h"
#include "http_parse.h"
#include "tls_libs.h"

/* Connections followed at once in user space; a newer one takes the place
 * of the one HTTP_CONNS before it. */
#define HTTP_CONNS 4096

/* One exchange and where it was seen. */
struct http_event {
	struct http_exchange x;
	struct sock_tuple tuple;	/* saddr/sport local, daddr/dport remote */
	struct sock_owner owner;	/* the process that moved the response */
	bool tls;			/* inside TLS (HTTPS) */
};

typedef void (*http_event_fn)(void *ctx, const struct http_event *e);

struct http_session;

struct http_slot {
	uint64_t conn_id;	/* 0: free */
	struct http_conn conn;
	struct sock_tuple tuple;
	struct sock_owner owner;
	bool tls;
	struct http_session *session;
};

struct http_session {
	struct http_bpf *skel;
	struct record_reader reader;
	struct http_slot *slots;	/* HTTP_CONNS, by connection id */
	http_event_fn fn;
	void *ctx;
	uint64_t records;	/* read so far; with the lost ones, every copy made */
	const struct tls_libs *tls_libs;	/* to attach to; NULL: cleartext only */
	struct tls_probes tls;
};

/* max_bytes: at most this many bytes of each message are copied (from 1 to
 * HTTP_MAX_BYTES). tls: the TLS libraries whose plaintext is read too, or
 * NULL for cleartext only; where uprobes or libraries are missing, a
 * warning says HTTPS is not seen and cleartext still is. Returns 0, or
 * -errno after printing why. */
int http_session_start(struct http_session *s, const struct sock_filters *filters,
		       const struct tls_libs *tls, uint32_t max_bytes, http_event_fn fn,
		       void *ctx);
/* The same programs summing exchanges in the kernel (struct http_sum)
 * instead of copying bytes: nothing reaches fn. by_path: keyed by path
 * group too; path_prefix: only paths that start with it ("" for all). */
int http_sums_start(struct http_session *s, const struct sock_filters *filters,
		    const struct tls_libs *tls, bool by_path, const char *path_prefix);
/* Calls fn with each sum since the start, its CPUs' copies added up.
 * Returns 0 or -errno. */
typedef void (*http_sum_fn)(void *ctx, const struct http_sum_key *key, const struct http_sum *sum);
int http_sums_read(const struct http_session *s, http_sum_fn fn, void *ctx);
/* Exchanges not summed since the start: the kernel's table was full. */
uint64_t http_sums_full(const struct http_session *s);
/* Runs of the session's programs the kernel skipped (skipped_runs). */
uint64_t http_skipped(const struct http_session *s);
void http_session_stop(struct http_session *s);
/* The ring buffer's callback (ctx: the session): a copy of one socket
 * call's bytes, fed to its connection's parser. */
void http_session_on_record(void *ctx, const void *data, size_t size);
/* The loaded programs and maps, for pinning them (the agent). */
const struct bpf_object_skeleton *http_session_skeleton(const struct http_session *s);

#endif
