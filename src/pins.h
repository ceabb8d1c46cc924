/* SPDX-License-Identifier: GPL-2.0-only */
/* The agent's maps pinned in bpffs, so that other commands read what it
 * counts without loading programs of their own. Layout: one directory per
 * collector under the pin directory, holding that collector's maps by
 * their BPF names: PIN_DIR/bytes/traffic, PIN_DIR/bytes/traffic_lost,
 * PIN_DIR/tcp/latency_hist, ...; and the links of its iterators by their
 * programs' names (PIN_DIR/flows/flows_iter), which a reader runs with
 * bpf_iter_create(). The agent holds an exclusive flock(2) on
 * the pin directory while it runs: that tells a live agent's pins from
 * the stale ones of an agent killed with -9 (the kernel drops its lock). */
#ifndef SOCKEYE_PINS_H
#define SOCKEYE_PINS_H

#include <stdbool.h>
#include "probe.h"

#define DEFAULT_PIN_DIR BPFFS_DIR "/sockeye"
/* The bytes collector's name, and so its directory: top --from-agent
 * reads its traffic map. */
#define TRAFFIC_PIN_SUBDIR "bytes"
/* The flows collector's: flows --from-agent runs its iterators. */
#define FLOWS_PIN_SUBDIR "flows"

struct bpf_object_skeleton;

/* Takes the pin directory for an agent: mounts bpffs when missing (and
 * says so), creates the directory and locks it. Returns the locked
 * directory's fd (closing it gives the lock up), or -errno after saying
 * why: -EBUSY when another agent holds it. */
int pins_claim(const char *dir);
/* Pins a loaded and attached skeleton's maps (not its .rodata and .bss)
 * and its iterators' links in dir/sub, where the stale pins of a killed
 * agent were removed. Returns 0, or -errno after saying why. */
int pins_add(const char *dir, const char *sub, const struct bpf_object_skeleton *skel);
/* Removes dir/sub and the pins in it; false if there was no dir/sub. */
bool pins_remove(const char *dir, const char *sub);
/* A map or link a running agent pinned: its fd, or -errno after saying
 * why (no agent runs, or it has no such collector). */
int open_pin(const char *dir, const char *sub, const char *name);

#endif
