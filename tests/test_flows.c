// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye flows` against real connections: this process opens them over
 * loopback, moves a known number of bytes each way, and checks each row
 * against what it knows (ports, pid, direction) and against what the
 * kernel tells `ss -ti` for the same socket. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sched.h>
#include <stdarg.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "test.h"
#include "helpers.h"
#include "flows_session.h"
#include "probe.h"

static const struct flow_record *find_flow(const struct flow_table *t, uint16_t sport, uint16_t dport)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->rows[i].tuple.sport == sport && t->rows[i].tuple.dport == dport)
			return &t->rows[i];
	return NULL;
}

static bool start_flows(struct flows_session *s, const struct flows_config *cfg)
{
	return ASSERT_EQ(flows_session_start(s, cfg, NULL, NULL), 0, "session starts");
}


/* What `ss -ti` says of one field ("bytes_acked") of the connection from
 * sport to dport; -1 if it does not say. */
static long long ss_field(uint16_t sport, uint16_t dport, const char *field)
{
	char sp[16], dp[16], out[8192], err[1024], key[64];
	char *argv[] = { "/usr/bin/ss", "-tinH", "sport", "=", sp, "and", "dport", "=", dp, NULL };
	const char *at;

	snprintf(sp, sizeof(sp), ":%u", sport);
	snprintf(dp, sizeof(dp), ":%u", dport);
	snprintf(key, sizeof(key), " %s:", field);
	if (run_capture(argv, out, sizeof(out), err, sizeof(err)) || !(at = strstr(out, key)))
		return -1;
	return atoll(at + strlen(key));
}

static void check_row(const struct flow_record *r, int family, int direction, uint64_t sent,
		      uint64_t received, bool before_start)
{
	char comm[16] = {};
	int n = family == AF_INET ? 4 : 16;
	/* The client's SYN is acknowledged too, and counted as a byte; the
	 * server's child starts with its SYN-ACK already acknowledged. */
	uint64_t acked = sent + (direction == FLOW_CLIENT);

	if (!ASSERT_TRUE(r != NULL, "a row for the connection"))
		return;
	prctl(PR_GET_NAME, comm);
	ASSERT_EQ(r->closed, 0, "open");
	ASSERT_EQ(r->entry.owner.pid, getpid(), "pid");
	ASSERT_STR_EQ(r->entry.owner.comm, comm, "comm");
	ASSERT_EQ(r->tuple.family, family, "family");
	ASSERT_TRUE(!memcmp(r->tuple.saddr, loopback_bytes(family), n), "local address");
	ASSERT_TRUE(!memcmp(r->tuple.daddr, loopback_bytes(family), n), "remote address");
	ASSERT_EQ(r->tuple.state, TCP_ESTABLISHED, "state");
	ASSERT_EQ(r->entry.direction, direction, "direction");
	ASSERT_EQ(r->entry.start_ns == 0, before_start, "open before the start, or not");
	ASSERT_EQ(r->tcp.bytes_acked, acked, "bytes acked");
	ASSERT_EQ(r->tcp.bytes_received, received, "bytes received");
	ASSERT_EQ(r->tcp.bytes_acked, ss_field(r->tuple.sport, r->tuple.dport, "bytes_acked"),
		  "bytes acked as ss says");
	ASSERT_EQ(r->tcp.bytes_received,
		  ss_field(r->tuple.sport, r->tuple.dport, "bytes_received"),
		  "bytes received as ss says");
	ASSERT_TRUE(r->tcp.srtt_us > 0, "srtt > 0");
	ASSERT_TRUE(r->tcp.snd_cwnd >= 1, "cwnd >= 1");
	/* A busy machine may delay an ACK into a tail-loss probe, even here;
	 * whatever there is, the kinds add up to the kernel's count. */
	if (!before_start)
		ASSERT_EQ(r->entry.retrans[RETRANS_FAST] + r->entry.retrans[RETRANS_TIMEOUT] +
			  r->entry.retrans[RETRANS_PROBE], r->tcp.total_retrans,
			  "retransmits by kind add up");
}

struct conn {
	int cli, acc;
	uint16_t cport;
};

/* A new connection to the listener srv on port: both ends. */
static struct conn open_conn(int family, int srv, uint16_t port)
{
	struct conn c;

	c.cli = connect_to(family, SOCK_STREAM, port);
	c.acc = accept(srv, NULL, NULL);
	c.cport = local_port(c.cli);
	return c;
}

/* Moves up bytes from client to server and down bytes back. */
static void transfer(const struct conn *c, size_t up, size_t down)
{
	ASSERT_TRUE(send_all(c->cli, up) && recv_exactly(c->acc, up), "bytes up");
	ASSERT_TRUE(send_all(c->acc, down) && recv_exactly(c->cli, down), "bytes down");
	settle(c->cli);
	settle(c->acc);
}

/* A connection made before sockeye started and one after, each with its
 * own byte counts, both rows checked from both ends. */
static void check_bytes(int family)
{
	struct flows_config cfg = {};
	struct flows_session s;
	struct flow_table t = {};
	struct conn before, after;
	uint16_t port;
	int srv;

	tcp_connection(family, &srv, &before.cli, &before.acc, &port, &before.cport);
	transfer(&before, 100000, 2345);
	cfg.filters.port = port;
	if (!start_flows(&s, &cfg))
		return;
	after = open_conn(family, srv, port);
	transfer(&after, 777, 1234567);
	transfer(&before, 1, 0);
	if (ASSERT_EQ(flows_snapshot(&s, &t, false), 0, "snapshot")) {
		ASSERT_EQ(t.n, 4, "two connections, a row for each end");
		check_row(find_flow(&t, before.cport, port), family, FLOW_CLIENT, 100001, 2345, true);
		check_row(find_flow(&t, port, before.cport), family, FLOW_SERVER, 2345, 100001, true);
		check_row(find_flow(&t, after.cport, port), family, FLOW_CLIENT, 777, 1234567, false);
		check_row(find_flow(&t, port, after.cport), family, FLOW_SERVER, 1234567, 777, false);
	}
	flow_table_free(&t);
	flows_session_stop(&s);
	close(before.cli), close(before.acc), close(after.cli), close(after.acc), close(srv);
}

KTEST(flows_bytes_rtt_owner_ipv4)
{
	check_bytes(AF_INET);
}

KTEST(flows_bytes_rtt_owner_ipv6)
{
	check_bytes(AF_INET6);
}

/* A closed connection is a row once, with its final numbers; with
 * keep_closed it stays. */
static void check_closed(bool keep)
{
	struct flows_config cfg = {};
	struct flows_session s;
	struct flow_table t = {};
	const struct flow_record *r;
	struct conn c;
	uint16_t port;
	int srv;

	srv = bound_socket(AF_INET, SOCK_STREAM, true, &port);
	cfg.filters.port = port;
	if (!start_flows(&s, &cfg))
		return;
	c = open_conn(AF_INET, srv, port);
	transfer(&c, 5000, 6000);
	ASSERT_EQ(flows_snapshot(&s, &t, keep), 0, "first snapshot");
	close(c.cli);
	close(c.acc);
	sleep_ms(50);
	ASSERT_EQ(flows_snapshot(&s, &t, keep), 0, "second snapshot");
	r = find_flow(&t, c.cport, port);
	if (ASSERT_TRUE(r != NULL, "the closed connection is a row")) {
		ASSERT_EQ(r->closed, 1, "marked closed");
		ASSERT_EQ(r->tcp.bytes_acked, 5002, "final bytes acked: data, SYN and FIN");
		ASSERT_EQ(r->tcp.bytes_received, 6001, "final bytes received: data and FIN");
		ASSERT_EQ(r->entry.owner.pid, getpid(), "pid");
		ASSERT_EQ(r->entry.direction, FLOW_CLIENT, "direction");
	}
	ASSERT_TRUE(find_flow(&t, port, c.cport) != NULL, "the server's end too");
	ASSERT_EQ(t.n, 2, "only those two");
	ASSERT_EQ(flows_snapshot(&s, &t, keep), 0, "third snapshot");
	ASSERT_EQ(t.n, keep ? 2 : 0, keep ? "kept with --all" : "gone after one snapshot");
	flow_table_free(&t);
	flows_session_stop(&s);
	close(srv);
}

KTEST(flows_closed_connection_shown_once)
{
	check_closed(false);
}

KTEST(flows_all_keeps_closed_connections)
{
	check_closed(true);
}

/* A process named "sockeye-leader" whose thread "sockeye-worker" opened
 * the connection: the row names the process by its leader. */
