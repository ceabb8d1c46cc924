/* SPDX-License-Identifier: GPL-2.0-only */
/* `flows --http`: the exchanges `sockeye http` sees (its session, payload
 * capture included), summed per connection so the flows table can show
 * them beside each connection's TCP numbers. */
#ifndef SOCKEYE_FLOWS_HTTP_H
#define SOCKEYE_FLOWS_HTTP_H

#include <stdint.h>
#include "http_session.h"

/* One connection's exchanges, seen from its own end. */
struct http_summary {
	uint64_t requests;
	uint64_t latency_ns;	/* summed: the mean is latency_ns / requests */
	const char *method;	/* of the last exchange */
	uint16_t status;	/* of the last exchange */
};

struct flows_http;

/* Starts the http programs with the flows command's filters; NULL after
 * saying why. */
struct flows_http *flows_http_start(const struct sock_filters *filters);
/* Takes in the exchanges completed since the last call, without waiting. */
void flows_http_read(struct flows_http *h);
/* The summary of the connection whose local end is t's saddr:sport and
 * remote end daddr:dport, or NULL if no exchange was seen on it. */
const struct http_summary *flows_http_of(const struct flows_http *h, const struct sock_tuple *t);
void flows_http_stop(struct flows_http *h);

#endif
