/* SPDX-License-Identifier: GPL-2.0-only */
/* The agent's HTTP endpoint (libmicrohttpd): GET /metrics serves the last
 * exposition published, GET /healthz says the agent is up; every other
 * path is 404 and every other method 405. Nothing served changes anything. */
#ifndef SOCKEYE_ENDPOINT_H
#define SOCKEYE_ENDPOINT_H

#include <stddef.h>
#include <sys/socket.h>

struct endpoint;

/* A listening TCP socket on addr; -errno on failure. */
int endpoint_listen(const struct sockaddr *addr, socklen_t len);
/* Serves on listen_fd (which the server then owns) from its own thread.
 * Returns NULL after saying why. */
struct endpoint *endpoint_start(int listen_fd);
/* Replaces what /metrics serves with body (malloc'd; the server frees it).
 * Requests in flight keep the body they started with. Returns 0 or -ENOMEM. */
int endpoint_publish(struct endpoint *s, char *body, size_t len);
/* Stops serving and closes the socket; NULL is fine. */
void endpoint_stop(struct endpoint *s);

#endif
