// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye agent` as a user runs it: the real binary on a free port with a
 * pin directory of its own, scraped over real HTTP, by Debian's Prometheus
 * and by hand. Children with known names make known connections and send
 * known bytes through a port the agent is told to watch (--port), so other
 * traffic on the machine does not count. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <sched.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "sockeye.h"
#include "version.h"
#include "test.h"
#include "helpers.h"
#include "probe.h"
#include "tls_server.h"
#include "flows_session.h"

#define PROMETHEUS "/usr/bin/prometheus"
#define PROMTOOL "/usr/bin/promtool"

/* ---- HTTP by hand ---- */

/* Sends request whole and reads the answer to the end (the agent closes
 * after each); returns the status, or -1. */
static int http_exchange(int family, uint16_t port, const char *request, char *out, size_t len)
{
	int fd = connect_to(family, SOCK_STREAM, port), status = -1;
	size_t used = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	if (write(fd, request, strlen(request)) == (ssize_t)strlen(request))
		while (used < len - 1 && (n = read(fd, out + used, len - 1 - used)) > 0)
			used += n;
	out[used] = '\0';
	close(fd);
	sscanf(out, "HTTP/1.%*d %d", &status);
	return status;
}

static int http_get_on(int family, uint16_t port, const char *path, char *out, size_t len)
{
	char request[1536];

	snprintf(request, sizeof(request), "GET %s HTTP/1.1\r\nHost: localhost\r\n"
		 "Connection: close\r\n\r\n", path);
	return http_exchange(family, port, request, out, len);
}

static int http_get(uint16_t port, const char *path, char *out, size_t len)
{
	return http_get_on(AF_INET, port, path, out, len);
}

static const char *body_of(const char *response)
{
	const char *b = strstr(response, "\r\n\r\n");

	return b ? b + 4 : "";
}

/* The value of one series in an exposition ("name{labels}" or a bare
 * name), as written, or NULL. */
static const char *sample_text(const char *body, const char *series)
{
	size_t len = strlen(series);

	for (const char *line = body; line && *line; line = strchr(line, '\n'), line += !!line)
		if (!strncmp(line, series, len) && line[len] == ' ')
			return line + len + 1;
	return NULL;
}

/* A series' value as an integer, or -1. */
static long long series_value(const char *body, const char *series)
{
	const char *value = sample_text(body, series);

	return value ? strtoll(value, NULL, 10) : -1;
}

/* A series' value as a double (seconds), or -1. */
static double sample_double(const char *body, const char *series)
{
	const char *value = sample_text(body, series);

	return value ? strtod(value, NULL) : -1;
}

/* ---- the agent ---- */

struct agent {
	pid_t pid;
	uint32_t programs_after;	/* the last program id before it started */
	int family;
	uint16_t port;
	char pin_dir[64], err_path[64], port_arg[32];
};

static bool healthy(const struct agent *a)
{
	char buf[1024];

	return http_get_on(a->family, a->port, "/healthz", buf, sizeof(buf)) == 200;
}

/* An agent stopped by kill -9 leaves its pins: the tests remove them. */
static void remove_pins(const struct agent *a)
{
	char *argv[] = { "rm", "-rf", (char *)a->pin_dir, NULL };
	char out[64], err[64];

	run_capture(argv, out, sizeof(out), err, sizeof(err));
	unlink(a->err_path);
}

/* Whether an agent serves, once attached: ready(a, ctx). */
typedef bool (*ready_fn)(const struct agent *a, const void *ctx);

static bool healthz_answers(const struct agent *a, const void *ctx)
{
	return healthy(a);
}

/* Starts `sockeye agent --listen LOOPBACK:PORT --pin-dir DIR extra...`,
 * with -i 0.2 unless extra gives its own, and waits until it is ready
 * (/healthz answers, which it does once attached, unless ready says
 * otherwise). */
static bool agent_start_ready(struct agent *a, int family, uint16_t port, int n,
			      const char *const extra[], ready_fn ready, const void *ctx)
{
	static int serial;
	char *argv[24] = { (char *)sockeye_path(), "agent", "--listen", a->port_arg,
			   "--pin-dir", a->pin_dir };
	bool interval_given = false;
	int argc = 6;

	a->family = family;
	a->port = port;
	snprintf(a->port_arg, sizeof(a->port_arg), family == AF_INET6 ? "[::1]:%u" :
		 "127.0.0.1:%u", a->port);
	snprintf(a->pin_dir, sizeof(a->pin_dir), "/sys/fs/bpf/sockeye-test-%d-%d", getpid(), serial++);
	snprintf(a->err_path, sizeof(a->err_path), "/tmp/sockeye-test-agent-%d.err", getpid());
	for (int i = 0; i < n; i++) {
		argv[argc++] = (char *)extra[i];
		interval_given |= !strcmp(extra[i], "-i");
	}
	if (!interval_given) {
		argv[argc++] = "-i";
		argv[argc++] = "0.2";
	}
	a->programs_after = last_program_id();
	a->pid = spawn_logged(argv, "/dev/null", a->err_path);
	for (int waited = 0; waited < 5000; waited += 20) {
		if (ready(a, ctx))
			return true;
		sleep_ms(20);
	}
	/* Gone, or never serving: nothing of it may outlive the test. */
	kill(a->pid, SIGKILL);
	wait_status(a->pid);
	remove_pins(a);
	return false;
}

static bool agent_start_at(struct agent *a, int family, uint16_t port, int n,
			   const char *const extra[])
{
	return agent_start_ready(a, family, port, n, extra, healthz_answers, NULL);
}

static bool agent_start_on(struct agent *a, int family, int n, const char *const extra[])
{
	return agent_start_at(a, family, free_port(), n, extra);
}

static bool agent_start(struct agent *a, int n, const char *const extra[])
{
	return agent_start_on(a, AF_INET, n, extra);
}

/* Signals the agent and returns its exit status. */
static int agent_stop(struct agent *a, int sig)
{
	kill(a->pid, sig);
	return wait_status(a->pid);
}

static void agent_stderr(const struct agent *a, char *buf, size_t len)
{
	int fd = open(a->err_path, O_RDONLY);
	ssize_t n = fd < 0 ? 0 : read(fd, buf, len - 1);

	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
}

static bool pinned(const struct agent *a, const char *sub, const char *map)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s/%s", a->pin_dir, sub, map);
	return !access(path, F_OK);
}

/* Waits (up to 5 s) for the agent's metrics to show series at value or
 * more (counters only grow); returns the last value seen. */
static long long wait_for_series(uint16_t port, const char *series, long long value)
{
	static char buf[1 << 18];
	long long got = -1;

	for (int waited = 0; waited < 5000 && got < value; waited += 100) {
		got = http_get(port, "/metrics", buf, sizeof(buf)) == 200 ?
		      series_value(body_of(buf), series) : -1;
		if (got < value)
			sleep_ms(100);
	}
	return got;
}

/* ---- traffic ---- */

/* A listening socket that no child sockeye inherits. */
static int private_listener(uint16_t *port)
{
	int fd = bound_socket(AF_INET, SOCK_STREAM, true, port);

	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}

/* In a child named comm: n connections to listener's port, each moving
 * bytes from the connecting side to the accepted one. With refuse, the
 * listener is then closed, here and in the child, and the child makes one
 * connect that must be refused. */
static pid_t connect_and_send(const char *comm, int listener, uint16_t port, int n, size_t bytes,
			      bool refuse)
{
	int closed[2];
	pid_t pid;

	if (pipe(closed))
		return -1;
	pid = fork();
	if (pid) {
		if (refuse)
			close(listener);
		close(closed[0]);
		close(closed[1]);	/* the child's read returns: no copy left here */
		return pid;
	}
	prctl(PR_SET_NAME, comm);
	close(closed[1]);
	for (int i = 0; i < n; i++) {
		int cli = connect_to(AF_INET, SOCK_STREAM, port), acc = accept(listener, NULL, NULL);

		if (cli < 0 || acc < 0 || !send_all(cli, bytes) || !recv_exactly(acc, bytes))
			_exit(1);
		close(cli);
		close(acc);
	}
	if (!refuse)
		_exit(0);
	close(listener);
	read(closed[0], &(char){ 0 }, 1);
	_exit(connect_to(AF_INET, SOCK_STREAM, port) < 0 && errno == ECONNREFUSED ? 0 : 2);
}

/* ---- the exposition's shape ---- */

/* Every sample belongs to the family of the TYPE line before it (with a
 * histogram's _bucket, _sum and _count), and every TYPE line has its HELP
 * line just before; no family is declared twice. */
static bool check_families(const char *body)
{
	char family[128] = "", type[16] = "", help[128] = "", seen[4096] = " ", name[128];
	bool ok = true;

	for (const char *line = body; *line; line = strchr(line, '\n') + 1) {
		if (sscanf(line, "# HELP %127s", help) == 1)
			continue;
		if (sscanf(line, "# TYPE %127s %15s", family, type) == 2) {
			char key[132];

			snprintf(key, sizeof(key), " %s ", family);
			ok &= ASSERT_STR_EQ(help, family, "HELP before TYPE");
			ok &= ASSERT_TRUE(!strstr(seen, key), family);
			strncat(seen, key + 1, sizeof(seen) - strlen(seen) - 1);
			continue;
		}
		sscanf(line, "%127[^{ ]", name);
		if (strcmp(name, family)) {
			size_t fl = strlen(family);
			bool hist_part = !strcmp(type, "histogram") && !strncmp(name, family, fl) &&
					 (!strcmp(name + fl, "_bucket") || !strcmp(name + fl, "_sum") ||
					  !strcmp(name + fl, "_count"));

			ok &= ASSERT_TRUE(hist_part, name);
		}
	}
	return ok;
}

static int promtool_check(const char *body, char *out, size_t len)
{
	char path[] = "/tmp/sockeye-test-metricsXXXXXX", cmd[128], err[4096];
	int fd = mkstemp(path), status;
	char *argv[] = { "sh", "-c", cmd, NULL };

	if (write(fd, body, strlen(body)) < 0)
		return -1;
	close(fd);
	snprintf(cmd, sizeof(cmd), PROMTOOL " check metrics < %s 2>&1", path);
	status = run_capture(argv, out, len, err, sizeof(err));
	unlink(path);
	return status;
}

/* The families' shape, and what promtool thinks of it. */
static void check_exposition(const char *body)
{
	char out[8192] = "";

	check_families(body);
	if (ASSERT_TRUE(!access(PROMTOOL, X_OK), "promtool installed (scripts/deps.sh)"))
		ASSERT_EQ(promtool_check(body, out, sizeof(out)), 0, out);
	ASSERT_STR_EQ(out, "", "promtool check metrics says nothing");
}

KTEST(agent_busy_port_and_busy_pin_dir_exit_1)
{
	uint16_t port;
	int fd = private_listener(&port);
	char listen[32], out[256], err[1024];
	char *argv[] = { (char *)sockeye_path(), "agent", "--listen", listen, NULL };
	struct agent a;

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	ASSERT_EQ(run_capture(argv, out, sizeof(out), err, sizeof(err)), 1, "busy port: exit 1");
	ASSERT_HAS(err, "cannot listen on 127.0.0.1:", "says why");
	ASSERT_HAS(err, "Address already in use", "with the cause");
	close(fd);
	if (!ASSERT_TRUE(agent_start(&a, 0, NULL), "first agent up"))
		return;
	{
		char *second[] = { (char *)sockeye_path(), "agent", "--listen", listen,
				   "--pin-dir", a.pin_dir, NULL };

		snprintf(listen, sizeof(listen), "127.0.0.1:%u", free_port());
		ASSERT_EQ(run_capture(second, out, sizeof(out), err, sizeof(err)), 1,
			  "a second agent on the same pins: exit 1");
		ASSERT_HAS(err, "another sockeye agent is running", "says why");
	}
	ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "first agent exits 0");
	remove_pins(&a);
}

/* The flows collector sends no records, so its ring buffer is one page,
 * not flows' 4 MiB, which the agent mapped twice: half its memory. */
KTEST(agent_flows_ring_buffer_is_one_page)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[128];
	struct agent a;
	int fd;

	if (!ASSERT_TRUE(agent_start(&a, 0, NULL), "agent up"))
		return;
	snprintf(path, sizeof(path), "%s/flows/records", a.pin_dir);
	fd = bpf_obj_get(path);
	if (ASSERT_TRUE(fd >= 0, "flows/records pinned")) {
		ASSERT_EQ(bpf_obj_get_info_by_fd(fd, &info, &len), 0, "its info");
		ASSERT_EQ(info.max_entries, (__u32)getpagesize(), "one page");
		close(fd);
	}
	ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "SIGTERM: exit 0");
	remove_pins(&a);
}

/* The sum of the values of a family's samples ("name{...} value" lines). */
static uint64_t family_sum(const char *body, const char *name)
{
	size_t len = strlen(name);
	uint64_t sum = 0;

	for (const char *line = body; line && *line; line = strchr(line, '\n'), line += !!line)
		if (!strncmp(line, name, len) && line[len] == '{')
			sum += strtoull(strchr(line, ' ') + 1, NULL, 10);
	return sum;
}

