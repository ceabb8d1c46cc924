// SPDX-License-Identifier: GPL-2.0-only
/* The agent's collectors (see collectors.h): bytes per process name and
 * protocol from top's session; TCP connections, handshake latency and
 * failures from connlat's; retransmits and drops from flows'; socket
 * system calls from sockstat's; HTTP exchanges from http's. */
#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include "sockeye.h"
#include "array.h"
#include "collectors.h"
#include "connlat_session.h"
#include "flows_session.h"
#include "histogram.h"
#include "http_session.h"
#include "metrics.h"
#include "pins.h"
#include "prom.h"
#include "sockstat_session.h"
#include "top_model.h"

long label_index(struct label_set *set, const char *raw)
{
	char value[LABEL_LEN];
	size_t i, free_slot = set->n;

	/* Compared as written: names that differ only in invalid bytes are
	 * one label value, so one series. */
	prom_utf8(value, sizeof(value), raw);
	if (!*value || !strcmp(value, LABEL_OTHER))
		return set->max;
	for (i = 0; i < set->n; i++) {
		if (set->slots[i].used && !strcmp(set->slots[i].value, value))
			return i;
		if (!set->slots[i].used && free_slot == set->n)
			free_slot = i;
	}
	if (free_slot == set->max)
		return set->max;
	if (free_slot == set->n) {
		if (!ARRAY_GROW(set->slots, set->n, set->cap))
			return -ENOMEM;
		set->n++;
	}
	memcpy(set->slots[free_slot].value, value, LABEL_LEN);
	set->slots[free_slot].used = true;
	return free_slot;
}

const char *label_value(const struct label_set *set, size_t i)
{
	return i < set->n && set->slots[i].used ? set->slots[i].value : LABEL_OTHER;
}

void label_forget(struct label_set *set, size_t i)
{
	if (i < set->n)
		set->slots[i].used = false;
}

size_t label_count(const struct label_set *set)
{
	size_t n = 0;

	for (size_t i = 0; i < set->n; i++)
		n += set->slots[i].used;
	return n;
}

void label_set_free(struct label_set *set)
{
	free(set->slots);
	set->slots = NULL;
	set->n = set->cap = 0;
}

static int out_of_memory(void)
{
	p_err("out of memory");
	return -ENOMEM;
}

/* ---- bytes: per process name and protocol ---- */

enum { PROTO_TCP, PROTO_UDP, PROTOS };

/* A name without traffic for this many refreshes leaves the comm label
 * set (5 minutes at the default interval of 5 s): its series ends and its
 * index is free for a new name, so names that are gone, a process's
 * earlier names, or many short-lived ones do not hold the series budget
 * for the agent's life. Its final counts are not moved to "other": rate()
 * would see that as traffic of "other" at that moment; the series ending
 * loses nothing that sum(rate()) or increase() add up, and a name that
 * comes back starts a new series from 0, which Prometheus reads as a
 * counter reset. */
#define COMM_IDLE_REFRESHES 60

struct bytes_state {
	struct top_session session;
	struct top_tracker tracker;
	struct label_set comms;
	uint64_t (*bytes)[TRAFFIC_DIRS][PROTOS];	/* by label index, "other" last */
	uint64_t *last_traffic;	/* by label index: the refresh of its last bytes */
	uint64_t refreshes;
};

static int bytes_start(const struct collector_config *cfg, void **state)
{
	struct bytes_state *b = calloc(1, sizeof(*b));
	int err;

	if (!b || !(b->bytes = calloc(cfg->max_series + 1, sizeof(*b->bytes))) ||
	    !(b->last_traffic = calloc(cfg->max_series, sizeof(*b->last_traffic)))) {
		if (b)
			free(b->bytes);
		free(b);
		return out_of_memory();
	}
	b->comms.max = cfg->max_series;
	err = top_session_start_agent(&b->session, &cfg->filters);
	if (err) {
		free(b->last_traffic);
		free(b->bytes);
		free(b);
		return err;
	}
	*state = b;
	return 0;
}

static uint64_t interval_bytes(const struct top_row *r)
{
	return row_bytes(r, false, DIR_SENT, SPLITS_ALL) + row_bytes(r, false, DIR_RECV, SPLITS_ALL);
}