KTEST(flows_names_the_process_by_its_leader)
{
	struct flows_config cfg = {};
	struct flows_session s;
	struct flow_table t = {};
	const struct flow_record *r;
	struct threaded_client tc;
	struct sockaddr_in peer;
	uint16_t port;
	int srv = bound_socket(AF_INET, SOCK_STREAM, true, &port), acc;

	cfg.filters.port = port;
	if (threaded_client_start(&tc, port, "sockeye-leader", "sockeye-worker") &&
	    start_flows(&s, &cfg)) {
		acc = threaded_client_accept(&tc, srv, &peer);
		ASSERT_TRUE(acc >= 0, "the thread connected and sent");
		if (ASSERT_EQ(flows_snapshot(&s, &t, false), 0, "snapshot") &&
		    ASSERT_TRUE((r = find_flow(&t, ntohs(peer.sin_port), port)) != NULL,
				"the thread's connection")) {
			ASSERT_EQ(r->entry.owner.pid, tc.pid, "pid");
			ASSERT_STR_EQ(r->entry.owner.comm, "sockeye-leader", "the leader's name");
		}
		flows_session_stop(&s);
		if (acc >= 0)
			close(acc);
	}
	threaded_client_end(&tc);
	flow_table_free(&t);
	close(srv);
}

/* The server end of a connection a child named "sockeye-server" accepts,
 * reads and closes before the first snapshot: its closed row names the
 * child, as events and http do, though no walk of the processes' files
 * ever met the socket. */
KTEST(flows_names_the_owner_of_a_short_accepted_connection)
{
	struct flows_config cfg = {};
	struct flows_session s;
	struct flow_table t = {};
	const struct flow_record *r;
	uint16_t port, cport;
	int srv = bound_socket(AF_INET, SOCK_STREAM, true, &port), cli;
	pid_t child;

	cfg.filters.port = port;
	if (!start_flows(&s, &cfg)) {
		close(srv);
		return;
	}
	child = fork();
	if (child == 0) {
		int acc;

		prctl(PR_SET_NAME, "sockeye-server");
		acc = accept(srv, NULL, NULL);
		_exit(acc >= 0 && recv_exactly(acc, 10) && read(acc, &acc, 1) == 0 && !close(acc) ?
			      0 : 1);
	}
	cli = connect_to(AF_INET, SOCK_STREAM, port);
	cport = local_port(cli);
	ASSERT_TRUE(send_all(cli, 10), "10 bytes sent");
	close(cli);
	ASSERT_EQ(wait_status(child), 0, "the child accepted, read to the end and closed");
	sleep_ms(100);
	if (ASSERT_EQ(flows_snapshot(&s, &t, false), 0, "snapshot") &&
	    ASSERT_TRUE((r = find_flow(&t, port, cport)) != NULL, "the server end's row")) {
		ASSERT_EQ(r->closed, 1, "closed");
		ASSERT_EQ(r->entry.direction, FLOW_SERVER, "the server end");
		ASSERT_EQ(r->entry.owner.pid, child, "the child's pid");
		ASSERT_STR_EQ(r->entry.owner.comm, "sockeye-server", "the child's name");
		ASSERT_EQ(r->tcp.bytes_received, 11, "its 10 bytes and the client's FIN");
	}
	flows_session_stop(&s);
	flow_table_free(&t);
	close(srv);
}

/* Local and remote port filters, and the pid filter against a child
 * process that holds its own connection. */
KTEST(flows_filters_in_kernel)
{
	struct flows_config cfg = {};
	struct flows_session s;
	struct flow_table t = {};
	struct conn a, b;
	uint16_t port_a, port_b;
	int srv_a, srv_b, ready[2];
	pid_t child;

	tcp_connection(AF_INET, &srv_a, &a.cli, &a.acc, &port_a, &a.cport);
	tcp_connection(AF_INET, &srv_b, &b.cli, &b.acc, &port_b, &b.cport);
	if (pipe(ready))
		return;
	child = fork();
	if (child == 0) {	/* keeps b's client end; the parent closes its copy */
		close(a.cli), close(a.acc), close(b.acc);
		write(ready[1], "x", 1);
		pause();
		_exit(0);
	}
	read(ready[0], &ready[1], 1);
	close(b.cli);

	cfg.dport = port_a;
	if (start_flows(&s, &cfg) && ASSERT_EQ(flows_snapshot(&s, &t, false), 0, "snapshot")) {
		ASSERT_EQ(t.n, 1, "--rport: only the client end to port a");
		ASSERT_TRUE(find_flow(&t, a.cport, port_a) != NULL, "that one");
		flows_session_stop(&s);
	}
	cfg = (struct flows_config){ .sport = port_b, .listeners = true };
	if (start_flows(&s, &cfg) && ASSERT_EQ(flows_snapshot(&s, &t, false), 0, "snapshot")) {
		ASSERT_EQ(t.n, 2, "--lport: port b's listener and server end");
		ASSERT_TRUE(find_flow(&t, port_b, b.cport) != NULL, "the server end");
		ASSERT_TRUE(find_flow(&t, port_b, 0) != NULL, "the listener");
		flows_session_stop(&s);
	}
	cfg = (struct flows_config){ .filters.pid = child };
	if (start_flows(&s, &cfg) && ASSERT_EQ(flows_snapshot(&s, &t, false), 0, "snapshot")) {
		ASSERT_EQ(t.n, 1, "--pid: only the child's connection");
		if (ASSERT_TRUE(find_flow(&t, b.cport, port_b) != NULL, "its client end"))
			ASSERT_EQ(find_flow(&t, b.cport, port_b)->entry.owner.pid, child, "its pid");
		flows_session_stop(&s);
	}
	kill(child, SIGKILL);
	wait_status(child);
	flow_table_free(&t);
	close(a.cli), close(a.acc), close(b.acc), close(srv_a), close(srv_b);
}

/* ---- retransmits, between two network namespaces ---- */

/* Two namespaces joined by a veth pair: the test's client in a at
 * 10.213.0.1, a server in b at 10.213.0.2. Loss is made with iptables
 * rules on b's input: a drop on a's output would be a local error, which
 * TCP sends again as new data, not as a retransmit. */
struct netns_pair {
	char a[32], b[32];
	bool up;
};

static bool netns_create(struct netns_pair *n)
{
	int id = getpid();

	snprintf(n->a, sizeof(n->a), "sockeye-fa%d", id);
	snprintf(n->b, sizeof(n->b), "sockeye-fb%d", id);
	n->up = shell("ip netns add %s && ip netns add %s", n->a, n->b);
	return n->up &&
	       shell("ip link add sfa%d netns %s type veth peer name sfb%d netns %s", id, n->a,
		     id, n->b) &&
	       shell("ip -n %s addr add 10.213.0.1/24 dev sfa%d && ip -n %s link set sfa%d up && "
		     "ip -n %s link set lo up", n->a, id, n->a, id, n->a) &&
	       shell("ip -n %s addr add 10.213.0.2/24 dev sfb%d && ip -n %s link set sfb%d up && "
		     "ip -n %s link set lo up", n->b, id, n->b, id, n->b);
}

/* Deleting the namespaces takes their veth pair and rules with them. */
static void netns_destroy(struct netns_pair *n)
{
	if (n->up)
		shell("ip netns del %s; ip netns del %s", n->a, n->b);
}




/* A server in namespace b that reads until EOF and writes how many bytes
 * it got to *done_fd; returns its pid and port. */
static pid_t start_sink(const struct netns_pair *n, uint16_t *port, int *done_fd)
{
	int ready[2], done[2];
	pid_t pid;

	if (pipe(ready) || pipe(done))
		return -1;
	pid = fork();
	if (pid == 0) {
		struct sockaddr_in sin = { .sin_family = AF_INET };
		socklen_t len = sizeof(sin);
		char buf[65536];
		uint64_t total = 0;
		ssize_t got;
		int srv, fd;

		if (!enter_netns(n->b))
			_exit(1);
		inet_pton(AF_INET, "10.213.0.2", &sin.sin_addr);
		srv = socket(AF_INET, SOCK_STREAM, 0);
		if (bind(srv, (struct sockaddr *)&sin, sizeof(sin)) || listen(srv, 1) ||
		    getsockname(srv, (struct sockaddr *)&sin, &len))
			_exit(1);
		write(ready[1], &sin.sin_port, sizeof(sin.sin_port));
		fd = accept(srv, NULL, NULL);
		while ((got = read(fd, buf, sizeof(buf))) > 0)
			total += got;
		write(done[1], &total, sizeof(total));
		_exit(0);
	}
	close(ready[1]);
	close(done[1]);
	*port = 0;
	read(ready[0], port, sizeof(*port));
	*port = ntohs(*port);
	close(ready[0]);
	*done_fd = done[0];
	return pid;
}

static int connect_in_a(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "10.213.0.2", &sin.sin_addr);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		close(fd);
		return -1;
	}
	return fd;
}

enum loss { NO_LOSS, RANDOM_LOSS, BLACKHOLE };