KTEST(agent_serves_metrics_healthz_and_nothing_else)
{
	static char buf[1 << 18];
	uint64_t skipped;
	struct agent a;

	if (!ASSERT_TRUE(agent_start(&a, 0, NULL), "agent up"))
		return;
	skipped = skipped_runs_of(a.pid);
	ASSERT_EQ(http_get(a.port, "/metrics", buf, sizeof(buf)), 200, "/metrics");
	/* Later skips can only add to it. */
	ASSERT_TRUE(family_sum(body_of(buf), "sockeye_lost_events_total") >= skipped,
		    "the runs the kernel skipped are lost events");
	ASSERT_HAS(buf, "Content-Type: text/plain; version=0.0.4", "exposition 0.0.4");
	ASSERT_HAS(body_of(buf), "sockeye_build_info{version=\"" SOCKEYE_VERSION "\",revision=\""
		   SOCKEYE_REVISION "\",libbpf=\"v", "build info");
	ASSERT_HAS(body_of(buf), "sockeye_lost_events_total{collector=\"bytes\"}", "lost events");
	ASSERT_HAS(body_of(buf), "sockeye_tcp_connect_duration_seconds_bucket{le=\"+Inf\"}",
		   "histogram");
	check_exposition(body_of(buf));
	ASSERT_EQ(http_get(a.port, "/healthz", buf, sizeof(buf)), 200, "/healthz");
	ASSERT_STR_EQ(body_of(buf), "ok\n", "/healthz body");
	ASSERT_EQ(http_get(a.port, "/", buf, sizeof(buf)), 404, "/ is not served");
	ASSERT_EQ(http_get(a.port, "/metrics/x", buf, sizeof(buf)), 404, "nor /metrics/x");
	ASSERT_EQ(http_exchange(AF_INET, a.port, "POST /metrics HTTP/1.1\r\nHost: x\r\n"
				"Content-Length: 0\r\n\r\n", buf, sizeof(buf)), 405, "POST: 405");
	ASSERT_HAS(buf, "Allow: GET, HEAD", "405 says what is allowed");
	ASSERT_TRUE(http_exchange(AF_INET, a.port, "NOT AN HTTP REQUEST\r\n\r\n", buf,
				  sizeof(buf)) >= 400, "a malformed request gets an error status");
	ASSERT_EQ(http_get(a.port, "/metrics", buf, sizeof(buf)), 200, "and the agent serves on");
	ASSERT_EQ(agent_stop(&a, SIGINT), 0, "Ctrl-C: exit 0");
	remove_pins(&a);
	if (!ASSERT_TRUE(agent_start_on(&a, AF_INET6, 0, NULL), "agent up on [::1]"))
		return;
	ASSERT_EQ(http_get_on(AF_INET6, a.port, "/metrics", buf, sizeof(buf)), 200,
		  "/metrics on [::1]");
	ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "SIGTERM: exit 0");
	remove_pins(&a);
}

/* The capability lines of a process's status. */
static void capabilities(pid_t pid, char *buf, size_t len)
{
	char path[32], line[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	buf[0] = '\0';
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "Cap", 3))
			strncat(buf, line, len - strlen(buf) - 1);
	if (f)
		fclose(f);
}

KTEST(agent_keeps_cap_bpf_only_pins_and_cleans_up)
{
	char err[2048];
	struct agent a, b;

	if (!ASSERT_TRUE(agent_start(&a, 0, NULL), "agent up"))
		return;
	ASSERT_TRUE(pinned(&a, "bytes", "traffic"), "bytes/traffic pinned");
	ASSERT_TRUE(pinned(&a, "tcp", "latency_hist"), "tcp/latency_hist pinned");
	ASSERT_TRUE(wait_for_attach("agent_send|agent_s4_fx|agent_s4_kp", a.programs_after, 1000) &&
		    wait_for_attach("agent_tcp_state", a.programs_after, 1000),
		    "the agent's programs are attached");
	capabilities(a.pid, err, sizeof(err));
	ASSERT_HAS(err, "CapEff:\t0000008000000000", "serving with CAP_BPF only");
	ASSERT_HAS(err, "CapPrm:\t0000008000000000", "nothing else permitted");
	ASSERT_HAS(err, "CapBnd:\t0000008000000000", "nor in the bounding set");
	ASSERT_EQ(agent_stop(&a, SIGKILL), 128 + SIGKILL, "killed with -9");
	ASSERT_TRUE(pinned(&a, "bytes", "traffic"), "a killed agent leaves its pins");
	{
		char *top[] = { (char *)sockeye_path(), "top", "--from-agent", "--pin-dir", a.pin_dir,
				"-b", "-c", "1", NULL };
		char out[256];

		ASSERT_EQ(run_capture(top, out, sizeof(out), err, sizeof(err)), 1,
			  "top --from-agent on a dead agent's pins: exit 1");
		ASSERT_HAS(err, "no agent is running", "says why");
	}

	/* The next one on the same directory takes them over. */
	b = a;
	{
		char *argv[] = { (char *)sockeye_path(), "agent", "--listen", b.port_arg,
				 "--pin-dir", b.pin_dir, "-i", "0.2", NULL };

		b.pid = spawn_logged(argv, "/dev/null", b.err_path);
		for (int waited = 0; waited < 5000 && !healthy(&b); waited += 20)
			sleep_ms(20);
	}
	ASSERT_TRUE(healthy(&b), "a new agent starts cleanly");
	ASSERT_TRUE(pinned(&b, "bytes", "traffic"), "and pins again");
	ASSERT_EQ(agent_stop(&b, SIGTERM), 0, "SIGTERM: exit 0");
	agent_stderr(&b, err, sizeof(err));
	ASSERT_HAS(err, "removed the stale pins", "says it replaced the stale pins");
	ASSERT_TRUE(access(b.pin_dir, F_OK) && errno == ENOENT, "no pin directory left");
	ASSERT_TRUE(wait_for_unload("agent_send|agent_recv|agent_tcp_state", a.programs_after, 2000),
		    "no program left");
	remove_pins(&b);
}

enum { SCRAPES = 200 };

/* SCRAPES scrapes at once; returns how many came back whole, and in
 * *elapsed_ns how long they all took. */
static int concurrent_scrapes(uint16_t port, uint64_t *elapsed_ns)
{
	static const char request[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	static char buf[1 << 18];
	uint64_t start = monotonic_ns();
	int fds[SCRAPES], ok = 0;

	for (int i = 0; i < SCRAPES; i++) {
		fds[i] = connect_to(AF_INET, SOCK_STREAM, port);
		if (fds[i] >= 0 && write(fds[i], request, sizeof(request) - 1) < 0)
			close(fds[i]), fds[i] = -1;
	}
	for (int i = 0; i < SCRAPES; i++) {
		size_t used = 0;
		ssize_t n;

		while (fds[i] >= 0 && (n = read(fds[i], buf + used, sizeof(buf) - 1 - used)) > 0)
			used += n;
		buf[used] = '\0';
		ok += strstr(buf, "HTTP/1.1 200") == buf && strstr(buf, "sockeye_lost_events_total{");
		if (fds[i] >= 0)
			close(fds[i]);
	}
	*elapsed_ns = monotonic_ns() - start;
	return ok;
}

/* 200 scrapes at once, all answered in full, while a client that sent
 * half a request holds its connection open. */
KTEST(agent_slow_client_and_200_concurrent_scrapes)
{
	uint64_t alone_ns, beside_slow_ns;
	struct agent a;
	int slow;

	if (!ASSERT_TRUE(agent_start(&a, 0, NULL), "agent up"))
		return;
	ASSERT_EQ(concurrent_scrapes(a.port, &alone_ns), SCRAPES, "complete scrapes");
	slow = connect_to(AF_INET, SOCK_STREAM, a.port);
	ASSERT_TRUE(write(slow, "GET /metr", 9) == 9, "half a request sent");
	ASSERT_EQ(concurrent_scrapes(a.port, &beside_slow_ns), SCRAPES,
		  "complete scrapes beside a stalled client");
	/* The half request is cut off after 5 s; the scrapes beside it did not
	 * wait for that (compared with the same scrapes alone, so that a slow
	 * machine, an emulated guest, does not matter). */
	ASSERT_TRUE(beside_slow_ns < alone_ns + 3000000000ULL, "the scrapes did not wait for it");
	close(slow);
	ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "exit 0");
	remove_pins(&a);
}

static ssize_t read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? 0 : read(fd, buf, len - 1);

	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	return n;
}

KTEST(agent_textfile_equals_a_scrape_and_follows_traffic)
{
	char path[64], tmp[80], port_arg[8];
	static char buf[1 << 18], file[1 << 18];
	const char *const still[] = { "--textfile", path, "-i", "3600" };
	const char *const busy[] = { "--textfile", path, "--port", port_arg };
	struct agent a;
	uint16_t port;
	int listener = private_listener(&port);

	snprintf(path, sizeof(path), "/tmp/sockeye-test-%d.prom", getpid());
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	snprintf(port_arg, sizeof(port_arg), "%u", port);
	/* A long interval: the textfile and /metrics hold the start's exposition. */
	if (ASSERT_TRUE(agent_start(&a, 4, still), "agent up")) {
		ASSERT_EQ(http_get(a.port, "/metrics", buf, sizeof(buf)), 200, "/metrics");
		ASSERT_TRUE(read_file(path, file, sizeof(file)) > 0, "textfile written");
		ASSERT_STR_EQ(file, body_of(buf), "textfile = scrape");
		ASSERT_TRUE(access(tmp, F_OK), "no temporary file left");
		ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "exit 0");
		remove_pins(&a);
	}
	/* Every 0.2 s: a transfer shows up in the file. */
	if (ASSERT_TRUE(agent_start(&a, 4, busy), "agent up")) {
		ASSERT_EQ(wait_status(connect_and_send("agt-file", listener, port, 1, 777, false)), 0,
			  "child");
		for (int waited = 0; waited < 5000 && series_value(file, "sockeye_process_sent_bytes_"
		     "total{comm=\"agt-file\",protocol=\"tcp\"}") != 777; waited += 100) {
			sleep_ms(100);
			read_file(path, file, sizeof(file));
		}
		ASSERT_EQ(series_value(file, "sockeye_process_sent_bytes_total{comm=\"agt-file\","
				       "protocol=\"tcp\"}"), 777, "the textfile follows");
		ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "exit 0");
		remove_pins(&a);
	}
	close(listener);
	unlink(path);
}

/* A child sends a known number of bytes and stays; top --from-agent and
 * the agent's metrics must both show them. */
KTEST(agent_top_from_agent_shows_the_agents_bytes)
{
	static char out[1 << 16], err[1024], series[128], port_arg[8], pid_key[32];
	enum { BYTES = 123457 };
	int ready[2], hold[2], listener;
	char *line;
	uint16_t port;
	struct agent a;
	pid_t child;
	const char *const extra[] = { "--port", port_arg };

	listener = private_listener(&port);
	snprintf(port_arg, sizeof(port_arg), "%u", port);
	if (!ASSERT_TRUE(agent_start(&a, 2, extra), "agent up"))
		return;
	if (pipe(ready) || pipe(hold))
		return;
	child = fork();
	if (child == 0) {
		int cli = connect_to(AF_INET, SOCK_STREAM, port), acc = accept(listener, NULL, NULL);
		char c;

		prctl(PR_SET_NAME, "agt-top");
		send_all(cli, BYTES);
		recv_exactly(acc, BYTES);
		c = write(ready[1], "r", 1) == 1;
		_exit(read(hold[0], &c, 1) == 1 ? 0 : 1);
	}
	close(listener);
	read(ready[0], &(char){ 0 }, 1);
	{
		char *argv[] = { (char *)sockeye_path(), "top", "--from-agent", "--pin-dir", a.pin_dir,
				 "--json", "-c", "1", "-i", "0.1", NULL };

		ASSERT_EQ(run_capture(argv, out, sizeof(out), err, sizeof(err)), 0, err);
	}
	snprintf(pid_key, sizeof(pid_key), "\"pid\":%d,", child);
	line = strstr(out, pid_key);
	if (ASSERT_TRUE(line != NULL, "top shows the child")) {
		ASSERT_EQ(json_number(line, "sent_bytes"), BYTES, "top: bytes sent");
		ASSERT_EQ(json_number(line, "recv_bytes"), BYTES, "top: bytes received");
	}
	snprintf(series, sizeof(series),
		 "sockeye_process_sent_bytes_total{comm=\"agt-top\",protocol=\"tcp\"}");
	ASSERT_EQ(wait_for_series(a.port, series, BYTES), BYTES, "agent: bytes sent");
	write(hold[1], "q", 1);
	ASSERT_EQ(wait_status(child), 0, "child done");
	ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "exit 0");
	remove_pins(&a);
}

/* The line of out that holds "pid":pid and needle, or NULL. */
static const char *line_with(const char *out, pid_t pid, const char *needle)
{
	static char line[4096];
	char key[32];

	snprintf(key, sizeof(key), "\"pid\":%d,", pid);
	for (const char *at = out; *at;) {
		const char *end = strchr(at, '\n') ? strchr(at, '\n') : at + strlen(at);
		size_t len = end - at < (long)sizeof(line) - 1 ? (size_t)(end - at) : sizeof(line) - 1;

		memcpy(line, at, len);
		line[len] = '\0';
		if (strstr(line, key) && strstr(line, needle))
			return line;
		at = *end ? end + 1 : end;
	}
	return NULL;
}

