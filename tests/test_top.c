// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye top`'s counters against real traffic: a child with a known pid
 * sends known byte counts over TCP and UDP, IPv4 and IPv6, receives them
 * itself, and exits; its row must hold exactly those bytes, split by
 * protocol and family, after it is gone. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <stdlib.h>
#include <unistd.h>
#include "test.h"
#include "helpers.h"
#include "top_session.h"

static const size_t tcp_bytes[2] = { 300000, 123457 };	/* IPv4, IPv6 */
static const int udp_datagrams[2] = { 7, 5 };
#define DATAGRAM 1000

static bool tcp_transfer(int family, size_t len)
{
	int srv, cli, acc;
	uint16_t port, cport;
	bool ok;

	tcp_connection(family, &srv, &cli, &acc, &port, &cport);
	ok = send_all(cli, len) && recv_exactly(acc, len);
	close(cli);
	close(acc);
	close(srv);
	return ok;
}

static bool udp_transfer(int family, int datagrams)
{
	char buf[DATAGRAM] = { 0 };
	uint16_t port;
	int rcv = bound_socket(family, SOCK_DGRAM, false, &port);
	int snd = connect_to(family, SOCK_DGRAM, port);
	bool ok = rcv >= 0 && snd >= 0;

	for (int i = 0; ok && i < datagrams; i++)
		ok = send(snd, buf, sizeof(buf), 0) == sizeof(buf) &&
		     recv(rcv, buf, sizeof(buf), 0) == sizeof(buf);
	close(snd);
	close(rcv);
	return ok;
}

static void traffic_child(int go)
{
	char byte;

	if (read(go, &byte, 1) != 1)
		_exit(1);
	for (int v6 = 0; v6 < 2; v6++)
		if (!tcp_transfer(v6 ? AF_INET6 : AF_INET, tcp_bytes[v6]) ||
		    !udp_transfer(v6 ? AF_INET6 : AF_INET, udp_datagrams[v6]))
			_exit(1);
	_exit(0);
}

static const struct process_traffic *row_of(const struct process_traffic *rows, int n, pid_t pid)
{
	for (int i = 0; i < n; i++)
		if (rows[i].pid == (uint32_t)pid)
			return &rows[i];
	return NULL;
}

KTEST(top_counts_exact_bytes_per_process_protocol_and_family)
{
	struct sock_filters filters = {};
	struct process_traffic *rows = NULL;
	const struct process_traffic *mine;
	struct top_session s;
	int go[2], n;
	pid_t child;

	if (pipe(go))
		return;
	child = fork();
	if (child == 0)
		traffic_child(go[0]);
	if (!ASSERT_EQ(top_session_start(&s, &filters), 0, "session starts"))
		return;
	ASSERT_EQ(write(go[1], "g", 1), 1, "child told to go");
	ASSERT_EQ(wait_status(child), 0, "child's traffic went through");
	n = top_read(&s, &rows);
	mine = row_of(rows, n, child);
	if (ASSERT_TRUE(mine != NULL, "a row for the child, after it exited")) {
		const struct traffic_stats *t = &mine->stats;

		for (int dir = 0; dir < TRAFFIC_DIRS; dir++) {
			ASSERT_EQ(t->bytes[dir][SPLIT_TCP4], tcp_bytes[0], "TCP over IPv4");
			ASSERT_EQ(t->bytes[dir][SPLIT_TCP6], tcp_bytes[1], "TCP over IPv6");
			ASSERT_EQ(t->bytes[dir][SPLIT_UDP4], udp_datagrams[0] * DATAGRAM, "UDP over IPv4");
			ASSERT_EQ(t->bytes[dir][SPLIT_UDP6], udp_datagrams[1] * DATAGRAM, "UDP over IPv6");
		}
		ASSERT_STR_EQ(t->comm, "sockeye-tests", "comm");
		ASSERT_EQ(t->uid, getuid(), "uid");
	}
	ASSERT_EQ(top_lost(&s), 0, "nothing lost");
	free(rows);
	top_session_stop(&s);
	close(go[0]);
	close(go[1]);
}
