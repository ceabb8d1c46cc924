/* SPDX-License-Identifier: GPL-2.0-only */
/* The agent's HTTP endpoint (libmicrohttpd): GET /metrics serves the last
 * exposition published, GET /healthz says the agent is up; every other
 * path is 404 and every other method 405. Nothing served changes anything. */
#ifndef SOCKEYE_ENDPOINT_H
#define SOCKEYE_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct endpoint;
struct web_config;

/* Listening sockets one endpoint serves on, at most. */
#define ENDPOINT_MAX_LISTEN 8

/* A listening TCP socket on addr; -errno on failure. An IPv6 socket takes
 * IPv6 only, unless dual_stack (then [::] takes IPv4 too). */
int endpoint_listen(const struct sockaddr *addr, socklen_t len, bool dual_stack);
/* Serves on the n listening sockets fds (which the server then owns),
 * each from a thread of its own, as web says (TLS, client certificates,
 * users; it must outlive the server). Returns NULL after saying why (the
 * sockets are closed then too). */
struct endpoint *endpoint_start(const int *fds, size_t n, const struct web_config *web);
/* Replaces what /metrics serves with body (malloc'd; the server frees it).
 * Requests in flight keep the body they started with. Returns 0 or -ENOMEM. */
int endpoint_publish(struct endpoint *s, char *body, size_t len);
/* Stops serving and closes the socket; NULL is fine. */
void endpoint_stop(struct endpoint *s);

#endif
