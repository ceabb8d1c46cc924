/* SPDX-License-Identifier: GPL-2.0-only */
/* Turning kernel values into what people read: addresses, ports, TCP
 * states, errno names, times. Pure functions, unit-tested without root. */
#ifndef SOCKEYE_FORMAT_H
#define SOCKEYE_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Longest "[v6addr]:port" plus NUL. */
#define ENDPOINT_LEN 56
#define ADDR_LEN 46
#define TIME_LEN 32

/* addr is in network order, IPv4 in its first 4 bytes. IPv4-mapped IPv6
 * addresses keep their IPv6 form (::ffff:a.b.c.d): the socket is IPv6. */
void format_addr(char *buf, size_t len, uint16_t family, const uint8_t addr[16]);
/* "1.2.3.4:80" or "[::1]:80". */
void format_endpoint(char *buf, size_t len, uint16_t family, const uint8_t addr[16],
		     uint16_t port);
/* The kernel's name without TCP_: "ESTABLISHED", "SYN_SENT", "CLOSE", the
 * one spelling of text, JSON and metrics; "STATE_<n>" for a number the
 * table lacks. */
const char *tcp_state_name(int state);
/* "ECONNREFUSED" and "Connection refused" for 111 (errno, positive);
 * "E<n>" and "Unknown error" for others. Wide enough for the negation of
 * any int result: -INT_MIN does not fit an int. */
const char *errno_name(long long err);
const char *errno_message(long long err);
const char *shutdown_how_name(int how);
/* "AF_INET" for 2; "AF_<n>" for a number the table lacks. */
const char *family_name(int family);
/* The name of a socket's protocol (its sk_protocol) in its family:
 * "IPPROTO_TCP" for 6 in AF_INET or AF_INET6; "UNIX" for AF_UNIX,
 * whose sockets have protocol 0 and no IPPROTO_ name;
 * "AF_NETLINK:0" in other families, whose numbers mean other things.
 * The short name drops the prefix: "TCP", "UNIX", "NETLINK:0". Valid until
 * the next call. */
const char *protocol_name(int family, int protocol);
const char *protocol_short_name(int family, int protocol);
/* The JSON "proto" field: "tcp", "udp", "other", or "" for 0 (unknown). */
const char *transport_name(int protocol);
/* Local wall-clock time "2026/11/22 17:50:42.123456" of realtime_ns. */
void format_wall_time(char *buf, size_t len, uint64_t realtime_ns);
/* "17:50:42", local time, for tables that show the clock to the second. */
void format_clock_time(char *buf, size_t len, uint64_t realtime_ns);
/* RFC 3339 UTC with microseconds, for JSON: "2026-11-22T16:50:42.123456Z". */
void format_utc_time(char *buf, size_t len, uint64_t realtime_ns);

/* A string from the host (a process name, a path) as text to print: valid
 * UTF-8 as it is, control characters as '?', each byte that starts no valid
 * character as U+FFFD, so no name can move a terminal's cursor or garble a
 * line. buf takes 3 bytes per byte of s, and a NUL; what does not fit in
 * len is cut at a character's end. Returns buf. Every text printer of host
 * strings goes through it (JSON has its own escapes: json.h). */
const char *text_safe(char *buf, size_t len, const char *s);

/* The full path of process pid's executable, as /proc/PID/exe names it,
 * or NULL: pid 0 (no process known), or a process that ended before it
 * was read, or one the kernel does not show. Cached by pid and comm (an
 * exec changes both), for up to 10 seconds: a readlink per process, not
 * per record or row. The path is the host's bytes: print it through
 * text_safe() or JSON's escapes. */
const char *process_exe(uint32_t pid, const char *comm);

/* A record's comm (16 bytes) as text to print, through text_safe(): the
 * kernel ends it with a NUL, but a record's bytes are read as from outside. */
struct comm_str {
	char s[16 * 3 + 1];
};
struct comm_str comm_str(const char comm[16]);

/* A line built from pieces without printf; longer input is cut. */
struct strbuf {
	size_t len;
	char buf[512];
};

/* Empties sb. Only its length: zeroing the buffer of each line cost more
 * than filling it. */
static inline void strbuf_init(struct strbuf *sb)
{
	sb->len = 0;
}

/* Inline, as the two below: a line is some twenty small pieces, and a
 * call, a strlen() and a memcpy() call for each were over a third of its
 * cost; inlined, a literal's length and copy are fixed when compiling. */
static inline void strbuf_put(struct strbuf *sb, const char *s, size_t n)
{
	if (n > sizeof(sb->buf) - sb->len)
		n = sizeof(sb->buf) - sb->len;
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
}

static inline void strbuf_str(struct strbuf *sb, const char *s)
{
	strbuf_put(sb, s, strlen(s));
}

/* A string literal (only: its size is taken). */
#define strbuf_lit(sb, lit) strbuf_put(sb, "" lit, sizeof(lit) - 1)

/* Enough for the decimal digits of any uint64_t. */
#define UINT_DIGITS 20
/* Writes value's decimal digits at the end of digits; returns their count. */
size_t uint_digits(char digits[UINT_DIGITS], uint64_t value);
void strbuf_uint(struct strbuf *sb, uint64_t value);

/* format_addr(), format_endpoint() and format_wall_time() appended to sb. */
void strbuf_addr(struct strbuf *sb, uint16_t family, const uint8_t addr[16]);
void strbuf_endpoint(struct strbuf *sb, uint16_t family, const uint8_t addr[16], uint16_t port);
void strbuf_wall_time(struct strbuf *sb, uint64_t realtime_ns);

/* The offset that turns CLOCK_MONOTONIC (bpf_ktime_get_ns) into
 * CLOCK_REALTIME nanoseconds, taken once at start. */
uint64_t monotonic_to_realtime_offset(void);
/* CLOCK_REALTIME now, in nanoseconds. */
uint64_t realtime_now_ns(void);
/* CLOCK_MONOTONIC now, the clock bpf_ktime_get_ns() reads. */
uint64_t monotonic_now_ns(void);

#endif