/* A veth queues each packet on the backlog of the CPU that sent it: with
 * the sender's process on one CPU and its ACK-clocked sends on another,
 * segments arrive out of order, and TCP retransmits some without any
 * loss. The client, the sink (forked after) and their softirqs on one CPU
 * keep the order. */
static void pin_to_one_cpu(void)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	sched_setaffinity(0, sizeof(one), &one);
}

/* The retransmit records of the connection from sport to dport add up, by
 * kind, to the counts on its row. */
static void check_retrans_records(const struct collected *c, const struct flow_record *row)
{
	uint64_t segs[RETRANS_KINDS] = {};

	for (int i = 0; i < c->n; i++) {
		const struct retrans_record *r = collected_at(c, i);

		if (r->kind == FLOW_RECORD_RETRANS && r->cookie == row->cookie &&
		    r->retrans_kind < RETRANS_KINDS)
			segs[r->retrans_kind] += r->segs;
	}
	for (int k = 0; k < RETRANS_KINDS; k++)
		ASSERT_EQ(segs[k], row->entry.retrans[k], retrans_kind_name(k));
}

/* A connection from the test, in namespace a, to a sink in b. */
struct ns_conn {
	struct netns_pair n;
	pid_t sink;
	int fd, done;		/* the client socket; the sink's byte count */
	uint16_t port, cport;
};

/* Makes the namespaces and the sink; connects once start(ctx) (the
 * session) returned true. */
static bool ns_conn_open(struct ns_conn *c, struct flows_config *cfg,
			 bool (*start)(void *ctx, const struct flows_config *cfg), void *ctx)
{
	*c = (struct ns_conn){ .sink = -1, .fd = -1, .done = -1 };
	pin_to_one_cpu();
	if (!ASSERT_TRUE(netns_create(&c->n), "namespaces made") || !enter_netns(c->n.a))
		return false;
	c->sink = start_sink(&c->n, &c->port, &c->done);
	cfg->filters.port = c->port;
	if (!ASSERT_TRUE(c->port != 0, "sink listening") || !start(ctx, cfg))
		return false;
	c->fd = connect_in_a(c->port);
	c->cport = local_port(c->fd);
	return ASSERT_TRUE(c->fd >= 0, "connected");
}

static void ns_conn_close(struct ns_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	if (c->sink > 0) {
		kill(c->sink, SIGKILL);
		wait_status(c->sink);
	}
	if (c->done >= 0)
		close(c->done);
	netns_destroy(&c->n);
}

/* Starts the loss; returns how many bytes it sent itself. */
static size_t start_loss(const struct ns_conn *c, enum loss loss)
{
	/* A tail-loss probe goes out when an ACK is late, lost or not: on a
	 * busy machine, now and then. Without loss, nothing should go again. */
	if (loss == NO_LOSS)
		shell("ip netns exec %s sysctl -qw net.ipv4.tcp_early_retrans=0", c->n.a);
	if (loss == RANDOM_LOSS)
		shell("ip netns exec %s iptables -A INPUT -p tcp --dport %u -m statistic "
		      "--mode random --probability 0.05 -j DROP", c->n.b, c->port);
	if (loss != BLACKHOLE)
		return 0;
	/* Longer than the first timeouts (200 ms, then 400 ms). */
	shell("ip netns exec %s iptables -A INPUT -p tcp --dport %u -j DROP", c->n.b, c->port);
	send_all(c->fd, 10000);
	sleep_ms(1000);
	shell("ip netns exec %s iptables -F INPUT", c->n.b);
	return 10000;
}

/* The row's retransmits against the socket's TCP_INFO and the namespace's
 * counters. */
static void check_retrans_counts(const struct ns_conn *c, enum loss loss,
				 const struct flows_session *s, const struct flow_record *row,
				 const struct tcp_info *ti)
{
	uint64_t sum = 0, totals[RETRANS_KINDS], total = 0;

	for (int k = 0; k < RETRANS_KINDS; k++)
		sum += row->entry.retrans[k];
	ASSERT_EQ(flows_retrans_totals(s, totals), 0, "totals read");
	for (int k = 0; k < RETRANS_KINDS; k++)
		total += totals[k];
	ASSERT_EQ(total, sum, "the totals (the agent's metric) count this connection's");
	ASSERT_EQ(sum, ti->tcpi_total_retrans, "retransmits by kind add up to the socket's count");
	ASSERT_EQ(row->tcp.total_retrans, ti->tcpi_total_retrans, "total as TCP_INFO says");
	ASSERT_EQ(sum, nstat_value(c->n.a, "TcpRetransSegs"), "as the namespace's TcpRetransSegs");
	if (loss == BLACKHOLE)
		ASSERT_TRUE(row->entry.retrans[RETRANS_TIMEOUT] >=
			    (uint64_t)nstat_value(c->n.a, "TcpExtTCPTimeouts"),
			    "a timeout retransmit for each timeout at least");
}

struct session_start {
	struct flows_session *s;
	struct collected *c;
};

static bool start_collecting(void *ctx, const struct flows_config *cfg)
{
	struct session_start *st = ctx;

	return ASSERT_EQ(flows_session_start(st->s, cfg, collect_record, st->c), 0,
			 "session starts");
}

/* Sends len bytes from a to b under the given loss; the numbers of its row
 * go to *row, the namespace's own counters are checked against it, and so
 * are the retransmit records (--retrans-events) under random loss. With
 * counters_only (the agent's mode), the connection's entry is made at its
 * first retransmit, and must count the same. */
static void transfer_with_loss(enum loss loss, size_t len, bool counters_only,
			       struct flow_record *row)
{
	struct flows_config cfg = {
		.retrans_events = loss == RANDOM_LOSS && !counters_only,
		.counters_only = counters_only,
	};
	struct collected c = {};
	struct flows_session s = {};
	struct session_start st = { &s, &c };
	struct flow_table t = {};
	struct tcp_info ti = {};
	socklen_t tilen = sizeof(ti);
	struct ns_conn nc;
	uint64_t got = 0;
	size_t sent;

	memset(row, 0, sizeof(*row));
	collected_init(&c, sizeof(struct retrans_record), 100000);
	if (!ns_conn_open(&nc, &cfg, start_collecting, &st))
		goto out;
	sent = start_loss(&nc, loss);
	ASSERT_TRUE(send_all(nc.fd, len - sent), "sent");
	settle(nc.fd);
	getsockopt(nc.fd, IPPROTO_TCP, TCP_INFO, &ti, &tilen);
	ASSERT_EQ(ti.tcpi_unacked, 0, "all acknowledged: no retransmit can come after");
	if (ASSERT_EQ(flows_snapshot(&s, &t, false), 0, "snapshot") &&
	    ASSERT_TRUE(find_flow(&t, nc.cport, nc.port) != NULL, "a row for the connection"))
		*row = *find_flow(&t, nc.cport, nc.port);
	check_retrans_counts(&nc, loss, &s, row, &ti);
	if (cfg.retrans_events)
		check_retrans_records(&c, row);
	shutdown(nc.fd, SHUT_WR);
	read(nc.done, &got, sizeof(got));
	ASSERT_EQ(got, len, "the sink got every byte");
out:
	flows_session_stop(&s);
	ns_conn_close(&nc);
	collected_free(&c);
	flow_table_free(&t);
}

KTEST(flows_retrans_none_without_loss)
{
	struct flow_record r;

	transfer_with_loss(NO_LOSS, 4 << 20, false, &r);
	ASSERT_EQ(r.tcp.total_retrans, 0, "no retransmits");
	for (int k = 0; k < RETRANS_KINDS; k++)
		ASSERT_EQ(r.entry.retrans[k], 0, retrans_kind_name(k));
	ASSERT_EQ(r.tcp.bytes_acked, (4 << 20) + 1, "every byte acknowledged, and the SYN");
}

static void check_random_loss(bool counters_only)
{
	struct flow_record r;

	transfer_with_loss(RANDOM_LOSS, 4 << 20, counters_only, &r);
	ASSERT_TRUE(r.tcp.total_retrans > 0, "retransmits");
	ASSERT_TRUE(r.entry.retrans[RETRANS_FAST] > r.entry.retrans[RETRANS_TIMEOUT],
		    "fast retransmits dominate");
	ASSERT_EQ(r.entry.retrans[RETRANS_SYN], 0, "the SYN went through");
}

KTEST(flows_retrans_fast_dominate_under_random_loss)
{
	check_random_loss(false);
}

KTEST(flows_retrans_counters_only_under_random_loss)
{
	check_random_loss(true);
}

static void check_blackhole(bool counters_only)
{
	struct flow_record r;

	transfer_with_loss(BLACKHOLE, 100000, counters_only, &r);
	ASSERT_TRUE(r.entry.retrans[RETRANS_TIMEOUT] > 0, "timeout retransmits");
}

