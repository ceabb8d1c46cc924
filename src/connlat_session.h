/* SPDX-License-Identifier: GPL-2.0-only */
/* `sockeye connlat` as a library: load, attach and read the handshake
 * programs. The command prints; the tests check. */
#ifndef SOCKEYE_CONNLAT_SESSION_H
#define SOCKEYE_CONNLAT_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include "options.h"
#include "run.h"
#include "connlat.h"

struct connlat_config {
	struct sock_filters filters;
	uint16_t lport;		/* only this local port; 0 for any */
	uint64_t min_us;	/* only handshakes at least this long */
	bool failed;		/* also report handshakes that did not complete */
	bool hist;		/* count into the histogram instead of reporting each;
				 * with failed, count failures by errno too */
	bool agent;		/* the agent's program (agent_tcp_state), which also
				 * counts connections opened and closed */
};

struct connlat_session {
	struct connlat_bpf *skel;
	struct record_reader reader;
};

/* fn gets each struct connlat_record (none under cfg->hist; NULL there
 * leaves the ring buffer out). Returns 0, or -errno after printing why. */
int connlat_session_start(struct connlat_session *s, const struct connlat_config *cfg,
			  record_fn fn, void *ctx);
void connlat_session_stop(struct connlat_session *s);
/* The loaded programs and maps, for pinning them (the agent). */
const struct bpf_object_skeleton *connlat_session_skeleton(const struct connlat_session *s);
/* Histogram totals since the start, CONNLAT_SLOTS of them; 0 or -errno. */
int connlat_hist(const struct connlat_session *s, uint64_t *slots);
/* What the histogram counted since last, the totals of the previous
 * call (updated): the map keeps totals and is never cleared. */
int connlat_hist_delta(const struct connlat_session *s, uint64_t *last, uint64_t *delta);
/* The histogram's handshakes' latencies added up, in nanoseconds. */
uint64_t connlat_latency_sum_ns(const struct connlat_session *s);
/* hist and failed: failed handshakes since the start by errno (0: closed by
 * the process first), CONNLAT_ERRNOS of them; 0 or -errno. */
int connlat_failures(const struct connlat_session *s, uint64_t *by_errno);
/* agent: connections opened and closed since the start, by enum
 * conn_counter; 0 or -errno. */
int connlat_connections(const struct connlat_session *s, uint64_t counts[CONN_COUNTERS]);
/* Handshakes not timed because too many were in flight at once. */
uint64_t connlat_untimed(const struct connlat_session *s);
/* How many handshakes can be timed at once (beyond: untimed). */
uint32_t connlat_in_flight_max(const struct connlat_session *s);

/* "refused", "timed out", ... for a record; "ok" when established. */
const char *handshake_result(const struct connlat_record *r);
/* The same for a failure's errno: "refused" for ECONNREFUSED. */
const char *handshake_failure(int error);

#endif
