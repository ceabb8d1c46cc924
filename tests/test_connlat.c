// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye connlat` against real handshakes: this process connects over
 * loopback and knows its ports, its pid and how long each connect() took;
 * each record must match. Slow and failing handshakes are made with a
 * listener whose accept queue is full: the kernel drops the SYNs it gets,
 * so the client retransmits (after 1 s) or gives up. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "test.h"
#include "helpers.h"
#include "connlat_session.h"
#include "connlat.skel.h"

#define MAX_RECORDS 20000

static struct connlat_config for_this_process(void)
{
	struct connlat_config cfg = {};

	cfg.filters.pid = getpid();
	return cfg;
}

/* Handshakes over loopback are done when connect() returns. */
SESSION_FIXTURE(connlat, struct connlat_config, struct connlat_record, MAX_RECORDS)

static const struct connlat_record *record(const struct collected *c, int i)
{
	return collected_at(c, i);
}

static const struct connlat_record *find_by_sport(const struct collected *c, uint16_t sport)
{
	for (int i = 0; i < c->n; i++)
		if (record(c, i)->tuple.sport == sport)
			return record(c, i);
	return NULL;
}

/* Starts a connect to loopback port; errno tells how a blocking one ended. */
static int start_connect(int family, uint16_t port, int flags, uint64_t *took_ns)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, port, &ss);
	int fd = socket(family, SOCK_STREAM | flags, 0);
	uint64_t t0 = monotonic_ns();

	if (connect(fd, (struct sockaddr *)&ss, len) && errno != EINPROGRESS) {
		int err = errno;

		close(fd);
		errno = err;
		fd = -1;
	}
	if (took_ns)
		*took_ns = monotonic_ns() - t0;
	return fd;
}

/* Closes with a reset: 10,000 connections must not leave 10,000 TIME_WAITs. */
static void close_reset(int fd)
{
	struct linger lin = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
	close(fd);
}

/* A listener that drops every SYN: backlog 0 and one connection waiting
 * in its accept queue, returned in *queued. */
static int full_listener(uint16_t *port, int *queued)
{
	int srv = bound_socket(AF_INET, SOCK_STREAM, false, port);

	listen(srv, 0);
	*queued = start_connect(AF_INET, *port, 0, NULL);
	return srv;
}

static void check_established(const struct connlat_record *r, int family, uint16_t sport,
			      uint16_t dport, uint64_t took_ns)
{
	char comm[16] = {};
	int n = family == AF_INET ? 4 : 16;

	if (!ASSERT_TRUE(r != NULL, "a record for the connection"))
		return;
	prctl(PR_GET_NAME, comm);
	ASSERT_EQ(r->owner.pid, getpid(), "pid");
	ASSERT_EQ(r->owner.tid, gettid(), "tid");
	ASSERT_STR_EQ(r->owner.comm, comm, "comm");
	ASSERT_EQ(r->tuple.family, family, "family");
	ASSERT_TRUE(!memcmp(r->tuple.saddr, loopback_bytes(family), n), "source address");
	ASSERT_TRUE(!memcmp(r->tuple.daddr, loopback_bytes(family), n), "destination address");
	ASSERT_EQ(r->tuple.sport, sport, "local port");
	ASSERT_EQ(r->tuple.dport, dport, "remote port");
	ASSERT_TRUE(r->latency_ns > 0, "latency > 0");
	ASSERT_TRUE(r->latency_ns <= took_ns, "latency <= the time connect() took");
	ASSERT_EQ(r->established, 1, "established");
	ASSERT_EQ(r->error, 0, "no error");
}

/* Connects to a listener on port, checks the one record it gives. */
static void connect_and_check(struct connlat_session *s, struct collected *c, int family,
			      int srv, uint16_t port)
{
	uint64_t took;
	int cli = start_connect(family, port, 0, &took), acc = accept(srv, NULL, NULL);
	uint16_t sport = local_port(cli);

	drain(s);
	check_established(find_by_sport(c, sport), family, sport, port, took);
	close(cli);
	close(acc);
}

