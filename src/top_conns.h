/* SPDX-License-Identifier: GPL-2.0-only */
/* What `sockeye top` shows when a process is opened (Enter): its TCP
 * connections with their send and receive rates, read through flows'
 * session (flows_session.h: its socket walk, which also finds each
 * socket's owner), with the process's pid as the filter. */
#ifndef SOCKEYE_TOP_CONNS_H
#define SOCKEYE_TOP_CONNS_H

#include <stdbool.h>
#include <stdint.h>
#include "flows_session.h"

struct top_conn {
	struct sock_tuple tuple;	/* local (s*) and remote (d*) ends */
	uint64_t sent, recv;	/* bytes since it opened: acknowledged, received */
	double sent_per_s, recv_per_s;	/* since the previous read; -1 at the first */
	bool closed;		/* closed since the previous read */
};

struct top_conns {
	uint32_t pid;
	bool started;		/* session is running */
	struct flows_session session;
	struct flow_table table, previous;	/* previous: sorted by cookie */
	struct top_conn *conns;	/* of the last read, busiest first */
	size_t n;
};

/* Starts reading pid's connections: flows' programs, or the agent's flows
 * pins under agent_pins when that is not NULL. Returns 0, or -errno
 * after printing why. */
int top_conns_open(struct top_conns *c, uint32_t pid, const char *agent_pins);
/* Reads the connections again into c->conns; returns 0 or -errno. */
int top_conns_read(struct top_conns *c);
void top_conns_close(struct top_conns *c);

#endif
