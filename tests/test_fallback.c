// SPDX-License-Identifier: GPL-2.0-only
/* Hooks with fallbacks (send and receive: tracepoint, else fexit, else
 * kprobes): the first kind that works here, or the one SOCKEYE_FORCE_HOOK
 * allows, is the one `sockeye features` names; where none works, a command
 * says so at start. The numbers each kind gives are checked by the top and
 * events tests, run once per forced kind in the kernel matrix. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "test.h"
#include "helpers.h"
#include "probe.h"
#include "programs.h"
#include "options.h"
#include "sockeye.h"

static const struct { const char *kind, *section; } send_hooks[] = {
	{ "tp", "tp_btf/sock_send_length" },
	{ "fentry", "fexit/inet_sendmsg" },
	{ "kprobe", "kprobe/inet_sendmsg" },
};
#define N_KINDS (sizeof(send_hooks) / sizeof(send_hooks[0]))

KTEST(fallback_features_names_the_send_hook)
{
	const char *forced = getenv("SOCKEYE_FORCE_HOOK"), *chosen = NULL;
	char *argv[] = { (char *)sockeye_path(), "features", NULL };
	char out[65536], err[4096], why[256], want[128];

	for (size_t i = 0; i < N_KINDS && !chosen; i++) {
		if (forced && *forced && strcmp(forced, send_hooks[i].kind))
			continue;
		if (hook_exists(send_hooks[i].section, why, sizeof(why)))
			chosen = send_hooks[i].section;
		else
			printf("    %s: %s\n", send_hooks[i].kind, why);
	}
	ASSERT_EQ(run_capture(argv, out, sizeof(out), err, sizeof(err)), 0, "exit status");
	if (!chosen) {
		ASSERT_HAS(out, "runs without: send; recv", "no send hook works");
		return;
	}
	snprintf(want, sizeof(want), "  %-34s yes  send", chosen);
	ASSERT_HAS(out, want, "the hook chosen for send");
}

KTEST(fallback_missing_send_hook_is_said_at_start)
{
	char *argv[] = { (char *)sockeye_path(), "events", "--duration", "1", "--event", "send", NULL };
	char out[4096], err[4096], why[256];
	int tried = 0;

	for (size_t i = 0; i < N_KINDS; i++) {
		if (hook_exists(send_hooks[i].section, why, sizeof(why)))
			continue;
		setenv("SOCKEYE_FORCE_HOOK", send_hooks[i].kind, 1);
		ASSERT_EQ(run_capture(argv, out, sizeof(out), err, sizeof(err)), 1, send_hooks[i].kind);
		ASSERT_HAS(err, "sockeye: send: no hook works here: ", "the feature and why");
		ASSERT_HAS(err, "none of the requested events can be traced on this kernel", "the end");
		tried++;
	}
	if (!tried)
		test_skip("every kind of send hook works here");
}

/* The create, close, bind and UDP connect events: the cgroup hooks (with
 * bpf_cast_to_kern_ctx), else fentry/fexit; there is no kprobe kind. */
KTEST(fallback_missing_create_hook_is_said_at_start)
{
	char *argv[] = { (char *)sockeye_path(), "events", "--duration", "1", NULL };
	char out[65536], err[8192], why[256];
	bool works[2] = { kernel_has_btf_type("bpf_cast_to_kern_ctx", true),
			  hook_exists("fexit/inet_create", why, sizeof(why)) };
	const char *kinds[2] = { "tp", "fentry" };
	int tried = 0;

	for (int i = 0; i < 2; i++) {
		if (works[i])
			continue;
		setenv("SOCKEYE_FORCE_HOOK", kinds[i], 1);
		ASSERT_EQ(run_capture(argv, out, sizeof(out), err, sizeof(err)), 0, kinds[i]);
		ASSERT_HAS(err, "sockeye: create: no hook works here: ", "the feature and why");
		ASSERT_HAS(err, "this kernel gives no create, bind, ", "what is missing");
		ASSERT_HAS(err, "the rest are shown", "the rest");
		tried++;
	}
	if (!tried)
		test_skip("every kind of create hook works here");
}