KTEST(connlat_ipv4_and_ipv6)
{
	struct connlat_config cfg = for_this_process();
	struct connlat_session s;
	struct collected c;
	uint16_t port4, port6;
	int srv4 = bound_socket(AF_INET, SOCK_STREAM, true, &port4);
	int srv6 = bound_socket(AF_INET6, SOCK_STREAM, true, &port6);

	if (!start(&s, &c, &cfg))
		return;
	for (int i = 0; i < 3; i++)
		connect_and_check(&s, &c, AF_INET, srv4, port4);
	for (int i = 0; i < 2; i++)
		connect_and_check(&s, &c, AF_INET6, srv6, port6);
	ASSERT_EQ(c.n, 5, "one record per connection, no more");
	stop(&s, &c);
	close(srv4);
	close(srv6);
}

/* 443 is where the seed printed 47873 (the port in network order). */
static int listener_on(uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(AF_INET, port, &ss);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 16)) {
		close(fd);
		return -1;
	}
	return fd;
}

KTEST(connlat_ports_443_and_above_32767)
{
	struct connlat_config cfg = for_this_process();
	struct connlat_session s;
	struct collected c;
	int https = listener_on(443), high;
	uint16_t high_port;

	if (https < 0) {
		test_skip("127.0.0.1:443 is taken on this host");
		return;
	}
	do	/* the ephemeral range starts at 32768 by default, but may not */
		high = bound_socket(AF_INET, SOCK_STREAM, true, &high_port);
	while (high_port <= 32767 && close(high) == 0);
	if (!start(&s, &c, &cfg))
		return;
	connect_and_check(&s, &c, AF_INET, https, 443);
	connect_and_check(&s, &c, AF_INET, high, high_port);
	stop(&s, &c);
	close(https);
	close(high);
}

/* Waits for a non-blocking connect to end; returns its error (0: connected). */
static int finish_connect(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = ETIMEDOUT;

	if (poll(&p, 1, timeout_ms) == 1)
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	return err;
}

KTEST(connlat_min_us_leaves_out_faster_handshakes)
{
	struct connlat_config cfg = for_this_process();
	struct connlat_session s;
	struct collected c;
	uint16_t full_port, port;
	int queued, full = full_listener(&full_port, &queued);
	int srv = bound_socket(AF_INET, SOCK_STREAM, true, &port), slow, fd;
	uint64_t t0, took;

	cfg.min_us = 300000;
	if (!start(&s, &c, &cfg))
		return;
	for (int i = 0; i < 3; i++) {	/* fast: microseconds */
		fd = start_connect(AF_INET, port, 0, NULL);
		close(fd);
		close(accept(srv, NULL, NULL));
	}
	t0 = monotonic_ns();
	slow = start_connect(AF_INET, full_port, SOCK_NONBLOCK, NULL);
	sleep_ms(100);
	close(accept(full, NULL, NULL));	/* room for the retransmitted SYN */
	ASSERT_EQ(finish_connect(slow, 5000), 0, "the slow connection opens");
	took = monotonic_ns() - t0;
	drain(&s);
	if (ASSERT_EQ(c.n, 1, "only the slow handshake")) {
		ASSERT_EQ(record(&c, 0)->tuple.sport, local_port(slow), "it is the slow one");
		ASSERT_TRUE(record(&c, 0)->latency_ns >= 300000000ULL, "at least --min-us");
		ASSERT_TRUE(record(&c, 0)->latency_ns <= took, "no longer than it took");
	}
	stop(&s, &c);
	close(slow);
	close(queued);
	close(full);
	close(srv);
}

KTEST(connlat_pid_filter_leaves_out_other_processes)
{
	struct connlat_config cfg = for_this_process();
	struct connlat_session s;
	struct collected c;
	uint16_t port;
	int srv = bound_socket(AF_INET, SOCK_STREAM, true, &port);
	pid_t child;

	if (!start(&s, &c, &cfg))
		return;
	child = fork();
	if (child == 0) {
		close(start_connect(AF_INET, port, 0, NULL));
		_exit(0);
	}
	ASSERT_EQ(wait_status(child), 0, "the other process connected");
	close(accept(srv, NULL, NULL));
	connect_and_check(&s, &c, AF_INET, srv, port);
	ASSERT_EQ(c.n, 1, "only this process's connection");
	stop(&s, &c);
	close(srv);
}

struct failures {
	uint16_t refused_port, aborted_sport, timeout_sport, full_port;
	uint64_t refused_took, timeout_took;
};

/* A blocking connect that sends one SYN, retransmits it once and gives up
 * (about 3 s); returns the socket. */
