// SPDX-License-Identifier: GPL-2.0-only
/* Hooks that a kernel may refuse or lack: fentry/fexit and kprobes are
 * tried for real, and a feature with alternatives (struct hook_use's alt)
 * uses the first kind of hook whose programs all work here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "sockeye.h"
#include "probe.h"
#include "fallback.h"

/* Loads a program that does nothing as fentry or fexit of target: the
 * kernel checks there that the function can be traced (libbpf-tools'
 * fentry_can_attach does the same). Not attached: each attach patches the
 * kernel's text, slow under emulation, and the real attach follows. Built
 * by hand rather than from bpf/probe.bpf.c: libbpf would parse the
 * kernel's BTF again for each target, where the copy kernel_btf() keeps
 * gives the function's id. */
static bool try_tracing_probe(const char *target, bool fexit, char *why, size_t len)
{
	const struct bpf_insn return_0[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct btf *btf = kernel_btf();
	int id = btf ? btf__find_by_name_kind(btf, target, BTF_KIND_FUNC) : -ENOENT;
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .attach_btf_id = id,
		    .expected_attach_type = fexit ? BPF_TRACE_FEXIT : BPF_TRACE_FENTRY);
	int prog;

	if (id < 0) {
		snprintf(why, len, "no function %s in the kernel's BTF", target);
		return false;
	}
	prog = bpf_prog_load(BPF_PROG_TYPE_TRACING, NULL, "GPL", return_0, 2, &opts);
	if (prog < 0) {
		snprintf(why, len, "load: %s", strerror(errno));
		return false;
	}
	close(prog);
	return true;
}

/* A function hook, tried once per process: the answer does not change. */
bool function_hook_works(const char *section, const char *target, char *why, size_t len)
{
	static struct { char section[96]; bool ok; char why[160]; } seen[32];
	static int n_seen;
	char one[128] = "";
	bool ok;

	for (int i = 0; i < n_seen; i++)
		if (!strcmp(seen[i].section, section)) {
			snprintf(why, len, "%s", seen[i].why);
			return seen[i].ok;
		}
	if (section[0] == 'k')
		ok = try_probe("probe_kprobe", target, !strncmp(section, "kretprobe/", 10), one,
			       sizeof(one));
	else
		ok = try_tracing_probe(target, !strncmp(section, "fexit/", 6), one, sizeof(one));
	snprintf(why, len, "%s: %s", section, one);
	if (n_seen < (int)(sizeof(seen) / sizeof(seen[0]))) {
		snprintf(seen[n_seen].section, sizeof(seen[n_seen].section), "%s", section);
		snprintf(seen[n_seen].why, sizeof(seen[n_seen].why), "%s", why);
		seen[n_seen++].ok = ok;
	}
	return ok;
}

const char *use_section(struct bpf_object *obj, const struct hook_use *use)
{
	return bpf_program__section_name(bpf_object__find_program_by_name(obj, use->prog));
}

bool use_possible(struct bpf_object *obj, const struct hook_use *use, char *why, size_t len)
{
	if (use->kfunc && !kernel_has_btf_type(use->kfunc, true)) {
		snprintf(why, len, "this kernel lacks the kfunc %s", use->kfunc);
		return false;
	}
	return hook_exists(use_section(obj, use), why, len);
}

/* Kinds of hook a group of alternatives can use, in order of preference:
 * HOOK_TP is every stable hook (tracepoints, cgroup hooks). */
enum hook_kind { HOOK_TP, HOOK_FENTRY, HOOK_KPROBE, HOOK_KINDS };
static const char *const hook_kind_names[HOOK_KINDS] = { "tp", "fentry", "kprobe" };

static enum hook_kind kind_of(const char *section)
{
	if (!strncmp(section, "fentry/", 7) || !strncmp(section, "fexit/", 6))
		return HOOK_FENTRY;
	if (!strncmp(section, "kprobe/", 7) || !strncmp(section, "kretprobe/", 10))
		return HOOK_KPROBE;
	return HOOK_TP;
}

bool is_function_hook(const char *section)
{
	return kind_of(section) != HOOK_TP;
}

/* The kind SOCKEYE_FORCE_HOOK allows alone, or HOOK_KINDS for any. */
static enum hook_kind forced_kind(void)
{
	const char *force = getenv("SOCKEYE_FORCE_HOOK");

