// SPDX-License-Identifier: GPL-2.0-only
/*
 * loadgen: loopback load for the overhead benchmark (docs/performance.md).
 *
 *   loadgen churn SECONDS [-6]   TCP connect/accept/close loop, client closes with RST
 *   loadgen fin SECONDS [-6]     the same loop, closed gracefully (FIN, TIME_WAIT)
 *   loadgen udp SECONDS [-6]     64-byte UDP datagrams from one socket to another
 *   loadgen hold SECONDS [-6]    10,000 TCP connections opened, then held open and idle
 *   loadgen pipe SECONDS         a 1-byte write and read through a pipe, over and over:
 *                                system calls on no socket, what a monitor that hooks
 *                                system calls costs every other program of the host
 *
 * churn, fin, udp and pipe also take "-n OPS" in place of SECONDS: exactly OPS connections,
 * datagrams or writes and reads, however long they take (the CPU-per-operation benchmark
 * counts the CPU of a fixed amount of work).
 *
 * Prints one line, "churn <ops/s>", "fin <ops/s>", "udp <datagrams received/s>" or
 * "pipe <writes and reads/s>"; hold prints
 * "hold <connections>" once all are open (before holding them). Only loopback
 * addresses are used and every port comes from binding to port 0, so runs never
 * collide with each other or with anything else on the host.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SECONDS	3600.0
#define UDP_PAYLOAD	64
/*
 * Connections the churn client may have waiting in the accept queue. Far below any
 * listen backlog, so a slowed-down server never makes the kernel drop a SYN (a dropped
 * SYN stalls connect() for a whole second and would swamp the measurement).
 */
#define CHURN_WINDOW	64
/* Big enough that the receiver thread's scheduling hiccups do not turn into drops. */
#define UDP_RCVBUF	(16 * 1024 * 1024)
/* What an agent is asked to serve beside: a busy server's open connections. */
#define HOLD_CONNECTIONS	10000

struct addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

static atomic_bool stop;
/* With -n: the operations to make; 0 means run for the seconds given. */
static long fixed_ops;