static int connect_giving_up(uint16_t port, uint64_t *took_ns)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(AF_INET, port, &ss);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	uint64_t t0 = monotonic_ns();

	setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &one, sizeof(one));
	ASSERT_EQ(connect(fd, (struct sockaddr *)&ss, len), -1, "the connect gives up");
	ASSERT_EQ(errno, ETIMEDOUT, "timed out");
	*took_ns = monotonic_ns() - t0;
	return fd;
}

/* A refused connect (nothing listens), one closed before an answer, one
 * that times out. */
static void fail_three_ways(struct failures *f)
{
	int closed = bound_socket(AF_INET, SOCK_STREAM, false, &f->refused_port);
	int queued, full = full_listener(&f->full_port, &queued), fd;

	ASSERT_EQ(start_connect(AF_INET, f->refused_port, 0, &f->refused_took), -1, "refused");
	fd = start_connect(AF_INET, f->full_port, SOCK_NONBLOCK, NULL);
	f->aborted_sport = local_port(fd);
	close(fd);
	fd = connect_giving_up(f->full_port, &f->timeout_took);
	f->timeout_sport = local_port(fd);
	close(fd);
	close(queued);
	close(full);
	close(closed);
}

static int count_result(const struct collected *c, const char *result)
{
	int n = 0;

	for (int i = 0; i < c->n; i++)
		n += !strcmp(handshake_result(record(c, i)), result);
	return n;
}

static const struct connlat_record *find_by_dport_result(const struct collected *c,
							 uint16_t dport, const char *result)
{
	for (int i = 0; i < c->n; i++)
		if (record(c, i)->tuple.dport == dport &&
		    !strcmp(handshake_result(record(c, i)), result))
			return record(c, i);
	return NULL;
}

KTEST(connlat_failed_handshakes_with_reason)
{
	struct connlat_config cfg = for_this_process(), cfg_failed = for_this_process();
	struct connlat_session s, sf;
	struct collected c, cf;
	const struct connlat_record *r;
	struct failures f = {};

	cfg_failed.failed = true;
	if (!start(&s, &c, &cfg) || !start(&sf, &cf, &cfg_failed))
		return;
	fail_three_ways(&f);
	drain(&s);
	drain(&sf);
	/* The connection that fills the full listener's queue does open. */
	ASSERT_EQ(c.n - count_result(&c, "ok"), 0, "without --failed, failures are not reported");
	r = find_by_dport_result(&cf, f.refused_port, "refused");
	if (ASSERT_TRUE(r != NULL, "the refused connect")) {
		ASSERT_EQ(r->error, ECONNREFUSED, "errno");
		ASSERT_EQ(r->icmp, 0, "an RST, no ICMP error");
		ASSERT_TRUE(r->latency_ns > 0 && r->latency_ns <= f.refused_took, "its duration");
		ASSERT_EQ(r->owner.pid, getpid(), "pid");
	}
	r = find_by_dport_result(&cf, f.full_port, "aborted");
	if (ASSERT_TRUE(r != NULL, "the connect closed before an answer"))
		ASSERT_EQ(r->tuple.sport, f.aborted_sport, "its local port");
	r = find_by_dport_result(&cf, f.full_port, "timed out");
	if (ASSERT_TRUE(r != NULL, "the connect that timed out")) {
		ASSERT_EQ(r->error, ETIMEDOUT, "errno");
		ASSERT_EQ(r->tuple.sport, f.timeout_sport, "its local port");
		ASSERT_TRUE(r->latency_ns >= 2000000000ULL && r->latency_ns <= f.timeout_took,
			    "it took the two SYNs' timeouts");
	}
	stop(&s, &c);
	stop(&sf, &cf);
}

/* Runs cmd with /bin/sh; true when it exits 0. */
static bool sh(const char *cmd)
{
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
	char out[256], err[256];

	return run_capture(argv, out, sizeof(out), err, sizeof(err)) == 0;
}

/* In a network namespace of its own whose firewall answers SYNs to port
 * with an ICMP port unreachable, connects there from this thread; returns
 * the connect's errno. */
static int connect_to_rejecting_port(const char *ns, uint16_t port)
{
	char cmd[256], path[128];
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), there, fd, err = 0;

	snprintf(cmd, sizeof(cmd), "ip netns add %s && ip netns exec %s ip link set lo up && "
		 "ip netns exec %s iptables -A INPUT -p tcp --dport %u -j REJECT "
		 "--reject-with icmp-port-unreachable", ns, ns, ns, port);
	snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
	if (!ASSERT_TRUE(sh(cmd), "namespace with a REJECT rule") ||
	    (there = open(path, O_RDONLY | O_CLOEXEC)) < 0 || setns(there, CLONE_NEWNET))
		return 0;
	close(there);
	fd = start_connect(AF_INET, port, 0, NULL);
	err = errno;
	if (fd >= 0)
		close(fd);
	ASSERT_EQ(setns(home, CLONE_NEWNET), 0, "back home");
	close(home);
	return err;
}

