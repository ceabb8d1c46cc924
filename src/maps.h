/* SPDX-License-Identifier: GPL-2.0-only */
/* Reading BPF maps of u64 counters from user space: per-CPU arrays summed
 * over the CPUs, and hash maps copied so that two reads can be compared.
 * Counters are never cleared in the kernel: the difference of two reads
 * is exact, where a read-and-clear loses what comes in between. */
#ifndef SOCKEYE_MAPS_H
#define SOCKEYE_MAPS_H

#include <stddef.h>
#include <stdint.h>

/* Sums each of the slots 0..n-1 of a per-CPU array over the CPUs. Returns
 * 0, or -errno with the sums zeroed. */
int percpu_array_sum(int map_fd, uint32_t n, uint64_t *sums);
/* What slots 0..n-1 gained since *last: delta[i] = sum now - last[i];
 * last[] becomes the sums now. Returns 0 or -errno. */
int percpu_array_delta(int map_fd, uint32_t n, uint64_t *last, uint64_t *delta);
/* The counter of a one-slot per-CPU array (lost records, say); 0 if it
 * cannot be read. */
uint64_t percpu_counter(int map_fd);

struct bpf_object;
/* Runs of obj's loaded programs that the kernel skipped, summed: it skips a
 * tracing program that is already running on the CPU (an interrupt came in
 * the middle of it) and counts that only in the program's recursion_misses.
 * Twin programs (is_twin) are left out: each does the other's work when
 * the kernel skips it, so a pair loses nothing (that would take an
 * interrupt inside an interrupt inside the pair). */
uint64_t skipped_runs(const struct bpf_object *obj);

/* The key that mixes a socket's address into its id where the kernel gives
 * tracing programs no socket cookie (before 5.12; sk_cookie() in
 * bpf/sockeye.bpf.h): drawn once per process, so that ids stay unique
 * while no kernel address is shown. */
uint64_t socket_id_key(void);

struct bpf_map;
/* Where the kernel has no task storage for tracing programs (before 5.11),
 * makes a map of it an LRU hash keyed by thread id instead (thread_slot()
 * in bpf/sockeye.bpf.h), with room for as many threads inside a traced
 * call at once. Call between open and load. */
void thread_slots_by_tid(struct bpf_map *map);

/* SOCKEYE_MAX_ENTRIES=N (for tests): the per-connection and per-process
 * maps given here hold N entries, so that a test fills them with a few
 * connections. Call between open and load. */
void shrink_for_tests(struct bpf_map *map);

/* A copy of a hash map whose values are u64 counts, sorted by key; a
 * per-CPU hash's counts summed over the CPUs. */
struct counter_snapshot {
	size_t key_size;
	size_t stride;		/* bytes per entry: the key, padded, then the count */
	size_t n, cap;
	unsigned char *entries;
};

void counter_snapshot_init(struct counter_snapshot *s, size_t key_size);
/* Replaces the copy with the map's entries. Returns 0 or -errno. */
int counter_snapshot_read(struct counter_snapshot *s, int map_fd);
/* Calls fn for each key whose count grew from old to cur (a key missing
 * from old had 0). For maps whose keys the kernel never deletes. */
void counter_snapshot_diff(const struct counter_snapshot *cur, const struct counter_snapshot *old,
			   void (*fn)(void *ctx, const void *key, uint64_t delta), void *ctx);
void counter_snapshot_free(struct counter_snapshot *s);

#endif
