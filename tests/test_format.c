// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the pure logic: formatting, the JSON writer, event lists. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include "test.h"
#include "format.h"
#include "json.h"
#include "events_session.h"

static void endpoint(char *buf, int family, const char *text, uint16_t port)
{
	uint8_t addr[16] = {};

	inet_pton(family, text, addr);
	format_endpoint(buf, ENDPOINT_LEN, family, addr, port);
}

TEST(format_endpoints)
{
	char buf[ENDPOINT_LEN];

	endpoint(buf, AF_INET, "127.0.0.1", 80);
	ASSERT_STR_EQ(buf, "127.0.0.1:80", "IPv4");
	endpoint(buf, AF_INET, "255.255.255.255", 65535);
	ASSERT_STR_EQ(buf, "255.255.255.255:65535", "IPv4, highest port");
	endpoint(buf, AF_INET, "10.0.0.1", 47873);
	ASSERT_STR_EQ(buf, "10.0.0.1:47873", "port above 32767 stays unsigned");
	endpoint(buf, AF_INET6, "::1", 443);
	ASSERT_STR_EQ(buf, "[::1]:443", "IPv6 in brackets");
	endpoint(buf, AF_INET6, "2001:db8::ff00:42:8329", 40000);
	ASSERT_STR_EQ(buf, "[2001:db8::ff00:42:8329]:40000", "IPv6, compressed");
	endpoint(buf, AF_INET6, "::ffff:127.0.0.1", 8080);
	ASSERT_STR_EQ(buf, "[::ffff:127.0.0.1]:8080", "IPv4-mapped keeps its IPv6 form");
	endpoint(buf, AF_INET6, "::", 0);
	ASSERT_STR_EQ(buf, "[::]:0", "unspecified");
}

TEST(format_tcp_states)
{
	static const struct { int state; const char *name; } states[] = {
		{ TCP_ESTABLISHED, "TCP_ESTABLISHED" }, { TCP_SYN_SENT, "TCP_SYN_SENT" },
		{ TCP_SYN_RECV, "TCP_SYN_RECV" }, { TCP_FIN_WAIT1, "TCP_FIN_WAIT1" },
		{ TCP_FIN_WAIT2, "TCP_FIN_WAIT2" }, { TCP_TIME_WAIT, "TCP_TIME_WAIT" },
		{ TCP_CLOSE, "TCP_CLOSE" }, { TCP_CLOSE_WAIT, "TCP_CLOSE_WAIT" },
		{ TCP_LAST_ACK, "TCP_LAST_ACK" }, { TCP_LISTEN, "TCP_LISTEN" },
		{ TCP_CLOSING, "TCP_CLOSING" }, { 12, "TCP_NEW_SYN_RECV" },
		{ 13, "TCP_BOUND_INACTIVE" }, { 0, "TCP_STATE_0" }, { 200, "TCP_STATE_200" },
	};

	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		ASSERT_STR_EQ(tcp_state_name(states[i].state), states[i].name, "state name");
}

TEST(format_errnos)
{
	ASSERT_STR_EQ(errno_name(ECONNREFUSED), "ECONNREFUSED", "name");
	ASSERT_STR_EQ(errno_message(ECONNREFUSED), "Connection refused", "message");
	ASSERT_STR_EQ(errno_name(ECONNRESET), "ECONNRESET", "name");
	ASSERT_STR_EQ(errno_name(ETIMEDOUT), "ETIMEDOUT", "name");
	ASSERT_STR_EQ(errno_name(EPIPE), "EPIPE", "name");
	ASSERT_STR_EQ(errno_name(4000), "E4000", "unknown number");
	ASSERT_STR_EQ(errno_message(4000), "Unknown error", "unknown message");
	ASSERT_STR_EQ(shutdown_how_name(1), "SHUT_WR", "shutdown how");
}

