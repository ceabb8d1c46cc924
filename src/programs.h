/* SPDX-License-Identifier: GPL-2.0-only */
/* A command's BPF programs: how it uses each (its hook table), which of
 * them load on this host (by what probe.h finds), loading and attaching
 * them, and the hooks as `sockeye features` reports them. */
#ifndef SOCKEYE_PROGRAMS_H
#define SOCKEYE_PROGRAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bpf_object;
struct bpf_object_skeleton;

/* Attaches every program the skeleton will load: cgroup programs to the
 * cgroup v2 root (libbpf cannot auto-attach those), the rest through
 * libbpf. Links end up in the skeleton and go with it. */
int attach_skeleton(struct bpf_object_skeleton *s);
/* Says that a command's BPF object could not be opened (errno tells why);
 * returns -errno. */
int open_failed(const char *cmd);
/* Loads the skeleton's programs and attaches them; on failure says why,
 * naming the command, and returns -errno. */
int load_and_attach(struct bpf_object_skeleton *s, const char *cmd);

/* Whether a program is one of a pair of twins on one hook, which do each
 * other's work when the kernel skips one (bpf/sockeye.bpf.h): named twin_*. */
bool is_twin(const char *prog);

/* How a command uses one of its BPF programs: the events (command-specific
 * bits) it gives and the protocols it serves. A program the others rely on
 * (book-keeping) is always loaded for its protocols. Programs with the same
 * alt are alternatives that give the same numbers from different hook
 * kinds: the first kind, in the order tracepoint (or another stable hook),
 * fentry/fexit, kprobe/kretprobe, whose hooks all work here is loaded, the
 * others not. The environment variable SOCKEYE_FORCE_HOOK=tp|fentry|kprobe
 * (for tests) allows only that kind where a group has it. A program that
 * calls a kfunc (kfunc) is left out, like one whose hook is missing, where
 * the kernel lacks it. */
struct hook_use {
	const char *prog;
	uint32_t gives;
	uint8_t protos;
	bool always;
	const char *alt;
	const char *kfunc;
};

/* The kfunc through which cgroup socket hooks reach the socket (Linux
 * 6.2+), as a hook_use's kfunc. */
#define KFUNC_TO_KERN "bpf_cast_to_kern_ctx"

/* A command's BPF object and how it uses each of its programs. */
struct program_set {
	const char *cmd;
	const struct hook_use *hooks;
	size_t n_hooks;
	const char *(*gives_name)(int bit);
	const void *(*elf_bytes)(size_t *size);	/* NAME_bpf__elf_bytes */
	/* What the command leaves out here though its hooks exist (an
	 * argument older kernels' tracepoints lack), as it says at start: one
	 * entry per lack, NULL after the last; NULL for none. */
	const char *const *(*lacks)(void);
};
/* protos of the hooks of commands that count sockets of every protocol,
 * and what they pass to select_programs. */
#define ALL_PROTOS 0xff

/* Loads only the programs that give something wanted (and the book-keeping
 * ones) and whose hook exists here; warns for each wanted hook that does not
 * exist. Returns the wanted bits no loaded program gives. */
uint32_t select_programs(struct bpf_object *obj, const struct program_set *set,
			 uint32_t wanted, uint8_t protos);
/* select_programs() for a command that needs all it asks for: returns 0,
 * or -EOPNOTSUPP after saying in one line what this kernel lacks (the
 * first missing hook) and what to do. */
int require_programs(struct bpf_object *obj, const struct program_set *set, uint32_t wanted,
		     uint8_t protos);

/* One line of `sockeye features` about a hook a command uses: its section
 * ("tp_btf/sock_send_length"), what it gives ("send"), and whether it
 * exists here. */
typedef void (*hook_report_fn)(void *ctx, const char *section, const char *gives, bool ok,
			       const char *why);
/* Calls fn for each hook of the set; returns 0 or -errno if its object
 * cannot be opened. */
int report_hooks(const struct program_set *set, hook_report_fn fn, void *ctx);

#endif
