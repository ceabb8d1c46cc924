// SPDX-License-Identifier: GPL-2.0-only
/* The agent under systemd: its unit passes systemd's own checks, allows
 * every system call the agent makes, and the agent says when it is ready
 * (Type=notify). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include "test.h"
#include "helpers.h"

#define EXIT_SKIP 77

/* tests/systemd_unit.sh CHECK against this sockeye (the suite runs from
 * the top of the tree): skipped when a tool it needs is missing. */
static void unit_check(const char *check)
{
	char out[8192], err[4096];
	char *argv[] = { "tests/systemd_unit.sh", (char *)check, (char *)sockeye_path(), NULL };
	int status;

	status = run_capture(argv, out, sizeof(out), err, sizeof(err));
	printf("    %s%s", out, err);
	if (status == EXIT_SKIP)
		test_skip(out);
	ASSERT_EQ(status, 0, check);
}

TEST(systemd_unit_verifies_and_scores_under_4)
{
	unit_check("verify");
}

KTEST(systemd_unit_allows_every_syscall_of_the_agent)
{
	unit_check("syscalls");
}

KTEST(systemd_agent_notifies_ready_once_serving)
{
	char path[64], port_arg[32], pins[64], msg[64] = "", out[256], err[4096];
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval wait = { .tv_sec = 10 };
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	char *argv[] = { (char *)sockeye_path(), "agent", "--listen", port_arg, "--pin-dir", pins,
			 "-i", "0.2", NULL };
	ssize_t n;
	pid_t agent;

	snprintf(path, sizeof(path), "/tmp/sockeye-test-notify-%d", getpid());
	snprintf(port_arg, sizeof(port_arg), "127.0.0.1:%u", free_port());
	snprintf(pins, sizeof(pins), "/sys/fs/bpf/sockeye-test-notify-%d", getpid());
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	unlink(path);
	if (!ASSERT_TRUE(fd >= 0 && !bind(fd, (struct sockaddr *)&addr, sizeof(addr)), "socket"))
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
	setenv("NOTIFY_SOCKET", path, 1);
	agent = spawn_logged(argv, "/dev/null", "/dev/null");
	unsetenv("NOTIFY_SOCKET");
	n = recv(fd, msg, sizeof(msg) - 1, 0);
	ASSERT_EQ(n, 7, "one datagram");
	ASSERT_STR_EQ(msg, "READY=1", "what systemd's Type=notify waits for");
	/* Ready means serving: /healthz answers at once. */
	{
		char url[64], *curl[] = { "curl", "-sf", url, NULL };

		snprintf(url, sizeof(url), "http://%s/healthz", port_arg);
		ASSERT_EQ(run_capture(curl, out, sizeof(out), err, sizeof(err)), 0, "healthz");
		ASSERT_STR_EQ(out, "ok\n", "healthz says ok");
	}
	kill(agent, SIGTERM);
	ASSERT_EQ(wait_status(agent), 0, "exit 0 on SIGTERM");
	close(fd);
	unlink(path);
}
