// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye agent`: the collectors (collectors.c) in one process, their
 * counts served as Prometheus metrics over HTTP (endpoint.c) and written to a
 * textfile, their maps pinned for the other commands (pins.h). The
 * exposition is made every interval and served as is: a scrape never
 * waits for the kernel, and /metrics and the textfile say the same. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <errno.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "sockeye.h"
#include "collectors.h"
#include "endpoint.h"
#include "format.h"
#include "health.h"
#include "maps.h"
#include "metrics.h"
#include "options.h"
#include "pins.h"
#include "web_config.h"
#include "probe.h"
#include "tls_libs.h"
#include "prom.h"
#include "run.h"
#include "version.h"

/* Outside 9100-9999, the exporters' range of Prometheus's port
 * allocations, which is full (any port there is some exporter's); below
 * 32768, where Linux picks the local ports of outgoing connections, which
 * could take it first; in no /etc/services; and not 9464, the Prometheus
 * exporter of the OpenTelemetry SDKs. */
#define DEFAULT_PORT "19464"
#define DEFAULT_LISTEN "127.0.0.1:" DEFAULT_PORT
#define DEFAULT_INTERVAL 5
#define DEFAULT_MAX_SERIES 100
#define MAX_MAX_SERIES 10000

struct agent {
	struct common_opts common;
	struct collector_config cfg;
	struct tls_libs tls_libs;	/* --tls-lib */
	uint32_t enabled;	/* bit i: collectors[i] */
	bool chosen;		/* enabled by --collectors, not by default */
	void **states;		/* by collector, NULL when not running */
	struct collector_health *health;	/* by collector: its last refresh */
	const char *pin_dir, *textfile, *web_config_path;
	struct web_config web;		/* from --web-config; zero: plain HTTP, no users */
	struct listen_addr {
		const char *text;	/* as given */
		struct sockaddr_storage addr;
		socklen_t len;
		bool any;		/* :PORT, every address, IPv4 and IPv6 */
	} listen[ENDPOINT_MAX_LISTEN];
	size_t n_listen;
	struct endpoint *http;
};

/* The names of a set of collectors (bit i: collectors[i]), comma-separated. */
static void collector_names(char *buf, size_t len, uint32_t set)
{
	buf[0] = '\0';
	for (size_t i = 0; i < n_collectors; i++)
		if (set & (1u << i))
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? "," : "",
				 collectors[i].name);
}

static uint32_t default_collectors(void)
{
	uint32_t set = 0;

	for (size_t i = 0; i < n_collectors; i++)
		set |= collectors[i].by_default ? 1u << i : 0;
	return set;
}

/* ---- the exposition ---- */

static void write_build_info(FILE *out, const struct agent *a)
{
	char names[128];
	struct prom_label labels[] = {
		{ "version", SOCKEYE_VERSION },
		{ "revision", SOCKEYE_REVISION },
		{ "libbpf", libbpf_version_string() },
		{ "collectors", names },
	};
	uint32_t running = 0;

	for (size_t i = 0; i < n_collectors; i++)
		running |= a->states[i] ? 1u << i : 0;
	collector_names(names, sizeof(names), running);
	prom_family(out, "sockeye_build_info", "gauge",
		    "Always 1: the sockeye version, its git revision, its libbpf and the "
		    "collectors running.");
	prom_uint(out, "sockeye_build_info", labels, sizeof(labels) / sizeof(labels[0]), 1);
}

static void write_lost(FILE *out, const struct agent *a)
{
	const char *names[32];	/* collectors are bits of a uint32_t */
	uint64_t counts[32];
	size_t n = 0;

	for (size_t i = 0; i < n_collectors; i++) {
		const struct collector *c = &collectors[i];
		void *state = a->states[i];

		if (!state)
			continue;
		names[n] = c->name;
		counts[n++] = (c->lost ? c->lost(state) : 0) + skipped_runs(*c->skeleton(state)->obj);
	}
	metrics_lost_events(out, names, counts, n);
}

/* Writes collector i's families to out, through a buffer of their own:
 * a refresh that fails leaves nothing half-written, and the exposition
 * goes on without them (sockeye_collector_refresh_success says so). */
static void write_collector(struct agent *a, size_t i, FILE *out)
{
	struct collector_health *h = &a->health[i];
	uint64_t start = monotonic_now_ns();
	char *text = NULL;
	size_t len = 0;
	FILE *mine = open_memstream(&text, &len);
	int err = mine ? collectors[i].write(a->states[i], mine) : -ENOMEM;

	if (mine && fclose(mine) && !err)
		err = -ENOMEM;
	h->refresh_seconds = (monotonic_now_ns() - start) / 1e9;
	h->ok = !err;
	if (!err)
		fwrite(text, 1, len, out);
	free(text);
}

