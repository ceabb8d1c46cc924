// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "sockeye.h"
#include "probe.h"
#include "probe.skel.h"

#define CAP_NET_ADMIN 12
#define CAP_SYS_ADMIN 21
#define CAP_PERFMON 38
#define CAP_BPF 39

static uint64_t effective_capabilities(void)
{
	char line[256];
	uint64_t caps = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %lx", &caps) == 1)
			break;
	fclose(f);
	return caps;
}

bool has_capabilities(char *missing, size_t len)
{
	static const struct { int bit; const char *name; } needed[] = {
		{ CAP_BPF, "CAP_BPF" },
		{ CAP_PERFMON, "CAP_PERFMON" },
		{ CAP_NET_ADMIN, "CAP_NET_ADMIN" },
	};
	uint64_t caps = effective_capabilities();
	size_t used = 0;

	missing[0] = '\0';
	if (caps & (1ULL << CAP_SYS_ADMIN))
		return true;
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
		if (!(caps & (1ULL << needed[i].bit)))
			used += snprintf(missing + used, used < len ? len - used : 0, "%s%s",
					 used ? ", " : "", needed[i].name);
	return used == 0;
}

bool check_environment(void)
{
	char missing[64];

	if (!has_capabilities(missing, sizeof(missing))) {
		p_err("needs root, or the capabilities CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN "
		      "(missing: %s); run it with sudo", missing);
		return false;
	}
	if (access(VMLINUX_BTF, R_OK)) {
		p_err("the kernel has no BTF (%s: %s): sockeye needs a kernel built with "
		      "CONFIG_DEBUG_INFO_BTF=y (Linux 5.8 or later)", VMLINUX_BTF, strerror(errno));
		return false;
	}
	return true;
}

bool is_mounted(const char *dir, const char *fstype)
{
	char mdir[256], mtype[64];
	bool found = false;
	FILE *f = fopen("/proc/mounts", "r");

	if (!f)
		return false;
	while (!found && fscanf(f, "%*s %255s %63s %*[^\n]", mdir, mtype) == 2)
		found = !strcmp(mdir, dir) && !strcmp(mtype, fstype);
	fclose(f);
	return found;
}

bool ensure_tracefs(char *why, size_t len)
{
	if (!access(TRACEFS_DIR "/events", F_OK))
		return true;
	if (mount("tracefs", TRACEFS_DIR, "tracefs", 0, NULL)) {
		snprintf(why, len, "tracefs is not mounted and mounting it at %s failed (%s); "
			 "mount it with 'mount -t tracefs tracefs %s'", TRACEFS_DIR,
			 strerror(errno), TRACEFS_DIR);
		return false;
	}
	p_info("mounted tracefs at %s (syscall tracepoints are found there)", TRACEFS_DIR);
	return true;
}

const char *cgroup2_root(void)
{
	static char root[256];
	char type[64];
	FILE *f = fopen("/proc/mounts", "r");
	bool found = false;

	if (!f)
		return NULL;
	while (!found && fscanf(f, "%*s %255s %63s %*[^\n]", root, type) == 2)
		found = !strcmp(type, "cgroup2");
	fclose(f);
	return found ? root : NULL;
}

static struct btf *vmlinux_btf(void)
{
	static struct btf *btf;

	if (!btf)
		btf = btf__load_vmlinux_btf();
	return libbpf_get_error(btf) ? NULL : btf;
}

bool kernel_has_btf_type(const char *name, bool function)
{
	struct btf *btf = vmlinux_btf();

	return btf && btf__find_by_name_kind(btf, name, function ? BTF_KIND_FUNC :
					     BTF_KIND_TYPEDEF) > 0;
}

static bool tracepoint_in_btf(const char *tp, char *why, size_t len)
{
	char type[128];

	snprintf(type, sizeof(type), "btf_trace_%s", tp);
	if (kernel_has_btf_type(type, false))
		return true;
	snprintf(why, len, "tracepoint %s is not in this kernel", tp);
	return false;
}

static bool tracepoint_in_tracefs(const char *cat_name, char *why, size_t len)
{
	char path[256];

	if (!ensure_tracefs(why, len))
		return false;
	snprintf(path, sizeof(path), TRACEFS_DIR "/events/%s", cat_name);
	if (!access(path, F_OK))
		return true;
	snprintf(why, len, "tracepoint %s is not in this kernel", cat_name);
	return false;
}

