// SPDX-License-Identifier: GPL-2.0-only
/* Hooks with fallbacks (send and receive: tracepoint, else fexit, else
 * kprobes): the first kind that works here, or the one SOCKEYE_FORCE_HOOK
 * allows, is the one `sockeye features` names; where none works, a command
 * says so at start. The numbers each kind gives are checked by the top and
 * events tests, run once per forced kind in the kernel matrix. */
#include <stdlib.h>
#include <string.h>
#include "test.h"
#include "helpers.h"
#include "probe.h"
#include "programs.h"
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