static void write_health(FILE *out, struct agent *a)
{
	struct collector_health running[32];	/* collectors are bits of a uint32_t */
	size_t n = 0;

	health_write_process(out);
	for (size_t i = 0; i < n_collectors; i++) {
		if (!a->states[i])
			continue;
		running[n] = a->health[i];
		running[n].name = collectors[i].name;
		running[n].skel = collectors[i].skeleton(a->states[i]);
		running[n++].comm_names = collectors[i].comm_names ?
					  (long)collectors[i].comm_names(a->states[i]) : -1;
	}
	health_write_collectors(out, running, n, a->cfg.max_series);
}

/* The exposition in *body (malloc'd). Returns 0 or -errno after saying why. */
static int render(struct agent *a, char **body, size_t *len)
{
	FILE *out = open_memstream(body, len);

	if (!out) {
		p_err("out of memory");
		return -ENOMEM;
	}
	write_build_info(out, a);
	for (size_t i = 0; i < n_collectors; i++)
		if (a->states[i])
			write_collector(a, i, out);
	write_lost(out, a);
	write_health(out, a);
	if (fflush(out) == 0)
		health_write_series(out, *body, *len);
	if (fclose(out)) {
		free(*body);
		p_err("out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int refresh(void *ctx, const struct report_span *span)
{
	struct agent *a = ctx;
	size_t len;
	char *body;
	int err = render(a, &body, &len);

	if (err)
		return err;
	/* A textfile that cannot be written is said; serving goes on. */
	if (a->textfile && (err = prom_write_file(a->textfile, body, len)))
		p_warn("cannot write the textfile %s: %s", a->textfile, strerror(-err));
	return endpoint_publish(a->http, body, len);
}

/* ---- collectors and pins ---- */

static void stop_collectors(struct agent *a)
{
	for (size_t i = 0; i < n_collectors; i++) {
		if (!a->states[i])
			continue;
		collectors[i].stop(a->states[i]);	/* detaches */
		a->states[i] = NULL;
		pins_remove(a->pin_dir, collectors[i].name);
	}
}

static bool running(const struct agent *a)
{
	for (size_t i = 0; i < n_collectors; i++)
		if (a->states[i])
			return true;
	return false;
}

static int start_collectors(struct agent *a)
{
	bool stale = false;
	int err = 0;

	/* The lock is ours: whatever is pinned is a dead agent's. */
	for (size_t i = 0; i < n_collectors; i++)
		stale |= pins_remove(a->pin_dir, collectors[i].name);
	if (stale)
		p_info("removed the stale pins of an agent that did not stop cleanly from %s",
		       a->pin_dir);
	for (size_t i = 0; i < n_collectors && !err; i++) {
		if (!(a->enabled & (1u << i)))
			continue;
		err = collectors[i].start(&a->cfg, &a->states[i]);
		/* One host of a fleet on an older kernel still serves the rest,
		 * unless the collector was asked for by name. */
		if (err == -EOPNOTSUPP && !a->chosen) {
			p_warn("collector '%s' cannot run on this kernel; serving the others",
			       collectors[i].name);
			err = 0;
		} else if (!err) {
			err = pins_add(a->pin_dir, collectors[i].name,
				       collectors[i].skeleton(a->states[i]));
		}
	}
	forget_kernel_btf();	/* loading is over; the agent stays small */
	if (!err && !running(a)) {
		p_err("none of the collectors can run on this kernel (see 'sockeye features')");
		err = -EOPNOTSUPP;
	}
	return err;
}

/* Serving needs CAP_BPF only: to read the maps where the kernel does not
 * let anyone with the fd do it (before Linux 6.5, with unprivileged BPF
 * off); and CAP_DAC_OVERRIDE for a textfile in a directory root does not
 * own. Everything else goes, from the bounding set too, so nothing this
 * process runs can get it back. */
static int drop_capabilities(bool textfile)
{
	uint64_t keep = (1ULL << CAP_BPF) | (textfile ? 1ULL << CAP_DAC_OVERRIDE : 0);
	struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = {
		{ .effective = (uint32_t)keep, .permitted = (uint32_t)keep },
		{ .effective = keep >> 32, .permitted = keep >> 32 },
	};

	for (int cap = 0; cap < 64; cap++)
		if (!(keep & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno == EINVAL)
			break;	/* past the last capability this kernel has */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (syscall(SYS_capset, &header, data)) {
		int err = -errno;

		p_err("cannot drop capabilities: %s", strerror(-err));
		return err;
	}
	return 0;
}

/* Tells systemd (Type=notify) that the programs are attached and the port
 * listens: one datagram to $NOTIFY_SOCKET, written here rather than with
 * libsystemd, which has no static library and would tie the binary to
 * hosts that have it. A name starting with '@' is an abstract socket. */
static void notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t len = path ? strlen(path) : 0;
	int fd;

	if (!len || len >= sizeof(addr.sun_path) || (path[0] != '/' && path[0] != '@'))
		return;
	memcpy(addr.sun_path, path, len);
	if (path[0] == '@')
		addr.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *)&addr,
		   offsetof(struct sockaddr_un, sun_path) + len) < 0)
		p_warn("cannot tell systemd the agent is ready: %s", strerror(errno));
	close(fd);
}

