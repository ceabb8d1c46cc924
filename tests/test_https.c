// SPDX-License-Identifier: GPL-2.0-only
/* HTTPS in `sockeye http`: nginx serving TLS with a certificate the test
 * makes, on a port of its own, and real clients on both TLS libraries:
 * curl and Python's ssl module (OpenSSL), gnutls-cli (GnuTLS). Every
 * exchange must be seen once per side, inside TLS, and the encrypted bytes
 * on the same sockets must count nowhere. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "test.h"
#include "helpers.h"
#include "http_session.h"
#include "tls_server.h"

#define CLIENT_SCRIPT "tests/https_client.py"

/* Lines of nginx's access log ("METHOD STATUS URI") that start with what. */
static int access_log_lines(const struct tls_server *s, const char *what)
{
	char path[128], line[256];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/access.log", s->dir);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		n += !strncmp(line, what, strlen(what));
	if (f)
		fclose(f);
	return n;
}

/* Waits up to 30 s for nginx to have logged n requests in all. */
static bool logged(const struct tls_server *s, int n)
{
	for (int waited = 0; waited < 30000; waited += 20) {
		if (access_log_lines(s, "") >= n)
			return true;
		sleep_ms(20);
	}
	return false;
}

/* Waits up to 30 s for pid to exit; -1 if it did not. */
static int exit_status_within(pid_t pid)
{
	for (int waited = 0; waited < 30000; waited += 20) {
		int status;

		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		sleep_ms(20);
	}
	return -1;
}

/* gnutls-cli over one connection, each request written once nginx logged
 * the one before (the kernel's sums take one request per write), the last
 * asking nginx to close, which ends gnutls-cli. */
static bool gnutls_client(const struct tls_server *s)
{
	static const char *const requests[] = {
		"GET /size/3 HTTP/1.1\r\nHost: t\r\n\r\n",
		"POST /post HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc",
		"GET /nothing HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
	};
	char port[8];
	char *argv[] = { GNUTLS_CLI, "--insecure", "-p", port, "127.0.0.1", NULL };
	int in[2], n = access_log_lines(s, ""), status;
	bool answered = true;
	pid_t pid;

	snprintf(port, sizeof(port), "%u", s->port);
	if (!ASSERT_EQ(pipe(in), 0, "pipe"))
		return false;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(in[0], 0);
		dup2(null, 1);
		dup2(null, 2);
		close(in[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]) && answered; i++)
		answered = write(in[1], requests[i], strlen(requests[i])) ==
			   (ssize_t)strlen(requests[i]) && logged(s, n + i + 1);
	status = exit_status_within(pid);
	close(in[1]);
	if (status < 0) {
		kill(pid, SIGKILL);
		wait_status(pid);
	}
	return ASSERT_TRUE(answered, "nginx answered each request of gnutls-cli") &&
	       ASSERT_EQ(status, 0, "gnutls-cli ends when nginx closes");
}

static bool python_client(const struct tls_server *s)
{
	char port[8];
	char *argv[] = { PYTHON, CLIENT_SCRIPT, port, NULL };

	snprintf(port, sizeof(port), "%u", s->port);
	return ASSERT_TRUE(run_quietly(argv), "the Python client succeeds");
}

/* Exchanges of this side, method, status and path; each must be inside
 * TLS and moved by pid. */
static int exchanges(const struct events *ev, bool server, const char *method, unsigned status,
		     const char *path, pid_t pid)
{
	int n = 0;

	for (int i = 0; i < ev->n; i++) {
		const struct http_event *e = &ev->e[i];

		if (e->x.server != server || strcmp(e->x.method, method) || e->x.status != status ||
		    strcmp(e->x.path, path))
			continue;
		n++;
		ASSERT_TRUE(e->tls, "inside TLS");
		ASSERT_EQ(e->owner.pid, pid, server ? "nginx's pid" : "curl's pid");
	}
	return n;
}

/* Each exchange of curl against nginx once per side, with its method,
 * status and path: three over one keep-alive connection, then a POST. */
