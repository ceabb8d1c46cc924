// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye flows`, the command: options, the table (redrawn on a terminal,
 * a snapshot per interval otherwise) with its host-wide drop and layer
 * tables, JSON Lines, the Prometheus file, and the line-per-retransmit and
 * line-per-packet views. The session is in src/flows_session.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "sockeye.h"
#include "flows_print.h"
#include "flows_http.h"
#include "format.h"
#include "histogram.h"
#include "json.h"
#include "metrics.h"
#include "pins.h"
#include "probe.h"
#include "prom.h"

struct sort_key {
	uint64_t (*value)(const struct flow_record *r);	/* NULL: by comm */
	bool ascending;
};

/* ---- sorting ---- */

static uint64_t age_ns(const struct flow_record *r)
{
	const struct flow_entry *e = &r->entry;

	return r->ts_ns - (e->start_ns ? e->start_ns : e->first_seen_ns);
}

static uint64_t by_pid(const struct flow_record *r) { return r->entry.owner.pid; }
static uint64_t by_local(const struct flow_record *r) { return r->tuple.sport; }
static uint64_t by_remote(const struct flow_record *r) { return r->tuple.dport; }
static uint64_t by_state(const struct flow_record *r) { return r->tuple.state; }
static uint64_t by_acked(const struct flow_record *r) { return r->tcp.bytes_acked; }
static uint64_t by_received(const struct flow_record *r) { return r->tcp.bytes_received; }
static uint64_t by_retrans(const struct flow_record *r) { return r->tcp.total_retrans; }
static uint64_t by_srtt(const struct flow_record *r) { return r->tcp.srtt_us; }
static uint64_t by_cwnd(const struct flow_record *r) { return r->tcp.snd_cwnd; }
static uint64_t by_sendq(const struct flow_record *r) { return r->tcp.send_q; }
static uint64_t by_recvq(const struct flow_record *r) { return r->tcp.recv_q; }

/* --sort's keys, in the order of sort_keys[]. */
static const struct opt_choice sort_key_names[] = {
	{ "acked", 0 }, { "received", 1 }, { "retrans", 2 }, { "srtt", 3 }, { "age", 4 },
	{ "cwnd", 5 }, { "sendq", 6 }, { "recvq", 7 }, { "pid", 8 }, { "comm", 9 },
	{ "local", 10 }, { "remote", 11 }, { "state", 12 }, { NULL, 0 },
};

static const struct sort_key sort_keys[] = {
	{ by_acked, false },	/* the default: busiest first */
	{ by_received, false },
	{ by_retrans, false },
	{ by_srtt, false },
	{ age_ns, false },
	{ by_cwnd, false },
	{ by_sendq, false },
	{ by_recvq, false },
	{ by_pid, true },
	{ NULL, true },		/* comm */
	{ by_local, true },
	{ by_remote, true },
	{ by_state, true },
};

static int compare_rows(const void *a, const void *b, void *key)
{
	const struct sort_key *sorting = key;
	const struct flow_record *x = a, *y = b;
	uint64_t vx, vy;
	int c;

	if (!sorting->value) {
		c = strncmp(x->entry.owner.comm, y->entry.owner.comm, sizeof(x->entry.owner.comm));
	} else {
		vx = sorting->value(x);
		vy = sorting->value(y);
		c = vx < vy ? -1 : vx > vy;
	}
	if (!sorting->ascending)
		c = -c;
	/* Ties in a stable order, so rows do not jump between redraws. */
	return c ? c : (x->cookie < y->cookie ? -1 : x->cookie > y->cookie);
}

/* ---- text ---- */

struct widths {
	int local, remote;
};

static void endpoints(const struct flow_record *r, char *local, char *remote)
{
	const struct sock_tuple *t = &r->tuple;

	format_endpoint(local, ENDPOINT_LEN, t->family, t->saddr, t->sport);
	format_endpoint(remote, ENDPOINT_LEN, t->family, t->daddr, t->dport);
}

static struct widths measure(const struct flow_table *t)
{
	struct widths w = { 21, 21 };	/* "255.255.255.255:65535" */
	char local[ENDPOINT_LEN], remote[ENDPOINT_LEN];

	for (size_t i = 0; i < t->n; i++) {
		endpoints(&t->rows[i], local, remote);
		if ((int)strlen(local) > w.local)
			w.local = strlen(local);
		if ((int)strlen(remote) > w.remote)
			w.remote = strlen(remote);
	}
	return w;
}

/* The state of a row: a closed one's is CLOSE, as the kernel calls it. */
static const char *short_state(const struct flow_record *r)
{
	return tcp_state_name(r->closed ? TCP_CLOSE : r->tuple.state);
}

/* The role of a connection's end: client (it connected), server (it was
 * accepted); NULL when not known (open before sockeye started). */
static const char *role_name(int direction)
{
	return direction == FLOW_CLIENT ? "client" : direction == FLOW_SERVER ? "server" : NULL;
}

/* Seconds; ">" when the connection was open before sockeye started and
 * only the time since then is known. */
static void format_age(char *buf, size_t len, const struct flow_record *r)
{
	double s = age_ns(r) / 1e9;

	snprintf(buf, len, s < 100 ? "%s%.1fs" : "%s%.0fs", r->entry.start_ns ? "" : ">", s);
}

/* The NETNS column (--all-netns): the widest inode number has 10 digits. */
#define NETNS_COLUMN "%-10s "
#define NETNS_VALUE "%-10u "

