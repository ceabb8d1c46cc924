// SPDX-License-Identifier: GPL-2.0-only
/*
 * startup: how long a command takes from exec to attached (docs/performance.md:
 * 150 ms per command, 400 ms for the agent), as the median of several runs.
 *
 *   startup [-n RUNS] [-u HOST:PORT] -- COMMAND [ARG...]
 *
 * Each run notes the time, forks and execs COMMAND (output to /dev/null) and
 * watches it from outside:
 *   - by default, the BPF links the child holds (its /proc/PID/fd entries that
 *     are anon_inode:bpf_link; attaching a program is creating a link). The run
 *     ends once the count has not changed for SETTLE_MS, and "attached" is when
 *     the last link appeared. Looking at the child's own fds, not at the kernel's
 *     list of programs, keeps other BPF users of the host from faking the sign;
 *   - with -u, the agent's GET /healthz on HOST:PORT, which answers 200 only once
 *     every program is attached: "attached" is the first 200.
 * Then the child gets SIGINT (SIGKILL after 5 s) and is reaped.
 *
 * Prints one line: "median_ms M min_ms A max_ms B runs N links L" (L: the links
 * of the last run, 0 with -u). Exit 1 if the command exits or never attaches.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS	100
#define POLL_MS		1	/* how often the child is looked at */
#define SETTLE_MS	500	/* no new link for this long: all are there */
#define TIMEOUT_MS	10000	/* a run that has not attached by then fails */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void usage(const char *msg)
{
	fprintf(stderr, "startup: %s (usage: startup [-n RUNS] [-u HOST:PORT] -- COMMAND [ARG...])\n",
		msg);
	exit(2);
}

static pid_t spawn(char **argv)
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0) {
		perror("startup: fork");
		exit(1);
	}
	return pid;
}

/* SIGINT, as a user's Ctrl-C, then SIGKILL if it has not stopped in 5 s. */
static void stop(pid_t pid)
{
	for (int waited = 0; waited < 5000; waited += 10) {
		if (waited == 0)
			kill(pid, SIGINT);
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static bool exited(pid_t pid, int *status)
{
	return waitpid(pid, status, WNOHANG) == pid;
}

/* The BPF links pid holds; -1 once its fd directory is gone. */
static int links_held(pid_t pid)
{
	char path[64], target[64];
	struct dirent *e;
	int count = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		ssize_t n = readlinkat(dirfd(d), e->d_name, target, sizeof(target) - 1);

		if (n > 0) {
			target[n] = '\0';
			count += !strcmp(target, "anon_inode:bpf_link");
		}
	}
	closedir(d);
	return count;
}

/* Whether GET /healthz on addr answers 200 now. */
static bool healthy(const struct sockaddr_in *addr)
{
	static const char req[] = "GET /healthz HTTP/1.0\r\n\r\n";
	char reply[64] = "";
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = false;

	if (fd < 0)
		return false;
	if (!connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) &&
	    write(fd, req, sizeof(req) - 1) == (ssize_t)sizeof(req) - 1 &&
	    read(fd, reply, sizeof(reply) - 1) > 0)
		ok = !strncmp(reply, "HTTP/1.0 200", 12) || !strncmp(reply, "HTTP/1.1 200", 12);
	close(fd);
	return ok;
}

/*
 * One run: milliseconds from just before fork to attached, or -1 (with the
 * reason on stderr). *links gets the links held at the end.
 */
static double one_run(char **argv, const struct sockaddr_in *healthz, int *links)
{
	double start = now_ms(), attached = -1, t;
	pid_t pid = spawn(argv);
	int status, seen = 0;

	*links = 0;
	for (;;) {
		t = now_ms();
		if (exited(pid, &status)) {
			fprintf(stderr, "startup: %s exited (status %d) before attaching\n", argv[0],
				WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
			return -1;
		}
		if (healthz && healthy(healthz)) {
			attached = now_ms();
			break;
		}
		if (!healthz) {
			int n = links_held(pid);

			if (n > seen) {
				seen = n;
				attached = now_ms();
			}
			if (seen && t - attached >= SETTLE_MS)
				break;
		}
		if (t - start > TIMEOUT_MS) {
			fprintf(stderr, "startup: %s not attached after %d ms\n", argv[0], TIMEOUT_MS);
			stop(pid);
			return -1;
		}
		sleep_ms(POLL_MS);
	}
	*links = seen;
	stop(pid);
	return attached - start;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void parse_healthz(const char *arg, struct sockaddr_in *addr)
{
	char host[64];
	const char *colon = strrchr(arg, ':');
	char *end;
	long port;

	if (!colon || colon - arg >= (long)sizeof(host))
		usage("-u needs HOST:PORT");
	memcpy(host, arg, colon - arg);
	host[colon - arg] = '\0';
	port = strtol(colon + 1, &end, 10);
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_port = htons(port);
	if (*end || port < 1 || port > 65535 || inet_pton(AF_INET, host, &addr->sin_addr) != 1)
		usage("-u needs an IPv4 HOST:PORT");
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr, *healthz = NULL;
	double ms[MAX_RUNS];
	int runs = 5, links = 0, opt;
	char *end;

	while ((opt = getopt(argc, argv, "+n:u:")) != -1) {
		switch (opt) {
		case 'n':
			runs = strtol(optarg, &end, 10);
			if (*end || runs < 1 || runs > MAX_RUNS)
				usage("-n needs a whole number from 1 to 100");
			break;
		case 'u':
			parse_healthz(optarg, &addr);
			healthz = &addr;
			break;
		default:
			usage("unknown option");
		}
	}
	if (optind >= argc)
		usage("no command");
	for (int i = 0; i < runs; i++)
		if ((ms[i] = one_run(argv + optind, healthz, &links)) < 0)
			return 1;
	qsort(ms, runs, sizeof(ms[0]), cmp_double);
	printf("median_ms %.1f min_ms %.1f max_ms %.1f runs %d links %d\n",
	       runs % 2 ? ms[runs / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2, ms[0],
	       ms[runs - 1], runs, links);
	return 0;
}