/* Starts `sockeye top --json ... args` writing to out_path, and waits for
 * its header (it is counting from then on). */
static pid_t top_started(char **argv, const char *out_path, const char *err_path, char *buf,
			 size_t len)
{
	pid_t pid = spawn_logged(argv, out_path, err_path);

	for (int waited = 0; waited < 10000 && !strstr(buf, "\"type\":\"header\""); waited += 50) {
		sleep_ms(50);
		read_file(out_path, buf, len);
	}
	return pid;
}

/* Short-lived processes, each sending a known number of bytes and exiting,
 * under top --from-agent and a direct top side by side: both show every
 * one ended with its exact bytes. A process that sent before top started
 * and is quiet since shows no rate, in the first snapshot too (not its
 * bytes since the agent's start over one interval), and the total since
 * the start never goes down. */
KTEST(agent_top_from_agent_keeps_every_ended_process)
{
	enum { CHILDREN = 6, EARLY = 2000000 };
	static char out[2][1 << 18];
	char port_arg[8], paths[2][2][64];
	const char *const extra[] = { "--port", port_arg };
	pid_t tops[2], children[CHILDREN], early;
	int listener, hold[2];
	uint16_t port;
	struct agent a;

	listener = private_listener(&port);
	snprintf(port_arg, sizeof(port_arg), "%u", port);
	if (!ASSERT_TRUE(agent_start(&a, 2, extra), "agent up") || pipe(hold))
		return;
	early = fork();
	if (early == 0) {
		int cli = connect_to(AF_INET, SOCK_STREAM, port), acc = accept(listener, NULL, NULL);

		_exit(send_all(cli, EARLY) && recv_exactly(acc, EARLY) &&
		      read(hold[0], &(char){ 0 }, 1) == 1 ? 0 : 1);
	}
	ASSERT_EQ(wait_for_series(a.port, "sockeye_process_sent_bytes_total{comm=\"sockeye-tests\","
				  "protocol=\"tcp\"}", EARLY), EARLY, "the agent counted the early bytes");
	for (int t = 0; t < 2; t++) {
		char *argv[] = { (char *)sockeye_path(), "top", "--json", "-i", "0.5",
				 "--from-agent", "--pin-dir", a.pin_dir, NULL };

		if (t) {	/* direct: its own programs, the agent's filter */
			argv[5] = "--port";
			argv[6] = port_arg;
			argv[7] = NULL;
		}
		snprintf(paths[t][0], sizeof(paths[t][0]), "/tmp/sockeye-test-top%d-%d.out", t, getpid());
		snprintf(paths[t][1], sizeof(paths[t][1]), "/tmp/sockeye-test-top%d-%d.err", t, getpid());
		out[t][0] = '\0';
		tops[t] = top_started(argv, paths[t][0], paths[t][1], out[t], sizeof(out[t]));
	}
	for (int i = 0; i < CHILDREN; i++) {
		children[i] = connect_and_send("agt-short", listener, port, 1, 100000 + 1111 * i, false);
		ASSERT_EQ(wait_status(children[i]), 0, "child done");
		sleep_ms(150);
	}
	/* Each top runs until it showed the last child ended, however slow
	 * the machine (each interval is a report). */
	for (int t = 0; t < 2; t++) {
		for (int waited = 0; waited < 30000; waited += 100) {
			read_file(paths[t][0], out[t], sizeof(out[t]));
			if (line_with(out[t], children[CHILDREN - 1], "\"ended\":true"))
				break;
			sleep_ms(100);
		}
		kill(tops[t], SIGINT);
	}
	for (int t = 0; t < 2; t++) {
		const char *name = t ? "direct top" : "top --from-agent";
		const char *row, *total;
		uint64_t last_total = 0;

		ASSERT_EQ(wait_status(tops[t]), 0, name);
		read_file(paths[t][0], out[t], sizeof(out[t]));
		for (int i = 0; i < CHILDREN; i++) {
			row = line_with(out[t], children[i], "\"ended\":true");
			if (!ASSERT_TRUE(row != NULL, name))
				continue;
			ASSERT_EQ(json_number(row, "sent_bytes"), 100000 + 1111 * i, name);
			ASSERT_EQ(json_number(row, "recv_bytes"), 100000 + 1111 * i, name);
		}
		if (!t) {
			row = line_with(out[t], early, "\"type\":\"process\"");
			if (ASSERT_TRUE(row != NULL, "the early process shows"))
				ASSERT_EQ(json_number(row, "sent_per_s"), 0,
					  "no rate from bytes sent before the first read");
		}
		for (total = strstr(out[t], "\"type\":\"total\""); total;
		     total = strstr(total + 1, "\"type\":\"total\"")) {
			ASSERT_TRUE(json_number(total, "sent_bytes") >= last_total,
				    "the total since the start does not go down");
			last_total = json_number(total, "sent_bytes");
		}
		unlink(paths[t][0]);
		unlink(paths[t][1]);
	}
	write(hold[1], "q", 1);
	ASSERT_EQ(wait_status(early), 0, "early child done");
	ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "exit 0");
	remove_pins(&a);
	close(listener);
}

/* The flow object of the connection from lport to rport in flows' JSON
 * Lines, or NULL. */
static const char *flow_line(const char *out, uint16_t lport, uint16_t rport)
{
	char key[48];

	snprintf(key, sizeof(key), "\"lport\":%u,", lport);
	for (const char *at = strstr(out, key); at; at = strstr(at + 1, key)) {
		const char *line = at;

		while (line > out && line[-1] != '\n')
			line--;
		if (json_number(line, "rport") == rport)
			return line;
	}
	return NULL;
}

static void check_flow(const char *line, const char *role, uint64_t acked,
		       uint64_t received)
{
	char comm[16] = {}, buf[32];

	if (!ASSERT_TRUE(line != NULL, "a row for the connection"))
		return;
	prctl(PR_GET_NAME, comm);
	ASSERT_EQ(json_number(line, "pid"), getpid(), "owner pid");
	ASSERT_STR_EQ(json_string(line, "comm", buf, sizeof(buf)), comm, "owner comm");
	ASSERT_STR_EQ(json_string(line, "state", buf, sizeof(buf)), "ESTABLISHED", "state");
	ASSERT_STR_EQ(json_string(line, "role", buf, sizeof(buf)), role, "role");
	ASSERT_EQ(json_number(line, "bytes_acked"), acked, "bytes acked");
	ASSERT_EQ(json_number(line, "bytes_received"), received, "bytes received");
	ASSERT_EQ(json_number(line, "total_retrans"), 0, "no retransmit on loopback");
}

/* Entries of /proc/PID/fd; with kind (a readlink target such as
 * "anon_inode:bpf_link"), only those. */
static int fds_of(pid_t pid, const char *kind, int *fds, int max)
{
	char dir[32], path[300], target[64];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		ssize_t len;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		target[len > 0 ? len : 0] = '\0';
		if (kind && strcmp(target, kind))
			continue;
		if (fds && n < max)
			fds[n] = atoi(e->d_name);
		n++;
	}
	if (d)
		closedir(d);
	return n;
}

/* How many BPF programs a process holds open: a command that loaded its
 * own holds one per program while it runs. Unlike a count of programs by
 * name, other BPF users of the host cannot change it. */
static int programs_held(pid_t pid)
{
	return fds_of(pid, "anon_inode:bpf-prog", NULL, 0);
}

/* A connection opened while the agent runs (with --port, the only one it
 * sees) moves known bytes each way; flows --from-agent shows both ends
 * with their owner and exact bytes, and loads no program of its own. */
KTEST(agent_flows_from_agent_shows_the_connections)
{
	enum { UP = 54321, DOWN = 12345 };
	static char out[1 << 16], err[1024];
	char port_arg[8], out_path[64], err_path[64];
	const char *const extra[] = { "--port", port_arg };
	int listener, cli, acc, held = 0, status;
	uint16_t port, cport;
	struct agent a;
	pid_t flows;

	listener = private_listener(&port);
	snprintf(port_arg, sizeof(port_arg), "%u", port);
	if (!ASSERT_TRUE(agent_start(&a, 2, extra), "agent up"))
		return;
	cli = connect_to(AF_INET, SOCK_STREAM, port);
	acc = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	fcntl(cli, F_SETFD, FD_CLOEXEC);	/* the owner is this process alone */
	cport = local_port(cli);
	ASSERT_TRUE(send_all(cli, UP) && recv_exactly(acc, UP), "bytes up");
	ASSERT_TRUE(send_all(acc, DOWN) && recv_exactly(cli, DOWN), "bytes down");
	sleep_ms(50);	/* the last ACKs */
	snprintf(out_path, sizeof(out_path), "/tmp/sockeye-test-flows-%d.out", getpid());
	snprintf(err_path, sizeof(err_path), "/tmp/sockeye-test-flows-%d.err", getpid());
	{
		char *argv[] = { (char *)sockeye_path(), "flows", "--from-agent", "--pin-dir",
				 a.pin_dir, "--json", "-c", "3", "-i", "0.2", NULL };

		flows = spawn_logged(argv, out_path, err_path);
	}
	/* While it runs (0.6 s). */
	for (int i = 0; i < 5; i++, sleep_ms(100))
		held += programs_held(flows);
	status = wait_status(flows);
	read_file(err_path, err, sizeof(err));
	ASSERT_EQ(status, 0, err);
	ASSERT_EQ(held, 0, "flows loaded no program of its own");
	if (ASSERT_TRUE(read_file(out_path, out, sizeof(out)) > 0, "flows wrote snapshots")) {
		/* The client's SYN is acknowledged and counted as a byte. */
		check_flow(flow_line(out, cport, port), "client", UP + 1, DOWN);
		check_flow(flow_line(out, port, cport), "server", DOWN, UP);
		ASSERT_EQ(json_number(strstr(out, "\"type\":\"flows\""), "connections"), 2,
			  "only the two ends: the agent's --port applies");
	}
	ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "agent: exit 0");
	remove_pins(&a);
	unlink(out_path);
	unlink(err_path);
	close(cli), close(acc), close(listener);
}

/* The sum of the retransmit totals of flows' JSON summary record (type
 * flows) in out; UINT64_MAX without one. */
static uint64_t retrans_total_of(const char *out)
{
	static const char *const keys[] = { "retrans_fast", "retrans_timeout", "retrans_probe",
					    "retrans_syn", "retrans_synack" };
	const char *summary = strstr(out, "\"type\":\"flows\"");
	uint64_t sum = 0;

	for (size_t i = 0; summary && i < sizeof(keys) / sizeof(keys[0]); i++)
		sum += json_number(summary, keys[i]);
	return summary ? sum : UINT64_MAX;
}

/* A socket made in namespace ns, where it stays: a listener on a free
 * port (*port) or a client connected to *port. -1 if it cannot be. */
static int socket_in(const char *ns, bool listener, uint16_t *port)
{
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), fd = -1;

	if (home >= 0 && enter_netns(ns))
		fd = listener ? private_listener(port) : connect_to(AF_INET, SOCK_STREAM, *port);
	if (home >= 0 && setns(home, CLONE_NEWNET) && fd >= 0) {
		close(fd);
		fd = -1;
	}
	if (home >= 0)
		close(home);
	return fd;
}

/* Sends bytes from cli to port in namespace ns, the first half while the
 * firewall drops them for a second, so that TCP retransmits; returns once
 * all are acknowledged. */
static void send_with_retransmits(const char *ns, int cli, uint16_t port, size_t bytes)
{
	fcntl(cli, F_SETFD, FD_CLOEXEC);	/* the owner is this process alone */
	shell("ip netns exec %s iptables -A INPUT -p tcp --dport %u -j DROP", ns, port);
	send_all(cli, bytes / 2);
	sleep_ms(1000);	/* longer than the first timeouts (200 ms, then 400 ms) */
	shell("ip netns exec %s iptables -F INPUT", ns);
	send_all(cli, bytes - bytes / 2);
	settle(cli);
}

/* flows --from-agent on a connection in a namespace of the test's (the
 * agent counts in every one) with retransmits: without --all-netns, as
 * flows itself, neither its row nor its retransmits; with it, the row
 * with its namespace and exact bytes, and its retransmits in the totals. */