static struct bpf_link *attach_probe(struct bpf_program *prog, const char *target, bool retprobe)
{
	const char *root = cgroup2_root();
	struct bpf_link *link;
	int cg;

	switch (bpf_program__type(prog)) {
	case BPF_PROG_TYPE_CGROUP_SOCK:
	case BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
	case BPF_PROG_TYPE_CGROUP_SKB:
	case BPF_PROG_TYPE_SOCK_OPS:
		cg = root ? open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
		link = bpf_program__attach_cgroup(prog, cg);
		if (cg >= 0)
			close(cg);
		return link;
	case BPF_PROG_TYPE_KPROBE:
		if (target)
			return bpf_program__attach_kprobe(prog, retprobe, target);
		/* fall through */
	default:
		return bpf_program__attach(prog);
	}
}

bool try_probe(const char *name, const char *target, bool retprobe, char *why, size_t len)
{
	struct probe_bpf *skel = probe_bpf__open();
	struct bpf_program *prog, *p;
	struct bpf_link *link;
	int err;

	if (!skel) {
		snprintf(why, len, "open: %s", strerror(errno));
		return false;
	}
	prog = bpf_object__find_program_by_name(skel->obj, name);
	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, p == prog);
	err = probe_bpf__load(skel);
	if (err) {
		snprintf(why, len, "load: %s", strerror(-err));
		goto out;
	}
	link = attach_probe(prog, target, retprobe);
	err = link ? 0 : -errno;
	if (err)
		snprintf(why, len, "attach: %s", strerror(-err));
	bpf_link__destroy(link);
out:
	probe_bpf__destroy(skel);
	return !err;
}

/* Loads a program that does nothing as fentry or fexit of target, and
 * attaches it. Built by hand rather than from bpf/probe.bpf.c: libbpf would
 * parse the kernel's BTF again for each target (seconds under emulation),
 * where the copy vmlinux_btf() keeps gives the function's id. */
static bool try_tracing_probe(const char *target, bool fexit, char *why, size_t len)
{
	const struct bpf_insn return_0[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct btf *btf = vmlinux_btf();
	int id = btf ? btf__find_by_name_kind(btf, target, BTF_KIND_FUNC) : -ENOENT;
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .attach_btf_id = id,
		    .expected_attach_type = fexit ? BPF_TRACE_FEXIT : BPF_TRACE_FENTRY);
	int prog, link;

	if (id < 0) {
		snprintf(why, len, "no function %s in the kernel's BTF", target);
		return false;
	}
	prog = bpf_prog_load(BPF_PROG_TYPE_TRACING, NULL, "GPL", return_0, 2, &opts);
	if (prog < 0) {
		snprintf(why, len, "load: %s", strerror(errno));
		return false;
	}
	link = bpf_raw_tracepoint_open(NULL, prog);
	if (link < 0)
		snprintf(why, len, "attach: %s", strerror(errno));
	else
		close(link);
	close(prog);
	return link >= 0;
}