KTEST(flows_retrans_timeout_after_blackhole)
{
	check_blackhole(false);
}

KTEST(flows_retrans_counters_only_after_blackhole)
{
	check_blackhole(true);
}

/* Two sessions on one connection between namespaces a and b, one showing
 * what cfg says (namespace a, or every one), one the test's own (root)
 * namespace. */
struct two_views {
	struct flows_session a, root;
	uint32_t root_netns;
};

static bool start_two_views(void *ctx, const struct flows_config *cfg)
{
	struct two_views *v = ctx;
	struct flows_config root = *cfg;

	root.netns = v->root_netns;
	root.all_netns = false;
	return ASSERT_EQ(flows_session_start(&v->a, cfg, NULL, NULL), 0, "a's session") &&
	       ASSERT_EQ(flows_session_start(&v->root, &root, NULL, NULL), 0, "root's session");
}

static void two_views_end(struct two_views *v, struct ns_conn *nc, struct flow_table *ta,
			  struct flow_table *troot)
{
	flows_session_stop(&v->a);
	flows_session_stop(&v->root);
	ns_conn_close(nc);
	flow_table_free(ta);
	flow_table_free(troot);
}

static uint64_t retrans_sum(const struct flows_session *s)
{
	uint64_t totals[RETRANS_KINDS], sum = 0;

	if (!ASSERT_EQ(flows_retrans_totals(s, totals), 0, "totals read"))
		return 0;
	for (int k = 0; k < RETRANS_KINDS; k++)
		sum += totals[k];
	return sum;
}

/* flows shows one namespace, in its rows and its totals alike: a
 * connection in namespace a with retransmits has its row, then its closed
 * row, and its retransmits in the totals of the session showing a, and
 * none of them in the session showing the root namespace. */
KTEST(flows_one_namespace_in_rows_and_totals)
{
	struct flows_config cfg = {};
	struct two_views v = { .root_netns = own_netns() };
	struct flow_table ta = {}, troot = {};
	struct ns_conn nc;
	const struct flow_record *r;
	uint64_t got = 0;

	if (!ns_conn_open(&nc, &cfg, start_two_views, &v))
		goto out;
	start_loss(&nc, BLACKHOLE);
	settle(nc.fd);
	ASSERT_EQ(flows_snapshot(&v.a, &ta, false), 0, "a's snapshot");
	ASSERT_EQ(flows_snapshot(&v.root, &troot, false), 0, "root's snapshot");
	ASSERT_TRUE(find_flow(&ta, nc.cport, nc.port) != NULL, "a shows the connection");
	ASSERT_TRUE(find_flow(&troot, nc.cport, nc.port) == NULL, "the root does not");
	ASSERT_TRUE(retrans_sum(&v.a) > 0, "retransmits in a");
	ASSERT_EQ(retrans_sum(&v.a), nstat_value(nc.n.a, "TcpRetransSegs"),
		  "a's totals: a's TcpRetransSegs");
	ASSERT_EQ(retrans_sum(&v.root), 0, "none in the root's totals");
	close(nc.fd);
	nc.fd = -1;
	read(nc.done, &got, sizeof(got));
	sleep_ms(100);
	ASSERT_EQ(flows_snapshot(&v.a, &ta, false), 0, "a's snapshot");
	ASSERT_EQ(flows_snapshot(&v.root, &troot, false), 0, "root's snapshot");
	ASSERT_TRUE((r = find_flow(&ta, nc.cport, nc.port)) != NULL && r->closed,
		    "a shows it closed");
	ASSERT_TRUE(find_flow(&troot, nc.cport, nc.port) == NULL, "the root does not");
out:
	two_views_end(&v, &nc, &ta, &troot);
}

/* A connection between namespaces a and b with retransmits, seen from
 * the test's own namespace (ns_conn_open leaves this thread in a). */
static bool all_netns_conn_open(struct ns_conn *nc, struct flows_config *cfg,
				bool (*start)(void *ctx, const struct flows_config *cfg), void *ctx,
				size_t *sent)
{
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	bool back;

	if (!ns_conn_open(nc, cfg, start, ctx)) {
		close(home);
		return false;
	}
	back = ASSERT_EQ(setns(home, CLONE_NEWNET), 0, "back in the test's namespace");
	close(home);
	*sent = start_loss(nc, BLACKHOLE);
	return back && ASSERT_TRUE(send_all(nc->fd, 50000), "sent");
}

/* --all-netns shows every namespace, in its rows and totals alike: of a
 * connection between namespaces a and b with retransmits, the session
 * showing the test's namespace has no row and none of the retransmits;
 * the one showing every namespace has both ends with their exact bytes
 * and namespaces, and the retransmits of a and b in its totals. */
KTEST(flows_all_netns_rows_and_totals)
{
	struct flows_config cfg = { .all_netns = true };
	struct two_views v = { .root_netns = own_netns() };
	struct flow_table tall = {}, troot = {};
	const struct flow_record *r;
	struct ns_conn nc;
	size_t sent = 0;

	if (!all_netns_conn_open(&nc, &cfg, start_two_views, &v, &sent))
		goto out;
	settle(nc.fd);
	ASSERT_EQ(flows_snapshot(&v.a, &tall, false), 0, "every namespace's snapshot");
	ASSERT_EQ(flows_snapshot(&v.root, &troot, false), 0, "the own namespace's snapshot");
	ASSERT_TRUE(!find_flow(&troot, nc.cport, nc.port) && !find_flow(&troot, nc.port, nc.cport),
		    "own namespace: no row");
	ASSERT_EQ(retrans_sum(&v.root), 0, "own namespace: none of the retransmits");
	if (ASSERT_TRUE((r = find_flow(&tall, nc.cport, nc.port)) != NULL, "the client's row")) {
		ASSERT_EQ(r->netns, netns_inode(nc.n.a), "the client in namespace a");
		ASSERT_EQ(r->tcp.bytes_acked, sent + 50000 + 1, "its bytes acked, and the SYN");
	}
	if (ASSERT_TRUE((r = find_flow(&tall, nc.port, nc.cport)) != NULL, "the server's row")) {
		ASSERT_EQ(r->netns, netns_inode(nc.n.b), "the server in namespace b");
		ASSERT_EQ(r->tcp.bytes_received, sent + 50000, "its bytes received");
	}
	ASSERT_TRUE(retrans_sum(&v.a) > 0, "retransmits");
	ASSERT_EQ(retrans_sum(&v.a), nstat_value(nc.n.a, "TcpRetransSegs") +
		  nstat_value(nc.n.b, "TcpRetransSegs"), "totals: a's and b's TcpRetransSegs");
out:
	two_views_end(&v, &nc, &tall, &troot);
}

/* ---- the command ---- */

/* The sockets of a connection stay with this process: a sockeye started
 * from here must not hold copies, or the owner it finds may be itself. */
static void keep_to_myself(int srv, const struct conn *c)
{
	fcntl(srv, F_SETFD, FD_CLOEXEC);
	fcntl(c->cli, F_SETFD, FD_CLOEXEC);
	fcntl(c->acc, F_SETFD, FD_CLOEXEC);
}

