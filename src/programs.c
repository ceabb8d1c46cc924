// SPDX-License-Identifier: GPL-2.0-only
/* A command's BPF programs (programs.h): which of them to load on this
 * host, by its hook table and what probe.c finds the host allows; a
 * feature with alternatives (struct hook_use's alt) uses the first kind of
 * hook whose programs all work here. Then loading and attaching them, and
 * the hooks as `sockeye features` reports them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "sockeye.h"
#include "programs.h"
#include "probe.h"

static const char *const hook_kind_names[HOOK_KINDS] = { "tp", "fentry", "kprobe" };

static const char *use_section(struct bpf_object *obj, const struct hook_use *use)
{
	return bpf_program__section_name(bpf_object__find_program_by_name(obj, use->prog));
}

static bool use_possible(struct bpf_object *obj, const struct hook_use *use, char *why, size_t len)
{
	if (use->kfunc && !kernel_has_btf_type(use->kfunc, true)) {
		snprintf(why, len, "this kernel lacks the kfunc %s", use->kfunc);
		return false;
	}
	return hook_exists(use_section(obj, use), why, len);
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
	return use->alt && !strcmp(use->alt, alt) && hook_kind_of(use_section(obj, use)) == kind;
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

static bool alternative_chosen(struct bpf_object *obj, const struct program_set *set,
			const struct hook_use *use, uint32_t wanted, char *missing, size_t len)
{
	char why[512];
	enum hook_kind kind = chosen_kind(obj, set, use->alt, why, sizeof(why));

	missing[0] = '\0';
	if (kind == HOOK_KINDS && (use->gives & wanted) && first_of_group(set, use))
		snprintf(missing, len, "%s: no hook works here: %s", use->alt, why);
	return kind == hook_kind_of(use_section(obj, use));
}

/* Of a group of alternatives, only the hooks used here are shown, a
 * fallback's gives saying why the preferred hooks were not; when none
 * works, the preferred hooks are shown missing with why every kind fails.
 * Returns whether this program is shown. */
