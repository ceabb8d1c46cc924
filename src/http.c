// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye http`: one line per HTTP/1.x exchange seen in the socket calls
 * of the host, server side and client side, or a summary per method,
 * status and path prefix: options, printers, cmd_http. The session:
 * src/http_session.c; kernel side: bpf/http.bpf.c; parsing:
 * src/http_parse.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "sockeye.h"
#include "http_print.h"
#include "format.h"
#include "histogram.h"
#include "json.h"
#include "probe.h"

static uint64_t latency_ns(const struct http_exchange *x)
{
	return x->response_ns - x->request_ns;
}

static void format_size(char *buf, size_t len, int64_t size)
{
	if (size < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%lld", (long long)size);
}

static void print_text(const struct http_printer *p, const struct http_event *e)
{
	const struct sock_tuple *t = &e->tuple;
	char when[TIME_LEN], local[ENDPOINT_LEN], remote[ENDPOINT_LEN], req[24], resp[24];
	char method[sizeof(e->x.method) * 3], path[sizeof(e->x.path) * 3];

	format_clock_time(when, sizeof(when), e->x.request_ns + p->clock_offset);
	format_endpoint(local, sizeof(local), t->family, t->saddr, t->sport);
	format_endpoint(remote, sizeof(remote), t->family, t->daddr, t->dport);
	format_size(req, sizeof(req), e->x.request_size);
	format_size(resp, sizeof(resp), e->x.response_size);
	printf("%-8s %-7u %-16s %-6s %-3s %-*s %-*s %-7s %-6u %u.%u %-8s %-9s %-8.3f %s%s\n",
	       when, e->owner.pid, comm_str(e->owner.comm).s, e->x.server ? "server" : "client",
	       e->tls ? "yes" : "no", p->endpoint_width, local, p->endpoint_width, remote,
	       text_safe(method, sizeof(method), e->x.method), e->x.status, e->x.major, e->x.minor,
	       req, resp, latency_ns(&e->x) / 1e6, text_safe(path, sizeof(path), e->x.path),
	       e->x.path_cut ? "..." : "");
}

static void print_json(const struct http_printer *p, const struct http_event *e)
{
	char version[8];
	struct json j;

	json_record_begin(&j, "http", e->x.request_ns + p->clock_offset);
	json_owner(&j, &e->owner);
	json_str(&j, "role", e->x.server ? "server" : "client");
	json_bool(&j, "tls", e->tls);
	json_tuple(&j, &e->tuple);
	json_str(&j, "method", e->x.method);
	json_str(&j, "path", e->x.path);
	json_bool(&j, "path_truncated", e->x.path_cut);
	snprintf(version, sizeof(version), "%u.%u", e->x.major, e->x.minor);
	json_str(&j, "version", version);
	json_uint(&j, "status", e->x.status);
	json_int(&j, "request_size", e->x.request_size);
	json_int(&j, "response_size", e->x.response_size);
	json_uint(&j, "latency_ns", latency_ns(&e->x));
	json_end(&j);
}

/* The row of these rows like key (method, status, group, TLS, role), or
 * NULL. */
static struct summary_row *find_row(const struct summary_rows *r, const struct summary_row *key)
{
	for (size_t i = 0; i < r->n; i++) {
		struct summary_row *row = &r->rows[i];

		if (row->status == key->status && row->tls == key->tls &&
		    row->server == key->server && !strcmp(row->method, key->method) &&
		    !strcmp(row->group, key->group))
			return row;
	}
	return NULL;
}

/* Adds one of the kernel's sums to its row (http_sums_read()'s callback). */
static void add_to_rows(void *ctx, const struct http_sum_key *key, const struct http_sum *sum)
{
	struct http_printer *p = ctx;
	struct summary_rows *r = &p->now;
	struct summary_row *row, like = { .status = key->status, .tls = key->tls,
					  .server = key->server };

	memcpy(like.method, key->method, sizeof(key->method));
	memcpy(like.group, key->group, HTTP_PATH_LEN);
	if (!http_method_status_match(&p->o->match, like.method, key->status))
		return;
	row = find_row(r, &like);
	if (!row) {
		if (r->n == HTTP_SUM_ROWS)	/* not while the kernel keeps its sums */
			return;
		row = &r->rows[r->n++];
		*row = like;
	}
	row->count += sum->count;
	for (int i = 0; i < HTTP_LATENCY_SLOTS; i++)
		row->slots[i] += sum->slots[i];
}

void http_print_event(void *ctx, const struct http_event *e)
{
	struct http_printer *p = ctx;

	if (!http_matches(&p->o->match, &e->x))
		return;
	if (p->o->common.json)
		print_json(p, e);
	else
		print_text(p, e);
}

/* A row's total is its count: each exchange is in one slot. */
static void print_row_json(const struct summary_row *row, const struct report_span *span)
{
	struct json j;

	json_report_begin(&j, "http_summary", span->end_ns, span->length_ns);
	json_str(&j, "method", row->method);
	json_uint(&j, "status", row->status);
	json_str(&j, "path_prefix", row->group);
	json_bool(&j, "tls", row->tls);
	json_str(&j, "role", row->server ? "server" : "client");
	json_hist(&j, row->slots, HTTP_LATENCY_SLOTS);
	json_end(&j);
}

static void print_row(const struct http_printer *p, const struct summary_row *row,
		      const struct report_span *span)
{
	char method[sizeof(row->method) * 3], group[sizeof(row->group) * 3];

	if (p->o->common.json) {
		print_row_json(row, span);
		return;
	}
	printf("\n%s %u %s%s, %s side: %llu exchanges, latency:\n",
	       text_safe(method, sizeof(method), row->method), row->status,
	       text_safe(group, sizeof(group), row->group), row->tls ? " (TLS)" : "",
	       row->server ? "server" : "client", (unsigned long long)row->count);
	print_log2_hist(stdout, row->slots, HTTP_LATENCY_SLOTS, "usecs");
}

/* Prints what each row gained since the last report. */
static int report_summary(void *ctx, const struct report_span *span)
{
	struct http_printer *p = ctx;
	struct summary_rows swap;
	char when[TIME_LEN];
	uint64_t full, skipped;
	int err;

	p->now.n = 0;
	err = http_sums_read(p->session, add_to_rows, p);
	if (err) {
		p_err("cannot read the HTTP sums: %s", strerror(-err));
		return err;
	}
	if (!p->o->common.json && p->o->common.interval) {
		format_clock_time(when, sizeof(when), span->end_ns);
		printf("\n%s\n", when);
	}
	for (size_t i = 0; i < p->now.n; i++) {
		struct summary_row gained = p->now.rows[i];
		const struct summary_row *old = find_row(&p->before, &gained);

		for (int s = 0; old && s < HTTP_LATENCY_SLOTS; s++)
			gained.slots[s] -= old->slots[s];
		gained.count -= old ? old->count : 0;
		if (gained.count)
			print_row(p, &gained, span);
	}
	full = http_sums_full(p->session);
	skipped = http_skipped(p->session);
	if (p->o->common.json)
		json_lost(&p->lost, full + skipped, skipped, false);
	else if (full > p->full_before)
		p_warn("%llu exchanges not summed: more than %d method/status/path sums",
		       (unsigned long long)(full - p->full_before), HTTP_SUM_ROWS);
	p->full_before = full;
	if (!p->o->common.json && skipped > p->skipped_before)
		warn_skipped("http", skipped - p->skipped_before);
	p->skipped_before = skipped;
	swap = p->before;
	p->before = p->now;
	p->now = swap;
	return 0;
}

static int run_summary(struct http_printer *p)
{
	int err;

	p->now.rows = calloc(HTTP_SUM_ROWS, sizeof(*p->now.rows));
	p->before.rows = calloc(HTTP_SUM_ROWS, sizeof(*p->before.rows));
	if (!p->now.rows || !p->before.rows) {
		p_err("cannot allocate the summary: %s", strerror(errno));
		err = -ENOMEM;
		goto out;
	}
	if (!p->o->common.json)
		printf("Tracing HTTP exchanges... Hit Ctrl-C to end.\n");
	fflush(stdout);
	err = run_reports(p->o->common.interval, p->o->common.count, report_summary, p);
	if (!err && p->o->common.json)
		json_lost(&p->lost, http_sums_full(p->session) + http_skipped(p->session),
			  http_skipped(p->session), true);
out:
	free(p->now.rows);
	free(p->before.rows);
	return err ? EXIT_FAIL : EXIT_OK;
}

static void parse_method(const char *cmd, const char *arg, void *match)
{
	struct http_match *m = match;

#define XX(num, name, string) if (!strcmp(arg, #string)) { strcpy(m->method, arg); return; }
	HTTP_METHOD_MAP(XX)
#undef XX
	usage_error(cmd, "invalid --method '%s': expected an HTTP method in capitals, e.g. GET",
		    arg);
}

static void parse_status(const char *cmd, const char *arg, void *match)
{
	struct http_match *m = match;

	if (strlen(arg) == 3 && arg[0] >= '1' && arg[0] <= '5' && !strcmp(arg + 1, "xx")) {
		m->status_min = (arg[0] - '0') * 100;
		m->status_max = m->status_min + 99;
		return;
	}
	if (strlen(arg) != 3 || strspn(arg, "0123456789") != 3)
		usage_error(cmd, "invalid --status '%s': expected a code from 100 to 599 or a "
			    "class such as 4xx", arg);
	m->status_min = m->status_max = parse_ulong(cmd, "--status", arg, 100, 599);
}

static void parse_path_prefix(const char *cmd, const char *arg, void *match)
{
	struct http_match *m = match;

	if (!*arg || strlen(arg) > HTTP_PATH_LEN)
		usage_error(cmd, "invalid --path-prefix '%s': expected 1 to %d characters",
			    arg, HTTP_PATH_LEN);
	strcpy(m->path_prefix, arg);
}

static int cmd_http(int argc, char **argv);

#define T struct http_opts
static const struct opt_def http_options[] = {
	{ "max-bytes", 0, "N", "copy at most N bytes of each message (16 to 4096, default 512); "
	  "longer headers lose what follows", OPT_UINT, OPT_FIELD(T, max_bytes), .min = 16,
	  .max = HTTP_MAX_BYTES },
	{ "method", 0, "NAME", "only requests with this method (GET, POST, ...)", OPT_CALL,
	  OPT_FIELD(T, match), .parse = parse_method },
	{ "status", 0, "CODE", "only responses with this status (404) or class (4xx)", OPT_CALL,
	  OPT_FIELD(T, match), .parse = parse_status },
	{ "path-prefix", 0, "P", "only paths that start with P (/api)", OPT_CALL,
	  OPT_FIELD(T, match), .parse = parse_path_prefix },
	{ "summary", 0, NULL, "per method, status, path prefix (up to the second '/') and role: "
	  "count and a log2 histogram of latency in microseconds, every interval with -i, else "
	  "once at exit; an exchange between two processes of this host counts once per role "
	  "(client, server)", OPT_FLAG, OPT_FIELD(T, summary) },
	{ "tls-plaintext", 0, NULL, "show exchanges inside TLS (HTTPS) too: copies the decrypted "
	  "bytes, where paths and headers can carry secrets (--summary counts HTTPS without it)",
	  OPT_FLAG, OPT_FIELD(T, tls_plaintext) },
	OPTION_TLS_LIB(T, tls_libs),
	OPTION_INTERVAL(T, "with --summary: print the summary every TIME"),
	OPTION_COUNT(T, "with --summary and -i: stop after N summaries"),
	OPTION_FILTERS(T),
	OPTION_JSON(T),
	OPTION_DURATION(T),
	OPTION_END,
};
#undef T

const struct command http_command = {
	.name = "http",
	.run = cmd_http,
	.summary = "HTTP/1.x requests with status and latency, server and client side",
	.synopsis = "[OPTIONS]",
	.overhead =
	"Programs on every read and write system call of the host (syscall "
	"tracepoints), and a copy of up to --max-bytes of each HTTP message "
	"to user space, where it is parsed. --summary sums in the kernel and "
	"copies nothing out. In the benchmark (2 vCPUs), wrk against nginx "
	"kept about 0.59 of its rate with every exchange printed and about "
	"0.85 with --summary. HTTPS (--summary, --tls-plaintext) adds an entry "
	"and a return uprobe on each TLS library call that writes or reads "
	"application data, in every process using the library.",
	.description =
	"Show one line per HTTP/1.x request and its response on TCP, as seen in the\n"
	"socket calls of every process on the host: by the server that answers it\n"
	"and by the client that sends it. With --tls-plaintext, HTTPS too: read in\n"
	"OpenSSL 3 and GnuTLS by uprobes, where it is not encrypted.\n"
	"\n"
	"Columns: TIME PID COMM ROLE TLS LOCAL REMOTE METHOD STATUS VER REQ RESP LAT(ms)\n"
	"PATH. TIME is when the request's first byte was written (client) or read\n"
	"(server); PID and COMM the process that moved the response; ROLE server or\n"
	"client; TLS yes inside HTTPS; REQ and RESP the body sizes the headers\n"
	"announce (Content-Length; 0 for no body, - when unknown); LAT(ms) the time\n"
	"from the request's first byte to the response's first byte on this side.\n"
	"Paths longer than 128 bytes end in '...'.\n"
	"\n"
	"Payload: this command, and only this command, copies message bytes out of\n"
	"the processes' buffers, in the kernel: at most --max-bytes of each message\n"
	"(its first bytes, where the request line, status line and headers are), and\n"
	"only from calls on sockets whose data starts like HTTP. Nothing is copied\n"
	"unless this command runs. With --summary no bytes leave the kernel: it\n"
	"reads the first 144 bytes of each message there and keeps only counts.\n"
	"\n"
	"HTTPS: the bytes copied with --tls-plaintext are decrypted; paths and\n"
	"headers of HTTPS requests can carry secrets (tokens, cookies). --summary\n"
	"counts HTTPS without it, keeping only method, status, path group and\n"
	"latency. The TLS libraries are the system's libssl.so.3 and\n"
	"libgnutls.so.30, the copies running processes map, and those given with\n"
	"--tls-lib; processes started later that map one are covered.\n",
	.notes =
	"The shared filters act in the kernel; --method, --status and --path-prefix\n"
	"after parsing.\n"
	"\n"
	"JSON Lines: a header record, then records of type http (request_size and\n"
	"response_size -1 when unknown; tls true inside HTTPS), with --summary of type\n"
	"http_summary (role client or server; total exchanges; counts[0] is 0-1 us, counts[n] 2^n to 2^(n+1)-1 us), and lost\n"
	"(with --summary, exchanges not summed too); the fields are in sockeye's\n"
	"JSON schema (schema/sockeye.schema.json).\n"
	"\n"
	"http uses syscall tracepoints (read, write, readv, writev, sendto, recvfrom,\n"
	"sendmsg, recvmsg), which put every syscall of the host on a slower path\n"
	"while it runs, and for HTTPS uprobes on the TLS libraries ('sockeye\n"
	"features' lists them); without uprobes it says so once and shows cleartext\n"
	"HTTP. HTTP/2 is not seen.\n",
	.examples =
	"  sockeye http                          every exchange on the host\n"
	"  sockeye http --port 8080 --status 5xx server errors on port 8080\n"
	"  sockeye http --comm nginx --json      what nginx serves, as JSON Lines\n"
	"  sockeye http --summary -i 10 --path-prefix /api\n"
	"                                        latency per endpoint every 10 s\n"
	"  sockeye http --tls-plaintext --port 443\n"
	"                                        HTTPS exchanges on port 443\n",
	.options = http_options,
	.programs = &http_programs,
};

static void print_header(const struct http_printer *p)
{
	printf("%-8s %-7s %-16s %-6s %-3s %-*s %-*s %-7s %-6s %-3s %-8s %-9s %-8s %s\n", "TIME",
	       "PID", "COMM", "ROLE", "TLS", p->endpoint_width, "LOCAL", p->endpoint_width, "REMOTE", "METHOD",
	       "STATUS", "VER", "REQ", "RESP", "LAT(ms)", "PATH");
}

static int cmd_http(int argc, char **argv)
{
	struct http_opts o = { .max_bytes = HTTP_DEFAULT_BYTES };
	struct http_session session;
	struct http_printer printer;
	int status;

	parse_options(&http_command, argc, argv, &o);
	if ((o.common.interval || o.common.count) && !o.summary)
		usage_error("http", "-i and -c go with --summary: exchanges are printed as they end");
	if (o.common.count && !o.common.interval)
		usage_error("http", "--count needs --interval: without it there is one summary, at "
			    "the end");
	if (o.tls_libs.n && !o.summary && !o.tls_plaintext)
		usage_error("http", "--tls-lib goes with --tls-plaintext or --summary: without them "
			    "HTTPS is not read");
	if (!check_environment())
		return EXIT_FAIL;
	if (o.summary || o.tls_plaintext)
		tls_libs_find(&o.tls_libs);
	if (o.common.json)
		json_header("http");
	printer = (struct http_printer){
		.o = &o,
		.clock_offset = monotonic_to_realtime_offset(),
		/* "255.255.255.255:65535" and "[<39 characters>]:65535" */
		.endpoint_width = o.common.filters.family == AF_INET ? 21 : 47,
	};
	run_start(o.common.duration);
	if (o.summary) {
		printer.session = &session;
		if (http_sums_start(&session, &o.common.filters, &o.tls_libs, true,
				    o.match.path_prefix))
			return EXIT_FAIL;
		status = run_summary(&printer);
	} else {
		if (http_session_start(&session, &o.common.filters,
				       o.tls_plaintext ? &o.tls_libs : NULL, o.max_bytes, http_print_event,
				       &printer))
			return EXIT_FAIL;
		if (!o.common.json)
			print_header(&printer);
		status = read_until_stopped(&session.reader, "http", o.common.json,
					    "narrow the filters or lower --max-bytes");
	}
	http_session_stop(&session);
	return status;
}