/* Runs `sockeye flows --port PORT ARGS...` to its end (-c bounds it). */
static int run_flows(uint16_t port, const char *a1, const char *a2, const char *a3,
		     const char *a4, char *out, size_t len)
{
	char portarg[8], err[4096];
	char *argv[] = { (char *)sockeye_path(), "flows", "--port", portarg, "-i", "0.2",
			 (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL };

	snprintf(portarg, sizeof(portarg), "%u", port);
	return run_capture(argv, out, len, err, sizeof(err));
}

static bool no_session(void *ctx, const struct flows_config *cfg)
{
	return true;
}

/* The line of out that has want, from its start; NULL if none has. */
static const char *line_with(const char *out, const char *want)
{
	const char *at = strstr(out, want);

	while (at && at > out && at[-1] != '\n')
		at--;
	return at;
}

/* The command with and without --all-netns, from the test's namespace, on
 * a connection between namespaces a and b: without, no row and no NETNS
 * column; with, the column and the namespace of each end, in text and in
 * JSON, with the client's exact bytes. */
KTEST(flows_cli_all_netns)
{
	static char out[65536];
	struct flows_config cfg = {};
	char want[128];
	const char *line;
	struct ns_conn nc;
	size_t sent = 0;

	if (!all_netns_conn_open(&nc, &cfg, no_session, NULL, &sent))
		goto out;
	settle(nc.fd);
	snprintf(want, sizeof(want), "10.213.0.1:%u ", nc.cport);
	ASSERT_EQ(run_flows(nc.port, "-b", "-c", "1", NULL, out, sizeof(out)), 0, "exit status");
	ASSERT_TRUE(!strstr(out, want) && !strstr(out, "NETNS"), "own namespace: no row, no NETNS");
	ASSERT_EQ(run_flows(nc.port, "-b", "-c", "1", "--all-netns", out, sizeof(out)), 0,
		  "exit status, --all-netns");
	ASSERT_TRUE(strstr(out, "PID     COMM            NETNS      LOCAL") != NULL,
		    "the NETNS column");
	snprintf(want, sizeof(want), "%-10u 10.213.0.1:%u ", netns_inode(nc.n.a), nc.cport);
	ASSERT_HAS(out, want, "the client's row, in namespace a");
	snprintf(want, sizeof(want), "%-10u 10.213.0.2:%u ", netns_inode(nc.n.b), nc.port);
	ASSERT_HAS(out, want, "the server's row, in namespace b");
	ASSERT_EQ(run_flows(nc.port, "--json", "-c", "1", "--all-netns", out, sizeof(out)), 0,
		  "exit status, --all-netns --json");
	snprintf(want, sizeof(want), "\"lport\":%u,\"raddr\":\"10.213.0.2\",\"rport\":%u,",
		 nc.cport, nc.port);
	if (ASSERT_TRUE((line = line_with(out, want)) != NULL, "the client's record")) {
		ASSERT_EQ(json_number(line, "netns"), netns_inode(nc.n.a), "netns: a's");
		ASSERT_EQ(json_number(line, "bytes_acked"), sent + 50000 + 1, "its bytes");
	}
out:
	ns_conn_close(&nc);
}

KTEST(flows_cli_json)
{
	char out[65536], want[512];
	struct conn c;
	uint16_t port;
	int srv;

	tcp_connection(AF_INET, &srv, &c.cli, &c.acc, &port, &c.cport);
	transfer(&c, 4321, 8765);
	keep_to_myself(srv, &c);
	ASSERT_EQ(run_flows(port, "--json", "-c", "2", NULL, out, sizeof(out)), 0, "exit status");
	snprintf(want, sizeof(want), "\"type\":\"flow\",\"time\":");
	ASSERT_HAS(out, want, "flow objects");
	snprintf(want, sizeof(want), "\"pid\":%d,\"tid\":", getpid());
	ASSERT_HAS(out, want, "the owner");
	ASSERT_HAS(out, "\"comm\":\"sockeye-tests\",\"exe\":\"/", "the name and executable");
	snprintf(want, sizeof(want), "/sockeye-tests\",\"family\":4,"
		 "\"laddr\":\"127.0.0.1\",\"lport\":%u,\"raddr\":\"127.0.0.1\",\"rport\":%u,"
		 "\"state\":\"ESTABLISHED\",\"role\":\"client\",\"closed\":false,",
		 c.cport, port);
	ASSERT_HAS(out, want, "the client end: owner, ends, role");
	ASSERT_HAS(out, "\"open_before_start\":true,\"bytes_acked\":4322,\"bytes_received\":8765,",
		   "the client end's bytes");
	snprintf(want, sizeof(want), "\"lport\":%u,\"raddr\":\"127.0.0.1\",\"rport\":%u,"
		 "\"state\":\"ESTABLISHED\",\"role\":\"server\",", port, c.cport);
	ASSERT_HAS(out, want, "the server end");
	ASSERT_HAS(out, "\"bytes_acked\":8765,\"bytes_received\":4321,", "the server end's bytes");
	/* Loopback loses nothing: the threshold is still infinite, as ss leaves it out. */
	ASSERT_HAS(out, "\"ssthresh\":null,", "an infinite ssthresh is null");
	ASSERT_HAS(out, "\"type\":\"flows\",", "a summary per snapshot");
	ASSERT_HAS(out, "\"connections\":2,\"closed\":0,\"retrans_fast\":0,", "two connections");
	close(c.cli), close(c.acc), close(srv);
}

KTEST(flows_cli_text_table)
{
	char out[65536], want[256];
	struct conn c;
	uint16_t port;
	int srv;

	tcp_connection(AF_INET6, &srv, &c.cli, &c.acc, &port, &c.cport);
	transfer(&c, 10, 20);
	keep_to_myself(srv, &c);
	ASSERT_EQ(run_flows(port, "-c", "1", "-x", "-R", out, sizeof(out)), 0, "exit status");
	ASSERT_HAS(out, "PID     COMM            LOCAL", "header");
	ASSERT_HAS(out, "BACKLOG   MAXBL   CWND", "-x columns");
	ASSERT_HAS(out, "FAST TIMEOUT  PROBE   SYN SYNACK", "-r columns");
	snprintf(want, sizeof(want), "[::1]:%u", c.cport);
	ASSERT_HAS(out, want, "the client's endpoint");
	ASSERT_HAS(out, "LISTEN", "the listener's row under -x");
	ASSERT_HAS(out, "3 connections, 0 closed", "listener and both ends");
	{
		char *listener = strstr(out, "LISTEN"), srtt[16], cwnd[16], ssthresh[16], rttvar[16];

		/* After the state: ROLE AGE ACKED RECEIVED RETRANS SRTT BACKLOG MAXBL
		 * CWND SSTHRESH SNDBUF SENDQ RECVQ RCVWND RTTVAR. */
		if (ASSERT_TRUE(listener && sscanf(listener, "LISTEN %*s %*s %*s %*s %*s %15s %*s %*s "
						   "%15s %15s %*s %*s %*s %*s %15s", srtt, cwnd,
						   ssthresh, rttvar) == 4, "the listener's columns")) {
			ASSERT_STR_EQ(srtt, "-", "no round trip on a listener");
			ASSERT_STR_EQ(cwnd, "-", "no window on a listener");
			ASSERT_STR_EQ(ssthresh, "-", "no threshold on a listener");
			ASSERT_STR_EQ(rttvar, "-", "no variation on a listener");
		}
	}
	close(c.cli), close(c.acc), close(srv);
}

KTEST(flows_cli_prometheus_file)
{
	char out[65536], err[4096], path[] = "/tmp/sockeye-test-flows-XXXXXX", prom[64];
	char *check[] = { "/bin/sh", "-c", "promtool check metrics < \"$0\"", prom, NULL };
	struct conn c;
	uint16_t port;
	int srv, fd = mkstemp(path);
	FILE *f;

	if (access("/usr/bin/promtool", X_OK)) {
		test_skip("promtool is missing (Debian package prometheus)");
		return;
	}
	close(fd);
	snprintf(prom, sizeof(prom), "%s.prom", path);
	tcp_connection(AF_INET, &srv, &c.cli, &c.acc, &port, &c.cport);
	keep_to_myself(srv, &c);
	ASSERT_EQ(run_flows(port, "--prom", prom, "-c2", "--layers", out, sizeof(out)), 0, "exit status");
	ASSERT_EQ(run_capture(check, out, sizeof(out), err, sizeof(err)), 0, "promtool accepts it");
	ASSERT_STR_EQ(err, "", "promtool has nothing to say");
	f = fopen(prom, "r");
	if (ASSERT_TRUE(f != NULL, "the file is there")) {
		out[fread(out, 1, sizeof(out) - 1, f)] = '\0';
		fclose(f);
	}
	ASSERT_HAS(out, "sockeye_tcp_connections{state=\"ESTABLISHED\",role=\"client\"} 1\n",
		   "the client end");
	ASSERT_HAS(out, "sockeye_tcp_connections{state=\"ESTABLISHED\",role=\"server\"} 1\n",
		   "the server end");
	ASSERT_HAS(out, "sockeye_tcp_retransmits_total{kind=\"timeout\"} 0\n", "retransmits");
	ASSERT_HAS(out, "sockeye_lost_events_total{collector=\"flows\"} 0\n", "lost events");
	ASSERT_HAS(out, "# TYPE sockeye_tcp_packet_layer_duration_seconds histogram\n",
		   "--layers: a histogram");
	ASSERT_HAS(out, "sockeye_tcp_packet_layer_duration_seconds_bucket{layer=\"rx_queue\","
		   "le=\"+Inf\"} ", "--layers: its last bucket");
	ASSERT_TRUE(!strstr(out, "sockeye_flows_"), "the agent's names, no other");
	ASSERT_TRUE(access(path, F_OK) == 0 && access(prom, F_OK) == 0, "files");
	snprintf(out, sizeof(out), "%s.tmp", prom);
	ASSERT_TRUE(access(out, F_OK) != 0, "no temporary file left");
	unlink(prom), unlink(path);
	close(c.cli), close(c.acc), close(srv);
}

/* Each way of stopping it leaves none of its programs in the kernel. */
KTEST(flows_cli_stop_detaches_everything)
{
	static const char *const programs[] = { "flows_state", "flows_iter", "flows_owners",
						"twin_flow_end_a", "twin_flow_end_b", "flows_retrans",
						"flows_synack" };
	static const int sigs[] = { SIGINT, SIGTERM, 0 };

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		char *argv[] = { (char *)sockeye_path(), "flows", "-b", "--duration",
				 sigs[i] ? "60" : "1", NULL };
		uint32_t before = last_program_id();
		pid_t pid = spawn(argv, "/dev/null");

		if (!ASSERT_TRUE(wait_for_attach("flows_synack", before, ATTACH_WAIT_MS), "attached")) {
			kill(pid, SIGKILL);
			wait_status(pid);
			continue;
		}
		if (sigs[i])
			kill(pid, sigs[i]);
		ASSERT_EQ(wait_status(pid), 0, "exit status");
		for (size_t p = 0; p < sizeof(programs) / sizeof(programs[0]); p++)
			ASSERT_TRUE(wait_for_unload(programs[p], before, 3000), programs[p]);
	}
}