static int busiest_first(const void *a, const void *b)
{
	uint64_t x = interval_bytes(*(const struct top_row *const *)a);
	uint64_t y = interval_bytes(*(const struct top_row *const *)b);

	return (x < y) - (x > y);
}

/* Adds each process's bytes since the last read to its name's series; the
 * busiest processes come first, so they are the ones that get a series of
 * their own while there is room. */
static int add_interval(struct bytes_state *b, const struct top_snapshot *snap)
{
	const struct top_row **order = calloc(snap->n ? snap->n : 1, sizeof(*order));
	long idx = 0;

	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < snap->n; i++)
		order[i] = &snap->rows[i];
	qsort(order, snap->n, sizeof(*order), busiest_first);
	/* Quiet processes come last and have nothing to add. */
	for (size_t i = 0; i < snap->n && interval_bytes(order[i]); i++) {
		idx = label_index(&b->comms, order[i]->comm);
		if (idx < 0)
			break;
		if ((size_t)idx < b->comms.max)
			b->last_traffic[idx] = b->refreshes;
		for (int d = 0; d < TRAFFIC_DIRS; d++) {
			b->bytes[idx][d][PROTO_TCP] += row_bytes(order[i], false, d, SPLITS_TCP);
			b->bytes[idx][d][PROTO_UDP] += row_bytes(order[i], false, d, SPLITS_UDP);
		}
	}
	free(order);
	return idx < 0 ? idx : 0;
}

/* Names idle for COMM_IDLE_REFRESHES leave the label set, their series
 * with them (only series with bytes are written). */
static void forget_idle(struct bytes_state *b)
{
	for (size_t i = 0; i < b->comms.n; i++) {
		if (b->refreshes - b->last_traffic[i] < COMM_IDLE_REFRESHES)
			continue;
		label_forget(&b->comms, i);
		memset(b->bytes[i], 0, sizeof(b->bytes[i]));
	}
	b->refreshes++;
}

static void write_comm(FILE *out, const char *name, const struct bytes_state *b, size_t idx,
		       int dir)
{
	static const char *const protos[PROTOS] = { "tcp", "udp" };

	for (int p = 0; p < PROTOS; p++) {
		struct prom_label labels[] = {
			{ "comm", label_value(&b->comms, idx) },
			{ "protocol", protos[p] },
		};

		if (b->bytes[idx][dir][p])
			prom_uint(out, name, labels, 2, b->bytes[idx][dir][p]);
	}
}

static void write_bytes_family(FILE *out, const struct bytes_state *b, int dir)
{
	static const char *const names[TRAFFIC_DIRS] = {
		"sockeye_process_sent_bytes_total", "sockeye_process_received_bytes_total",
	};

	prom_family(out, names[dir], "counter", dir == DIR_SENT ?
		    "Bytes processes sent over TCP and UDP (payload), by process name and protocol." :
		    "Bytes processes received over TCP and UDP (payload), by process name and protocol.");
	for (size_t i = 0; i < b->comms.n; i++)
		write_comm(out, names[dir], b, i, dir);
	write_comm(out, names[dir], b, b->comms.max, dir);
}

static int bytes_write(void *state, FILE *out)
{
	struct bytes_state *b = state;
	const struct top_snapshot *snap;
	struct report_span span = {};
	int err = top_take(&b->session, &b->tracker, &span, &snap);

	if (!err)
		err = add_interval(b, snap);
	if (!err)
		forget_idle(b);
	if (err) {
		p_err("cannot read the traffic counters: %s", strerror(-err));
		return err;
	}
	write_bytes_family(out, b, DIR_SENT);
	write_bytes_family(out, b, DIR_RECV);
	return 0;
}

static uint64_t bytes_lost(void *state)
{
	return top_lost(&((struct bytes_state *)state)->session);
}

static const struct bpf_object_skeleton *bytes_skeleton(void *state)
{
	return top_session_skeleton(&((struct bytes_state *)state)->session);
}

static size_t bytes_comm_names(void *state)
{
	return label_count(&((struct bytes_state *)state)->comms);
}