KTEST(agent_flows_from_agent_all_netns)
{
	enum { BYTES = 20000 };
	static char out[1 << 16];
	char ns[32], port_arg[8], err[1024];
	const char *const extra[] = { "--port", port_arg };
	int listener = -1, cli = -1, acc = -1;
	const char *line;
	uint16_t port;
	struct agent a;

	snprintf(ns, sizeof(ns), "sockeye-an%d", getpid());
	if (!ASSERT_TRUE(shell("ip netns add %s && ip -n %s link set lo up", ns, ns),
			 "namespace made"))
		return;
	listener = socket_in(ns, true, &port);
	snprintf(port_arg, sizeof(port_arg), "%u", port);
	if (!ASSERT_TRUE(listener >= 0, "listening in the namespace") ||
	    !ASSERT_TRUE(agent_start(&a, 2, extra), "agent up"))
		goto out;
	if (!ASSERT_TRUE((cli = socket_in(ns, false, &port)) >= 0, "connected in the namespace"))
		goto stop;
	acc = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	send_with_retransmits(ns, cli, port, BYTES);
	ASSERT_TRUE(recv_exactly(acc, BYTES), "bytes across");
	for (int all = 0; all < 2; all++) {
		char *argv[] = { (char *)sockeye_path(), "flows", "--from-agent", "--pin-dir",
				 a.pin_dir, "--json", "-c", "1", all ? "--all-netns" : NULL, NULL };
		uint64_t retrans = nstat_value(ns, "TcpRetransSegs");

		ASSERT_EQ(run_capture(argv, out, sizeof(out), err, sizeof(err)), 0, err);
		line = flow_line(out, local_port(cli), port);
		if (!all) {
			ASSERT_TRUE(line == NULL, "own namespace: no row");
			ASSERT_EQ(retrans_total_of(out), 0, "own namespace: none of the retransmits");
			continue;
		}
		if (ASSERT_TRUE(line != NULL, "--all-netns: the row")) {
			ASSERT_EQ(json_number(line, "netns"), netns_inode(ns), "its namespace");
			ASSERT_EQ(json_number(line, "bytes_acked"), BYTES + 1, "its bytes and the SYN");
		}
		ASSERT_TRUE(retrans > 0, "retransmits");
		ASSERT_EQ(retrans_total_of(out), retrans, "--all-netns: the namespace's TcpRetransSegs");
	}
stop:
	ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "agent: exit 0");
	remove_pins(&a);
out:
	if (cli >= 0)
		close(cli);
	if (acc >= 0)
		close(acc);
	if (listener >= 0)
		close(listener);
	shell("ip netns del %s", ns);
}

/* Without a running agent, or one without the flows collector, flows
 * --from-agent says why and exits 1. */
KTEST(agent_flows_from_agent_without_an_agent_exits_1)
{
	static const char *const extra[] = { "--collectors", "bytes" };
	char out[256], err[1024], pin_dir[64];
	struct agent a;

	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/sockeye-test-none-%d", getpid());
	{
		char *argv[] = { (char *)sockeye_path(), "flows", "--from-agent", "--pin-dir",
				 pin_dir, "-c", "1", NULL };

		ASSERT_EQ(run_capture(argv, out, sizeof(out), err, sizeof(err)), 1, "no agent: exit 1");
		ASSERT_HAS(err, "start 'sockeye agent' first", "says what to do");
	}
	if (!ASSERT_TRUE(agent_start(&a, 2, extra), "agent up, bytes only"))
		return;
	{
		char *argv[] = { (char *)sockeye_path(), "flows", "--from-agent", "--pin-dir",
				 a.pin_dir, "-c", "1", NULL };

		ASSERT_EQ(run_capture(argv, out, sizeof(out), err, sizeof(err)), 1,
			  "no flows collector: exit 1");
		ASSERT_HAS(err, "is its 'flows' collector on?", "says why");
	}
	ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "agent: exit 0");
	remove_pins(&a);
}

/* ---- a real Prometheus ---- */

struct prometheus {
	pid_t pid;
	uint16_t port;
	char dir[64];
};

/* Prometheus scraping the agent on agent_port, its job's configuration
 * with job (YAML lines at the job's indent, or ""). */
static bool prometheus_start_job(struct prometheus *p, uint16_t agent_port, const char *job)
{
	char config[160], storage[160], listen[64], log[128], buf[1024];
	char *argv[] = { PROMETHEUS, config, storage, listen, NULL };
	FILE *f;

	p->pid = 0;
	snprintf(p->dir, sizeof(p->dir), "/tmp/sockeye-test-prometheus-%d", getpid());
	mkdir(p->dir, 0700);
	snprintf(log, sizeof(log), "%s/prometheus.yml", p->dir);
	f = fopen(log, "w");
	if (!f)
		return false;
	fprintf(f, "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
		"scrape_configs:\n  - job_name: sockeye\n%s    static_configs:\n"
		"      - targets: ['127.0.0.1:%u']\n", job, agent_port);
	fclose(f);
	p->port = free_port();
	snprintf(config, sizeof(config), "--config.file=%s", log);
	snprintf(storage, sizeof(storage), "--storage.tsdb.path=%s/data", p->dir);
	snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%u", p->port);
	snprintf(log, sizeof(log), "%s/log", p->dir);
	p->pid = spawn_logged(argv, log, log);
	for (int waited = 0; waited < 20000; waited += 100) {
		if (http_get(p->port, "/-/ready", buf, sizeof(buf)) == 200)
			return true;
		sleep_ms(100);
	}
	return false;
}

static bool prometheus_start(struct prometheus *p, uint16_t agent_port)
{
	return prometheus_start_job(p, agent_port, "");
}

/* Also after a start that failed: it may still be starting. */
static void prometheus_stop(struct prometheus *p)
{
	char *argv[] = { "rm", "-rf", p->dir, NULL };
	char out[64], err[64];

	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		wait_status(p->pid);
	}
	run_capture(argv, out, sizeof(out), err, sizeof(err));
}

static void url_encode(char *out, size_t len, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t used = 0;

	for (; *s && used + 4 < len; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		    *s == '_') {
			out[used++] = *s;
		} else {
			out[used++] = '%';
			out[used++] = hex[(unsigned char)*s >> 4];
			out[used++] = hex[*s & 15];
		}
	}
	out[used] = '\0';
}

/* The value of an instant query through Prometheus's HTTP API (one series
 * expected, as sum() gives), or -1 while there is none. */
static long long prometheus_query(const struct prometheus *p, const char *query)
{
	static char buf[1 << 16];
	char path[1024], encoded[900];
	const char *value;

	url_encode(encoded, sizeof(encoded), query);
	snprintf(path, sizeof(path), "/api/v1/query?query=%s", encoded);
	if (http_get(p->port, path, buf, sizeof(buf)) != 200)
		return -1;
	value = strstr(buf, "\"value\":[");
	value = value ? strstr(value, ",\"") : NULL;
	return value ? strtoll(value + 2, NULL, 10) : -1;
}

struct expectation {
	const char *query;
	long long value;
};

/* Waits until Prometheus shows every expected value (it scrapes every
 * second), then checks each. */
static void prometheus_expect(const struct prometheus *p, const struct expectation *e, int n)
{
	int matching = 0;

	for (int waited = 0; waited < 30000 && matching < n; waited += 250) {
		matching = 0;
		for (int i = 0; i < n; i++)
			matching += prometheus_query(p, e[i].query) == e[i].value;
		if (matching < n)
			sleep_ms(250);
	}
	for (int i = 0; i < n; i++)
		ASSERT_EQ(prometheus_query(p, e[i].query), e[i].value, e[i].query);
}

KTEST(agent_scraped_by_prometheus_shows_exact_counts)
{
	enum { CONNECTIONS = 7, BYTES = 54321 };
	char port_arg[8];
	/* Refreshed every second: the child's name keeps its series for a
	 * minute after its last bytes, however slowly Prometheus starts. */
	const char *const extra[] = { "--port", port_arg, "-i", "1" };
	const struct expectation expected[] = {
		{ "up{job=\"sockeye\"}", 1 },
		{ "sum(sockeye_tcp_connections_opened_total{role=\"client\"})", CONNECTIONS },
		{ "sum(sockeye_tcp_connections_opened_total{role=\"server\"})", CONNECTIONS },
		{ "sum(sockeye_tcp_connections_closed_total{role=\"client\"})", CONNECTIONS },
		{ "sum(sockeye_tcp_connections_closed_total{role=\"server\"})", CONNECTIONS },
		{ "sum(sockeye_tcp_connect_duration_seconds_count)", CONNECTIONS },
		{ "sum(sockeye_tcp_connect_duration_seconds_bucket{le=\"+Inf\"})", CONNECTIONS },
		{ "sum(sockeye_tcp_connect_failures_total{reason=\"refused\"})", 1 },
		{ "sum(sockeye_process_sent_bytes_total{comm=\"agt-prom\",protocol=\"tcp\"})",
		  CONNECTIONS * BYTES },
		{ "sum(sockeye_process_received_bytes_total{comm=\"agt-prom\",protocol=\"tcp\"})",
		  CONNECTIONS * BYTES },
	};
	struct prometheus prom;
	struct agent a;
	uint16_t port;
	int listener;
	pid_t child;

	if (access(PROMETHEUS, X_OK))
		test_skip(PROMETHEUS " is not installed (scripts/deps.sh installs it)");
	listener = private_listener(&port);
	snprintf(port_arg, sizeof(port_arg), "%u", port);
	if (!ASSERT_TRUE(agent_start(&a, 4, extra), "agent up")) {
		close(listener);
		return;
	}
	if (ASSERT_TRUE(prometheus_start(&prom, a.port), "prometheus ready")) {
		child = connect_and_send("agt-prom", listener, port, CONNECTIONS, BYTES, true);
		ASSERT_EQ(wait_status(child), 0, "connections made, the last one refused");
		prometheus_expect(&prom, expected, sizeof(expected) / sizeof(expected[0]));
		ASSERT_TRUE(prometheus_query(&prom, "sum(sockeye_tcp_connect_duration_seconds_sum"
					     " * 1000000)") > 0, "latency sum > 0");
	} else {
		close(listener);
	}
	prometheus_stop(&prom);
	ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "exit 0");
	remove_pins(&a);
}

/* An instant query through Prometheus's HTTP API, with curl: the JSON
 * answer in out; false when curl or the query failed. */
static bool prometheus_api(const struct prometheus *p, const char *query, char *out, size_t len)
{
	char url[96], arg[1024], err[1024];
	char *argv[] = { "curl", "-sSfG", "--max-time", "5", "--data-urlencode", arg, url, NULL };

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v1/query", p->port);
	snprintf(arg, sizeof(arg), "query=%s", query);
	return run_capture(argv, out, len, err, sizeof(err)) == 0 &&
	       strstr(out, "\"status\":\"success\"");
}

/* The value of a query's one result, or -1. */
static long long api_value(const char *answer)
{
	const char *value = strstr(answer, "\"value\":[");

	value = value ? strstr(value, ",\"") : NULL;
	return value ? strtoll(value + 2, NULL, 10) : -1;
}

/* A process names itself with invalid UTF-8 and sends a few KB, as anyone
 * on the host can: the exposition stays valid (U+FFFD for the bad bytes),
 * promtool finds nothing to say, and a real Prometheus keeps the target up
 * scrape after scrape, with both names as labels: the valid non-ASCII one
 * exactly, the invalid one with U+FFFD. */
KTEST(agent_invalid_utf8_name_keeps_prometheus_up)
{
	enum { BYTES = 4321 };
	static const char bad[] = "\xff\xfe\x01" "ab", good[] = "caf\xc3\xa9-\xe2\x9c\x93";
	/* As PromQL string literals, which take Go's escapes. */
	static const char *const queries[] = {
		"sockeye_process_sent_bytes_total{comm=\"caf\xc3\xa9-\xe2\x9c\x93\",protocol=\"tcp\"}",
		"sockeye_process_sent_bytes_total{comm=\"\\ufffd\\ufffd\\x01ab\",protocol=\"tcp\"}",
	};
	static char buf[1 << 18], answer[1 << 16];
	char port_arg[8], exposition[512];
	/* The names keep their series for a minute after their bytes. */
	const char *const extra[] = { "--port", port_arg, "-i", "1" };
	struct prometheus prom = { 0 };
	long long up_scrapes = 0;
	struct agent a;
	uint16_t port;
	int listener;

	if (access(PROMETHEUS, X_OK) || access(PROMTOOL, X_OK))
		test_skip(PROMETHEUS " or " PROMTOOL " is not installed (scripts/deps.sh installs "
			  "Debian's prometheus, which has both)");
	if (access("/usr/bin/curl", X_OK))
		test_skip("curl is not installed (scripts/deps.sh installs it)");
	listener = private_listener(&port);
	snprintf(port_arg, sizeof(port_arg), "%u", port);
	if (!ASSERT_TRUE(agent_start(&a, 4, extra), "agent up")) {
		close(listener);
		return;
	}
	ASSERT_EQ(wait_status(connect_and_send(bad, listener, port, 1, BYTES, false)), 0,
		  "the invalid name sent");
	ASSERT_EQ(wait_status(connect_and_send(good, listener, port, 1, BYTES, false)), 0,
		  "the valid name sent");
	close(listener);

	/* (a) The exposition, with both names, is valid for promtool. */
	snprintf(exposition, sizeof(exposition), "sockeye_process_sent_bytes_total{comm=\""
		 "\xef\xbf\xbd\xef\xbf\xbd\x01" "ab\",protocol=\"tcp\"}");
	ASSERT_EQ(wait_for_series(a.port, exposition, BYTES), BYTES, "the invalid name, as U+FFFD");
	snprintf(exposition, sizeof(exposition), "sockeye_process_sent_bytes_total{comm=\"%s\","
		 "protocol=\"tcp\"}", good);
	ASSERT_EQ(wait_for_series(a.port, exposition, BYTES), BYTES, "the valid name as it is");
	ASSERT_EQ(http_get(a.port, "/metrics", buf, sizeof(buf)), 200, "scrape");
	check_exposition(body_of(buf));

	/* (b) A real Prometheus scrapes it: up, every scrape, and both names. */
	if (ASSERT_TRUE(prometheus_start(&prom, a.port), "prometheus ready")) {
		for (int waited = 0; waited < 30000 && up_scrapes < 3; waited += 250) {
			if (prometheus_api(&prom, "count_over_time(up{job=\"sockeye\"}[1m])", answer,
					   sizeof(answer)))
				up_scrapes = api_value(answer);
			if (up_scrapes < 3)
				sleep_ms(250);
		}
		ASSERT_TRUE(up_scrapes >= 3, "three scrapes or more");
		ASSERT_TRUE(prometheus_api(&prom, "min_over_time(up{job=\"sockeye\"}[1m])", answer,
					   sizeof(answer)), answer);
		ASSERT_EQ(api_value(answer), 1, "up was 1 in every scrape");
		for (int i = 0; i < 2; i++) {
			ASSERT_TRUE(prometheus_api(&prom, queries[i], answer, sizeof(answer)), answer);
			ASSERT_EQ(api_value(answer), BYTES, queries[i]);
		}
		/* Every name Prometheus has, as it says them. */
		ASSERT_TRUE(prometheus_api(&prom, "sockeye_process_sent_bytes_total", answer,
					   sizeof(answer)), answer);
		ASSERT_HAS(answer, "\"comm\":\"caf\xc3\xa9-\xe2\x9c\x93\"", "the valid name exactly");
		ASSERT_HAS(answer, "\"comm\":\"\xef\xbf\xbd\xef\xbf\xbd\\u0001ab\"",
			   "the invalid one with U+FFFD");
	}
	prometheus_stop(&prom);
	ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "exit 0");
	remove_pins(&a);
}

