// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "format.h"
#include "utf8.h"

/* The len bytes of s into buf of size, cut to fit, NUL-terminated. */
static void copy_out(char *buf, size_t size, const char *s, size_t len)
{
	if (!size)
		return;
	if (len >= size)
		len = size - 1;
	memcpy(buf, s, len);
	buf[len] = '\0';
}

/* Addresses by hand: glibc's inet_ntop formats each number with sprintf,
 * most of the cost of an address at the rate `events` prints. */
static void put_ipv4(struct strbuf *sb, const uint8_t addr[4])
{
	for (int i = 0; i < 4; i++) {
		if (i)
			strbuf_lit(sb, ".");
		strbuf_uint(sb, addr[i]);
	}
}

static void put_hex16(struct strbuf *sb, unsigned value)
{
	static const char hex[] = "0123456789abcdef";
	char digits[4];
	int n = sizeof(digits);

	do {
		digits[--n] = hex[value & 15];
		value >>= 4;
	} while (value);
	strbuf_put(sb, digits + n, sizeof(digits) - n);
}

/* The first longest run of two or more zero groups, as inet_ntop picks it
 * (RFC 5952); *len 0 when there is none. */
static int longest_zero_run(const uint16_t words[8], int *len)
{
	int best = -1, best_len = 0, cur = -1;

	for (int i = 0; i <= 8; i++) {
		if (i < 8 && !words[i]) {
			if (cur < 0)
				cur = i;
		} else if (cur >= 0) {
			if (i - cur > best_len) {
				best = cur;
				best_len = i - cur;
			}
			cur = -1;
		}
	}
	*len = best_len >= 2 ? best_len : 0;
	return *len ? best : -1;
}

/* Byte for byte what glibc's inet_ntop writes, embedded IPv4 included
 * (::ffff:1.2.3.4, ::1.2.3.4). */
static void put_ipv6(struct strbuf *sb, const uint8_t addr[16])
{
	uint16_t words[8];
	int zeros, len;

	for (int i = 0; i < 8; i++)
		words[i] = addr[2 * i] << 8 | addr[2 * i + 1];
	zeros = longest_zero_run(words, &len);
	for (int i = 0; i < 8; i++) {
		if (zeros >= 0 && i >= zeros && i < zeros + len) {
			if (i == zeros)
				strbuf_lit(sb, ":");
			continue;
		}
		if (i)
			strbuf_lit(sb, ":");
		if (i == 6 && zeros == 0 && (len == 6 || (len == 5 && words[5] == 0xffff))) {
			put_ipv4(sb, addr + 12);
			return;
		}
		put_hex16(sb, words[i]);
	}
	if (zeros >= 0 && zeros + len == 8)
		strbuf_lit(sb, ":");
}

void strbuf_addr(struct strbuf *sb, uint16_t family, const uint8_t addr[16])
{
	if (family == AF_INET6)
		put_ipv6(sb, addr);
	else
		put_ipv4(sb, addr);
}

void format_addr(char *buf, size_t len, uint16_t family, const uint8_t addr[16])
{
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_addr(&sb, family, addr);
	copy_out(buf, len, sb.buf, sb.len);
}

void strbuf_endpoint(struct strbuf *sb, uint16_t family, const uint8_t addr[16], uint16_t port)
{
	if (family == AF_INET6)
		strbuf_lit(sb, "[");
	strbuf_addr(sb, family, addr);
	if (family == AF_INET6)
		strbuf_lit(sb, "]");
	strbuf_lit(sb, ":");
	strbuf_uint(sb, port);
}

void format_endpoint(char *buf, size_t len, uint16_t family, const uint8_t addr[16],
		     uint16_t port)
{
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_endpoint(&sb, family, addr, port);
	copy_out(buf, len, sb.buf, sb.len);
}

/* Indexed by the kernel's TCP state numbers, which <netinet/tcp.h> mirrors. */
static const char *const tcp_states[] = {
	[TCP_ESTABLISHED] = "ESTABLISHED",
	[TCP_SYN_SENT] = "SYN_SENT",
	[TCP_SYN_RECV] = "SYN_RECV",
	[TCP_FIN_WAIT1] = "FIN_WAIT1",
	[TCP_FIN_WAIT2] = "FIN_WAIT2",
	[TCP_TIME_WAIT] = "TIME_WAIT",
	[TCP_CLOSE] = "CLOSE",
	[TCP_CLOSE_WAIT] = "CLOSE_WAIT",
	[TCP_LAST_ACK] = "LAST_ACK",
	[TCP_LISTEN] = "LISTEN",
	[TCP_CLOSING] = "CLOSING",
	[TCP_CLOSING + 1] = "NEW_SYN_RECV",
	[TCP_CLOSING + 2] = "BOUND_INACTIVE",
};

/* names[value], or prefix and the number (in a static buffer) when the
 * table has no name for it. */
static const char *name_or_number(const char *const *names, size_t n, int value,
				  const char *prefix)
{
	static char unknown[32];

	if (value >= 0 && (size_t)value < n && names[value])
		return names[value];
	snprintf(unknown, sizeof(unknown), "%s%d", prefix, value);
	return unknown;
}