static void bytes_stop(void *state)
{
	struct bytes_state *b = state;

	top_tracker_free(&b->tracker);
	top_session_stop(&b->session);
	label_set_free(&b->comms);
	free(b->last_traffic);
	free(b->bytes);
	free(b);
}

/* ---- tcp: connections, handshake latency and failures ---- */

static int tcp_start(const struct collector_config *cfg, void **state)
{
	struct connlat_config c = {
		.filters = cfg->filters, .hist = true, .failed = true, .agent = true,
	};
	struct connlat_session *s = malloc(sizeof(*s));
	int err;

	if (!s)
		return out_of_memory();
	err = connlat_session_start(s, &c, NULL, NULL);
	if (err)
		free(s);
	else
		*state = s;
	return err;
}

/* By role: client (connect()) or server (accepted), the same words as in
 * flows and http. */
static void write_connections(FILE *out, const uint64_t counts[CONN_COUNTERS])
{
	static const char opened[] = "sockeye_tcp_connections_opened_total",
			  closed[] = "sockeye_tcp_connections_closed_total";
	static const struct prom_label client = { "role", "client" },
				       server = { "role", "server" };

	prom_family(out, opened, "counter",
		    "TCP connections that reached ESTABLISHED, by role: client (connect()) or "
		    "server (accepted).");
	prom_uint(out, opened, &client, 1, counts[CONN_OPENED_ACTIVE]);
	prom_uint(out, opened, &server, 1, counts[CONN_OPENED_PASSIVE]);
	prom_family(out, closed, "counter",
		    "TCP connections opened while the agent ran that have closed, by role.");
	prom_uint(out, closed, &client, 1, counts[CONN_CLOSED_ACTIVE]);
	prom_uint(out, closed, &server, 1, counts[CONN_CLOSED_PASSIVE]);
}

static void write_latency(FILE *out, const struct connlat_session *s, const uint64_t *slots)
{
	double bounds[CONNLAT_SLOTS - 1];

	prom_log2_us_bounds(bounds, CONNLAT_SLOTS - 1);
	prom_family(out, "sockeye_tcp_connect_duration_seconds", "histogram",
		    "Time from a connect()'s SYN to the SYN-ACK, of the handshakes that completed.");
	/* The last slot catches everything longer: it is the +Inf bucket. */
	prom_histogram(out, "sockeye_tcp_connect_duration_seconds", NULL, 0, bounds,
		       CONNLAT_SLOTS - 1, slots, connlat_latency_sum_ns(s));
}

struct reason_count {
	char reason[24];
	uint64_t count;
};

/* Adds count to reason's entry, as a label value: an identifier, "timed
 * out" as timed_out. */
static void add_reason(struct reason_count *r, size_t *n, const char *reason, uint64_t count)
{
	char label[sizeof(r->reason)];
	size_t i;

	snprintf(label, sizeof(label), "%s", reason);
	for (char *c = label; *c; c++)
		*c = *c == ' ' ? '_' : *c;
	for (i = 0; i < *n && strcmp(r[i].reason, label); i++)
		;
	if (i == *n) {
		memcpy(r[i].reason, label, sizeof(label));
		r[(*n)++].count = 0;
	}
	r[i].count += count;
}

/* Several errnos share a reason (unreachable); the usual ones are always
 * there, so that a first failure shows as an increase from 0. */
static void write_failures(FILE *out, const uint64_t *by_errno)
{
	static const int usual[] = { 0, ECONNREFUSED, ETIMEDOUT, ECONNRESET, EHOSTUNREACH };
	struct reason_count reasons[CONNLAT_ERRNOS];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(usual) / sizeof(usual[0]); i++)
		add_reason(reasons, &n, handshake_failure(usual[i]), 0);
	for (int e = 0; e < CONNLAT_ERRNOS; e++)
		if (by_errno[e])
			add_reason(reasons, &n, handshake_failure(e), by_errno[e]);
	prom_family(out, "sockeye_tcp_connect_failures_total", "counter",
		    "TCP handshakes of connect() that did not complete, by reason: refused (RST), "
		    "timed_out, reset, unreachable (ICMP), aborted (closed first) or an errno name.");
	for (size_t i = 0; i < n; i++)
		prom_uint(out, "sockeye_tcp_connect_failures_total",
			  &(struct prom_label){ "reason", reasons[i].reason }, 1, reasons[i].count);
}

