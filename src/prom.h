/* SPDX-License-Identifier: GPL-2.0-only */
/* The Prometheus text exposition format, version 0.0.4: a family's HELP
 * and TYPE lines once, then its samples, with label values escaped,
 * counters as exact integers and histograms as cumulative `le` buckets in
 * seconds with _sum and _count. The agent's /metrics and --textfile use it,
 * and so can any command that writes a Prometheus file. */
#ifndef SOCKEYE_PROM_H
#define SOCKEYE_PROM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct prom_label {
	const char *name;
	const char *value;
};

/* The HELP and TYPE lines of a family; type is "counter", "gauge" or
 * "histogram". Every sample of the family follows before the next. */
void prom_family(FILE *out, const char *name, const char *type, const char *help);
/* One sample: name{labels} value. n may be 0 (labels NULL). */
void prom_uint(FILE *out, const char *name, const struct prom_label *labels, size_t n,
	       uint64_t value);
/* One sample with a value that is not a whole number (seconds), written
 * with 15 significant digits: a start time keeps its hundredths. */
void prom_double(FILE *out, const char *name, const struct prom_label *labels, size_t n,
		 double value);
/* A histogram's samples from its buckets' own counts (not cumulative):
 * counts[i] holds the values up to le_seconds[i] above the previous
 * bound, and counts[n_bounds] the ones above the last (+Inf). The sum is
 * in nanoseconds, so that it is written exactly. labels may not be named
 * "le"; n_labels may be 0. */
void prom_histogram(FILE *out, const char *name, const struct prom_label *labels, size_t n_labels,
		    const double *le_seconds, size_t n_bounds, const uint64_t *counts,
		    uint64_t sum_ns);
/* Copies src to dst (size bytes with the NUL) as valid UTF-8: each byte
 * that starts no valid character becomes U+FFFD, as in every label value
 * written; cut before a character that does not fit whole. Returns the
 * length copied. For label values kept to compare: two invalid names that
 * read the same are one value. */
size_t prom_utf8(char *dst, size_t size, const char *src);
/* Replaces the file at path with body: written next to it, then renamed
 * over it, so a reader (node_exporter's textfile collector) sees the old
 * file or the new one, never half. Returns 0 or -errno. */
int prom_write_file(const char *path, const char *body, size_t len);
/* The bounds of a log2 histogram of microseconds (histogram.h): slot i
 * holds values below 2^(i+1) us. Fills n bounds, in seconds. */
void prom_log2_us_bounds(double *le_seconds, size_t n);

#endif
