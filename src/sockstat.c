// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye sockstat`: socket system calls counted in the kernel, printed
 * per interval; and the session all three counting commands share (the
 * other two, sofamily and soprotocol, are in socount.c). Kernel side:
 * bpf/sockstat.bpf.c; shared layout: bpf/sockstat.h. */
#include <errno.h>
#include <string.h>
#include "sockeye.h"
#include "sockstat_session.h"
#include "format.h"
#include "json.h"
#include "run.h"
#include "sockstat.skel.h"

/* The columns of `sockstat`: header and JSON field. */
static const struct {
	const char *column, *key;
} counters[SS_COUNTERS] = {
	[SS_SOCKET] = { "SOCKET", "socket" },
	[SS_SOCKETPAIR] = { "SOCKPAIR", "socketpair" },
	[SS_BIND] = { "BIND", "bind" },
	[SS_LISTEN] = { "LISTEN", "listen" },
	[SS_ACCEPT] = { "ACCEPT", "accept" },
	[SS_CONNECT] = { "CONNECT", "connect" },
	[SS_SEND] = { "SEND", "send" },
	[SS_RECV] = { "RECV", "recv" },
	[SS_SHUTDOWN] = { "SHUTDOWN", "shutdown" },
	[SS_SOCK_SEND] = { "SOCK_SEND", "sock_send" },
	[SS_SOCK_RECV] = { "SOCK_RECV", "sock_recv" },
};

static const char *const kind_names[SO_KINDS] = {
	[SO_ACCEPT] = "accept",
	[SO_CONNECT] = "connect",
};

const char *ss_counter_key(int counter)
{
	return counter >= 0 && counter < SS_COUNTERS ? counters[counter].key : "?";
}

const char *so_kind_name(int kind)
{
	return kind >= 0 && kind < SO_KINDS ? kind_names[kind] : "?";
}

/* Every program of the object is in exactly one of these two tables. */
static const struct hook_use call_hooks[] = {
	{ "ss_socket", SS_BIT(SS_SOCKET), ALL_PROTOS },
	{ "ss_socketpair", SS_BIT(SS_SOCKETPAIR), ALL_PROTOS },
	{ "ss_bind", SS_BIT(SS_BIND), ALL_PROTOS },
	{ "ss_listen", SS_BIT(SS_LISTEN), ALL_PROTOS },
	{ "ss_accept", SS_BIT(SS_ACCEPT), ALL_PROTOS },
	{ "ss_accept4", SS_BIT(SS_ACCEPT), ALL_PROTOS },
	{ "ss_connect", SS_BIT(SS_CONNECT), ALL_PROTOS },
	{ "ss_sendto", SS_BIT(SS_SEND), ALL_PROTOS },
	{ "ss_sendmsg", SS_BIT(SS_SEND), ALL_PROTOS },
	{ "ss_sendmmsg", SS_BIT(SS_SEND), ALL_PROTOS },
	{ "ss_recvfrom", SS_BIT(SS_RECV), ALL_PROTOS },
	{ "ss_recvmsg", SS_BIT(SS_RECV), ALL_PROTOS },
	{ "ss_recvmmsg", SS_BIT(SS_RECV), ALL_PROTOS },
	{ "ss_shutdown", SS_BIT(SS_SHUTDOWN), ALL_PROTOS },
	{ "ss_sock_send", SS_BIT(SS_SOCK_SEND), ALL_PROTOS },
	{ "ss_sock_recv", SS_BIT(SS_SOCK_RECV), ALL_PROTOS },
};

static const struct hook_use socket_hooks[] = {
	{ "so_connect", SO_BIT(SO_CONNECT), ALL_PROTOS },
	{ "so_accept", SO_BIT(SO_ACCEPT), ALL_PROTOS },
	{ "so_accept4", SO_BIT(SO_ACCEPT), ALL_PROTOS },
};

#define SOCKET_PROGRAMS(name) {						\
	.cmd = name,								\
	.hooks = socket_hooks,							\
	.n_hooks = sizeof(socket_hooks) / sizeof(socket_hooks[0]),		\
	.gives_name = so_kind_name,						\
	.elf_bytes = sockstat_bpf__elf_bytes,					\
}