/* A family's HELP and TYPE lines in an exposition, or "" without them. */
static void family_header(const char *body, const char *name, char *out, size_t len)
{
	char key[160];
	const char *help, *end;

	snprintf(key, sizeof(key), "# HELP %s ", name);
	help = strstr(body, key);
	end = help ? strchr(help, '\n') : NULL;
	end = end ? strchr(end + 1, '\n') : NULL;
	snprintf(out, len, "%.*s", end ? (int)(end - help) : 0, help ? help : "");
}

/* Every label value of a sample line is an identifier-like word: no space,
 * no quote, nothing to escape (with --port, no comm from elsewhere). */
static bool label_values_are_words(const char *body)
{
	bool ok = true;

	for (const char *line = body; *line; line = strchr(line, '\n') + 1) {
		const char *brace = strchr(line, '{'), *nl = strchr(line, '\n');

		if (*line == '#' || !brace || brace > nl)
			continue;
		for (const char *c = brace; c < nl && *c != '}'; c++)
			if (*c == ' ' || *c == '\\')
				ok &= ASSERT_TRUE(false, "a label value with a space or an escape");
	}
	return ok;
}

/* flows --prom and the agent name a counter alike: the families both
 * write come with the same HELP and TYPE, flows writes no name of its own
 * for them, and every label value is a word (reason="timed_out"). */
KTEST(agent_and_flows_prom_write_the_same_families)
{
	static const char *const shared[] = {
		"sockeye_tcp_retransmits_total", "sockeye_tcp_drops_total", "sockeye_udp_drops_total",
		"sockeye_lost_events_total",
	};
	static char buf[1 << 18], file[1 << 16];
	char port_arg[8], path[64], agent_header[512], flows_header[512], out[256], err[4096];
	const char *const extra[] = { "--port", port_arg };
	struct agent a;
	uint16_t port;
	int listener = private_listener(&port);

	snprintf(port_arg, sizeof(port_arg), "%u", port);
	snprintf(path, sizeof(path), "/tmp/sockeye-test-flows-%d.prom", getpid());
	if (!ASSERT_TRUE(agent_start(&a, 2, extra), "agent up")) {
		close(listener);
		return;
	}
	{
		char *argv[] = { (char *)sockeye_path(), "flows", "--port", port_arg, "--drops",
				 "--prom", path, "-c", "1", NULL };

		ASSERT_EQ(run_capture(argv, out, sizeof(out), err, sizeof(err)), 0, err);
	}
	read_file(path, file, sizeof(file));
	ASSERT_EQ(http_get(a.port, "/metrics", buf, sizeof(buf)), 200, "scrape");
	for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
		family_header(body_of(buf), shared[i], agent_header, sizeof(agent_header));
		family_header(file, shared[i], flows_header, sizeof(flows_header));
		if (ASSERT_TRUE(agent_header[0], shared[i]))
			ASSERT_STR_EQ(flows_header, agent_header, shared[i]);
	}
	ASSERT_TRUE(!strstr(file, "sockeye_flows_"), "no name of flows' own for them");
	ASSERT_HAS(body_of(buf), "sockeye_tcp_connect_failures_total{reason=\"timed_out\"} 0\n",
		   "reasons are identifiers");
	ASSERT_HAS(body_of(buf), "sockeye_tcp_connections_opened_total{role=\"client\"} ",
		   "connections by role");
	label_values_are_words(body_of(buf));
	label_values_are_words(file);
	ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "exit 0");
	remove_pins(&a);
	close(listener);
	unlink(path);
}

/* An agent with one comm series watching a port of ours (refreshed every
 * interval seconds), to which a child named "agt-first" has sent 5000
 * bytes, shown under its name. False (everything cleaned up) when not. */
static bool agent_with_one_series(struct agent *a, int *listener, uint16_t *port,
				  const char *interval)
{
	static char port_arg[8];
	const char *const extra[] = { "--port", port_arg, "--max-series", "1", "-i", interval };

	*listener = private_listener(port);
	snprintf(port_arg, sizeof(port_arg), "%u", *port);
	if (!ASSERT_TRUE(agent_start(a, 6, extra), "agent up")) {
		close(*listener);
		return false;
	}
	ASSERT_EQ(wait_status(connect_and_send("agt-first", *listener, *port, 1, 5000, false)), 0,
		  "first child");
	return ASSERT_EQ(wait_for_series(a->port, "sockeye_process_sent_bytes_total{comm="
					 "\"agt-first\",protocol=\"tcp\"}", 5000), 5000,
			 "the first name has its series");
}

/* With one series allowed, the first (busiest) name keeps it, and a later
 * one is counted as "other". */
KTEST(agent_max_series_folds_later_names_into_other)
{
	static char buf[1 << 18];
	struct agent a;
	uint16_t port;
	int listener;

	if (!agent_with_one_series(&a, &listener, &port, "0.2"))
		return;
	ASSERT_EQ(wait_status(connect_and_send("agt-second", listener, port, 2, 300, false)), 0,
		  "second child");
	ASSERT_EQ(wait_for_series(a.port, "sockeye_process_sent_bytes_total{comm=\"other\","
				  "protocol=\"tcp\"}", 600), 600, "the second is folded");
	ASSERT_EQ(http_get(a.port, "/metrics", buf, sizeof(buf)), 200, "scrape");
	ASSERT_TRUE(!strstr(buf, "agt-second"), "no series of its own");
	ASSERT_EQ(series_value(body_of(buf), "sockeye_process_received_bytes_total{comm=\"other\","
			       "protocol=\"tcp\"}"), 600, "received, folded too");
	close(listener);
	ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "exit 0");
	remove_pins(&a);
}

/* A name without traffic for 60 refreshes (3 s at -i 0.05) leaves the
 * label set: its series ends and a new name gets its place instead of
 * "other", so departed names do not hold the series budget. */
KTEST(agent_idle_names_leave_the_label_set)
{
	static char buf[1 << 18];
	struct agent a;
	uint16_t port;
	int listener, waited;

	if (!agent_with_one_series(&a, &listener, &port, "0.05"))
		return;
	for (waited = 0; waited < 15000; waited += 100) {
		if (http_get(a.port, "/metrics", buf, sizeof(buf)) == 200 &&
		    !strstr(body_of(buf), "agt-first"))
			break;
		sleep_ms(100);
	}
	ASSERT_TRUE(waited < 15000, "its series ended once it was idle");
	ASSERT_TRUE(waited >= 1000, "not at once: some intervals after its last bytes");
	ASSERT_EQ(wait_status(connect_and_send("agt-new", listener, port, 1, 300, false)), 0,
		  "second child");
	ASSERT_EQ(wait_for_series(a.port, "sockeye_process_sent_bytes_total{comm=\"agt-new\","
				  "protocol=\"tcp\"}", 300), 300, "a new name gets the free place");
	ASSERT_EQ(http_get(a.port, "/metrics", buf, sizeof(buf)), 200, "scrape");
	ASSERT_TRUE(!strstr(buf, "comm=\"other\""), "nothing folded into other");
	check_exposition(body_of(buf));
	close(listener);
	ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "exit 0");
	remove_pins(&a);
}

/* The opt-in collector: socket system calls by kind, and only those. */
KTEST(agent_syscalls_collector_counts_calls)
{
	const char *const extra[] = { "--collectors", "syscalls" };
	static char buf[1 << 18];
	char why[256];
	struct agent a;

	if (!ASSERT_TRUE(agent_start(&a, 2, extra), "agent up"))
		return;
	/* Every scrape is an accept on the agent's side. */
	ASSERT_TRUE(wait_for_series(a.port, "sockeye_socket_syscalls_total{call=\"accept\"}", 1) > 0,
		    "accepts counted");
	ASSERT_EQ(http_get(a.port, "/metrics", buf, sizeof(buf)), 200, "scrape");
	ASSERT_HAS(buf, "sockeye_socket_syscalls_total{call=\"connect\"}", "connects counted");
	ASSERT_TRUE(!strstr(buf, "call=\"sock_"), "no socket-layer operation among system calls");
	/* Linux 6.1 has no sock_send_length: the family is then left empty,
	 * not written with zeros that would read as no traffic. */
	if (hook_exists("tp_btf/sock_send_length", why, sizeof(why)))
		ASSERT_TRUE(series_value(body_of(buf), "sockeye_socket_layer_calls_total{direction="
					 "\"send\"}") > 0, "the agent's own sends, in their family");
	else
		ASSERT_TRUE(!strstr(buf, "sockeye_socket_layer_calls_total{direction=\"send\"}"),
			    "no socket-layer send series without its tracepoint");
	ASSERT_HAS(buf, "collectors=\"syscalls\"", "build info names it");
	check_exposition(body_of(buf));
	ASSERT_TRUE(!strstr(buf, "sockeye_process_sent_bytes_total"), "bytes collector off");
	ASSERT_TRUE(!strstr(buf, "sockeye_tcp_connections_opened_total"), "tcp collector off");
	ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "exit 0");
	remove_pins(&a);
}

/* With --port, the flows and http collectors count only the test's own
 * connection: three exchanges on it, seen from both ends, and no
 * retransmit (loopback loses nothing). */
KTEST(agent_http_and_flows_collectors)
{
	static const char *const roles[] = { "server", "client" };
	char port_arg[8], series[160];
	const char *const extra[] = { "--collectors", "flows,http", "--port", port_arg };
	static char buf[1 << 18];
	int srv, cli, acc;
	uint16_t port, cport;
	struct agent a;

	tcp_connection(AF_INET, &srv, &cli, &acc, &port, &cport);
	snprintf(port_arg, sizeof(port_arg), "%u", port);
	if (!ASSERT_TRUE(agent_start(&a, 4, extra), "agent up"))
		return;
	ASSERT_TRUE(three_http_exchanges(cli, acc), "the exchanges went through");
	for (int r = 0; r < 2; r++) {
		snprintf(series, sizeof(series), "sockeye_http_request_duration_seconds_count"
			 "{role=\"%s\",method=\"GET\",status=\"2xx\",tls=\"false\"}", roles[r]);
		ASSERT_EQ(wait_for_series(a.port, series, 2), 2, series);
		snprintf(series, sizeof(series), "sockeye_http_request_duration_seconds_count"
			 "{role=\"%s\",method=\"POST\",status=\"4xx\",tls=\"false\"}", roles[r]);
		ASSERT_EQ(wait_for_series(a.port, series, 1), 1, series);
	}
	ASSERT_EQ(http_get(a.port, "/metrics", buf, sizeof(buf)), 200, "scrape");
	for (int k = 0; k < RETRANS_KINDS; k++) {
		snprintf(series, sizeof(series), "sockeye_tcp_retransmits_total{kind=\"%s\"}",
			 retrans_kind_name(k));
		ASSERT_EQ(series_value(body_of(buf), series), 0, series);
	}
	ASSERT_HAS(buf, "# TYPE sockeye_tcp_drops_total counter", "TCP drops family");
	ASSERT_HAS(buf, "# TYPE sockeye_udp_drops_total counter", "UDP drops family");
	check_exposition(body_of(buf));
	ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "exit 0");
	remove_pins(&a);
	close(cli), close(acc), close(srv);
}

/* The http collector counts HTTPS too, through the TLS libraries found
 * when it starts and --tls-lib: curl (OpenSSL) on a copy of libssl given
 * with --tls-lib, started after the agent, against nginx serving TLS on
 * the system's, two 200s and a 404 over one connection, each once a side
 * with tls="true" (and with --http-status-codes, the codes themselves),
 * and nothing outside TLS. */