/* ---- dropped segments (-e) ---- */

static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* Sends from 10.213.0.1:sport to 10.213.0.2:dport a TCP segment with ACK
 * and 100 bytes of data (over CHECKSUM_BREAK: its checksum is checked once
 * the socket is found); a wrong checksum if bad_csum. */
static bool send_raw_segment(uint16_t sport, uint16_t dport, uint32_t seq, bool bad_csum)
{
	struct { struct iphdr ip; struct tcphdr tcp; char data[100]; } pkt = {};
	struct { uint32_t saddr, daddr; uint8_t zero, proto; uint16_t len; } pseudo;
	struct sockaddr_in to = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	uint32_t sum;
	bool sent;

	memset(pkt.data, 'e', sizeof(pkt.data));
	pkt.ip.version = 4;
	pkt.ip.ihl = 5;
	pkt.ip.ttl = 64;
	pkt.ip.protocol = IPPROTO_TCP;
	pkt.ip.tot_len = htons(sizeof(pkt));
	inet_pton(AF_INET, "10.213.0.1", &pkt.ip.saddr);
	inet_pton(AF_INET, "10.213.0.2", &pkt.ip.daddr);
	pkt.tcp.source = htons(sport);
	pkt.tcp.dest = htons(dport);
	pkt.tcp.seq = htonl(seq);
	pkt.tcp.doff = 5;
	pkt.tcp.ack = 1;
	pkt.tcp.psh = 1;
	pkt.tcp.window = htons(1000);
	pseudo = (typeof(pseudo)){ pkt.ip.saddr, pkt.ip.daddr, 0, IPPROTO_TCP,
				   htons(sizeof(pkt.tcp) + sizeof(pkt.data)) };
	sum = csum_add(0, &pseudo, sizeof(pseudo));
	sum = csum_add(sum, &pkt.tcp, sizeof(pkt.tcp) + sizeof(pkt.data));
	pkt.tcp.check = htons(csum_fold(sum) ^ (bad_csum ? 0x5555 : 0));
	to.sin_addr.s_addr = pkt.ip.daddr;
	sent = fd >= 0 && sendto(fd, &pkt, sizeof(pkt), 0, (struct sockaddr *)&to,
				 sizeof(to)) == sizeof(pkt);
	if (fd >= 0)
		close(fd);
	return sent;
}

struct reason_count {
	const char *name;
	uint64_t count;
};

static void find_reason(void *ctx, uint32_t reason, uint64_t count)
{
	struct reason_count *r = ctx;

	if (!strcmp(drop_reason_name(reason), r->name))
		r->count = count;
}

static uint64_t drops_of(const struct flows_session *s, const char *name)
{
	struct reason_count r = { name, 0 };

	flows_drop_counts(s, IPPROTO_TCP, find_reason, &r);
	return r.count;
}

static bool start_quiet(void *ctx, const struct flows_config *cfg)
{
	return start_flows(ctx, cfg);
}

/* A segment with a bad checksum and one far out of the window, into an
 * established connection in a namespace: each counts once on the server's
 * row and under its reason host-wide, as the namespace's own counters say. */
KTEST(flows_errors_bad_checksum_and_sequence)
{
	struct flows_config cfg = { .drops = true };
	struct flows_session s = {};
	struct flow_table t = {};
	const struct flow_record *r;
	struct ns_conn nc;

	if (!flows_drop_reasons_given())
		test_skip("kfree_skb gives no drop reason here (as flows --drops says at start): "
			  "an established connection frees both segments in tcp_drop(), which "
			  "passes no tracepoint");
	if (!ns_conn_open(&nc, &cfg, start_quiet, &s))
		goto out;
	send_all(nc.fd, 1000);
	settle(nc.fd);
	ASSERT_TRUE(send_raw_segment(nc.cport, nc.port, 12345, true), "bad checksum sent");
	/* Half the sequence space away from anything the connection used. */
	ASSERT_TRUE(send_raw_segment(nc.cport, nc.port, 0x80000000u + random() % 1000, false),
		    "out-of-window segment sent");
	sleep_ms(200);
	/* The iterator walks the sockets of the namespace it is read from. */
	if (ASSERT_TRUE(enter_netns(nc.n.b), "into the server's namespace") &&
	    ASSERT_EQ(flows_snapshot(&s, &t, false), 0, "snapshot") &&
	    ASSERT_TRUE((r = find_flow(&t, nc.port, nc.cport)) != NULL, "the server's row")) {
		/* Where the kernel names no socket (before 6.11), none count on
		 * the connection, and flows shows them unknown. */
		int on_row = flows_drops_per_connection();

		ASSERT_EQ(r->entry.drops[DROP_CSUM], on_row, "one checksum error on the connection");
		ASSERT_EQ(r->entry.drops[DROP_SEQ], on_row, "one sequence error on the connection");
		ASSERT_EQ(r->entry.drops[DROP_OTHER], 0, "no other drop");
		ASSERT_EQ(r->tcp.bytes_received, 1000, "neither was taken as data");
	}
	ASSERT_EQ(nstat_value(nc.n.b, "TcpInCsumErrors"), 1, "the namespace saw one checksum error");
	ASSERT_TRUE(drops_of(&s, "TCP_CSUM") >= 1, "host-wide: TCP_CSUM");
	ASSERT_TRUE(drops_of(&s, "TCP_INVALID_SEQUENCE") + drops_of(&s, "TCP_OLD_SEQUENCE") >= 1,
		    "host-wide: a sequence reason");
out:
	flows_session_stop(&s);
	ns_conn_close(&nc);
	flow_table_free(&t);
}

/* ---- UDP drops, in a namespace ---- */

/* A UDP socket made in namespace ns (it stays there wherever it is used
 * from); -1 if it cannot be. */
static int udp_socket_in(const char *ns)
{
	int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), fd = -1;

	if (home >= 0 && enter_netns(ns))
		fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (home >= 0 && setns(home, CLONE_NEWNET))
		fd = -1;
	if (home >= 0)
		close(home);
	return fd;
}

/* Sends n datagrams of len bytes from namespace a to b's port. */
static bool send_datagrams(const struct netns_pair *n, uint16_t port, int count, size_t len)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	char payload[1400] = { 0 };
	int fd = udp_socket_in(n->a), sent = 0;

	inet_pton(AF_INET, "10.213.0.2", &to.sin_addr);
	for (int i = 0; fd >= 0 && i < count; i++)
		sent += sendto(fd, payload, len, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)len;
	if (fd >= 0)
		close(fd);
	return sent == count;
}

static uint64_t udp_drops_of(const struct flows_session *s, const char *name)
{
	struct reason_count r = { name, 0 };

	flows_drop_counts(s, IPPROTO_UDP, find_reason, &r);
	return r.count;
}

/* Datagrams to a port nobody listens on, then more than a receiver that
 * does not read has room for, all into namespace b: its drops count under
 * NO_SOCKET and SOCKET_RCVBUFF exactly as b's own UdpNoPorts and
 * UdpRcvbufErrors moved, and nothing counts from the root namespace's. */
