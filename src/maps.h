/* SPDX-License-Identifier: GPL-2.0-only */
/* Reading the counters the kernel side keeps in per-CPU arrays: each CPU
 * counts in its own slot without atomics, user space adds them up. */
#ifndef SOCKEYE_MAPS_H
#define SOCKEYE_MAPS_H

#include <stdint.h>

/* Sum over CPUs of one slot; 0 if it cannot be read. */
uint64_t percpu_sum(int map_fd, uint32_t key);
/* Sums of slots 0..n-1 into sums[]; returns 0 or -errno. */
int percpu_sums(int map_fd, uint64_t *sums, uint32_t n);

#endif
