/* SPDX-License-Identifier: GPL-2.0-only */
/* The counting object behind `sockeye sockstat`, `sofamily` and `soprotocol`
 * (bpf/sockstat.bpf.c) as a library: load the part a command needs, read
 * its counters. The commands print them; the tests check them. */
#ifndef SOCKEYE_SOCKSTAT_SESSION_H
#define SOCKEYE_SOCKSTAT_SESSION_H

#include <stdint.h>
#include "options.h"
#include "maps.h"
#include "sockstat.h"

enum sockstat_part {
	PART_CALLS,	/* sockstat: system calls by kind */
	PART_SOCKETS,	/* sofamily, soprotocol: accepts and connects by socket */
};

struct sockstat_session {
	struct sockstat_bpf *skel;
	uint32_t missing;	/* SS_BIT()s or SO_BIT()s no hook gives here */
};

/* Loads and attaches the programs of one part only. Returns 0, or -errno
 * after printing why (naming cmd). */
int sockstat_session_start(struct sockstat_session *s, enum sockstat_part part,
			   const struct sock_filters *filters, const char *cmd);
void sockstat_session_stop(struct sockstat_session *s);
/* The loaded programs and maps, for pinning them (the agent). */
const struct bpf_object_skeleton *sockstat_session_skeleton(const struct sockstat_session *s);

/* PART_CALLS: the calls since start by enum ss_counter, summed over CPUs.
 * Returns 0 or -errno. */
int sockstat_read_calls(const struct sockstat_session *s, uint64_t counts[SS_COUNTERS]);
/* The calls counted since last, the totals of the previous call
 * (updated). */
int sockstat_calls_delta(const struct sockstat_session *s, uint64_t last[SS_COUNTERS],
			 uint64_t delta[SS_COUNTERS]);
/* PART_SOCKETS: the counts since start by struct so_key. */
int sockstat_read_sockets(const struct sockstat_session *s, struct counter_snapshot *snap);
/* PART_SOCKETS: the accepts and connects the full map turned away. */
uint64_t sockstat_sockets_lost(const struct sockstat_session *s);
/* Runs of the session's programs the kernel skipped (skipped_runs). */
uint64_t sockstat_skipped(const struct sockstat_session *s);

/* "sock_send" for SS_SOCK_SEND: the JSON field, and what features lists. */
const char *ss_counter_key(int counter);
/* "accept", "connect". */
const char *so_kind_name(int kind);
#endif
