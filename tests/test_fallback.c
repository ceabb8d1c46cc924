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
	char out[65536], err[4096], why[256], want[64];

	for (size_t i = 0; i < N_KINDS && !chosen; i++) {
		if (forced && *forced && strcmp(forced, send_hooks[i].kind))
			continue;
		if (hook_exists(send_hooks[i].section, why, sizeof(why)))
			chosen = send_hooks[i].kind;
		else
			printf("    %s: %s\n", send_hooks[i].kind, why);
	}
	ASSERT_EQ(run_capture(argv, out, sizeof(out), err, sizeof(err)), 0, "exit status");
	if (!chosen) {
		ASSERT_HAS(out, "runs without: send; recv", "no send hook works");
		return;
	}
	snprintf(want, sizeof(want), "  send (%s hook", chosen);
	ASSERT_HAS(out, want, "the kind chosen for send");
	snprintf(want, sizeof(want), "  recv (%s hook", chosen);
	ASSERT_HAS(out, want, "the kind chosen for recv");
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
