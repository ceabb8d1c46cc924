// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye sockstat`: socket system calls counted in the kernel, printed
 * per interval: options, printers, cmd_sockstat. The session it shares
 * with sofamily and soprotocol (src/socount.c): src/sockstat_session.c;
 * kernel side: bpf/sockstat.bpf.c; shared layout: bpf/sockstat.h. */
#include <string.h>
#include "sockeye.h"
#include "sockstat_session.h"
#include "format.h"
#include "json.h"
#include "run.h"
#include "probe.h"

struct sockstat_cmd {
	struct sockstat_session session;
	bool json;
	uint64_t last[SS_COUNTERS];	/* the previous read */
	uint64_t skipped_before;	/* sockstat_skipped() at the previous read */
	struct json_lost lost;
};

/* The column headers of the counters. */
static const char *const columns[SS_COUNTERS] = {
	[SS_SOCKET] = "SOCKET",
	[SS_SOCKETPAIR] = "SOCKPAIR",
	[SS_BIND] = "BIND",
	[SS_LISTEN] = "LISTEN",
	[SS_ACCEPT] = "ACCEPT",
	[SS_CONNECT] = "CONNECT",
	[SS_SEND] = "SEND",
	[SS_RECV] = "RECV",
	[SS_SHUTDOWN] = "SHUTDOWN",
	[SS_SOCK_SEND] = "SOCK_SEND",
	[SS_SOCK_RECV] = "SOCK_RECV",
};

/* Numbers under headers of at least this width, right-aligned. */
#define MIN_COLUMN 7

static int column_width(int counter)
{
	int len = strlen(columns[counter]);

	return len > MIN_COLUMN ? len : MIN_COLUMN;
}

static void print_header(void)
{
	printf("%-8s", "TIME");
	for (int i = 0; i < SS_COUNTERS; i++)
		printf(" %*s", column_width(i), columns[i]);
	printf("\n");
}

static void print_text(const struct sockstat_cmd *c, const struct report_span *span,
		       const uint64_t delta[SS_COUNTERS])
{
	char when[TIME_LEN];

	format_clock_time(when, sizeof(when), span->end_ns);
	printf("%-8s", when);
	for (int i = 0; i < SS_COUNTERS; i++) {
		if (c->session.missing & SS_BIT(i))
			printf(" %*s", column_width(i), "-");
		else
			printf(" %*llu", column_width(i), (unsigned long long)delta[i]);
	}
	printf("\n");
}

static void print_json(const struct sockstat_cmd *c, const struct report_span *span,
		       const uint64_t delta[SS_COUNTERS])
{
	struct json j;

	json_report_begin(&j, "sockstat", span->end_ns, span->length_ns);
	for (int i = 0; i < SS_COUNTERS; i++)
		if (!(c->session.missing & SS_BIT(i)))
			json_uint(&j, ss_counter_key(i), delta[i]);
	json_end(&j);
}

static int print_interval(void *ctx, const struct report_span *span)
{
	struct sockstat_cmd *c = ctx;
	uint64_t delta[SS_COUNTERS], skipped;
	int err = sockstat_calls_delta(&c->session, c->last, delta);

	if (err) {
		p_err("cannot read the sockstat counters: %s", strerror(-err));
		return err;
	}
	skipped = sockstat_skipped(&c->session) - c->skipped_before;
	c->skipped_before += skipped;
	if (c->json) {
		print_json(c, span, delta);
		/* Skipped runs are all it can lose: the calls they missed. */
		json_lost(&c->lost, c->skipped_before, c->skipped_before, false);
	} else {
		print_text(c, span, delta);
		if (skipped)
			warn_skipped("sockstat", skipped);
	}
	return 0;
}

static int cmd_sockstat(int argc, char **argv);

struct sockstat_opts {
	struct common_opts common;
};

#define T struct sockstat_opts
static const struct opt_def sockstat_options[] = {
	OPTION_INTERVAL(T, "one row every TIME (default 1s)"),
	OPTION_COUNT(T, "stop after N rows"),
	OPTION_PID(T),
	OPTION_COMM(T),
	OPTION_CGROUP(T),
	OPTION_JSON(T),
	OPTION_DURATION(T),
	OPTION_END,
};
#undef T

