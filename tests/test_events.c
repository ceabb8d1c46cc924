// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye events` against real traffic: the real programs are loaded, this
 * process makes loopback connections whose ports, bytes and pid it knows,
 * and every record is checked field by field. Other programs on the host
 * make traffic too: records are picked out by pid and port. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "test.h"
#include "helpers.h"
#include "events_session.h"
#include "probe.h"
#include "sockeye.h"
#include "events.skel.h"

#define MAX_RECORDS 70000

static const struct event_record *record(const struct collected *c, int i)
{
	return collected_at(c, i);
}

static struct events_config config_for_pid(pid_t pid)
{
	struct events_config cfg = {
		.event_mask = EV_DEFAULT_MASK,
		.proto_mask = PROTO_TCP_BIT | PROTO_UDP_BIT,
	};

	cfg.filters.pid = pid;
	return cfg;
}

SESSION_FIXTURE(events, struct events_config, struct event_record, MAX_RECORDS)

/* The n-th (from 0) record of a kind between these ports; 0 matches any port. */
static bool matches(const struct event_record *e, int kind, uint16_t sport, uint16_t dport)
{
	return e->kind == kind && (!sport || e->tuple.sport == sport) &&
	       (!dport || e->tuple.dport == dport);
}

static const struct event_record *find(const struct collected *c, int kind, uint16_t sport,
				       uint16_t dport, int nth)
{
	for (int i = 0; i < c->n; i++)
		if (matches(record(c, i), kind, sport, dport) && nth-- == 0)
			return record(c, i);
	return NULL;
}

/* These two in one walk: events_lost_are_counted collects tens of
 * thousands of records. */
static int count_kind(const struct collected *c, int kind, uint16_t sport, uint16_t dport)
{
	int n = 0;

	for (int i = 0; i < c->n; i++)
		n += matches(record(c, i), kind, sport, dport);
	return n;
}

static int64_t sum_bytes(const struct collected *c, int kind, uint16_t sport, uint16_t dport)
{
	int64_t sum = 0;

	for (int i = 0; i < c->n; i++) {
		const struct event_record *e = record(c, i);

		if (matches(e, kind, sport, dport) && e->result > 0)
			sum += e->result;
	}
	return sum;
}

