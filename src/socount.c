// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye sofamily` and `sockeye soprotocol`: accepts and connects by
 * process name and the socket's address family, or its protocol. One
 * kernel map, keyed by both, serves the two views (bpf/sockstat.bpf.c); a
 * view adds up what it does not show. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "sockeye.h"
#include "array.h"
#include "sockstat_session.h"
#include "format.h"
#include "json.h"
#include "run.h"
#include "probe.h"

/* A row of either view; soprotocol keeps the family only to name the
 * protocol (protocol numbers mean different things in each family). */
struct so_row {
	uint64_t count;
	char comm[16];
	uint16_t family;
	uint16_t protocol;
	uint8_t kind;
};

struct rows {
	struct so_row *v;
	size_t n, cap;
	bool no_memory;
};

struct socount {
	const char *cmd;
	bool by_protocol;	/* soprotocol; else sofamily */
	bool json;
	double interval;
	int reports;
	struct sockstat_session session;
	struct counter_snapshot snaps[2];
	int cur;		/* snaps[cur] is read next; the other holds the last read */
	uint64_t lost_before, skipped_before;
	struct json_lost lost;
	struct rows rows;
};

static void row_of(const struct socount *c, const struct so_key *k, struct so_row *r)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->comm, k->comm, sizeof(r->comm));
	r->comm[sizeof(r->comm) - 1] = '\0';
	r->kind = k->kind;
	if (!c->by_protocol) {
		r->family = k->family;
		return;
	}
	/* IPv4 and IPv6 share the IP protocol numbers: one TCP row for both. */
	r->family = k->family == AF_INET6 ? AF_INET : k->family;
	r->protocol = k->protocol;
}

static void add_row(void *ctx, const void *key, uint64_t delta)
{
	struct socount *c = ctx;
	struct rows *rows = &c->rows;

	if (!ARRAY_GROW(rows->v, rows->n, rows->cap)) {
		rows->no_memory = true;
		return;
	}
	row_of(c, key, &rows->v[rows->n]);
	rows->v[rows->n++].count = delta;
}

static int compare_identity(const struct so_row *a, const struct so_row *b)
{
	int cmp;

	if (a->kind != b->kind)
		return a->kind - b->kind;
	if ((cmp = strcmp(a->comm, b->comm)))
		return cmp;
	if (a->family != b->family)
		return a->family - b->family;
	return a->protocol - b->protocol;
}

static int by_identity(const void *a, const void *b)
{
	return compare_identity(a, b);
}

/* By kind (accepts first, as the seed), then most counted first. */
static int by_display_order(const void *pa, const void *pb)
{
	const struct so_row *a = pa, *b = pb;

	if (a->kind != b->kind)
		return a->kind - b->kind;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return compare_identity(a, b);
}

/* Adds up the keys that fall in the same row, and orders the rows. */
static void merge_rows(struct rows *rows)
{
	size_t n = 0;

	if (!rows->n)	/* v may be NULL then, which qsort may not get */
		return;
	qsort(rows->v, rows->n, sizeof(*rows->v), by_identity);
	for (size_t i = 0; i < rows->n; i++) {
		if (n && !compare_identity(&rows->v[n - 1], &rows->v[i]))
			rows->v[n - 1].count += rows->v[i].count;
		else
			rows->v[n++] = rows->v[i];
	}
	rows->n = n;
	qsort(rows->v, rows->n, sizeof(*rows->v), by_display_order);
}

static void print_text_header(struct socount *c, const struct report_span *span)
{
	char when[TIME_LEN];

	if (c->interval) {
		format_clock_time(when, sizeof(when), span->end_ns);
		printf("%s%s\n", c->reports ? "\n" : "", when);
	}
	if (c->by_protocol)
		printf("%-8s %-16s %5s %-16s %-10s %10s\n", "KIND", "COMM", "PROTO", "NAME",
		       "SHORT", "COUNT");
	else
		printf("%-8s %-16s %6s %-12s %10s\n", "KIND", "COMM", "FAMILY", "NAME", "COUNT");
}

static void print_text_row(const struct socount *c, const struct so_row *r)
{
	unsigned long long count = r->count;
	char comm[sizeof(r->comm) * 3];

	text_safe(comm, sizeof(comm), r->comm);
	if (c->by_protocol)
		printf("%-8s %-16s %5u %-16s %-10s %10llu\n", so_kind_name(r->kind), comm,
		       r->protocol, protocol_name(r->family, r->protocol),
		       protocol_short_name(r->family, r->protocol), count);
	else
		printf("%-8s %-16s %6u %-12s %10llu\n", so_kind_name(r->kind), comm, r->family,
		       family_name(r->family), count);
}

/* sofamily's rows name the family (family_name) and give IPv4 and IPv6 as 4
 * and 6, as every record does, other families as null. soprotocol's rows
 * have no family: each counts a protocol over IPv4 and IPv6 alike. */
