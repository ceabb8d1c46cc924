// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye connlat`: TCP handshake latency per connection, or as a log2
 * histogram: options, printers, cmd_connlat. The session:
 * src/connlat_session.c; kernel side: bpf/connlat.bpf.c; records:
 * bpf/connlat.h. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include "sockeye.h"
#include "connlat_print.h"
#include "format.h"
#include "histogram.h"
#include "json.h"
#include "probe.h"

static void print_header(const struct connlat_printer *p)
{
	printf("%-*s %-7s %-16s %-2s %-*s %-5s %-*s %-5s %s%s\n",
	       p->o->relative_time ? 12 : 8, p->o->relative_time ? "TIME(s)" : "TIME",
	       "PID", "COMM", "IP", p->addr_width, "SADDR", "LPORT", p->addr_width, "DADDR",
	       "DPORT", "LAT(ms)", p->o->cfg.failed ? " RESULT" : "");
}

static void print_text(const struct connlat_printer *p, const struct connlat_record *r)
{
	const struct sock_tuple *t = &r->tuple;
	char when[TIME_LEN], saddr[ADDR_LEN], daddr[ADDR_LEN];

	if (p->o->relative_time)
		snprintf(when, sizeof(when), "%-12.6f", (r->ts_ns - p->start_ns) / 1e9);
	else
		format_clock_time(when, sizeof(when), r->ts_ns + p->clock_offset);
	format_addr(saddr, sizeof(saddr), t->family, t->saddr);
	format_addr(daddr, sizeof(daddr), t->family, t->daddr);
	printf("%s %-7u %-16s %-2s %-*s %-5u %-*s %-5u ", when, r->owner.pid,
	       comm_str(r->owner.comm).s, t->family == AF_INET6 ? "v6" : "v4", p->addr_width, saddr, t->sport,
	       p->addr_width, daddr, t->dport);
	if (p->o->cfg.failed)
		printf("%-7.3f %s\n", r->latency_ns / 1e6, handshake_result(r));
	else
		printf("%.3f\n", r->latency_ns / 1e6);
}

/* The outcome of a handshake as an errno: 0 when it completed, ECONNABORTED
 * when the process closed the socket before an answer. */
static long long handshake_errno(const struct connlat_record *r)
{
	return r->established ? 0 : r->error ? r->error : ECONNABORTED;
}

static void print_json(const struct connlat_printer *p, const struct connlat_record *r)
{
	struct json j;

	json_connection_begin(&j, "connlat", r->ts_ns + p->clock_offset, &r->owner, &r->tuple);
	json_uint(&j, "latency_ns", r->latency_ns);
	json_bool(&j, "icmp", r->icmp);
	json_outcome(&j, handshake_errno(r));
	json_end(&j);
}

void connlat_print_record(void *ctx, const void *record, size_t size)
{
	const struct connlat_record *r = record;
	const struct connlat_printer *p = ctx;

	if (p->o->common.json)
		print_json(p, r);
	else
		print_text(p, r);
}

static void print_hist(const struct connlat_printer *p, const uint64_t *slots,
		       const struct report_span *span)
{
	char when[TIME_LEN];
	struct json j;

	if (p->o->common.json) {
		json_report_begin(&j, "hist", span->end_ns, span->length_ns);
		json_hist(&j, slots, CONNLAT_SLOTS);
		json_end(&j);
		return;
	}
	if (p->o->common.interval) {
		format_clock_time(when, sizeof(when), span->end_ns);
		printf("\n%s\n", when);
	}
	print_log2_hist(stdout, slots, CONNLAT_SLOTS, "usecs");
}

struct hist_reporter {
	const struct connlat_printer *p;
	const struct connlat_session *s;
	uint64_t last[CONNLAT_SLOTS];	/* totals at the previous report */
	struct json_lost lost;		/* under --json */
};

/* Prints what was counted since the last report: the map keeps totals and
 * is never cleared, so nothing counted between two reads is lost. */
static int report_hist(void *ctx, const struct report_span *span)
{
	struct hist_reporter *h = ctx;
	uint64_t delta[CONNLAT_SLOTS];
	int err = connlat_hist_delta(h->s, h->last, delta);

	if (err) {
		p_err("cannot read the histogram: %s", strerror(-err));
		return err;
	}
	print_hist(h->p, delta, span);
	if (h->p->o->common.json)
		json_lost(&h->lost, reader_skipped(&h->s->reader), reader_skipped(&h->s->reader),
			  false);
	return 0;
}

static int run_hist(const struct connlat_printer *p, const struct connlat_session *s)
{
	struct hist_reporter h = { .p = p, .s = s };

	if (!p->o->common.json)
		printf("Tracing TCP handshakes... Hit Ctrl-C to end.\n");
	fflush(stdout);
	if (run_reports(p->o->common.interval, p->o->common.count, report_hist, &h))
		return EXIT_FAIL;
	/* Records are not read here, so read_until_stopped() does not say it. */
	if (p->o->common.json)
		json_lost(&h.lost, reader_skipped(&s->reader), reader_skipped(&s->reader), true);
	else if (reader_skipped(&s->reader))
		warn_skipped("connlat", reader_skipped(&s->reader));
	return EXIT_OK;
}

static void report_untimed(const struct connlat_session *s)
{
	uint64_t untimed = connlat_untimed(s);

	if (untimed)
		p_warn("%llu handshakes were not timed: more than %u were in flight at once",
		       (unsigned long long)untimed, connlat_in_flight_max(s));
}