const char *tcp_state_name(int state)
{
	return name_or_number(tcp_states, sizeof(tcp_states) / sizeof(tcp_states[0]), state,
			      "STATE_");
}

const char *errno_name(long long err)
{
	static char unknown[24];
	const char *name = err > 0 && err <= INT_MAX ? strerrorname_np(err) : NULL;

	if (name)
		return name;
	snprintf(unknown, sizeof(unknown), "E%lld", err);
	return unknown;
}

const char *errno_message(long long err)
{
	const char *msg = err > 0 && err <= INT_MAX ? strerrordesc_np(err) : NULL;

	return msg ? msg : "Unknown error";
}

const char *shutdown_how_name(int how)
{
	switch (how) {
	case SHUT_RD:
		return "SHUT_RD";
	case SHUT_WR:
		return "SHUT_WR";
	case SHUT_RDWR:
		return "SHUT_RDWR";
	}
	return "SHUT_?";
}

#define FAMILY(name) [AF_##name] = "AF_" #name

static const char *const families[] = {
	FAMILY(UNSPEC), FAMILY(UNIX), FAMILY(INET), FAMILY(AX25), FAMILY(IPX),
	FAMILY(APPLETALK), FAMILY(NETROM), FAMILY(BRIDGE), FAMILY(ATMPVC), FAMILY(X25),
	FAMILY(INET6), FAMILY(ROSE), FAMILY(DECnet), FAMILY(NETBEUI), FAMILY(SECURITY),
	FAMILY(KEY), FAMILY(NETLINK), FAMILY(PACKET), FAMILY(ASH), FAMILY(ECONET),
	FAMILY(ATMSVC), FAMILY(RDS), FAMILY(SNA), FAMILY(IRDA), FAMILY(PPPOX),
	FAMILY(WANPIPE), FAMILY(LLC), FAMILY(IB), FAMILY(MPLS), FAMILY(CAN), FAMILY(TIPC),
	FAMILY(BLUETOOTH), FAMILY(IUCV), FAMILY(RXRPC), FAMILY(ISDN), FAMILY(PHONET),
	FAMILY(IEEE802154), FAMILY(CAIF), FAMILY(ALG), FAMILY(NFC), FAMILY(VSOCK),
	FAMILY(KCM), FAMILY(QIPCRTR), FAMILY(SMC), FAMILY(XDP), FAMILY(MCTP),
};

const char *family_name(int family)
{
	return name_or_number(families, sizeof(families) / sizeof(families[0]), family, "AF_");
}

#define IP_PROTOCOL(name) { IPPROTO_##name, "IPPROTO_" #name }

static const struct { int number; const char *name; } ip_protocols[] = {
	IP_PROTOCOL(IP), IP_PROTOCOL(ICMP), IP_PROTOCOL(IGMP), IP_PROTOCOL(IPIP),
	IP_PROTOCOL(TCP), IP_PROTOCOL(EGP), IP_PROTOCOL(PUP), IP_PROTOCOL(UDP),
	IP_PROTOCOL(IDP), IP_PROTOCOL(TP), IP_PROTOCOL(DCCP), IP_PROTOCOL(IPV6),
	IP_PROTOCOL(RSVP), IP_PROTOCOL(GRE), IP_PROTOCOL(ESP), IP_PROTOCOL(AH),
	IP_PROTOCOL(ICMPV6), IP_PROTOCOL(MTP), IP_PROTOCOL(BEETPH), IP_PROTOCOL(ENCAP),
	IP_PROTOCOL(PIM), IP_PROTOCOL(COMP), IP_PROTOCOL(SCTP), IP_PROTOCOL(UDPLITE),
	IP_PROTOCOL(MPLS), IP_PROTOCOL(ETHERNET), IP_PROTOCOL(RAW), IP_PROTOCOL(MPTCP),
};

const char *protocol_name(int family, int protocol)
{
	static char other[48];

	if (family == AF_UNIX)
		return "UNIX";	/* no IPPROTO_ name: UNIX sockets have protocol 0 */
	if (family != AF_INET && family != AF_INET6) {
		snprintf(other, sizeof(other), "%s:%d", family_name(family), protocol);
		return other;
	}
	for (size_t i = 0; i < sizeof(ip_protocols) / sizeof(ip_protocols[0]); i++)
		if (ip_protocols[i].number == protocol)
			return ip_protocols[i].name;
	snprintf(other, sizeof(other), "IPPROTO_%d", protocol);
	return other;
}

const char *protocol_short_name(int family, int protocol)
{
	const char *name = protocol_name(family, protocol);

	if (!strncmp(name, "IPPROTO_", 8))
		return name + 8;
	return !strncmp(name, "AF_", 3) ? name + 3 : name;
}

const char *transport_name(int protocol)
{
	switch (protocol) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case 0:
		return "";
	}
	return "other";
}

/* Events come thousands a second: the date part is formatted once per
 * second and kept. */
struct date_cache {
	time_t secs;
	char date[24];
	size_t len;
};

