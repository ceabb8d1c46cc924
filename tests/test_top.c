// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye top` against real traffic. Children with known pids send known
 * byte counts over TCP and UDP, IPv4 and IPv6, to themselves (so each sends
 * and receives the same bytes), at a known pace; their rows must hold
 * exactly those bytes, split by protocol and family, with rates near the
 * pace; the terminal view is driven through tmux. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "test.h"
#include "helpers.h"
#include "probe.h"
#include "top_conns.h"
#include "top_model.h"

/* top's program attached last, under each kind of hook: once it is, top
 * counts both directions and families. */
#define TOP_LAST "top_recv|top_r6_fx|top_r6_kr"

/* ---- traffic ---- */

/* Connected pairs, one per protocol and family: what one side sends, the
 * other receives. */
struct pairs {
	int tx[TRAFFIC_SPLITS], rx[TRAFFIC_SPLITS];
};

static const int split_family[TRAFFIC_SPLITS] = { AF_INET, AF_INET6, AF_INET, AF_INET6 };

static bool open_pairs(struct pairs *p)
{
	for (int s = 0; s < TRAFFIC_SPLITS; s++) {
		uint16_t port, cport;
		int srv;

		if (s == SPLIT_TCP4 || s == SPLIT_TCP6) {
			tcp_connection(split_family[s], &srv, &p->tx[s], &p->rx[s], &port, &cport);
			close(srv);
			/* Nagle's wait for the peer's delayed ACK would stall ticks. */
			setsockopt(p->tx[s], IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
		} else {
			p->rx[s] = bound_socket(split_family[s], SOCK_DGRAM, false, &port);
			p->tx[s] = connect_to(split_family[s], SOCK_DGRAM, port);
		}
		if (p->tx[s] < 0 || p->rx[s] < 0)
			return false;
	}
	return true;
}

/* Sends len bytes over a pair and receives them: one datagram for UDP. */
static bool move_bytes(const struct pairs *p, int split, size_t len)
{
	static char buf[65536];

	if (split == SPLIT_TCP4 || split == SPLIT_TCP6)
		return send_all(p->tx[split], len) && recv_exactly(p->rx[split], len);
	return send(p->tx[split], buf, len, 0) == (ssize_t)len &&
	       recv(p->rx[split], buf, sizeof(buf), 0) == (ssize_t)len;
}

/* What a traffic child does: bytes[split] every tick, ticks a second, for
 * ticks ticks, paced by absolute times so that late ticks catch up. */
struct pace {
	size_t bytes[TRAFFIC_SPLITS];
	int per_second, ticks;
	bool linger;	/* stay alive after the traffic, until killed */
};

static size_t pace_total(const struct pace *p, unsigned splits)
{
	size_t sum = 0;

	for (int s = 0; s < TRAFFIC_SPLITS; s++)
		if (splits & (1u << s))
			sum += p->bytes[s] * p->ticks;
	return sum;
}

static void run_pace(const struct pace *p, const struct pairs *pairs)
{
	struct timespec at;
	long period = 1000000000L / p->per_second;

	clock_gettime(CLOCK_MONOTONIC, &at);
	for (int t = 0; t < p->ticks; t++) {
		for (int s = 0; s < TRAFFIC_SPLITS; s++)
			if (p->bytes[s] && !move_bytes(pairs, s, p->bytes[s]))
				_exit(1);
		at.tv_nsec += period;
		if (at.tv_nsec >= 1000000000L) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000L;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
	}
}

struct child {
	pid_t pid;
	int go;		/* write end: a byte starts the traffic */
};

/* Forks a child that runs body(go, arg), go being the read end of the
 * pipe whose byte starts its traffic, and exits 0 when body returns. */
static bool fork_child(struct child *c, void (*body)(int go, const void *arg), const void *arg)
{
	int go[2];

	if (pipe(go))
		return false;
	c->pid = fork();
	if (c->pid < 0)
		return false;
	if (c->pid == 0) {
		close(go[1]);
		body(go[0], arg);
		_exit(0);
	}
	close(go[0]);
	c->go = go[1];
	return true;
}

/* Opens the sockets, waits for the go, runs the pace, then lingers if
 * the pace says so. */
static void paced_traffic(int go, const void *arg)
{
	const struct pace *p = arg;
	struct pairs pairs;
	char byte;

	if (!open_pairs(&pairs) || read(go, &byte, 1) != 1)
		_exit(1);
	run_pace(p, &pairs);
	if (p->linger)
		pause();
}

static bool start_child(struct child *c, const struct pace *p)
{
	return fork_child(c, paced_traffic, p);
}

static void go(void *ctx)
{
	struct child *children = ctx;

	for (int i = 0; children[i].pid; i++)
		if (write(children[i].go, "g", 1) != 1)
			printf("    cannot start child %d\n", children[i].pid);
}

/* Waits for the children, stopping the lingering ones first. */
static void end_children(struct child *children, bool stop)
{
	for (int i = 0; children[i].pid; i++) {
		int status;

		if (stop)
			kill(children[i].pid, SIGTERM);
		close(children[i].go);
		status = wait_status(children[i].pid);
		ASSERT_TRUE(status == 0 || (stop && status == 128 + SIGTERM),
			    "child's traffic went through");
	}
}

/* ---- the session, read directly ---- */

KTEST(top_counts_exact_bytes_per_process_protocol_and_family)
{
	const struct pace pace = { .bytes = { 30000, 12345, 1000, 700 }, .per_second = 1000,
				   .ticks = 10 };
	struct child children[2] = {};
	struct process_traffic *rows = NULL;
	const struct process_traffic *mine = NULL;
	struct sock_filters filters = {};
	struct top_session s;
	int n;

	if (!ASSERT_TRUE(start_child(&children[0], &pace), "child started") ||
	    !ASSERT_EQ(top_session_start(&s, &filters), 0, "session starts"))
		return;
	go(children);
	end_children(children, false);
	n = top_read(&s, &rows);
	for (int i = 0; i < n; i++)
		if (rows[i].pid == (uint32_t)children[0].pid)
			mine = &rows[i];
	if (ASSERT_TRUE(mine != NULL, "a row for the child, after it exited")) {
		for (int dir = 0; dir < TRAFFIC_DIRS; dir++)
			for (int split = 0; split < TRAFFIC_SPLITS; split++)
				ASSERT_EQ(mine->stats.bytes[dir][split], pace_total(&pace, 1u << split),
					  split_name(split));
		ASSERT_STR_EQ(mine->stats.comm, "sockeye-tests", "comm");
		ASSERT_EQ(mine->stats.uid, getuid(), "uid");
	}
	ASSERT_EQ(top_lost(&s), 0, "nothing lost");
	free(rows);
	top_session_stop(&s);
}

enum { THREAD_BYTES = 54321 };

/* A thread named unlike its process that sends THREAD_BYTES to the
 * listener whose port ctx points to. */
static void *named_sender(void *ctx)
{
	int fd;

	prctl(PR_SET_NAME, "tt-sender");
	fd = connect_to(AF_INET, SOCK_STREAM, *(uint16_t *)ctx);
	if (fd < 0 || !send_all(fd, THREAD_BYTES))
		return (void *)1;
	close(fd);
	return NULL;
}

/* A process named tt-leader whose only sender is a thread named tt-sender
 * shows as tt-leader, as ps shows it. */
KTEST(top_names_a_process_by_its_main_thread)
{
	struct sock_filters filters = {};
	struct process_traffic *rows = NULL;
	const struct process_traffic *mine = NULL;
	struct top_session s;
	uint16_t port;
	int listener = bound_socket(AF_INET, SOCK_STREAM, true, &port), n;
	pid_t child;

	filters.port = port;
	if (!ASSERT_EQ(top_session_start(&s, &filters), 0, "session starts"))
		return;
	child = fork();
	if (child == 0) {
		pthread_t thread;
		void *failed = (void *)1;

		prctl(PR_SET_NAME, "tt-leader");
		if (pthread_create(&thread, NULL, named_sender, &port) == 0)
			pthread_join(thread, &failed);
		_exit(failed != NULL);
	}
	{
		int acc = accept(listener, NULL, NULL);

		ASSERT_TRUE(acc >= 0 && recv_exactly(acc, THREAD_BYTES), "bytes received");
		close(acc);
	}
	ASSERT_EQ(wait_status(child), 0, "child done");
	n = top_read(&s, &rows);
	for (int i = 0; i < n; i++)
		if (rows[i].pid == (uint32_t)child)
			mine = &rows[i];
	if (ASSERT_TRUE(mine != NULL, "a row for the child")) {
		ASSERT_STR_EQ(mine->stats.comm, "tt-leader", "the main thread's name");
		ASSERT_EQ(mine->stats.bytes[DIR_SENT][SPLIT_TCP4], THREAD_BYTES, "bytes sent");
	}
	free(rows);
	top_session_stop(&s);
	close(listener);
}

/* An IPv6 listener on :: with an IPv4 client: the server's socket is IPv6
 * with a v4-mapped peer, and its bytes went over IPv4. */
static bool dual_stack_transfer(size_t len)
{
	struct sockaddr_in6 any = { .sin6_family = AF_INET6 };
	struct sockaddr_storage ss;
	socklen_t sl = loopback(AF_INET, 0, &ss);
	int srv = socket(AF_INET6, SOCK_STREAM, 0), cli = socket(AF_INET, SOCK_STREAM, 0), acc = -1;
	bool ok = !bind(srv, (struct sockaddr *)&any, sizeof(any)) && !listen(srv, 1);

	((struct sockaddr_in *)&ss)->sin_port = htons(local_port(srv));
	if (ok && !connect(cli, (struct sockaddr *)&ss, sl))
		acc = accept(srv, NULL, NULL);
	ok = acc >= 0 && send_all(acc, len) && recv_exactly(cli, len);
	close(cli);
	close(acc);
	close(srv);
	return ok;
}

KTEST(top_counts_ipv4_mapped_peers_as_ipv4)
{
	struct sock_filters filters = { .pid = getpid() };
	struct process_traffic *rows = NULL;
	struct top_session s;

	if (!ASSERT_EQ(top_session_start(&s, &filters), 0, "session starts"))
		return;
	ASSERT_TRUE(dual_stack_transfer(54321), "transfer");
	if (ASSERT_EQ(top_read(&s, &rows), 1, "one row: this process")) {
		for (int dir = 0; dir < TRAFFIC_DIRS; dir++) {
			ASSERT_EQ(rows[0].stats.bytes[dir][SPLIT_TCP4], 54321, "IPv4");
			ASSERT_EQ(rows[0].stats.bytes[dir][SPLIT_TCP6], 0, "not IPv6");
		}
	}
	free(rows);
	top_session_stop(&s);
}

/* ---- a process's UDP sockets, as its connections view reads them ---- */

enum { UDP_SOCKS = 4, UDP_PEERS = 2 };

/* The test's receivers, two per family, which echo every datagram, and a
 * child's UDP sockets, opened before the fork: connected over IPv4 and
 * IPv6 (to one receiver), and unconnected over each (sendto to both): each
 * sends count datagrams of size bytes to each of its peers. */
struct udp_plan {
	int rx[UDP_SOCKS], tx[UDP_SOCKS];
	uint16_t rx_port[UDP_SOCKS], tx_port[UDP_SOCKS];
	int count[UDP_SOCKS];
	size_t size[UDP_SOCKS];
};

static const int udp_family[UDP_SOCKS] = { AF_INET, AF_INET6, AF_INET, AF_INET6 };
static const bool udp_connected[UDP_SOCKS] = { true, true, false, false };

/* The receivers socket i sends to: rx[0] and rx[1] are IPv4's, rx[2] and
 * rx[3] IPv6's; a connected socket sends to the first only. */
static int udp_peer(int i, int k)
{
	int first = udp_family[i] == AF_INET ? 0 : 2;

	return k == 0 ? first : udp_connected[i] ? -1 : first + 1;
}

static uint64_t udp_bytes(const struct udp_plan *p, int i)
{
	return p->count[i] * p->size[i] * (udp_connected[i] ? 1 : UDP_PEERS);
}

static bool udp_plan_open(struct udp_plan *p, const int *count, const size_t *size)
{
	struct timeval wait = { .tv_sec = 5 };

	for (int i = 0; i < UDP_SOCKS; i++)
		p->rx[i] = p->tx[i] = -1;
	for (int i = 0; i < UDP_SOCKS; i++) {
		p->count[i] = count[i];
		p->size[i] = size[i];
		p->rx[i] = bound_socket(i < 2 ? AF_INET : AF_INET6, SOCK_DGRAM, false, &p->rx_port[i]);
		if (p->rx[i] < 0)
			return false;
		setsockopt(p->rx[i], SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
	}
	for (int i = 0; i < UDP_SOCKS; i++) {
		p->tx[i] = udp_connected[i] ? connect_to(udp_family[i], SOCK_DGRAM,
							 p->rx_port[udp_peer(i, 0)])
					    : bound_socket(udp_family[i], SOCK_DGRAM, false,
							   &p->tx_port[i]);
		if (p->tx[i] < 0)
			return false;
		p->tx_port[i] = local_port(p->tx[i]);
		setsockopt(p->tx[i], SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
	}
	return true;
}

static void udp_plan_close(struct udp_plan *p, bool tx_only)
{
	for (int i = 0; i < UDP_SOCKS; i++) {
		if (p->tx[i] >= 0)
			close(p->tx[i]);
		if (!tx_only && p->rx[i] >= 0)
			close(p->rx[i]);
		p->tx[i] = -1;
	}
}

/* A datagram to itself, from a socket of its own: a row in top for a
 * process whose connections are then opened, with no byte on the plan's
 * sockets. */
static bool udp_to_self(void)
{
	uint16_t port;
	int fd = bound_socket(AF_INET, SOCK_DGRAM, false, &port);
	struct sockaddr_storage to;
	socklen_t len = loopback(AF_INET, port, &to);
	char byte = 'x';
	bool ok = fd >= 0 && sendto(fd, &byte, 1, 0, (struct sockaddr *)&to, len) == 1 &&
		  recv(fd, &byte, 1, 0) == 1;

	if (fd >= 0)
		close(fd);
	return ok;
}

/* The child: after a first go, a datagram to itself; after a second, it
 * sends the plan's datagrams, reads every echo, then lingers with its
 * sockets open until killed. */
static void udp_plan_child(int go, const void *arg)
{
	const struct udp_plan *p = arg;
	char buf[2048] = { 0 }, byte;

	if (read(go, &byte, 1) != 1 || !udp_to_self() || read(go, &byte, 1) != 1)
		_exit(1);
	for (int i = 0; i < UDP_SOCKS; i++)
		for (int k = 0; k < UDP_PEERS && udp_peer(i, k) >= 0; k++)
			for (int n = 0; n < p->count[i]; n++) {
				struct sockaddr_storage to;
				socklen_t len = loopback(udp_family[i], p->rx_port[udp_peer(i, k)], &to);
				ssize_t sent = udp_connected[i] ? send(p->tx[i], buf, p->size[i], 0)
					: sendto(p->tx[i], buf, p->size[i], 0, (struct sockaddr *)&to, len);

				if (sent != (ssize_t)p->size[i])
					_exit(1);
			}
	for (int i = 0; i < UDP_SOCKS; i++)
		for (uint64_t got = 0; got < udp_bytes(p, i);) {
			ssize_t n = recv(p->tx[i], buf, sizeof(buf), 0);

			if (n <= 0)
				_exit(1);
			got += n;
		}
	pause();
}

/* The test's side: each receiver echoes what it is sent, until it has had
 * every datagram meant for it. */
static bool udp_plan_echo(const struct udp_plan *p)
{
	char buf[2048];

	for (int r = 0; r < UDP_SOCKS; r++) {
		int expected = 0;

		for (int i = 0; i < UDP_SOCKS; i++)
			for (int k = 0; k < UDP_PEERS; k++)
				expected += udp_peer(i, k) == r ? p->count[i] : 0;
		for (int n = 0; n < expected; n++) {
			struct sockaddr_storage from;
			socklen_t len = sizeof(from);
			ssize_t got = recvfrom(p->rx[r], buf, sizeof(buf), 0, (struct sockaddr *)&from,
					       &len);

			if (got <= 0 || sendto(p->rx[r], buf, got, 0, (struct sockaddr *)&from, len) != got)
				return false;
		}
	}
	return true;
}

/* The row of the UDP socket on local port port, or NULL. */
static const struct top_conn *udp_row(const struct top_conns *c, uint16_t port)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->conns[i].tuple.protocol == IPPROTO_UDP && c->conns[i].tuple.sport == port)
			return &c->conns[i];
	return NULL;
}

/* Reads c until the UDP socket on port has moved bytes each way, for up
 * to SETTLE_WAIT_MS (the echoes may still be on their way). */
static const struct top_conn *udp_row_when(struct top_conns *c, uint16_t port, uint64_t bytes)
{
	const struct top_conn *row = NULL;

	for (int waited = 0; waited < SETTLE_WAIT_MS; waited += 100) {
		if (top_conns_read(c))
			return NULL;
		row = udp_row(c, port);
		if (row && row->sent >= bytes && row->recv >= bytes)
			break;
		sleep_ms(100);
	}
	return row;
}

/* Socket i's row: its family and port, its peer (a connected socket's
 * receiver, or none), and exactly the bytes it sent and had echoed. */
static void check_udp_row(struct top_conns *c, const struct udp_plan *p, int i)
{
	const struct top_conn *row = udp_row_when(c, p->tx_port[i], udp_bytes(p, i));
	int family = udp_family[i];

	if (!ASSERT_TRUE(row != NULL, "a row for the child's UDP socket"))
		return;
	ASSERT_EQ(row->tuple.family, family, "its family");
	ASSERT_EQ(row->tuple.dport, udp_connected[i] ? p->rx_port[udp_peer(i, 0)] : 0,
		  "its peer's port (none when not connected)");
	if (udp_connected[i])
		ASSERT_TRUE(!memcmp(row->tuple.daddr, loopback_bytes(family),
				    family == AF_INET ? 4 : 16), "its peer's address");
	ASSERT_EQ(row->sent, udp_bytes(p, i), "bytes sent");
	ASSERT_EQ(row->recv, udp_bytes(p, i), "bytes received");
}

/* A child's four UDP sockets (connected and not, IPv4 and IPv6) in its
 * connections, opened before it sends, read as the view reads them: each
 * with its port, its peer and exactly its bytes each way. */
KTEST(top_conns_show_udp_sockets_with_exact_bytes)
{
	static const int count[UDP_SOCKS] = { 3, 2, 4, 5 };
	static const size_t size[UDP_SOCKS] = { 100, 200, 50, 30 };
	struct child children[2] = {};
	struct sock_filters filters = {};
	struct top_conns child = {};
	struct udp_plan plan;
	struct top_session s;

	if (!ASSERT_EQ(top_session_start(&s, &filters), 0, "session starts"))
		return;
	if (!ASSERT_TRUE(udp_plan_open(&plan, count, size), "sockets open") ||
	    !ASSERT_TRUE(fork_child(&children[0], udp_plan_child, &plan), "child started"))
		goto out;
	udp_plan_close(&plan, true);	/* the child's now */
	if (!ASSERT_EQ(top_conns_open(&child, children[0].pid, NULL, &s), 0, "child's connections"))
		goto out;
	go(children);
	go(children);
	if (!ASSERT_TRUE(udp_plan_echo(&plan), "datagrams echoed"))
		goto out;
	for (int i = 0; i < UDP_SOCKS; i++)
		check_udp_row(&child, &plan, i);
	ASSERT_EQ(child.n, UDP_SOCKS, "no other row");
	ASSERT_EQ(top_udp_lost(&s), 0, "no socket lost");
out:
	top_conns_close(&child);
	end_children(children, true);
	udp_plan_close(&plan, false);
	top_session_stop(&s);
}

/* A process's UDP sockets are counted only while it is watched, from the
 * watch on, and a closed one leaves the session's map. */
KTEST(top_counts_udp_sockets_of_the_watched_process_until_closed)
{
	struct sock_filters filters = {};
	struct udp_socket *socks = NULL;
	struct top_session s;
	uint16_t port;
	int rx, tx = -1, n;

	if (!ASSERT_EQ(top_session_start(&s, &filters), 0, "session starts"))
		return;
	rx = bound_socket(AF_INET, SOCK_DGRAM, false, &port);
	tx = connect_to(AF_INET, SOCK_DGRAM, port);
	if (!ASSERT_TRUE(rx >= 0 && tx >= 0 && send(tx, "xy", 2, 0) == 2, "datagram sent"))
		goto out;
	ASSERT_EQ(top_read_udp(&s, getpid(), &socks), 0, "not watched: not counted");
	free(socks);
	ASSERT_EQ(top_watch_udp(&s, getpid()), 0, "watched");
	if (!ASSERT_EQ(send(tx, "x", 1, 0), 1, "datagram sent"))
		goto out;
	n = top_read_udp(&s, getpid(), &socks);
	if (ASSERT_EQ(n, 1, "the sender, before close"))
		ASSERT_EQ(socks[0].stats.bytes[DIR_SENT], 1, "its byte since the watch");
	free(socks);
	close(tx);
	tx = -1;
	for (int waited = 0; waited < SETTLE_WAIT_MS && n; waited += 100, sleep_ms(100)) {
		n = top_read_udp(&s, getpid(), &socks);
		free(socks);
	}
	ASSERT_EQ(n, 0, "none after close");
out:
	if (tx >= 0)
		close(tx);
	close(rx);
	top_session_stop(&s);
}

/* With room for two UDP sockets, a third one's call is counted as lost
 * (the test's own sockets only: the pid filter keeps others out); once
 * another process is watched, both leave the map. */
KTEST(top_counts_udp_sockets_beyond_the_map_as_lost)
{
	struct sock_filters filters = { .pid = getpid() };
	struct udp_socket *socks = NULL;
	struct top_session s;
	uint16_t port;
	int rx = bound_socket(AF_INET, SOCK_DGRAM, false, &port), tx[3];

	setenv("SOCKEYE_MAX_ENTRIES", "2", 1);
	if (!ASSERT_EQ(top_session_start(&s, &filters), 0, "session starts") ||
	    !ASSERT_EQ(top_watch_udp(&s, getpid()), 0, "watched"))
		return;
	for (int i = 0; i < 3; i++) {
		tx[i] = connect_to(AF_INET, SOCK_DGRAM, port);
		ASSERT_EQ(send(tx[i], "x", 1, 0), 1, "datagram sent");
	}
	ASSERT_EQ(top_read_udp(&s, getpid(), &socks), 2, "two sockets counted");
	ASSERT_EQ(top_udp_lost(&s), 1, "the third's call lost, and counted");
	free(socks);
	ASSERT_EQ(top_watch_udp(&s, getppid()), 0, "another process watched");
	ASSERT_EQ(top_read_udp(&s, getpid(), &socks), 0, "the sockets of the one before gone");
	free(socks);
	for (int i = 0; i < 3; i++)
		close(tx[i]);
	close(rx);
	top_session_stop(&s);
}

/* ---- the command's JSON ---- */

static char out[1 << 20];

/* Runs `sockeye top --json ARGS...` until it ends by itself, starting the
 * children's traffic once it counts; the output is in out. */
static bool top_json(struct child *children, const char *const *args)
{
	char *argv[16] = { (char *)sockeye_path(), "top", "--json" };
	int n = 3;

	for (int i = 0; args[i] && n < 15; i++)
		argv[n++] = (char *)args[i];
	return ASSERT_EQ(sockeye_with_traffic(argv, TOP_LAST, go, children, out, sizeof(out)),
			 0, "sockeye top exits 0");
}

/* The snapshots of out, as the rows of each (the total line ends one; the
 * header and lost records are no rows). */
struct snapshot {
	char *lines[512];
	int n;
	char *total;
};

static int split_snapshots(struct snapshot *snaps, int max)
{
	char *save = NULL;
	int n = 0;

	memset(snaps, 0, max * sizeof(*snaps));
	for (char *line = strtok_r(out, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "{\"type\":\"total\"")) {
			snaps[n++].total = line;
		} else if ((strstr(line, "{\"type\":\"process\"") ||
			    strstr(line, "{\"type\":\"cgroup\"")) && snaps[n].n < 512) {
			snaps[n].lines[snaps[n].n++] = line;
		}
	}
	return n;
}