static void check_addresses(const struct event_record *e, int family, bool remote_too)
{
	struct sockaddr_storage ss;
	const uint8_t *lo;

	loopback(family, 0, &ss);
	lo = family == AF_INET ? (const uint8_t *)&((struct sockaddr_in *)&ss)->sin_addr :
				 (const uint8_t *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
	ASSERT_EQ(e->tuple.family, family, "family");
	ASSERT_TRUE(!memcmp(e->tuple.saddr, lo, family == AF_INET ? 4 : 16), "local address is loopback");
	if (remote_too)
		ASSERT_TRUE(!memcmp(e->tuple.daddr, lo, family == AF_INET ? 4 : 16),
			    "remote address is loopback");
}

static void check_mine(const struct event_record *e, int state, int result)
{
	char comm[16] = {};

	prctl(PR_GET_NAME, comm);
	ASSERT_EQ(e->owner.pid, getpid(), "pid");
	ASSERT_EQ(e->owner.tid, gettid(), "tid");
	ASSERT_STR_EQ(e->owner.comm, comm, "comm");
	if (state >= 0)
		ASSERT_EQ(e->tuple.state, state, "TCP state");
	ASSERT_EQ(e->result, result, "result");
	ASSERT_TRUE(e->cookie != 0, "socket cookie");
}

static bool present(const struct event_record *e, const char *what)
{
	return ASSERT_TRUE(e != NULL, what);
}

static void tcp_lifecycle(int family)
{
	struct events_session s;
	struct events_config cfg = config_for_pid(getpid());
	struct collected c;
	const struct event_record *e;
	uint16_t port, cport;
	int srv, cli, acc;
	char byte;

	if (!start(&s, &c, &cfg))
		return;
	tcp_connection(family, &srv, &cli, &acc, &port, &cport);
	ASSERT_TRUE(srv >= 0 && cli >= 0 && acc >= 0, "sockets");
	ASSERT_TRUE(send_all(cli, 3000) && recv_exactly(acc, 3000), "3000 bytes across");
	shutdown(cli, SHUT_WR);
	ASSERT_EQ(recv(acc, &byte, 1, 0), 0, "EOF after shutdown");
	close(cli);
	close(acc);
	close(srv);
	drain(&s);

	ASSERT_EQ(count_kind(&c, EV_CREATE, 0, 0), 2, "two sockets created");
	if (present(e = find(&c, EV_BIND, port, 0, 0), "bind")) {
		check_mine(e, TCP_CLOSE, 0);
		check_addresses(e, family, false);
	}
	if (present(e = find(&c, EV_LISTEN, port, 0, 0), "listen"))
		check_mine(e, TCP_LISTEN, 0);
	if (present(e = find(&c, EV_CONNECT, cport, port, 0), "connect")) {
		check_mine(e, TCP_ESTABLISHED, 0);
		check_addresses(e, family, true);
	}
	if (present(e = find(&c, EV_ACCEPT, port, cport, 0), "accept")) {
		check_mine(e, TCP_ESTABLISHED, 0);
		check_addresses(e, family, true);
		ASSERT_TRUE(e->rcvbuf > 0 && e->sndbuf > 0, "buffer sizes");
	}
	ASSERT_EQ(sum_bytes(&c, EV_SEND, cport, port), 3000, "bytes sent");
	ASSERT_EQ(sum_bytes(&c, EV_RECV, port, cport), 3000, "bytes received");
	if (present(e = find(&c, EV_SEND, cport, port, 0), "send"))
		check_mine(e, TCP_ESTABLISHED, 3000);	/* one send(2) of 3000 bytes */
	if (present(e = find(&c, EV_SHUTDOWN, cport, port, 0), "shutdown")) {
		check_mine(e, -1, 0);
		ASSERT_EQ(e->arg, SHUT_WR, "how");
		ASSERT_TRUE(e->tuple.state == TCP_FIN_WAIT1 || e->tuple.state == TCP_FIN_WAIT2,
			    "state after shutdown(SHUT_WR)");
	}
	if (present(e = find(&c, EV_CLOSE, cport, port, 0), "client close"))
		check_mine(e, -1, 0);
	if (present(e = find(&c, EV_CLOSE, port, cport, 0), "accepted socket close"))
		check_mine(e, TCP_CLOSE_WAIT, 0);
	/* The listener's close is the one of its port with no peer. */
	for (int i = 0; (e = find(&c, EV_CLOSE, port, 0, i)); i++)
		if (!e->tuple.dport)
			break;
	if (present(e, "listener close"))
		check_mine(e, TCP_LISTEN, 0);
	ASSERT_EQ(count_kind(&c, EV_CLOSE, 0, 0), 3, "three closes");
	stop(&s, &c);
}

KTEST(events_tcp_lifecycle_ipv4)
{
	need_cgroup_sock_events();
	tcp_lifecycle(AF_INET);
}

KTEST(events_tcp_lifecycle_ipv6)
{
	need_cgroup_sock_events();
	tcp_lifecycle(AF_INET6);
}

/* tcp_send_reset fires for a reset sent for no socket (a closed port)
 * from Linux 6.10 on, where it also gained its reason argument. */
static bool resets_without_socket_traced(void)
{
	return tracepoint_arg_count("tcp_send_reset") >= 3;
}

static void refused(int family)
{
	struct events_session s;
	struct events_config cfg = config_for_pid(0);
	struct collected c;
	const struct event_record *conn, *e;
	uint16_t port;
	/* Bound but not listening: the port is ours and answers with a reset. */
	int hold = bound_socket(family, SOCK_STREAM, false, &port);

	cfg.filters.port = port;
	if (!start(&s, &c, &cfg))
		return;
	ASSERT_EQ(connect_to(family, SOCK_STREAM, port), -1, "connect fails");
	ASSERT_EQ(errno, ECONNREFUSED, "with ECONNREFUSED");
	close(hold);
	drain(&s);

	if (!present(conn = find(&c, EV_CONNECT, 0, port, 0), "connect"))
		goto out;
	check_mine(conn, TCP_CLOSE, -ECONNREFUSED);
	check_addresses(conn, family, true);
	ASSERT_TRUE(conn->tuple.sport != 0, "the connect's own port is known");
	if (!resets_without_socket_traced()) {
		printf("    reset sent: not traced before Linux 6.10\n");
	} else if (present(e = find(&c, EV_RESET_SENT, port, conn->tuple.sport, 0), "reset sent")) {
		ASSERT_EQ(e->owner.pid, 0, "no process: the kernel answered for a closed port");
		check_addresses(e, family, true);
	}
	if (present(e = find(&c, EV_RESET_RECV, conn->tuple.sport, port, 0), "reset received"))
		ASSERT_EQ(e->owner.pid, getpid(), "attributed to the connecting process");
out:
	stop(&s, &c);
}

KTEST(events_connect_refused_ipv4)
{
	need_cgroup_sock_events();
	refused(AF_INET);
}

KTEST(events_connect_refused_ipv6)
{
	need_cgroup_sock_events();
	refused(AF_INET6);
}

/* A connection over 127.0.0.1 whose client closes with linger 0, so it
 * sends a reset, which the accepted end's recv() gets. */
static void reset_by_linger_zero(uint16_t *port, uint16_t *cport)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int srv, cli, acc;
	char byte;

	tcp_connection(AF_INET, &srv, &cli, &acc, port, cport);
	setsockopt(cli, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(cli);
	ASSERT_EQ(recv(acc, &byte, 1, 0), -1, "recv after the reset fails");
	ASSERT_EQ(errno, ECONNRESET, "with ECONNRESET");
	close(acc);
	close(srv);
}

KTEST(events_reset_by_linger_zero)
{
	struct events_session s;
	struct events_config cfg = config_for_pid(getpid());
	struct collected c;
	const struct event_record *e;
	uint16_t port, cport;

	need_cgroup_sock_events();

	if (!start(&s, &c, &cfg))
		return;
	reset_by_linger_zero(&port, &cport);
	drain(&s);

	if (present(e = find(&c, EV_RESET_SENT, cport, port, 0), "reset sent"))
		check_mine(e, TCP_CLOSE, 0);
	if (present(e = find(&c, EV_RESET_RECV, port, cport, 0), "reset received"))
		ASSERT_EQ(e->owner.pid, getpid(), "attributed to the accepting process");
	if (present(e = find(&c, EV_RECV, port, cport, 0), "failed recv"))
		check_mine(e, TCP_CLOSE, -ECONNRESET);
	if (present(e = find(&c, EV_CLOSE, cport, port, 0), "close with linger 0"))
		check_mine(e, TCP_ESTABLISHED, 0);
	stop(&s, &c);
}

/* The errors sockets get, each once, with its errno: a refused connect's
 * over IPv4 and IPv6 (ports bound but not listening answer with a reset),
 * and both ends' of a connection its client reset. Where the
 * kernel lacks their tracepoint, events says so at start and this skips. */
KTEST(events_error_reports_of_refused_and_reset)
{
	struct events_session s;
	struct events_config cfg = config_for_pid(getpid());
	struct collected c;
	const struct event_record *e;
	uint16_t port4, port6, port, cport;
	int hold4, hold6;

	need_cgroup_sock_events();
	need_hook(&events_programs, "error");
	hold4 = bound_socket(AF_INET, SOCK_STREAM, false, &port4);
	hold6 = bound_socket(AF_INET6, SOCK_STREAM, false, &port6);
	if (!start(&s, &c, &cfg))
		return;
	ASSERT_EQ(connect_to(AF_INET, SOCK_STREAM, port4), -1, "IPv4 connect refused");
	ASSERT_EQ(connect_to(AF_INET6, SOCK_STREAM, port6), -1, "IPv6 connect refused");
	reset_by_linger_zero(&port, &cport);
	close(hold4);
	close(hold6);
	drain(&s);

	if (present(e = find(&c, EV_ERROR, 0, port4, 0), "IPv4 refused connect's error"))
		ASSERT_EQ(e->result, -ECONNREFUSED, "ECONNREFUSED");
	if (present(e = find(&c, EV_ERROR, 0, port6, 0), "IPv6 refused connect's error"))
		ASSERT_EQ(e->result, -ECONNREFUSED, "ECONNREFUSED");
	if (present(e = find(&c, EV_ERROR, port, cport, 0), "error on the accepted socket"))
		ASSERT_EQ(e->result, -ECONNRESET, "ECONNRESET");
	/* tcp_disconnect() sets it on the resetting end too. */
	if (present(e = find(&c, EV_ERROR, cport, 0, 0), "error on the client that reset"))
		ASSERT_EQ(e->result, -ECONNRESET, "ECONNRESET");
	ASSERT_EQ(count_kind(&c, EV_ERROR, 0, 0), 4, "four errors in all");
	stop(&s, &c);
}

KTEST(events_disconnect)
{
	struct events_session s;
	struct events_config cfg = config_for_pid(getpid());
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	struct collected c;
	const struct event_record *e;
	uint16_t port, cport;
	int srv, cli, acc;

	if (!start(&s, &c, &cfg))
		return;
	tcp_connection(AF_INET, &srv, &cli, &acc, &port, &cport);
	ASSERT_EQ(connect(cli, &unspec, sizeof(unspec)), 0, "connect(AF_UNSPEC)");
	close(cli);
	close(acc);
	close(srv);
	drain(&s);

	if (present(e = find(&c, EV_DISCONNECT, cport, port, 0), "disconnect"))
		check_mine(e, TCP_CLOSE, 0);
	ASSERT_EQ(count_kind(&c, EV_DISCONNECT, 0, 0), 1, "only the one disconnect");
	stop(&s, &c);
}

static void udp_exchange(int family)
{
	struct events_session s;
	struct events_config cfg = config_for_pid(getpid());
	struct collected c;
	const struct event_record *e;
	uint16_t port, cport;
	int srv, cli;
	char buf[1024] = {};

	if (!start(&s, &c, &cfg))
		return;
	srv = bound_socket(family, SOCK_DGRAM, false, &port);
	cli = connect_to(family, SOCK_DGRAM, port);
	cport = local_port(cli);
	ASSERT_EQ(send(cli, buf, 700, 0), 700, "send 700 bytes");
	ASSERT_EQ(recv(srv, buf, sizeof(buf), 0), 700, "receive 700 bytes");
	close(cli);
	close(srv);
	drain(&s);

	ASSERT_EQ(count_kind(&c, EV_CREATE, 0, 0), 2, "two sockets created");
	if (present(e = find(&c, EV_BIND, port, 0, 0), "bind")) {
		check_mine(e, -1, 0);
		check_addresses(e, family, false);
		ASSERT_EQ(e->tuple.protocol, IPPROTO_UDP, "protocol");
	}
	if (present(e = find(&c, EV_CONNECT, 0, port, 0), "connect")) {
		check_mine(e, -1, 0);
		ASSERT_EQ(e->tuple.protocol, IPPROTO_UDP, "protocol");
	}
	if (present(e = find(&c, EV_SEND, cport, port, 0), "send")) {
		check_mine(e, -1, 700);
		check_addresses(e, family, true);
	}
	if (present(e = find(&c, EV_RECV, port, 0, 0), "recv"))
		check_mine(e, -1, 700);
	ASSERT_EQ(count_kind(&c, EV_CLOSE, cport, port), 1, "client close");
	ASSERT_EQ(count_kind(&c, EV_CLOSE, port, 0), 1, "server close");
	stop(&s, &c);
}

KTEST(events_udp_ipv4)
{
	need_cgroup_sock_events();
	udp_exchange(AF_INET);
}

KTEST(events_udp_ipv6)
{
	need_cgroup_sock_events();
	udp_exchange(AF_INET6);
}

/* One TCP connection with a little data, from this process. */
static void tcp_round(int family, uint16_t *port_out)
{
	uint16_t port, cport;
	int srv, cli, acc;

	tcp_connection(family, &srv, &cli, &acc, &port, &cport);

	send_all(cli, 10);
	recv_exactly(acc, 10);
	close(cli);
	close(acc);
	close(srv);
	if (port_out)
		*port_out = port;
}

static void udp_round(int family)
{
	uint16_t port;
	int srv = bound_socket(family, SOCK_DGRAM, false, &port);
	int cli = connect_to(family, SOCK_DGRAM, port);
	char buf[16] = {};

	send(cli, buf, sizeof(buf), 0);
	recv(srv, buf, sizeof(buf), 0);
	close(cli);
	close(srv);
}

KTEST(events_filter_family)
{
	struct events_session s;
	struct events_config cfg = config_for_pid(getpid());
	struct collected c;
	uint16_t port6;

	cfg.filters.family = AF_INET6;
	if (!start(&s, &c, &cfg))
		return;
	tcp_round(AF_INET, NULL);
	tcp_round(AF_INET6, &port6);
	drain(&s);
	ASSERT_TRUE(find(&c, EV_CONNECT, 0, port6, 0) != NULL, "the IPv6 connect is there");
	for (int i = 0; i < c.n; i++)
		ASSERT_EQ(record(&c, i)->tuple.family, AF_INET6, "only IPv6");
	stop(&s, &c);
}

KTEST(events_filter_port)
{
	struct events_session s;
	struct events_config cfg = config_for_pid(0);
	struct collected c;
	uint16_t port, other;
	int srv = bound_socket(AF_INET, SOCK_STREAM, true, &port);
	int srv2 = bound_socket(AF_INET, SOCK_STREAM, true, &other);
	int a = connect_to(AF_INET, SOCK_STREAM, port), b;

	cfg.filters.port = port;
	close(a);
	if (!start(&s, &c, &cfg))
		return;
	a = connect_to(AF_INET, SOCK_STREAM, port);
	b = connect_to(AF_INET, SOCK_STREAM, other);
	close(a);
	close(b);
	drain(&s);
	ASSERT_EQ(count_kind(&c, EV_CONNECT, 0, port), 1, "the connect to the port");
	for (int i = 0; i < c.n; i++)
		ASSERT_TRUE(record(&c, i)->tuple.sport == port || record(&c, i)->tuple.dport == port,
			    "only records of the port");
	close(srv);
	close(srv2);
	stop(&s, &c);
}

/* A child, named "sockeye-child", connects to a server of this process and
 * sends 10 bytes once the session filtering on it is loaded; the parent's
 * accept and recv must not pass the filter. */
static void filter_by_process(bool by_comm)
{
	const char *name = "sockeye-child";
	struct events_session s;
	struct events_config cfg = config_for_pid(0);
	struct collected c;
	const struct event_record *e;
	uint16_t port;
	int srv = bound_socket(AF_INET, SOCK_STREAM, true, &port);
	int sync[2], acc;
	pid_t child;
	char go;

	if (pipe(sync))
		return;
	child = fork();
	if (child == 0) {
		int fd;

		prctl(PR_SET_NAME, name);
		if (read(sync[0], &go, 1) != 1)
			_exit(1);
		fd = connect_to(AF_INET, SOCK_STREAM, port);
		send_all(fd, 10);
		close(fd);
		_exit(0);
	}
	if (by_comm) {
		cfg.filters.comm_set = true;
		strcpy(cfg.filters.comm, name);
	} else {
		cfg.filters.pid = child;
	}
	if (!start(&s, &c, &cfg))
		return;
	ASSERT_EQ(write(sync[1], "g", 1), 1, "start the child");
	acc = accept(srv, NULL, NULL);
	recv_exactly(acc, 10);
	ASSERT_EQ(wait_status(child), 0, "child");
	close(acc);
	close(srv);
	drain(&s);
	if (present(e = find(&c, EV_CONNECT, 0, port, 0), "the child's connect")) {
		ASSERT_EQ(e->owner.pid, child, "pid");
		ASSERT_STR_EQ(e->owner.comm, name, "comm");
	}
	ASSERT_EQ(sum_bytes(&c, EV_SEND, 0, port), 10, "the child's 10 bytes");
	ASSERT_EQ(count_kind(&c, EV_ACCEPT, port, 0), 0, "the parent's accept is left out");
	for (int i = 0; i < c.n; i++)
		ASSERT_EQ(record(&c, i)->owner.pid, child, "only the filtered process");
	stop(&s, &c);
}

/* A process named "sockeye-leader" whose thread "sockeye-worker" connects
 * and sends: its events name the process by its leader, as ps and top do,
 * with the thread's own id as tid; and --comm takes the leader's name. */
KTEST(events_name_the_process_by_its_leader)
{
	struct events_config cfg = config_for_pid(0);
	struct events_session s;
	struct collected c;
	const struct event_record *e;
	struct threaded_client tc;
	struct sockaddr_in peer;
	uint16_t port;
	int srv = bound_socket(AF_INET, SOCK_STREAM, true, &port), acc;

	cfg.filters.comm_set = true;
	strcpy(cfg.filters.comm, "sockeye-leader");
	if (threaded_client_start(&tc, port, "sockeye-leader", "sockeye-worker") &&
	    start(&s, &c, &cfg)) {
		acc = threaded_client_accept(&tc, srv, &peer);
		ASSERT_TRUE(acc >= 0, "the thread connected and sent");
		drain(&s);
		if (present(e = find(&c, EV_CONNECT, 0, port, 0), "the thread's connect")) {
			ASSERT_EQ(e->owner.pid, tc.pid, "pid");
			ASSERT_TRUE(e->owner.tid != (uint32_t)tc.pid, "the thread's own tid");
			ASSERT_STR_EQ(e->owner.comm, "sockeye-leader", "the leader's name");
		}
		if (present(e = find(&c, EV_SEND, 0, port, 0), "the thread's send"))
			ASSERT_STR_EQ(e->owner.comm, "sockeye-leader", "the leader's name");
		ASSERT_EQ(sum_bytes(&c, EV_SEND, 0, port), 10, "its 10 bytes");
		stop(&s, &c);
		if (acc >= 0)
			close(acc);
	}
	threaded_client_end(&tc);
	close(srv);
}

KTEST(events_filter_comm)
{
	filter_by_process(true);
}

KTEST(events_filter_pid)
{
	filter_by_process(false);
}

/* Starts a session with cfg, then makes a TCP (IPv4) and a UDP (IPv6)
 * exchange, both small. */
static bool tcp_and_udp_rounds(struct events_session *s, struct collected *c,
			       const struct events_config *cfg)
{
	if (!start(s, c, cfg))
		return false;
	tcp_round(AF_INET, NULL);
	udp_round(AF_INET6);
	drain(s);
	return true;
}

KTEST(events_filter_protocol)
{
	struct events_session s;
	struct events_config cfg = config_for_pid(getpid());
	struct collected c;

	cfg.proto_mask = PROTO_UDP_BIT;
	if (!tcp_and_udp_rounds(&s, &c, &cfg))
		return;
	ASSERT_TRUE(count_kind(&c, EV_SEND, 0, 0) == 1, "the UDP send");
	for (int i = 0; i < c.n; i++)
		ASSERT_EQ(record(&c, i)->tuple.protocol, IPPROTO_UDP, "only UDP");
	stop(&s, &c);
}

static void only_kinds(uint32_t mask, uint32_t must_see)
{
	struct events_session s;
	struct events_config cfg = config_for_pid(getpid());
	struct collected c;

	cfg.event_mask = mask;
	if (!tcp_and_udp_rounds(&s, &c, &cfg))
		return;
	for (int kind = 0; kind < EV_KIND_COUNT; kind++)
		if (must_see & EV_BIT(kind))
			ASSERT_TRUE(count_kind(&c, kind, 0, 0) > 0, event_kind_name(kind));
	for (int i = 0; i < c.n; i++)
		ASSERT_TRUE(mask & EV_BIT(record(&c, i)->kind), "only the asked-for events");
	stop(&s, &c);
}

KTEST(events_filter_event_list)
{
	need_cgroup_sock_events();
	only_kinds(EV_BIT(EV_CONNECT) | EV_BIT(EV_CLOSE), EV_BIT(EV_CONNECT) | EV_BIT(EV_CLOSE));
}

KTEST(events_filter_no_io)
{
	need_cgroup_sock_events();
	only_kinds(EV_DEFAULT_MASK & ~EV_IO_MASK,
		   EV_BIT(EV_CONNECT) | EV_BIT(EV_ACCEPT) | EV_BIT(EV_CLOSE) | EV_BIT(EV_BIND));
}

/* Waits until a socket is in state, up to 10 s. */
static bool wait_for_state(int fd, uint8_t state)
{
	for (int waited = 0; waited < 10000; waited += 10) {
		struct tcp_info ti = {};
		socklen_t len = sizeof(ti);

		if (!getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) && ti.tcpi_state == state)
			return true;
		sleep_ms(10);
	}
	return false;
}

