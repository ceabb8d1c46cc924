// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <limits.h>
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

uint32_t own_netns(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (uint32_t)st.st_ino;
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

static struct btf *btf;

struct btf *kernel_btf(void)
{
	if (!btf)
		btf = btf__load_vmlinux_btf();
	return libbpf_get_error(btf) ? NULL : btf;
}

void forget_kernel_btf(void)
{
	if (!libbpf_get_error(btf))
		btf__free(btf);
	btf = NULL;
}

bool kernel_has_btf_type(const char *name, bool function)
{
	struct btf *btf = kernel_btf();

	return btf && btf__find_by_name_kind(btf, name, function ? BTF_KIND_FUNC :
					     BTF_KIND_TYPEDEF) > 0;
}

bool has_task_btf(void)
{
	static int known = -1;

	if (known < 0)
		known = libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT,
						BPF_FUNC_get_current_task_btf, NULL) == 1;
	return known;
}

int tracepoint_arg_count(const char *tp)
{
	struct btf *btf = kernel_btf();
	const struct btf_type *t;
	char type[128];
	int id;

	snprintf(type, sizeof(type), "btf_trace_%s", tp);
	id = btf ? btf__find_by_name_kind(btf, type, BTF_KIND_TYPEDEF) : -1;
	if (id <= 0)
		return -1;
	/* typedef -> pointer -> prototype, whose first argument is the
	 * program's context, not the tracepoint's */
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	t = t && btf_is_ptr(t) ? btf__type_by_id(btf, t->type) : NULL;
	return t && btf_is_func_proto(t) ? btf_vlen(t) - 1 : -1;
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

/* A uprobe on target, "PATH:FUNCTION". */
static struct bpf_link *attach_uprobe_target(struct bpf_program *prog, const char *target)
{
	const char *colon = strrchr(target, ':');
	char path[PATH_MAX];
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = colon ? colon + 1 : "");

	snprintf(path, sizeof(path), "%.*s", colon ? (int)(colon - target) : 0, target);
	return bpf_program__attach_uprobe_opts(prog, -1, path, 0, &opts);
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
		if (target && !strncmp(bpf_program__section_name(prog), "uprobe", 6))
			return attach_uprobe_target(prog, target);
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

bool ancestor_cgroup_helper(void)
{
	static int works = -1;

	/* Kprobes have the same helpers as the other tracing programs. Only
	 * a verifier that names the helper unknown (0) means it is missing. */
	if (works < 0)
		works = libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE,
						BPF_FUNC_get_current_ancestor_cgroup_id, NULL) != 0;
	return works;
}

bool uprobes_available(char *why, size_t len)
{
	static const char pmu[] = "/sys/bus/event_source/devices/uprobe/type";

	if (!access(pmu, R_OK))
		return true;
	snprintf(why, len, "this kernel has no uprobes (%s: %s; CONFIG_UPROBE_EVENTS)", pmu,
		 strerror(errno));
	return false;
}

enum hook_kind hook_kind_of(const char *section)
{
	if (!strncmp(section, "fentry/", 7) || !strncmp(section, "fexit/", 6))
		return HOOK_FENTRY;
	if (!strncmp(section, "kprobe/", 7) || !strncmp(section, "kretprobe/", 10))
		return HOOK_KPROBE;
	return HOOK_TP;
}

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
static bool function_hook_works(const char *section, const char *target, char *why, size_t len)
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

/* SOCKEYE_MISSING_TP=NAME (for tests): the tracepoint NAME is taken to be
 * absent, as on a kernel that lacks it, so that the tests see what each
 * command does then. */
static bool missing_for_tests(const char *section, char *why, size_t len)
{
	const char *name = getenv("SOCKEYE_MISSING_TP"), *tp = strrchr(section, '/');

	if (!name || !tp || strcmp(tp + 1, name))
		return false;
	snprintf(why, len, "tracepoint %s is not in this kernel", name);
	return true;
}

bool hook_exists(const char *section, char *why, size_t len)
{
	const char *slash = strchr(section, '/');
	const char *target = slash ? slash + 1 : "";

	if (hook_kind_of(section) != HOOK_TP)
		return function_hook_works(section, target, why, len);
	if ((!strncmp(section, "tp", 2) || !strncmp(section, "raw_tp/", 7)) &&
	    missing_for_tests(section, why, len))
		return false;

	if (!strncmp(section, "tp_btf/", 7) || !strncmp(section, "raw_tp/", 7))
		return tracepoint_in_btf(target, why, len);
	if (!strncmp(section, "tp/", 3))
		return tracepoint_in_tracefs(target, why, len);
	if (!strncmp(section, "uprobe", 6) || !strncmp(section, "uretprobe", 9))
		return uprobes_available(why, len);
	if (!strncmp(section, "cgroup/", 7)) {
		if (cgroup2_root())
			return true;
		snprintf(why, len, "cgroup v2 is not mounted; mount it with "
			 "'mount -t cgroup2 none /sys/fs/cgroup' (or a free directory)");
		return false;
	}
	return true;
}