const struct program_set sockstat_programs = {
	.cmd = "sockstat",
	.hooks = call_hooks,
	.n_hooks = sizeof(call_hooks) / sizeof(call_hooks[0]),
	.gives_name = ss_counter_key,
	.elf_bytes = sockstat_bpf__elf_bytes,
};
const struct program_set sofamily_programs = SOCKET_PROGRAMS("sofamily");
const struct program_set soprotocol_programs = SOCKET_PROGRAMS("soprotocol");

static const struct part {
	const struct program_set *programs;
	uint32_t all;
} parts[] = {
	[PART_CALLS] = { &sockstat_programs, SS_ALL_MASK },
	[PART_SOCKETS] = { &sofamily_programs, SO_ALL_MASK },
};

int sockstat_session_start(struct sockstat_session *s, enum sockstat_part part,
			   const struct sock_filters *filters, const char *cmd)
{
	const struct part *p = &parts[part];
	struct bpf_program *prog;
	int err;

	memset(s, 0, sizeof(*s));
	s->skel = sockstat_bpf__open();
	if (!s->skel)
		return open_failed(cmd);
	set_filters(&s->skel->rodata->filter, filters);
	/* One object serves three commands: the other part's programs stay out. */
	bpf_object__for_each_program(prog, s->skel->obj)
		bpf_program__set_autoload(prog, false);
	s->missing = select_programs(s->skel->obj, p->programs, p->all, ALL_PROTOS);
	if (s->missing == p->all) {
		p_err("none of the hooks of '%s' exist on this kernel (see 'sockeye features')", cmd);
		err = -EOPNOTSUPP;
	} else {
		err = load_and_attach(s->skel->skeleton, cmd);
	}
	if (err)
		sockstat_session_stop(s);
	return err;
}

void sockstat_session_stop(struct sockstat_session *s)
{
	sockstat_bpf__destroy(s->skel);
	s->skel = NULL;
}

int sockstat_read_calls(const struct sockstat_session *s, uint64_t counts[SS_COUNTERS])
{
	return percpu_array_sum(bpf_map__fd(s->skel->maps.ss_calls), SS_COUNTERS, counts);
}

int sockstat_read_sockets(const struct sockstat_session *s, struct counter_snapshot *snap)
{
	return counter_snapshot_read(snap, bpf_map__fd(s->skel->maps.so_counts));
}

uint64_t sockstat_sockets_lost(const struct sockstat_session *s)
{
	uint64_t lost;

	percpu_array_sum(bpf_map__fd(s->skel->maps.so_lost), 1, &lost);
	return lost;
}

uint64_t sockstat_skipped(const struct sockstat_session *s)
{
	return skipped_runs(s->skel->obj);
}

/* ---- the command ---- */

struct sockstat_cmd {
	struct sockstat_session session;
	bool json;
	uint64_t last[SS_COUNTERS];	/* the previous read */
	uint64_t skipped_before;	/* sockstat_skipped() at the previous read */
	struct json_lost lost;
};

/* Numbers under headers of at least this width, right-aligned. */
#define MIN_COLUMN 7

static int column_width(int counter)
{
	int len = strlen(counters[counter].column);

	return len > MIN_COLUMN ? len : MIN_COLUMN;
}

static void print_header(void)
{
	printf("%-8s", "TIME");
	for (int i = 0; i < SS_COUNTERS; i++)
		printf(" %*s", column_width(i), counters[i].column);
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

	json_record_begin(&j, "sockstat", span->end_ns);
	json_uint(&j, "interval_ns", span->length_ns);
	for (int i = 0; i < SS_COUNTERS; i++)
		if (!(c->session.missing & SS_BIT(i)))
			json_uint(&j, counters[i].key, delta[i]);
	json_end(&j);
}

static int print_interval(void *ctx, const struct report_span *span)
{
	struct sockstat_cmd *c = ctx;
	uint64_t delta[SS_COUNTERS], skipped;
	int err = percpu_array_delta(bpf_map__fd(c->session.skel->maps.ss_calls), SS_COUNTERS,
				     c->last, delta);

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
