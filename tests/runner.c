// SPDX-License-Identifier: GPL-2.0-only
/* Runs every registered test in its own child process (a crash or a
 * leaked BPF link cannot touch the next test), with a time limit, and
 * ends with the line "N passed, N failed, N skipped". Each test's result
 * line gives its time ("  ok 2.4 s"), to find the slow ones.
 * Usage: sockeye-tests [NAME-SUBSTRING...] [-NAME-SUBSTRING...]: the tests
 * whose names hold a substring given (all if none), except those holding
 * one given after a '-'. SOCKEYE_TEST_VERBOSE=1 adds
 * libbpf's messages; SOCKEYE_TEST_TIMEOUT=SECS changes the time limit of
 * each test (the kernel matrix's emulated guests are many times slower);
 * SOCKEYE_TEST_KERNEL_ONLY=1 runs the kernel tests (KTEST) alone, as the
 * guests do: the others depend on no kernel, and the host runs them.
 * With SOCKEYE_TEST_SANITIZED set to the sanitizer
 * build of this runner (build/asan/sockeye-tests), a second pass runs each
 * test again in it, against the sockeye beside it, each counted as a test
 * of its own ("NAME [asan]"); that runner runs one test with --run NAME. */
#define _GNU_SOURCE	/* nftw() */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "test.h"

#define DEFAULT_TIMEOUT_S 60
#define EXIT_SKIP 77

static struct test *tests, **tail = &tests;
static bool failed;
/* The sanitizer pass: its runner, and where its reports are written. */
static const char *sanitized_runner;
static char report_dir[] = "/tmp/sockeye-sanitizer-XXXXXX";

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
	const char *kernel_only = getenv("SOCKEYE_TEST_KERNEL_ONLY");
	bool named = false, matched = false;

	if (kernel_only && *kernel_only && !t->needs_root)
		return false;
	for (int i = 1; i < argc; i++) {
		bool left_out = argv[i][0] == '-';

		if (left_out && strstr(t->name, argv[i] + 1))
			return false;
		named |= !left_out;
		matched |= !left_out && strstr(t->name, argv[i]);
	}
	return !named || matched;
}

static unsigned int timeout_s(void)
{
	const char *s = getenv("SOCKEYE_TEST_TIMEOUT");
	unsigned int n = s ? (unsigned int)strtoul(s, NULL, 10) : 0;

	return n ? n : DEFAULT_TIMEOUT_S;
}

/* The test itself, in the process that ends with its result. */
static void run_here(const struct test *t)
{
	if (t->needs_root && geteuid() != 0)
		test_skip("needs root to load BPF programs");
	t->fn();
	fflush(stdout);
}

/* The environment of the sanitizer pass: the sanitized sockeye, and every
 * report to a file, which the runner reads whether or not the test looked
 * at the stderr or the exit status of what failed. */
static void sanitized_exec(const struct test *t)
{
	char path[PATH_MAX], sockeye[PATH_MAX + 16], asan[PATH_MAX + 64], ubsan[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s", sanitized_runner);
	snprintf(sockeye, sizeof(sockeye), "%s/sockeye", dirname(path));
	snprintf(asan, sizeof(asan), "detect_leaks=1:log_path=%s/asan", report_dir);
	snprintf(ubsan, sizeof(ubsan), "print_stacktrace=1:log_path=%s/ubsan", report_dir);
	setenv("SOCKEYE", sockeye, 1);
	setenv("ASAN_OPTIONS", asan, 1);
	setenv("UBSAN_OPTIONS", ubsan, 1);
	execl(sanitized_runner, sanitized_runner, "--run", t->name, (char *)NULL);
	printf("    cannot run %s: %s\n", sanitized_runner, strerror(errno));
	_exit(1);
}

/* Prints and removes the sanitizer reports of the last test; returns
 * whether there were any. */
static bool sanitizer_reports(void)
{
	DIR *dir = opendir(report_dir);
	struct dirent *d;
	bool any = false;

	while (dir && (d = readdir(dir))) {
		char path[PATH_MAX], line[1024];
		FILE *f;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", report_dir, d->d_name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			printf("    %s", line);
		if (f)
			fclose(f);
		unlink(path);
		any = true;
	}
	if (dir)
		closedir(dir);
	return any;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path);
}