KTEST(agent_http_collector_counts_https)
{
	static const struct { const char *method, *status; long long n; } want[] = {
		{ "GET", "200", 2 }, { "GET", "404", 1 },
	};
	static const char *const roles[] = { "server", "client" };
	char port_arg[8], series[192], u[3][96], copy[128];
	const char *const extra[] = { "--collectors", "http", "--port", port_arg, "--tls-lib",
				      copy, "--http-status-codes" };
	static char buf[1 << 18];
	struct tls_server srv = {};
	struct agent a;

	if (!tls_tools_here() || !tls_server_start(&srv) ||
	    !tls_libssl_copy(&srv, copy, sizeof(copy)))
		goto out;
	snprintf(port_arg, sizeof(port_arg), "%u", srv.port);
	tls_url(u[0], sizeof(u[0]), &srv, "/size/1");
	tls_url(u[1], sizeof(u[1]), &srv, "/size/2");
	tls_url(u[2], sizeof(u[2]), &srv, "/missing");
	if (!ASSERT_TRUE(agent_start(&a, 7, extra), "agent up"))
		goto out;
	ASSERT_TRUE(tls_curl_on_copy(&srv, (char *[]){ u[0], u[1], u[2], NULL }) > 0,
		    "curl's requests");
	for (int r = 0; r < 2; r++)
		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			snprintf(series, sizeof(series), "sockeye_http_request_duration_seconds_count"
				 "{role=\"%s\",method=\"%s\",status=\"%s\",tls=\"true\"}", roles[r],
				 want[i].method, want[i].status);
			ASSERT_EQ(wait_for_series(a.port, series, want[i].n), want[i].n, series);
		}
	ASSERT_EQ(http_get(a.port, "/metrics", buf, sizeof(buf)), 200, "scrape");
	ASSERT_TRUE(!strstr(buf, "tls=\"false\""), "nothing outside TLS");
	check_exposition(body_of(buf));
	ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "exit 0");
	remove_pins(&a);
out:
	tls_server_stop(&srv);
}

/* Whether the agent's pinned traffic map (its bytes collector's) still
 * holds a row for pid. */
static bool traffic_row(const struct agent *a, pid_t pid)
{
	char path[128];
	uint32_t key = pid;
	int fd;
	bool found;

	snprintf(path, sizeof(path), "%s/bytes/traffic", a->pin_dir);
	fd = bpf_obj_get(path);
	found = fd >= 0 && map_has_key(fd, &key, sizeof(key));
	if (fd >= 0)
		close(fd);
	return found;
}

/* The bytes collector with room for one process (SOCKEYE_MAX_ENTRIES): a
 * second sender's calls are lost and counted in the metrics; the first,
 * killed, leaves no row once the agent has shown it, and a third sender
 * is then counted in full. */
KTEST(fault_full_map_agent_counts_lost_and_drops_the_killed)
{
	char port_arg[8];
	const char *const extra[] = { "--port", port_arg, "--collectors", "bytes" };
	const char *lost = "sockeye_lost_events_total{collector=\"bytes\"}";
	int ready[2], gone = 0;
	uint16_t port;
	int rx = bound_socket(AF_INET, SOCK_DGRAM, false, &port);
	struct agent a;
	pid_t one;

	fcntl(rx, F_SETFD, FD_CLOEXEC);
	snprintf(port_arg, sizeof(port_arg), "%u", port);
	setenv("SOCKEYE_MAX_ENTRIES", "1", 1);
	setenv("SOCKEYE_ENDED_GRACE_MS", "0", 1);
	if (!ASSERT_TRUE(agent_start(&a, 4, extra), "agent up") || pipe(ready))
		return;
	one = udp_sender(port, 10, 100, "flt-one", ready[1]);
	ASSERT_EQ(read(ready[0], &(char){ 0 }, 1), 1, "first sender done, holding its row");
	ASSERT_EQ(wait_status(udp_sender(port, 13, 100, "flt-two", -1)), 0, "second sender");
	ASSERT_EQ(wait_for_series(a.port, lost, 13), 13, "the second's sends counted as lost");
	ASSERT_EQ(wait_for_series(a.port, "sockeye_process_sent_bytes_total{comm=\"flt-one\","
				  "protocol=\"udp\"}", 1000), 1000, "the first's bytes");
	kill(one, SIGKILL);
	ASSERT_EQ(wait_status(one), 128 + SIGKILL, "first sender killed");
	for (int waited = 0; !gone && waited < SETTLE_WAIT_MS; waited += 50) {
		gone = !traffic_row(&a, one);
		if (!gone)
			sleep_ms(50);
	}
	ASSERT_TRUE(gone, "no row left for the killed process");
	ASSERT_EQ(wait_status(udp_sender(port, 20, 100, "flt-three", -1)), 0, "third sender");
	ASSERT_EQ(wait_for_series(a.port, "sockeye_process_sent_bytes_total{comm=\"flt-three\","
				  "protocol=\"udp\"}", 2000), 2000, "the third's bytes, all of them");
	ASSERT_EQ(wait_for_series(a.port, lost, 13), 13, "nothing more lost");
	ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "exit 0");
	remove_pins(&a);
	close(ready[0]);
	close(ready[1]);
	close(rx);
}

/* ---- the agent's own health ---- */

/* The names of the programs behind the BPF links pid holds (from each
 * link's fdinfo, prog_id), sorted, one per line. */
static void linked_programs(pid_t pid, char *out, size_t len)
{
	int fds[64], n = fds_of(pid, "anon_inode:bpf_link", fds, 64);
	char names[64][BPF_OBJ_NAME_LEN];

	for (int i = 0; i < n && i < 64; i++) {
		char path[64], line[128];
		unsigned id = 0;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fds[i]);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			sscanf(line, "prog_id: %u", &id);
		if (f)
			fclose(f);
		names[i][0] = '\0';
		{
			int fd = bpf_prog_get_fd_by_id(id);
			struct bpf_prog_info info = {};
			__u32 ilen = sizeof(info);

			if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &ilen))
				snprintf(names[i], sizeof(names[i]), "%s", info.name);
			if (fd >= 0)
				close(fd);
		}
	}
	qsort(names, n < 64 ? n : 64, sizeof(names[0]), (int (*)(const void *, const void *))strcmp);
	out[0] = '\0';
	for (int i = 0; i < n && i < 64; i++)
		snprintf(out + strlen(out), len - strlen(out), "%s\n", names[i]);
}

/* The programs the exposition says are attached (value 1), their names
 * cut as the kernel keeps them (15 bytes), sorted, one per line; the
 * count of those not attached in *detached. */
static void attached_programs(const char *body, char *out, size_t len, int *detached)
{
	static const char key[] = "sockeye_bpf_program_attached{";
	char names[64][BPF_OBJ_NAME_LEN];
	int n = 0;

	*detached = 0;
	for (const char *at = strstr(body, key); at && n < 64; at = strstr(at + 1, key)) {
		const char *prog = strstr(at, "program=\""), *end = prog ? strchr(prog, '}') : NULL;

		if (!prog || !end)
			break;
		if (end[2] == '1')
			snprintf(names[n++], sizeof(names[0]), "%.*s", (int)strcspn(prog + 9, "\""),
				 prog + 9);
		else
			(*detached)++;
	}
	qsort(names, n, sizeof(names[0]), (int (*)(const void *, const void *))strcmp);
	out[0] = '\0';
	for (int i = 0; i < n; i++)
		snprintf(out + strlen(out), len - strlen(out), "%s\n", names[i]);
}

/* Fields 14, 15 and 22 of /proc/PID/stat: user and system time and the
 * start, in clock ticks. */
static bool proc_times(pid_t pid, unsigned long *cpu, unsigned long long *start)
{
	char path[32], buf[1024];
	unsigned long utime, stime;
	const char *after;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, buf, sizeof(buf)) <= 0 || !(after = strrchr(buf, ')')))
		return false;
	if (sscanf(after + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d "
		   "%*d %*d %*d %llu", &utime, &stime, start) != 3)
		return false;
	*cpu = utime + stime;
	return true;
}

static unsigned long long btime(void)
{
	static char buf[1 << 14];
	const char *line;

	read_file("/proc/stat", buf, sizeof(buf));
	line = strstr(buf, "\nbtime ");
	return line ? strtoull(line + 7, NULL, 10) : 0;
}

/* Sample lines (not comments) of an exposition. */
static long samples_in(const char *body)
{
	long n = 0;

	for (const char *line = body; *line; line = strchr(line, '\n') + 1)
		n += *line != '#';
	return n;
}

/* process_open_fds equals /proc/PID/fd counted from outside: polled,
 * since a refresh may meet a scrape's connection open. */
static void check_open_fds(const struct agent *a)
{
	static char buf[1 << 18];
	int outside = -1;
	double served = -2;

	for (int waited = 0; waited < 5000 && served != outside; waited += 100) {
		sleep_ms(100);
		outside = fds_of(a->pid, NULL, NULL, 0);
		if (http_get(a->port, "/metrics", buf, sizeof(buf)) == 200)
			served = sample_double(body_of(buf), "process_open_fds");
	}
	ASSERT_EQ((long long)served, outside, "process_open_fds = /proc/PID/fd");
}

/* The process_* families against /proc/PID, the refreshes, the programs
 * attached against the links the agent holds, the comm budget, the series
 * count against the scrape, and every thread named sockeye. */
KTEST(agent_reports_its_own_health)
{
	static char buf[1 << 18], links[2048], attached[2048];
	unsigned long ticks;
	unsigned long long start;
	double tick = sysconf(_SC_CLK_TCK);
	const char *body;
	struct agent a;
	int detached;

	if (!ASSERT_TRUE(agent_start(&a, 0, NULL), "agent up"))
		return;
	check_open_fds(&a);
	ASSERT_EQ(http_get(a.port, "/metrics", buf, sizeof(buf)), 200, "scrape");
	body = body_of(buf);
	check_exposition(body);
	if (ASSERT_TRUE(proc_times(a.pid, &ticks, &start), "/proc/PID/stat")) {
		ASSERT_TRUE(fabs(sample_double(body, "process_start_time_seconds") -
				 (btime() + start / tick)) < 0.005, "process_start_time_seconds");
		ASSERT_TRUE(sample_double(body, "process_cpu_seconds_total") > 0 &&
			    sample_double(body, "process_cpu_seconds_total") <= ticks / tick,
			    "process_cpu_seconds_total: some, at most what /proc says now");
	}
	ASSERT_TRUE(sample_double(body, "process_resident_memory_bytes") > 1 << 20,
		    "process_resident_memory_bytes");
	ASSERT_TRUE(sample_double(body, "process_max_fds") >= sample_double(body, "process_open_fds"),
		    "process_max_fds");
	for (int i = 0; i < 3; i++) {
		static const char *const names[] = { "bytes", "tcp", "flows" };
		char series[128];

		snprintf(series, sizeof(series), "sockeye_collector_refresh_success{collector=\"%s\"}",
			 names[i]);
		ASSERT_EQ(series_value(body, series), 1, series);
		snprintf(series, sizeof(series),
			 "sockeye_collector_refresh_duration_seconds{collector=\"%s\"}", names[i]);
		ASSERT_TRUE(sample_double(body, series) > 0, series);
	}
	linked_programs(a.pid, links, sizeof(links));
	attached_programs(body, attached, sizeof(attached), &detached);
	ASSERT_TRUE(links[0], "the agent holds links");
	ASSERT_STR_EQ(attached, links, "attached: the programs of the agent's links");
	ASSERT_EQ(detached, 0, "no program loaded and not attached");
	ASSERT_EQ(series_value(body, "sockeye_comm_names_limit"), 100, "the budget: --max-series");
	ASSERT_TRUE(series_value(body, "sockeye_comm_names{collector=\"bytes\"}") >= 0,
		    "names in use");
	ASSERT_EQ(series_value(body, "sockeye_series"), samples_in(body), "sockeye_series");
	ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "exit 0");
	remove_pins(&a);
}

/* The agent's HTTP thread is named as the agent: with --port its own
 * port, the bytes of a scrape are the agent's, under comm="sockeye",
 * exactly what the scraping client sent and received. */
KTEST(agent_threads_are_named_sockeye)
{
	static char buf[1 << 18], path[64], comm[32];
	uint16_t port = free_port();
	char port_arg[8];
	const char *const extra[] = { "--port", port_arg, "-i", "0.1" };
	struct agent a;
	struct dirent *e;
	DIR *d;
	int threads = 0;
	long long sent;

	snprintf(port_arg, sizeof(port_arg), "%u", port);
	if (!ASSERT_TRUE(agent_start_at(&a, AF_INET, port, 4, extra), "agent up"))
		return;
	snprintf(path, sizeof(path), "/proc/%d/task", a.pid);
	d = opendir(path);
	while (d && (e = readdir(d))) {
		char file[400];

		if (e->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s/comm", path, e->d_name);
		read_file(file, comm, sizeof(comm));
		ASSERT_STR_EQ(comm, "sockeye\n", "thread name");
		threads++;
	}
	if (d)
		closedir(d);
	ASSERT_TRUE(threads >= 2, "the main thread and the HTTP one");
	/* /healthz answers (agent_start) went out: the thread sent bytes. */
	ASSERT_EQ(http_get(a.port, "/metrics", buf, sizeof(buf)), 200, "scrape");
	sent = wait_for_series(a.port, "sockeye_process_sent_bytes_total{comm=\"sockeye\","
			       "protocol=\"tcp\"}", 1);
	ASSERT_TRUE(sent > 0, "the agent's own bytes under comm=\"sockeye\"");
	ASSERT_TRUE(!strstr(body_of(buf), "MHD"), "no MHD-single");
	ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "exit 0");
	remove_pins(&a);
}