static int tcp_write(void *state, FILE *out)
{
	const struct connlat_session *s = state;
	uint64_t counts[CONN_COUNTERS], slots[CONNLAT_SLOTS], by_errno[CONNLAT_ERRNOS];
	int err = connlat_connections(s, counts);

	if (!err)
		err = connlat_hist(s, slots);
	if (!err)
		err = connlat_failures(s, by_errno);
	if (err) {
		p_err("cannot read the TCP counters: %s", strerror(-err));
		return err;
	}
	write_connections(out, counts);
	write_latency(out, s, slots);
	write_failures(out, by_errno);
	return 0;
}

/* Handshakes not timed, and connections not counted: too many at once. */
static uint64_t tcp_lost(void *state)
{
	uint64_t counts[CONN_COUNTERS];

	connlat_connections(state, counts);
	return connlat_untimed(state) + counts[CONN_UNCOUNTED];
}

static const struct bpf_object_skeleton *tcp_skeleton(void *state)
{
	return connlat_session_skeleton(state);
}

static void tcp_stop(void *state)
{
	connlat_session_stop(state);
	free(state);
}

/* ---- syscalls: socket system calls by kind ---- */

static int syscalls_start(const struct collector_config *cfg, void **state)
{
	/* Counted per call, before there is a socket to match. */
	struct sock_filters f = { 0 };
	struct sockstat_session *s = malloc(sizeof(*s));
	int err;

	if (!s)
		return out_of_memory();
	err = sockstat_session_start(s, PART_CALLS, &f, "agent");
	if (err)
		free(s);
	else
		*state = s;
	return err;
}

/* The socket layer's sends and receives (sock_sendmsg, sock_recvmsg) are
 * not system calls: a write() on a socket is one, a sendmmsg() one per
 * message. A family of their own, so that sum() of the system calls
 * counts each call once. */
static void write_socket_layer(FILE *out, const struct sockstat_session *s,
			       const uint64_t counts[SS_COUNTERS])
{
	static const char name[] = "sockeye_socket_layer_calls_total";
	static const struct { int counter; const char *direction; } layer[] = {
		{ SS_SOCK_SEND, "send" }, { SS_SOCK_RECV, "recv" },
	};

	prom_family(out, name, "counter",
		    "Sends and receives through the socket layer, by direction: one per send or "
		    "receive call, per message of sendmmsg() and recvmmsg(), per read() or write() "
		    "on a socket.");
	for (size_t i = 0; i < sizeof(layer) / sizeof(layer[0]); i++)
		if (!(s->missing & SS_BIT(layer[i].counter)))
			prom_uint(out, name, &(struct prom_label){ "direction", layer[i].direction }, 1,
				  counts[layer[i].counter]);
}

static int syscalls_write(void *state, FILE *out)
{
	const struct sockstat_session *s = state;
	uint64_t counts[SS_COUNTERS];
	int err = sockstat_read_calls(s, counts);

	if (err) {
		p_err("cannot read the socket system call counters: %s", strerror(-err));
		return err;
	}
	prom_family(out, "sockeye_socket_syscalls_total", "counter",
		    "Socket system calls, by call (send and recv include their variants).");
	for (int i = 0; i < SS_COUNTERS; i++)
		if (!(s->missing & SS_BIT(i)) && i != SS_SOCK_SEND && i != SS_SOCK_RECV)
			prom_uint(out, "sockeye_socket_syscalls_total",
				  &(struct prom_label){ "call", ss_counter_key(i) }, 1, counts[i]);
	write_socket_layer(out, s, counts);
	return 0;
}

static const struct bpf_object_skeleton *syscalls_skeleton(void *state)
{
	return sockstat_session_skeleton(state);
}

static void syscalls_stop(void *state)
{
	sockstat_session_stop(state);
	free(state);
}

/* ---- flows: retransmits by kind, drops by reason (metrics.c: flows --prom
 * writes them too), and the TCP connections established now, by owner ---- */