/* ---- the command ---- */

static void close_all(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

static void say_serving(const struct agent *a)
{
	char where[ENDPOINT_MAX_LISTEN * 64] = "";

	for (size_t i = 0; i < a->n_listen; i++)
		snprintf(where + strlen(where), sizeof(where) - strlen(where), "%s%s://%s",
			 i ? ", " : "", a->web.cert_pem ? "https" : "http", a->listen[i].text);
	p_info("serving /metrics on %s", where);
}

static int serve(struct agent *a, const int *fds)
{
	size_t len;
	char *body;
	int err = render(a, &body, &len);

	if (err) {
		close_all(fds, a->n_listen);
		return err;
	}
	if (a->textfile && (err = prom_write_file(a->textfile, body, len))) {
		p_err("cannot write the textfile %s: %s", a->textfile, strerror(-err));
		free(body);
		close_all(fds, a->n_listen);
		return err;
	}
	a->http = endpoint_start(fds, a->n_listen, &a->web);
	if (!a->http) {
		free(body);
		return -EIO;
	}
	endpoint_publish(a->http, body, len);
	err = drop_capabilities(a->textfile);
	if (!err) {
		say_serving(a);
		notify_ready();
		err = run_reports(a->common.interval, 0, refresh, a);
	}
	endpoint_stop(a->http);
	return err;
}

/* Every --listen socket, or -errno after saying which failed (and none
 * left open). */
static int listen_all(const struct agent *a, int *fds)
{
	for (size_t i = 0; i < a->n_listen; i++) {
		const struct listen_addr *l = &a->listen[i];

		fds[i] = endpoint_listen((const struct sockaddr *)&l->addr, l->len, l->any);
		if (fds[i] < 0) {
			int err = fds[i];

			p_err("cannot listen on %s: %s", l->text, strerror(-err));
			close_all(fds, i);
			return err;
		}
	}
	return 0;
}

static int run_agent(struct agent *a)
{
	int fds[ENDPOINT_MAX_LISTEN], lock_fd, err = listen_all(a, fds);

	if (err)
		return err;
	lock_fd = pins_claim(a->pin_dir);
	if (lock_fd < 0) {
		close_all(fds, a->n_listen);
		return lock_fd;
	}
	err = start_collectors(a);
	if (!err)
		err = serve(a, fds);
	else
		close_all(fds, a->n_listen);
	stop_collectors(a);
	rmdir(a->pin_dir);	/* fails, rightly, if someone else put something there */
	close(lock_fd);
	return err;
}

/* HOST (a name or an IPv4 address; "" for every address) or [IPV6] into
 * l; false when it is none of those. A name takes its first address. */
static bool listen_host(const char *host, bool bracketed, struct listen_addr *l)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&l->addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&l->addr;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG }, *res;

	memset(&l->addr, 0, sizeof(l->addr));
	l->any = !bracketed && !*host;
	if (l->any || (bracketed && inet_pton(AF_INET6, host, &in6->sin6_addr) == 1)) {
		in6->sin6_family = AF_INET6;
		l->len = sizeof(*in6);
		return true;
	}
	if (bracketed || strchr(host, ':'))	/* IPv6 without brackets: which colon is the port's? */
		return false;
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		l->len = sizeof(*in);
		return true;
	}
	if (getaddrinfo(host, NULL, &hints, &res))
		return false;
	memcpy(&l->addr, res->ai_addr, res->ai_addrlen);
	l->len = res->ai_addrlen;
	freeaddrinfo(res);
	return true;
}

