// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "array.h"
#include "maps.h"
#include "options.h"
#include "programs.h"

int percpu_array_sum(int map_fd, uint32_t n, uint64_t *sums)
{
	int ncpus = libbpf_num_possible_cpus(), err = 0;
	uint64_t *per_cpu;

	memset(sums, 0, n * sizeof(*sums));
	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	per_cpu = calloc(ncpus, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	for (uint32_t key = 0; key < n && !err; key++) {
		if (bpf_map_lookup_elem(map_fd, &key, per_cpu)) {
			err = -errno;
			break;
		}
		for (int cpu = 0; cpu < ncpus; cpu++)
			sums[key] += per_cpu[cpu];
	}
	if (err)
		memset(sums, 0, n * sizeof(*sums));
	free(per_cpu);
	return err;
}

int percpu_array_delta(int map_fd, uint32_t n, uint64_t *last, uint64_t *delta)
{
	int err = percpu_array_sum(map_fd, n, delta);

	if (err)
		return err;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t now = delta[i];

		delta[i] = now - last[i];
		last[i] = now;
	}
	return 0;
}

uint64_t percpu_counter(int map_fd)
{
	uint64_t total;

	percpu_array_sum(map_fd, 1, &total);
	return total;
}

uint64_t skipped_runs(const struct bpf_object *obj)
{
	struct bpf_program *prog;
	uint64_t total = 0;

	bpf_object__for_each_program(prog, obj) {
		struct bpf_prog_info info = {};
		uint32_t len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (fd >= 0 && !is_twin(bpf_program__name(prog)) &&
		    !bpf_obj_get_info_by_fd(fd, &info, &len))
			total += info.recursion_misses;
	}
	return total;
}

void counter_snapshot_init(struct counter_snapshot *s, size_t key_size)
{
	memset(s, 0, sizeof(*s));
	s->key_size = key_size;
	s->stride = (key_size + 7) / 8 * 8 + sizeof(uint64_t);
}

static unsigned char *entry(const struct counter_snapshot *s, size_t i)
{
	return s->entries + i * s->stride;
}

static uint64_t count_of(const struct counter_snapshot *s, const unsigned char *e)
{
	uint64_t count;

	memcpy(&count, e + s->stride - sizeof(count), sizeof(count));
	return count;
}

static int compare_keys(const void *a, const void *b, void *key_size)
{
	return memcmp(a, b, *(const size_t *)key_size);
}

static unsigned char *next_slot(struct counter_snapshot *s)
{
	return array_grow(&s->entries, s->n, &s->cap, s->stride) ? entry(s, s->n) : NULL;
}

/* How many counts a look-up in the map gives: one per possible CPU for a
 * per-CPU hash, else one. */
static int counts_per_key(int map_fd)
{
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info);

	if (bpf_obj_get_info_by_fd(map_fd, &info, &len))
		return -errno;
	return info.type == BPF_MAP_TYPE_PERCPU_HASH ? libbpf_num_possible_cpus() : 1;
}

int counter_snapshot_read(struct counter_snapshot *s, int map_fd)
{
	unsigned char key[s->key_size], prev[s->key_size], *e;
	const void *after = NULL;	/* the walk's position: none yet */
	int n = counts_per_key(map_fd), err;
	uint64_t count, counts[n > 0 ? n : 1];

	if (n <= 0)
		return n ? n : -EINVAL;
	s->n = 0;
	/* The kernel never deletes keys, so the walk never starts over and
	 * every key it returns can be looked up. */
	while (!(err = bpf_map_get_next_key(map_fd, after, key))) {
		memcpy(prev, key, s->key_size);
		after = prev;
		if (bpf_map_lookup_elem(map_fd, key, counts))
			continue;
		count = 0;
		for (int i = 0; i < n; i++)
			count += counts[i];
		if (!(e = next_slot(s)))
			return -ENOMEM;
		memcpy(e, key, s->key_size);
		memcpy(e + s->stride - sizeof(count), &count, sizeof(count));
		s->n++;
	}
	if (err != -ENOENT)
		return err;
	if (s->n)	/* none read: entries may be NULL, which qsort may not get */
		qsort_r(s->entries, s->n, s->stride, compare_keys, &s->key_size);
	return 0;
}

void counter_snapshot_diff(const struct counter_snapshot *cur, const struct counter_snapshot *old,
			   void (*fn)(void *ctx, const void *key, uint64_t delta), void *ctx)
{
	size_t j = 0;

	/* Both are sorted by key: one walk pairs each key with its old count. */
	for (size_t i = 0; i < cur->n; i++) {
		const unsigned char *e = entry(cur, i);
		uint64_t before = 0;
		int cmp = 1;

		while (j < old->n && (cmp = memcmp(entry(old, j), e, cur->key_size)) < 0)
			j++;
		if (j < old->n && cmp == 0)
			before = count_of(old, entry(old, j));
		if (count_of(cur, e) > before)
			fn(ctx, e, count_of(cur, e) - before);
	}
}

void counter_snapshot_free(struct counter_snapshot *s)
{
	free(s->entries);
	s->entries = NULL;
	s->n = s->cap = 0;
}

void shrink_for_tests(struct bpf_map *map)
{
	const char *entries = getenv("SOCKEYE_MAX_ENTRIES");

	if (entries && *entries)
		bpf_map__set_max_entries(map, parse_ulong(NULL, "SOCKEYE_MAX_ENTRIES", entries,
							  1, UINT32_MAX));
}

uint64_t socket_id_key(void)
{
	static uint64_t key;

	while (!key && getrandom(&key, sizeof(key), 0) != sizeof(key))
		;
	return key;
}

void thread_slots_by_tid(struct bpf_map *map)
{
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL) > 0)
		return;
	bpf_map__set_type(map, BPF_MAP_TYPE_LRU_HASH);
	bpf_map__set_map_flags(map, 0);
	bpf_map__set_max_entries(map, 16384);
}
