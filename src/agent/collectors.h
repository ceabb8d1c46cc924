/* SPDX-License-Identifier: GPL-2.0-only */
/* The agent's collectors: each loads one command's kernel side through
 * that command's session, and writes what it counted as Prometheus
 * families. A new collector is one more entry in the table of
 * collectors.c. */
#ifndef SOCKEYE_COLLECTORS_H
#define SOCKEYE_COLLECTORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>
#include "sock.h"

struct bpf_object_skeleton;
struct tls_libs;

struct collector_config {
	struct sock_filters filters;	/* port and family only */
	size_t max_series;		/* label values per label before "other" */
	struct tls_libs *tls_libs;	/* --tls-lib for http, or NULL */
	bool http_status_codes;		/* http: status codes, not their classes */
};

struct collector {
	const char *name;	/* in --collectors, lost_events_total and the pin layout */
	const char *shows;	/* for --help: lines after the first indented by 13 */
	bool by_default;	/* false for those that need syscall tracepoints */
	/* Loads and attaches, and sets *state; returns 0, or -errno after
	 * saying why: -EOPNOTSUPP when this kernel lacks its hooks. */
	int (*start)(const struct collector_config *cfg, void **state);
	/* Reads the kernel's counters and writes the collector's families;
	 * returns 0 or -errno after saying why. */
	int (*write)(void *state, FILE *out);
	/* Events the collector's maps could not take since the start (NULL if
	 * they cannot lose any); the agent adds the runs of the skeleton's
	 * programs the kernel skipped. */
	uint64_t (*lost)(void *state);
	/* The skeleton whose maps and iterators are pinned, and whose programs
	 * are counted. */
	const struct bpf_object_skeleton *(*skeleton)(void *state);
	void (*stop)(void *state);
	/* Process names with series of their own now (NULL for a collector
	 * without a comm label). */
	size_t (*comm_names)(void *state);
};

extern const struct collector collectors[];
extern const size_t n_collectors;

const struct collector *find_collector(const char *name);

/* Label values of one label, bounded: the first max values seen get their
 * own series, the rest share "other". A value keeps its index (its series)
 * until it is forgotten: a counter that moved from its own series to
 * "other" and back would look reset. A forgotten value's index is free for
 * the next new value. */
#define LABEL_OTHER "other"
/* A process name (15 bytes) as valid UTF-8: each invalid byte becomes
 * U+FFFD, 3 bytes. */
#define LABEL_LEN (15 * 3 + 1)

struct label_set {
	size_t max, n;	/* n: indexes handed out, forgotten ones among them */
	size_t cap;	/* slots allocated */
	struct label_slot {
		char value[LABEL_LEN];
		bool used;
	} *slots;
};

/* Where value's counts go: its own index below max, or max for "other"
 * (also for a value literally named "other", and for an empty one, which
 * Prometheus would read as no label); -ENOMEM when out of memory. Values
 * are kept as written (prom_utf8()), so names that differ only in invalid
 * bytes share one index. */
long label_index(struct label_set *set, const char *value);
/* The value of index i (0 to max): LABEL_OTHER for max. */
const char *label_value(const struct label_set *set, size_t i);
/* Frees index i (below max) for another value. */
void label_forget(struct label_set *set, size_t i);
/* Values with an index of their own now. */
size_t label_count(const struct label_set *set);
void label_set_free(struct label_set *set);

#endif