KTEST(flows_udp_drops_by_reason)
{
	struct netns_pair n = {};
	struct flows_session s = {};
	struct flows_config cfg = { .drops = true };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	long long noports, rcvbuf;
	int rx = -1, small = 1024;

	if (!flows_drop_reasons_given())
		test_skip("kfree_skb gives no drop reason here (as flows --drops says at start)");
	if (!ASSERT_TRUE(netns_create(&n), "namespaces made"))
		goto out;
	cfg.netns = netns_inode(n.b);
	if (!ASSERT_TRUE(cfg.netns != 0, "b's inode") || !start_flows(&s, &cfg))
		goto out;
	noports = nstat_value(n.b, "UdpNoPorts");
	rcvbuf = nstat_value(n.b, "UdpRcvbufErrors");

	/* A free port of b that nobody listens on: bound, then closed. */
	rx = udp_socket_in(n.b);
	inet_pton(AF_INET, "10.213.0.2", &sin.sin_addr);
	if (!ASSERT_TRUE(rx >= 0 && !bind(rx, (struct sockaddr *)&sin, sizeof(sin)) &&
			 !getsockname(rx, (struct sockaddr *)&sin, &len), "a port in b"))
		goto out;
	close(rx);
	ASSERT_TRUE(send_datagrams(&n, ntohs(sin.sin_port), 7, 100), "7 datagrams to it");

	/* A receiver with the smallest buffer, never reading. */
	rx = udp_socket_in(n.b);
	sin.sin_port = 0;
	if (!ASSERT_TRUE(rx >= 0 && !setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) &&
			 !bind(rx, (struct sockaddr *)&sin, sizeof(sin)) &&
			 !getsockname(rx, (struct sockaddr *)&sin, &len), "a receiver in b"))
		goto out;
	ASSERT_TRUE(send_datagrams(&n, ntohs(sin.sin_port), 40, 1000), "40 datagrams to it");
	sleep_ms(200);

	noports = nstat_value(n.b, "UdpNoPorts") - noports;
	rcvbuf = nstat_value(n.b, "UdpRcvbufErrors") - rcvbuf;
	ASSERT_EQ(noports, 7, "b's UdpNoPorts moved by the 7 datagrams");
	ASSERT_EQ(udp_drops_of(&s, "NO_SOCKET"), noports, "NO_SOCKET: as UdpNoPorts");
	ASSERT_TRUE(rcvbuf > 0 && rcvbuf < 40, "some datagrams overflowed the receiver");
	ASSERT_EQ(udp_drops_of(&s, "SOCKET_RCVBUFF"), rcvbuf, "SOCKET_RCVBUFF: as UdpRcvbufErrors");
	ASSERT_EQ(drops_of(&s, "NO_SOCKET"), 0, "no TCP drop in b");
out:
	if (rx >= 0)
		close(rx);
	flows_session_stop(&s);
	netns_destroy(&n);
}

/* ---- --packets ---- */

struct captured {
	uint32_t seq, ack;
	bool found;
};

/* The first segment from sport to dport with len bytes of data in what a
 * packet socket on lo captured. */
static struct captured find_captured(int cap, uint16_t sport, uint16_t dport, size_t len)
{
	struct captured c = {};
	/* The frame 2 bytes in: the IP header after the 14-byte Ethernet one
	 * is then 4-aligned, as struct iphdr must be. */
	unsigned char buf[2 + 2048] __attribute__((aligned(4))), *frame = buf + 2;
	ssize_t n;

	while (!c.found && (n = recv(cap, frame, 2048, MSG_DONTWAIT)) > 0) {
		const struct iphdr *ip = (const void *)(frame + 14);	/* after the Ethernet header */
		const struct tcphdr *th = (const void *)(frame + 14 + ip->ihl * 4);

		if (n < 54 || ip->version != 4 || ip->protocol != IPPROTO_TCP ||
		    ntohs(th->source) != sport || ntohs(th->dest) != dport ||
		    (size_t)(ntohs(ip->tot_len) - ip->ihl * 4 - th->doff * 4) != len)
			continue;
		c = (struct captured){ ntohl(th->seq), ntohl(th->ack_seq), true };
	}
	return c;
}

/* A packet socket on lo that takes only TCP over IPv4 to or from port: the
 * host's other loopback traffic (tests running alongside) must not fill
 * its buffer first. */
static int capture_port(uint16_t port)
{
	struct sock_filter code[] = {
		{ 0x28, 0, 0, 12 },		/* ldh [12]: ethertype */
		{ 0x15, 0, 8, ETH_P_IP },	/* IPv4, or drop */
		{ 0x30, 0, 0, 23 },		/* ldb [23]: IP protocol */
		{ 0x15, 0, 6, IPPROTO_TCP },	/* TCP, or drop */
		{ 0xb1, 0, 0, 14 },		/* ldxb 4*([14]&0xf): IP header length */
		{ 0x48, 0, 0, 14 },		/* ldh [x+14]: source port */
		{ 0x15, 2, 0, port },		/* ours: take it */
		{ 0x48, 0, 0, 16 },		/* ldh [x+16]: destination port */
		{ 0x15, 0, 1, port },		/* ours: take it, or drop */
		{ 0x06, 0, 0, 0x40000 },	/* take */
		{ 0x06, 0, 0, 0 },		/* drop */
	};
	struct sock_fprog prog = { sizeof(code) / sizeof(code[0]), code };
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));

	ll.sll_ifindex = if_nametoindex("lo");
	if (fd >= 0 && (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) ||
			bind(fd, (struct sockaddr *)&ll, sizeof(ll)))) {
		close(fd);
		return -1;
	}
	return fd;
}

static const struct packet_record *find_packet(const struct collected *c, bool outgoing,
					       uint16_t sport, uint16_t dport, uint32_t len)
{
	for (int i = 0; i < c->n; i++) {
		const struct packet_record *p = collected_at(c, i);

		if (p->kind == FLOW_RECORD_PACKET && p->outgoing == outgoing &&
		    p->tuple.sport == sport && p->tuple.dport == dport && p->len == len)
			return p;
	}
	return NULL;
}

/* seq and ack of the first data segment, as sent and as received, equal
 * what this test's own capture on lo saw. */
KTEST(flows_packets_match_capture)
{
	struct flows_config cfg = { .packets = true };
	const struct packet_record *sent, *received;
	struct flows_session s;
	struct collected c = {};
	struct captured seen;
	struct conn conn;
	int cap, srv;
	uint16_t port;

	srv = bound_socket(AF_INET, SOCK_STREAM, true, &port);
	cap = capture_port(port);
	if (!ASSERT_TRUE(cap >= 0, "capture")) {
		close(srv);
		return;
	}
	cfg.filters.port = port;
	collected_init(&c, sizeof(struct packet_record), 1000);
	if (!ASSERT_EQ(flows_session_start(&s, &cfg, collect_record, &c), 0, "session starts"))
		goto out;
	conn = open_conn(AF_INET, srv, port);
	transfer(&conn, 100, 0);
	drain_reader(&s.reader);
	seen = find_captured(cap, conn.cport, port, 100);
	sent = find_packet(&c, true, conn.cport, port, 100);
	received = find_packet(&c, false, port, conn.cport, 100);
	if (ASSERT_TRUE(seen.found, "captured") && ASSERT_TRUE(sent != NULL, "sent segment") &&
	    ASSERT_TRUE(received != NULL, "received segment")) {
		ASSERT_EQ(sent->seq, seen.seq, "seq as sent");
		ASSERT_EQ(sent->ack, seen.ack, "ack as sent");
		ASSERT_EQ(received->seq, seen.seq, "seq as received");
		ASSERT_EQ(received->ack, seen.ack, "ack as received");
		ASSERT_EQ(sent->owner.pid, getpid(), "the sender's pid");
		ASSERT_TRUE(sent->flags & 0x10, "ACK set");
	}
	close(conn.cli), close(conn.acc);
	flows_session_stop(&s);
out:
	collected_free(&c);
	close(srv), close(cap);
}

/* ---- layer times (-t) ---- */

/* Every layer of a connection that moved data both ways has samples,
 * each sample in a slot that a real time fits (the last slot would catch
 * a time gone negative), and the histogram's total is the count. */
static void check_layers(const struct flow_layers *l, const char *end)
{
	char what[96];

	for (int k = 0; k < LAYERS; k++) {
		uint64_t total = 0;

		for (int i = 0; i < LAYER_SLOTS; i++)
			total += l->slots[k][i];
		snprintf(what, sizeof(what), "%s %s: samples", end, layer_name(k));
		ASSERT_TRUE(l->count[k] > 0, what);
		snprintf(what, sizeof(what), "%s %s: histogram total", end, layer_name(k));
		ASSERT_EQ(total, l->count[k], what);
		snprintf(what, sizeof(what), "%s %s: no time past the last slot", end,
			 layer_name(k));
		ASSERT_EQ(l->slots[k][LAYER_SLOTS - 1], 0, what);
		snprintf(what, sizeof(what), "%s %s: average under a second", end, layer_name(k));
		ASSERT_TRUE(l->count[k] && l->sum_ns[k] / l->count[k] < 1000000000ULL, what);
	}
}