static void print_header(const struct flows_opts *o, const struct widths *w)
{
	printf("%-7s %-15s ", "PID", "COMM");
	if (o->cfg.all_netns)
		printf(NETNS_COLUMN, "NETNS");
	printf("%-*s %-*s %-11s %-6s %8s %12s %12s %7s %8s", w->local, "LOCAL", w->remote,
	       "REMOTE", "STATE", "ROLE", "AGE", "ACKED", "RECEIVED", "RETRANS", "SRTT(ms)");
	if (o->extra)
		printf(" %7s %7s %6s %8s %8s %8s %8s %8s %10s %7s %8s %-8s", "BACKLOG", "MAXBL",
		       "CWND", "SSTHRESH", "SNDBUF", "SENDQ", "RECVQ", "RCVWND", "RTTVAR(ms)",
		       "PKTSOUT", "INFLIGHT", "CA");
	if (o->retrans)
		printf(" %6s %7s %6s %5s %6s", "FAST", "TIMEOUT", "PROBE", "SYN", "SYNACK");
	if (o->drops)
		printf(" %7s %6s %9s", "CSUMERR", "SEQERR", "OTHERDROP");
	if (o->layers)
		printf(" %9s %9s %9s %9s", "RXDEV(us)", "RXQUE(us)", "TXTCP(us)", "TXDEV(us)");
	if (o->http)
		printf(" %5s %-7s %6s %8s", "REQS", "METHOD", "STATUS", "LAT(ms)");
	putchar('\n');
}

/* The HTTP columns: requests, the last one's method and status, and the
 * mean latency (request's first byte to response's first byte). */
static void print_http(const struct http_summary *h)
{
	if (!h) {
		printf(" %5d %-7s %6s %8s", 0, "-", "-", "-");
		return;
	}
	printf(" %5llu %-7s %6u %8.3f", (unsigned long long)h->requests, h->method, h->status,
	       h->latency_ns / 1e6 / h->requests);
}

/* The average time of a packet in each layer, or "-" without packets. */
static void print_layer_averages(const struct flow_layers *l)
{
	for (int k = 0; k < LAYERS; k++)
		if (l->count[k])
			printf(" %9.1f", l->sum_ns[k] / 1e3 / l->count[k]);
		else
			printf(" %9s", "-");
}

/* ss leaves out an ssthresh the kernel keeps at TCP_INFINITE_SSTHRESH (no
 * loss yet: no threshold). */
#define INFINITE_SSTHRESH 0x7fffffffu

/* A listener has no path: no round trip, window or threshold to show. */
static bool has_path(const struct flow_record *r)
{
	return r->tuple.state != TCP_LISTEN;
}

static bool has_ssthresh(const struct flow_record *r)
{
	return has_path(r) && r->tcp.snd_ssthresh < INFINITE_SSTHRESH;
}

/* A number for a text column, or "-" where it means nothing. */
static const char *number_or_dash(char *buf, size_t len, bool shown, double value, int decimals)
{
	if (!shown)
		return "-";
	snprintf(buf, len, "%.*f", decimals, value);
	return buf;
}

static void print_row(const struct flows_opts *o, const struct widths *w,
		      const struct flow_record *r, const struct flow_layers *l,
		      const struct flows_http *http)
{
	const struct flow_tcp *c = &r->tcp;
	const __u64 *rt = r->entry.retrans;
	char local[ENDPOINT_LEN], remote[ENDPOINT_LEN], age[32], srtt[32], rttvar[32];
	char cwnd[16], ssthresh[16];

	endpoints(r, local, remote);
	format_age(age, sizeof(age), r);
	printf("%-7u %-15s ", r->entry.owner.pid,
	       r->entry.owner.pid ? comm_str(r->entry.owner.comm).s : "-");
	if (o->cfg.all_netns)
		printf(NETNS_VALUE, r->netns);
	printf("%-*s %-*s %-11s %-6s %8s %12llu %12llu %7u %8s", w->local, local, w->remote, remote,
	       short_state(r), direction_name(r->entry.direction), age,
	       (unsigned long long)c->bytes_acked, (unsigned long long)c->bytes_received,
	       c->total_retrans,
	       number_or_dash(srtt, sizeof(srtt), has_path(r), c->srtt_us / 1e3, 3));
	if (o->extra)
		printf(" %7u %7u %6s %8s %8d %8u %8u %8u %10s %7u %8u %-8s", c->backlog,
		       c->max_backlog, number_or_dash(cwnd, sizeof(cwnd), has_path(r), c->snd_cwnd, 0),
		       number_or_dash(ssthresh, sizeof(ssthresh), has_ssthresh(r), c->snd_ssthresh, 0),
		       c->sndbuf, c->send_q, c->recv_q, c->rcv_wnd,
		       number_or_dash(rttvar, sizeof(rttvar), has_path(r), c->rttvar_us / 1e3, 3),
		       c->packets_out, c->bytes_in_flight,
		       has_path(r) ? ca_state_name(c->ca_state) : "-");
	if (o->retrans)
		printf(" %6llu %7llu %6llu %5llu %6llu", (unsigned long long)rt[RETRANS_FAST],
		       (unsigned long long)rt[RETRANS_TIMEOUT], (unsigned long long)rt[RETRANS_PROBE],
		       (unsigned long long)rt[RETRANS_SYN], (unsigned long long)rt[RETRANS_SYNACK]);
	if (o->drops && flows_drops_per_connection())
		printf(" %7llu %6llu %9llu", (unsigned long long)r->entry.drops[DROP_CSUM],
		       (unsigned long long)r->entry.drops[DROP_SEQ],
		       (unsigned long long)r->entry.drops[DROP_OTHER]);
	else if (o->drops)
		printf(" %7s %6s %9s", "-", "-", "-");
	if (l)
		print_layer_averages(l);
	if (http)
		print_http(flows_http_of(http, &r->tuple));
	putchar('\n');
}

