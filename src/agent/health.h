/* SPDX-License-Identifier: GPL-2.0-only */
/* The agent's metrics about itself, so that a collector that failed, a
 * program that is not attached or a process that grows shows on the
 * dashboard instead of just missing: the process_* families every
 * Prometheus client writes (read from /proc/self as they read them), each
 * collector's last refresh, each BPF program's attachment and, while the
 * kernel's BPF statistics are on (kernel.bpf_stats_enabled), its count of
 * the program's runs and their time, and the series served against the
 * --max-series budget. */
#ifndef SOCKEYE_HEALTH_H
#define SOCKEYE_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct bpf_object_skeleton;

/* One running collector as its last refresh left it. */
struct collector_health {
	const char *name;
	const struct bpf_object_skeleton *skel;	/* its programs */
	double refresh_seconds;
	bool ok;		/* its families are in the exposition */
	long comm_names;	/* process names with series of their own; -1: no comm label */
};

/* process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_start_time_seconds,
 * process_open_fds and process_max_fds; a file that cannot be read
 * leaves its families out. */
void health_write_process(FILE *out);
/* sockeye_collector_refresh_duration_seconds and _success, the
 * sockeye_bpf_program_* families and the comm budget
 * (sockeye_comm_names, sockeye_comm_names_limit). */
void health_write_collectors(FILE *out, const struct collector_health *c, size_t n,
			     size_t max_series);
/* sockeye_series: the samples of the exposition so far (body, len), this
 * one included, so it is written last. */
void health_write_series(FILE *out, const char *body, size_t len);

#endif
