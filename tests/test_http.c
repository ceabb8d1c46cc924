// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye http` against a real server (Python's http.server, keep-alive,
 * tests/http_server.py) and real clients: curl, and this test's own socket
 * code writing a request in pieces and reading the answer in small reads. */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <netinet/in.h>
#include "test.h"
#include "helpers.h"
#include "http_session.h"

#define CURL "/usr/bin/curl"
#define PYTHON "/usr/bin/python3"
#define SERVER_SCRIPT "tests/http_server.py"

struct server {
	pid_t pid;
	uint16_t port;
	int family;
};

/* Safe on a server that is not running (pid 0). */
static void server_stop(struct server *s)
{
	if (s->pid <= 0)
		return;
	kill(s->pid, SIGTERM);
	wait_status(s->pid);
	s->pid = 0;
}

/* Starts the server on the loopback address of family; false if it did
 * not say its port. */
static bool server_start(struct server *s, int family)
{
	char line[32] = {};
	int fds[2];

	s->family = family;
	if (pipe(fds))
		return false;
	s->pid = fork();
	if (s->pid == 0) {
		char *argv[] = { PYTHON, SERVER_SCRIPT, family == AF_INET ? "127.0.0.1" : "::1", NULL };

		dup2(fds[1], 1);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	ssize_t n = read(fds[0], line, sizeof(line) - 1);
	close(fds[0]);
	s->port = n > 0 ? atoi(line) : 0;
	if (ASSERT_TRUE(s->port > 0, "the server says its port"))
		return true;
	server_stop(s);
	return false;
}

static bool watch_only(struct http_session *s, struct events *ev,
		       const struct sock_filters *filters)
{
	ev->n = 0;
	return ASSERT_EQ(http_session_start(s, filters, NULL, HTTP_DEFAULT_BYTES, collect_exchange,
					    ev), 0, "session starts");
}

static bool watch(struct http_session *s, struct events *ev, uint16_t port)
{
	struct sock_filters filters = { .port = port };

	return watch_only(s, ev, &filters);
}

/* One answer as curl reports it with -w. */
struct answer {
	unsigned status;
	uint16_t lport;
	double starttransfer;	/* seconds from curl's start to the first byte */
};

struct curl_run {
	pid_t pid;
	int n;
	struct answer a[4];
};

#define WRITE_OUT "\nT %{http_code} %{local_port} %{time_starttransfer}\n"

/* Runs curl with args (URLs and options) and reads what -w printed. */
static bool run_curl(struct curl_run *c, const char *const args[])
{
	char path[] = "/tmp/sockeye-test-curlXXXXXX", out[8192], *line;
	char *argv[16] = { CURL, "-s", "-w", WRITE_OUT };
	int fd = mkstemp(path), i = 4;
	ssize_t n;

	for (; *args && i < 15; args++)
		argv[i++] = (char *)*args;
	c->pid = spawn(argv, path);
	ASSERT_EQ(wait_status(c->pid), 0, "curl succeeds");
	n = read(fd, out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	c->n = 0;
	for (line = strstr(out, "\nT "); line && c->n < 4; line = strstr(line + 1, "\nT ")) {
		struct answer *a = &c->a[c->n++];

		sscanf(line, "\nT %u %hu %lf", &a->status, &a->lport, &a->starttransfer);
	}
	return c->n > 0;
}

/* The one event of this role and path; NULL (and a failure) unless there
 * is exactly one. */
static const struct http_event *find(const struct events *ev, bool server, const char *path,
				     uint16_t lport)
{
	const struct http_event *found = NULL;
	int n = 0;

	for (int i = 0; i < ev->n; i++) {
		const struct http_event *e = &ev->e[i];
		uint16_t client_port = server ? e->tuple.dport : e->tuple.sport;

		if (e->x.server == server && !strcmp(e->x.path, path) && client_port == lport) {
			found = e;
			n++;
		}
	}
	ASSERT_EQ(n, 1, server ? "one server record" : "one client record");
	return n == 1 ? found : NULL;
}

struct expect {
	const char *method, *path;
	int64_t request_size, response_size;
};

static void check_side(const struct http_event *e, pid_t pid, const char *comm,
		       const struct server *srv, const struct answer *a, const struct expect *x)
{
	uint64_t latency = e->x.response_ns - e->x.request_ns;

	ASSERT_EQ(e->owner.pid, pid, "pid");
	ASSERT_STR_EQ(e->owner.comm, comm, "comm");
	ASSERT_EQ(e->tuple.family, srv->family, "family");
	ASSERT_TRUE(!memcmp(e->tuple.saddr, loopback_bytes(srv->family),
			    srv->family == AF_INET ? 4 : 16), "local address");
	ASSERT_EQ(e->x.server ? e->tuple.sport : e->tuple.dport, srv->port, "server port");
	ASSERT_STR_EQ(e->x.method, x->method, "method");
	ASSERT_EQ(e->x.status, a->status, "status");
	ASSERT_EQ(e->x.major * 10 + e->x.minor, 11, "HTTP/1.1");
	ASSERT_EQ(e->x.request_size, x->request_size, "request size");
	ASSERT_EQ(e->x.response_size, x->response_size, "response size");
	ASSERT_TRUE(e->x.response_ns > e->x.request_ns, "latency > 0");
	ASSERT_TRUE(latency <= (uint64_t)(a->starttransfer * 1e9) + 1000,
		    "latency <= curl's time to the first byte");
}

/* Both sides of each exchange of one curl run, once each. */
static void check_run(const struct events *ev, const struct server *srv,
		      const struct curl_run *c, const struct expect *x, int n)
{
	if (!ASSERT_EQ(c->n, n, "curl's answers"))
		return;
	for (int i = 0; i < n; i++) {
		const struct http_event *client = find(ev, false, x[i].path, c->a[i].lport);
		const struct http_event *server = find(ev, true, x[i].path, c->a[i].lport);

		if (client)
			check_side(client, c->pid, "curl", srv, &c->a[i], &x[i]);
		if (server)
			check_side(server, srv->pid, "python3", srv, &c->a[i], &x[i]);
	}
}

static void url(char *buf, size_t len, const struct server *s, const char *path)
{
	snprintf(buf, len, s->family == AF_INET ? "http://127.0.0.1:%u%s" : "http://[::1]:%u%s",
		 s->port, path);
}

static void curl_exchanges(int family)
{
	static const struct expect keep_alive[] = {
		{ "GET", "/size/5", 0, 5 }, { "GET", "/size/1000", 0, 1000 }, { "GET", "/size/0", 0, 0 },
	};
	static const struct expect post = { "POST", "/post", 10, 2 };
	static const struct expect missing = { "GET", "/missing", 0, 8 };
	char u[3][64], p[64], m[64];
	struct http_session s;
	struct curl_run runs[3];
	struct events *ev = calloc(1, sizeof(*ev));
	struct server srv;

	if (!server_start(&srv, family))
		return;
	for (int i = 0; i < 3; i++)
		url(u[i], sizeof(u[i]), &srv, keep_alive[i].path);
	url(p, sizeof(p), &srv, "/post");
	url(m, sizeof(m), &srv, "/missing");
	if (watch(&s, ev, srv.port)) {
		run_curl(&runs[0], (const char *[]){ u[0], u[1], u[2], NULL });
		run_curl(&runs[1], (const char *[]){ "--data-binary", "0123456789", p, NULL });
		run_curl(&runs[2], (const char *[]){ m, NULL });
		drain_reader(&s.reader);
		ASSERT_EQ(ev->n, 10, "two records per request");
		ASSERT_TRUE(runs[0].a[0].lport == runs[0].a[2].lport, "curl kept the connection");
		check_run(ev, &srv, &runs[0], keep_alive, 3);
		check_run(ev, &srv, &runs[1], &post, 1);
		check_run(ev, &srv, &runs[2], &missing, 1);
		http_session_stop(&s);
	}
	server_stop(&srv);
	free(ev);
}

KTEST(http_curl_ipv4)
{
	curl_exchanges(AF_INET);
}

KTEST(http_curl_ipv6)
{
	curl_exchanges(AF_INET6);
}

static bool send_text(int fd, const char *text)
{
	return send(fd, text, strlen(text), 0) == (ssize_t)strlen(text);
}

/* Reads an answer of known length in 7-byte reads; returns when the
 * first read returned. */
static uint64_t read_in_pieces(int fd, size_t len)
{
	uint64_t first = 0;
	char buf[7];

	while (len) {
		ssize_t n = recv(fd, buf, len < sizeof(buf) ? len : sizeof(buf), 0);

		if (n <= 0)
			break;
		if (!first)
			first = monotonic_ns();
		len -= n;
	}
	return first;
}

/* Sends bytes that are not HTTP, reads the server's complaint to the end. */
static void not_http(uint16_t port, const char *junk)
{
	int fd = connect_to(AF_INET, SOCK_STREAM, port);
	char buf[4096];

	send_text(fd, junk);
	while (recv(fd, buf, sizeof(buf), 0) > 0)
		;
	close(fd);
}

KTEST(http_request_in_small_writes_and_not_http)
{
	static const char *pieces[] = {
		"GET /size/3 HTTP/1.1\r\n", "Host: t\r\n", "X-Pad: 0123456789\r\n", "\r\n",
	};
	/* "HTTP/1.1 200 OK\r\n" and the headers http.server sends, then 3 bytes */
	struct http_session s;
	struct events *ev = calloc(1, sizeof(*ev));
	struct server srv;
	uint64_t t0, t1;
	uint16_t lport;
	int fd;

	if (!server_start(&srv, AF_INET))
		return;
	if (watch(&s, ev, srv.port)) {
		fd = connect_to(AF_INET, SOCK_STREAM, srv.port);
		lport = local_port(fd);
		t0 = monotonic_ns();
		for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
			ASSERT_TRUE(send_text(fd, pieces[i]), "piece sent");
			sleep_ms(20);	/* the server reads each on its own */
		}
		shutdown(fd, SHUT_WR);	/* the server closes after answering */
		t1 = read_in_pieces(fd, 1 << 20);
		close(fd);
		not_http(srv.port, "SSH-2.0-OpenSSH_9.2\r\n");
		not_http(srv.port, "GET \x01\x02\x03 x\r\n\r\n");
		drain_reader(&s.reader);
		ASSERT_EQ(ev->n, 2, "one record per side, none for the bytes that are not HTTP");
		for (int server = 0; server < 2; server++) {
			const struct http_event *e = find(ev, server, "/size/3", lport);

			if (!e)
				continue;
			ASSERT_EQ(e->owner.pid, server ? srv.pid : getpid(), "pid");
			ASSERT_EQ(e->x.status, 200, "status");
			ASSERT_EQ(e->x.response_size, 3, "response size");
			ASSERT_TRUE(e->x.response_ns > e->x.request_ns, "latency > 0");
			ASSERT_TRUE(e->x.response_ns - e->x.request_ns <= t1 - t0,
				    "latency <= the client's time to the first byte");
		}
		http_session_stop(&s);
	}
	server_stop(&srv);
	free(ev);
}

/* Two requests in one write: answered in order, each paired with its own. */
KTEST(http_pipelined_requests)
{
	struct http_session s;
	struct events *ev = calloc(1, sizeof(*ev));
	struct server srv;
	uint16_t lport;
	int fd;

	if (!server_start(&srv, AF_INET6))
		goto out;
	if (watch(&s, ev, srv.port)) {
		fd = connect_to(AF_INET6, SOCK_STREAM, srv.port);
		lport = local_port(fd);
		ASSERT_TRUE(send_text(fd, "GET /size/1 HTTP/1.1\r\n\r\nGET /size/22 HTTP/1.1\r\n\r\n"),
			    "both requests sent");
		shutdown(fd, SHUT_WR);	/* the server closes after answering */
		read_in_pieces(fd, 1 << 20);
		close(fd);
		drain_reader(&s.reader);
		ASSERT_EQ(ev->n, 4, "two records per request");
		for (int server = 0; server < 2; server++) {
			const struct http_event *one = find(ev, server, "/size/1", lport);
			const struct http_event *two = find(ev, server, "/size/22", lport);

			if (one && two) {
				ASSERT_EQ(one->x.response_size, 1, "the first answer");
				ASSERT_EQ(two->x.response_size, 22, "the second answer");
				ASSERT_TRUE(two->x.response_ns > one->x.response_ns, "in order");
			}
		}
		http_session_stop(&s);
	}
	server_stop(&srv);
out:
	free(ev);
}

/* A child writes many requests while nobody reads the ring buffer: every
 * write is a record delivered or one counted as lost. */
KTEST(http_every_record_delivered_or_counted_lost)
{
	enum { WRITES = 60000 };
	static const char req[] = "GET / HTTP/1.1\r\n\r\n";
	struct http_session s;
	struct events *ev = calloc(1, sizeof(*ev));
	struct sock_filters filters = {};
	uint16_t port;
	int srv = bound_socket(AF_INET, SOCK_STREAM, true, &port), go[2], acc;
	pid_t child;

	if (pipe(go))
		goto out;
	child = fork();
	if (child == 0) {
		char byte;
		int fd = connect_to(AF_INET, SOCK_STREAM, port);

		if (fd < 0 || read(go[0], &byte, 1) != 1)
			_exit(1);
		for (int i = 0; i < WRITES; i++)
			if (!send_text(fd, req))
				_exit(1);
		_exit(0);
	}
	acc = accept(srv, NULL, NULL);
	filters.pid = child;	/* the writes only: each one is a record */
	if (watch_only(&s, ev, &filters)) {
		ASSERT_EQ(write(go[1], "g", 1), 1, "child told to go");
		ASSERT_TRUE(recv_exactly(acc, WRITES * strlen(req)), "all requests arrive");
		ASSERT_EQ(wait_status(child), 0, "child wrote them all");
		drain_reader(&s.reader);
		ASSERT_TRUE(reader_lost(&s.reader) > 0, "the ring buffer overflowed");
		ASSERT_EQ(s.records + reader_lost(&s.reader), WRITES, "delivered + lost");
		http_session_stop(&s);
	} else {
		kill(child, SIGKILL);
		wait_status(child);
	}
	close(acc);
	close(go[0]);
	close(go[1]);
out:
	close(srv);
	free(ev);
}

/* --pid and -6 act in the kernel: only the server's side of the IPv6
 * server's exchanges. */
KTEST(http_pid_and_family_filters)
{
	struct http_session s;
	struct events *ev = calloc(1, sizeof(*ev));
	struct server v4 = {}, v6 = {};
	struct curl_run c4, c6;
	char u4[64], u6[64];

	if (!server_start(&v4, AF_INET) || !server_start(&v6, AF_INET6))
		goto out;
	struct sock_filters filters = { .pid = v6.pid, .family = AF_INET6 };

	url(u4, sizeof(u4), &v4, "/size/1");
	url(u6, sizeof(u6), &v6, "/size/2");
	if (watch_only(&s, ev, &filters)) {
		run_curl(&c4, (const char *[]){ u4, NULL });
		run_curl(&c6, (const char *[]){ u6, NULL });
		drain_reader(&s.reader);
		if (ASSERT_EQ(ev->n, 1, "one record") && ASSERT_EQ(c6.n, 1, "curl's answer")) {
			const struct http_event *e = find(ev, true, "/size/2", c6.a[0].lport);

			if (e)
				ASSERT_EQ(e->owner.pid, v6.pid, "the IPv6 server");
		}
		http_session_stop(&s);
	}
out:
	server_stop(&v4);
	server_stop(&v6);
	free(ev);
}

/* ---- summing in the kernel (--summary, the agent) ---- */

/* The sum of this method, status, group and role; NULL (and a failure)
 * if there is none. */
static const struct http_sum *sum_of(const struct sums *s, const char *method, unsigned status,
				     const char *group, bool server)
{
	for (int i = 0; i < s->n; i++) {
		const struct http_sum_key *k = &s->key[i];

		if (!strncmp(k->method, method, sizeof(k->method)) && k->status == status &&
		    !strncmp(k->group, group, sizeof(k->group)) && k->server == server)
			return &s->sum[i];
	}
	ASSERT_TRUE(false, "a sum for each method, status, group and role");
	return NULL;
}

static uint64_t slots_total(const struct http_sum *sum)
{
	uint64_t n = 0;

	for (int i = 0; i < HTTP_LATENCY_SLOTS; i++)
		n += sum->slots[i];
	return n;
}

/* count exchanges on each side, in the histogram too, and no longer in
 * all than curl waited for its first bytes (client side). */
static void check_sum_sides(const struct sums *s, const char *method, unsigned status,
			    const char *group, uint64_t count, double curl_s)
{
	for (int server = 0; server < 2; server++) {
		const struct http_sum *sum = sum_of(s, method, status, group, server);

		if (!sum)
			continue;
		ASSERT_EQ(sum->count, count, server ? "server side count" : "client side count");
		ASSERT_EQ(slots_total(sum), count, "the histogram holds each");
		ASSERT_TRUE(sum->sum_ns > 0, "latency > 0");
		if (!server)
			ASSERT_TRUE(sum->sum_ns <= (uint64_t)(curl_s * 1e9) + 1000,
				    "latency <= curl's time to the first bytes");
	}
}

static double starttransfer_total(const struct curl_run *c)
{
	double t = 0;

	for (int i = 0; i < c->n; i++)
		t += c->a[i].starttransfer;
	return t;
}

/* Sums the exchanges on srv's port. */
static bool watch_sums(struct http_session *s, const struct server *srv, bool by_path,
		       const char *path_prefix)
{
	struct sock_filters filters = { .port = srv->port };

	return ASSERT_EQ(http_sums_start(s, &filters, NULL, by_path, path_prefix), 0, "session starts");
}

/* Exchanges summed in the kernel by method, status, path group and role:
 * three over one keep-alive connection, a POST, a 404, and bytes that are
 * not HTTP (an SSH banner; a request line the server answers with a 400)
 * counted nowhere. */
KTEST(http_sums_in_the_kernel)
{
	struct http_session s;
	struct sums *got = calloc(1, sizeof(*got));
	struct curl_run keep, post, missing;
	char u[3][64], p[64], m[64];
	struct server srv;

	if (!server_start(&srv, AF_INET6))
		goto out;
	url(u[0], sizeof(u[0]), &srv, "/size/5");
	url(u[1], sizeof(u[1]), &srv, "/size/1000");
	url(u[2], sizeof(u[2]), &srv, "/size/0");
	url(p, sizeof(p), &srv, "/post");
	url(m, sizeof(m), &srv, "/missing?to=/x");	/* the group ends at the query */
	if (watch_sums(&s, &srv, true, "")) {
		run_curl(&keep, (const char *[]){ u[0], u[1], u[2], NULL });
		run_curl(&post, (const char *[]){ "--data-binary", "0123456789", p, NULL });
		run_curl(&missing, (const char *[]){ m, NULL });
		not_http(srv.port, "SSH-2.0-OpenSSH_9.2\r\n");
		not_http(srv.port, "GET \x01\x02\x03 x\r\n\r\n");
		ASSERT_EQ(http_sums_read(&s, collect_sum, got), 0, "sums read");
		ASSERT_EQ(got->n, 6, "three method/status/group sums, two roles each");
		ASSERT_TRUE(keep.n == 3 && keep.a[0].lport == keep.a[2].lport,
			    "curl kept the connection");
		check_sum_sides(got, "GET", 200, "/size", 3, starttransfer_total(&keep));
		check_sum_sides(got, "POST", 201, "/post", 1, starttransfer_total(&post));
		check_sum_sides(got, "GET", 404, "/missing", 1, starttransfer_total(&missing));
		ASSERT_EQ(http_sums_full(&s), 0, "nothing left out");
		http_session_stop(&s);
	}
	server_stop(&srv);
out:
	free(got);
}

/* Without grouping by path (the agent) and with a path prefix (applied in
 * the kernel, on the whole path): only /size/1000 of the three. */
KTEST(http_sums_path_prefix_without_groups)
{
	static const char *const paths[] = { "/size/5", "/size/1000", "/missing/1" };
	struct sums *got = calloc(1, sizeof(*got));
	struct http_session s;
	struct curl_run c;
	struct server srv;
	char u[3][64];

	if (!server_start(&srv, AF_INET))
		goto out;
	for (int i = 0; i < 3; i++)
		url(u[i], sizeof(u[i]), &srv, paths[i]);
	if (watch_sums(&s, &srv, false, "/size/1")) {
		run_curl(&c, (const char *[]){ u[0], u[1], u[2], NULL });
		ASSERT_EQ(http_sums_read(&s, collect_sum, got), 0, "sums read");
		ASSERT_EQ(got->n, 2, "one sum, two roles");
		if (ASSERT_EQ(c.n, 3, "curl made the three requests"))
			check_sum_sides(got, "GET", 200, "", 1, c.a[1].starttransfer);
		http_session_stop(&s);
	}
	server_stop(&srv);
out:
	free(got);
}

/* A second request written before the first is answered (pipelined): the
 * first waits in its connection's entry, the second in the pending map.
 * Each side reads one message a call, and each answer is paired with its
 * own request: their statuses differ. */
KTEST(http_sums_pipelined_requests)
{
	static const char get[] = "GET /a/1 HTTP/1.1\r\n\r\n", put[] = "PUT /b/2 HTTP/1.1\r\n\r\n";
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	static const char missing[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
	struct sums *got = calloc(1, sizeof(*got));
	struct sock_filters filters = {};
	struct http_session s;
	int srv, cli, acc;
	uint16_t cport;
	uint64_t t0;

	tcp_connection(AF_INET, &srv, &cli, &acc, &filters.port, &cport);
	if (ASSERT_EQ(http_sums_start(&s, &filters, NULL, true, ""), 0, "session starts")) {
		t0 = monotonic_ns();
		ASSERT_TRUE(send_text(cli, get) && send_text(cli, put), "two requests sent");
		ASSERT_TRUE(recv_exactly(acc, strlen(get)) && recv_exactly(acc, strlen(put)),
			    "the server reads them one by one");
		ASSERT_TRUE(send_text(acc, ok) && send_text(acc, missing), "two answers sent");
		ASSERT_TRUE(recv_exactly(cli, strlen(ok)) && recv_exactly(cli, strlen(missing)),
			    "the client reads them one by one");
		ASSERT_EQ(http_sums_read(&s, collect_sum, got), 0, "sums read");
		ASSERT_EQ(got->n, 4, "two method/status/group sums, two roles each");
		check_sum_sides(got, "GET", 200, "/a", 1, (monotonic_ns() - t0) / 1e9);
		check_sum_sides(got, "PUT", 404, "/b", 1, (monotonic_ns() - t0) / 1e9);
		ASSERT_EQ(http_sums_full(&s), 0, "nothing left out");
		http_session_stop(&s);
	}
	close(acc);
	close(cli);
	close(srv);
	free(got);
}

struct cli_traffic {
	const struct server *srv;
};

static void two_requests(void *ctx)
{
	const struct cli_traffic *t = ctx;
	struct curl_run c;
	char ok[64], missing[64];

	url(ok, sizeof(ok), t->srv, "/size/4");
	url(missing, sizeof(missing), t->srv, "/missing");
	run_curl(&c, (const char *[]){ ok, NULL });
	run_curl(&c, (const char *[]){ missing, NULL });
}

static int sockeye_http(const struct server *srv, const char *mode, const char *more,
			char *out, size_t len)
{
	char port[8];
	char *argv[] = { (char *)sockeye_path(), "http", "--port", port, (char *)mode,
			 (char *)more, NULL };
	struct cli_traffic t = { srv };

	snprintf(port, sizeof(port), "%u", srv->port);
	return sockeye_stopped_after_traffic(argv, "http_recvmsg_e", two_requests, &t, out, len);
}

KTEST(cli_http_json_text_and_summary)
{
	char out[16384];
	struct server srv;
	uint32_t before = last_program_id();

	if (!server_start(&srv, AF_INET))
		return;
	ASSERT_EQ(sockeye_http(&srv, "--json", "--status=200", out, sizeof(out)), 0, "exit status");
	ASSERT_HAS(out, "\"role\":\"server\"", "the server's side");
	/* curl may have exited before sockeye looked its executable up. */
	ASSERT_TRUE(strstr(out, "\"comm\":\"curl\",\"exe\":\"" CURL "\",\"role\":\"client\"") ||
		    strstr(out, "\"comm\":\"curl\",\"exe\":null,\"role\":\"client\""),
		    "the client's side");
	ASSERT_HAS(out, "\"method\":\"GET\",\"path\":\"/size/4\",\"path_truncated\":false,"
			"\"version\":\"1.1\",\"status\":200,\"request_size\":0,\"response_size\":4,"
			"\"latency_ns\":", "the exchange");
	ASSERT_TRUE(!strstr(out, "/missing"), "--status leaves out the 404");
	ASSERT_EQ(sockeye_http(&srv, "--path-prefix", "/missing", out, sizeof(out)), 0,
		  "exit status");
	ASSERT_HAS(out, "TIME     PID     COMM             ROLE   TLS LOCAL", "the header");
	ASSERT_HAS(out, " GET     404    1.1 0        8         ", "the 404's row");
	ASSERT_TRUE(!strstr(out, "/size/4"), "--path-prefix leaves out the rest");
	ASSERT_EQ(sockeye_http(&srv, "--summary", "--json", out, sizeof(out)), 0, "exit status");
	/* One exchange between two processes of this host: once per role. */
	for (int server = 0; server < 2; server++) {
		char want[160];

		snprintf(want, sizeof(want), "\"method\":\"GET\",\"status\":200,\"path_prefix\":"
			 "\"/size\",\"tls\":false,\"role\":\"%s\",\"unit\":\"us\",\"total\":1,"
			 "\"counts\":[", server ? "server" : "client");
		ASSERT_HAS(out, want, "the 200 once on each side");
		snprintf(want, sizeof(want), "\"method\":\"GET\",\"status\":404,\"path_prefix\":"
			 "\"/missing\",\"tls\":false,\"role\":\"%s\",\"unit\":\"us\",\"total\":1,",
			 server ? "server" : "client");
		ASSERT_HAS(out, want, "the 404 apart, once on each side");
	}
	/* Only programs loaded since the test began: another sockeye may run. */
	ASSERT_EQ(count_programs_after("http_read_e", before), 0, "nothing left in the kernel");
	server_stop(&srv);
}

TEST(cli_http_help_says_payload_is_bounded)
{
	char *argv[] = { (char *)sockeye_path(), "http", "--help", NULL };
	char out[8192], err[1024];

	ASSERT_EQ(run_capture(argv, out, sizeof(out), err, sizeof(err)), 0, "exit status");
	ASSERT_HAS(out, "this command, and only this command, copies message bytes", "payload");
	ASSERT_HAS(out, "--max-bytes N", "the bound");
	ASSERT_HAS(out, "Examples:", "examples");
}
