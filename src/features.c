// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye features`: what this kernel allows, found by trying: each
 * program type is loaded and attached alone (bpf/probe.bpf.c), each hook a
 * command uses is looked up, and each command is said to run fully, in
 * part, or not. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include "sockeye.h"
#include "options.h"
#include "format.h"
#include "json.h"
#include "probe.h"
#include "programs.h"
#include "tls_libs.h"

struct report {
	bool json;
	int hooks_missing;	/* of the command being reported */
	int hooks_total;
	char missing[1024];
};

static void line(const struct report *r, const char *type, const char *name, bool ok,
		 const char *detail)
{
	struct json j;

	if (r->json) {
		json_record_begin(&j, type, realtime_now_ns());
		json_str(&j, "name", name);
		json_bool(&j, "ok", ok);
		json_str(&j, "detail", detail);
		json_end(&j);
	} else {
		printf("  %-34s %-4s %s\n", name, ok ? "yes" : "no", detail);
	}
}

static void heading(const struct report *r, const char *title)
{
	if (!r->json)
		printf("\n%s:\n", title);
}

static void report_program_types(const struct report *r)
{
	static const struct { const char *type, *prog; } probes[] = {
		{ "tp (classic tracepoint)", "probe_tp" },
		{ "tp_btf (BTF tracepoint)", "probe_tp_btf" },
		{ "raw_tp", "probe_raw_tp" },
		{ "fentry", "probe_fentry" },
		{ "kprobe", "probe_kprobe" },
		{ "cgroup/sock_create", "probe_cgroup_sock" },
		{ "cgroup/connect4 (sock_addr)", "probe_cgroup_sock_addr" },
		{ "cgroup_skb", "probe_cgroup_skb" },
		{ "sockops", "probe_sockops" },
		{ "iter/tcp", "probe_iter_tcp" },
		{ "iter/udp", "probe_iter_udp" },
	};
	char why[256];

	heading(r, "Program types (loaded and attached here)");
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		why[0] = '\0';
		line(r, "program_type", probes[i].type,
		     try_probe(probes[i].prog, NULL, false, why, sizeof(why)), why);
	}
	line(r, "map_type", "ringbuf", libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1, "");
	line(r, "kfunc", "bpf_cast_to_kern_ctx", kernel_has_btf_type("bpf_cast_to_kern_ctx", true),
	     "used by cgroup socket hooks to read the socket (Linux 6.2+)");
	line(r, "helper", "bpf_get_current_task_btf", has_task_btf(),
	     "every command but top reads the process's name and finds an fd's socket by "
	     "typed loads (Linux 5.11+; without it, a helper call per field)");
	line(r, "helper", "bpf_get_current_ancestor_cgroup_id", ancestor_cgroup_helper(),
	     ancestor_cgroup_helper() ? "used by --cgroup in tracing programs (Linux 5.13+)" :
	     "not for tracing programs before Linux 5.13: --cgroup reads the process's "
	     "cgroup ancestors from its task instead, with the same result");
}

static void report_environment(const struct report *r)
{
	char missing[64], detail[256];
	const char *cg = cgroup2_root();
	struct utsname u;

	uname(&u);
	if (!r->json)
		printf("Kernel: %s %s\n", u.release, u.machine);
	heading(r, "Environment");
	line(r, "environment", "privileges", has_capabilities(missing, sizeof(missing)),
	     missing[0] ? missing : "");
	line(r, "environment", "BTF " VMLINUX_BTF, !access(VMLINUX_BTF, R_OK), "");
	line(r, "environment", "tracefs " TRACEFS_DIR, !access(TRACEFS_DIR "/events", F_OK),
	     "classic tracepoints; sockeye mounts it when needed");
	line(r, "environment", "bpffs " BPFFS_DIR, is_mounted(BPFFS_DIR, "bpf"),
	     "only for pinning maps");
	snprintf(detail, sizeof(detail), "%s", cg ? cg : "not mounted: cgroup socket hooks unavailable");
	line(r, "environment", "cgroup v2", cg != NULL, detail);
}

/* HTTPS for http and the agent: whether a uprobe attaches to a TLS
 * library here (tried on the first one found), and which libraries. */