	if (!force || !*force)
		return HOOK_KINDS;
	for (int k = 0; k < HOOK_KINDS; k++)
		if (!strcmp(force, hook_kind_names[k]))
			return k;
	usage_error(NULL, "SOCKEYE_FORCE_HOOK is tp, fentry or kprobe, not '%s'", force);
}

/* Whether a program is one of the group alt that uses this kind of hook. */
static bool in_group(struct bpf_object *obj, const struct hook_use *use, const char *alt,
		     enum hook_kind kind)
{
	return use->alt && !strcmp(use->alt, alt) && kind_of(use_section(obj, use)) == kind;
}

/* Whether every program of the group alt that uses this kind of hook can
 * run here; why says what is missing. */
static bool kind_works(struct bpf_object *obj, const struct program_set *set, const char *alt,
		       enum hook_kind kind, char *why, size_t len)
{
	bool found = false;

	snprintf(why, len, "no %s hook", hook_kind_names[kind]);
	for (size_t i = 0; i < set->n_hooks; i++) {
		const struct hook_use *use = &set->hooks[i];

		if (!in_group(obj, use, alt, kind))
			continue;
		if (!use_possible(obj, use, why, len))
			return false;
		found = true;
	}
	return found;
}

static bool group_has(struct bpf_object *obj, const struct program_set *set, const char *alt,
		      enum hook_kind kind)
{
	for (size_t i = 0; i < set->n_hooks; i++) {
		const struct hook_use *use = &set->hooks[i];

		if (in_group(obj, use, alt, kind))
			return true;
	}
	return false;
}

/* The kind of hook the group alt uses here, or HOOK_KINDS if none works;
 * why says what each kind tried before it lacks. */
static enum hook_kind chosen_kind(struct bpf_object *obj, const struct program_set *set,
				  const char *alt, char *why, size_t len)
{
	enum hook_kind forced = forced_kind();
	size_t used = 0;
	char one[256];

	why[0] = '\0';
	/* A forced kind rules the groups that have one; the others choose as
	 * usual (there is no kprobe that assigns a socket cookie, say). */
	if (forced != HOOK_KINDS && !group_has(obj, set, alt, forced))
		forced = HOOK_KINDS;
	for (enum hook_kind k = 0; k < HOOK_KINDS; k++) {
		if (forced != HOOK_KINDS && k != forced)
			continue;
		if (kind_works(obj, set, alt, k, one, sizeof(one)))
			return k;
		used += snprintf(why + used, used < len ? len - used : 0, "%s%s", used ? "; " : "", one);
	}
	return HOOK_KINDS;
}

static bool first_of_group(const struct program_set *set, const struct hook_use *use)
{
	for (const struct hook_use *u = set->hooks; u < use; u++)
		if (u->alt && !strcmp(u->alt, use->alt))
			return false;
	return true;
}

bool alternative_chosen(struct bpf_object *obj, const struct program_set *set,
			const struct hook_use *use, uint32_t wanted, char *missing, size_t len)
{
	char why[512];
	enum hook_kind kind = chosen_kind(obj, set, use->alt, why, sizeof(why));

	missing[0] = '\0';
	if (kind == HOOK_KINDS && (use->gives & wanted) && first_of_group(set, use))
		snprintf(missing, len, "%s: no hook works here: %s", use->alt, why);
	return kind == kind_of(use_section(obj, use));
}

/* Of a group of alternatives, only the hooks used here are shown, a
 * fallback's gives saying why the preferred hooks were not; when none
 * works, the preferred hooks are shown missing with why every kind fails.
 * Returns whether this program is shown. */
bool alternative_shown(struct bpf_object *obj, const struct program_set *set,
		       const struct hook_use *use, char *gives, size_t glen, bool *ok,
		       char *why, size_t len)
{
	enum hook_kind kind = chosen_kind(obj, set, use->alt, why, len);
	enum hook_kind mine = kind_of(use_section(obj, use));
	size_t used = strlen(gives);

	*ok = kind != HOOK_KINDS;
	if (mine != (*ok ? kind : HOOK_TP))
		return false;
	if (*ok && kind != HOOK_TP)
		snprintf(gives + used, glen - used, " (fallback: %s)", why);
	if (*ok)
		why[0] = '\0';
	return true;
}