static void put_time(struct strbuf *sb, uint64_t realtime_ns, const char *fmt,
		     struct tm *(*convert)(const time_t *, struct tm *), struct date_cache *cache)
{
	time_t secs = realtime_ns / 1000000000ULL;
	unsigned us = realtime_ns % 1000000000ULL / 1000;
	/* By hand, not snprintf: its parsing was a tenth of `events --json`. */
	char frac[] = { '.', '0' + us / 100000, '0' + us / 10000 % 10, '0' + us / 1000 % 10,
			'0' + us / 100 % 10, '0' + us / 10 % 10, '0' + us % 10 };
	struct tm tm;

	if (secs != cache->secs || !cache->date[0]) {
		convert(&secs, &tm);
		cache->len = strftime(cache->date, sizeof(cache->date), fmt, &tm);
		cache->secs = secs;
	}
	strbuf_put(sb, cache->date, cache->len);
	strbuf_put(sb, frac, sizeof(frac));
}

void strbuf_wall_time(struct strbuf *sb, uint64_t realtime_ns)
{
	static struct date_cache cache;

	put_time(sb, realtime_ns, "%Y/%m/%d %H:%M:%S", localtime_r, &cache);
}

void format_wall_time(char *buf, size_t len, uint64_t realtime_ns)
{
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_wall_time(&sb, realtime_ns);
	copy_out(buf, len, sb.buf, sb.len);
}

void format_utc_time(char *buf, size_t len, uint64_t realtime_ns)
{
	static struct date_cache cache;
	struct strbuf sb;

	strbuf_init(&sb);
	put_time(&sb, realtime_ns, "%Y-%m-%dT%H:%M:%S", gmtime_r, &cache);
	strbuf_put(&sb, "Z", 1);
	copy_out(buf, len, sb.buf, sb.len);
}

void format_clock_time(char *buf, size_t len, uint64_t realtime_ns)
{
	time_t secs = realtime_ns / 1000000000ULL;
	struct tm tm;

	localtime_r(&secs, &tm);
	strftime(buf, len, "%H:%M:%S", &tm);
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

uint64_t monotonic_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t realtime_now_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

uint64_t monotonic_to_realtime_offset(void)
{
	return clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
}

size_t uint_digits(char digits[UINT_DIGITS], uint64_t value)
{
	int n = UINT_DIGITS;

	do {
		digits[--n] = '0' + value % 10;
		value /= 10;
	} while (value);
	return UINT_DIGITS - n;
}

void strbuf_uint(struct strbuf *sb, uint64_t value)
{
	char digits[UINT_DIGITS];
	size_t n = uint_digits(digits, value);

	strbuf_put(sb, digits + UINT_DIGITS - n, n);
}

const char *text_safe(char *buf, size_t len, const char *s)
{
	size_t used = 0, n, put_len;

	for (; *s; s += n ? n : 1) {
		const char *put = s;

		n = put_len = utf8_char_len(s);
		if (!n) {
			put = UTF8_REPLACEMENT;
			put_len = strlen(UTF8_REPLACEMENT);
		} else if (n == 1 && ((unsigned char)*s < 0x20 || *s == 0x7f)) {
			put = "?";
		}
		if (used + put_len >= len)	/* a character that does not fit is left out */
			break;
		memcpy(buf + used, put, put_len);
		used += put_len;
	}
	buf[used] = '\0';
	return buf;
}

/* The executables of the processes records name, by pid and comm (an
 * exec changes both path and name), so that a stream of records costs a
 * readlink per process, not per record; an entry older than EXE_TTL_NS is
 * read again, so a reused pid is not named after its old process for long. */
#define EXE_SLOTS 64
#define EXE_TTL_NS 10000000000ULL
static struct exe_slot {
	uint32_t pid;
	char comm[16];
	uint64_t read_ns;
	bool known;
	char path[PATH_MAX];
} exe_cache[EXE_SLOTS];

const char *process_exe(uint32_t pid, const char *comm)
{
	struct exe_slot *slot = &exe_cache[pid % EXE_SLOTS];
	uint64_t now = monotonic_now_ns();
	char link[32];
	ssize_t n;

	if (!pid)
		return NULL;
	if (slot->pid == pid && !strncmp(slot->comm, comm, sizeof(slot->comm)) &&
	    now - slot->read_ns < EXE_TTL_NS)
		return slot->known ? slot->path : NULL;
	snprintf(link, sizeof(link), "/proc/%u/exe", pid);
	n = readlink(link, slot->path, sizeof(slot->path) - 1);
	slot->known = n > 0;
	slot->path[slot->known ? n : 0] = '\0';
	slot->pid = pid;
	strncpy(slot->comm, comm, sizeof(slot->comm) - 1);
	slot->comm[sizeof(slot->comm) - 1] = '\0';
	slot->read_ns = now;
	return slot->known ? slot->path : NULL;
}

struct comm_str comm_str(const char comm[16])
{
	char raw[17] = "";
	struct comm_str c;

	memcpy(raw, comm, 16);
	text_safe(c.s, sizeof(c.s), raw);
	return c;
}
