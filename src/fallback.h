/* SPDX-License-Identifier: GPL-2.0-only */
/* What src/fallback.c gives src/probe.c: real probes of function hooks, and
 * the choice among a feature's alternative hooks. */
#ifndef SOCKEYE_FALLBACK_H
#define SOCKEYE_FALLBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "probe.h"

/* fentry/, fexit/, kprobe/ or kretprobe/: hooks on a kernel function. */
bool is_function_hook(const char *section);
/* Whether a program of that kind loads and attaches to target; asked once
 * per process and section. */
bool function_hook_works(const char *section, const char *target, char *why, size_t len);
const char *use_section(struct bpf_object *obj, const struct hook_use *use);
/* Whether a program can run here: its hook exists, and the kfunc it calls. */
bool use_possible(struct bpf_object *obj, const struct hook_use *use, char *why, size_t len);
/* Whether a program with alternatives is of the kind chosen here; missing
 * says, once per group and when its events are wanted, that no kind works
 * (else it is empty). */
bool alternative_chosen(struct bpf_object *obj, const struct program_set *set,
			const struct hook_use *use, uint32_t wanted, char *missing, size_t len);
/* For report_hooks(): whether to show this program of a group, whether it
 * is used (ok), and its gives and why completed. */
bool alternative_shown(struct bpf_object *obj, const struct program_set *set,
		       const struct hook_use *use, char *gives, size_t glen, bool *ok,
		       char *why, size_t len);

#endif