/* A SYN answered by an ICMP port unreachable fails with ECONNREFUSED, as an
 * RST does, but no peer refused it: connlat says unreachable. */
KTEST(connlat_icmp_port_unreachable_is_unreachable)
{
	struct connlat_config cfg = for_this_process();
	const struct connlat_record *r;
	struct connlat_session s;
	struct collected c;
	uint16_t port = 40000 + getpid() % 20000;	/* a namespace of its own */
	char ns[32], cmd[64];

	cfg.failed = true;
	snprintf(ns, sizeof(ns), "sct-icmp-%d", getpid());
	if (!start(&s, &c, &cfg))
		return;
	ASSERT_EQ(connect_to_rejecting_port(ns, port), ECONNREFUSED, "connect refused");
	drain(&s);
	r = find_by_dport_result(&c, port, "unreachable");
	if (ASSERT_TRUE(r != NULL, "the handshake, unreachable")) {
		ASSERT_EQ(r->error, ECONNREFUSED, "the errno connect() returned");
		ASSERT_EQ(r->icmp, 1, "an ICMP error");
		ASSERT_EQ(r->owner.pid, getpid(), "pid");
	}
	ASSERT_TRUE(find_by_dport_result(&c, port, "refused") == NULL, "not called refused");
	stop(&s, &c);
	snprintf(cmd, sizeof(cmd), "ip netns del %s", ns);
	sh(cmd);
}

KTEST(connlat_histogram_counts_every_handshake)
{
	struct connlat_config cfg = for_this_process();
	uint64_t slots[CONNLAT_SLOTS], total = 0;
	struct connlat_session s;
	struct collected c;
	uint16_t port, refused_port;
	int srv = bound_socket(AF_INET6, SOCK_STREAM, true, &port);
	int closed = bound_socket(AF_INET, SOCK_STREAM, false, &refused_port);

	cfg.hist = true;
	if (!start(&s, &c, &cfg))
		return;
	for (int i = 0; i < 25; i++) {
		close(start_connect(AF_INET6, port, 0, NULL));
		close(accept(srv, NULL, NULL));
	}
	start_connect(AF_INET, refused_port, 0, NULL);	/* not a completed handshake */
	drain(&s);
	ASSERT_EQ(connlat_hist(&s, slots), 0, "histogram read");
	for (int i = 0; i < CONNLAT_SLOTS; i++)
		total += slots[i];
	ASSERT_EQ(total, 25, "one count per connection made");
	ASSERT_EQ(c.n, 0, "no records one by one");
	stop(&s, &c);
	close(srv);
	close(closed);
}

static int map_entries(int fd)
{
	uint64_t key, next;
	int n = 0;

	for (void *prev = NULL; !bpf_map_get_next_key(fd, prev, &next); prev = &key, key = next)
		n++;
	return n;
}

/* The agent's counts of the loop below: every connection opened and
 * closed in both directions, each completed handshake timed (the others
 * went to ports its filter leaves out). */
static void check_agent_counts(const struct connlat_session *s)
{
	uint64_t counts[CONN_COUNTERS], slots[CONNLAT_SLOTS], timed = 0;

	ASSERT_EQ(connlat_connections(s, counts), 0, "connections read");
	ASSERT_EQ(counts[CONN_OPENED_ACTIVE], 3334, "opened, active");
	ASSERT_EQ(counts[CONN_OPENED_PASSIVE], 3334, "opened, passive");
	ASSERT_EQ(counts[CONN_CLOSED_ACTIVE], 3334, "closed, active");
	ASSERT_EQ(counts[CONN_CLOSED_PASSIVE], 3334, "closed, passive");
	ASSERT_EQ(counts[CONN_UNCOUNTED], 0, "none uncounted");
	ASSERT_EQ(connlat_hist(s, slots), 0, "histogram read");
	for (int i = 0; i < CONNLAT_SLOTS; i++)
		timed += slots[i];
	ASSERT_EQ(timed, 3334, "completed");
}

