/* SPDX-License-Identifier: GPL-2.0-only */
/* The metric families more than one command writes, one function each,
 * so that a counter has one name, one HELP and one label set whether the
 * agent serves it or `flows --prom` writes it to a file. Label values
 * follow one vocabulary: sockeye's own words are lowercase identifiers
 * (role="client", reason="timed_out"); names that are the kernel's keep
 * the kernel's spelling (state="ESTABLISHED", a drop reason "TCP_CSUM",
 * an errno name "EPERM"). */
#ifndef SOCKEYE_METRICS_H
#define SOCKEYE_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct flows_session;

/* sockeye_tcp_retransmits_total{kind}. Returns 0 or -errno after saying
 * why (nothing written then). */
int metrics_retransmits(FILE *out, const struct flows_session *s);
/* sockeye_tcp_drops_total{reason} and sockeye_udp_drops_total{reason},
 * the reasons that occurred. Returns 0 or -errno after saying why. */
int metrics_drops(FILE *out, const struct flows_session *s);
/* sockeye_lost_events_total{collector}: counts[i] for names[i]. */
void metrics_lost_events(FILE *out, const char *const *names, const uint64_t *counts, size_t n);

#endif