static void print_json_row(const struct socount *c, const struct report_span *span,
			   const struct so_row *r)
{
	struct json j;

	json_record_begin(&j, c->cmd, span->end_ns);
	json_str(&j, "kind", so_kind_name(r->kind));
	json_str(&j, "comm", r->comm);
	if (c->by_protocol) {
		json_uint(&j, "protocol", r->protocol);
		json_str(&j, "protocol_name", protocol_name(r->family, r->protocol));
		json_str(&j, "protocol_short", protocol_short_name(r->family, r->protocol));
	} else {
		if (r->family == AF_INET || r->family == AF_INET6)
			json_family(&j, r->family);
		else
			json_null(&j, "family");
		json_str(&j, "family_name", family_name(r->family));
	}
	json_uint(&j, "count", r->count);
	json_end(&j);
}

/* Ends each report in JSON: what it covered, even when it had no rows, and
 * a lost record when calls were not counted since the last report. */
static void print_json_end(struct socount *c, const struct report_span *span, uint64_t lost,
			   uint64_t skipped)
{
	struct json j;

	json_report_begin(&j, "interval", span->end_ns, span->length_ns);
	json_uint(&j, "rows", c->rows.n);
	json_end(&j);
	json_lost(&c->lost, lost + skipped, skipped, false);
}

/* lost: calls the full map could not count; skipped: runs the kernel
 * skipped (skipped_runs), both since the start. */
static void print_report(struct socount *c, const struct report_span *span, uint64_t lost,
			 uint64_t skipped)
{
	if (!c->json)
		print_text_header(c, span);
	for (size_t i = 0; i < c->rows.n; i++) {
		if (c->json)
			print_json_row(c, span, &c->rows.v[i]);
		else
			print_text_row(c, &c->rows.v[i]);
	}
	if (c->json) {
		print_json_end(c, span, lost, skipped);
	} else {
		if (lost > c->lost_before)
			p_warn("%llu accepts and connects were not counted: the map's %d rows are "
			       "full; narrow it with --pid, --comm, -4 or -6",
			       (unsigned long long)(lost - c->lost_before), SO_MAX_ROWS);
		if (skipped > c->skipped_before)
			warn_skipped(c->cmd, skipped - c->skipped_before);
	}
	c->reports++;
}

/* The counts since the last report: this read minus the last. */
static int report(void *ctx, const struct report_span *span)
{
	struct socount *c = ctx;
	struct counter_snapshot *now = &c->snaps[c->cur], *before = &c->snaps[!c->cur];
	uint64_t lost, skipped;
	int err = sockstat_read_sockets(&c->session, now);

	if (err) {
		p_err("cannot read the %s counters: %s", c->cmd, strerror(-err));
		return err;
	}
	c->rows.n = 0;
	counter_snapshot_diff(now, before, add_row, c);
	if (c->rows.no_memory) {
		p_err("out of memory for the %s rows", c->cmd);
		return -ENOMEM;
	}
	merge_rows(&c->rows);
	lost = sockstat_sockets_lost(&c->session);
	skipped = sockstat_skipped(&c->session);
	print_report(c, span, lost, skipped);
	c->lost_before = lost;
	c->skipped_before = skipped;
	c->cur = !c->cur;
	return 0;
}

struct socount_opts {
	struct common_opts common;
};

static int run_socount(struct socount *c, const struct command *cmd, int argc, char **argv)
{
	struct socount_opts o = {};
	struct common_opts *common = &o.common;
	int err;

	parse_options(cmd, argc, argv, &o);
	if (common->count && !common->interval)
		usage_error(c->cmd, "--count needs --interval: without it there is one report, "
			    "at the end");
	if (!check_environment())
		return EXIT_FAIL;
	c->json = common->json;
	c->interval = common->interval;
	if (c->json)
		json_header(c->cmd);
	for (int i = 0; i < 2; i++)
		counter_snapshot_init(&c->snaps[i], sizeof(struct so_key));
	run_start(common->duration);
	if (sockstat_session_start(&c->session, PART_SOCKETS, &common->filters, c->cmd))
		return EXIT_FAIL;
	/* Nothing prints until the end: say so to whoever is watching. */
	if (!c->json && !c->interval && isatty(STDERR_FILENO))
		p_info("counting accepts and connects; Ctrl-C prints the counts and ends");
	err = run_reports(common->interval, common->count, report, c);
	if (!err && c->json)
		json_lost(&c->lost, c->lost_before + c->skipped_before, c->skipped_before, true);
	sockstat_session_stop(&c->session);
	for (int i = 0; i < 2; i++)
		counter_snapshot_free(&c->snaps[i]);
	free(c->rows.v);
	return err ? EXIT_FAIL : EXIT_OK;
}

#define T struct socount_opts
static const struct opt_def socount_options[] = {
	OPTION_INTERVAL(T, "report every TIME, the counts of that interval; without it, one "
			"report at the end"),
	OPTION_COUNT(T, "with -i: stop after N reports"),
	OPTION_PID(T),
	OPTION_COMM(T),
	OPTION_CGROUP(T),
	OPTION_FAMILY(T),
	OPTION_JSON(T),
	OPTION_DURATION(T),
	OPTION_END,
};
#undef T