/* The run-count and run-time series of the program that counts the
 * agent's UDP sends over IPv4: agent_send where the kernel has the
 * sock_send_length tracepoint, else the fallback the agent attached
 * (fexit, or the kprobe of a kprobe pair), as its exposition says. */
static void udp_send_program(const char *body, char runs[128], char run_time[128])
{
	static const char *const programs[] = { "agent_send", "agent_s4_fx", "agent_s4_kp" };
	const char *program = programs[0];
	char attached[128];

	for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++) {
		snprintf(attached, sizeof(attached), "sockeye_bpf_program_attached{collector="
			 "\"bytes\",program=\"%s\"}", programs[i]);
		if (series_value(body, attached) == 1) {
			program = programs[i];
			break;
		}
	}
	snprintf(runs, 128, "sockeye_bpf_program_runs_total{collector=\"bytes\",program=\"%s\"}",
		 program);
	snprintf(run_time, 128, "sockeye_bpf_program_run_seconds_total{collector=\"bytes\","
		 "program=\"%s\"}", program);
}

/* With the kernel's BPF statistics on (held by this test through
 * BPF_ENABLE_STATS), the agent serves each program's runs: the sends a
 * child makes are runs of agent_send, at least one each. Without them the
 * families are left out. */
KTEST(agent_program_runs_with_bpf_stats)
{
	enum { SENDS = 50 };
	static char buf[1 << 18];
	char runs[128], run_time[128];
	char port_arg[8], stats_on[8] = "";
	const char *const extra[] = { "--port", port_arg, "--collectors", "bytes" };
	long long before, after;
	struct agent a;
	uint16_t port;
	int rx = bound_socket(AF_INET, SOCK_DGRAM, false, &port), stats;

	fcntl(rx, F_SETFD, FD_CLOEXEC);
	snprintf(port_arg, sizeof(port_arg), "%u", port);
	if (!ASSERT_TRUE(agent_start(&a, 4, extra), "agent up")) {
		close(rx);
		return;
	}
	read_file("/proc/sys/kernel/bpf_stats_enabled", stats_on, sizeof(stats_on));
	ASSERT_EQ(http_get(a.port, "/metrics", buf, sizeof(buf)), 200, "scrape");
	udp_send_program(body_of(buf), runs, run_time);
	/* Off (unless another process holds BPF_ENABLE_STATS): only programs
	 * with counted runs are served. */
	if (stats_on[0] == '0')
		ASSERT_TRUE(!strstr(body_of(buf), "sockeye_bpf_program_runs_total{") ||
			    series_value(body_of(buf), runs) > 0, "no run counts of 0");
	stats = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (ASSERT_TRUE(stats >= 0, "BPF_ENABLE_STATS")) {
		before = wait_for_series(a.port, runs, 0);
		ASSERT_TRUE(before >= 0, "runs served");
		ASSERT_EQ(wait_status(udp_sender(port, SENDS, 100, "agt-runs", -1)), 0, "sender");
		after = wait_for_series(a.port, runs, before + SENDS);
		ASSERT_TRUE(after >= before + SENDS, "each send is a run");
		ASSERT_EQ(http_get(a.port, "/metrics", buf, sizeof(buf)), 200, "scrape");
		ASSERT_TRUE(sample_double(body_of(buf), run_time) > 0, "and their time");
		ASSERT_EQ(series_value(body_of(buf), "sockeye_process_sent_bytes_total"
				       "{comm=\"agt-runs\",protocol=\"udp\"}"), SENDS * 100,
			  "the bytes of those sends");
		check_exposition(body_of(buf));
		close(stats);
	}
	ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "exit 0");
	remove_pins(&a);
	close(rx);
}

/* The family of the first address localhost has, as the agent takes it. */
static int localhost_family(void)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG }, *res;
	int family;

	if (getaddrinfo("localhost", NULL, &hints, &res))
		return -1;
	family = res->ai_family;
	freeaddrinfo(res);
	return family;
}

/* --listen given four times: an IPv4 address, an IPv6 one, :PORT (both
 * families on one socket) and a name; each socket answers, and only on
 * what it was given. */
KTEST(agent_listens_on_each_listen)
{
	char v6[32], any[32], name[32], buf[1024];
	uint16_t p6 = free_port(), pany = free_port(), pname = free_port();
	const char *const extra[] = { "--listen", v6, "--listen", any, "--listen", name };
	int lh = localhost_family();
	struct agent a;

	snprintf(v6, sizeof(v6), "[::1]:%u", p6);
	snprintf(any, sizeof(any), ":%u", pany);
	snprintf(name, sizeof(name), "localhost:%u", pname);
	if (!ASSERT_TRUE(agent_start(&a, 6, extra), "agent up"))
		return;
	ASSERT_EQ(http_get_on(AF_INET, a.port, "/healthz", buf, sizeof(buf)), 200, "127.0.0.1");
	ASSERT_EQ(http_get_on(AF_INET6, a.port, "/healthz", buf, sizeof(buf)), -1, "not on ::1");
	ASSERT_EQ(http_get_on(AF_INET6, p6, "/healthz", buf, sizeof(buf)), 200, "[::1]");
	ASSERT_EQ(http_get_on(AF_INET, p6, "/healthz", buf, sizeof(buf)), -1, "not on 127.0.0.1");
	ASSERT_EQ(http_get_on(AF_INET, pany, "/metrics", buf, sizeof(buf)), 200, ":PORT on IPv4");
	ASSERT_EQ(http_get_on(AF_INET6, pany, "/metrics", buf, sizeof(buf)), 200, "and on IPv6");
	if (ASSERT_TRUE(lh == AF_INET || lh == AF_INET6, "localhost resolves"))
		ASSERT_EQ(http_get_on(lh, pname, "/healthz", buf, sizeof(buf)), 200,
			  "localhost: its first address");
	ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "exit 0");
	agent_stderr(&a, buf, sizeof(buf));
	ASSERT_HAS(buf, "serving /metrics on http://127.0.0.1:", "says where it serves");
	ASSERT_HAS(buf, name, "every socket");
	remove_pins(&a);
}

/* ---- TLS and basic authentication (--web-config) ---- */

/* The password of the user "prometheus" below, hashed as htpasswd -nbB
 * writes it (cost 10). */
#define WEB_PASSWORD "s3cret"
#define WEB_HASH "$2y$10$GJQruLTkR0odcs3gQeB5y.VucLGP7OA607J37yI7tDu6T8FnQnRny"

struct tls_files {
	char dir[64], ca[96], config[96], client_cert[96], client_key[96];
};

/* A CA, a server certificate it signed for 127.0.0.1 and localhost, and a
 * client certificate it signed, made by openssl in a directory of their
 * own; false when openssl failed. */
static bool make_certificates(struct tls_files *t)
{
	char cmd[2048], out[256], err[4096];
	char *argv[] = { "sh", "-c", cmd, NULL };

	snprintf(t->dir, sizeof(t->dir), "/tmp/sockeye-test-tls-%d", getpid());
	snprintf(t->ca, sizeof(t->ca), "%s/ca.crt", t->dir);
	snprintf(t->config, sizeof(t->config), "%s/web.yml", t->dir);
	snprintf(t->client_cert, sizeof(t->client_cert), "%s/client.crt", t->dir);
	snprintf(t->client_key, sizeof(t->client_key), "%s/client.key", t->dir);
	snprintf(cmd, sizeof(cmd),
		 "set -e; rm -rf %1$s; mkdir %1$s; cd %1$s; "
		 "k='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'; "
		 "openssl req -x509 $k -days 2 -subj /CN=sockeye-test-ca -keyout ca.key -out ca.crt; "
		 "for who in server client; do "
		 "openssl req $k -subj /CN=$who -keyout $who.key -out $who.csr; done; "
		 "echo 'subjectAltName=IP:127.0.0.1,DNS:localhost' > server.ext; "
		 "echo 'extendedKeyUsage=clientAuth' > client.ext; "
		 "for who in server client; do openssl x509 -req -in $who.csr -CA ca.crt "
		 "-CAkey ca.key -CAcreateserial -days 2 -extfile $who.ext -out $who.crt; done",
		 t->dir);
	return ASSERT_EQ(run_capture(argv, out, sizeof(out), err, sizeof(err)), 0, err);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* curl's HTTP status for url with args (curl's own options), or minus
 * curl's exit status when it got none (a failed handshake). */
static int curl_status(const char *url, const char *const args[], int n)
{
	char *argv[24] = { "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
			   "--max-time", "10" };
	char out[64] = "", err[1024];
	int argc = 8, status;

	for (int i = 0; i < n; i++)
		argv[argc++] = (char *)args[i];
	argv[argc++] = (char *)url;
	status = run_capture(argv, out, sizeof(out), err, sizeof(err));
	return status ? -status : atoi(out);
}

/* Ready: /healthz answers 200 over TLS, with the CA and the user. */
static bool tls_healthz(const struct agent *a, const void *ctx)
{
	const struct tls_files *t = ctx;
	const char *const args[] = { "--cacert", t->ca, "-u", "prometheus:" WEB_PASSWORD };
	char url[64];

	snprintf(url, sizeof(url), "https://127.0.0.1:%u/healthz", a->port);
	return curl_status(url, args, 4) == 200;
}

static void remove_tree(const char *dir)
{
	char *argv[] = { "rm", "-rf", (char *)dir, NULL }, out[64], err[64];

	run_capture(argv, out, sizeof(out), err, sizeof(err));
}

/* Ready: /healthz answers 200 over TLS with the client certificate. */
static bool client_healthz(const struct agent *a, const void *ctx)
{
	const struct tls_files *t = ctx;
	const char *const args[] = { "--cacert", t->ca, "--cert", t->client_cert, "--key",
				     t->client_key };
	char url[64];

	snprintf(url, sizeof(url), "https://127.0.0.1:%u/healthz", a->port);
	return curl_status(url, args, 6) == 200;
}

/* Served over TLS with basic authentication: curl with the CA and the
 * password gets the metrics; without the CA the handshake fails; a wrong
 * password or none is 401; a plain HTTP request gets nothing; and a real
 * Prometheus, with its own tls_config and basic_auth, scrapes it (up is
 * 1). The file names its certificate and key relative to itself. */
KTEST(agent_tls_and_basic_auth)
{
	static const char config[] =
		"tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
		"basic_auth_users:\n  prometheus: '" WEB_HASH "'\n  other: '" WEB_HASH "'\n";
	struct tls_files t;
	char url[64], job[512], buf[4096];
	const char *extra[] = { "--web-config", t.config };
	struct prometheus prom = { 0 };
	struct agent a;

	if (access("/usr/bin/openssl", X_OK) || access("/usr/bin/curl", X_OK) ||
	    access(PROMETHEUS, X_OK))
		test_skip("openssl, curl or prometheus is not installed (scripts/deps.sh --test "
			  "installs them)");
	if (!make_certificates(&t))
		return;
	write_text(t.config, config);
	if (!ASSERT_TRUE(agent_start_ready(&a, AF_INET, free_port(), 2, extra, tls_healthz, &t),
			 "agent up over TLS"))
		return;
	snprintf(url, sizeof(url), "https://127.0.0.1:%u/metrics", a.port);
	{
		const char *const good[] = { "--cacert", t.ca, "-u", "prometheus:" WEB_PASSWORD };
		const char *const no_ca[] = { "-u", "prometheus:" WEB_PASSWORD };
		const char *const wrong[] = { "--cacert", t.ca, "-u", "prometheus:secret" };
		const char *const unknown[] = { "--cacert", t.ca, "-u", "nobody:" WEB_PASSWORD };
		const char *const none[] = { "--cacert", t.ca };

		ASSERT_EQ(curl_status(url, good, 4), 200, "the CA and the password: 200");
		ASSERT_EQ(curl_status(url, good, 4), 200, "again (the verified password is kept)");
		ASSERT_EQ(curl_status(url, no_ca, 2), -60, "without the CA: the certificate fails");
		ASSERT_EQ(curl_status(url, wrong, 4), 401, "a wrong password: 401");
		ASSERT_EQ(curl_status(url, unknown, 4), 401, "an unknown user: 401");
		ASSERT_EQ(curl_status(url, none, 2), 401, "no credentials: 401");
	}
	ASSERT_TRUE(http_get(a.port, "/metrics", buf, sizeof(buf)) < 200, "plain HTTP: no answer");
	snprintf(job, sizeof(job), "    scheme: https\n    tls_config:\n      ca_file: %s\n"
		 "    basic_auth:\n      username: prometheus\n      password: " WEB_PASSWORD "\n",
		 t.ca);
	if (ASSERT_TRUE(prometheus_start_job(&prom, a.port, job), "prometheus ready")) {
		const struct expectation up[] = {
			{ "up{job=\"sockeye\"}", 1 },
			{ "count(sockeye_collector_refresh_success{job=\"sockeye\"} == 1)", 3 },
		};

		prometheus_expect(&prom, up, 2);
	}
	prometheus_stop(&prom);
	ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "exit 0");
	agent_stderr(&a, buf, sizeof(buf));
	ASSERT_HAS(buf, "serving /metrics on https://127.0.0.1:", "says https");
	remove_pins(&a);
	remove_tree(t.dir);
}