KTEST(events_state_sequence)
{
	static const uint8_t client[][2] = {
		{ TCP_CLOSE, TCP_SYN_SENT }, { TCP_SYN_SENT, TCP_ESTABLISHED },
		{ TCP_ESTABLISHED, TCP_FIN_WAIT1 }, { TCP_FIN_WAIT1, TCP_FIN_WAIT2 },
		{ TCP_FIN_WAIT2, TCP_FIN_WAIT2 },	/* close() after shutdown() */
		{ TCP_FIN_WAIT2, TCP_CLOSE },	/* handed to a time-wait socket */
	};
	const int changes = sizeof(client) / sizeof(client[0]);
	struct events_session s;
	struct events_config cfg = config_for_pid(0);
	struct collected c;
	const struct event_record *e;
	uint16_t port, cport;
	int srv, cli, acc, n = 0;

	cfg.event_mask = EV_BIT(EV_STATE);
	if (!start(&s, &c, &cfg))
		return;
	tcp_connection(AF_INET, &srv, &cli, &acc, &port, &cport);
	/* The client's FIN acknowledged before the server closes: otherwise a
	 * slow machine (an emulated guest) may cross the two FINs (CLOSING). */
	shutdown(cli, SHUT_WR);
	ASSERT_TRUE(wait_for_state(cli, TCP_FIN_WAIT2), "the client's FIN acknowledged");
	close(cli);
	close(acc);
	close(srv);
	drain(&s);
	/* The first change comes before the port is chosen: follow the cookie. */
	if (!present(e = find(&c, EV_STATE, cport, port, 0), "client state changes"))
		goto out;
	for (int i = 0; i < c.n; i++) {
		if (record(&c, i)->cookie != e->cookie)
			continue;
		if (n < changes) {
			ASSERT_EQ(record(&c, i)->arg, client[n][0], "old state");
			ASSERT_EQ(record(&c, i)->tuple.state, client[n][1], "new state");
		}
		n++;
	}
	ASSERT_EQ(n, changes, "client state changes");
out:
	stop(&s, &c);
}