static const char *row_of(const struct snapshot *snap, pid_t pid)
{
	for (int i = 0; i < snap->n; i++)
		if (json_number(snap->lines[i], "pid") == (uint64_t)pid)
			return snap->lines[i];
	return NULL;
}

static void check_rate(const char *row, const char *key, double expected)
{
	double got = json_number(row, key);

	if (!ASSERT_TRUE(got > expected * 0.95 && got < expected * 1.05, key))
		printf("    %s: expected %.0f within 5%%, got %.0f in %s\n", key, expected, got, row);
}

/* The rows of a snapshot add up to its total line in the interval; since
 * the start, the total also holds the processes that left, so it is at
 * least the rows' sum and never below the previous snapshot's (prev). */
static void check_total(const struct snapshot *snap, const struct snapshot *prev)
{
	static const char *const keys[] = { "sent_interval_bytes", "recv_interval_bytes",
					    "sent_bytes", "recv_bytes" };

	for (int k = 0; k < 4; k++) {
		uint64_t sum = 0, total = json_number(snap->total, keys[k]);

		for (int i = 0; i < snap->n; i++)
			sum += json_number(snap->lines[i], keys[k]);
		if (k < 2) {
			ASSERT_EQ(total, sum, keys[k]);
			continue;
		}
		ASSERT_TRUE(total >= sum, keys[k]);
		if (prev)
			ASSERT_TRUE(total >= (uint64_t)json_number(prev->total, keys[k]),
				    "the total since the start does not go down");
	}
	ASSERT_EQ(json_number(snap->total, "processes"), snap->n, "processes in the total");
}

