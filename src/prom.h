/* SPDX-License-Identifier: GPL-2.0-only */
/* Prometheus text exposition into a file replaced atomically: written
 * beside it under a temporary name, then renamed over it, as
 * node_exporter's textfile collector expects. */
#ifndef SOCKEYE_PROM_H
#define SOCKEYE_PROM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct prom {
	const char *path;
	char tmp[4096];
	FILE *out;
};

/* Opens PATH.tmp; returns 0 or -errno. */
int prom_begin(struct prom *p, const char *path);
/* The # HELP and # TYPE lines of a metric (type "counter" or "gauge"). */
void prom_family(struct prom *p, const char *name, const char *type, const char *help);
/* One sample; after the value, label names and values in pairs, then NULL. */
void prom_sample(struct prom *p, const char *name, uint64_t value, ...);
/* The same for nanoseconds, written as seconds to the nanosecond. */
void prom_sample_seconds(struct prom *p, const char *name, uint64_t ns, ...);
/* Closes and renames over PATH; returns 0 or -errno (the file is gone). */
int prom_commit(struct prom *p);

#endif
