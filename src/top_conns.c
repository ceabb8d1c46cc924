// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye top`'s connections of one process (top_conns.h): flows'
 * snapshots, with rates from the bytes each connection moved between two
 * of them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "top_conns.h"

int top_conns_open(struct top_conns *c, uint32_t pid, const char *agent_pins)
{
	struct flows_config cfg = { .filters = { .pid = pid } };

	int err;

	memset(c, 0, sizeof(*c));
	c->pid = pid;
	err = agent_pins ? flows_session_borrow(&c->session, agent_pins, false)
			 : flows_session_start(&c->session, &cfg, NULL, NULL);
	c->started = !err;	/* a session that failed has stopped itself */
	return err;
}

static int by_cookie(const void *a, const void *b)
{
	const struct flow_record *x = a, *y = b;

	return (x->cookie > y->cookie) - (x->cookie < y->cookie);
}

static int busiest_first(const void *a, const void *b)
{
	const struct top_conn *x = a, *y = b;
	double rx = x->sent_per_s + x->recv_per_s, ry = y->sent_per_s + y->recv_per_s;

	if (rx != ry)
		return rx < ry ? 1 : -1;
	return (x->sent + x->recv < y->sent + y->recv) - (x->sent + x->recv > y->sent + y->recv);
}

/* Bytes per second from then to now; -1 without a then. */
static double rate(uint64_t now_bytes, uint64_t now_ns, const struct flow_record *then,
		   uint64_t then_bytes)
{
	if (!then || now_ns <= then->ts_ns || now_bytes < then_bytes)
		return -1;
	return (now_bytes - then_bytes) * 1e9 / (now_ns - then->ts_ns);
}

int top_conns_read(struct top_conns *c)
{
	struct flow_table swap;
	struct top_conn *conns;
	int err;

	/* The table just read becomes the previous one. */
	swap = c->previous;
	c->previous = c->table;
	c->table = swap;
	err = flows_snapshot(&c->session, &c->table, false);
	if (err)
		return err;
	conns = realloc(c->conns, (c->table.n ? c->table.n : 1) * sizeof(*conns));
	if (!conns)
		return -ENOMEM;
	c->conns = conns;
	c->n = 0;
	for (size_t i = 0; i < c->table.n; i++) {
		const struct flow_record *r = &c->table.rows[i], *then;

		/* An agent's walk has every process's. */
		if (r->entry.owner.pid != c->pid)
			continue;
		then = c->previous.n ? bsearch(r, c->previous.rows, c->previous.n,
					       sizeof(*r), by_cookie) : NULL;
		conns[c->n++] = (struct top_conn){
			.tuple = r->tuple,
			.sent = r->tcp.bytes_acked,
			.recv = r->tcp.bytes_received,
			.sent_per_s = rate(r->tcp.bytes_acked, r->ts_ns, then,
					   then ? then->tcp.bytes_acked : 0),
			.recv_per_s = rate(r->tcp.bytes_received, r->ts_ns, then,
					   then ? then->tcp.bytes_received : 0),
			.closed = r->closed,
		};
	}
	qsort(c->table.rows, c->table.n, sizeof(*c->table.rows), by_cookie);
	qsort(c->conns, c->n, sizeof(*c->conns), busiest_first);
	return 0;
}

void top_conns_close(struct top_conns *c)
{
	if (c->started)
		flows_session_stop(&c->session);
	flow_table_free(&c->table);
	flow_table_free(&c->previous);
	free(c->conns);
	memset(c, 0, sizeof(*c));
}
