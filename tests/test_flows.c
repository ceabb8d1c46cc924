// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye flows` against real connections: this process opens them over
 * loopback, moves a known number of bytes each way, and checks each row
 * against what it knows (ports, pid, direction) and against what the
 * kernel tells `ss -ti` for the same socket. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "test.h"
#include "helpers.h"
#include "flows_session.h"

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

/* Waits until everything fd sent is acknowledged, so the counts are final. */
static void settle(int fd)
{
	struct tcp_info ti;
	socklen_t len;

	for (int i = 0; i < 100; i++) {
		len = sizeof(ti);
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) || !ti.tcpi_unacked)
			return;
		sleep_ms(10);
	}
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
	ASSERT_EQ(r->tcp.total_retrans, 0, "no retransmits over loopback");
	for (int k = 0; k < RETRANS_KINDS; k++)
		ASSERT_EQ(r->entry.retrans[k], 0, retrans_kind_name(k));
}

struct conn {
	int cli, acc;
	uint16_t cport;
};

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
	after.cli = connect_to(family, SOCK_STREAM, port);
	after.acc = accept(srv, NULL, NULL);
	after.cport = local_port(after.cli);
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
	c.cli = connect_to(AF_INET, SOCK_STREAM, port);
	c.acc = accept(srv, NULL, NULL);
	c.cport = local_port(c.cli);
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
		ASSERT_EQ(t.n, 1, "--dport: only the client end to port a");
		ASSERT_TRUE(find_flow(&t, a.cport, port_a) != NULL, "that one");
		flows_session_stop(&s);
	}
	cfg = (struct flows_config){ .sport = port_b, .listeners = true };
	if (start_flows(&s, &cfg) && ASSERT_EQ(flows_snapshot(&s, &t, false), 0, "snapshot")) {
		ASSERT_EQ(t.n, 2, "--sport: port b's listener and server end");
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
