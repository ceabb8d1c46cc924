// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye events`: one line (or JSON object) per socket event. Kernel
 * options, printers, cmd_events. The session: src/events_session.c;
 * kernel side: bpf/events.bpf.c; records: bpf/events.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include "sockeye.h"
#include "events_print.h"
#include "format.h"
#include "json.h"
#include "probe.h"

static const char *proto_upper(const struct event_record *e)
{
	return e->tuple.protocol == IPPROTO_TCP ? "TCP" : "UDP";
}

static bool has_bytes(const struct event_record *e)
{
	return (e->kind == EV_SEND || e->kind == EV_RECV) && e->result >= 0;
}

/* The text of a record's comm: a load's records come from few processes,
 * so the last one is kept rather than checked again byte by byte. */
static const char *printable_comm(struct events_printer *p, const char comm[16])
{
	if (!p->comm_valid || memcmp(p->comm_raw, comm, sizeof(p->comm_raw))) {
		memcpy(p->comm_raw, comm, sizeof(p->comm_raw));
		p->comm = comm_str(comm);
		p->comm_valid = true;
	}
	return p->comm.s[0] ? p->comm.s : "-";
}

/* Built with plain appends in one buffer and written once: printf's
 * parsing, and copies through buffers of each part, were most of the cost
 * of `events` at hundreds of thousands of lines a second. */
static void print_text(struct events_printer *p, const struct event_record *e)
{
	const struct sock_tuple *t = &e->tuple;
	struct strbuf line;

	strbuf_init(&line);
	strbuf_wall_time(&line, e->ts_ns + p->clock_offset);
	strbuf_lit(&line, " ");
	strbuf_str(&line, proto_upper(e));
	strbuf_lit(&line, ": ");
	strbuf_str(&line, printable_comm(p, e->owner.comm));
	strbuf_lit(&line, " ");
	strbuf_str(&line, event_kind_name(e->kind));
	strbuf_lit(&line, " err=\"");
	if (e->result < 0) {
		strbuf_str(&line, errno_name(-(long long)e->result));
		strbuf_lit(&line, ": ");
		strbuf_str(&line, errno_message(-(long long)e->result));
	}
	strbuf_lit(&line, "\" ");
	if (t->protocol == IPPROTO_TCP) {
		strbuf_str(&line, tcp_state_name(t->state));
		strbuf_lit(&line, " ");
	}
	strbuf_lit(&line, "src=");
	strbuf_endpoint(&line, t->family, t->saddr, t->sport);
	strbuf_lit(&line, " dst=");
	strbuf_endpoint(&line, t->family, t->daddr, t->dport);
	strbuf_lit(&line, " rcv/snd(");
	strbuf_uint(&line, e->rcvbuf);
	strbuf_lit(&line, "/");
	strbuf_uint(&line, e->sndbuf);
	strbuf_lit(&line, ") pid=");
	strbuf_uint(&line, e->owner.pid);
	strbuf_lit(&line, " tid=");
	strbuf_uint(&line, e->owner.tid);
	strbuf_lit(&line, " cookie=");
	strbuf_uint(&line, e->cookie);
	if (has_bytes(e)) {
		strbuf_lit(&line, " bytes=");
		strbuf_uint(&line, e->result);
	}
	if (e->kind == EV_SHUTDOWN) {
		strbuf_lit(&line, " how=");
		strbuf_str(&line, shutdown_how_name(e->arg));
	}
	if (e->kind == EV_STATE) {
		strbuf_lit(&line, " old=");
		strbuf_str(&line, tcp_state_name(e->arg));
	}
	strbuf_lit(&line, "\n");
	fwrite(line.buf, 1, line.len, stdout);
}

static void print_json(const struct events_printer *p, const struct event_record *e)
{
	const struct sock_tuple *t = &e->tuple;
	struct json j;

	json_record_begin(&j, "event", e->ts_ns + p->clock_offset);
	json_str(&j, "event", event_kind_name(e->kind));
	json_str(&j, "proto", transport_name(e->tuple.protocol));
	json_owner(&j, &e->owner);
	json_outcome(&j, e->result < 0 ? -(long long)e->result : 0);
	if (has_bytes(e))
		json_int(&j, "bytes", e->result);
	if (t->protocol == IPPROTO_TCP)
		json_str(&j, "state", tcp_state_name(t->state));
	if (e->kind == EV_STATE)
		json_str(&j, "old_state", tcp_state_name(e->arg));
	if (e->kind == EV_SHUTDOWN)
		json_str(&j, "how", shutdown_how_name(e->arg));
	json_tuple(&j, t);
	json_uint(&j, "rcvbuf", e->rcvbuf);
	json_uint(&j, "sndbuf", e->sndbuf);
	json_uint(&j, "cookie", e->cookie);
	json_end(&j);
}

void events_print_event(void *ctx, const void *record, size_t size)
{
	const struct event_record *e = record;
	struct events_printer *p = ctx;

	if (p->json)
		print_json(p, e);
	else
		print_text(p, e);
}

struct events_opts {
	struct common_opts common;
	struct events_config cfg;
	uint32_t listed;	/* --event's EV_BIT()s; 0 when not given */
	bool no_io;
};

