// SPDX-License-Identifier: GPL-2.0-only
/* Faults: a tracepoint the kernel lacks (SOCKEYE_MISSING_TP makes sockeye
 * take one as absent, as it would find it on such a kernel), maps too
 * small for what happens (SOCKEYE_MAX_ENTRIES), and a process killed while
 * it holds connections. Each command must say what is missing and leave
 * nothing behind, and every loss must be counted. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "test.h"
#include "helpers.h"

static int lines_in(const char *text)
{
	int n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

/* Runs argv with SOCKEYE_MISSING_TP=tp; returns its exit status. */
static int run_missing(const char *tp, char *const argv[], char *out, size_t out_len, char *err,
		       size_t err_len)
{
	int status;

	setenv("SOCKEYE_MISSING_TP", tp, 1);
	status = run_capture(argv, out, out_len, err, err_len);
	unsetenv("SOCKEYE_MISSING_TP");
	return status;
}

struct needs_all {
	const char *cmd, *tp, *progs;	/* progs: the command's, "a|b" */
};

/* A command that needs every hook it asks for: one line that names the
 * tracepoint and says what to do, exit 1, and none of its programs left. */
static void check_refuses(const struct needs_all *c)
{
	char out[65536], err[4096], want[128];
	char *argv[] = { (char *)sockeye_path(), (char *)c->cmd, "--duration", "1", NULL };
	uint32_t before = last_program_id();

	printf("    %s without %s\n", c->cmd, c->tp);
	ASSERT_EQ(run_missing(c->tp, argv, out, sizeof(out), err, sizeof(err)), 1, "exit status");
	snprintf(want, sizeof(want), "tracepoint %s is not in this kernel", c->tp);
	ASSERT_HAS(err, want, "names what is missing");
	ASSERT_HAS(err, "run it on a kernel that has what is missing ('sockeye features'",
		   "says what to do");
	ASSERT_EQ(lines_in(err), 1, "one line");
	ASSERT_TRUE(wait_for_unload_after(c->progs, before, 5000), "none of its programs left");
}

KTEST(fault_missing_tracepoint_each_command_refuses)
{
	static const struct needs_all cmds[] = {
		{ "connlat", "inet_sock_set_state", "connlat_state" },
		{ "flows", "tcp_destroy_sock", "flows_state|flows_iter|flows_owners|flows_retrans" },
		{ "http", "sys_exit_write", "http_write_e|http_read_x|http_recvfrom_e" },
		{ "soconnect", "sys_exit_connect", "soconnect_enter" },
		/* top's hooks have fallbacks (fexit, kprobes): forced to the
		 * tracepoints, it has none on any kernel. */
		{ "top", "sock_send_length", "top_send|top_recv" },
	};

	setenv("SOCKEYE_FORCE_HOOK", "tp", 1);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		check_refuses(&cmds[i]);
}

/* Where a command can show the rest, it says what it cannot show and
 * runs: `events` without state changes, sockstat without socket(2)
 * counts (a `-` in their column). Other kernels may lack more (Linux 6.1
 * has no sock_send_length): only what this test takes away is checked. */
KTEST(fault_missing_tracepoint_warns_and_shows_the_rest)
{
	char out[65536], err[4096];
	char *events[] = { (char *)sockeye_path(), "events", "--duration", "1", NULL };
	char *sockstat[] = { (char *)sockeye_path(), "sockstat", "-c", "1", "-i", "0.5", NULL };

	ASSERT_EQ(run_missing("inet_sock_set_state", events, out, sizeof(out), err, sizeof(err)),
		  0, "events runs");
	ASSERT_HAS(err, "set_state: tracepoint inet_sock_set_state is not in this kernel",
		   "events names what is missing");
	ASSERT_HAS(err, "this kernel gives no listen, disconnect", "and what it cannot show");
	ASSERT_EQ(run_missing("sys_enter_socket", sockstat, out, sizeof(out), err, sizeof(err)),
		  0, "sockstat runs");
	ASSERT_HAS(err, "ss_socket: tracepoint sys_enter_socket is not in this kernel",
		   "sockstat names what is missing");
	ASSERT_HAS(out, ":", "a row");
	ASSERT_TRUE(strstr(out, "\n") && strstr(strchr(out, '\n') + 1, " -") != NULL,
		    "SOCKET shown as -");
}

/* The agent with collectors asked for by name: the third cannot run, so
 * the two started before it are detached and their pins removed. */
KTEST(fault_missing_tracepoint_agent_leaves_nothing)
{
	char out[4096], err[4096], listen[32], pin_dir[64];
	char *argv[] = { (char *)sockeye_path(), "agent", "--listen", listen, "--pin-dir", pin_dir,
			 "--collectors", "bytes,tcp,flows", "--duration", "5", NULL };
	uint32_t before = last_program_id();
	uint16_t port;
	struct stat st;

	close(bound_socket(AF_INET, SOCK_STREAM, false, &port));
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/sockeye-test-%d-fault", getpid());
	ASSERT_EQ(run_missing("tcp_destroy_sock", argv, out, sizeof(out), err, sizeof(err)), 1,
		  "exit status");
	ASSERT_HAS(err, "'flows' cannot run on this kernel: flows_destroy: tracepoint "
		   "tcp_destroy_sock is not in this kernel", "names what is missing");
	ASSERT_EQ(lines_in(err), 1, "one line");
	ASSERT_TRUE(stat(pin_dir, &st) && errno == ENOENT, "no pins left");
	ASSERT_TRUE(wait_for_unload_after("agent_tcp_state|agent_send|agent_recv", before, 5000),
		    "the collectors that started are gone");
}