TEST(format_families_and_protocols)
{
	static const struct { int family; const char *name; } families[] = {
		{ AF_UNIX, "AF_UNIX" }, { AF_INET, "AF_INET" }, { AF_INET6, "AF_INET6" },
		{ AF_NETLINK, "AF_NETLINK" }, { AF_PACKET, "AF_PACKET" }, { AF_VSOCK, "AF_VSOCK" },
		{ AF_MCTP, "AF_MCTP" }, { 0, "AF_UNSPEC" }, { 46, "AF_46" }, { -1, "AF_-1" },
	};
	static const struct { int family, protocol; const char *name, *short_name; } protos[] = {
		{ AF_INET, IPPROTO_TCP, "IPPROTO_TCP", "TCP" },
		{ AF_INET6, IPPROTO_UDP, "IPPROTO_UDP", "UDP" },
		{ AF_INET, IPPROTO_ICMP, "IPPROTO_ICMP", "ICMP" },
		{ AF_INET6, IPPROTO_MPTCP, "IPPROTO_MPTCP", "MPTCP" },
		{ AF_INET, 0, "IPPROTO_IP", "IP" },
		{ AF_INET, 253, "IPPROTO_253", "253" },
		{ AF_UNIX, 0, "IPPROTO_UNIX", "UNIX" },
		{ AF_NETLINK, 0, "AF_NETLINK:0", "NETLINK:0" },
		{ 99, 3, "AF_99:3", "99:3" },
	};

	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		ASSERT_STR_EQ(family_name(families[i].family), families[i].name, "family name");
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		ASSERT_STR_EQ(protocol_name(protos[i].family, protos[i].protocol), protos[i].name,
			      "protocol name");
		ASSERT_STR_EQ(protocol_short_name(protos[i].family, protos[i].protocol),
			      protos[i].short_name, "short name");
	}
}

TEST(format_times)
{
	char buf[TIME_LEN];

	/* 2023-12-29 17:50:42.000123 UTC */
	format_utc_time(buf, sizeof(buf), 1703872242000123456ULL);
	ASSERT_STR_EQ(buf, "2023-12-29T17:50:42.000123Z", "UTC time with microseconds");
	setenv("TZ", "UTC", 1);
	format_wall_time(buf, sizeof(buf), 1703872242000123456ULL);
	ASSERT_STR_EQ(buf, "2023/12/29 17:50:42.000123", "wall time in the seed's layout");
	format_clock_time(buf, sizeof(buf), 1703872242999999999ULL);
	ASSERT_STR_EQ(buf, "17:50:42", "time of day");
}

TEST(json_writer_escapes)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct json j;

	json_begin(&j, f);
	json_str(&j, "comm", "a\"b\\c\n\x01\xff");
	json_int(&j, "result", -111);
	json_uint(&j, "cookie", 18446744073709551615ULL);
	json_bool(&j, "ok", true);
	json_seconds(&j, "interval_s", 1002999999);
	json_end(&j);
	fclose(f);
	ASSERT_STR_EQ(text, "{\"comm\":\"a\\\"b\\\\c\\u000a\\u0001\\u00ff\",\"result\":-111,"
		      "\"cookie\":18446744073709551615,\"ok\":true,\"interval_s\":1.002}\n",
		      "one escaped line");
	free(text);
}

TEST(event_lists)
{
	char bad[32] = "";

	ASSERT_EQ(parse_event_list("connect,close", bad, sizeof(bad)),
		  EV_BIT(EV_CONNECT) | EV_BIT(EV_CLOSE), "two events");
	ASSERT_EQ(parse_event_list("reset-sent", bad, sizeof(bad)), EV_BIT(EV_RESET_SENT), "one");
	ASSERT_EQ(parse_event_list("connect,bogus", bad, sizeof(bad)), 0, "unknown name");
	ASSERT_STR_EQ(bad, "bogus", "the unknown name is named");
	bad[0] = '\0';
	ASSERT_EQ(parse_event_list(",", bad, sizeof(bad)), 0, "empty list");
	for (int kind = 0; kind < EV_KIND_COUNT; kind++)
		ASSERT_EQ(parse_event_list(event_kind_name(kind), bad, sizeof(bad)), EV_BIT(kind),
			  event_kind_name(kind));
}

TEST(strbuf_appends_and_cuts)
{
	struct strbuf sb = {};

	strbuf_add(&sb, "pid=", "");
	strbuf_uint(&sb, 0);
	strbuf_add(&sb, " max=");
	strbuf_uint(&sb, 18446744073709551615ULL);
	ASSERT_EQ(sb.len, strlen("pid=0 max=18446744073709551615"), "length");
	ASSERT_TRUE(!memcmp(sb.buf, "pid=0 max=18446744073709551615", sb.len), "content");
	for (int i = 0; i < 100; i++)
		strbuf_add(&sb, "0123456789");
	ASSERT_EQ(sb.len, sizeof(sb.buf), "cut at the buffer's size");
}
