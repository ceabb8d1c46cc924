/* SPDX-License-Identifier: GPL-2.0-only */
/* `sockeye top` as a library: load the per-process traffic counters and
 * read them. The command shows them; the tests check them. */
#ifndef SOCKEYE_TOP_SESSION_H
#define SOCKEYE_TOP_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include "options.h"
#include "top.h"

struct top_session {
	struct top_bpf *skel;	/* NULL when reading an agent's maps */
	int traffic_fd, lost_fd;
	int udp_fd, udp_lost_fd;	/* UDP sockets' bytes; -1 when not counted */
	uint64_t ended_grace_ns;	/* how long an ended process's row stays */
};

/* The agent keeps an ended process's row this long, so that every
 * `top --from-agent` (whose interval is at most this) reads it ended once. */
#define TOP_AGENT_ENDED_GRACE_NS (60 * 1000000000ULL)

/* One process's totals since the start, summed over CPUs. */
struct process_traffic {
	uint32_t pid;
	struct traffic_stats stats;
};

/* One UDP socket's bytes, keyed by its id (unique while it is open). */
struct udp_socket {
	uint64_t id;
	struct udp_sock_stats stats;
};

/* Returns 0, or -errno after printing why. Can count the bytes of a
 * process's UDP sockets (top_watch_udp) where the kernel tells when a
 * socket closes. */
int top_session_start(struct top_session *s, const struct sock_filters *filters);
/* The same with the agent's copies of the programs (agent_send, agent_recv). */
int top_session_start_agent(struct top_session *s, const struct sock_filters *filters);
/* Reads the counters a running agent pinned under pin_dir (pins.h) instead
 * of loading programs; the agent deletes the rows of ended processes
 * TOP_AGENT_ENDED_GRACE_NS after it saw them ended.
 * Returns 0, or -errno after printing why. */
int top_session_borrow(struct top_session *s, const char *pin_dir);
void top_session_stop(struct top_session *s);
/* The loaded programs and maps, for pinning them (the agent). */
const struct bpf_object_skeleton *top_session_skeleton(const struct top_session *s);
/* Every process counted so far, in *rows (malloc'd, the caller frees);
 * returns how many, or -errno. */
int top_read(const struct top_session *s, struct process_traffic **rows);
/* Reads one process's counters again, into row (whose pid says which);
 * returns 0 or -errno (-ENOENT: deleted since). */
int top_read_again(const struct top_session *s, struct process_traffic *row);
/* Deletes a process's counters (it has ended and been shown, and its
 * grace period is over); not when they are an agent's, which deletes them
 * itself. */
void top_forget(const struct top_session *s, uint32_t pid);
/* Send and receive calls not counted because the map was full. */
uint64_t top_lost(const struct top_session *s);
/* Runs of its own programs the kernel skipped (skipped_runs); 0 when the
 * counters are an agent's, whose sockeye_lost_events_total has them. */
uint64_t top_skipped(const struct top_session *s);

/* Counts the UDP calls of process pid per socket from now on (0: of no
 * process), forgetting the sockets counted before. Returns 0, or
 * -EOPNOTSUPP when the session does not count sockets (an agent's
 * counters, or no hook at close). */
int top_watch_udp(struct top_session *s, uint32_t pid);
/* The open UDP sockets of the watched process pid (the one that made the
 * first call on each since the watch began), with their bytes since then,
 * in *socks (malloc'd, the caller frees); returns how many, or -errno
 * (-EOPNOTSUPP as for top_watch_udp). */
int top_read_udp(const struct top_session *s, uint32_t pid, struct udp_socket **socks);
/* Calls on UDP sockets not counted per socket because the map was full. */
uint64_t top_udp_lost(const struct top_session *s);

#endif