/* Fills the ring buffer without reading it: every send is either read
 * back or counted as lost, none vanishes. */
KTEST(events_lost_are_counted)
{
	enum { SENDS = 60000, CHECK_EVERY = 1000 };
	struct events_session s;
	struct events_config cfg = config_for_pid(getpid());
	struct collected c;
	uint16_t port;
	int srv, cli, delivered, sent = 0;
	uint64_t ring_full;
	char buf[1] = { 0 };

	cfg.event_mask = EV_BIT(EV_SEND);
	if (!start(&s, &c, &cfg))
		return;
	srv = bound_socket(AF_INET, SOCK_DGRAM, false, &port);
	cli = connect_to(AF_INET, SOCK_DGRAM, port);
	/* Stops soon after the first loss: under emulation (the kernel
	 * matrix) each send costs a millisecond or more. */
	while (sent < SENDS && (sent % CHECK_EVERY || !reader_ring_full(&s.reader))) {
		send(cli, buf, 1, MSG_DONTWAIT);
		sent++;
	}
	drain(&s);
	delivered = count_kind(&c, EV_SEND, 0, port);
	ring_full = reader_ring_full(&s.reader);
	ASSERT_TRUE(ring_full > 0, "the buffer overflowed");
	/* The runs the kernel skipped, in lost too, are of every socket of the
	 * host: exact when there were none. */
	ASSERT_TRUE(delivered + ring_full <= (uint64_t)sent &&
		    (uint64_t)sent <= delivered + reader_lost(&s.reader), "delivered + lost");
	close(cli);
	close(srv);
	stop(&s, &c);
}

