// SPDX-License-Identifier: GPL-2.0-only
/* The tests' HTTPS server (nginx) and client (curl); see tls_server.h. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "test.h"
#include "helpers.h"
#include "probe.h"
#include "tls_server.h"

/* Skips the test (false) when a tool is missing or uprobes are. */
bool tls_tools_here(void)
{
	static const char *const tools[] = {
		NGINX, OPENSSL, CURL, GNUTLS_CLI, GNUTLS_SERV, PYTHON,
	};
	char why[256];

	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		if (access(tools[i], X_OK)) {
			snprintf(why, sizeof(why), "%s is not installed (scripts/deps.sh --test "
				 "installs it)", tools[i]);
			test_skip(why);
			return false;
		}
	if (!uprobes_available(why, sizeof(why))) {
		test_skip(why);
		return false;
	}
	return true;
}

bool run_quietly(char *const argv[])
{
	return wait_status(spawn_logged(argv, "/dev/null", "/dev/null")) == 0;
}

static void write_nginx_conf(const struct tls_server *s)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/nginx.conf", s->dir);
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "daemon off; master_process off; worker_processes 1;\n"
		"pid %1$s/nginx.pid; error_log %1$s/error.log;\n"
		"events { worker_connections 64; }\n"
		"http {\n"
		"  log_format t '$request_method $status $uri';\n"
		"  access_log %1$s/access.log t;\n"
		"  server {\n"
		"    listen 127.0.0.1:%2$u ssl;\n"
		"    ssl_certificate %1$s/cert.pem; ssl_certificate_key %1$s/key.pem;\n"
		"    root %1$s/www;\n"
		"    location /size/ { return 200 \"hello\"; }\n"
		"    location /post { return 201 \"ok\"; }\n"
		"  }\n"
		"}\n", s->dir, s->port);
	fclose(f);
}

bool tls_server_accepting(const struct tls_server *s)
{
	/* Long: an emulated guest starts nginx slowly; success ends the wait. */
	for (int waited = 0; waited < SETTLE_WAIT_MS; waited += 50) {
		int fd = connect_to(AF_INET, SOCK_STREAM, s->port);

		if (fd >= 0) {
			close(fd);
			return true;
		}
		if (waitpid(s->pid, NULL, WNOHANG) == s->pid)
			return false;
		sleep_ms(50);
	}
	return false;
}

bool tls_server_start(struct tls_server *s)
{
	char key[96], cert[96], conf[96];
	char *req[] = { OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt",
			"ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
			"/CN=localhost", "-keyout", key, "-out", cert, NULL };
	char *nginx[] = { NGINX, "-p", s->dir, "-e", "/dev/null", "-c", conf, NULL };

	snprintf(s->dir, sizeof(s->dir), "/tmp/sockeye-https-XXXXXX");
	s->pid = 0;
	if (!ASSERT_TRUE(mkdtemp(s->dir) != NULL, "a directory for nginx"))
		return false;
	snprintf(key, sizeof(key), "%s/key.pem", s->dir);
	snprintf(cert, sizeof(cert), "%s/cert.pem", s->dir);
	snprintf(conf, sizeof(conf), "%s/nginx.conf", s->dir);
	if (!ASSERT_TRUE(run_quietly(req), "openssl made the certificate"))
		return false;
	s->port = free_port();
	write_nginx_conf(s);
	s->pid = spawn(nginx, "/dev/null");
	return ASSERT_TRUE(tls_server_accepting(s), "nginx serves TLS");
}

void tls_server_stop(struct tls_server *s)
{
	char *rm[] = { "/bin/rm", "-rf", s->dir, NULL };

	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		wait_status(s->pid);
	}
	s->pid = 0;
	if (s->dir[0])
		run_quietly(rm);
}

void tls_url(char *buf, size_t len, const struct tls_server *s, const char *path)
{
	snprintf(buf, len, "https://127.0.0.1:%u%s", s->port, path);
}

pid_t tls_curl(char *const args[])
{
	char *argv[16] = { CURL, "-s", "-k", "-o", "/dev/null" };
	int i = 5;
	pid_t pid;

	for (; *args && i < 15; args++)
		argv[i++] = *args;
	pid = spawn(argv, "/dev/null");
	return ASSERT_EQ(wait_status(pid), 0, "curl succeeds") ? pid : 0;
}


#define SYSTEM_LIBSSL "/lib/x86_64-linux-gnu/libssl.so.3"

/* Where the copy of libssl goes: its directory, and the file in it. */
static void copy_paths(const struct tls_server *s, char lib_dir[96], char *copy, size_t len)
{
	snprintf(lib_dir, 96, "%s/lib", s->dir);
	snprintf(copy, len, "%s/libssl.so.3", lib_dir);
}

bool tls_libssl_copy(const struct tls_server *s, char *copy, size_t len)
{
	char lib_dir[96];
	char *cp[] = { "/bin/cp", SYSTEM_LIBSSL, copy, NULL };

	if (access(SYSTEM_LIBSSL, R_OK)) {
		test_skip(SYSTEM_LIBSSL " is not here");
		return false;
	}
	copy_paths(s, lib_dir, copy, len);
	return ASSERT_EQ(mkdir(lib_dir, 0755), 0, "lib directory") &&
	       ASSERT_TRUE(run_quietly(cp), "libssl copied");
}

/* OpenSSL 3's SSL_write, SSL_write_ex, SSL_read and SSL_read_ex, each an
 * entry and a return uprobe. */
#define LIBSSL_UPROBES 8

pid_t tls_curl_on_copy(const struct tls_server *s, char *const args[])
{
	char lib_dir[96], copy[128];
	pid_t pid;

	/* sockeye sets them one by one: curl before the last would be half seen. */
	copy_paths(s, lib_dir, copy, sizeof(copy));
	if (!ASSERT_TRUE(wait_for_uprobes(copy, LIBSSL_UPROBES, ATTACH_WAIT_MS),
			 "every uprobe on the copy"))
		return 0;
	setenv("LD_LIBRARY_PATH", lib_dir, 1);
	pid = tls_curl(args);
	unsetenv("LD_LIBRARY_PATH");
	return pid;
}