/* A function hook, tried once per process: the answer does not change. */
static bool function_hook_works(const char *section, const char *target, char *why, size_t len)
{
	static struct { char section[96]; bool ok; char why[160]; } seen[32];
	static int n_seen;
	char one[128];
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

static bool is_function_hook(const char *section)
{
	return !strncmp(section, "fentry/", 7) || !strncmp(section, "fexit/", 6) ||
	       !strncmp(section, "kprobe/", 7) || !strncmp(section, "kretprobe/", 10);
}

bool hook_exists(const char *section, char *why, size_t len)
{
	const char *slash = strchr(section, '/');
	const char *target = slash ? slash + 1 : "";

	if (is_function_hook(section))
		return function_hook_works(section, target, why, len);

	if (!strncmp(section, "tp_btf/", 7) || !strncmp(section, "raw_tp/", 7))
		return tracepoint_in_btf(target, why, len);
	if (!strncmp(section, "tp/", 3))
		return tracepoint_in_tracefs(target, why, len);
	if (!strncmp(section, "cgroup/", 7)) {
		if (cgroup2_root())
			return true;
		snprintf(why, len, "cgroup v2 is not mounted; mount it with "
			 "'mount -t cgroup2 none /sys/fs/cgroup' (or a free directory)");
		return false;
	}
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

static const char *section_of(struct bpf_object *obj, const struct hook_use *use)
{
	return bpf_program__section_name(bpf_object__find_program_by_name(obj, use->prog));
}

/* Whether a program can run here: its hook exists, and the kfunc it calls. */
static bool use_possible(struct bpf_object *obj, const struct hook_use *use, char *why,
			 size_t len)
{
	if (use->kfunc && !kernel_has_btf_type(use->kfunc, true)) {
		snprintf(why, len, "this kernel lacks the kfunc %s", use->kfunc);
		return false;
	}
	return hook_exists(section_of(obj, use), why, len);
}

/* Kinds of hook a group of alternatives can use, in order of preference. */
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

/* Whether every program of the group alt that uses this kind of hook can
 * run here; why says what is missing. */
static bool kind_works(struct bpf_object *obj, const struct program_set *set, const char *alt,
		       enum hook_kind kind, char *why, size_t len)
{
	bool found = false;

	snprintf(why, len, "no %s hook", hook_kind_names[kind]);
	for (size_t i = 0; i < set->n_hooks; i++) {
		const struct hook_use *use = &set->hooks[i];

		if (!use->alt || strcmp(use->alt, alt) || kind_of(section_of(obj, use)) != kind)
			continue;
		if (!hook_exists(section_of(obj, use), why, len))
			return false;
		found = true;
	}
	return found;
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

/* Whether a program with alternatives is of the kind chosen here; says
 * once per group, when its events are wanted, that no kind works. */
static bool alternative_chosen(struct bpf_object *obj, const struct program_set *set,
			       const struct hook_use *use, uint32_t wanted)
{
	char why[512];
	enum hook_kind kind = chosen_kind(obj, set, use->alt, why, sizeof(why));

	if (kind == HOOK_KINDS && (use->gives & wanted) && first_of_group(set, use))
		p_warn("%s: no hook works here: %s", use->alt, why);
	return kind == kind_of(section_of(obj, use));
}

uint32_t select_programs(struct bpf_object *obj, const struct program_set *set,
			 uint32_t wanted, uint8_t protos)
{
	uint32_t given = 0, possible = 0;
	char why[256];

	for (size_t i = 0; i < set->n_hooks; i++) {
		const struct hook_use *use = &set->hooks[i];
		struct bpf_program *prog = bpf_object__find_program_by_name(obj, use->prog);
		bool load = (use->protos & protos) && (use->always || (use->gives & wanted));

		if (load && use->alt) {
			load = alternative_chosen(obj, set, use, wanted);
		} else if (load && !use_possible(obj, use, why, sizeof(why))) {
			if (use->gives & wanted)
				p_warn("%s: %s", use->prog, why);
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

int require_programs(struct bpf_object *obj, const struct program_set *set, uint32_t wanted,
		     uint8_t protos)
{
	if (!select_programs(obj, set, wanted, protos))
		return 0;
	p_err("this kernel lacks hooks that '%s' needs (see 'sockeye features')", set->cmd);
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

/* Of a group of alternatives, only the kind of hook used here is shown, its
 * gives saying which kind and why the ones before it were not; when none
 * works, its tracepoint is shown missing with why every kind fails. Returns
 * whether this program is shown. */
static bool alternative_shown(struct bpf_object *obj, const struct program_set *set,
			      const struct hook_use *use, char *gives, size_t glen, bool *ok,
			      char *why, size_t len)
{
	enum hook_kind kind = chosen_kind(obj, set, use->alt, why, len);
	enum hook_kind mine = kind_of(section_of(obj, use));
	size_t used = strlen(gives);

	*ok = kind != HOOK_KINDS;
	if (mine != (*ok ? kind : HOOK_TP))
		return false;
	if (*ok) {
		snprintf(gives + used, glen - used, " (%s hook%s%s)", hook_kind_names[kind],
			 why[0] ? "; " : "", why);
		why[0] = '\0';
	}
	return true;
}

int report_hooks(const struct program_set *set, hook_report_fn fn, void *ctx)
{
	char why[512], gives[1024];
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
		fn(ctx, section, gives, ok, why);
	}
	bpf_object__close(obj);
	return 0;
}