static size_t count_closed(const struct flow_table *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n; i++)
		n += t->rows[i].closed;
	return n;
}

void flows_print_table(const struct flows_opts *o, const struct flow_table *t,
		       const struct flow_layers *layers, const struct flows_http *http,
		       const struct report_span *span, bool live)
{
	struct widths w = measure(t);
	char when[TIME_LEN];

	format_clock_time(when, sizeof(when), span->end_ns);
	if (live)
		fputs("\033[H\033[2J", stdout);	/* home, clear: redraw in place */
	printf("%s  %zu connections, %zu closed%s\n", when, t->n - count_closed(t), count_closed(t),
	       live ? "  (Ctrl-C quits)" : "");
	print_header(o, &w);
	for (size_t i = 0; i < t->n; i++)
		print_row(o, &w, &t->rows[i], layers ? &layers[i] : NULL, http);
}

/* ---- JSON ---- */

static void json_uint_or_null(struct json *j, const char *key, bool shown, uint64_t value)
{
	if (shown)
		json_uint(j, key, value);
	else
		json_null(j, key);
}

/* A listener's path fields are null, and so is an infinite ssthresh. */
static void json_tcp(struct json *j, const struct flow_record *r)
{
	const struct flow_tcp *c = &r->tcp;

	json_uint(j, "bytes_acked", c->bytes_acked);
	json_uint(j, "bytes_received", c->bytes_received);
	json_uint_or_null(j, "srtt_ns", has_path(r), c->srtt_us * 1000ULL);
	json_uint_or_null(j, "rttvar_ns", has_path(r), c->rttvar_us * 1000ULL);
	json_uint_or_null(j, "cwnd", has_path(r), c->snd_cwnd);
	json_uint_or_null(j, "ssthresh", has_ssthresh(r), c->snd_ssthresh);
	json_uint(j, "total_retrans", c->total_retrans);
	json_uint(j, "packets_out", c->packets_out);
	json_uint(j, "bytes_in_flight", c->bytes_in_flight);
	json_uint(j, "send_q", c->send_q);
	json_uint(j, "recv_q", c->recv_q);
	json_uint(j, "snd_wnd", c->snd_wnd);
	json_uint(j, "rcv_wnd", c->rcv_wnd);
	json_int(j, "sndbuf", c->sndbuf);
	json_int(j, "rcvbuf", c->rcvbuf);
	json_int(j, "wmem_queued", c->wmem_queued);
	json_uint(j, "backlog", c->backlog);
	json_uint(j, "max_backlog", c->max_backlog);
	json_uint(j, "mss", c->mss);
	json_str_or_null(j, "ca_state", has_path(r) ? ca_state_name(c->ca_state) : NULL);
}

/* A connection's layer times: for each, an object with the packets timed
 * (count), their total time and a log2 histogram. */
static void json_layers(struct json *j, const struct flow_layers *l)
{
	uint64_t slots[LAYER_SLOTS];
	char key[48];

	for (int k = 0; k < LAYERS; k++) {
		for (size_t i = 0; i < LAYER_SLOTS; i++)
			slots[i] = l->slots[k][i];
		snprintf(key, sizeof(key), "layer_%s", layer_name(k));
		json_object_begin(j, key);
		json_uint(j, "count", l->count[k]);
		json_uint(j, "sum_ns", l->sum_ns[k]);
		json_hist(j, slots, LAYER_SLOTS);
		json_object_end(j);
	}
}

static void json_http(struct json *j, const struct http_summary *h)
{
	json_uint(j, "http_requests", h ? h->requests : 0);
	if (!h)
		return;
	json_str(j, "http_last_method", h->method);
	json_uint(j, "http_last_status", h->status);
	json_uint(j, "http_mean_latency_ns", h->latency_ns / h->requests);
}

void flows_json_row(const struct flow_record *r, uint64_t realtime_ns, bool drops,
		    const struct flow_layers *l, const struct flows_http *http)
{
	char key[32];
	struct json j;

	json_connection_begin(&j, "flow", realtime_ns, &r->entry.owner, &r->tuple);
	json_str(&j, "state", short_state(r));
	json_str_or_null(&j, "role", role_name(r->entry.direction));
	json_bool(&j, "closed", r->closed);
	json_uint(&j, "age_ns", age_ns(r));
	json_bool(&j, "open_before_start", !r->entry.start_ns);
	json_tcp(&j, r);
	for (int k = 0; k < RETRANS_KINDS; k++) {
		snprintf(key, sizeof(key), "retrans_%s", retrans_kind_name(k));
		json_uint(&j, key, r->entry.retrans[k]);
	}
	for (int k = 0; drops && k < DROP_KINDS; k++) {
		snprintf(key, sizeof(key), "drops_%s", drop_kind_name(k));
		json_uint(&j, key, r->entry.drops[k]);
	}
	if (l)
		json_layers(&j, l);
	if (http)
		json_http(&j, flows_http_of(http, &r->tuple));
	json_uint(&j, "netns", r->netns);
	json_uint(&j, "cookie", r->cookie);
	json_end(&j);
}

/* ---- drops by protocol and reason, in the namespace (--drops) ---- */

struct drop_printer {
	uint64_t realtime_ns;
	bool json;
	const char *proto;	/* "tcp" or "udp" */
};