/* A child at a known pace for 2.5 s, snapshots every second: its totals
 * are exact, the splits add up to them, the second interval's rates (a
 * full second of traffic) are within 5% of the pace, and it is marked
 * ended once, then gone. */
KTEST(top_json_exact_totals_rates_and_splits)
{
	static const char *const split_keys[TRAFFIC_SPLITS][TRAFFIC_DIRS] = {
		{ "tcp4_sent_bytes", "tcp4_recv_bytes" }, { "tcp6_sent_bytes", "tcp6_recv_bytes" },
		{ "udp4_sent_bytes", "udp4_recv_bytes" }, { "udp6_sent_bytes", "udp6_recv_bytes" },
	};
	const struct pace pace = { .bytes = { 20000, 10000, 3000, 2000 }, .per_second = 50,
				   .ticks = 125 };
	double rate = pace_total(&pace, SPLITS_ALL) / (double)pace.ticks * pace.per_second;
	struct child children[2] = {};
	static struct snapshot snaps[4];
	const char *row = NULL, *last = NULL;
	struct passwd *pw;
	char user[64];
	int n, ended = 0;

	if (!ASSERT_TRUE(start_child(&children[0], &pace), "child started") ||
	    !top_json(children, (const char *[]){ "-i", "1", "-c", "4", "--units", "b", NULL }))
		return;
	end_children(children, false);
	n = split_snapshots(snaps, 4);
	ASSERT_EQ(n, 4, "four snapshots");
	for (int i = 0; i < n; i++) {
		check_total(&snaps[i], i ? &snaps[i - 1] : NULL);
		row = row_of(&snaps[i], children[0].pid);
		if (row && strstr(row, "\"ended\":true"))
			ended++;
		last = row ? row : last;
		if (i == 1 && ASSERT_TRUE(row != NULL, "a row in the second snapshot")) {
			check_rate(row, "sent_per_s", rate);
			check_rate(row, "recv_per_s", rate);
		}
	}
	ASSERT_EQ(ended, 1, "marked ended in one snapshot");
	ASSERT_TRUE(row == NULL, "gone from the last snapshot");
	ASSERT_TRUE(n > 0 && json_number(snaps[n - 1].total, "sent_bytes") >=
		    pace_total(&pace, SPLITS_ALL),
		    "the total keeps the bytes of the process that left");
	if (!ASSERT_TRUE(last != NULL, "the child's rows"))
		return;
	ASSERT_EQ(json_number(last, "sent_bytes"), pace_total(&pace, SPLITS_ALL), "total sent");
	ASSERT_EQ(json_number(last, "recv_bytes"), pace_total(&pace, SPLITS_ALL), "total received");
	for (int s = 0; s < TRAFFIC_SPLITS; s++)
		for (int d = 0; d < TRAFFIC_DIRS; d++)
			ASSERT_EQ(json_number(last, split_keys[s][d]), pace_total(&pace, 1u << s),
				  split_keys[s][d]);
	ASSERT_HAS(last, "\"comm\":\"sockeye-tests\"", "comm");
	/* The user's name where the system has one (not in a bare VM). */
	pw = getpwuid(getuid());
	if (pw)
		snprintf(user, sizeof(user), "\"user\":\"%s\"", pw->pw_name);
	else
		snprintf(user, sizeof(user), "\"user\":\"%u\"", getuid());
	ASSERT_HAS(last, user, "user");
}

