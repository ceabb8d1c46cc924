// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the pure logic: formatting, the JSON writer, event lists. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
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

/* Every shape of zero groups (each group 0, 1, 0xffff or another value),
 * and random addresses: the hand-written IPv6 formatter writes what
 * glibc's inet_ntop writes. */
TEST(format_ipv6_as_inet_ntop)
{
	static const uint16_t groups[] = { 0, 1, 0xffff, 0x0db8 };
	char ours[ADDR_LEN], theirs[INET6_ADDRSTRLEN];
	uint8_t addr[16];
	int mismatches = 0;

	srand(23);
	for (long i = 0; i < 65536 + 20000; i++) {
		for (int g = 0; g < 8; g++) {
			uint16_t word = i < 65536 ? groups[i >> (2 * g) & 3] : rand() % 4 ? 0 : rand();

			addr[2 * g] = word >> 8;
			addr[2 * g + 1] = word & 0xff;
		}
		format_addr(ours, sizeof(ours), AF_INET6, addr);
		inet_ntop(AF_INET6, addr, theirs, sizeof(theirs));
		if (strcmp(ours, theirs) && mismatches++ < 3)
			fprintf(stderr, "    %s, inet_ntop: %s\n", ours, theirs);
	}
	ASSERT_EQ(mismatches, 0, "addresses formatted unlike inet_ntop");
}