/* ":PORT", "HOST:PORT" or "[IPV6]:PORT"; each adds a listening socket. */
static void parse_listen(const char *cmd, const char *arg, void *agent)
{
	struct agent *a = agent;
	const char *colon = strrchr(arg, ':');
	size_t hlen = colon ? (size_t)(colon - arg) : 0;
	bool bracketed = hlen >= 2 && arg[0] == '[' && arg[hlen - 1] == ']';
	struct listen_addr *l = &a->listen[a->n_listen];
	char host[256];
	unsigned long port = 0;
	char *end = NULL;

	if (a->n_listen == ENDPOINT_MAX_LISTEN)
		usage_error(cmd, "too many --listen: at most %d", ENDPOINT_MAX_LISTEN);
	if (colon && hlen < sizeof(host) && colon[1] >= '0' && colon[1] <= '9')
		port = strtoul(colon + 1, &end, 10);
	if (!port || port > 65535 || *end)
		usage_error(cmd, "invalid --listen '%s': expected :PORT, HOST:PORT or [IPV6]:PORT "
			    "with PORT 1 to 65535, as :" DEFAULT_PORT " or [::1]:" DEFAULT_PORT, arg);
	snprintf(host, sizeof(host), "%.*s", (int)(bracketed ? hlen - 2 : hlen), arg + bracketed);
	if (!listen_host(host, bracketed, l))
		usage_error(cmd, "invalid --listen '%s': '%s' is not %s", arg, host,
			    bracketed ? "an IPv6 address" : "an IPv4 address or a host name that resolves");
	((struct sockaddr_in *)&l->addr)->sin_port = htons(port);	/* where sin6_port is too */
	l->text = arg;
	a->n_listen++;
}

static void parse_collectors(const char *cmd, const char *arg, void *agent)
{
	struct agent *a = agent;
	char *copy = strdup(arg), *save = NULL, *name;
	uint32_t set = 0;

	if (!copy)
		usage_error("agent", "out of memory");
	for (name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		const struct collector *c = find_collector(name);

		if (!c) {
			char names[128], bad[64];

			/* The copy is freed first: usage_error() does not return. */
			snprintf(bad, sizeof(bad), "%s", name);
			free(copy);
			collector_names(names, sizeof(names), UINT32_MAX);
			usage_error(cmd, "unknown collector '%s': expected some of %s", bad, names);
		}
		set |= 1u << (c - collectors);
	}
	free(copy);
	if (!set)
		usage_error(cmd, "invalid --collectors '%s': name at least one", arg);
	a->enabled = set;
	a->chosen = true;
}

static void parse_pin_dir(const char *cmd, const char *arg, void *pin_dir)
{
	if (arg[0] != '/')
		usage_error(cmd, "invalid --pin-dir '%s': expected an absolute path in bpffs", arg);
	*(const char **)pin_dir = arg;
}

static void print_collectors(FILE *out)
{
	char names[128];

	collector_names(names, sizeof(names), default_collectors());
	fprintf(out, "\nCollectors (default: %s):\n", names);
	for (size_t i = 0; i < n_collectors; i++)
		fprintf(out, "  %-10s %s\n", collectors[i].name, collectors[i].shows);
}

static int cmd_agent(int argc, char **argv);

#define T struct agent
static const struct opt_def agent_options[] = {
	{ "listen", 0, "HOST:PORT", "where to serve (default " DEFAULT_LISTEN "): :PORT for "
	  "every address, IPv4 and IPv6; HOST an address or a name (its first address); IPv6 as "
	  "[::1]:PORT. Give it again for more sockets (at most 8)", OPT_CALL, .parse = parse_listen,
	  .many = true },
	{ "collectors", 0, "LIST", "the collectors to run, comma-separated", OPT_CALL,
	  .parse = parse_collectors },
	{ "max-series", 0, "N", "process names with series of their own (default 100, at most "
	  "10000): the first N seen, busiest first; the rest are counted as comm=\"other\". A "
	  "name without traffic for 60 refreshes gives up its place",
	  OPT_UINT, OPT_FIELD(T, cfg.max_series), .min = 1, .max = MAX_MAX_SERIES },
	{ "web-config", 0, "FILE", "TLS and basic authentication, in the Prometheus exporter-"
	  "toolkit's format (node_exporter's --web.config.file): tls_server_config with "
	  "cert_file, key_file and optionally client_ca_file and client_auth_type; "
	  "basic_auth_users, each user's bcrypt hash", OPT_STRING, OPT_FIELD(T, web_config_path) },
	{ "textfile", 0, "FILE", "also write the metrics to FILE every interval, atomically "
	  "(for node_exporter's textfile collector)", OPT_STRING, OPT_FIELD(T, textfile) },
	{ "pin-dir", 0, "DIR", "pin the maps under DIR, in bpffs (default " DEFAULT_PIN_DIR
	  "; bpffs is mounted if missing)", OPT_CALL, OPT_FIELD(T, pin_dir),
	  .parse = parse_pin_dir },
	OPTION_TLS_LIB(T, tls_libs),
	{ "http-status-codes", 0, NULL, "the http collector's status label is the code itself "
	  "(200, 404), the first --max-series codes seen, the rest \"other\"; without it, its "
	  "class (2xx, 4xx)", OPT_FLAG, OPT_FIELD(T, cfg.http_status_codes) },
	OPTION_INTERVAL(T, "refresh the metrics every TIME (default 5s: scrapes come every 15 s "
			"or more, and each refresh walks every map)"),
	OPTION_PORT(T),
	OPTION_FAMILY(T),
	OPTION_DURATION(T),
	OPTION_END,
};
#undef T