KTEST(flows_layers_every_layer_has_samples)
{
	struct flows_config cfg = { .layers = true };
	uint64_t totals[LAYERS * LAYER_SLOTS], sum_ns[LAYERS];
	struct flows_session s;
	struct flow_table t = {};
	struct flow_layers l;
	struct conn c;
	uint16_t port;
	int srv = bound_socket(AF_INET, SOCK_STREAM, true, &port);

	cfg.filters.port = port;
	if (!start_flows(&s, &cfg))
		return;
	c = open_conn(AF_INET, srv, port);
	for (int i = 0; i < 50; i++)
		transfer(&c, 1000, 1000);
	if (ASSERT_EQ(flows_snapshot(&s, &t, false), 0, "snapshot") &&
	    ASSERT_TRUE(find_flow(&t, c.cport, port) && find_flow(&t, port, c.cport), "rows")) {
		flows_conn_layers(&s, find_flow(&t, c.cport, port)->cookie, &l);
		check_layers(&l, "client");
		ASSERT_TRUE(l.count[LAYER_RX_QUEUE] >= 50, "the client read at least 50 segments");
		flows_conn_layers(&s, find_flow(&t, port, c.cport)->cookie, &l);
		check_layers(&l, "server");
	}
	if (ASSERT_EQ(flows_layer_totals(&s, totals, sum_ns), 0, "host-wide totals"))
		for (int k = 0; k < LAYERS; k++) {
			uint64_t n = 0;

			for (int i = 0; i < LAYER_SLOTS; i++)
				n += totals[k * LAYER_SLOTS + i];
			ASSERT_TRUE(n >= 100, layer_name(k));
			ASSERT_TRUE(sum_ns[k] > 0 && sum_ns[k] / n < 1000000000ULL, layer_name(k));
		}
	flow_table_free(&t);
	flows_session_stop(&s);
	close(c.cli), close(c.acc), close(srv);
}

/* Where the row from 127.0.0.1:sport to 127.0.0.1:dport is in a table. */
static const char *row_in(const char *table, uint16_t sport, uint16_t dport)
{
	char local[32], remote[32], row[80];

	snprintf(local, sizeof(local), "127.0.0.1:%u", sport);
	snprintf(remote, sizeof(remote), "127.0.0.1:%u", dport);
	snprintf(row, sizeof(row), "%-21s %-21s ", local, remote);
	return strstr(table, row);
}

/* --sort orders the rows: received bytes largest first, local port
 * ascending. */
KTEST(flows_cli_sort)
{
	const char *first, *second;
	char out[65536];
	struct conn a, b, lo, hi;
	uint16_t port;
	int srv;

	tcp_connection(AF_INET, &srv, &a.cli, &a.acc, &port, &a.cport);
	b = open_conn(AF_INET, srv, port);
	transfer(&a, 0, 100);
	transfer(&b, 0, 200000);
	keep_to_myself(srv, &a);
	keep_to_myself(srv, &b);
	ASSERT_EQ(run_flows(port, "-c", "1", "--sort", "received", out, sizeof(out)), 0, "exit");
	first = row_in(out, b.cport, port);
	second = row_in(out, a.cport, port);
	ASSERT_TRUE(first && second && first < second, "the client that received more first");
	ASSERT_EQ(run_flows(port, "-c", "1", "--sort", "local", out, sizeof(out)), 0, "exit");
	lo = a.cport < b.cport ? a : b;
	hi = a.cport < b.cport ? b : a;
	first = row_in(out, lo.cport, port);
	second = row_in(out, hi.cport, port);
	ASSERT_TRUE(first && second && first < second, "the lower local port first");
	close(a.cli), close(a.acc), close(b.cli), close(b.acc), close(srv);
}

/* On a terminal the table is redrawn in place: each snapshot clears the
 * screen first. script(1) gives it one. */
KTEST(flows_cli_live_table_on_a_terminal)
{
	char cmd[256], out[65536], err[1024];
	char *argv[] = { "/usr/bin/script", "-qec", cmd, "/dev/null", NULL };
	const char *first, *second;
	struct conn c;
	uint16_t port;
	int srv;

	if (access(argv[0], X_OK)) {
		test_skip("script(1) is missing (Debian package bsdutils)");
		return;
	}
	tcp_connection(AF_INET, &srv, &c.cli, &c.acc, &port, &c.cport);
	keep_to_myself(srv, &c);
	snprintf(cmd, sizeof(cmd), "%s flows --port %u -i 0.2 -c 2", sockeye_path(), port);
	ASSERT_EQ(run_capture(argv, out, sizeof(out), err, sizeof(err)), 0, "exit status");
	first = strstr(out, "\033[H\033[2J");
	second = first ? strstr(first + 1, "\033[H\033[2J") : NULL;
	ASSERT_TRUE(first && second, "the screen cleared before each of the two snapshots");
	ASSERT_HAS(out, "2 connections, 0 closed  (Ctrl-C quits)", "the live header");
	close(c.cli), close(c.acc), close(srv);
}

struct accepted_later {
	int srv;
	uint16_t port;
	struct conn c;
};

/* A connection accepted while sockeye runs, left a second and a half for
 * sockeye to learn its owner, then 100 bytes each way. */
static void accept_then_talk(void *ctx)
{
	struct accepted_later *a = ctx;

	a->c = open_conn(AF_INET, a->srv, a->port);
	sleep_ms(1500);
	transfer(&a->c, 100, 100);
	sleep_ms(300);
}

/* --packets --pid: the server end of a connection accepted after the
 * start shows under its process too, once sockeye walked the processes. */
KTEST(flows_cli_packets_by_pid_include_accepted)
{
	char out[262144], me[16], want[256];
	char *argv[] = { (char *)sockeye_path(), "flows", "--packets", "--json", "-p", me,
			 "--duration", "3", NULL };
	struct accepted_later a = {};

	a.srv = bound_socket(AF_INET, SOCK_STREAM, true, &a.port);
	fcntl(a.srv, F_SETFD, FD_CLOEXEC);
	snprintf(me, sizeof(me), "%d", getpid());
	ASSERT_EQ(sockeye_with_traffic(argv, "flows_tcp_in", accept_then_talk, &a, out,
				       sizeof(out)), 0, "exit status");
	snprintf(want, sizeof(want), "\"type\":\"packet\",");
	ASSERT_HAS(out, want, "packet records");
	snprintf(want, sizeof(want), "\"pid\":%d,\"tid\":", getpid());
	ASSERT_HAS(out, want, "under this pid");
	ASSERT_HAS(out, "\"comm\":\"sockeye-tests\",\"exe\":\"/", "the name and executable");
	snprintf(want, sizeof(want), "/sockeye-tests\",\"family\":4,"
		 "\"laddr\":\"127.0.0.1\",\"lport\":%u,\"raddr\":\"127.0.0.1\",\"rport\":%u,"
		 "\"direction\":\"recv\",", a.port, a.c.cport);
	ASSERT_HAS(out, want, "the server end receives");
	snprintf(want, sizeof(want), "\"lport\":%u,\"raddr\":\"127.0.0.1\",\"rport\":%u,"
		 "\"direction\":\"send\",", a.port, a.c.cport);
	ASSERT_HAS(out, want, "the server end sends, under this pid");
	close(a.c.cli), close(a.c.acc), close(a.srv);
}

/* ---- --http ---- */

static void three_exchanges(void *ctx)
{
	const struct conn *c = ctx;

	ASSERT_TRUE(three_http_exchanges(c->cli, c->acc), "the exchanges went through");
}

/* Both ends of the connection show the three exchanges, the last one's
 * method and status, and a mean latency above zero. */
KTEST(flows_cli_http_columns)
{
	char out[65536], portarg[8], want[256];
	char *argv[] = { (char *)sockeye_path(), "flows", "--http", "--json", "-i", "1", "-c", "2",
			 "--port", portarg, NULL };
	const uint16_t *ends[2];
	struct conn c;
	uint16_t port;
	int srv;

	tcp_connection(AF_INET, &srv, &c.cli, &c.acc, &port, &c.cport);
	keep_to_myself(srv, &c);
	snprintf(portarg, sizeof(portarg), "%u", port);
	ASSERT_EQ(sockeye_with_traffic(argv, "http_recvmsg_e", three_exchanges, &c, out,
				       sizeof(out)), 0, "exit status");
	ends[0] = &c.cport;
	ends[1] = &port;
	for (int e = 0; e < 2; e++) {
		const char *row, *latency;

		snprintf(want, sizeof(want), "\"lport\":%u,", *ends[e]);
		row = strstr(out, want);
		if (!ASSERT_TRUE(row != NULL, "a row for each end"))
			continue;
		/* The second snapshot's row: the exchanges were made within the first. */
		row = strstr(row + 1, want) ? strstr(row + 1, want) : row;
		ASSERT_HAS(row, "\"http_requests\":3,\"http_last_method\":\"POST\","
				"\"http_last_status\":404,\"http_mean_latency_ns\":", "HTTP columns");
		latency = strstr(row, "\"http_mean_latency_ns\":");
		ASSERT_TRUE(latency && strtoull(latency + strlen("\"http_mean_latency_ns\":"), NULL, 10) > 0,
			    "latency above zero");
	}
	close(c.cli), close(c.acc), close(srv);
}
