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
#include "flows_session.h"
#include "top_session.h"
#include "flows.skel.h"

/* Lines of text that contain needle ("" for every line). */
static int lines_with(const char *text, const char *needle)
{
	int n = 0;

	for (const char *end; (end = strchr(text, '\n')); text = end + 1) {
		const char *hit = strstr(text, needle);

		n += hit && hit < end;
	}
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
	ASSERT_EQ(lines_with(err, ""), 1, "one line");
	ASSERT_TRUE(wait_for_unload(c->progs, before, SETTLE_WAIT_MS),
		    "none of its programs left");
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
	ASSERT_HAS(err, "'flows' cannot run on this kernel: twin_flow_end_a: tracepoint "
		   "tcp_destroy_sock is not in this kernel", "names what is missing");
	/* Where a collector runs without a part the kernel lacks (6.1's
	 * drops have no socket), a warning says so before the error. */
	ASSERT_EQ(lines_with(err, "error:"), 1, "one error line");
	ASSERT_TRUE(stat(pin_dir, &st) && errno == ENOENT, "no pins left");
	ASSERT_TRUE(wait_for_unload("agent_tcp_state|agent_send|agent_recv", before,
					  SETTLE_WAIT_MS),
		    "the collectors that started are gone");
}

/* ---- full maps ---- */

#define SMALL_MAP "4"

/* Connections to the listener srv on port, both ends kept. */
static void open_conns(int srv, uint16_t port, int *fds, int n)
{
	for (int i = 0; i < n; i++) {
		fds[2 * i] = connect_to(AF_INET, SOCK_STREAM, port);
		fds[2 * i + 1] = accept(srv, NULL, NULL);
	}
}

static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

/* Reads closed-connection records until want came (each tracked end gives
 * one when it is destroyed) or SETTLE_WAIT_MS passed. */
static size_t wait_for_closed(struct flows_session *s, size_t want)
{
	for (int waited = 0; s->closed.n < want && waited < SETTLE_WAIT_MS; waited += 50)
		reader_poll(&s->reader, 50);
	return s->closed.n;
}

/* flows with room for SMALL_MAP connection ends: 5 connections (10 ends)
 * leave 6 untracked, counted once each and still listed; once the tracked
 * ones closed, new connections are tracked again. */
KTEST(fault_full_map_flows_counts_untracked_and_goes_on)
{
	struct flows_config cfg = { .filters = { .pid = getpid() } };
	struct flows_session s;
	struct flow_table t = {};
	int first[10], later[4], srv, tracked = 0;
	uint16_t port;

	srv = bound_socket(AF_INET, SOCK_STREAM, true, &port);
	/* pid for the clients (their port is not chosen when they start),
	 * port for the servers' ends (born in softirq, owner unknown). */
	cfg.filters.port = port;
	setenv("SOCKEYE_MAX_ENTRIES", SMALL_MAP, 1);
	if (!ASSERT_EQ(flows_session_start(&s, &cfg, NULL, NULL), 0, "session starts"))
		return;
	open_conns(srv, port, first, 5);
	ASSERT_EQ(flows_untracked(&s), 6, "ends beyond the map's 4 counted");
	if (ASSERT_EQ(flows_snapshot(&s, &t, false), 0, "snapshot"))
		ASSERT_EQ(t.n, 10, "every end listed, tracked or not");
	close_all(first, 10);
	ASSERT_EQ(wait_for_closed(&s, 4), 4, "the 4 tracked ends closed, with their numbers");
	open_conns(srv, port, later, 2);
	ASSERT_EQ(flows_untracked(&s), 6, "the new ones found room");
	flow_table_free(&t);
	if (ASSERT_EQ(flows_snapshot(&s, &t, false), 0, "snapshot")) {
		for (size_t i = 0; i < t.n; i++)
			tracked += !t.rows[i].closed && t.rows[i].entry.start_ns != 0;
		ASSERT_EQ(tracked, 4, "both ends of both new connections tracked since they began");
	}
	flow_table_free(&t);
	flows_session_stop(&s);
	close_all(later, 4);
	close(srv);
}

static uint64_t udp_sent(const struct process_traffic *rows, int n, pid_t pid)
{
	for (int i = 0; i < n; i++)
		if (rows[i].pid == (uint32_t)pid)
			return rows[i].stats.bytes[DIR_SENT][SPLIT_UDP4];
	return UINT64_MAX;
}

/* top with room for 2 processes: the sends of a third and a fourth are
 * counted as lost, one each; once the first two have been shown ended and
 * forgotten (as the command does), a fifth is counted in full. */