/* What flows --drops leaves out where the kernel's kfree_skb tracepoint
 * lacks an argument (the reason before 5.17, the socket before 6.11): each
 * said at start, and in the line of `sockeye features` about flows. */
KTEST(fallback_flows_drops_say_what_they_lack)
{
	char *features[] = { (char *)sockeye_path(), "features", NULL };
	char *flows[] = { (char *)sockeye_path(), "flows", "--drops", "-b", "--duration", "1", NULL };
	static char out[65536], flows_out[65536];
	char err[8192], want[640];
	const char *const *lack = flows_programs.lacks();

	ASSERT_EQ(run_capture(features, out, sizeof(out), err, sizeof(err)), 0, "features");
	ASSERT_EQ(run_capture(flows, flows_out, sizeof(flows_out), err, sizeof(err)), 0,
		  "flows --drops");
	if (!*lack) {
		snprintf(want, sizeof(want), "  %-34s yes  runs fully", "flows");
		ASSERT_HAS(out, want, "features: flows runs fully");
		ASSERT_TRUE(!strstr(err, "this kernel has no"), "flows says nothing is left out");
	}
	for (; *lack; lack++) {
		ASSERT_HAS(out, *lack, "features names what flows leaves out");
		snprintf(want, sizeof(want), "sockeye: this kernel has no %s", *lack);
		ASSERT_HAS(err, want, "flows says it at start");
	}
}

/* Whether the block "Hooks of 'cmd':" of `sockeye features` says yes to
 * section. */
static bool features_says_yes(const char *features, const char *cmd, const char *section)
{
	char head[64], line[256], sec[128], verdict[8];
	const char *p;

	snprintf(head, sizeof(head), "Hooks of '%s':\n", cmd);
	p = strstr(features, head);
	for (p = p ? p + strlen(head) : NULL; p && *p && *p != '\n'; p += strcspn(p, "\n") + 1) {
		snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
		if (sscanf(line, " %127s %7s", sec, verdict) == 2 && !strcmp(sec, section))
			return !strcmp(verdict, "yes");
	}
	return false;
}

/* The section of the loaded program with this id: its object's program
 * of the same type whose name the kernel keeps as the loaded one's (the
 * first 15 characters: "top_udp_release" is also top_udp_release_fe's),
 * or NULL. Its name into name. */
static const char *section_of(struct bpf_object *obj, uint32_t id, char name[16])
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);
	struct bpf_program *prog;
	bool loaded = fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len);

	if (fd >= 0)
		close(fd);
	snprintf(name, 16, "%s", loaded ? info.name : "");
	bpf_object__for_each_program(prog, obj)
		if (loaded && !strncmp(bpf_program__name(prog), name, 15) &&
		    bpf_program__type(prog) == info.type)
			return bpf_program__section_name(prog);
	return NULL;
}

/* The byte at the variable var of a loaded .rodata map, or -1 if the map
 * is no .rodata or has no such variable. */
static int rodata_byte(uint32_t map_id, const char *var)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), zero = 0;
	int fd = bpf_map_get_fd_by_id(map_id), value = -1;
	struct btf *btf = NULL;
	unsigned char data[4096];
	int sec;

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) || !strstr(info.name, ".rodata") ||
	    !info.btf_id || info.value_size > sizeof(data) || bpf_map_lookup_elem(fd, &zero, data))
		goto out;
	btf = btf__load_from_kernel_by_id(info.btf_id);
	sec = btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) : -1;
	if (sec > 0) {
		const struct btf_type *t = btf__type_by_id(btf, sec);
		const struct btf_var_secinfo *v = btf_var_secinfos(t);

		for (int i = 0; i < btf_vlen(t); i++, v++)
			if (!strcmp(btf__name_by_offset(btf, btf__type_by_id(btf, v->type)->name_off), var))
				value = data[v->offset];
	}
out:
	btf__free(btf);
	if (fd >= 0)
		close(fd);
	return value;
}