struct flows_state {
	struct flows_session session;
	struct flow_table table;	/* the last pass of the iterators */
	size_t max_series;
	size_t comm_names;		/* with a series of their own at the last refresh */
};

static int flows_start(const struct collector_config *cfg, void **state)
{
	struct flows_config c = { .filters = cfg->filters, .drops = true, .counters_only = true };
	struct flows_state *f = calloc(1, sizeof(*f));
	int err;

	if (!f)
		return out_of_memory();
	f->max_series = cfg->max_series;
	err = flows_session_start(&f->session, &c, NULL, NULL);
	if (err)
		free(f);
	else
		*state = f;
	return err;
}

struct comm_count {
	char comm[LABEL_LEN];
	uint64_t n;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct comm_count *)a)->comm, ((const struct comm_count *)b)->comm);
}

/* Most first; a tie by name, so that the names kept do not flap. */
static int most_first(const void *a, const void *b)
{
	uint64_t x = ((const struct comm_count *)a)->n, y = ((const struct comm_count *)b)->n;

	return x != y ? (x < y) - (x > y) : by_name(a, b);
}

/* The established connections in t: returns how many in all, and fills
 * counts (room for t's rows) with how many each owner's name holds, most
 * first, in *n names. Those without a known owner (still in a listener's
 * queue, or new since the last walk of the processes' files) are in the
 * total only. */
static uint64_t count_established(const struct flow_table *t, struct comm_count *counts,
				  size_t *n)
{
	uint64_t total = 0;
	size_t owned = 0;

	for (size_t i = 0; i < t->n; i++) {
		const struct flow_record *r = &t->rows[i];

		if (r->closed || r->tuple.state != TCP_ESTABLISHED)
			continue;
		total++;
		if (r->entry.owner.pid)
			prom_utf8(counts[owned++].comm, LABEL_LEN, r->entry.owner.comm);
	}
	qsort(counts, owned, sizeof(*counts), by_name);
	*n = 0;
	for (size_t i = 0; i < owned; i++) {
		if (!*n || strcmp(counts[*n - 1].comm, counts[i].comm)) {
			memmove(counts[*n].comm, counts[i].comm, LABEL_LEN);
			counts[(*n)++].n = 0;
		}
		counts[*n - 1].n++;
	}
	qsort(counts, *n, sizeof(*counts), most_first);
	return total;
}

/* The connections established now: in total, and by the name of the
 * process holding each. A gauge has no past to keep apart, so the names
 * are chosen afresh at each refresh: the --max-series names holding the
 * most, the rest as other. */
static int write_established(FILE *out, struct flows_state *f)
{
	static const char total_name[] = "sockeye_tcp_connections_established",
			  comm_name[] = "sockeye_process_tcp_connections_established";
	struct comm_count *counts;
	uint64_t total, other = 0;
	size_t n;
	int err = flows_snapshot(&f->session, &f->table, false);

	if (err || !(counts = calloc(f->table.n + 1, sizeof(*counts)))) {
		p_err("cannot read the TCP connections: %s", strerror(err ? -err : ENOMEM));
		return err ? err : -ENOMEM;
	}
	total = count_established(&f->table, counts, &n);
	prom_family(out, total_name, "gauge",
		    "TCP connections in ESTABLISHED now (those the filters let through), "
		    "both ends of a connection on this host.");
	prom_uint(out, total_name, NULL, 0, total);
	prom_family(out, comm_name, "gauge",
		    "TCP connections in ESTABLISHED now, by the name of the process holding each; "
		    "those not accepted yet are in the total only.");
	f->comm_names = 0;
	for (size_t i = 0; i < n; i++) {
		if (f->comm_names == f->max_series || !*counts[i].comm ||
		    !strcmp(counts[i].comm, LABEL_OTHER)) {
			other += counts[i].n;
			continue;
		}
		f->comm_names++;
		prom_uint(out, comm_name, &(struct prom_label){ "comm", counts[i].comm }, 1,
			  counts[i].n);
	}
	if (other)
		prom_uint(out, comm_name, &(struct prom_label){ "comm", LABEL_OTHER }, 1, other);
	free(counts);
	return 0;
}