static void report_tls(const struct report *r)
{
	struct tls_libs *libs = calloc(1, sizeof(*libs));
	char why[256] = "", target[PATH_MAX + 32], detail[PATH_MAX + 128];
	bool ok;

	heading(r, "HTTPS (uprobes on TLS libraries, for http and the agent)");
	if (!libs)
		return;
	tls_libs_find(libs);
	ok = uprobes_available(why, sizeof(why));
	if (ok && libs->n) {
		snprintf(target, sizeof(target), "%s:%s", libs->lib[0].path,
			 libs->lib[0].kind == TLS_OPENSSL ? "SSL_write" : "gnutls_record_send");
		ok = try_probe("probe_uprobe", target, false, why, sizeof(why));
	} else if (ok) {
		snprintf(why, sizeof(why), "not tried: no TLS library found");
	}
	line(r, "program_type", "uprobe", ok, why);
	for (size_t i = 0; i < libs->n; i++) {
		snprintf(detail, sizeof(detail), "%s: %s", tls_kind_name(libs->lib[i].kind),
			 tls_kind_calls(libs->lib[i].kind));
		line(r, "tls_library", libs->lib[i].path, true, detail);
	}
	if (!libs->n)
		line(r, "tls_library", "none found", false, "no libssl.so.3 or libgnutls.so.30 on the "
		     "system or mapped by a process; http --tls-lib adds other copies; cleartext "
		     "HTTP is still seen");
	free(libs);
}

static void on_hook(void *ctx, const char *section, const char *gives, bool ok, const char *why)
{
	struct report *r = ctx;
	char detail[512];

	r->hooks_total++;
	if (!ok) {
		r->hooks_missing++;
		snprintf(r->missing + strlen(r->missing), sizeof(r->missing) - strlen(r->missing),
			 "%s%s", r->missing[0] ? "; " : "", gives);
	}
	snprintf(detail, sizeof(detail), "%s%s%s", gives, ok ? "" : ": ", why);
	line(r, "hook", section, ok, detail);
}

/* Every command is tested down to the kernel matrix's oldest kernel;
 * docs/kernels.md says what each one does differently there. */
#define OLDEST_TESTED "oldest kernel tested: 5.10"

static void report_command(struct report *r, const struct program_set *set)
{
	const char *name = set->cmd;
	char title[64], detail[1200];

	snprintf(title, sizeof(title), "Hooks of '%s'", name);
	heading(r, title);
	r->hooks_missing = r->hooks_total = 0;
	r->missing[0] = '\0';
	if (report_hooks(set, on_hook, r) < 0) {
		line(r, "command", name, false, "cannot open its BPF object");
		return;
	}
	for (const char *const *lack = set->lacks ? set->lacks() : NULL; lack && *lack; lack++)
		snprintf(r->missing + strlen(r->missing), sizeof(r->missing) - strlen(r->missing),
			 "%s%s", r->missing[0] ? "; " : "", *lack);
	if (!r->missing[0])
		snprintf(detail, sizeof(detail), "runs fully; %s", OLDEST_TESTED);
	else if (r->hooks_missing < r->hooks_total)
		snprintf(detail, sizeof(detail), "runs without: %s; %s", r->missing, OLDEST_TESTED);
	else
		snprintf(detail, sizeof(detail), "cannot run: none of its hooks exist");
	heading(r, "Command");
	line(r, "command", name, r->hooks_missing < r->hooks_total, detail);
}

static int cmd_features(int argc, char **argv);

/* The commands whose hooks are reported, in --help's order. */
static const struct command *const watching[] = { WATCH_COMMANDS };

struct features_opts {
	struct common_opts common;
};

#define T struct features_opts
static const struct opt_def features_options[] = {
	OPTION_JSON(T),
	OPTION_END,
};
#undef T

const struct command features_command = {
	.name = "features",
	.run = cmd_features,
	.summary = "what this kernel allows and which commands can run",
	.synopsis = "[-j]",
	.overhead =
	"Loads small probe programs once, one at a time, and detaches them "
	"before it exits.",
	.description =
	"Show what this kernel allows: privileges, BTF and mounts; which BPF program\n"
	"types load and attach (each is tried, not guessed); which hooks each command\n"
	"uses and whether they exist; whether each command can run here; and for\n"
	"HTTPS, whether uprobes attach and which TLS libraries were found.\n"
	"Run it as root: without privileges every program type reads 'no'.\n",
	.notes =
	"JSON Lines: a header record, then one record per line of the text, of type\n"
	"environment, program_type, map_type, kfunc, helper, hook, tls_library or\n"
	"command; the fields are in sockeye's JSON schema (schema/sockeye.schema.json).\n",
	.examples =
	"  sudo sockeye features\n"
	"  sudo sockeye features --json | jq -c 'select(.ok == false)'   what is missing\n",
	.options = features_options,
};

static int cmd_features(int argc, char **argv)
{
	struct features_opts o = {};
	struct common_opts *common = &o.common;
	struct report r = {};
	char why[256];

	parse_options(&features_command, argc, argv, &o);
	r.json = common->json;
	if (r.json)
		json_header("features");
	if (has_capabilities(why, sizeof(why)) && !ensure_tracefs(why, sizeof(why)))
		p_warn("%s", why);
	report_environment(&r);
	report_program_types(&r);
	for (size_t i = 0; i < sizeof(watching) / sizeof(watching[0]); i++)
		report_command(&r, watching[i]->programs);
	report_tls(&r);
	return EXIT_OK;
}