static void print_drop(void *ctx, uint32_t reason, uint64_t count)
{
	const struct drop_printer *d = ctx;
	struct json j;

	if (d->json) {
		json_record_begin(&j, "drop", d->realtime_ns);
		json_str(&j, "proto", d->proto);
		json_str(&j, "reason", drop_reason_name(reason));
		json_uint(&j, "count", count);
		json_end(&j);
	} else {
		printf("  %-4s %-32s %llu\n", d->proto, drop_reason_name(reason),
		       (unsigned long long)count);
	}
}

static int print_drops(const struct flows_session *s, struct drop_printer *d)
{
	static const struct {
		uint8_t number;
		const char *name;
	} protos[] = { { IPPROTO_TCP, "tcp" }, { IPPROTO_UDP, "udp" } };
	int err = 0;

	if (!d->json)
		printf("TCP segments and UDP datagrams dropped since the start in this network "
		       "namespace, by reason:\n");
	for (size_t i = 0; !err && i < sizeof(protos) / sizeof(protos[0]); i++) {
		d->proto = protos[i].name;
		err = flows_drop_counts(s, protos[i].number, print_drop, d);
	}
	if (err)
		p_err("cannot read the drop counts: %s", strerror(-err));
	return err;
}

/* ---- the reports ---- */

/* ---- layer times, host-wide (-t) ---- */

static const char *const layer_titles[LAYERS] = {
	[LAYER_RX_DEVICE] = "received, from the device to TCP",
	[LAYER_RX_QUEUE] = "received, in the socket's queue until copied to the process",
	[LAYER_TX_TCP] = "sent, from TCP's departure time to the device queue",
	[LAYER_TX_DEVICE] = "sent, from the device queue to the driver",
};

static int print_layer_totals(const struct flows_session *s, uint64_t realtime_ns, bool json)
{
	uint64_t slots[LAYERS * LAYER_SLOTS], sum_ns[LAYERS];
	struct json j;
	int err = flows_layer_totals(s, slots, sum_ns);

	if (err) {
		p_err("cannot read the layer times: %s", strerror(-err));
		return err;
	}
	for (int k = 0; k < LAYERS; k++) {
		const uint64_t *h = &slots[k * LAYER_SLOTS];

		if (!json) {
			printf("Packet time %s, host-wide, since the start:\n", layer_titles[k]);
			print_log2_hist(stdout, h, LAYER_SLOTS, "usecs");
			continue;
		}
		json_record_begin(&j, "layer", realtime_ns);
		json_str(&j, "layer", layer_name(k));
		json_uint(&j, "sum_ns", sum_ns[k]);
		json_hist(&j, h, LAYER_SLOTS);
		json_end(&j);
	}
	return 0;
}

struct reporter {
	const struct flows_opts *o;
	struct flows_session *s;
	struct flow_table table;
	struct flow_layers *layers;	/* under -t, one per row of table */
	struct flows_http *http;	/* under --http */
	uint64_t closed_total;	/* connections closed since the start */
	bool live;
	struct json_lost lost;	/* under --json */
};

/* Ends each snapshot: what it covered; then a lost record if closed
 * connections went unreported since the last one. */
static void json_summary(struct reporter *rep, const struct report_span *span)
{
	uint64_t totals[RETRANS_KINDS] = {};
	char key[32];
	struct json j;

	flows_retrans_totals(rep->s, totals);
	json_report_begin(&j, "flows", span->end_ns, span->length_ns);
	json_uint(&j, "connections", rep->table.n - count_closed(&rep->table));
	json_uint(&j, "closed", count_closed(&rep->table));
	for (int k = 0; k < RETRANS_KINDS; k++) {
		snprintf(key, sizeof(key), "retrans_%s", retrans_kind_name(k));
		json_uint(&j, key, totals[k]);
	}
	json_uint(&j, "untracked", flows_untracked(rep->s));
	json_end(&j);
	json_lost(&rep->lost, reader_lost(&rep->s->reader), reader_skipped(&rep->s->reader), false);
}

/* ---- --prom: the metric families, named as the agent names them ---- */

/* flows sees TCP connections only, so its families are sockeye_tcp_*, the
 * agent's TCP prefix: one prefix per protocol, whichever command writes
 * it. Those the agent writes too (retransmits, drops, lost events) come
 * from the same functions (metrics.c); flows' own do not reuse an agent
 * name for another meaning. */

/* Connections by state and role: few label values, whatever the number of
 * sockets. Per-connection numbers stay in the JSON output. */
static void prom_connections(FILE *out, const struct flow_table *t)
{
	static const char name[] = "sockeye_tcp_connections";
	static const int roles[] = { FLOW_CLIENT, FLOW_SERVER, FLOW_DIR_UNKNOWN };

	prom_family(out, name, "gauge",
		    "TCP connections open at the last snapshot, by state (the kernel's name "
		    "without TCP_) and role: client (connect()), server (accepted) or unknown "
		    "(open before flows started).");
	for (int st = 1; st <= 12; st++) {
		for (size_t r = 0; r < sizeof(roles) / sizeof(roles[0]); r++) {
			struct prom_label labels[] = {
				{ "state", tcp_state_name(st) },
				{ "role", roles[r] ? direction_name(roles[r]) : "unknown" },
			};
			uint64_t n = 0;

			for (size_t i = 0; i < t->n; i++)
				n += !t->rows[i].closed && t->rows[i].tuple.state == st &&
				     t->rows[i].entry.direction == roles[r];
			if (n)
				prom_uint(out, name, labels, 2, n);
		}
	}
}

/* Host-wide layer times as a Prometheus histogram: the log2 slots, whose
 * last one is +Inf. */
