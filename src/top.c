// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye top`: per-process bandwidth; options, the batch output, cmd_top.
 * Rows: top_model.c; the full-screen view: top_screen.c; the session:
 * top_session.c. Kernel side: bpf/top.bpf.c; counters: bpf/top.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sockeye.h"
#include "top_session.h"
#include "top_model.h"
#include "top_screen.h"
#include "format.h"
#include "json.h"
#include "pins.h"
#include "probe.h"

struct top_cmd {
	struct top_session session;
	struct top_tracker tracker;
	struct top_view view;
	bool json;
	struct json_lost lost;
};

static void print_text(const struct top_snapshot *snap, const struct top_view *v,
		       const struct top_row *rows, int n)
{
	const struct top_columns columns = TOP_BATCH_COLUMNS;
	char line[512], when[TIME_LEN];
	struct top_row sum;

	format_clock_time(when, sizeof(when), snap->end_ns);
	printf("%s  sort %s%s  units %s  lost %llu\n", when, sort_name(v->sort),
	       v->reverse ? " (reversed)" : "", units_name(v->units),
	       (unsigned long long)snap->lost);
	format_top_header(line, sizeof(line), v, &columns);
	printf("%s\n", line);
	for (int i = 0; i < n; i++) {
		format_top_row(line, sizeof(line), &rows[i], NULL, v, snap->span_ns, &columns);
		printf("%s\n", line);
	}
	top_total(snap, rows, n, &sum);
	format_top_row(line, sizeof(line), &sum, "TOTAL", v, snap->span_ns, &columns);
	printf("%s\n\n", line);
}

/* The byte fields of a row or of the total, for the view's splits. */
static void json_bytes(struct json *j, const struct top_row *r, const struct top_view *v,
		       uint64_t span_ns)
{
	static const char *const dir_names[TRAFFIC_DIRS] = { "sent", "recv" };
	unsigned splits = view_splits(v);
	char key[32];

	for (int d = 0; d < TRAFFIC_DIRS; d++) {
		snprintf(key, sizeof(key), "%s_bytes", dir_names[d]);
		json_uint(j, key, row_bytes(r, true, d, splits));
		snprintf(key, sizeof(key), "%s_interval_bytes", dir_names[d]);
		json_uint(j, key, row_bytes(r, false, d, splits));
		snprintf(key, sizeof(key), "%s_per_s", dir_names[d]);
		json_uint(j, key, per_second(row_bytes(r, false, d, splits), span_ns) + 0.5);
	}
	for (int s = 0; s < TRAFFIC_SPLITS; s++)
		for (int d = 0; d < TRAFFIC_DIRS && (splits & (1u << s)); d++) {
			snprintf(key, sizeof(key), "%s_%s_bytes", split_name(s), dir_names[d]);
			json_uint(j, key, r->total[d][s]);
		}
}

static void print_json(struct top_cmd *c, const struct top_snapshot *snap,
		       const struct top_view *v, const struct top_row *rows, int n)
{
	struct top_row sum;
	struct json j;

	for (int i = 0; i < n; i++) {
		const struct top_row *r = &rows[i];

		json_report_begin(&j, v->by_cgroup ? "cgroup" : "process", snap->end_ns,
				  snap->span_ns);
		if (v->by_cgroup)
			json_uint(&j, "processes", r->processes);
		else
			json_process(&j, r->pid, -1, r->comm);
		json_str(&j, "user", user_name(r->uid));
		if (r->uid != UINT32_MAX)
			json_uint(&j, "uid", r->uid);
		json_str(&j, "cgroup", cgroup_path(r->cgroup_id));
		json_uint(&j, "cgroup_id", r->cgroup_id);
		json_bool(&j, "ended", r->ended);
		json_bytes(&j, r, v, snap->span_ns);
		json_end(&j);
	}
	top_total(snap, rows, n, &sum);
	json_report_begin(&j, "total", snap->end_ns, snap->span_ns);
	json_uint(&j, "processes", sum.processes);
	json_bytes(&j, &sum, v, snap->span_ns);
	json_end(&j);
	json_lost(&c->lost, snap->lost, snap->skipped, false);
}

static int print_snapshot(void *ctx, const struct report_span *span)
{
	struct top_cmd *c = ctx;
	const struct top_snapshot *snap;
	struct top_row *rows;
	int err = top_take(&c->session, &c->tracker, span, &snap), n;

	n = err ? err : top_arrange(snap, &c->view, &rows);
	if (n < 0) {
		p_err("cannot read the traffic counters: %s", strerror(-n));
		return n;
	}
	if (c->json)
		print_json(c, snap, &c->view, rows, n);
	else
		print_text(snap, &c->view, rows, n);
	free(rows);
	return 0;
}

struct top_opts {
	struct common_opts common;
	struct top_view view;
	bool batch;
	bool from_agent;
	const char *pin_dir;
};

static int cmd_top(int argc, char **argv);