/* A child that sends and exits within the first interval still shows,
 * once, with all its bytes; --udp counts only its UDP bytes. */
KTEST(top_json_counts_a_process_that_ended_within_the_interval)
{
	const struct pace pace = { .bytes = { 40000, 0, 1500, 900 }, .per_second = 1000,
				   .ticks = 20 };
	struct child children[2] = {};
	static struct snapshot snaps[1];
	const char *row;

	if (!ASSERT_TRUE(start_child(&children[0], &pace), "child started") ||
	    !top_json(children, (const char *[]){ "-i", "1.5", "-c", "1", "--udp", NULL }))
		return;
	end_children(children, false);
	ASSERT_EQ(split_snapshots(snaps, 1), 1, "one snapshot");
	row = row_of(&snaps[0], children[0].pid);
	if (!ASSERT_TRUE(row != NULL, "a row for the child"))
		return;
	ASSERT_HAS(row, "\"ended\":true", "marked ended");
	ASSERT_EQ(json_number(row, "sent_bytes"), pace_total(&pace, SPLITS_UDP), "UDP bytes only");
	ASSERT_EQ(json_number(row, "sent_interval_bytes"), pace_total(&pace, SPLITS_UDP),
		  "all in this interval");
	ASSERT_EQ(json_number(row, "tcp4_sent_bytes"), UINT64_MAX, "no TCP fields under --udp");
}