KTEST(fault_full_map_top_counts_lost_and_goes_on)
{
	struct sock_filters filters = {};
	struct process_traffic *rows = NULL;
	struct top_session s;
	pid_t pids[5];
	uint16_t port;
	int rx = bound_socket(AF_INET, SOCK_DGRAM, false, &port), n;

	filters.port = port;	/* no other process on the host takes room */
	setenv("SOCKEYE_MAX_ENTRIES", "2", 1);
	if (!ASSERT_EQ(top_session_start(&s, &filters), 0, "session starts"))
		return;
	for (int i = 0; i < 4; i++) {
		pids[i] = udp_sender(port, 10 + i, 100, "flt-send", -1);
		ASSERT_EQ(wait_status(pids[i]), 0, "sender done");
	}
	ASSERT_EQ(top_lost(&s), 12 + 13, "the third's and fourth's sends lost");
	n = top_read(&s, &rows);
	ASSERT_EQ(n, 2, "two rows");
	ASSERT_EQ(udp_sent(rows, n, pids[0]), 1000, "the first's bytes");
	ASSERT_EQ(udp_sent(rows, n, pids[1]), 1100, "the second's bytes");
	free(rows);
	top_forget(&s, pids[0]);
	top_forget(&s, pids[1]);
	pids[4] = udp_sender(port, 20, 100, "flt-send", -1);
	ASSERT_EQ(wait_status(pids[4]), 0, "sender done");
	n = top_read(&s, &rows);
	ASSERT_EQ(udp_sent(rows, n, pids[4]), 2000, "the fifth's bytes, all of them");
	ASSERT_EQ(top_lost(&s), 25, "nothing more lost");
	free(rows);
	top_session_stop(&s);
	close(rx);
}

/* ---- a process killed mid-connection ---- */

enum { KILLED_CONNS = 3 };

/* A child that listens on *port, makes KILLED_CONNS connections to itself
 * with bytes both ways once told to go, says so, and waits to be killed. */
static pid_t connection_holder(uint16_t *port, int *go, int *ready)
{
	int go_pipe[2], ready_pipe[2], srv = bound_socket(AF_INET, SOCK_STREAM, true, port);
	pid_t pid;

	if (srv < 0 || pipe(go_pipe) || pipe(ready_pipe))
		return -1;
	pid = fork();
	if (pid == 0) {
		int fds[2 * KILLED_CONNS];
		char c;

		if (read(go_pipe[0], &c, 1) != 1)
			_exit(1);
		open_conns(srv, *port, fds, KILLED_CONNS);
		for (int i = 0; i < KILLED_CONNS; i++)
			if (!send_all(fds[2 * i], 1000) || !recv_exactly(fds[2 * i + 1], 1000) ||
			    !send_all(fds[2 * i + 1], 500) || !recv_exactly(fds[2 * i], 500))
				_exit(1);
		c = write(ready_pipe[1], "r", 1);
		pause();
		_exit(0);
	}
	close(srv);
	close(go_pipe[0]);
	close(ready_pipe[1]);
	*go = go_pipe[1];
	*ready = ready_pipe[0];
	return pid;
}

/* Of the rows of flows' snapshot, the cookies of the child's connections. */
static int cookies_of(const struct flow_table *t, uint16_t port, uint64_t *cookies, int max)
{
	int n = 0;

	for (size_t i = 0; i < t->n && n < max; i++)
		if (t->rows[i].tuple.sport == port || t->rows[i].tuple.dport == port)
			cookies[n++] = t->rows[i].cookie;
	return n;
}

static int present(int map_fd, const uint64_t *cookies, int n)
{
	int found = 0;

	for (int i = 0; i < n; i++)
		found += map_has_key(map_fd, &cookies[i], sizeof(cookies[i]));
	return found;
}

/* SIGKILL on a process holding connections: once the kernel has destroyed
 * its sockets, flows holds no entry (counters, owner) for any of them. */
KTEST(fault_killed_process_leaves_no_flows_entries)
{
	struct flows_config cfg = {};
	struct flows_session s;
	struct flow_table t = {};
	uint64_t cookies[2 * KILLED_CONNS];
	int go, ready, n = 0, flows_fd, owners_fd, left = -1;
	uint16_t port;
	pid_t child = connection_holder(&port, &go, &ready);
	char c;

	if (!ASSERT_TRUE(child > 0, "child started"))
		return;
	cfg.filters.port = port;
	if (ASSERT_EQ(flows_session_start(&s, &cfg, NULL, NULL), 0, "session starts")) {
		flows_fd = bpf_map__fd(s.skel->maps.flows);
		owners_fd = bpf_map__fd(s.skel->maps.owners);
		if (ASSERT_EQ(write(go, "g", 1), 1, "go") && ASSERT_EQ(read(ready, &c, 1), 1, "ready") &&
		    ASSERT_EQ(flows_snapshot(&s, &t, false), 0, "snapshot")) {
			n = cookies_of(&t, port, cookies, 2 * KILLED_CONNS);
			ASSERT_EQ(n, 2 * KILLED_CONNS, "both ends of each connection listed");
			ASSERT_EQ(present(flows_fd, cookies, n), n, "each end has its entry");
		}
		kill(child, SIGKILL);
		ASSERT_EQ(wait_status(child), 128 + SIGKILL, "child killed");
		for (int waited = 0; left && waited < SETTLE_WAIT_MS; waited += 50) {
			left = present(flows_fd, cookies, n) + present(owners_fd, cookies, n);
			if (left)
				sleep_ms(50);
		}
		ASSERT_EQ(left, 0, "no entry left for its connections");
		flow_table_free(&t);
		flows_session_stop(&s);
	} else {
		kill(child, SIGKILL);
		wait_status(child);
	}
	close(go);
	close(ready);
}