static void prom_layers(FILE *out, const struct flows_session *s)
{
	static const char name[] = "sockeye_tcp_packet_layer_duration_seconds";
	uint64_t slots[LAYERS * LAYER_SLOTS], sum_ns[LAYERS];
	double bounds[LAYER_SLOTS - 1];

	if (flows_layer_totals(s, slots, sum_ns))
		return;
	prom_log2_us_bounds(bounds, LAYER_SLOTS - 1);
	prom_family(out, name, "histogram",
		    "Time of a TCP packet between two points of the stack, by layer (--layers).");
	for (int k = 0; k < LAYERS; k++) {
		struct prom_label layer = { "layer", layer_name(k) };

		prom_histogram(out, name, &layer, 1, bounds, LAYER_SLOTS - 1,
			       &slots[k * LAYER_SLOTS], sum_ns[k]);
	}
}

static void prom_exposition(FILE *out, const struct reporter *rep)
{
	static const char closed[] = "sockeye_tcp_connections_seen_closed_total";
	const char *collector = FLOWS_PIN_SUBDIR;
	/* As the agent's flows collector counts them, with the closed
	 * connections the ring buffer could not take. */
	uint64_t lost = flows_untracked(rep->s) + reader_lost(&rep->s->reader);

	prom_connections(out, &rep->table);
	metrics_retransmits(out, rep->s);
	/* Not sockeye_tcp_connections_closed_total: the agent counts only the
	 * connections opened while it ran, flows every one it saw close. */
	prom_family(out, closed, "counter",
		    "TCP connections seen closing since flows started, whenever they opened.");
	prom_uint(out, closed, NULL, 0, rep->closed_total);
	metrics_lost_events(out, &collector, &lost, 1);
	if (rep->o->drops)
		metrics_drops(out, rep->s);
	if (rep->o->layers)
		prom_layers(out, rep->s);
}

/* The exposition is made in memory and then replaces the file at once. */
static int write_prom(const struct reporter *rep)
{
	char *body = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&body, &len);
	int err = out ? 0 : -ENOMEM;

	if (out) {
		prom_exposition(out, rep);
		if (fclose(out))
			err = -ENOMEM;
	}
	if (!err)
		err = prom_write_file(rep->o->prom, body, len);
	if (err)
		p_err("cannot replace %s: %s", rep->o->prom, strerror(-err));
	free(body);
	return err;
}

/* Each row's layer times, in rep->layers. */
static int read_layers(struct reporter *rep)
{
	struct flow_layers *grown = realloc(rep->layers, (rep->table.n + 1) * sizeof(*grown));

	if (!grown) {
		p_err("out of memory");
		return -ENOMEM;
	}
	rep->layers = grown;
	for (size_t i = 0; i < rep->table.n; i++)
		flows_conn_layers(rep->s, rep->table.rows[i].cookie, &rep->layers[i]);
	return 0;
}

/* The tables after the connections: drops (--drops), layer times (--layers). */
static int print_host_wide(const struct reporter *rep, const struct report_span *span)
{
	bool json = rep->o->common.json;
	int err = 0;

	if (rep->o->drops) {
		struct drop_printer d = { .realtime_ns = span->end_ns, .json = json };

		err = print_drops(rep->s, &d);
	}
	if (!err && rep->o->layers)
		err = print_layer_totals(rep->s, span->end_ns, json);
	if (!json && !rep->live)
		putchar('\n');
	return err;
}

static int report(void *ctx, const struct report_span *span)
{
	struct reporter *rep = ctx;
	int err = flows_snapshot(rep->s, &rep->table, rep->o->all);

	if (rep->http)
		flows_http_read(rep->http);

	if (err) {
		p_err("cannot read the connections: %s", strerror(-err));
		return err;
	}
	rep->closed_total += count_closed(&rep->table);
	/* An empty table may have no rows array: qsort's is declared nonnull. */
	if (rep->table.n)
		qsort_r(rep->table.rows, rep->table.n, sizeof(*rep->table.rows), compare_rows,
			(void *)&sort_keys[rep->o->sort]);
	if (rep->o->layers && (err = read_layers(rep)))
		return err;
	if (rep->o->common.json) {
		for (size_t i = 0; i < rep->table.n; i++)
			flows_json_row(&rep->table.rows[i], span->end_ns,
				 rep->o->drops && flows_drops_per_connection(),
				 rep->layers ? &rep->layers[i] : NULL, rep->http);
		json_summary(rep, span);
	} else {
		flows_print_table(rep->o, &rep->table, rep->layers, rep->http, span, rep->live);
	}
	if ((err = print_host_wide(rep, span)))
		return err;
	return rep->o->prom ? write_prom(rep) : 0;
}

/* ---- --retrans-events and --packets ---- */

/* What every line of the two views begins with: the time, the owner, the
 * network namespace (in text, under --all-netns) and both ends. Returns
 * whether it began a JSON object, in *j, to finish. */
static bool event_head(const struct flows_event_printer *p, struct json *j, const char *type,
		       uint64_t ts_ns, const struct sock_owner *o, uint32_t netns,
		       const struct sock_tuple *t)
{
	char when[TIME_LEN], local[ENDPOINT_LEN], remote[ENDPOINT_LEN];

	if (p->json) {
		json_connection_begin(j, type, ts_ns + p->clock_offset, o, t);
		return true;
	}
	format_wall_time(when, sizeof(when), ts_ns + p->clock_offset);
	format_endpoint(local, sizeof(local), t->family, t->saddr, t->sport);
	format_endpoint(remote, sizeof(remote), t->family, t->daddr, t->dport);
	printf("%s %-7u %-15s ", when, o->pid, o->pid ? comm_str(o->comm).s : "-");
	if (p->all_netns)
		printf(NETNS_VALUE, netns);
	printf("%-47s %-47s ", local, remote);
	return false;
}

