// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye soconnect` against real connect(2) calls: blocking and not,
 * refused, and in a network namespace without routes, unreachable. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <limits.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "test.h"
#include "helpers.h"
#include "probe.h"
#include "soconnect_session.h"
#include "soconnect.skel.h"

SESSION_FIXTURE(soconnect, struct sock_filters, struct soconnect_record, 1000)

struct call {
	int fd, result;
	uint16_t sport;
	uint64_t took_ns;
};

/* One connect() to addr:port of family from a new socket of type. */
static struct call call_connect(int family, int type, const void *addr, uint16_t port)
{
	struct sockaddr_storage ss = { .ss_family = family };
	struct call c = { .fd = socket(family, type, 0) };
	socklen_t len = sizeof(struct sockaddr_in);
	uint64_t t0;

	if (family == AF_INET) {
		memcpy(&((struct sockaddr_in *)&ss)->sin_addr, addr, 4);
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
	} else {
		memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, addr, 16);
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		len = sizeof(struct sockaddr_in6);
	}
	t0 = monotonic_ns();
	c.result = connect(c.fd, (struct sockaddr *)&ss, len) ? -errno : 0;
	c.took_ns = monotonic_ns() - t0;
	c.sport = local_port(c.fd);
	return c;
}

static void check(const struct collected *col, int i, const struct call *call, int family,
		  const void *addr, uint16_t port, int protocol, const char *result)
{
	const struct soconnect_record *r = collected_at(col, i);
	char comm[16] = {};

	if (!ASSERT_TRUE(i < col->n, "a record for the call"))
		return;
	prctl(PR_GET_NAME, comm);
	ASSERT_EQ(r->owner.pid, getpid(), "pid");
	ASSERT_STR_EQ(r->owner.comm, comm, "comm");
	ASSERT_EQ(r->fd, call->fd, "fd");
	ASSERT_EQ(r->family, family, "family");
	ASSERT_TRUE(!memcmp(r->daddr, addr, family == AF_INET ? 4 : 16), "address");
	ASSERT_EQ(r->dport, port, "port");
	ASSERT_EQ(r->sport, call->sport, "local port after the call");
	ASSERT_EQ(r->protocol, protocol, "protocol");
	ASSERT_EQ(r->result, call->result, "what connect() returned");
	ASSERT_STR_EQ(connect_result(r->result), result, "result in words");
	ASSERT_TRUE(r->latency_ns > 0 && r->latency_ns <= call->took_ns,
		    "0 < latency <= the time the call took");
}

KTEST(soconnect_results_of_connect_calls)
{
	struct soconnect_session s;
	struct collected c;
	struct call calls[5];
	uint16_t port, closed_port, port6;
	int srv = bound_socket(AF_INET, SOCK_STREAM, true, &port);
	int closed = bound_socket(AF_INET, SOCK_STREAM, false, &closed_port);
	int srv6 = bound_socket(AF_INET6, SOCK_STREAM, true, &port6);
	const uint8_t *lo4 = loopback_bytes(AF_INET), *lo6 = loopback_bytes(AF_INET6);

	if (!start(&s, &c, &(struct sock_filters){ .pid = getpid() }))
		return;
	calls[0] = call_connect(AF_INET, SOCK_STREAM, lo4, port);
	calls[1] = call_connect(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, lo4, port);
	calls[2] = call_connect(AF_INET, SOCK_STREAM, lo4, closed_port);
	calls[3] = call_connect(AF_INET6, SOCK_STREAM, lo6, port6);
	calls[4] = call_connect(AF_INET6, SOCK_DGRAM, lo6, 53);
	drain(&s);
	ASSERT_EQ(c.n, 5, "one record per call");
	check(&c, 0, &calls[0], AF_INET, lo4, port, IPPROTO_TCP, "Success");
	check(&c, 1, &calls[1], AF_INET, lo4, port, IPPROTO_TCP, "In progress");
	check(&c, 2, &calls[2], AF_INET, lo4, closed_port, IPPROTO_TCP, "Connection refused");
	check(&c, 3, &calls[3], AF_INET6, lo6, port6, IPPROTO_TCP, "Success");
	check(&c, 4, &calls[4], AF_INET6, lo6, 53, IPPROTO_UDP, "Success");
	stop(&s, &c);
	for (int i = 0; i < 5; i++)
		close(calls[i].fd);
	close(srv);
	close(closed);
	close(srv6);
}

/* The cgroup filter in the kernel: with the filter on a cgroup of the
 * test's own, a connect from outside it is not seen; once this process
 * moves in, its connect is, and only that one. */
