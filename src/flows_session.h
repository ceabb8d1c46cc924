/* SPDX-License-Identifier: GPL-2.0-only */
/* `sockeye flows` as a library: load the per-connection programs and take
 * snapshots of every TCP connection. The command shows them; the tests
 * check them. */
#ifndef SOCKEYE_FLOWS_SESSION_H
#define SOCKEYE_FLOWS_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "options.h"
#include "run.h"
#include "flows.h"

struct btf;

struct flows_config {
	struct sock_filters filters;
	uint16_t sport;		/* only this local port; 0 for any */
	uint16_t dport;		/* only this remote port; 0 for any */
	bool listeners;		/* rows for listening sockets too */
	bool drops;		/* count dropped segments and datagrams (--drops):
				 * a program per drop */
	uint32_t netns;		/* only connections, retransmits and drops in
				 * this network namespace (the inode number
				 * of /proc/PID/ns/net); 0: all */
	bool all_netns;		/* rows from every namespace (--all-netns),
				 * with netns 0; else from the caller's */
	bool layers;		/* time packets between layers (-t): per packet */
	bool retrans_events;	/* a struct retrans_record per retransmit */
	bool packets;		/* a struct packet_record per segment; with
				 * either, no closed rows: those views have no table */
	bool counters_only;	/* for the agent, which reads only the counters:
				 * no closed rows either, and per-connection
				 * entries only where retransmits need them */
};

/* Connections as struct flow_record rows. */
struct flow_table {
	struct flow_record *rows;
	size_t n, cap;
};

struct flows_session {
	struct flows_bpf *skel;		/* NULL when reading an agent's pins */
	/* The skeleton's, or opened from the agent's pins: */
	int conn_iter_fd, owner_iter_fd;	/* iter/tcp, iter/task_file links */
	int retrans_fd, untracked_fd;		/* maps */
	struct record_reader reader;	/* not opened when reading pins */
	struct flow_table closed;	/* closed since the last snapshot */
	bool all_netns;		/* rows from every namespace */
	uint32_t totals_netns;	/* reading pins: the retransmit totals of this
				 * namespace only; 0: the agent's totals */
	record_fn event_fn;
	void *event_ctx;
	uint64_t owners_walked_ns;	/* CLOCK_MONOTONIC, in the views without snapshots */
};

/* event_fn gets each struct retrans_record (cfg->retrans_events) and
 * struct packet_record (cfg->packets); their first byte tells which.
 * Returns 0, or -errno after printing why. */
int flows_session_start(struct flows_session *s, const struct flows_config *cfg,
			record_fn event_fn, void *ctx);
/* Reads the connections of a running agent's flows collector from its
 * pins under pin_dir (pins.h) instead of loading programs: its iterators
 * and counters, with its filters; no closed connections, drops or layer
 * times. The agent counts in every network namespace: rows and retransmit
 * totals are the caller's namespace's, or with all_netns every one's.
 * Returns 0, or -errno after printing why. */
int flows_session_borrow(struct flows_session *s, const char *pin_dir, bool all_netns);
void flows_session_stop(struct flows_session *s);
/* The loaded programs and maps, for pinning them (the agent). */
const struct bpf_object_skeleton *flows_session_skeleton(const struct flows_session *s);
/* Fills t with every open connection that passes the filters and those
 * closed since the last call (closed = 1, with their final numbers); with
 * keep_closed, the closed rows t already holds stay. Returns 0 or -errno. */
int flows_snapshot(struct flows_session *s, struct flow_table *t, bool keep_closed);
void flow_table_free(struct flow_table *t);
/* The ring buffer's callback (ctx: the session): a closed connection is
 * kept for the next snapshot, a retransmit or segment goes to event_fn. */
void flows_session_on_record(void *ctx, const void *record, size_t size);
/* Retransmitted segments since the start, by enum flow_retrans_kind. */
int flows_retrans_totals(const struct flows_session *s, uint64_t *totals);
/* Whether this kernel tells which connection a dropped segment was for;
 * without it the per-connection drop counts are unknown, not zero. */
bool flows_drops_per_connection(void);
/* Whether this kernel's kfree_skb tracepoint gives the drop's reason
 * (Linux 5.17 on). Without it drops count under UNKNOWN, and those of an
 * established connection's segments pass no tracepoint (tcp_drop()). */
bool flows_drop_reasons_given(void);
/* Calls fn with each drop reason (enum skb_drop_reason) that dropped
 * packets of proto (IPPROTO_TCP or IPPROTO_UDP) since the start, and how
 * many; returns 0 or -errno. */
int flows_drop_counts(const struct flows_session *s, uint8_t proto,
		      void (*fn)(void *ctx, uint32_t reason, uint64_t count), void *ctx);
/* The name of a drop reason in the running kernel ("TCP_CSUM"), from its
 * BTF (read once, when a session with drops starts, or at the first call);
 * "REASON_<n>" for a number it does not name, valid until the next call. */
const char *drop_reason_name(uint32_t reason);
/* Copies the drop reason names out of btf (NULL: none), in place of those
 * copied before, for drop_reason_name(); returns how many it copied. */
int drop_reasons_copy(const struct btf *btf);
/* Host-wide layer times since the start: LAYERS x LAYER_SLOTS counts,
 * layer by layer, and LAYERS total times. Returns 0 or -errno. */
int flows_layer_totals(const struct flows_session *s, uint64_t *slots, uint64_t *sum_ns);
/* A connection's layer times (zero if none yet, or once it closed);
 * returns 0 or -ENOENT. */
int flows_conn_layers(const struct flows_session *s, uint64_t cookie, struct flow_layers *l);
/* "rx_device", "rx_queue", "tx_tcp", "tx_device". */
const char *layer_name(int layer);
/* Connections seen without per-connection counters: the map was full. */
uint64_t flows_untracked(const struct flows_session *s);
/* How many connections can have counters of their own at once. */
uint32_t flows_tracked_max(const struct flows_session *s);

/* "fast", "timeout", "probe", "syn", "synack". */
const char *retrans_kind_name(int kind);
/* "csum", "seq", "other". */
const char *drop_kind_name(int kind);
/* "client", "server" or "" (FLOW_DIR_UNKNOWN). */
const char *direction_name(int direction);
/* "open", "disorder", "cwr", "recovery", "loss": TCP_CA_* states. */
const char *ca_state_name(int state);

#endif