/* With client_ca_file and RequireAndVerifyClientCert, a client without a
 * certificate the CA signed is refused (403); with one it is served. */
KTEST(agent_tls_client_certificates)
{
	static const char config[] =
		"tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
		"  client_ca_file: ca.crt\n  client_auth_type: RequireAndVerifyClientCert\n";
	struct tls_files t;
	char url[64];
	const char *extra[] = { "--web-config", t.config };
	const char *const with[] = { "--cacert", t.ca, "--cert", t.client_cert,
				     "--key", t.client_key };
	struct agent a;

	if (access("/usr/bin/openssl", X_OK) || access("/usr/bin/curl", X_OK))
		test_skip("openssl or curl is not installed (scripts/deps.sh --test installs them)");
	if (!make_certificates(&t))
		return;
	write_text(t.config, config);
	if (!ASSERT_TRUE(agent_start_ready(&a, AF_INET, free_port(), 2, extra, client_healthz, &t),
			 "agent up over TLS"))
		return;
	snprintf(url, sizeof(url), "https://127.0.0.1:%u/metrics", a.port);
	ASSERT_EQ(curl_status(url, with, 6), 200, "with the client certificate: 200");
	ASSERT_EQ(curl_status(url, with, 2), 403, "without: 403");
	ASSERT_EQ(curl_status(url, (const char *const[]){ "--cacert", t.ca, "--cert", t.ca, "--key",
			      t.client_key }, 6) < 0, 1, "a certificate not matching its key: refused");
	ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "exit 0");
	remove_pins(&a);
	remove_tree(t.dir);
}

/* A bad --web-config is one line on stderr and exit 2, before anything
 * is loaded. */
TEST(agent_bad_web_config_exits_2)
{
	static const struct {
		const char *config, *says;
	} cases[] = {
		{ "tls_server_config: [", "line 2: did not find expected node content" },
		{ "listen: 1\n", "'listen' is not supported" },
		{ "tls_server_config:\n  cert_file: server.crt\n", "needs cert_file and key_file" },
		{ "tls_server_config:\n  cert_file: nosuch.crt\n  key_file: server.key\n",
		  "line 2: cert_file: cannot read /tmp/sockeye-test-tls-" },
		{ "tls_server_config:\n  cert_file: server.crt\n  key_file: client.key\n",
		  "cert_file and key_file: " },
		{ "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
		  "  client_ca_file: ca.crt\n", "client_ca_file without a client_auth_type" },
		{ "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
		  "  min_version: TLS13\n", "'min_version' is not supported" },
		{ "basic_auth_users:\n  prometheus: s3cret\n", "line 2: the hash of user 'prometheus' "
		  "is not a bcrypt hash" },
		{ "basic_auth_users:\n  a: '" WEB_HASH "'\n  a: '" WEB_HASH "'\n",
		  "user 'a' given twice" },
		{ "basic_auth_users: []\n", "basic_auth_users must be a mapping" },
	};
	struct tls_files t;
	char out[256], err[1024];
	char *argv[] = { (char *)sockeye_path(), "agent", "--web-config", t.config, NULL };

	if (access("/usr/bin/openssl", X_OK))
		test_skip("openssl is not installed (scripts/deps.sh --test installs it)");
	if (!make_certificates(&t))
		return;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_text(t.config, cases[i].config);
		ASSERT_EQ(run_capture(argv, out, sizeof(out), err, sizeof(err)), 2, cases[i].config);
		ASSERT_HAS(err, "sockeye agent: invalid --web-config '", "names the option and file");
		ASSERT_HAS(err, cases[i].says, cases[i].config);
		ASSERT_TRUE(strchr(err, '\n') == err + strlen(err) - 1, "one line");
	}
	unlink(t.config);
	argv[3] = t.config;
	ASSERT_EQ(run_capture(argv, out, sizeof(out), err, sizeof(err)), 2, "a missing file");
	ASSERT_HAS(err, "No such file or directory", "says why");
	argv[3] = t.dir;
	ASSERT_EQ(run_capture(argv, out, sizeof(out), err, sizeof(err)), 2, "a directory");
	ASSERT_HAS(err, "Is a directory", "says why");
	remove_tree(t.dir);
}

/* A hostile HTTP workload on one connection: every method the kernel
 * knows and two it does not, and a few hundred distinct status codes,
 * 200 to 999. The statuses are classes (2xx... and other for 600 and
 * up), whatever --max-series says; the methods the standard ones; every
 * exchange with a known method is counted, once a side; and the family
 * stays within its documented bound: 2 roles x 10 methods x 6 statuses x
 * 2 (tls) label sets of 16 series. */
KTEST(agent_http_series_stay_bounded)
{
	static const char *const methods[] = {
		"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
		"BREW", "FOO",
	};
	enum { EXCHANGES = 400, KNOWN = 9, BOUND = 2 * 10 * 6 * 2 * 16 };
	static const char name[] = "sockeye_http_request_duration_seconds";
	static char buf[1 << 20];
	char port_arg[8], request[128], response[128];
	const char *const extra[] = { "--collectors", "http", "--port", port_arg, "--max-series",
				      "2" };
	long long counted = 0, sets = 0, samples = 0, expected = 0;
	int srv, cli, acc;
	uint16_t port, cport;
	struct agent a;

	tcp_connection(AF_INET, &srv, &cli, &acc, &port, &cport);
	snprintf(port_arg, sizeof(port_arg), "%u", port);
	if (!ASSERT_TRUE(agent_start(&a, 6, extra), "agent up"))
		return;
	for (int i = 0; i < EXCHANGES; i++) {
		const char *method = methods[i % 11];
		unsigned status = 200 + i * 7 % 800;

		snprintf(request, sizeof(request), "%s /x%d HTTP/1.1\r\nHost: t\r\n\r\n", method, i);
		snprintf(response, sizeof(response), "HTTP/1.1 %u X\r\nContent-Length: 0\r\n\r\n",
			 status);
		if (!ASSERT_TRUE(one_http_exchange(cli, acc, request, response), request))
			break;
		expected += 2 * (i % 11 < KNOWN);
	}
	for (int waited = 0; waited < 5000 && counted != expected; waited += 100) {
		sleep_ms(100);
		if (http_get(a.port, "/metrics", buf, sizeof(buf)) != 200)
			continue;
		counted = 0;
		for (const char *l = strstr(body_of(buf), "_count{"); l; l = strstr(l + 1, "_count{"))
			counted += strtoll(strchr(l, ' ') + 1, NULL, 10);
	}
	ASSERT_EQ(counted, expected, "each exchange of a known method, once a side");
	for (const char *l = body_of(buf); *l; l = strchr(l, '\n') + 1) {
		char status[16] = "", method[16] = "";

		if (strncmp(l, name, sizeof(name) - 1))
			continue;
		samples++;
		if (strncmp(l + sizeof(name) - 1, "_count{", 7))
			continue;
		sets++;
		sscanf(strstr(l, "method=\""), "method=\"%15[^\"]", method);
		sscanf(strstr(l, "status=\""), "status=\"%15[^\"]", status);
		ASSERT_TRUE(strlen(status) == 3 && strchr("2345", status[0]) &&
			    !strcmp(status + 1, "xx") ? true : !strcmp(status, "other"), status);
		ASSERT_TRUE(strstr(" GET HEAD POST PUT DELETE PATCH OPTIONS CONNECT TRACE OTHER ",
				   method) != NULL, method);
	}
	ASSERT_EQ(sets, 2 * KNOWN * 5, "each role, known method and status class: one histogram");
	ASSERT_EQ(samples, sets * 16, "16 series each");
	ASSERT_TRUE(samples <= BOUND, "within the documented bound");
	check_exposition(body_of(buf));
	ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "exit 0");
	remove_pins(&a);
	close(cli), close(acc), close(srv);
}

/* TCP connections in ESTABLISHED with an end on port, as ss counts them
 * (a connection on this machine has two); -1 if ss fails. */
static long long ss_established(uint16_t port)
{
	char p[16], out[1 << 16], err[1024];
	char *argv[] = { "/usr/bin/ss", "-tnH", "state", "established", "(", "sport", "=", p,
			 "or", "dport", "=", p, ")", NULL };
	long long n = 0;

	snprintf(p, sizeof(p), ":%u", port);
	if (run_capture(argv, out, sizeof(out), err, sizeof(err)))
		return -1;
	for (const char *c = out; (c = strchr(c, '\n')); c++)
		n++;
	return n;
}

/* In a child named comm: `accepted` connections to listener's port that
 * it accepts too (both ends its own), then `pending` it leaves in the
 * listener's queue. The child holds them until hold is closed; the
 * returned pid's connections are up when this returns. */
static pid_t hold_connections(const char *comm, int listener, uint16_t port, int accepted,
			      int pending, int hold[2])
{
	int ready[2];
	pid_t pid;
	char c;

	if (pipe(ready))
		return -1;
	pid = fork();
	if (pid == 0) {
		bool up = true;

		close(ready[0]);
		close(hold[1]);		/* else its own copy keeps it open */
		prctl(PR_SET_NAME, comm);
		for (int i = 0; i < accepted + pending && up; i++)
			up = connect_to(AF_INET, SOCK_STREAM, port) >= 0 &&
			     (i >= accepted || accept(listener, NULL, NULL) >= 0);
		if (!up || write(ready[1], "r", 1) != 1)
			_exit(1);
		_exit(read(hold[0], &c, 1) == 0 ? 0 : 1);
	}
	close(ready[1]);
	if (pid > 0 && read(ready[0], &c, 1) != 1) {
		wait_status(pid);
		pid = -1;
	}
	close(ready[0]);
	return pid;
}

/* Two children hold connections to the test's listener: a big one (its
 * name with an invalid byte) accepts N of its own and leaves M in the
 * queue, a small one accepts 1. With a budget of one name, the gauge by
 * name says 2N + M for the big one (the queued ends have no owner yet)
 * and 2 as other; the total 2N + 2M + 2, as ss counts; once the children
 * and the listener are gone, 0, and no series for the names. */
KTEST(agent_established_connections_now)
{
	enum { N = 4, M = 3 };
	static const char by_comm[] = "sockeye_process_tcp_connections_established"
				      "{comm=\"agt-big\xef\xbf\xbd\"}";
	static const char other[] = "sockeye_process_tcp_connections_established"
				    "{comm=\"other\"}";
	static const char total[] = "sockeye_tcp_connections_established";
	static char buf[1 << 18];
	char port_arg[8];
	const char *const extra[] = { "--port", port_arg, "--collectors", "flows",
				      "--max-series", "1" };
	int hold[2], listener;
	pid_t small, big;
	uint16_t port;
	struct agent a;

	listener = private_listener(&port);
	snprintf(port_arg, sizeof(port_arg), "%u", port);
	if (!ASSERT_TRUE(agent_start(&a, 6, extra), "agent up"))
		return;
	if (!ASSERT_EQ(pipe(hold), 0, "pipe"))
		goto out;
	/* The small one first: accept() takes the queue's oldest. */
	small = hold_connections("agt-small", listener, port, 1, 0, hold);
	big = hold_connections("agt-big\xff", listener, port, N, M, hold);
	close(hold[0]);
	ASSERT_TRUE(small > 0 && big > 0, "the children's connections are up");
	ASSERT_EQ(wait_for_series(a.port, by_comm, 2 * N + M), 2 * N + M,
		  "by name: the big child's ends");
	ASSERT_EQ(wait_for_series(a.port, other, 2), 2, "other: the small child's");
	ASSERT_EQ(http_get(a.port, "/metrics", buf, sizeof(buf)), 200, "scrape");
	ASSERT_EQ(series_value(body_of(buf), total), 2 * N + 2 * M + 2, "in total: every end");
	ASSERT_EQ(series_value(body_of(buf), total), ss_established(port), "as ss counts");
	ASSERT_EQ(series_value(body_of(buf), by_comm), 2 * N + M, "by name, no more");
	ASSERT_EQ(series_value(body_of(buf), other), 2, "other, no more");
	ASSERT_TRUE(!strstr(body_of(buf), "agt-small"), "no series of its own for the small one");
	ASSERT_EQ(series_value(body_of(buf), "sockeye_comm_names{collector=\"flows\"}"), 1,
		  "one name in the budget");
	check_exposition(body_of(buf));
	close(hold[1]);
	ASSERT_EQ(wait_status(small), 0, "small child done");
	ASSERT_EQ(wait_status(big), 0, "big child done");
	close(listener);
	listener = -1;
	for (int waited = 0; waited < 5000; waited += 100) {
		if (http_get(a.port, "/metrics", buf, sizeof(buf)) == 200 &&
		    series_value(body_of(buf), total) == 0)
			break;
		sleep_ms(100);
	}
	ASSERT_EQ(series_value(body_of(buf), total), 0, "closed: none");
	ASSERT_EQ(ss_established(port), 0, "none as ss counts");
	ASSERT_TRUE(!strstr(body_of(buf), "sockeye_process_tcp_connections_established{"),
		    "and no series by name");
out:
	ASSERT_EQ(agent_stop(&a, SIGTERM), 0, "exit 0");
	remove_pins(&a);
	if (listener >= 0)
		close(listener);
}