static bool ordered(const struct snapshot *snap, const char *key, bool down)
{
	for (int i = 1; i < snap->n; i++) {
		uint64_t a = json_number(snap->lines[i - 1], key), b = json_number(snap->lines[i], key);

		if (down ? a < b : a > b) {
			printf("    rows %d and %d out of order by %s: %llu, %llu\n", i - 1, i, key,
			       (unsigned long long)a, (unsigned long long)b);
			return false;
		}
	}
	return true;
}

static int position(const struct snapshot *snap, pid_t pid)
{
	for (int i = 0; i < snap->n; i++)
		if (json_number(snap->lines[i], "pid") == (uint64_t)pid)
			return i;
	return -1;
}

/* Two lingering children, one sending three times as fast: --sort sent
 * puts every row in order of bytes sent in the interval and the fast one
 * first; -r turns it round; --sort pid orders by pid. */
KTEST(top_json_sorts_rows_as_asked)
{
	static const struct {
		const char *sort, *key, *reverse;
		bool down;
	} cases[] = {
		{ "sent", "sent_interval_bytes", NULL, true },
		{ "sent", "sent_interval_bytes", "-r", false },
		{ "total-recv", "recv_bytes", NULL, true },
		{ "pid", "pid", NULL, false },
	};
	const struct pace fast = { .bytes = { 30000 }, .per_second = 100, .ticks = 60, .linger = true };
	const struct pace slow = { .bytes = { 10000 }, .per_second = 100, .ticks = 60, .linger = true };
	static struct snapshot snaps[1];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct child children[3] = {};
		int f, s;

		if (!ASSERT_TRUE(start_child(&children[0], &fast) && start_child(&children[1], &slow),
				 "children started") ||
		    !top_json(children, (const char *[]){ "-i", "0.4", "-c", "1", "--sort",
							  cases[i].sort, cases[i].reverse, NULL }))
			return;
		end_children(children, true);
		ASSERT_EQ(split_snapshots(snaps, 1), 1, "one snapshot");
		ASSERT_TRUE(ordered(&snaps[0], cases[i].key, cases[i].down), cases[i].sort);
		f = position(&snaps[0], children[0].pid);
		s = position(&snaps[0], children[1].pid);
		ASSERT_TRUE(f >= 0 && s >= 0, "both children have rows");
		if (strcmp(cases[i].sort, "pid"))
			ASSERT_TRUE(cases[i].down ? f < s : f > s, "the fast child's place");
	}
}

/* ---- a cgroup of the test's own ---- */

/* Two children, one inside the cgroup: --cgroup counts only that one;
 * grouped by cgroup, its row is the cgroup's path with one process. */
KTEST(top_cgroup_filter_and_grouping)
{
	const struct pace pace = { .bytes = { 5000, 0, 0, 800 }, .per_second = 100, .ticks = 20 };
	char rel[64], abs[512], path[256];
	static struct snapshot snaps[1];
	struct child children[3] = {};
	const char *grouped[2] = { NULL, "-g" };

	if (!cgroup2_root())
		test_skip("cgroup v2 is not mounted");
	if (!ASSERT_TRUE(make_test_cgroup(rel, sizeof(rel), abs, sizeof(abs)), "cgroup made"))
		return;
	for (int g = 0; g < 2; g++) {
		if (!ASSERT_TRUE(start_child(&children[0], &pace) && start_child(&children[1], &pace),
				 "children started") ||
		    !ASSERT_TRUE(move_to_cgroup(abs, children[0].pid), "child moved") ||
		    !top_json(children, (const char *[]){ "-i", "1", "-c", "1", "--cgroup", rel,
							  grouped[g], NULL }))
			break;
		end_children(children, false);
		ASSERT_EQ(split_snapshots(snaps, 1), 1, "one snapshot");
		if (!ASSERT_EQ(snaps[0].n, 1, "one row: the cgroup's child"))
			continue;
		ASSERT_EQ(json_number(snaps[0].lines[0], "sent_bytes"), pace_total(&pace, SPLITS_ALL),
			  "its bytes");
		ASSERT_STR_EQ(json_string(snaps[0].lines[0], "cgroup", path, sizeof(path)), rel,
			      "cgroup path");
		if (g)
			ASSERT_EQ(json_number(snaps[0].lines[0], "processes"), 1, "one process");
		else
			ASSERT_EQ(json_number(snaps[0].lines[0], "pid"), children[0].pid, "pid");
	}
	ASSERT_EQ(rmdir(abs), 0, "cgroup removed");
}

/* ---- the terminal view ---- */

static int tmux(const char *const *args, char *buf, size_t len)
{
	char *argv[16] = { "tmux" }, err[1024];
	static char ignored[4096];
	int n = 1;

	for (int i = 0; args[i] && n < 15; i++)
		argv[n++] = (char *)args[i];
	return run_capture(argv, buf ? buf : ignored, buf ? len : sizeof(ignored), err, sizeof(err));
}

/* Sends keys, then waits for the screen to show them: a refresh is at most
 * 0.2 s away, but keys redraw at once. */
static void screen_after(const char *session, const char *keys, char *screen, size_t len)
{
	if (keys)
		tmux((const char *[]){ "send-keys", "-t", session, keys, NULL }, NULL, 0);
	sleep_ms(400);
	tmux((const char *[]){ "capture-pane", "-p", "-t", session, NULL }, screen, len);
}

/* The row of a pid on the screen: its line, or NULL. */
static const char *screen_row(const char *screen, pid_t pid)
{
	char pattern[24];
	const char *at;

	snprintf(pattern, sizeof(pattern), "\n%7d ", pid);
	at = strstr(screen, pattern);
	return at ? at + 1 : NULL;
}

/* "PID USER COMM SENT/s RECV/s SENT RECV": the fifth number field. */
static unsigned long long screen_sent(const char *row)
{
	char user[32], comm[32];
	double rates[2];
	unsigned long long sent = 0;

	if (row)
		sscanf(row, "%*d %31s %31s %lf %lf %llu", user, comm, &rates[0], &rates[1], &sent);
	return sent;
}

static bool above(const char *screen, pid_t a, pid_t b)
{
	const char *ra = screen_row(screen, a), *rb = screen_row(screen, b);

	return ra && rb && ra < rb;
}

/* Captures the screen every 100 ms until it shows text, for up to ms. */
static bool screen_shows(const char *session, const char *text, int ms)
{
	static char screen[16384];

	for (int waited = 0; waited <= ms; waited += 100) {
		tmux((const char *[]){ "capture-pane", "-p", "-t", session, NULL }, screen,
		     sizeof(screen));
		if (strstr(screen, text))
			return true;
		sleep_ms(100);
	}
	return false;
}

/* `sockeye top -i INTERVAL --cgroup CGROUP ARGS` in a tmux session of
 * cols x rows, in a cgroup of the test's own, so that other processes on
 * the machine stay off the screen; the children it shows are moved there. */
struct tmux_top {
	char session[32], rel[64], abs[512];
	struct child *children;
	bool cgroup, started;
};