static int flows_write(void *state, FILE *out)
{
	struct flows_state *f = state;
	int err = metrics_retransmits(out, &f->session);

	if (!err)
		err = metrics_drops(out, &f->session);
	return err ? err : write_established(out, f);
}

static uint64_t flows_lost(void *state)
{
	return flows_untracked(&((struct flows_state *)state)->session);
}

static const struct bpf_object_skeleton *flows_skeleton(void *state)
{
	return flows_session_skeleton(&((struct flows_state *)state)->session);
}

static size_t flows_comm_names(void *state)
{
	return ((struct flows_state *)state)->comm_names;
}

static void flows_stop(void *state)
{
	struct flows_state *f = state;

	flows_session_stop(&f->session);
	flow_table_free(&f->table);
	free(f);
}

/* ---- http: exchanges by role, method and status, with latency ---- */

/* Buckets of 4^i microseconds (4 us, 16 us, ... 67 s), two of the kernel's
 * log2 slots each, and +Inf: 16 series a histogram with _sum and _count,
 * where the log2 buckets made 29. */
#define HTTP_BUCKETS 14
/* The methods the kernel knows a request by (bpf/http.bpf.c); any other
 * is served as OTHER, so that the method label stays within these. */
static const char *const http_methods[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
};

/* Totals since the start, from the kernel's sums. */
struct http_series {
	bool server;
	bool tls;
	const char *method;	/* one of http_methods, or "OTHER" */
	size_t status;		/* index in the status label set */
	uint64_t slots[HTTP_BUCKETS], sum_ns;
};

struct http_state {
	struct http_session session;
	struct tls_libs tls_libs;	/* found at the start */
	bool status_codes;		/* the codes themselves, not their classes */
	struct label_set statuses;
	struct http_series *series;
	size_t n, cap;
};

static const char *http_method(const char method[HTTP_METHOD_LEN])
{
	for (size_t i = 0; i < sizeof(http_methods) / sizeof(http_methods[0]); i++)
		if (!strncmp(method, http_methods[i], HTTP_METHOD_LEN))
			return http_methods[i];
	return "OTHER";
}

/* A status as its label value: its class (2xx) unless the codes were
 * asked for; a code outside 100-599 as "other". */
static void http_status(char *buf, size_t len, unsigned status, bool codes)
{
	if (status < 100 || status > 599)
		snprintf(buf, len, "%s", LABEL_OTHER);
	else if (codes)
		snprintf(buf, len, "%u", status);
	else
		snprintf(buf, len, "%uxx", status / 100);
}

static struct http_series *series_of(struct http_state *h, const struct http_sum_key *key)
{
	const char *method = http_method(key->method);
	char status[8];
	long idx;

	http_status(status, sizeof(status), key->status, h->status_codes);
	idx = label_index(&h->statuses, status);
	if (idx < 0)
		return NULL;
	for (size_t i = 0; i < h->n; i++)
		if (h->series[i].server == key->server && h->series[i].tls == key->tls &&
		    h->series[i].method == method && h->series[i].status == (size_t)idx)
			return &h->series[i];
	if (!ARRAY_GROW(h->series, h->n, h->cap))
		return NULL;
	h->series[h->n] = (struct http_series){ .server = key->server, .tls = key->tls,
						.method = method, .status = idx };
	return &h->series[h->n++];
}

/* Adds one of the kernel's sums to its series (http_sums_read()'s callback). */
static void add_sum(void *ctx, const struct http_sum_key *key, const struct http_sum *sum)
{
	struct http_series *s = series_of(ctx, key);

	if (!s)
		return;	/* out of memory: the sum goes uncounted */
	for (int i = 0; i < HTTP_LATENCY_SLOTS; i++)
		s->slots[i / 2 < HTTP_BUCKETS ? i / 2 : HTTP_BUCKETS - 1] += sum->slots[i];
	s->sum_ns += sum->sum_ns;
}

