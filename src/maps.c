// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "maps.h"

static int sum_slot(int map_fd, uint32_t key, uint64_t *per_cpu, int ncpus, uint64_t *sum)
{
	if (bpf_map_lookup_elem(map_fd, &key, per_cpu))
		return -errno;
	*sum = 0;
	for (int cpu = 0; cpu < ncpus; cpu++)
		*sum += per_cpu[cpu];
	return 0;
}

static int sum_slots(int map_fd, uint32_t first, uint64_t *sums, uint32_t n)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t *per_cpu;
	int err = 0;

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	per_cpu = calloc(ncpus, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	for (uint32_t i = 0; i < n && !err; i++)
		err = sum_slot(map_fd, first + i, per_cpu, ncpus, &sums[i]);
	free(per_cpu);
	return err;
}

int percpu_sums(int map_fd, uint64_t *sums, uint32_t n)
{
	return sum_slots(map_fd, 0, sums, n);
}

uint64_t percpu_sum(int map_fd, uint32_t key)
{
	uint64_t sum;

	return sum_slots(map_fd, key, &sum, 1) ? 0 : sum;
}