static bool tmux_top_start(struct tmux_top *t, struct child *children, int cols, int rows,
			   const char *interval, const char *args)
{
	char command[768], width[16], height[16];

	memset(t, 0, sizeof(*t));
	t->children = children;
	if (tmux((const char *[]){ "-V", NULL }, NULL, 0))
		test_skip("tmux is not installed");
	if (!cgroup2_root())
		test_skip("cgroup v2 is not mounted");
	t->cgroup = ASSERT_TRUE(make_test_cgroup(t->rel, sizeof(t->rel), t->abs, sizeof(t->abs)),
				"cgroup made");
	if (!t->cgroup)
		return false;
	for (int i = 0; children[i].pid; i++)
		if (!ASSERT_TRUE(move_to_cgroup(t->abs, children[i].pid), "child moved"))
			return false;
	snprintf(t->session, sizeof(t->session), "sockeye-test-%d", getpid());
	snprintf(width, sizeof(width), "%d", cols);
	snprintf(height, sizeof(height), "%d", rows);
	/* A UTF-8 locale: the screen shows the characters text_safe made of
	 * a host's bytes, as a user's terminal would. */
	snprintf(command, sizeof(command),
		 "LC_ALL=C.UTF-8 %s top -i %s --cgroup %s %s; echo EXIT=$?; sleep 60",
		 sockeye_path(), interval, t->rel, args);
	t->started = ASSERT_EQ(tmux((const char *[]){ "new-session", "-d", "-s", t->session, "-x",
						      width, "-y", height, command, NULL }, NULL, 0),
			       0, "tmux started");
	/* The view draws once its programs are attached (programs named like
	 * them may be another sockeye's). */
	return t->started && ASSERT_TRUE(screen_shows(t->session, "sockeye top - every",
						      ATTACH_WAIT_MS), "top attached");
}

static void tmux_top_end(struct tmux_top *t)
{
	if (t->started)
		tmux((const char *[]){ "kill-session", "-t", t->session, NULL }, NULL, 0);
	end_children(t->children, true);
	if (t->cgroup)
		ASSERT_EQ(rmdir(t->abs), 0, "cgroup removed");
}

/* The line of a screen that holds text, copied into line ("" if none). */
static const char *screen_line(const char *screen, const char *text, char *line, size_t len)
{
	const char *at = strstr(screen, text), *start, *end;

	*line = '\0';
	if (!at)
		return line;
	for (start = at; start > screen && start[-1] != '\n'; start--)
		;
	end = strchrnul(at, '\n');
	snprintf(line, len, "%.*s", (int)(end - start), start);
	return line;
}