static void print_retrans(const struct flows_event_printer *p, const struct retrans_record *r)
{
	struct json j;

	if (!event_head(p, &j, "retrans", r->ts_ns, &r->owner, r->netns, &r->tuple)) {
		printf("%-11s %-7s %u\n", tcp_state_name(r->tuple.state),
		       retrans_kind_name(r->retrans_kind), r->segs);
		return;
	}
	json_str(&j, "state", tcp_state_name(r->tuple.state));
	json_str(&j, "kind", retrans_kind_name(r->retrans_kind));
	json_uint(&j, "segs", r->segs);
	json_uint(&j, "netns", r->netns);
	json_uint(&j, "cookie", r->cookie);
	json_end(&j);
}

/* "SYN,ACK" for the flags byte of a TCP header. */
static void format_tcp_flags(char *buf, size_t len, uint8_t flags)
{
	static const char *const names[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR" };
	size_t used = 0;

	buf[0] = '\0';
	for (int bit = 0; bit < 8; bit++)
		if (flags & (1u << bit))
			used += snprintf(buf + used, used < len ? len - used : 0, "%s%s",
					 used ? "," : "", names[bit]);
}

static void print_packet(const struct flows_event_printer *p, const struct packet_record *r)
{
	char flags[40];
	struct json j;

	format_tcp_flags(flags, sizeof(flags), r->flags);
	if (!event_head(p, &j, "packet", r->ts_ns, &r->owner, r->netns, &r->tuple)) {
		printf("%-4s %10u %10u %6u %-15s %u\n", r->outgoing ? "send" : "recv", r->seq, r->ack,
		       r->len, flags, r->window);
		return;
	}
	json_str(&j, "direction", r->outgoing ? "send" : "recv");
	json_uint(&j, "seq", r->seq);
	json_uint(&j, "ack", r->ack);
	json_uint(&j, "len", r->len);
	json_str(&j, "flags", flags);
	json_uint(&j, "window", r->window);
	json_uint(&j, "netns", r->netns);
	json_uint(&j, "cookie", r->cookie);
	json_end(&j);
}

void flows_print_event(void *ctx, const void *record, size_t size)
{
	const struct flows_event_printer *p = ctx;

	if (*(const uint8_t *)record == FLOW_RECORD_PACKET)
		print_packet(p, record);
	else
		print_retrans(p, record);
}

static int run_events(const struct flows_opts *o, struct flows_session *s)
{
	if (!o->common.json) {
		printf("%-26s %-7s %-15s ", "TIME", "PID", "COMM");
		if (o->cfg.all_netns)
			printf(NETNS_COLUMN, "NETNS");
		printf("%-47s %-47s %s\n", "LOCAL", "REMOTE",
		       o->cfg.packets ? "DIR         SEQ        ACK    LEN FLAGS           WINDOW" :
					"STATE       KIND    SEGS");
	}
	return read_until_stopped(&s->reader, "flows", o->common.json,
				  "narrow the filters (--port, --pid)");
}

/* ---- options ---- */

static bool one_by_one(const struct flows_opts *o)
{
	return o->cfg.retrans_events || o->cfg.packets;
}

/* The agent's programs keep no closed connections, drops per connection
 * or layer times, and send no records. */
static void check_from_agent(const struct flows_opts *o)
{
	check_agent_source("flows", o->from_agent, o->pin_dir,
			   any_filter(&o->common.filters) || o->cfg.sport || o->cfg.dport);
	if (o->from_agent &&
	    (o->all || o->drops || o->layers || o->http || o->prom || one_by_one(o)))
		usage_error("flows", "-a, --drops, --layers, --packets, --retrans-events, --http and "
			    "--prom "
			    "need flows' own programs: they do not go with --from-agent");
}

static void check_flows_options(const struct flows_opts *o)
{
	const struct sock_filters *f = &o->common.filters;

	if (one_by_one(o) && (o->extra || o->retrans || o->drops || o->layers || o->all ||
			      o->batch || o->prom || o->common.interval || o->common.count ||
			      o->sort >= 0 || o->http))
		usage_error("flows", "--retrans-events and --packets print lines one by one; -x, -R, "
			    "--drops, --layers, -a, -b, -i, -c, -s, --prom and --http are for the "
			    "table");
	if (o->cfg.packets && o->cfg.retrans_events)
		usage_error("flows", "--retrans-events and --packets are two views: choose one");
	if (o->cfg.packets && !f->port && !f->pid && !f->comm_set && !o->cfg.sport && !o->cfg.dport)
		usage_error("flows", "--packets prints a line per segment: choose connections with "
			    "--port, --lport, --rport, --pid or --comm so it cannot flood");
}

static int cmd_flows(int argc, char **argv);

#define T struct flows_opts
static const struct opt_def flows_options[] = {
	OPTION_INTERVAL(T, "refresh every TIME (default 1s)"),
	OPTION_COUNT(T, "stop after N snapshots"),
	OPTION_BATCH(T, batch),
	{ "extra", 'x', NULL, "more columns: BACKLOG MAXBL (listeners) CWND SSTHRESH (segments) "
	  "SNDBUF SENDQ RECVQ RCVWND (bytes) RTTVAR(ms) PKTSOUT INFLIGHT (bytes) CA (congestion "
	  "state); listening sockets get rows", OPT_FLAG, OPT_FIELD(T, extra) },
	{ "retrans", 'R', NULL, "retransmits since sockeye started, by kind: FAST (in fast "
	  "recovery) TIMEOUT (after the retransmit timer) PROBE (tail-loss probes) SYN SYNACK (on "
	  "the listener's row); listening sockets get rows", OPT_FLAG, OPT_FIELD(T, retrans) },
	{ "retrans-events", 0, NULL, "one line per retransmit instead of the table", OPT_FLAG,
	  OPT_FIELD(T, cfg.retrans_events) },
	{ "http", 0, NULL, "HTTP columns per connection, from the exchanges 'sockeye http' sees: "
	  "REQS (requests so far), METHOD and STATUS of the last one, LAT(ms) (mean, request's "
	  "first byte to response's first byte). Copies the first 512 bytes of each HTTP message "
	  "from the socket calls, as 'sockeye http' does, and puts every system call of the host "
	  "on the slower traced path", OPT_FLAG, OPT_FIELD(T, http) },
	{ "layers", 0, NULL, "time per packet between layers, as the average per connection: "
	  "RXDEV(us) (device to TCP) RXQUE(us) (in the socket's queue until the process copies "
	  "it) TXTCP(us) (TCP's departure time to the device queue) TXDEV(us) (device queue to "
	  "the driver); and host-wide log2 histograms. It runs a program on every packet",
	  OPT_FLAG, OPT_FIELD(T, layers) },
	{ "packets", 'P', NULL, "one line per TCP segment instead of the table: sent ones as they "
	  "are queued to the device, received ones as TCP takes them in once established; DIR "
	  "SEQ ACK LEN FLAGS WINDOW (unscaled). Needs --port, --lport, --rport, --pid or --comm",
	  OPT_FLAG, OPT_FIELD(T, cfg.packets) },
	{ "drops", 0, NULL, "segments dropped on arrival, per connection: CSUMERR (bad checksum) "
	  "SEQERR (sequence or ACK number out of the window) OTHERDROP; and the TCP and UDP drops of "
	  "the network namespace by the kernel's reason (enum skb_drop_reason, named from its "
	  "BTF: NO_SOCKET, SOCKET_RCVBUFF, ...)",
	  OPT_FLAG, OPT_FIELD(T, drops) },
	{ "all", 'a', NULL, "keep closed connections in the table", OPT_FLAG, OPT_FIELD(T, all) },
	{ "all-netns", 0, NULL, "every network namespace, not only sockeye's own: rows, totals, "
	  "drops and packets, with a NETNS column (the namespace's inode number, as lsns and 'ip "
	  "netns identify' show it); namespaces are found through the processes in them and "
	  "/run/netns", OPT_FLAG, OPT_FIELD(T, cfg.all_netns) },
	OPTION_LPORT(T, cfg.sport),
	OPTION_RPORT(T, cfg.dport),
	OPTION_SORT(T, sort, "acked (default), received, retrans, srtt, age, cwnd, sendq, recvq "
		    "(largest first), pid, comm, local, remote, state (ascending)", sort_key_names),
	{ "prom", 0, "FILE", "write each snapshot to FILE in Prometheus text format, replaced "
	  "atomically (node_exporter's textfile collector)", OPT_STRING, OPT_FIELD(T, prom) },
	OPTION_FROM_AGENT(T, from_agent, "read the connections of the running 'sockeye agent' "
			  "(its flows collector) instead of loading programs: the table, -x, -R, "
			  "--sort, --all-netns and JSON, with the agent's filters; listeners get no "
			  "rows. The agent keeps no start of a connection: AGE counts from when it "
			  "first met it (shown '>') and DIR is guessed from the listeners. Not with "
			  "it: -a (no closed connections), --drops, --layers, --packets, "
			  "--retrans-events, --http, --prom and the filters"),
	OPTION_PIN_DIR(T, pin_dir, "where that agent pins its maps (default /sys/fs/bpf/sockeye)"),
	OPTION_FILTERS(T),
	OPTION_JSON(T),
	OPTION_DURATION(T),
	OPTION_RENAMED("sport", 0, "PORT", "--lport"),
	OPTION_RENAMED("dport", 'd', "PORT", "--rport"),
	OPTION_RENAMED("errors", 'e', NULL, "--drops"),
	OPTION_RENAMED(NULL, 't', NULL, "--layers"),
	OPTION_RENAMED(NULL, 'r', NULL, "-R, --retrans"),
	OPTION_END,
};
#undef T

const struct command flows_command = {
	.name = "flows",
	.run = cmd_flows,
	.summary = "TCP connections and their health: window, RTT, bytes, retransmits",
	.synopsis = "[OPTIONS]",
	.overhead =
	"Programs on TCP state changes, retransmits and socket destruction, "
	"and a socket iterator once per interval: nothing runs per packet by "
	"default. --drops adds a program on every dropped packet of the host, "
	"--layers and -P one on every packet and copy, --http syscall "
	"tracepoints. In the benchmark (2 vCPUs), the connection loops kept "
	"0.86 to 0.97 of their rate; with --layers a connection loop kept "
	"0.70.",
	.description =
	"A table of TCP connections and their health, one row per connection,\n"
	"refreshed every interval: who owns it, which end opened it, how long it has\n"
	"been open, bytes acknowledged and received, retransmits, smoothed RTT. It\n"
	"counts in the kernel from tracepoints and reads each socket's own numbers\n"
	"(those of 'ss -ti') once per interval: without --drops, --layers or -P nothing\n"
	"runs per packet. Connections open before sockeye started are included, with their\n"
	"owner when a process holds them; AGE then starts at sockeye's start and\n"
	"reads '>12.0s'. As with ss, the connections are those of sockeye's own\n"
	"network namespace, and so are the closed rows, the totals, the drops and\n"
	"the packets; --all-netns shows every namespace's, with a NETNS column; for\n"
	"one other namespace, run it there ('ip netns exec NAME sockeye flows',\n"
	"'nsenter -t PID -n sockeye flows').\n"
	"\n"
	"On a terminal the table is redrawn in place; into a file or pipe (or with\n"
	"-b) a table is printed per interval. A connection that closes is shown once\n"
	"more, as CLOSE with its final numbers (with -a, until sockeye ends).\n"
	"\n"
	"Columns: PID COMM LOCAL REMOTE STATE ROLE AGE ACKED RECEIVED RETRANS SRTT(ms)\n"
	"ROLE is client (it called connect) or server (accepted). RETRANS is the\n"
	"kernel's count of retransmitted segments over the connection's life.\n",
	.notes =
	"JSON Lines: a header record, then per snapshot one record of type flow per\n"
	"connection (role client, server or null when not known; --drops, --layers\n"
	"and --http add their fields, --layers an object with a log2 histogram per\n"
	"layer), one of type flows (the totals), with --drops one of type drop per\n"
	"protocol (proto tcp or udp) and reason, with --layers one of type layer per layer (rx_device, rx_queue,\n"
	"tx_tcp, tx_device); and one of type lost when closed connections went\n"
	"unreported since the last (and at exit). With --retrans-events, records of\n"
	"type retrans; with --packets, of type packet (direction send or recv). The\n"
	"fields are in sockeye's JSON schema (schema/sockeye.schema.json).\n",
	.examples =
	"  sockeye flows                        the live table\n"
	"  sockeye flows -x -R --drops -s retrans  every column, most retransmits first\n"
	"  sockeye flows --rport 443 -b -c 3    three snapshots of HTTPS clients\n"
	"  sockeye flows --json -i 10 -p 1234   one process's connections as JSON\n"
	"  sockeye flows --retrans-events       each retransmit as it happens\n"
	"  sockeye flows -P --port 8080         every segment to or from port 8080\n"
	"  sockeye flows --prom /var/lib/node_exporter/flows.prom -i 15\n"
	"  sockeye flows --from-agent -b -c 1   the agent's connections, no programs\n",
	.options = flows_options,
	.programs = &flows_programs,
};

static void parse_flows_options(int argc, char **argv, struct flows_opts *o)
{
	parse_options(&flows_command, argc, argv, o);
	o->cfg.listeners = o->extra || o->retrans;
	o->cfg.drops = o->drops;
	o->cfg.netns = o->cfg.all_netns ? 0 : own_netns();
	o->cfg.layers = o->layers;
	check_flows_options(o);
	check_from_agent(o);
	if (o->sort < 0)
		o->sort = 0;
	o->cfg.filters = o->common.filters;
}

/* Reading between reports keeps closed connections (and, under --http,
 * exchanges) from piling up in the ring buffers. */
static void read_between(void *ctx, int ms)
{
	struct reporter *rep = ctx;

	reader_poll(&rep->s->reader, ms);
	if (rep->http)
		flows_http_read(rep->http);
}

static int run_table(const struct flows_opts *o, struct flows_session *s)
{
	struct reporter rep = {
		.o = o,
		.s = s,
		.live = !o->batch && !o->common.json && isatty(STDOUT_FILENO),
	};
	int err;

	if (o->http && !(rep.http = flows_http_start(&o->common.filters)))
		return EXIT_FAIL;
	err = run_reports_waiting(o->common.interval ? o->common.interval : 1,
				  o->common.count, report, &rep, read_between, &rep);
	flows_http_stop(rep.http);
	if (!err && o->common.json)
		json_lost(&rep.lost, reader_lost(&s->reader), reader_skipped(&s->reader), true);
	if (!err && !o->common.json && reader_ring_full(&s->reader))
		p_warn("%llu closed connections were not reported: the ring buffer was full",
		       (unsigned long long)reader_ring_full(&s->reader));
	if (!err && !o->common.json && reader_skipped(&s->reader))
		warn_skipped("flows", reader_skipped(&s->reader));
	flow_table_free(&rep.table);
	free(rep.layers);
	return err ? EXIT_FAIL : EXIT_OK;
}

static int start_session(const struct flows_opts *o, struct flows_session *s,
			 struct flows_event_printer *printer)
{
	if (o->from_agent)
		return flows_session_borrow(s, o->pin_dir ? o->pin_dir : DEFAULT_PIN_DIR,
					    o->cfg.all_netns);
	if (!check_environment())
		return -EPERM;
	return flows_session_start(s, &o->cfg, flows_print_event, printer);
}

static int cmd_flows(int argc, char **argv)
{
	struct flows_opts o = { .sort = -1 };
	struct flows_session session;
	struct flows_event_printer printer;
	int status;

	parse_flows_options(argc, argv, &o);
	printer = (struct flows_event_printer){
		.json = o.common.json,
		.all_netns = o.cfg.all_netns,
		.clock_offset = monotonic_to_realtime_offset(),
	};
	if (o.common.json)
		json_header("flows");
	run_start(o.common.duration);
	if (start_session(&o, &session, &printer))
		return EXIT_FAIL;
	if (one_by_one(&o))
		status = run_events(&o, &session);
	else
		status = run_table(&o, &session);
	/* The agent says so itself, as its lost events. */
	if (session.skel && flows_untracked(&session))
		p_warn("%llu connections had no counters of their own: more than %u were open "
		       "at once", (unsigned long long)flows_untracked(&session),
		       flows_tracked_max(&session));
	flows_session_stop(&session);
	return status;
}