/* Removes what the test in process pid left pinned (the tests pin under
 * /sys/fs/bpf/sockeye-test-... with their pid in the name), so that a
 * killed or failing test leaves nothing on the host; returns how many. */
static int remove_left_pins(pid_t pid)
{
	const char *root = "/sys/fs/bpf";
	char token[24], path[PATH_MAX];
	struct dirent *e;
	int left = 0;
	DIR *d = opendir(root);

	if (!d)
		return 0;
	snprintf(token, sizeof(token), "-%d", (int)pid);
	while ((e = readdir(d))) {
		const char *at = strstr(e->d_name, token);

		if (strncmp(e->d_name, "sockeye-test-", 13) || !at ||
		    (at[strlen(token)] && at[strlen(token)] != '-'))
			continue;
		snprintf(path, sizeof(path), "%s/%s", root, e->d_name);
		printf("    left pinned: %s\n", path);
		nftw(path, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
		left++;
	}
	closedir(d);
	return left;
}

/* Returns 0 passed, 1 failed, EXIT_SKIP skipped. */
static int run_one(const struct test *t, bool sanitized)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);	/* so the whole tree can be killed on timeout */
		alarm(timeout_s());	/* kept across exec */
		if (sanitized)
			sanitized_exec(t);
		run_here(t);
		_exit(failed ? 1 : 0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return 1;
	kill(-pid, SIGKILL);	/* helpers a failed test left behind */
	if (WIFSIGNALED(status))
		printf("    killed by signal %d%s\n", WTERMSIG(status),
		       WTERMSIG(status) == SIGALRM ? " (timed out)" : "");
	bool reports = sanitized && sanitizer_reports();
	bool pins = remove_left_pins(pid);

	if (reports || pins || WIFSIGNALED(status))
		return 1;
	return WEXITSTATUS(status);
}

/* libbpf's messages only with SOCKEYE_TEST_VERBOSE set, as sockeye shows
 * them only with -v: the fallback tests fail hooks on purpose. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return getenv("SOCKEYE_TEST_VERBOSE") ? vfprintf(stderr, fmt, ap) : 0;
}

/* `--run NAME`: the one test of that name, in this process, ending with
 * exit() so that LeakSanitizer checks it; the exit status is its result. */
static int run_named(const char *name)
{
	for (struct test *t = tests; t; t = t->next)
		if (!strcmp(t->name, name)) {
			run_here(t);
			exit(failed ? 1 : 0);
		}
	printf("    no test named %s\n", name);
	return 1;
}

struct counts {
	int passed, failed, skipped;
};

static void run_counted(const struct test *t, bool sanitized, struct counts *c)
{
	struct timespec start, end;
	int rc;

	printf("%s%s\n", t->name, sanitized ? " [asan]" : "");
	clock_gettime(CLOCK_MONOTONIC, &start);
	rc = run_one(t, sanitized);
	clock_gettime(CLOCK_MONOTONIC, &end);
	if (rc == 0)
		c->passed++;
	else if (rc == EXIT_SKIP)
		c->skipped++;
	else
		c->failed++;
	printf("  %s %.1f s\n", rc == 0 ? "ok" : rc == EXIT_SKIP ? "SKIP" : "FAIL",
	       (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9);
}

static void run_pass(bool sanitized, int argc, char **argv, struct counts *c)
{
	for (struct test *t = tests; t; t = t->next)
		if (selected(t, argc, argv))
			run_counted(t, sanitized, c);
}

int main(int argc, char **argv)
{
	struct counts c = {};

	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(libbpf_print);
	if (argc == 3 && !strcmp(argv[1], "--run"))
		return run_named(argv[2]);
	sanitized_runner = getenv("SOCKEYE_TEST_SANITIZED");
	/* Open to all: a test runs sockeye as nobody too. */
	if (sanitized_runner && (!mkdtemp(report_dir) || chmod(report_dir, 01777))) {
		printf("cannot make %s: %s\n", report_dir, strerror(errno));
		return 1;
	}
	run_pass(false, argc, argv, &c);
	if (sanitized_runner) {
		printf("-- the same tests built with ASan and UBSan: %s\n", sanitized_runner);
		run_pass(true, argc, argv, &c);
		rmdir(report_dir);
	}
	printf("%d passed, %d failed, %d skipped\n", c.passed, c.failed, c.skipped);
	return c.failed ? 1 : 0;
}