KTEST(soconnect_cgroup_filter)
{
	char rel[64], abs[PATH_MAX], home[PATH_MAX];
	struct soconnect_session s;
	struct sock_filters filters = { .cgroup_level = 1 };
	struct collected c;
	struct call outside, inside;
	struct stat st;
	uint16_t port;
	int srv = bound_socket(AF_INET, SOCK_STREAM, true, &port);

	if (!cgroup2_root() || !own_cgroup(home, sizeof(home)))
		test_skip("cgroup v2 is not mounted");
	if (!ASSERT_TRUE(make_test_cgroup(rel, sizeof(rel), abs, sizeof(abs)) && !stat(abs, &st),
			 "cgroup made"))
		return;
	filters.cgroup_id = st.st_ino;
	collected_init(&c, sizeof(struct soconnect_record), 10);
	if (ASSERT_EQ(soconnect_session_start(&s, &filters, collect_record, &c), 0, "session starts")) {
		outside = call_connect(AF_INET, SOCK_STREAM, loopback_bytes(AF_INET), port);
		ASSERT_TRUE(move_to_cgroup(abs, getpid()), "moved in");
		inside = call_connect(AF_INET, SOCK_STREAM, loopback_bytes(AF_INET), port);
		ASSERT_TRUE(move_to_cgroup(home, getpid()), "moved back");
		drain(&s);
		if (ASSERT_EQ(c.n, 1, "one record"))
			check(&c, 0, &inside, AF_INET, loopback_bytes(AF_INET), port, IPPROTO_TCP,
			      "Success");
		soconnect_session_stop(&s);
		close(outside.fd);
		close(inside.fd);
	}
	collected_free(&c);
	close(srv);
	ASSERT_EQ(rmdir(abs), 0, "cgroup removed");
}

/* In a network namespace of its own, with no route at all, a child
 * connects to 10.1.2.3 and is told the network is unreachable. */
KTEST(soconnect_unreachable_network)
{
	static const uint8_t nowhere[4] = { 10, 1, 2, 3 };
	struct soconnect_session s;
	struct collected c;
	int go[2], result[2];
	struct call call;
	pid_t child;

	if (pipe(go) || pipe(result))
		return;
	child = fork();
	if (child == 0) {
		char byte;

		if (unshare(CLONE_NEWNET) || read(go[0], &byte, 1) != 1)
			_exit(1);
		call = call_connect(AF_INET, SOCK_STREAM, nowhere, 80);
		_exit(write(result[1], &call, sizeof(call)) == sizeof(call) ? 0 : 1);
	}
	if (start(&s, &c, &(struct sock_filters){ .pid = child })) {
		ASSERT_EQ(write(go[1], "g", 1), 1, "child told to go");
		ASSERT_EQ(read(result[0], &call, sizeof(call)), sizeof(call), "child's call");
		ASSERT_EQ(call.result, -ENETUNREACH, "connect() said unreachable");
		drain(&s);
		if (ASSERT_EQ(c.n, 1, "one record")) {
			const struct soconnect_record *r = collected_at(&c, 0);

			ASSERT_EQ(r->owner.pid, child, "the child's pid");
			ASSERT_TRUE(!memcmp(r->daddr, nowhere, 4), "address");
			ASSERT_EQ(r->dport, 80, "port");
			ASSERT_EQ(r->result, -ENETUNREACH, "result");
			ASSERT_STR_EQ(connect_result(r->result), "Network unreachable", "in words");
		}
		stop(&s, &c);
	}
	close(go[1]);
	ASSERT_EQ(wait_status(child), 0, "child exits cleanly");
	close(go[0]);
	close(result[0]);
	close(result[1]);
}

struct refused {
	uint16_t port;
};

static void connect_refused(void *ctx)
{
	struct refused *r = ctx;
	int closed = bound_socket(AF_INET6, SOCK_STREAM, false, &r->port);
	struct call call = call_connect(AF_INET6, SOCK_STREAM, loopback_bytes(AF_INET6), r->port);

	close(call.fd);
	close(closed);
}

KTEST(cli_soconnect_text_table)
{
	char out[8192], want[256], comm[16] = {};
	struct refused r;

	prctl(PR_GET_NAME, comm);
	ASSERT_EQ(sockeye_watching_me("soconnect", "-6", "soconnect_exit", connect_refused, &r,
				      out, sizeof(out)), 0, "exit status");
	ASSERT_HAS(out, "PID     PROCESS          FAM ADDRESS                                 PORT  "
			"LAT(us)  RESULT\n", "the seed's header");
	snprintf(want, sizeof(want), "%-7d %-16s 10  %-39s %-5u ", getpid(), comm, "::1", r.port);
	ASSERT_HAS(out, want, "the call's row");
	ASSERT_HAS(out, " Connection refused\n", "its result");
}

KTEST(cli_soconnect_json)
{
	char out[8192], want[256];
	struct refused r;

	ASSERT_EQ(sockeye_watching_me("soconnect", "--json", "soconnect_exit", connect_refused, &r,
				      out, sizeof(out)), 0, "exit status");
	snprintf(want, sizeof(want), "\"proto\":\"tcp\",\"family\":6,\"laddr\":null,\"lport\":");
	ASSERT_HAS(out, want, "no local address");
	snprintf(want, sizeof(want), "\"raddr\":\"::1\",\"rport\":%u,", r.port);
	ASSERT_HAS(out, want, "address and port");
	ASSERT_HAS(out, "\"error\":\"ECONNREFUSED\",\"errno\":111}", "refused");
}