/* The flag task_btf (bpf/sockeye.bpf.h) in the .rodata of the program with
 * this id, as loaded; -1 if it has none. */
static int loaded_task_btf(uint32_t prog_id)
{
	__u32 map_ids[16], len = sizeof(struct bpf_prog_info);
	struct bpf_prog_info info = { .nr_map_ids = 16, .map_ids = (uintptr_t)map_ids };
	int fd = bpf_prog_get_fd_by_id(prog_id), value = -1;

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		info.nr_map_ids = 0;
	for (__u32 i = 0; i < info.nr_map_ids && i < 16 && value < 0; i++)
		value = rodata_byte(map_ids[i], "task_btf");
	if (fd >= 0)
		close(fd);
	return value;
}

static const struct program_set *programs_of(const char *cmd)
{
	static const struct command *const watching[] = { WATCH_COMMANDS };

	for (size_t i = 0; i < sizeof(watching) / sizeof(watching[0]); i++)
		if (!strcmp(watching[i]->name, cmd))
			return watching[i]->programs;
	return NULL;
}

/* Each program of a running cmd: the hook kind features names for it, and
 * the fd walk typed as features says (typed_walk; -1: not checked). */
static void check_attached(pid_t pid, const char *cmd, const char *features, int typed_walk)
{
	const struct program_set *set = programs_of(cmd);
	struct bpf_object *obj = set ? open_program_set(set) : NULL;
	uint32_t ids[256];
	int n = programs_attached_by(pid, ids, 256, ATTACH_WAIT_MS), flags_read = 0;

	if (!ASSERT_TRUE(obj && n > 0, cmd))
		goto out;
	for (int i = 0; i < n; i++) {
		char name[16];
		const char *section = section_of(obj, ids[i], name);
		bool named = section && features_says_yes(features, cmd, section);
		int typed = loaded_task_btf(ids[i]);

		if (!named)
			printf("    %s attached %s (%s), which features does not name\n", cmd, name,
			       section ? section : "not in its object");
		ASSERT_TRUE(named, name);
		if (typed_walk < 0)
			continue;
		flags_read += typed >= 0;
		if (typed >= 0 && typed != typed_walk)
			printf("    %s: %s walks fds %s\n", cmd, name, typed ? "typed" : "by helpers");
		ASSERT_TRUE(typed < 0 || typed == typed_walk, "the fd walk features names");
	}
	ASSERT_TRUE(typed_walk < 0 || flags_read > 0, "the flag read from the loaded object");
out:
	bpf_object__close(obj);
}

/* Each program a command attaches is the kind `sockeye features` names for
 * its hook (a fallback must not silently take the fast path's place), and
 * it walks fds by typed loads exactly where features says the kernel
 * allows it. */
KTEST(fallback_each_command_attaches_what_features_names)
{
	/* The command, an argument, and whether its object carries the flag
	 * task_btf unread (top's: it walks no fds, reads no names by loads). */
	static const struct { const char *cmd, *arg; bool flag_unread; } cmds[] = {
		{ "top", "--json", true }, { "events" }, { "connlat" }, { "soconnect" },
		{ "sockstat" }, { "sofamily" }, { "flows" }, { "http" },
	};
	char *features[] = { (char *)sockeye_path(), "features", NULL };
	static char out[65536];
	char err[4096];
	bool typed_walk;

	if (!ASSERT_EQ(run_capture(features, out, sizeof(out), err, sizeof(err)), 0, "features") ||
	    !ASSERT_TRUE(features_say("bpf_get_current_task_btf", &typed_walk), "features names it"))
		return;
	for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
		char *argv[] = { (char *)sockeye_path(), (char *)cmds[c].cmd, (char *)cmds[c].arg,
				 NULL };
		pid_t pid = spawn(argv, "/dev/null");

		check_attached(pid, cmds[c].cmd, out, cmds[c].flag_unread ? -1 : typed_walk);
		kill(pid, SIGINT);
		ASSERT_EQ(wait_status(pid), 0, cmds[c].cmd);
	}
}