const struct command sockstat_command = {
	.name = "sockstat",
	.run = cmd_sockstat,
	.summary = "socket system calls counted per interval (socket, connect, send, ...)",
	.synopsis = "[OPTIONS]",
	.overhead =
	"A program on every socket system call of the host (syscall "
	"tracepoints) and on every send and receive, each a per-CPU counter; "
	"nothing per call leaves the kernel. In the benchmark (2 vCPUs), "
	"64-byte UDP kept 0.87 of its rate in its worst runs.",
	.description =
	"Count socket system calls, system-wide, and print the counts once per\n"
	"interval: socket(), socketpair(), bind(), listen(), accept(), connect(),\n"
	"the send and receive calls and shutdown(); and every send and receive of\n"
	"the kernel's socket layer, whichever call made it. Counting happens in\n"
	"the kernel: nothing per call is copied out.\n"
	"\n"
	"Columns (JSON fields in parentheses):\n"
	"  TIME       end of the interval, local time (time: RFC 3339 UTC)\n"
	"  SOCKET     socket() (socket)\n"
	"  SOCKPAIR   socketpair() (socketpair)\n"
	"  BIND       bind() (bind)\n"
	"  LISTEN     listen() (listen)\n"
	"  ACCEPT     accept() and accept4() (accept)\n"
	"  CONNECT    connect() (connect)\n"
	"  SEND       sendto() (which send() is), sendmsg(), sendmmsg() (send)\n"
	"  RECV       recvfrom() (which recv() is), recvmsg(), recvmmsg() (recv)\n"
	"  SHUTDOWN   shutdown() (shutdown)\n"
	"  SOCK_SEND  socket-level sends: one per send call, per message of a\n"
	"             sendmmsg(), per write() on a socket (sock_send)\n"
	"  SOCK_RECV  socket-level receives, read() on a socket included (sock_recv)\n"
	"Calls are counted as they start, whether they succeed or fail. JSON Lines:\n"
	"a header record, then one record of type sockstat per row, with time_us and\n"
	"interval_ns, the interval's length; a record of type lost after a row in\n"
	"which runs of the counting programs were skipped by the kernel (each was\n"
	"already running on that CPU: their calls are not counted), and at exit\n"
	"(text: a warning on stderr). See sockeye's JSON schema\n"
	"(schema/sockeye.schema.json). A column this kernel has no hook for shows\n"
	"'-' (JSON: no field).\n"
	"On Ctrl-C or at the end of --duration, a last, shorter row counts the\n"
	"calls since the previous one.\n",
	.notes =
	"--duration counts from the moment counting starts.\n"
	"\n"
	"Syscall tracepoints put every system call of the host on a slower path\n"
	"while sockstat runs.\n",
	.examples =
	"  sockeye sockstat                         one row a second until Ctrl-C\n"
	"  sockeye sockstat -i 10 -c 6              a minute in 10-second rows\n"
	"  sockeye sockstat --comm nginx --json     nginx's calls, as JSON Lines\n"
	"  sockeye sockstat -p 1234 -i 500ms --duration 30s\n",
	.options = sockstat_options,
	.programs = &sockstat_programs,
};

static int cmd_sockstat(int argc, char **argv)
{
	struct sockstat_opts o = {};
	struct common_opts *common = &o.common;
	struct sockstat_cmd c = {};
	int err;

	parse_options(&sockstat_command, argc, argv, &o);
	if (!check_environment())
		return EXIT_FAIL;
	c.json = common->json;
	if (c.json)
		json_header("sockstat");
	/* Handlers first: a Ctrl-C while loading still ends in a clean exit. */
	run_start(common->duration);
	if (sockstat_session_start(&c.session, PART_CALLS, &common->filters, "sockstat"))
		return EXIT_FAIL;
	if (!c.json)
		print_header();
	err = run_reports(common->interval ? common->interval : 1, common->count, print_interval,
			  &c);
	if (!err && c.json)
		json_lost(&c.lost, c.skipped_before, c.skipped_before, true);
	sockstat_session_stop(&c.session);
	return err ? EXIT_FAIL : EXIT_OK;
}