KTEST(https_curl_and_nginx_each_exchange_once_per_side)
{
	static const struct { const char *method, *path; unsigned status; int run; } want[] = {
		{ "GET", "/size/5", 200, 0 }, { "GET", "/size/66", 200, 0 },
		{ "GET", "/missing", 404, 0 }, { "POST", "/post", 201, 1 },
	};
	struct events *ev = calloc(1, sizeof(*ev));
	struct tls_libs *libs = calloc(1, sizeof(*libs));
	struct tls_server srv = {};
	struct http_session s;
	char u[4][96];
	pid_t runs[2];

	if (!tls_tools_here() || !tls_server_start(&srv))
		goto out;
	struct sock_filters filters = { .port = srv.port };

	for (int i = 0; i < 4; i++)
		tls_url(u[i], sizeof(u[i]), &srv, want[i].path);
	tls_libs_find(libs);
	if (!ASSERT_EQ(http_session_start(&s, &filters, libs, HTTP_DEFAULT_BYTES, collect_exchange,
					  ev), 0, "session starts"))
		goto out;
	ASSERT_TRUE(s.tls.n > 0, "uprobes attached");
	runs[0] = tls_curl((char *[]){ u[0], u[1], u[2], NULL });
	runs[1] = tls_curl((char *[]){ "--data-binary", "0123456789", u[3], NULL });
	drain_reader(&s.reader);
	ASSERT_EQ(ev->n, 8, "one record per side of each exchange, none for the TLS records");
	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(exchanges(ev, true, want[i].method, want[i].status, want[i].path, srv.pid),
			  1, want[i].path);
		ASSERT_EQ(exchanges(ev, false, want[i].method, want[i].status, want[i].path,
				    runs[want[i].run]), 1, want[i].path);
	}
	for (int i = 0; i < ev->n; i++)
		if (!strcmp(ev->e[i].x.path, "/post"))
			ASSERT_EQ(ev->e[i].x.request_size, 10, "the POST's body size");
	http_session_stop(&s);
out:
	tls_server_stop(&srv);
	free(libs);
	free(ev);
}

/* The count summed for this role, method, status and group: all inside
 * TLS (a sum outside fails). */
static uint64_t summed(const struct sums *s, bool server, const char *method, unsigned status,
		       const char *group)
{
	uint64_t n = 0;

	for (int i = 0; i < s->n; i++) {
		const struct http_sum_key *k = &s->key[i];

		ASSERT_TRUE(k->tls, "every sum inside TLS");
		if (k->server == server && !strncmp(k->method, method, sizeof(k->method)) &&
		    k->status == status && !strncmp(k->group, group, sizeof(k->group)))
			n += s->sum[i].count;
	}
	return n;
}

/* Summed in the kernel (--summary, the agent): Python's client (OpenSSL)
 * and gnutls-cli (GnuTLS), each over one connection, on both sides, as
 * nginx's access log has them. */
KTEST(https_python_and_gnutls_summed_as_the_access_log)
{
	static const struct { const char *method, *group; unsigned status; uint64_t n; } want[] = {
		{ "GET", "/size", 200, 3 }, { "GET", "/missing", 404, 1 },
		{ "GET", "/nothing", 404, 1 }, { "POST", "/post", 201, 2 },
	};
	struct tls_libs *libs = calloc(1, sizeof(*libs));
	struct sums *got = calloc(1, sizeof(*got));
	struct tls_server srv = {};
	struct http_session s;
	char line[64];

	if (!tls_tools_here() || !tls_server_start(&srv))
		goto out;
	struct sock_filters filters = { .port = srv.port };

	tls_libs_find(libs);
	if (!ASSERT_EQ(http_sums_start(&s, &filters, libs, true, ""), 0, "session starts"))
		goto out;
	python_client(&srv);
	gnutls_client(&srv);
	ASSERT_EQ(http_sums_read(&s, collect_sum, got), 0, "sums read");
	ASSERT_EQ(got->n, 8, "four method/status/group sums, two roles each, none outside TLS");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(line, sizeof(line), "%s %u %s", want[i].method, want[i].status,
			 want[i].group);
		ASSERT_EQ(summed(got, true, want[i].method, want[i].status, want[i].group), want[i].n,
			  line);
		ASSERT_EQ(summed(got, false, want[i].method, want[i].status, want[i].group),
			  want[i].n, line);
		ASSERT_EQ(access_log_lines(&srv, line), (int)want[i].n, "nginx's access log");
	}
	ASSERT_EQ(http_sums_full(&s), 0, "nothing left out");
	http_session_stop(&s);
out:
	tls_server_stop(&srv);
	free(libs);
	free(got);
}

/* GnuTLS on the server's side: gnutls-serv --http (which answers any GET
 * with 200 and closes) with nginx's certificate, and curl (OpenSSL): two
 * exchanges, each once a side, inside TLS. */