/* n connections to port, each closed by both ends with a FIN, the server
 * end in a child process: a loop of them, on both CPUs, makes the kernel
 * skip runs of the state-change programs now and then. */
static bool fin_churn(int srv, uint16_t port, int n)
{
	pid_t server = fork();

	if (server == 0) {
		for (int i = 0; i < n; i++)
			close(accept(srv, NULL, NULL));
		_exit(0);
	}
	for (int i = 0; server > 0 && i < n; i++) {
		int cli = connect_to(AF_INET, SOCK_STREAM, port);

		if (cli < 0) {
			printf("    connect: %s\n", strerror(errno));
			kill(server, SIGKILL);	/* it waits for n */
			break;
		}
		close(cli);
	}
	return wait_status(server) == 0;
}

/* Entries of events' owners map that name this process. */
static int owners_of_me(const struct events_session *s)
{
	int fd = bpf_map__fd(s->skel->maps.owners), n = 0;
	__u64 key, *prev = NULL;
	struct sock_owner o;

	while (!bpf_map_get_next_key(fd, prev, &key)) {
		n += !bpf_map_lookup_elem(fd, &key, &o) && o.pid == (__u32)getpid();
		prev = &key;
	}
	return n;
}

/* The owners left once the last connections have closed. A connection
 * whose segment was dropped ends only when it is sent again, 200 ms or
 * more later, and its socket is destroyed then; a socket never forgotten
 * stays. */