static int http_start(const struct collector_config *cfg, void **state)
{
	struct http_state *h = calloc(1, sizeof(*h));
	int err;

	if (!h)
		return out_of_memory();
	/* The classes 1xx to 5xx are few and known: --max-series is for codes. */
	h->statuses.max = cfg->http_status_codes ? cfg->max_series : 5;
	h->status_codes = cfg->http_status_codes;
	if (cfg->tls_libs)
		h->tls_libs = *cfg->tls_libs;
	tls_libs_find(&h->tls_libs);
	err = http_sums_start(&h->session, &cfg->filters, &h->tls_libs, false, "");
	if (err)
		free(h);
	else
		*state = h;
	return err;
}

static int http_write(void *state, FILE *out)
{
	static const char name[] = "sockeye_http_request_duration_seconds";
	struct http_state *h = state;
	double bounds[HTTP_BUCKETS - 1];
	int err;

	/* The kernel's sums are totals since the start: added up afresh. */
	for (size_t i = 0; i < h->n; i++) {
		memset(h->series[i].slots, 0, sizeof(h->series[i].slots));
		h->series[i].sum_ns = 0;
	}
	err = http_sums_read(&h->session, add_sum, h);
	if (err) {
		p_err("cannot read the HTTP sums: %s", strerror(-err));
		return err;
	}
	for (int i = 0; i < HTTP_BUCKETS - 1; i++)
		bounds[i] = (double)(4ULL << 2 * i) / 1e6;
	prom_family(out, name, "histogram",
		    "HTTP/1.x exchanges from the request's first byte to the response's first "
		    "byte, by role (server: the request was received here), method, status and "
		    "whether they were inside TLS (HTTPS).");
	for (size_t i = 0; i < h->n; i++) {
		const struct http_series *s = &h->series[i];
		struct prom_label labels[] = {
			{ "role", s->server ? "server" : "client" },
			{ "method", s->method },
			{ "status", label_value(&h->statuses, s->status) },
			{ "tls", s->tls ? "true" : "false" },
		};

		prom_histogram(out, name, labels, 4, bounds, HTTP_BUCKETS - 1, s->slots,
			       s->sum_ns);
	}
	return 0;
}

/* Exchanges the kernel could not sum: its table was full. */
static uint64_t http_lost(void *state)
{
	return http_sums_full(&((struct http_state *)state)->session);
}

static const struct bpf_object_skeleton *http_skeleton(void *state)
{
	return http_session_skeleton(&((struct http_state *)state)->session);
}

static void http_stop(void *state)
{
	struct http_state *h = state;

	http_session_stop(&h->session);
	label_set_free(&h->statuses);
	free(h->series);
	free(h);
}

const struct collector collectors[] = {
	/* bytes and flows: named as top and flows --from-agent look for their pins. */
	{ TRAFFIC_PIN_SUBDIR, "bytes sent and received by process name and protocol", true,
	  bytes_start, bytes_write, bytes_lost, bytes_skeleton, bytes_stop, bytes_comm_names },
	{ "tcp", "TCP connections opened and closed, connect latency, handshake\n"
	  "             failures by reason", true,
	  tcp_start, tcp_write, tcp_lost, tcp_skeleton, tcp_stop },
	{ FLOWS_PIN_SUBDIR, "TCP retransmits by kind and TCP drops by the kernel's reason", true,
	  flows_start, flows_write, flows_lost, flows_skeleton, flows_stop, flows_comm_names },
	{ "syscalls", "socket system calls by kind (syscall tracepoints: every system\n"
	  "             call on the host gets a little slower; off by default)", false,
	  syscalls_start, syscalls_write, NULL, syscalls_skeleton, syscalls_stop },
	{ "http", "HTTP/1.x exchanges and their latency by role, method, status and TLS\n"
	  "             (reads the first bytes of each HTTP message in the kernel, HTTPS\n"
	  "             through uprobes on OpenSSL and GnuTLS, and uses syscall\n"
	  "             tracepoints; off by default)", false,
	  http_start, http_write, http_lost, http_skeleton, http_stop },
};
const size_t n_collectors = sizeof(collectors) / sizeof(collectors[0]);

const struct collector *find_collector(const char *name)
{
	for (size_t i = 0; i < n_collectors; i++)
		if (!strcmp(collectors[i].name, name))
			return &collectors[i];
	return NULL;
}