/* Every way out of SYN_SENT removes the start time: 10,000 handshakes
 * that complete, are refused or are abandoned leave the map empty. The
 * agent keeps an opened connection's entry until it closes: with its
 * port filter (its only ones) only this test's connections count, and
 * they leave the map empty too once closed. */
static void check_pending_empties(bool agent)
{
	struct connlat_config cfg = for_this_process();
	struct connlat_session s;
	struct collected c;
	uint16_t port, refused_port, full_port;
	int srv = bound_socket(AF_INET, SOCK_STREAM, true, &port);
	int closed = bound_socket(AF_INET, SOCK_STREAM, false, &refused_port);
	int queued, full = full_listener(&full_port, &queued);

	cfg.failed = true;
	cfg.hist = cfg.agent = agent;
	if (agent)
		cfg.filters.port = port;
	if (!start(&s, &c, &cfg))
		return;
	for (int i = 0; i < 10000; i++) {
		if (i % 3 == 0) {
			close_reset(start_connect(AF_INET, port, 0, NULL));
			close(accept(srv, NULL, NULL));
		} else if (i % 3 == 1) {
			start_connect(AF_INET, refused_port, 0, NULL);
		} else {
			close(start_connect(AF_INET, full_port, SOCK_NONBLOCK, NULL));
		}
		if (i % 1000 == 999)
			reader_poll(&s.reader, 0);
	}
	drain(&s);
	ASSERT_EQ(map_entries(bpf_map__fd(s.skel->maps.pending)), 0, "no handshake left pending");
	ASSERT_EQ(connlat_untimed(&s), 0, "none untimed");
	if (agent) {
		check_agent_counts(&s);
	} else {
		ASSERT_EQ(count_result(&c, "ok"), 3334, "completed");
		ASSERT_EQ(count_result(&c, "refused"), 3333, "refused");
		ASSERT_EQ(count_result(&c, "aborted"), 3333, "abandoned");
	}
	stop(&s, &c);
	close(srv);
	close(closed);
	close(queued);
	close(full);
}

KTEST(connlat_pending_map_empties_after_10000_connections)
{
	check_pending_empties(false);
}

KTEST(connlat_agent_map_empties_after_10000_connections)
{
	check_pending_empties(true);
}

/* ---- the command's output ---- */

struct one_connection {
	uint16_t port, sport;
};

static void connect_once(void *ctx)
{
	struct one_connection *oc = ctx;
	int srv = bound_socket(AF_INET, SOCK_STREAM, true, &oc->port);
	int cli = start_connect(AF_INET, oc->port, 0, NULL);

	oc->sport = local_port(cli);
	close(cli);
	close(accept(srv, NULL, NULL));
	close(srv);
}

KTEST(cli_connlat_text_table)
{
	struct one_connection oc;
	char out[8192], want[256], comm[16] = {};

	prctl(PR_GET_NAME, comm);
	ASSERT_EQ(sockeye_watching_me("connlat", "-4", "connlat_state", connect_once, &oc,
				      out, sizeof(out)), 0, "exit status");
	ASSERT_HAS(out, "TIME     PID     COMM             IP SADDR           LPORT DADDR           "
			"DPORT LAT(ms)\n", "the seed's header");
	/* The latency is not checked here: under emulation (the kernel matrix)
	 * a loopback handshake can take milliseconds. */
	snprintf(want, sizeof(want), " %-7d %-16s v4 127.0.0.1       %-5u 127.0.0.1       %-5u ",
		 getpid(), comm, oc.sport, oc.port);
	ASSERT_HAS(out, want, "the connection's row, ports in host order");
}

KTEST(cli_connlat_json)
{
	struct one_connection oc;
	char out[8192], want[256];

	ASSERT_EQ(sockeye_watching_me("connlat", "--json", "connlat_state", connect_once, &oc,
				      out, sizeof(out)), 0, "exit status");
	snprintf(want, sizeof(want), "\"pid\":%d,\"tid\":%d,", getpid(), getpid());
	ASSERT_HAS(out, want, "pid and tid");
	snprintf(want, sizeof(want), "\"family\":4,\"laddr\":\"127.0.0.1\",\"lport\":%u,"
		 "\"raddr\":\"127.0.0.1\",\"rport\":%u,\"latency_ns\":", oc.sport, oc.port);
	ASSERT_HAS(out, want, "addresses and ports");
	ASSERT_HAS(out, "\"error\":null,\"errno\":0}", "completed");
	ASSERT_TRUE(lost_none_at_exit(out), "lost count at exit, nothing lost");
}