const struct command agent_command = {
	.name = "agent",
	.run = cmd_agent,
	.summary = "a daemon serving Prometheus metrics, with maps pinned for the others",
	.synopsis = "[OPTIONS]",
	.overhead =
	"The programs of its collectors, counting in the kernel; the "
	"exposition is made once per interval and served as it is. The "
	"syscalls and http collectors use syscall tracepoints (every system "
	"call of the host takes the slower traced path), and http uprobes on "
	"the TLS libraries' read and write calls. In the benchmark (2 "
	"vCPUs), with the default collectors a loop of connections kept 0.90 "
	"to 0.96 of its rate and bulk transfers about 0.96.",
	.description =
	"One daemon for a host: runs the collectors in one process and serves what\n"
	"they count as Prometheus metrics (text exposition 0.0.4) over HTTP:\n"
	"  GET /metrics   the metrics, refreshed every interval\n"
	"  GET /healthz   \"ok\" once the programs are attached\n"
	"Nothing else is served, and nothing served changes anything. The maps (and\n"
	"the flows collector's iterators) are pinned under the pin directory, where\n"
	"'sockeye top --from-agent' and 'sockeye flows --from-agent' read them.\n"
	"After attaching, the agent keeps only CAP_BPF (and CAP_DAC_OVERRIDE with\n"
	"--textfile). SIGTERM or Ctrl-C stops serving, detaches, removes the pins.\n",
	.print_details = print_collectors,
	.notes =
	"The filters apply in the kernel, to bytes and TCP connections (not to\n"
	"system calls, which are counted before there is a socket to match).\n",
	.examples =
	"  sockeye agent                                serve on " DEFAULT_LISTEN "\n"
	"  sockeye agent --listen :" DEFAULT_PORT " -i 15          for a Prometheus elsewhere\n"
	"  sockeye agent --collectors bytes,tcp,syscalls --max-series 20\n"
	"  sockeye agent --textfile /var/lib/prometheus/node-exporter/sockeye.prom\n",
	.options = agent_options,
};

/* An option of the http collector's, given without it, is an error. */
static void need_http_collector(const struct agent *a, const char *option)
{
	if (!(a->enabled & 1u << (find_collector("http") - collectors)))
		usage_error("agent", "%s goes with the http collector (--collectors ...,http)",
			    option);
}

static int cmd_agent(int argc, char **argv)
{
	struct agent a = {
		.common.interval = DEFAULT_INTERVAL,
		.cfg.max_series = DEFAULT_MAX_SERIES,
		.pin_dir = DEFAULT_PIN_DIR,
	};
	int err;

	a.enabled = default_collectors();
	parse_options(&agent_command, argc, argv, &a);
	if (!a.n_listen)
		parse_listen("agent", DEFAULT_LISTEN, &a);
	if (a.tls_libs.n) {
		need_http_collector(&a, "--tls-lib");
		a.cfg.tls_libs = &a.tls_libs;
	}
	if (a.cfg.http_status_codes)
		need_http_collector(&a, "--http-status-codes");
	if (a.web_config_path)
		web_config_load("agent", a.web_config_path, &a.web);
	a.cfg.filters = a.common.filters;
	if (!check_environment())
		return EXIT_FAIL;
	a.states = calloc(n_collectors, sizeof(*a.states));
	a.health = calloc(n_collectors, sizeof(*a.health));
	if (!a.states || !a.health) {
		free(a.states);
		free(a.health);
		p_err("out of memory");
		return EXIT_FAIL;
	}
	run_start(a.common.duration);
	err = run_agent(&a);
	web_config_free(&a.web);
	free(a.health);
	free(a.states);
	return err ? EXIT_FAIL : EXIT_OK;
}