KTEST(https_gnutls_server_summed_on_both_sides)
{
	struct tls_libs *libs = calloc(1, sizeof(*libs));
	struct sums *got = calloc(1, sizeof(*got));
	struct tls_server srv = {}, gnutls = {};
	char cert[96], key[96], port[8], u[2][96];
	char *serv[] = { GNUTLS_SERV, "--http", "-q", "-p", port, "--x509certfile", cert,
			 "--x509keyfile", key, NULL };
	struct http_session s;

	if (!tls_tools_here() || !tls_server_start(&srv))
		goto out;
	snprintf(cert, sizeof(cert), "%s/cert.pem", srv.dir);
	snprintf(key, sizeof(key), "%s/key.pem", srv.dir);
	gnutls.port = free_port();
	snprintf(port, sizeof(port), "%u", gnutls.port);
	gnutls.pid = spawn(serv, "/dev/null");
	if (!ASSERT_TRUE(tls_server_accepting(&gnutls), "gnutls-serv serves TLS"))
		goto out;
	struct sock_filters filters = { .port = gnutls.port };

	tls_url(u[0], sizeof(u[0]), &gnutls, "/a");
	tls_url(u[1], sizeof(u[1]), &gnutls, "/b");
	tls_libs_find(libs);
	if (!ASSERT_EQ(http_sums_start(&s, &filters, libs, true, ""), 0, "session starts"))
		goto out;
	tls_curl((char *[]){ u[0], NULL });
	tls_curl((char *[]){ u[1], NULL });
	ASSERT_EQ(http_sums_read(&s, collect_sum, got), 0, "sums read");
	ASSERT_EQ(got->n, 4, "two paths, two roles, none outside TLS");
	for (int server = 0; server < 2; server++) {
		ASSERT_EQ(summed(got, server, "GET", 200, "/a"), 1, server ? "server /a" : "client /a");
		ASSERT_EQ(summed(got, server, "GET", 200, "/b"), 1, server ? "server /b" : "client /b");
	}
	http_session_stop(&s);
out:
	if (gnutls.pid > 0) {
		kill(gnutls.pid, SIGTERM);
		wait_status(gnutls.pid);
	}
	tls_server_stop(&srv);
	free(libs);
	free(got);
}

/* curl, started after sockeye, on a copy of OpenSSL nothing mapped then. */
static void curl_on_the_copy(void *ctx)
{
	const struct tls_server *srv = ctx;
	char u[96];

	tls_url(u, sizeof(u), srv, "/size/7");
	tls_curl_on_copy(srv, (char *[]){ u, NULL });
}

/* --tls-lib on a copy of the library: a process started after sockeye that
 * maps it is seen (a uprobe is set on the file, for every later mapping). */
KTEST(cli_https_tls_lib_covers_a_process_started_later)
{
	static char out[16384];
	struct tls_server srv = {};
	char copy[128], port[8];
	char *argv[] = { (char *)sockeye_path(), "http", "--tls-plaintext", "--tls-lib", copy,
			 "--port", port, "--json", NULL };

	if (!tls_tools_here() || !tls_server_start(&srv) ||
	    !tls_libssl_copy(&srv, copy, sizeof(copy)))
		goto out;
	snprintf(port, sizeof(port), "%u", srv.port);
	ASSERT_EQ(sockeye_stopped_after_traffic(argv, "tls_x", curl_on_the_copy, &srv, out,
						sizeof(out)), 0, "exit status");
	/* curl may have exited before sockeye looked its executable up. */
	ASSERT_TRUE(strstr(out, "curl\",\"role\":\"client\",\"tls\":true") ||
		    strstr(out, "\"comm\":\"curl\",\"exe\":null,\"role\":\"client\",\"tls\":true"),
		    "curl's side");
	ASSERT_HAS(out, "\"method\":\"GET\",\"path\":\"/size/7\",\"path_truncated\":false,"
			"\"version\":\"1.1\",\"status\":200,", "the exchange");
out:
	tls_server_stop(&srv);
}

/* A --tls-lib that is no ELF file, has neither library's calls, or is not
 * there: one line, exit 2. */
TEST(cli_https_bad_tls_lib_exits_2)
{
	static const char *const bad[][2] = {
		{ "tests/https_client.py", "is not an ELF file" },
		{ "/bin/sh", "defines neither OpenSSL's SSL_write and SSL_read nor GnuTLS's" },
		{ "/nonexistent/libssl.so.3", "No such file or directory" },
	};
	char out[1024], err[1024];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = { (char *)sockeye_path(), "http", "--summary", "--tls-lib",
				 (char *)bad[i][0], NULL };

		ASSERT_EQ(run_capture(argv, out, sizeof(out), err, sizeof(err)), 2, bad[i][0]);
		ASSERT_HAS(err, bad[i][1], "why");
		ASSERT_TRUE(strchr(err, '\n') == err + strlen(err) - 1, "one line");
		argv[1] = "agent";
		argv[2] = "--collectors=http";
		ASSERT_EQ(run_capture(argv, out, sizeof(out), err, sizeof(err)), 2, "the agent's");
		ASSERT_HAS(err, bad[i][1], "the agent's why");
	}
}