static void check_connlat_options(struct connlat_opts *o)
{
	if (o->cfg.hist && o->cfg.failed)
		usage_error("connlat", "--hist counts completed handshakes only; leave out --failed");
	if ((o->common.interval || o->common.count) && !o->cfg.hist)
		usage_error("connlat", "-i and -c go with --hist: lines are printed as handshakes end");
	if (o->common.count && !o->common.interval)
		usage_error("connlat", "--count needs --interval: without it there is one histogram, "
			    "at the end");
	o->cfg.filters = o->common.filters;
}

static int cmd_connlat(int argc, char **argv);

#define T struct connlat_opts
static const struct opt_def connlat_options[] = {
	{ "min-us", 'm', "US", "only handshakes that took at least US microseconds", OPT_UINT,
	  OPT_FIELD(T, cfg.min_us), .max = 3600000000UL },
	OPTION_LPORT(T, cfg.lport),
	{ "timestamp", 't', NULL, "TIME(s): seconds since sockeye started, not the clock",
	  OPT_FLAG, OPT_FIELD(T, relative_time) },
	{ "failed", 0, NULL, "also show handshakes that did not complete", OPT_FLAG,
	  OPT_FIELD(T, cfg.failed) },
	{ "hist", 0, NULL, "a log2 histogram of latency in microseconds instead of lines: every "
	  "interval with -i, else once at exit", OPT_FLAG, OPT_FIELD(T, cfg.hist) },
	OPTION_INTERVAL(T, "with --hist: print the histogram every TIME"),
	OPTION_COUNT(T, "with --hist and -i: stop after N histograms"),
	OPTION_FILTERS(T),
	OPTION_JSON(T),
	OPTION_DURATION(T),
	OPTION_RENAMED(NULL, 'L', "PORT", "--lport"),
	OPTION_END,
};
#undef T

const struct command connlat_command = {
	.name = "connlat",
	.run = cmd_connlat,
	.summary = "TCP connect latency, SYN sent to SYN-ACK received",
	.synopsis = "[OPTIONS]",
	.overhead =
	"One program on TCP state changes: a hash insert when a SYN is sent, "
	"a look-up and delete when the handshake ends; no syscall "
	"tracepoints. With --hist nothing per connection leaves the kernel. "
	"In the benchmark (2 vCPUs), a loop of about 20,000 connections a "
	"second kept 0.87 to 0.94 of its rate.",
	.description =
	"Show how long each outgoing TCP connection took to open: the time from the\n"
	"SYN sent by connect() to the SYN-ACK received, measured in the kernel from\n"
	"TCP state changes, for IPv4 and IPv6.\n"
	"\n"
	"Columns: TIME PID COMM IP SADDR LPORT DADDR DPORT LAT(ms) [RESULT]\n"
	"PID and COMM are the process that called connect(); ports are in host order.\n"
	"With --failed, handshakes that did not complete are shown too, with the time\n"
	"they took and RESULT: refused (RST), timed out (no answer to the SYNs), reset,\n"
	"unreachable (an ICMP error, port unreachable included), aborted (closed by\n"
	"the process first) or the errno.\n",
	.notes =
	"JSON Lines: a header record, then records of type connlat (error is null\n"
	"when the handshake completed: refused is ECONNREFUSED, timed out ETIMEDOUT,\n"
	"aborted ECONNABORTED; icmp is true when an ICMP error ended it, as a port\n"
	"unreachable does with ECONNREFUSED), with --hist of type hist (counts[0] is 0-1 us,\n"
	"counts[n] 2^n to 2^(n+1)-1 us), and lost; the fields are in sockeye's JSON\n"
	"schema (schema/sockeye.schema.json).\n",
	.examples =
	"  sockeye connlat                      every connection as it opens\n"
	"  sockeye connlat -m 10000 --failed    slower than 10 ms, and failures\n"
	"  sockeye connlat --hist -i 5 -p 1234  a histogram every 5 s for one process\n"
	"  sockeye connlat --port 443 --json    HTTPS connections as JSON Lines\n",
	.options = connlat_options,
	.programs = &connlat_programs,
};

static int cmd_connlat(int argc, char **argv)
{
	struct connlat_opts o = {};
	struct connlat_session session;
	struct connlat_printer printer;
	int status;

	parse_options(&connlat_command, argc, argv, &o);
	check_connlat_options(&o);
	if (!check_environment())
		return EXIT_FAIL;
	if (o.common.json)
		json_header("connlat");
	printer = (struct connlat_printer){
		.o = &o,
		.clock_offset = monotonic_to_realtime_offset(),
		.start_ns = monotonic_now_ns(),
		/* IPv6 addresses take up to 39 characters. */
		.addr_width = o.common.filters.family == AF_INET ? 15 : 39,
	};
	run_start(o.common.duration);
	if (connlat_session_start(&session, &o.cfg, connlat_print_record, &printer))
		return EXIT_FAIL;
	if (o.cfg.hist) {
		status = run_hist(&printer, &session);
	} else {
		if (!o.common.json)
			print_header(&printer);
		status = read_until_stopped(&session.reader, "connlat", o.common.json,
					    "narrow the filters or raise --min-us");
	}
	report_untimed(&session);
	connlat_session_stop(&session);
	return status;
}
