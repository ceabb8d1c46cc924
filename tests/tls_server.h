/* SPDX-License-Identifier: GPL-2.0-only */
/* An HTTPS server for the tests: nginx, one process (no master), serving
 * TLS on a free port of 127.0.0.1 with a certificate the test makes, in a
 * directory of its own: /size/... answers 200 "hello", /post 201 "ok",
 * anything else 404; its access log is DIR/access.log, one
 * "METHOD STATUS URI" per line. And curl against it. */
#ifndef SOCKEYE_TEST_TLS_SERVER_H
#define SOCKEYE_TEST_TLS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NGINX "/usr/sbin/nginx"
#define OPENSSL "/usr/bin/openssl"
#define CURL "/usr/bin/curl"
#define GNUTLS_CLI "/usr/bin/gnutls-cli"
#define GNUTLS_SERV "/usr/bin/gnutls-serv"
#define PYTHON "/usr/bin/python3"

struct tls_server {
	pid_t pid;
	uint16_t port;
	char dir[64];
};

/* Whether the tools and uprobes are here; if not, the test is skipped
 * with the reason, and should return. */
bool tls_tools_here(void);
bool tls_server_start(struct tls_server *s);
/* Waits until the server s->pid on s->port accepts connections (it may
 * have lost its free port to another program: then false). */
bool tls_server_accepting(const struct tls_server *s);
/* Safe on a server that did not start. */
void tls_server_stop(struct tls_server *s);
void tls_url(char *buf, size_t len, const struct tls_server *s, const char *path);
/* curl -k with args (NULL-terminated); its pid once it ended well, else 0. */
pid_t tls_curl(char *const args[]);
/* A copy of the system's libssl.so.3 in the server's directory, that no
 * process maps: its path into copy. False (the test skipped or failed)
 * without one. */
bool tls_libssl_copy(const struct tls_server *s, char *copy, size_t len);
/* tls_curl() with the loader led to that copy (LD_LIBRARY_PATH). */
pid_t tls_curl_on_copy(const struct tls_server *s, char *const args[]);
/* Runs argv with its output thrown away; whether it exited 0. */
bool run_quietly(char *const argv[]);

#endif
