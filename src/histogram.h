/* SPDX-License-Identifier: GPL-2.0-only */
/* Log2 histograms as the kernel side counts them: slot 0 holds values 0
 * and 1, slot n (n > 0) holds 2^n to 2^(n+1)-1. */
#ifndef SOCKEYE_HISTOGRAM_H
#define SOCKEYE_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The slot of value among n: its log2, the last slot for anything larger. */
size_t log2_slot(uint64_t value, size_t n);
/* How many of the n slots there are up to the last one used. */
size_t log2_used_slots(const uint64_t *slots, size_t n);
/* Text in the style of bcc's tools: one row per slot up to the last one
 * used, with a bar scaled to the largest count. */
void print_log2_hist(FILE *out, const uint64_t *slots, size_t n, const char *unit);
/* In JSON: json_hist() (json.h). */

#endif
