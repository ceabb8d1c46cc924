// SPDX-License-Identifier: GPL-2.0-only
/* Runs every registered test in its own child process (a crash or a
 * leaked BPF link cannot touch the next test), with a time limit, and
 * ends with the line "N passed, N failed, N skipped".
 * Usage: sockeye-tests [NAME-SUBSTRING...]; SOCKEYE_TEST_VERBOSE=1 adds
 * libbpf's messages; SOCKEYE_TEST_TIMEOUT=SECS changes the time limit of
 * each test (the kernel matrix's emulated guests are many times slower). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "test.h"

#define DEFAULT_TIMEOUT_S 60
#define EXIT_SKIP 77

static struct test *tests, **tail = &tests;
static bool failed;

void register_test(struct test *t)
{
	*tail = t;
	tail = &t->next;
}

void test_fail(void)
{
	failed = true;
}

void test_skip(const char *why)
{
	printf("    skipped: %s\n", why);
	fflush(stdout);
	_exit(EXIT_SKIP);
}

static bool selected(const struct test *t, int argc, char **argv)
{
	if (argc < 2)
		return true;
	for (int i = 1; i < argc; i++)
		if (strstr(t->name, argv[i]))
			return true;
	return false;
}

static unsigned int timeout_s(void)
{
	const char *s = getenv("SOCKEYE_TEST_TIMEOUT");
	unsigned int n = s ? (unsigned int)strtoul(s, NULL, 10) : 0;

	return n ? n : DEFAULT_TIMEOUT_S;
}

/* Returns 0 passed, 1 failed, EXIT_SKIP skipped. */
static int run_one(const struct test *t)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);	/* so the whole tree can be killed on timeout */
		alarm(timeout_s());
		if (t->needs_root && geteuid() != 0)
			test_skip("needs root to load BPF programs");
		t->fn();
		fflush(stdout);
		_exit(failed ? 1 : 0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return 1;
	kill(-pid, SIGKILL);	/* helpers a failed test left behind */
	if (WIFSIGNALED(status)) {
		printf("    killed by signal %d%s\n", WTERMSIG(status),
		       WTERMSIG(status) == SIGALRM ? " (timed out)" : "");
		return 1;
	}
	return WEXITSTATUS(status);
}

/* libbpf's messages only with SOCKEYE_TEST_VERBOSE set, as sockeye shows
 * them only with -v: the fallback tests fail hooks on purpose. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return getenv("SOCKEYE_TEST_VERBOSE") ? vfprintf(stderr, fmt, ap) : 0;
}

int main(int argc, char **argv)
{
	int passed = 0, nfailed = 0, skipped = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(libbpf_print);
	for (struct test *t = tests; t; t = t->next) {
		int rc;

		if (!selected(t, argc, argv))
			continue;
		printf("%s\n", t->name);
		rc = run_one(t);
		if (rc == 0)
			passed++;
		else if (rc == EXIT_SKIP)
			skipped++;
		else
			nfailed++;
		printf("  %s\n", rc == 0 ? "ok" : rc == EXIT_SKIP ? "SKIP" : "FAIL");
	}
	printf("%d passed, %d failed, %d skipped\n", passed, nfailed, skipped);
	return nfailed ? 1 : 0;
}