static void die(const char *what)
{
	fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(const char *msg)
{
	fprintf(stderr, "loadgen: %s (usage: loadgen churn|fin|udp|pipe|hold SECONDS|-n OPS [-6])\n",
		msg);
	exit(2);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Whether a loop that has made ops operations goes on: up to fixed_ops, or until end. */
static bool more(long ops, double end)
{
	return fixed_ops ? ops < fixed_ops : now() < end;
}

/* Loopback address of the family with port 0, so bind() picks a free port. */
static struct addr loopback(int family)
{
	struct addr a;

	memset(&a, 0, sizeof(a));
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a.ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		a.len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&a.ss;

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a.len = sizeof(*s4);
	}
	return a;
}

/* Bind a new socket to loopback port 0 and return it; *bound gets the real port. */
static int bound_socket(int family, int type, struct addr *bound)
{
	int fd = socket(family, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	*bound = loopback(family);
	if (bind(fd, (struct sockaddr *)&bound->ss, bound->len) < 0)
		die("bind to loopback port 0");
	if (getsockname(fd, (struct sockaddr *)&bound->ss, &bound->len) < 0)
		die("getsockname");
	return fd;
}

/* --- churn ---------------------------------------------------------------- */

struct churn {
	int lfd;
	sem_t slots;	/* free places in the accept queue, see CHURN_WINDOW */
};

/* Server side: accept and close at once, then let the client make one more. */
static void *churn_server(void *arg)
{
	struct churn *c = arg;

	while (!atomic_load(&stop)) {
		int fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd >= 0) {
			close(fd);
			sem_post(&c->slots);
			continue;
		}
		/* shutdown() of the listener at the end wakes accept() with EINVAL. */
		if (errno != EINTR && errno != ECONNABORTED && !atomic_load(&stop))
			die("accept");
	}
	return NULL;
}

/*
 * One client connection: connect, then close at once. With reset, linger {1,0} sends
 * an RST: no TIME_WAIT on either side. Without, the close is a FIN and the client's
 * port waits in TIME_WAIT, which loopback connections may reuse (tcp_tw_reuse 2, the
 * default), so ephemeral ports do not run out either. The client does not wait for
 * the server, so the two threads overlap and the loop is bound by the kernel's
 * per-connection work (what a monitor adds to), not by thread wake-up latency.
 */
static void churn_once(int family, const struct addr *srv, bool reset)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	if (reset && setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
		die("setsockopt SO_LINGER");
	if (connect(fd, (const struct sockaddr *)&srv->ss, srv->len) < 0)
		die("connect");
	close(fd);
}

static double run_churn(int family, double seconds, bool reset)
{
	struct churn c;
	struct addr srv;
	pthread_t tid;
	double start, end;
	long ops = 0;

	c.lfd = bound_socket(family, SOCK_STREAM, &srv);
	if (listen(c.lfd, SOMAXCONN) < 0)
		die("listen");
	if (sem_init(&c.slots, 0, CHURN_WINDOW) < 0)
		die("sem_init");
	errno = pthread_create(&tid, NULL, churn_server, &c);
	if (errno)
		die("pthread_create");

	start = now();
	end = start + seconds;
	do {
		while (sem_wait(&c.slots) < 0 && errno == EINTR)
			;
		churn_once(family, &srv, reset);
		ops++;
	} while (more(ops, end));
	end = now();

	atomic_store(&stop, true);
	shutdown(c.lfd, SHUT_RDWR);
	pthread_join(tid, NULL);
	close(c.lfd);
	sem_destroy(&c.slots);
	return ops / (end - start);
}

/* --- udp ------------------------------------------------------------------ */

struct udp_rx {
	int fd;
	long received;
};

/*
 * Receiver: counts only what arrives before the sender's deadline, so the rate is
 * what the receiving side really kept up with, not what was queued.
 */
static void *udp_receiver(void *arg)
{
	struct udp_rx *rx = arg;
	char buf[UDP_PAYLOAD * 2];

	while (!atomic_load(&stop)) {
		ssize_t n = recv(rx->fd, buf, sizeof(buf), 0);

		if (n >= 0) {
			rx->received++;
			continue;
		}
		/* The receive timeout lets the thread notice the stop flag on a quiet socket. */
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			die("recv");
	}
	return NULL;
}

static void udp_rx_setup(int fd)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100 * 1000 };
	int size = UDP_RCVBUF;

	/* FORCE ignores net.core.rmem_max but needs CAP_NET_ADMIN; fall back quietly. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0)
		die("setsockopt SO_RCVBUF");
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		die("setsockopt SO_RCVTIMEO");
}

/* Sender: a connected socket so each send() skips the route/address look-up. */
static void udp_send_until(int family, const struct addr *dst, double end)
{
	char payload[UDP_PAYLOAD];
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	long sent = 0;

	if (fd < 0)
		die("socket");
	if (connect(fd, (const struct sockaddr *)&dst->ss, dst->len) < 0)
		die("connect");
	memset(payload, 'x', sizeof(payload));
	while (more(sent, end)) {
		/* A full receive buffer drops silently on loopback; that is what we measure. */
		if (send(fd, payload, sizeof(payload), 0) >= 0)
			sent++;
		else if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR &&
			 errno != ECONNREFUSED)
			die("send");
	}
	close(fd);
}

static double run_udp(int family, double seconds)
{
	struct udp_rx rx = { 0 };
	struct addr dst;
	pthread_t tid;
	double start, end;

	rx.fd = bound_socket(family, SOCK_DGRAM, &dst);
	udp_rx_setup(rx.fd);
	errno = pthread_create(&tid, NULL, udp_receiver, &rx);
	if (errno)
		die("pthread_create");

	start = now();
	udp_send_until(family, &dst, start + seconds);
	end = now();

	atomic_store(&stop, true);
	pthread_join(tid, NULL);
	close(rx.fd);
	return rx.received / (end - start);
}

/* --- pipe ----------------------------------------------------------------- */