/* The text of both views: what differs is what a row is counted by, its
 * columns and the examples. */
#define SOCOUNT_DESCRIPTION(cmd, by_what, columns)                                    \
	"Count accepted and initiated connections (accept, connect) by process name\n" \
	"and " by_what ".\n"                                                           \
	"\n"                                                                           \
	"Columns (JSON fields in parentheses):\n"                                      \
	"  KIND    accept or connect (kind)\n"                                         \
	"  COMM    process name (comm)\n"                                              \
	columns                                                                        \
	"  COUNT   calls in the report's time (count)\n"                               \
	"Rows are sorted by kind, then count, highest first. JSON rows are records\n" \
	"of type " cmd ", with the time of the report's end.\n"                  \
	"\n"                                                                           \
	"Accepts are counted when accept() or accept4() returns a new socket; connects\n" \
	"at every connect() call on a socket, whether it succeeds or fails. The\n"     \
	"family and protocol are the socket's own. The counts print on Ctrl-C or at\n" \
	"the end of --duration, and with -i after every interval too (text: the time,\n" \
	"then the table). Under --json the stream starts with a header record and\n" \
	"each report ends with a record of type interval (interval_ns, rows), then,\n" \
	"when calls were not counted since the last report, and at exit, one of type\n" \
	"lost: count, calls not counted because the map of rows was full or because\n" \
	"the kernel skipped a run of a program already running on that CPU (skipped,\n" \
	"a part of count); text: a warning on stderr. The fields are in sockeye's\n"  \
	"JSON schema (schema/sockeye.schema.json).\n"
#define SOCOUNT_OVERHEAD \
	"Syscall tracepoints on connect and accept only, each a per-CPU " \
	"counter; nothing per call leaves the kernel. Attached, they put every " \
	"system call of the host on the slower traced path. In the benchmark (2 " \
	"vCPUs) sofamily cost nothing measurable beyond the runs' noise."

#define SOCOUNT_NOTES                                                                  \
	"--port does not apply: a connect is counted before it has a remote port.\n"   \
	"--duration counts from the moment counting starts.\n"                        \
	"\n"                                                                           \
	"Syscall tracepoints put every system call of the host on a slower path\n"    \
	"while this runs.\n"

static int cmd_sofamily(int argc, char **argv)
{
	struct socount c = { .cmd = "sofamily" };

	return run_socount(&c, &sofamily_command, argc, argv);
}

static int cmd_soprotocol(int argc, char **argv)
{
	struct socount c = { .cmd = "soprotocol", .by_protocol = true };

	return run_socount(&c, &soprotocol_command, argc, argv);
}

/* What the two commands share; each gives its name, view and examples. */
#define SOCOUNT_COMMAND(cmd, what, by_what, columns, examples_text) \
	{                                                           \
		.name = #cmd,                                       \
		.run = cmd_##cmd,                                   \
		.summary = what,                                    \
		.synopsis = "[OPTIONS]",                            \
		.overhead = SOCOUNT_OVERHEAD,                       \
		.description = SOCOUNT_DESCRIPTION(#cmd, by_what, columns), \
		.notes = SOCOUNT_NOTES,                             \
		.examples = examples_text,                          \
		.options = socount_options,                         \
		.programs = &cmd##_programs,                        \
	}

const struct command sofamily_command = SOCOUNT_COMMAND(sofamily,
	"accepts and connects by process and address family",
	"the address family of the socket, system-wide: which processes use IPv4,\n"
	"IPv6, UNIX, netlink or packet sockets, and how much",
	"  FAMILY  address family number (JSON family: 4, 6 or null for others)\n"
	"  NAME    its name: AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, ... (family_name)\n",
	"  sockeye sofamily                        until Ctrl-C, then the table\n"
	"  sockeye sofamily -i 5                   the table every 5 seconds\n"
	"  sockeye sofamily -6 --duration 1m       IPv6 sockets for a minute\n"
	"  sockeye sofamily --json --comm sshd     sshd's, as JSON Lines\n");

const struct command soprotocol_command = SOCOUNT_COMMAND(soprotocol,
	"accepts and connects by process and transport protocol",
	"the transport protocol of the socket, system-wide: TCP, UDP, UNIX, ...\n"
	"IPv4 and IPv6 sockets of a protocol share a row",
	"  PROTO   protocol number, the socket's sk_protocol (protocol)\n"
	"  NAME    IPPROTO_TCP, IPPROTO_UDP, ...; UNIX for UNIX sockets,\n"
	"          whose protocol is 0; FAMILY:N in other families, e.g.\n"
	"          AF_NETLINK:0 (protocol_name)\n"
	"  SHORT   the name without IPPROTO_ or AF_: TCP, UDP, UNIX (protocol_short)\n",
	"  sockeye soprotocol                      until Ctrl-C, then the table\n"
	"  sockeye soprotocol -i 10 -c 6           a minute in 10-second tables\n"
	"  sockeye soprotocol -4 -p 1234           one process's IPv4 sockets\n"
	"  sockeye soprotocol --json --duration 30s\n");