static bool alternative_shown(struct bpf_object *obj, const struct program_set *set,
		       const struct hook_use *use, char *gives, size_t glen, bool *ok,
		       char *why, size_t len)
{
	enum hook_kind kind = chosen_kind(obj, set, use->alt, why, len);
	enum hook_kind mine = hook_kind_of(use_section(obj, use));
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

static int attach_to_cgroup(const struct bpf_prog_skeleton *ps, int cgroup_fd)
{
	struct bpf_link *link = bpf_program__attach_cgroup(*ps->prog, cgroup_fd);

	if (!link) {
		int err = -errno;

		p_err("cannot attach %s to the cgroup v2 root: %s", ps->name, strerror(-err));
		return err;
	}
	*ps->link = link;
	return 0;
}

int attach_skeleton(struct bpf_object_skeleton *s)
{
	const char *root = NULL;
	int cgroup_fd = -1, err = 0;

	for (int i = 0; i < s->prog_cnt && !err; i++) {
		const struct bpf_prog_skeleton *ps = &s->progs[i];

		if (!bpf_program__autoload(*ps->prog) ||
		    strncmp(bpf_program__section_name(*ps->prog), "cgroup/", 7))
			continue;
		if (cgroup_fd < 0) {
			root = cgroup2_root();
			cgroup_fd = root ? open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
			if (cgroup_fd < 0) {
				p_err("cannot open the cgroup v2 root %s: %s", root ? root : "(not mounted)",
				      root ? strerror(errno) : "mount it with 'mount -t cgroup2 none /sys/fs/cgroup'");
				return -ENOENT;
			}
		}
		err = attach_to_cgroup(ps, cgroup_fd);
	}
	if (cgroup_fd >= 0)
		close(cgroup_fd);
	if (err)
		return err;
	err = bpf_object__attach_skeleton(s);
	if (err)
		p_err("cannot attach programs: %s (run with -v for libbpf's reason)", strerror(-err));
	return err;
}

int open_failed(const char *cmd)
{
	int err = -errno;

	p_err("cannot open the %s BPF object: %s", cmd, strerror(-err));
	return err;
}

int load_and_attach(struct bpf_object_skeleton *s, const char *cmd)
{
	int err = bpf_object__load_skeleton(s);

	if (err) {
		p_err("cannot load the %s programs: %s (run with -v for the verifier's "
		      "reason; 'sockeye features' shows what this kernel allows)", cmd, strerror(-err));
		return err;
	}
	return attach_skeleton(s);
}

/* Says why a wanted program cannot run: as a warning, or into missing
 * (the first reason only) for a command that will say it once, as its
 * error. */
static void say_missing(const char *what, char *missing, size_t len)
{
	if (!missing)
		p_warn("%s", what);
	else if (!missing[0])
		snprintf(missing, len, "%s", what);
}

static uint32_t choose_programs(struct bpf_object *obj, const struct program_set *set,
				uint32_t wanted, uint8_t protos, char *missing, size_t len)
{
	uint32_t given = 0, possible = 0;
	char why[512], what[600];

	for (size_t i = 0; i < set->n_hooks; i++) {
		const struct hook_use *use = &set->hooks[i];
		struct bpf_program *prog = bpf_object__find_program_by_name(obj, use->prog);
		bool load = (use->protos & protos) && (use->always || (use->gives & wanted));

		if (load && use->alt) {
			load = alternative_chosen(obj, set, use, wanted, what, sizeof(what));
			if (what[0])
				say_missing(what, missing, len);
		} else if (load && !use_possible(obj, use, why, sizeof(why))) {
			snprintf(what, sizeof(what), "%s: %s", use->prog, why);
			if (use->gives & wanted)
				say_missing(what, missing, len);
			load = false;
		}
		bpf_program__set_autoload(prog, load);
		if (load)
			given |= use->gives;
		if (use->protos & protos)
			possible |= use->gives;
	}
	/* An event no program gives for these protocols (accept under --udp)
	 * is not missing, just not asked for. */
	return wanted & possible & ~given;
}

uint32_t select_programs(struct bpf_object *obj, const struct program_set *set,
			 uint32_t wanted, uint8_t protos)
{
	return choose_programs(obj, set, wanted, protos, NULL, 0);
}

int require_programs(struct bpf_object *obj, const struct program_set *set, uint32_t wanted,
		     uint8_t protos)
{
	char missing[640] = "";

	/* Every wanted program, not just one per bit: flows without its
	 * destroy hook would keep closed connections for ever. */
	if (!choose_programs(obj, set, wanted, protos, missing, sizeof(missing)) && !missing[0])
		return 0;
	p_err("'%s' cannot run on this kernel: %s; run it on a kernel that has what is "
	      "missing ('sockeye features' lists what this one lacks)", set->cmd,
	      missing[0] ? missing : "a hook it needs is missing");
	return -EOPNOTSUPP;
}

static void bit_names(char *buf, size_t len, uint32_t bits, const char *(*bit_name)(int bit))
{
	size_t used = 0;

	buf[0] = '\0';
	for (int bit = 0; bit < 32; bit++)
		if (bits & (1u << bit))
			used += snprintf(buf + used, used < len ? len - used : 0, "%s%s",
					 used ? "," : "", bit_name(bit));
}

bool is_twin(const char *prog)
{
	return !strncmp(prog, "twin_", strlen("twin_"));
}

int report_hooks(const struct program_set *set, hook_report_fn fn, void *ctx)
{
	char why[512], gives[1024], said[256] = "";
	struct bpf_object *obj;
	const void *elf;
	size_t size;

	elf = set->elf_bytes(&size);
	obj = bpf_object__open_mem(elf, size, NULL);
	if (!obj)
		return -errno;
	for (size_t i = 0; i < set->n_hooks; i++) {
		const struct hook_use *use = &set->hooks[i];
		struct bpf_program *prog = bpf_object__find_program_by_name(obj, use->prog);
		const char *section = bpf_program__section_name(prog);
		bool ok;

		why[0] = '\0';
		bit_names(gives, sizeof(gives), use->gives, set->gives_name);
		if (use->always)
			snprintf(gives + strlen(gives), sizeof(gives) - strlen(gives), "%s%s",
				 gives[0] ? "," : "", "book-keeping");
		if (!use->alt)
			ok = use_possible(obj, use, why, sizeof(why));
		else if (!alternative_shown(obj, set, use, gives, sizeof(gives), &ok, why, sizeof(why)))
			continue;
		/* Twin programs (bpf/sockeye.bpf.h) make one line. */
		if (is_twin(use->prog) && !strcmp(said, section))
			continue;
		snprintf(said, sizeof(said), "%s", section);
		fn(ctx, section, gives, ok, why);
	}
	bpf_object__close(obj);
	return 0;
}