static double run_pipe(double seconds)
{
	double start = now(), end = start + seconds;
	char byte = 'x';
	long ops = 0;
	int p[2];

	if (pipe(p))
		die("pipe");
	for (; more(ops, end); ops++)
		if (write(p[1], &byte, 1) != 1 || read(p[0], &byte, 1) != 1)
			die("pipe write or read");
	end = now();
	close(p[0]);
	close(p[1]);
	return ops / (end - start);
}

/* --- hold ----------------------------------------------------------------- */

/* Room for one end of every connection: the open-file limit's hard value may
 * be low (20,000 on some hosts), so each end is held by a process of its own. */
static void raise_fd_limit(rlim_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit");
	if (rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("raising the open-file limit (ulimit -n) for the held connections");
}

/* Server side, in a child: accepts them all, says so on ready, holds them
 * until killed. */
static pid_t hold_server(int lfd, int ready)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid)
		return pid;
	/* Killed with its parent, however the parent ends. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (int i = 0; i < HOLD_CONNECTIONS; i++)
		if (accept4(lfd, NULL, NULL, SOCK_CLOEXEC) < 0)
			die("accept");
	if (write(ready, "", 1) != 1)
		die("write");
	pause();
	_exit(0);
}

static void run_hold(int family, double seconds)
{
	struct timespec held = { (time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9) };
	struct addr srv;
	int lfd = bound_socket(family, SOCK_STREAM, &srv), ready[2];
	char byte;
	pid_t server;

	raise_fd_limit(HOLD_CONNECTIONS + 64);
	if (listen(lfd, 128) < 0 || pipe(ready) < 0)
		die("listen");
	server = hold_server(lfd, ready[1]);
	for (int i = 0; i < HOLD_CONNECTIONS; i++) {
		int cfd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (cfd < 0 || connect(cfd, (struct sockaddr *)&srv.ss, srv.len) < 0)
			die("connect");
	}
	if (read(ready[0], &byte, 1) != 1)
		die("the server side ended early");
	printf("hold %d\n", HOLD_CONNECTIONS);
	fflush(stdout);
	nanosleep(&held, NULL);
	kill(server, SIGKILL);
	waitpid(server, NULL, 0);
}

/* --- main ----------------------------------------------------------------- */

static double parse_seconds(const char *s)
{
	char *endp;
	double v;

	errno = 0;
	v = strtod(s, &endp);
	if (errno || endp == s || *endp || !(v > 0) || v > MAX_SECONDS)
		usage("SECONDS must be a number in (0, 3600]");
	return v;
}

static long parse_ops(const char *s)
{
	char *endp;
	long v;

	errno = 0;
	v = strtol(s, &endp, 10);
	if (errno || endp == s || *endp || v < 1 || v > 1000000000L)
		usage("OPS must be a whole number from 1 to 1000000000");
	return v;
}

int main(int argc, char **argv)
{
	int family = AF_INET;
	double seconds = MAX_SECONDS;
	int next = 3;

	if (argc < 3)
		usage("wrong number of arguments");
	if (!strcmp(argv[2], "-n") && argc > 3 && strcmp(argv[1], "hold")) {
		fixed_ops = parse_ops(argv[3]);
		next = 4;
	} else {
		seconds = parse_seconds(argv[2]);
	}
	if (argc > next + 1)
		usage("wrong number of arguments");
	if (argc == next + 1) {
		if (strcmp(argv[next], "-6"))
			usage("unknown option");
		family = AF_INET6;
	}

	if (!strcmp(argv[1], "churn"))
		printf("churn %.1f\n", run_churn(family, seconds, true));
	else if (!strcmp(argv[1], "fin"))
		printf("fin %.1f\n", run_churn(family, seconds, false));
	else if (!strcmp(argv[1], "udp"))
		printf("udp %.1f\n", run_udp(family, seconds));
	else if (!strcmp(argv[1], "pipe"))
		printf("pipe %.1f\n", run_pipe(seconds));
	else if (!strcmp(argv[1], "hold"))
		run_hold(family, seconds);
	else
		usage("unknown workload");
	return 0;
}