TEST(format_tcp_states)
{
	static const struct { int state; const char *name; } states[] = {
		{ TCP_ESTABLISHED, "ESTABLISHED" }, { TCP_SYN_SENT, "SYN_SENT" },
		{ TCP_SYN_RECV, "SYN_RECV" }, { TCP_FIN_WAIT1, "FIN_WAIT1" },
		{ TCP_FIN_WAIT2, "FIN_WAIT2" }, { TCP_TIME_WAIT, "TIME_WAIT" },
		{ TCP_CLOSE, "CLOSE" }, { TCP_CLOSE_WAIT, "CLOSE_WAIT" },
		{ TCP_LAST_ACK, "LAST_ACK" }, { TCP_LISTEN, "LISTEN" },
		{ TCP_CLOSING, "CLOSING" }, { 12, "NEW_SYN_RECV" },
		{ 13, "BOUND_INACTIVE" }, { 0, "STATE_0" }, { 200, "STATE_200" },
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
		{ AF_UNIX, 0, "UNIX", "UNIX" },
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

/* What the writer makes of fn's fields, as one string (caller frees). */
static char *json_line(void (*fn)(struct json *j, const void *arg), const void *arg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct json j;

	json_begin(&j, f);
	fn(&j, arg);
	json_end(&j);
	fclose(f);
	return text;
}

static void one_string(struct json *j, const void *arg)
{
	json_str(j, "s", arg);
}

static void one_int_min(struct json *j, const void *arg)
{
	json_int(j, "n", INT64_MIN);
}

/* JSON of the string s: the line's value, without {"s": and }\n. */
#define ASSERT_JSON_STR(s, want, what)                                        \
	do {                                                                  \
		char *line_ = json_line(one_string, s);                       \
		ASSERT_STR_EQ(line_, "{\"s\":\"" want "\"}\n", what);         \
		free(line_);                                                  \
	} while (0)

TEST(json_writer_escapes)
{
	static const uint64_t counts[] = { 1, 0, 7 };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct json j;

	json_begin(&j, f);
	json_str(&j, "comm", "a\"b\\c\n\x01\x7f");
	json_int(&j, "result", -111);
	json_uint(&j, "cookie", 18446744073709551615ULL);
	json_bool(&j, "ok", true);
	json_null(&j, "none");
	json_str_or_null(&j, "error", NULL);
	json_object_begin(&j, "o");
	json_uint_array(&j, "counts", counts, 3);
	json_object_end(&j);
	json_uint(&j, "after", 1);
	json_end(&j);
	fclose(f);
	ASSERT_STR_EQ(text, "{\"comm\":\"a\\\"b\\\\c\\u000a\\u0001\\u007f\",\"result\":-111,"
		      "\"cookie\":18446744073709551615,\"ok\":true,\"none\":null,\"error\":null,"
		      "\"o\":{\"counts\":[1,0,7]},\"after\":1}\n", "one escaped line");
	free(text);
}

TEST(json_writer_utf8)
{
	ASSERT_JSON_STR("caf\xc3\xa9-\xe2\x9c\x93", "caf\xc3\xa9-\xe2\x9c\x93",
			"valid UTF-8 passes through");
	ASSERT_JSON_STR("\xf0\x9f\x90\x9f!", "\xf0\x9f\x90\x9f!", "four bytes, as they are");
	ASSERT_JSON_STR("\xff\xfe\x01" "ab", "\xef\xbf\xbd\xef\xbf\xbd\\u0001ab",
			"each invalid byte U+FFFD, a control character escaped");
	ASSERT_JSON_STR("a\xc3", "a\xef\xbf\xbd", "a sequence cut by the end");
	ASSERT_JSON_STR("\xe2\x9c" "x", "\xef\xbf\xbd\xef\xbf\xbdx",
			"a cut sequence: each of its bytes starts no character");
	ASSERT_JSON_STR("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd", "an overlong form");
	ASSERT_JSON_STR("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "a surrogate");
	ASSERT_JSON_STR("\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
			"past U+10FFFF");
	ASSERT_JSON_STR("\x80" "\"", "\xef\xbf\xbd\\\"", "a stray continuation byte, a quote");
	ASSERT_JSON_STR("", "", "empty");
}

/* A record is built in a buffer and written at its end: one longer than
 * the buffer (an HTTP payload of escapes) comes out whole and in order. */
TEST(json_writer_record_longer_than_its_buffer)
{
	static char value[3 * sizeof(((struct json *)0)->buf)];
	static char want[sizeof(value) / 3 * 13 + 16];	/* 13 bytes of JSON per 3 */
	size_t at = 0;
	char *line;

	for (size_t i = 0; i + 3 < sizeof(value); i += 3)
		memcpy(value + i, "a\n\x01", 3);
	at += sprintf(want + at, "{\"s\":\"");
	for (size_t i = 0; i + 3 < sizeof(value); i += 3)
		at += sprintf(want + at, "a\\u000a\\u0001");
	sprintf(want + at, "\"}\n");
	line = json_line(one_string, value);
	ASSERT_STR_EQ(line, want, "the whole line");
	free(line);
	line = json_line(one_int_min, NULL);
	ASSERT_STR_EQ(line, "{\"n\":-9223372036854775808}\n", "the smallest int64");
	free(line);
}

static void shared_parts(struct json *j, const void *arg)
{
	static const uint64_t slots[] = { 0, 2, 0, 3, 0, 0 };
	uint8_t local[16] = { 127, 0, 0, 1 }, remote[16] = {};

	(void)arg;
	remote[15] = 1;
	/* Above the kernel's largest pid: no executable to name. */
	json_process(j, 4194305, -1, "a");
	json_process(j, 4194305, 4194306, "b");
	json_endpoint(j, AF_INET, local, 80, local, 5000);
	json_endpoint(j, AF_INET6, NULL, 0, remote, 53);
	json_outcome(j, 0);
	json_outcome(j, ECONNREFUSED);
	json_hist(j, slots, sizeof(slots) / sizeof(slots[0]));
}

TEST(json_shared_parts)
{
	char *line = json_line(shared_parts, NULL);

	ASSERT_STR_EQ(line, "{\"pid\":4194305,\"comm\":\"a\",\"exe\":null,\"pid\":4194305,"
		      "\"tid\":4194306,\"comm\":\"b\",\"exe\":null,"
		      "\"family\":4,\"laddr\":\"127.0.0.1\",\"lport\":80,\"raddr\":\"127.0.0.1\","
		      "\"rport\":5000,\"family\":6,\"laddr\":null,\"lport\":0,\"raddr\":\"::1\","
		      "\"rport\":53,\"error\":null,\"errno\":0,\"error\":\"ECONNREFUSED\","
		      "\"errno\":111,\"unit\":\"us\",\"total\":5,\"counts\":[0,2,0,3]}\n",
		      "process, endpoint, outcome, histogram");
	free(line);
}

/* text_safe() of s into a buffer of len bytes. */
#define ASSERT_TEXT(s, len, want, what)                                       \
	do {                                                                  \
		char buf_[len];                                               \
		ASSERT_STR_EQ(text_safe(buf_, sizeof(buf_), s), want, what);  \
	} while (0)

TEST(text_of_host_strings)
{
	struct comm_str c;

	ASSERT_TEXT("caf\xc3\xa9-\xe2\x9c\x93", 64, "caf\xc3\xa9-\xe2\x9c\x93", "valid UTF-8 as is");
	ASSERT_TEXT("\xff\xfe\x01" "ab\x1b[2J\x7f", 64, "\xef\xbf\xbd\xef\xbf\xbd?ab?[2J?",
		    "invalid bytes U+FFFD, control characters ?");
	ASSERT_TEXT("ab\xe2\x9c\x93", 5, "ab", "a character that does not fit is left out");
	ASSERT_TEXT("abcdef", 4, "abc", "cut to the buffer");
	c = comm_str("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff");
	ASSERT_EQ(strlen(c.s), 16 * 3, "16 invalid bytes, no NUL: 16 U+FFFD");
	c = comm_str("sockeye-tests\0zz");
	ASSERT_STR_EQ(c.s, "sockeye-tests", "ends at the NUL");
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
	const char *empty = "", *name = "sshd";
	struct strbuf sb = {};

	strbuf_lit(&sb, "pid=");
	strbuf_str(&sb, empty);
	strbuf_uint(&sb, 0);
	strbuf_lit(&sb, " max=");
	strbuf_uint(&sb, 18446744073709551615ULL);
	strbuf_lit(&sb, " ");
	strbuf_str(&sb, name);
	ASSERT_EQ(sb.len, strlen("pid=0 max=18446744073709551615 sshd"), "length");
	ASSERT_TRUE(!memcmp(sb.buf, "pid=0 max=18446744073709551615 sshd", sb.len), "content");
	for (int i = 0; i < 50; i++) {
		strbuf_lit(&sb, "0123456789");
		strbuf_str(&sb, name);
	}
	ASSERT_EQ(sb.len, sizeof(sb.buf), "cut at the buffer's size");
	/* 35 + 34 * 14 bytes, then the first of the next piece. */
	ASSERT_TRUE(!memcmp(sb.buf + sizeof(sb.buf) - 5, "sshd0", 5), "the last piece cut");
}