static int owners_left(const struct events_session *s)
{
	uint64_t give_up = monotonic_ns() + 5000000000ull;
	int n;

	while ((n = owners_of_me(s)) && monotonic_ns() < give_up)
		sleep_ms(50);
	return n;
}

/* Runs the kernel skips are counted, exactly as the kernel counts them;
 * and a skipped tcp_destroy_sock program leaves no socket in the owners
 * map (its twin forgets it). Skipped when the loop made the kernel skip
 * nothing (an emulated guest may not). */
KTEST(events_skipped_runs_counted_and_no_owner_left)
{
	/* At most 20,000 connections: each client end waits in TIME_WAIT, its
	 * port reusable after a second, and a loop faster than the 28,232
	 * ephemeral ports of the default range a second would run out. */
	enum { BATCH = 1000, MOST_BATCHES = 20 };
	const uint64_t give_up_ns = 5000000000ull;	/* of looping; then skip */
	/* Unfiltered, as the command runs by default: filtered runs end early,
	 * and are skipped less. */
	struct events_config cfg = config_for_pid(0);
	struct events_session s;
	struct collected c;
	uint64_t kernel_before, counted, kernel_after;
	uint64_t began = monotonic_ns();
	uint16_t port;
	int srv, batches = 0;

	if (!start(&s, &c, &cfg))
		return;
	srv = bound_socket(AF_INET, SOCK_STREAM, true, &port);
	/* A queue the child never lets fill: a dropped handshake waits a
	 * second or more to be sent again, time the loop would not churn. */
	listen(srv, SOMAXCONN);
	while (batches < MOST_BATCHES && monotonic_ns() - began < give_up_ns &&
	       !skipped_runs_of(getpid())) {
		if (!ASSERT_TRUE(fin_churn(srv, port, BATCH), "connect/close loop"))
			break;
		reader_poll(&s.reader, 0);	/* no record is lost to a full ring */
		batches++;
	}
	close(srv);
	kernel_before = skipped_runs_of(getpid());
	counted = reader_skipped(&s.reader);
	kernel_after = skipped_runs_of(getpid());
	printf("    %d connections: the kernel skipped %llu runs (then %llu), events counted "
	       "%llu, lost %llu\n", batches * BATCH, (unsigned long long)kernel_before,
	       (unsigned long long)kernel_after, (unsigned long long)counted,
	       (unsigned long long)reader_lost(&s.reader));
	if (!kernel_before) {
		test_skip("the kernel skipped no run of events' programs");
	} else {
		ASSERT_TRUE(kernel_before <= counted && counted <= kernel_after,
			    "skipped: the kernel's recursion_misses of the programs");
		ASSERT_TRUE(reader_lost(&s.reader) >= counted, "and lost includes them");
	}
	drain(&s);
	ASSERT_EQ(owners_left(&s), 0, "no owner of a closed socket left");
	stop(&s, &c);
}
