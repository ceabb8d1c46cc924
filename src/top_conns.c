// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye top`'s connections of one process (top_conns.h): flows'
 * snapshots and top's UDP sockets, with rates from the bytes each moved
 * between two reads. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "format.h"
#include "top_conns.h"

int top_conns_open(struct top_conns *c, uint32_t pid, const char *agent_pins,
		   struct top_session *top)
{
	struct flows_config cfg = { .filters = { .pid = pid } };
	int err;

	memset(c, 0, sizeof(*c));
	c->pid = pid;
	c->top = top;
	c->udp_err = top_watch_udp(top, pid);
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

static int by_id(const void *a, const void *b)
{
	const struct udp_socket *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/* Bytes per second from then to now; -1 without a then. */
static double rate(bool have_then, uint64_t now_bytes, uint64_t then_bytes, uint64_t now_ns,
		   uint64_t then_ns)
{
	if (!have_then || now_ns <= then_ns || now_bytes < then_bytes)
		return -1;
	return (now_bytes - then_bytes) * 1e9 / (now_ns - then_ns);
}

/* A new flows snapshot; the table just read becomes the previous one. */
static int read_tcp(struct top_conns *c)
{
	struct flow_table swap = c->previous;

	c->previous = c->table;
	c->table = swap;
	return flows_snapshot(&c->session, &c->table, false);
}

/* The rows of the process's TCP connections. */
static void add_tcp_rows(struct top_conns *c)
{
	for (size_t i = 0; i < c->table.n; i++) {
		const struct flow_record *r = &c->table.rows[i], *then;

		/* An agent's walk has every process's. */
		if (r->entry.owner.pid != c->pid)
			continue;
		then = c->previous.n ? bsearch(r, c->previous.rows, c->previous.n,
					       sizeof(*r), by_cookie) : NULL;
		c->conns[c->n++] = (struct top_conn){
			.tuple = r->tuple,
			.sent = r->tcp.bytes_acked,
			.recv = r->tcp.bytes_received,
			.sent_per_s = rate(then, r->tcp.bytes_acked, then ? then->tcp.bytes_acked : 0,
					   r->ts_ns, then ? then->ts_ns : 0),
			.recv_per_s = rate(then, r->tcp.bytes_received,
					   then ? then->tcp.bytes_received : 0, r->ts_ns,
					   then ? then->ts_ns : 0),
			.closed = r->closed,
		};
	}
	if (c->table.n)	/* rows may be NULL then, which qsort must not get */
		qsort(c->table.rows, c->table.n, sizeof(*c->table.rows), by_cookie);
}

/* The process's UDP sockets from top's counters, read again; none when
 * top does not count them (c->udp_err says why). */
static int read_udp(struct top_conns *c)
{
	struct udp_socket *socks = NULL;
	int n = c->udp_err ? 0 : top_read_udp(c->top, c->pid, &socks);

	if (n < 0)
		return n;
	free(c->udp_previous);
	c->udp_previous = c->udp;
	c->n_udp_previous = c->n_udp;
	c->udp_previous_ns = c->udp_ns;
	c->udp = socks;
	c->n_udp = n;
	c->udp_ns = monotonic_now_ns();
	if (c->n_udp)
		qsort(c->udp, c->n_udp, sizeof(*c->udp), by_id);
	return 0;
}

static void add_udp_rows(struct top_conns *c)
{
	for (size_t i = 0; i < c->n_udp; i++) {
		const struct udp_socket *u = &c->udp[i], *then;
		const __u64 *now = u->stats.bytes;

		then = c->n_udp_previous ? bsearch(u, c->udp_previous, c->n_udp_previous,
						   sizeof(*u), by_id) : NULL;
		c->conns[c->n++] = (struct top_conn){
			.tuple = u->stats.tuple,
			.sent = now[DIR_SENT],
			.recv = now[DIR_RECV],
			.sent_per_s = rate(then, now[DIR_SENT], then ? then->stats.bytes[DIR_SENT] : 0,
					   c->udp_ns, c->udp_previous_ns),
			.recv_per_s = rate(then, now[DIR_RECV], then ? then->stats.bytes[DIR_RECV] : 0,
					   c->udp_ns, c->udp_previous_ns),
		};
	}
}

int top_conns_read(struct top_conns *c)
{
	struct top_conn *conns;
	int err = read_tcp(c);

	if (!err)
		err = read_udp(c);
	if (err)
		return err;
	conns = realloc(c->conns, (c->table.n + c->n_udp + 1) * sizeof(*conns));
	if (!conns)
		return -ENOMEM;
	c->conns = conns;
	c->n = 0;
	add_tcp_rows(c);
	add_udp_rows(c);
	qsort(c->conns, c->n, sizeof(*c->conns), busiest_first);
	return 0;
}

void top_conns_close(struct top_conns *c)
{
	if (c->started)
		flows_session_stop(&c->session);
	if (c->top && !c->udp_err)
		top_watch_udp(c->top, 0);
	flow_table_free(&c->table);
	flow_table_free(&c->previous);
	free(c->udp);
	free(c->udp_previous);
	free(c->conns);
	memset(c, 0, sizeof(*c));
}