static void parse_events(const char *cmd, const char *arg, void *mask)
{
	char bad[64] = "";

	*(uint32_t *)mask = parse_event_list(arg, bad, sizeof(bad));
	if (!*(uint32_t *)mask)
		usage_error(cmd, "invalid --event: unknown event '%s' (events: create, bind, listen, connect, accept, "
			    "send, recv, shutdown, disconnect, reset-sent, reset-recv, error, close, "
			    "state)", bad);
}

static void check_events_options(struct events_opts *o)
{
	struct events_config *cfg = &o->cfg;

	cfg->event_mask = o->listed ? o->listed : EV_DEFAULT_MASK;
	if (o->no_io && o->listed && !(cfg->event_mask & ~EV_IO_MASK))
		usage_error("events", "--no-io leaves none of the events given to --event");
	if (o->no_io)
		cfg->event_mask &= ~EV_IO_MASK;
	if (!cfg->proto_mask)
		cfg->proto_mask = PROTO_TCP_BIT | PROTO_UDP_BIT;
	cfg->filters = o->common.filters;
}

static int cmd_events(int argc, char **argv);

#define T struct events_opts
static const struct opt_def events_options[] = {
	OPTION_TCP_UDP(T, cfg.proto_mask, PROTO_TCP_BIT, PROTO_UDP_BIT),
	{ "event", 'e', "LIST", "only these events, comma-separated (e.g. connect,close)",
	  OPT_CALL, OPT_FIELD(T, listed), .parse = parse_events },
	{ "no-io", 0, NULL, "leave out send and recv: lifecycle events only", OPT_FLAG,
	  OPT_FIELD(T, no_io) },
	OPTION_FILTERS(T),
	OPTION_JSON(T),
	OPTION_DURATION(T),
	OPTION_END,
};
#undef T

const struct command events_command = {
	.name = "events",
	.run = cmd_events,
	.summary = "one line per socket event (connect, accept, send, close, ...)",
	.synopsis = "[OPTIONS]",
	.overhead =
	"A program per socket event, and by default per send and receive "
	"call; every event crosses to user space through the ring buffer and "
	"is formatted there. accept and shutdown use syscall tracepoints, "
	"which put every system call of the host on the slower traced path "
	"while they are attached (an --event list without them avoids it). In "
	"the benchmark (2 vCPUs), a loop of 14,000 connections a second, 9 "
	"events each, kept 0.60 of its rate; bulk transfers about 1.00.",
	.description =
	"Print one line (or JSON object) per socket event, system-wide, for TCP and\n"
	"UDP over IPv4 and IPv6: who creates, binds, listens, connects, accepts,\n"
	"sends, receives, shuts down and closes sockets, which resets and errors\n"
	"happen, with addresses, TCP state and socket buffer sizes.\n"
	"\n"
	"Events: create, bind, listen, connect, accept, send, recv, shutdown,\n"
	"disconnect, reset-sent, reset-recv, error, close, and state (every TCP\n"
	"state change; only when asked for with --event).\n"
	"\n"
	"Text line: TIME PROTO: COMM EVENT err=\"ERRNO: message\" STATE src=ADDR:PORT\n"
	"dst=ADDR:PORT rcv/snd(RCVBUF/SNDBUF) pid= tid= cookie= [bytes=] [how=] [old=]\n"
	"STATE is the TCP state after the event; for close, the state the socket\n"
	"was in when the process closed it. pid 0 and comm '-' mean the event\n"
	"happened in the kernel for a socket whose process sockeye never saw.\n",
	.notes =
	"accept and shutdown come from syscall tracepoints, which put every syscall\n"
	"of the host on a slower path while sockeye runs; leave them out with\n"
	"--event if that matters.\n"
	"\n"
	"JSON Lines: a header record, then one record of type event per event; the\n"
	"fields are in sockeye's JSON schema (schema/sockeye.schema.json).\n"
	"\n"
	"Events not shown are counted and said at exit (JSON: a record of type lost\n"
	"at exit and whenever the count grows): records the\n"
	"ring buffer could not take, and runs of the programs the kernel skipped\n"
	"(skipped) because the same program was already running on that CPU.\n",
	.examples =
	"  sockeye events                      everything, as text\n"
	"  sockeye events --no-io --json       lifecycle only, as JSON Lines\n"
	"  sockeye events --tcp --port 443     TCP events on port 443\n"
	"  sockeye events -e connect,accept -p 1234 --duration 10s\n",
	.options = events_options,
	.programs = &events_programs,
};

static int cmd_events(int argc, char **argv)
{
	struct events_opts o = {};
	struct events_session session;
	struct events_printer printer;
	int status;

	parse_options(&events_command, argc, argv, &o);
	check_events_options(&o);
	if (!check_environment())
		return EXIT_FAIL;
	if (o.common.json)
		json_header("events");
	printer = (struct events_printer){ .json = o.common.json,
				    .clock_offset = monotonic_to_realtime_offset() };
	/* Handlers first: a Ctrl-C while loading still ends in a clean exit. */
	run_start(o.common.duration);
	if (events_session_start(&session, &o.cfg, events_print_event, &printer))
		return EXIT_FAIL;
	status = read_until_stopped(&session.reader, "events", o.common.json,
				 "narrow the filters or leave out send/recv with --no-io");
	events_session_stop(&session);
	return status;
}
