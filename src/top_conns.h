/* SPDX-License-Identifier: GPL-2.0-only */
/* What `sockeye top` shows when a process is opened (Enter): its TCP
 * connections, read through flows' session (flows_session.h: its socket
 * walk, which also finds each socket's owner) with the process's pid as the
 * filter, and its UDP sockets, from top's own session (top_session.h);
 * each with its send and receive rates. */
#ifndef SOCKEYE_TOP_CONNS_H
#define SOCKEYE_TOP_CONNS_H

#include <stdbool.h>
#include <stdint.h>
#include "flows_session.h"
#include "top_session.h"

struct top_conn {
	struct sock_tuple tuple;	/* local (s*) and remote (d*) ends; protocol */
	/* Bytes: a TCP connection's since it opened, acknowledged and
	 * received; a UDP socket's since the connections were opened, sent
	 * and received. */
	uint64_t sent, recv;
	double sent_per_s, recv_per_s;	/* since the previous read; -1 at the first */
	bool closed;		/* closed since the previous read (TCP) */
};

struct top_conns {
	uint32_t pid;
	bool started;		/* session is running */
	struct flows_session session;
	struct flow_table table, previous;	/* previous: sorted by cookie */
	struct top_session *top;	/* for the UDP sockets */
	int udp_err;		/* why there are no UDP sockets: -errno, or 0 */
	struct udp_socket *udp, *udp_previous;	/* sorted by id */
	size_t n_udp, n_udp_previous;
	uint64_t udp_ns, udp_previous_ns;	/* when they were read */
	struct top_conn *conns;	/* of the last read, busiest first */
	size_t n;
};

/* Starts reading pid's connections: flows' programs, or the agent's flows
 * pins under agent_pins when that is not NULL; and its UDP sockets from
 * top (top_watch_udp: from now on, until top_conns_close), when top can
 * count them (not an agent's maps). One process at a time per top session.
 * Returns 0, or -errno after printing why. */
int top_conns_open(struct top_conns *c, uint32_t pid, const char *agent_pins,
		   struct top_session *top);
/* Reads the connections again into c->conns; returns 0 or -errno. */
int top_conns_read(struct top_conns *c);
void top_conns_close(struct top_conns *c);

#endif