#define T struct top_opts
static const struct opt_def top_options[] = {
	OPTION_INTERVAL(T, "refresh every TIME (default 1s)"),
	OPTION_COUNT(T, "stop after N snapshots"),
	OPTION_BATCH(T, batch),
	OPTION_SORT(T, view.sort, "pid, user, comm, sent, recv (rates), total-sent, total-recv, "
		    "or rate (sent + received; the default)", top_sort_keys),
	{ "reverse", 'r', NULL, "reverse the order", OPT_FLAG, OPT_FIELD(T, view.reverse) },
	{ "units", 0, "UNIT", "auto (a unit per number, B, KiB, MiB, GiB, three digits; the "
	  "default), kb (KiB, 1024 bytes), mb (MiB) or b (exact bytes)", OPT_CHOICE,
	  OPT_FIELD(T, view.units), .choices = top_units },
	OPTION_TCP_UDP(T, view.protocols, SPLITS_TCP, SPLITS_UDP),
	{ "by-cgroup", 'g', NULL, "one row per cgroup (container, service) instead of per "
	  "process", OPT_FLAG, OPT_FIELD(T, view.by_cgroup) },
	OPTION_FROM_AGENT(T, from_agent, "read the counters of the running 'sockeye agent' "
			  "instead of loading programs (its filters apply; it keeps an ended "
			  "process 60 s, so an interval up to that shows every one)"),
	OPTION_PIN_DIR(T, pin_dir, "where that agent pins its maps (default /sys/fs/bpf/sockeye)"),
	OPTION_CGROUP(T),
	OPTION_FILTERS(T),
	OPTION_JSON(T),
	OPTION_DURATION(T),
	OPTION_RENAMED("delay", 'd', "SECS", "-i, --interval"),
	OPTION_END,
};
#undef T

const struct command top_command = {
	.name = "top",
	.run = cmd_top,
	.summary = "bandwidth per process, live (the default command)",
	.synopsis = "[OPTIONS]",
	.overhead =
	"Two programs, on each send and receive call's completion, each a "
	"per-CPU hash update keyed by pid; nothing per call leaves the "
	"kernel, and user space reads the hash once per interval. In the "
	"benchmark (2 vCPUs), 64-byte UDP kept 0.90 to 1.00 of its rate "
	"without sockeye and the connection loops 0.87 to 1.00.",
	.description =
	"Bandwidth per process, live: the bytes each process sends and receives over\n"
	"TCP and UDP, IPv4 and IPv6, counted in the kernel when its send and receive\n"
	"calls complete, and refreshed every interval. On a terminal it is a full-\n"
	"screen view (its keys are below; ? shows them there); otherwise, or with\n"
	"-b or --json, it prints one snapshot per interval.\n"
	"\n"
	"Columns:\n"
	"  PID        process (thread group) id; PROCS, the number of processes,\n"
	"             when grouped by cgroup\n"
	"  USER       owner of the process (user id when it has no name)\n"
	"  COMM       process name (its main thread's, as ps shows it) when first\n"
	"             seen; CGROUP, the cgroup v2 path\n"
	"  SENT/s, RECV/s   rate over the last interval\n"
	"  SENT, RECV       bytes since sockeye started\n"
	"  ended      the process exited during the interval: its row shows its\n"
	"             last bytes once, then leaves\n"
	"Bytes are payload (what send and receive calls moved), without headers.\n"
	"A last TOTAL row adds up the rows and, since the start, the processes that\n"
	"left: it never goes down.\n",
	.notes =
	"The filters apply in the kernel: bytes they exclude are not counted.\n"
	"\n"
	"JSON Lines: a header record, then per snapshot one record per process (type\n"
	"process) or per cgroup (type cgroup), then one of type total, and one of\n"
	"type lost when calls were not counted since the last (and at exit). Each\n"
	"has time, time_us, interval_ns and, for sent and recv: *_bytes since the\n"
	"start, *_interval_bytes and *_per_s (rounded) over the interval, and tcp4_*,\n"
	"tcp6_*, udp4_*, udp6_* bytes since the start. The fields are in sockeye's\n"
	"JSON schema (schema/sockeye.schema.json).\n",
	.examples =
	"  sockeye                               the live view (top is the default)\n"
	"  sockeye top -g                        by container or service\n"
	"  sockeye top -b -c 5 --sort sent       five text snapshots, top senders first\n"
	"  sockeye top --json -i 10 --udp        UDP bytes per process every 10 s\n"
	"  sockeye top --cgroup system.slice/nginx.service -6\n"
	"  sockeye top --from-agent              what the agent counts, no programs\n",
	.print_details = top_print_keys,
	.options = top_options,
	.programs = &top_programs,
};

/* Borrows the agent's maps pinned in agent_pins, or loads programs when
 * that is NULL. */
static int start_session(struct top_session *s, const char *agent_pins,
			 const struct sock_filters *filters)
{
	if (agent_pins)
		return top_session_borrow(s, agent_pins);
	if (!check_environment())
		return -EPERM;
	return top_session_start(s, filters);
}

static int cmd_top(int argc, char **argv)
{
	struct top_opts o = {
		.view = { .sort = SORT_RATE, .protocols = SPLITS_ALL, .families = SPLITS_ALL,
			  .units = UNITS_AUTO },
	};
	struct common_opts *common = &o.common;
	const char *agent_pins;
	double interval;
	struct top_cmd c = {};
	int err;

	parse_options(&top_command, argc, argv, &o);
	check_agent_source("top", o.from_agent, o.pin_dir, any_filter(&common->filters));
	c.view = o.view;
	c.json = common->json;
	interval = common->interval ? common->interval : 1;
	run_start(common->duration);
	agent_pins = !o.from_agent ? NULL : o.pin_dir ? o.pin_dir : DEFAULT_PIN_DIR;
	if (start_session(&c.session, agent_pins, &common->filters))
		return EXIT_FAIL;
	if (c.json)
		json_header("top");
	if (o.batch || c.json || !isatty(STDOUT_FILENO)) {
		err = top_begin(&c.session, &c.tracker);
		if (!err)
			err = run_reports(interval, common->count, print_snapshot, &c);
	} else {
		err = top_screen(&c.session, agent_pins, &c.view, interval, common->count);
	}
	if (!err && c.json)
		json_lost(&c.lost, c.tracker.last.lost, c.tracker.last.skipped, true);
	top_tracker_free(&c.tracker);
	top_session_stop(&c.session);
	return err ? EXIT_FAIL : EXIT_OK;
}
