// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye soconnect`: one line per connect(2) to an IPv4 or IPv6 address.
 * Options, printers, cmd_soconnect. The session: src/soconnect_session.c;
 * kernel side: bpf/soconnect.bpf.c; records: bpf/soconnect.h. */
#include <errno.h>
#include <sys/socket.h>
#include "sockeye.h"
#include "soconnect_print.h"
#include "format.h"
#include "json.h"
#include "probe.h"

static void print_text(const struct soconnect_printer *p, const struct soconnect_record *r)
{
	char addr[ADDR_LEN];

	format_addr(addr, sizeof(addr), r->family, r->daddr);
	printf("%-7u %-16s %-3u %-*s %-5u %-8llu %s\n", r->owner.pid, comm_str(r->owner.comm).s,
	       r->family, p->addr_width, addr, r->dport, (unsigned long long)(r->latency_ns / 1000),
	       connect_result(r->result));
}

static void print_json(const struct soconnect_printer *p, const struct soconnect_record *r)
{
	struct json j;

	json_record_begin(&j, "connect", r->ts_ns + p->clock_offset);
	json_owner(&j, &r->owner);
	json_int(&j, "fd", r->fd);
	json_str(&j, "proto", transport_name(r->protocol));
	/* The call gives no local address: the remote end is where it connects. */
	json_endpoint(&j, r->family, NULL, r->sport, r->daddr, r->dport);
	json_uint(&j, "latency_ns", r->latency_ns);
	json_outcome(&j, r->result < 0 ? -(long long)r->result : 0);
	json_end(&j);
}

void soconnect_print_record(void *ctx, const void *record, size_t size)
{
	const struct soconnect_printer *p = ctx;

	if (p->json)
		print_json(p, record);
	else
		print_text(p, record);
}

static int cmd_soconnect(int argc, char **argv);

struct soconnect_opts {
	struct common_opts common;
};

#define T struct soconnect_opts
static const struct opt_def soconnect_options[] = {
	OPTION_CGROUP(T),
	OPTION_FILTERS(T),
	OPTION_JSON(T),
	OPTION_DURATION(T),
	OPTION_END,
};
#undef T

const struct command soconnect_command = {
	.name = "soconnect",
	.run = cmd_soconnect,
	.summary = "connect(2) calls with their latency and result",
	.synopsis = "[OPTIONS]",
	.overhead =
	"Syscall tracepoints on connect(2): every system call of the host "
	"takes the slower traced path while they are attached; one record per "
	"call through the ring buffer. In the benchmark (2 vCPUs), a "
	"connection loop kept 0.87 to 0.98 of its rate.",
	.description =
	"Show every connect(2) call to an IPv4 or IPv6 address, system-wide, TCP and\n"
	"UDP alike: who called it, where to, how long the call took and what it\n"
	"returned.\n"
	"\n"
	"Columns: PID PROCESS FAM ADDRESS PORT LAT(us) RESULT\n"
	"FAM is the address family number (2 IPv4, 10 IPv6). LAT(us) is the time\n"
	"spent inside connect(): a blocking TCP connect waits for the handshake, a\n"
	"non-blocking one returns at once with \"In progress\" (see 'sockeye connlat'\n"
	"for the handshake itself). RESULT is \"Success\" or the error, in words.\n",
	.notes =
	"--port matches the destination port. connect() calls on UNIX and other\n"
	"sockets are not shown.\n"
	"\n"
	"JSON Lines: a header record, then records of type connect (raddr and rport\n"
	"where it connects, lport the local port after the call or 0, laddr null;\n"
	"error e.g. ECONNREFUSED, null on success) and lost; the fields are in\n"
	"sockeye's JSON schema (schema/sockeye.schema.json).\n"
	"\n"
	"soconnect uses syscall tracepoints, which put every syscall of the host on\n"
	"a slower path while it runs.\n",
	.examples =
	"  sockeye soconnect                     every connect() as it returns\n"
	"  sockeye soconnect --comm curl -6      IPv6 connects of curl\n"
	"  sockeye soconnect --port 53 --json    connects to DNS servers, as JSON\n",
	.options = soconnect_options,
	.programs = &soconnect_programs,
};

static int cmd_soconnect(int argc, char **argv)
{
	struct soconnect_opts o = {};
	struct common_opts *common = &o.common;
	struct soconnect_session session;
	struct soconnect_printer printer;
	int status;

	parse_options(&soconnect_command, argc, argv, &o);
	if (!check_environment())
		return EXIT_FAIL;
	if (common->json)
		json_header("soconnect");
	printer = (struct soconnect_printer){
		.json = common->json,
		.clock_offset = monotonic_to_realtime_offset(),
		.addr_width = common->filters.family == AF_INET ? 15 : 39,
	};
	run_start(common->duration);
	if (soconnect_session_start(&session, &common->filters, soconnect_print_record, &printer))
		return EXIT_FAIL;
	if (!common->json)
		printf("%-7s %-16s %-3s %-*s %-5s %-8s %s\n", "PID", "PROCESS", "FAM",
		       printer.addr_width, "ADDRESS", "PORT", "LAT(us)", "RESULT");
	status = read_until_stopped(&session.reader, "soconnect", common->json,
				    "narrow the filters");
	soconnect_session_stop(&session);
	return status;
}