/* Splits text (copied into buf) into at most max words. */
static int split_words(const char *text, char *buf, size_t len, char **words, int max)
{
	char *save = NULL;
	int n = 0;

	snprintf(buf, len, "%s", text);
	for (char *w = strtok_r(buf, " ", &save); w && n < max; w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	return n;
}

/* Whether the last words of a line are those of tail (all of them, with
 * whole set). */
static bool words_end(const char *line, const char *tail, bool whole)
{
	char a[512], b[512], *wa[64], *wb[64];
	int na = split_words(line, a, sizeof(a), wa, 64), nb = split_words(tail, b, sizeof(b), wb, 64);

	if (nb > na || (whole && nb != na))
		return false;
	for (int i = 0; i < nb; i++)
		if (strcmp(wa[na - nb + i], wb[i]))
			return false;
	return true;
}

/* Whether the first words of a line are those of head. */
static bool words_begin(const char *line, const char *head)
{
	char a[512], b[512], *wa[64], *wb[64];
	int na = split_words(line, a, sizeof(a), wa, 64), nb = split_words(head, b, sizeof(b), wb, 64);

	if (nb > na)
		return false;
	for (int i = 0; i < nb; i++)
		if (strcmp(wa[i], wb[i]))
			return false;
	return true;
}

/* Captures the screen every 100 ms until the row of pid holds text, for
 * up to ms; returns whether it did. */
static bool screen_until(const char *session, pid_t pid, const char *text, char *screen,
			 size_t len, int ms)
{
	char row[512];

	for (int waited = 0; waited <= ms; waited += 100) {
		const char *at;

		tmux((const char *[]){ "capture-pane", "-p", "-t", session, NULL }, screen, len);
		at = screen_row(screen, pid);
		if (at && strstr(screen_line(at, "", row, sizeof(row)), text))
			return true;
		sleep_ms(100);
	}
	return false;
}

/* Two children have sent 300000 and 100000 bytes over TCP: in byte units
 * their rows show exactly that; S (total sent) puts the bigger first, I
 * reverses, and q exits 0 and gives the terminal back. */
KTEST(top_screen_under_tmux)
{
	const struct pace big = { .bytes = { 300000 }, .per_second = 100, .ticks = 1, .linger = true };
	const struct pace small = { .bytes = { 100000 }, .per_second = 100, .ticks = 1, .linger = true };
	static char screen[16384];
	struct child children[3] = {};
	struct tmux_top t = { .children = children };

	if (!ASSERT_TRUE(start_child(&children[0], &big) && start_child(&children[1], &small),
			 "children started") ||
	    !tmux_top_start(&t, children, 150, 40, "0.2", ""))
		goto out;
	go(children);
	screen_after(t.session, "m", screen, sizeof(screen));	/* automatic -> KiB */
	ASSERT_HAS(screen, "SENT KiB/s", "binary units named as such");
	screen_after(t.session, "m", screen, sizeof(screen));	/* KiB -> MiB */
	ASSERT_HAS(screen, "SENT MiB/s", "MiB");
	screen_after(t.session, "m", screen, sizeof(screen));	/* MiB -> bytes */
	ASSERT_HAS(screen, "units b", "byte units in the title");
	ASSERT_EQ(screen_sent(screen_row(screen, children[0].pid)), 300000, "first child's bytes");
	ASSERT_EQ(screen_sent(screen_row(screen, children[1].pid)), 100000, "second child's bytes");
	screen_after(t.session, "S", screen, sizeof(screen));
	ASSERT_TRUE(above(screen, children[0].pid, children[1].pid), "S: the bigger sender first");
	screen_after(t.session, "I", screen, sizeof(screen));
	ASSERT_TRUE(above(screen, children[1].pid, children[0].pid), "I: reversed");
	screen_after(t.session, "q", screen, sizeof(screen));
	ASSERT_HAS(screen, "EXIT=0", "q exits with status 0");
	ASSERT_TRUE(!strstr(screen, "q quit"), "the terminal is given back");
out:
	tmux_top_end(&t);
}

/* At 80x24, in the default units, every column's header is on screen,
 * and so is the row of a child that sent 300000 bytes over TCP to itself
 * and exited: 293 KiB each way, marked ended. An ended row stays one
 * interval: 3 s, so that a capture in a slow guest still sees it. */
KTEST(top_screen_fits_80_columns)
{
	const struct pace once = { .bytes = { 300000 }, .per_second = 100, .ticks = 1 };
	static char screen[16384];
	char line[512];
	struct child children[2] = {};
	struct tmux_top t = { .children = children };
	const char *row;

	if (!ASSERT_TRUE(start_child(&children[0], &once), "child started") ||
	    !tmux_top_start(&t, children, 80, 24, "3", ""))
		goto out;
	go(children);
	if (!ASSERT_TRUE(screen_until(t.session, children[0].pid, "ended", screen, sizeof(screen),
				      10000), "the child's row, marked ended"))
		printf("%s", screen);
	ASSERT_TRUE(words_end(screen_line(screen, "    PID ", line, sizeof(line)),
			      "PID USER COMM SENT/s RECV/s SENT RECV", true), "every column's header");
	row = screen_row(screen, children[0].pid);
	screen_line(row ? row : "", "", line, sizeof(line));
	if (!ASSERT_TRUE(words_end(line, "293 KiB 293 KiB ended", false), "its bytes, then ended"))
		printf("    row: %s\n", line);
out:
	tmux_top_end(&t);
}

/* The line of a screen that holds text ("" if none), as words. */
static bool line_words(const char *screen, const char *text, const char *words)
{
	char line[512];

	return words_end(screen_line(screen, text, line, sizeof(line)), words, true);
}

/* The row of pid on a screen, copied into line ("" if none). */
static const char *pid_line(const char *screen, pid_t pid, char line[512])
{
	const char *row = screen_row(screen, pid);

	return screen_line(row ? row : "", "", line, 512);
}

/* Two children send 1000 bytes 20 times a second over TCP to themselves.
 * At 80x24: / and one's pid shows only its row, Esc brings the other's
 * back; space freezes the numbers (two captures an interval apart are the
 * same while the traffic goes on, and they differed before) and says
 * paused; + and - step the interval in the title. */
KTEST(top_screen_filter_pause_and_interval_keys)
{
	const struct pace steady = { .bytes = { 1000 }, .per_second = 20, .ticks = 1200,
				     .linger = true };
	static char screen[16384], before[16384];
	struct child children[3] = {};
	struct tmux_top t = { .children = children };
	char pid[16], row[2][512];

	if (!ASSERT_TRUE(start_child(&children[0], &steady) && start_child(&children[1], &steady),
			 "children started") ||
	    !tmux_top_start(&t, children, 80, 24, "0.5", ""))
		goto out;
	go(children);
	ASSERT_TRUE(screen_until(t.session, children[1].pid, "KiB", screen, sizeof(screen), 5000),
		    "both rows");
	snprintf(pid, sizeof(pid), "%d", children[0].pid);
	screen_after(t.session, "/", screen, sizeof(screen));
	ASSERT_HAS(screen, "\nfilter:", "/ asks for the filter");
	tmux((const char *[]){ "send-keys", "-t", t.session, pid, "Enter", NULL }, NULL, 0);
	screen_after(t.session, NULL, screen, sizeof(screen));
	ASSERT_TRUE(screen_row(screen, children[0].pid) != NULL, "the filtered child's row");
	ASSERT_TRUE(screen_row(screen, children[1].pid) == NULL, "not the other's");
	ASSERT_HAS(screen, "\n1 processes  filter ", "one row, and the filter said");
	screen_after(t.session, "Escape", screen, sizeof(screen));
	ASSERT_TRUE(screen_row(screen, children[1].pid) != NULL, "Esc: the other's row again");

	/* The numbers move while the traffic goes on... */
	screen_after(t.session, NULL, before, sizeof(before));
	sleep_ms(1200);
	screen_after(t.session, NULL, screen, sizeof(screen));
	ASSERT_TRUE(strcmp(pid_line(before, children[0].pid, row[0]),
			   pid_line(screen, children[0].pid, row[1])),
		    "unpaused, the child's row changes");
	/* ...and stay while paused. */
	screen_after(t.session, "Space", before, sizeof(before));
	ASSERT_HAS(before, "\npaused  ", "the paused mark");
	sleep_ms(1200);
	screen_after(t.session, NULL, screen, sizeof(screen));
	ASSERT_TRUE(*pid_line(before, children[0].pid, row[0]), "the child's row, paused");
	ASSERT_STR_EQ(row[0], pid_line(screen, children[0].pid, row[1]),
		      "paused, the child's row stays");
	screen_after(t.session, "Space", screen, sizeof(screen));
	ASSERT_TRUE(!strstr(screen, "\npaused  "), "space again: no longer paused");

	ASSERT_HAS(screen, "sockeye top - every 0.5s - ", "the interval in the title");
	screen_after(t.session, "+", screen, sizeof(screen));
	ASSERT_HAS(screen, "sockeye top - every 1s - ", "+: a longer interval");
	screen_after(t.session, "+", screen, sizeof(screen));
	ASSERT_HAS(screen, "sockeye top - every 2s - ", "+ again: longer still");
	screen_after(t.session, "-", screen, sizeof(screen));
	ASSERT_HAS(screen, "sockeye top - every 1s - ", "-: shorter");
out:
	tmux_top_end(&t);
}

/* After the go, connects to the port arg points to and sends 1000 bytes
 * every 50 ms until killed. */
static void steady_sender(int go, const void *arg)
{
	char byte;
	int fd;

	if (read(go, &byte, 1) != 1 ||
	    (fd = connect_to(AF_INET, SOCK_STREAM, *(const uint16_t *)arg)) < 0)
		_exit(1);
	for (;;) {
		if (!send_all(fd, 1000))
			_exit(1);
		sleep_ms(50);
	}
}

/* Enter on a child connected to the test's listener shows its connection
 * at 80x24: tcp4 to 127.0.0.1 and the listener's port, from the local
 * port the listener saw; Esc goes back to the processes. */
KTEST(top_screen_enter_shows_a_process_connections)
{
	static char screen[16384];
	struct child children[2] = {};
	struct tmux_top t = { .children = children };
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	uint16_t port;
	int listener = bound_socket(AF_INET, SOCK_STREAM, true, &port), acc = -1;
	char pid[16], words[128], remote[32], line[512];

	if (!ASSERT_TRUE(listener >= 0 && fork_child(&children[0], steady_sender, &port), "sender started") ||
	    !tmux_top_start(&t, children, 80, 24, "0.5", ""))
		goto out;
	go(children);
	acc = accept(listener, (struct sockaddr *)&peer, &len);
	if (!ASSERT_TRUE(acc >= 0, "accepted") ||
	    !ASSERT_TRUE(screen_until(t.session, children[0].pid, "KiB", screen, sizeof(screen),
				      5000), "the sender's row"))
		goto out;
	snprintf(pid, sizeof(pid), "%d", children[0].pid);
	tmux((const char *[]){ "send-keys", "-t", t.session, "/", pid, "Enter", "j", "Enter",
			       NULL }, NULL, 0);
	snprintf(words, sizeof(words), "sockeye top - every 0.5s - connections of %s", pid);
	ASSERT_TRUE(screen_shows(t.session, words, 10000), "Enter: the connections' view");
	screen_after(t.session, NULL, screen, sizeof(screen));
	ASSERT_TRUE(line_words(screen, "PROTO ", "PROTO REMOTE LPORT SENT/s RECV/s SENT RECV"),
		    "their header");
	snprintf(remote, sizeof(remote), "127.0.0.1:%u ", port);
	snprintf(words, sizeof(words), "tcp4 127.0.0.1:%u %u", port, ntohs(peer.sin_port));
	if (!ASSERT_TRUE(words_begin(screen_line(screen, remote, line, sizeof(line)), words),
			 "the connection to the listener, from its port"))
		printf("%s", screen);
	ASSERT_HAS(screen, "\n1 connections  Esc back", "only that one");
	screen_after(t.session, "Escape", screen, sizeof(screen));
	ASSERT_TRUE(line_words(screen, "    PID ", "PID USER COMM SENT/s RECV/s SENT RECV"),
		    "Esc: the processes again");
	ASSERT_TRUE(screen_row(screen, children[0].pid) != NULL, "with the sender's row");
out:
	tmux_top_end(&t);
	close(acc);
	close(listener);
}

/* The line of a screen whose first word is proto and third is port (the
 * local port of the connections view), copied into line ("" if none). */
static const char *conn_line(const char *screen, const char *proto, uint16_t port,
			     char line[512])
{
	char want[16], buf[512], *words[3];

	snprintf(want, sizeof(want), "%u", port);
	*line = '\0';
	for (const char *at = screen; *at; at = *at ? at + 1 : at) {
		const char *end = strchrnul(at, '\n');

		snprintf(line, 512, "%.*s", (int)(end - at), at);
		if (split_words(line, buf, sizeof(buf), words, 3) == 3 &&
		    !strcmp(words[0], proto) && !strcmp(words[2], want))
			return line;
		at = end;
	}
	*line = '\0';
	return line;
}

/* Enter on a child with four UDP sockets (those of
 * top_conns_show_udp_sockets_with_exact_bytes), which then sends, shows
 * each at 80x24, in byte units: udp4 or udp6, the connected ones' peer,
 * "*" for the others, its local port and exactly its bytes sent and
 * received. */
KTEST(top_screen_enter_shows_a_process_udp_sockets)
{
	static const int count[UDP_SOCKS] = { 3, 2, 4, 5 };
	static const size_t size[UDP_SOCKS] = { 100, 200, 50, 30 };
	static char screen[16384];
	struct child children[2] = {};
	struct tmux_top t = { .children = children };
	struct udp_plan plan;
	char pid[16], words[128], remote[64], line[512];

	if (!ASSERT_TRUE(udp_plan_open(&plan, count, size), "sockets open") ||
	    !ASSERT_TRUE(fork_child(&children[0], udp_plan_child, &plan), "child started"))
		goto out;
	udp_plan_close(&plan, true);
	if (!tmux_top_start(&t, children, 80, 24, "0.5", ""))
		goto out;
	go(children);	/* a row to select */
	if (!ASSERT_TRUE(screen_until(t.session, children[0].pid, "", screen, sizeof(screen),
				      5000), "the child's row"))
		goto out;
	snprintf(pid, sizeof(pid), "%d", children[0].pid);
	tmux((const char *[]){ "send-keys", "-t", t.session, "m", "m", "m", "/", pid, "Enter", "j",
			       "Enter", NULL }, NULL, 0);
	snprintf(words, sizeof(words), "connections of %s", pid);
	if (!ASSERT_TRUE(screen_shows(t.session, words, 10000), "Enter: the connections' view"))
		goto out;
	go(children);	/* the plan's datagrams */
	if (!ASSERT_TRUE(udp_plan_echo(&plan), "datagrams echoed"))
		goto out;
	sleep_ms(1200);	/* an interval or two: the echoes counted */
	screen_after(t.session, NULL, screen, sizeof(screen));
	for (int i = 0; i < UDP_SOCKS; i++) {
		const char *proto = udp_family[i] == AF_INET ? "udp4" : "udp6";
		unsigned long long bytes = udp_bytes(&plan, i);

		if (udp_connected[i])
			snprintf(remote, sizeof(remote), udp_family[i] == AF_INET ? "127.0.0.1:%u"
						: "[::1]:%u", plan.rx_port[udp_peer(i, 0)]);
		else
			snprintf(remote, sizeof(remote), "*");
		snprintf(words, sizeof(words), "%s %s %u", proto, remote, plan.tx_port[i]);
		conn_line(screen, proto, plan.tx_port[i], line);
		if (!ASSERT_TRUE(words_begin(line, words), "the socket: protocol, peer, port"))
			printf("    line: %s\n    want: %s\n", line, words);
		snprintf(words, sizeof(words), "%llu %llu", bytes, bytes);
		if (!ASSERT_TRUE(words_end(line, words, false), "its bytes sent and received"))
			printf("    line: %s\n    want: ... %s\n", line, words);
	}
	ASSERT_HAS(screen, "\n4 connections  Esc back", "only those");
out:
	tmux_top_end(&t);
	udp_plan_close(&plan, false);
}

/* A shell at a path of hostile bytes: after the go, it connects to the
 * port of the listener arg points to, sends a few bytes and waits, as one
 * process (bash's /dev/tcp). */
struct hostile_shell {
	char path[256];
	uint16_t port;
};

static void hostile_shell(int go, const void *arg)
{
	const struct hostile_shell *h = arg;
	char byte, script[160];

	if (read(go, &byte, 1) != 1)
		_exit(1);
	snprintf(script, sizeof(script),
		 "exec 3<>/dev/tcp/127.0.0.1/%u && printf hello >&3 && read -t 60 x <&3", h->port);
	execl(h->path, "sh", "-c", script, (char *)NULL);
	_exit(1);
}

/* Copies a file to path, executable. */
static bool copy_executable(const char *from, const char *path)
{
	static char buf[1 << 16];
	int in = open(from, O_RDONLY), out = open(path, O_WRONLY | O_CREAT | O_EXCL, 0755);
	bool ok = in >= 0 && out >= 0;
	ssize_t n;

	while (ok && (n = read(in, buf, sizeof(buf))) > 0)
		ok = write(out, buf, n) == n;
	if (in >= 0)
		close(in);
	if (out >= 0)
		ok = !close(out) && ok;
	return ok;
}

/* Whether a line ends with text. */
static bool ends_with(const char *line, const char *text)
{
	size_t n = strlen(line), m = strlen(text);

	return n >= m && !strcmp(line + n - m, text);
}

/* At 200 columns each process's row ends with the path of its executable:
 * the test's own binary for a forked child, and for a shell copied to a
 * path with a newline, a quote and an invalid byte, that path with '?',
 * the quote and U+FFFD in their place, on its one line. */
KTEST(top_screen_shows_exe_paths_in_spare_width)
{
	static char screen[16384];
	static struct hostile_shell shell;
	struct child children[3] = {};
	struct tmux_top t = { .children = children };
	char dir[] = "/tmp/sockeye-test-exeXXXXXX", self[PATH_MAX], shown[512], line[512];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int listener, acc[2] = { -1, -1 };

	if (access("/bin/bash", X_OK))
		test_skip("bash is not installed");
	listener = bound_socket(AF_INET, SOCK_STREAM, true, &shell.port);
	self[n > 0 ? n : 0] = '\0';
	if (!ASSERT_TRUE(mkdtemp(dir) != NULL, "directory made"))
		goto out;
	snprintf(shell.path, sizeof(shell.path), "%s/b\nq\"\xffsh", dir);
	if (!ASSERT_TRUE(listener >= 0 && copy_executable("/bin/bash", shell.path), "shell copied") ||
	    !ASSERT_TRUE(fork_child(&children[0], steady_sender, &shell.port) &&
			 fork_child(&children[1], hostile_shell, &shell), "children started") ||
	    !tmux_top_start(&t, children, 200, 30, "0.5", ""))
		goto out;
	go(children);
	acc[0] = accept(listener, NULL, NULL);
	acc[1] = accept(listener, NULL, NULL);
	if (!ASSERT_TRUE(screen_until(t.session, children[0].pid, self, screen, sizeof(screen),
				      5000), "the child's row"))
		printf("%s", screen);
	ASSERT_TRUE(line_words(screen, "    PID ", "PID USER COMM SENT/s RECV/s SENT RECV EXE"),
		    "the EXE header");
	ASSERT_TRUE(ends_with(pid_line(screen, children[0].pid, line), self),
		    "the forked child: the test's binary");
	snprintf(shown, sizeof(shown), "%s/b?q\"\xef\xbf\xbdsh", dir);
	if (!ASSERT_TRUE(screen_until(t.session, children[1].pid, shown, screen, sizeof(screen),
				      5000), "the shell's row ends with its path, made safe"))
		printf("%s", screen);
	ASSERT_TRUE(ends_with(pid_line(screen, children[1].pid, line), shown),
		    "the path last on the row");
out:
	tmux_top_end(&t);
	for (int i = 0; i < 2; i++)
		if (acc[i] >= 0)
			close(acc[i]);
	if (listener >= 0)
		close(listener);
	if (shell.path[0])
		unlink(shell.path);
	rmdir(dir);
}

/* `sockeye` alone runs top: into a file it prints text snapshots, and
 * Ctrl-C ends it with status 0 and its programs gone. */
KTEST(top_is_the_default_command)
{
	char path[] = "/tmp/sockeye-test-outXXXXXX";
	char *argv[] = { (char *)sockeye_path(), NULL };
	int fd = mkstemp(path);
	uint32_t before = last_program_id();
	pid_t pid = spawn(argv, path);
	ssize_t n;

	if (ASSERT_TRUE(wait_for_attach_by(pid, TOP_LAST, ATTACH_WAIT_MS), "top's programs attached")) {
		sleep_ms(1200);	/* one snapshot */
		kill(pid, SIGINT);
	}
	ASSERT_EQ(wait_status(pid), 0, "exit status");
	ASSERT_TRUE(wait_for_unload("top_send|" TOP_LAST, before, 1000), "programs gone");
	n = read(fd, out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	ASSERT_HAS(out, "    PID USER      COMM", "a text table");
	ASSERT_HAS(out, "TOTAL", "its total row");
	close(fd);
	unlink(path);
}
