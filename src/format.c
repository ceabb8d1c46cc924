// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "format.h"

void format_addr(char *buf, size_t len, uint16_t family, const uint8_t addr[16])
{
	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, buf, len))
		snprintf(buf, len, "?");
}

void format_endpoint(char *buf, size_t len, uint16_t family, const uint8_t addr[16],
		     uint16_t port)
{
	char a[ADDR_LEN];

	format_addr(a, sizeof(a), family, addr);
	snprintf(buf, len, family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
}

/* Indexed by the kernel's TCP state numbers, which <netinet/tcp.h> mirrors. */
static const char *const tcp_states[] = {
	[TCP_ESTABLISHED] = "TCP_ESTABLISHED",
	[TCP_SYN_SENT] = "TCP_SYN_SENT",
	[TCP_SYN_RECV] = "TCP_SYN_RECV",
	[TCP_FIN_WAIT1] = "TCP_FIN_WAIT1",
	[TCP_FIN_WAIT2] = "TCP_FIN_WAIT2",
	[TCP_TIME_WAIT] = "TCP_TIME_WAIT",
	[TCP_CLOSE] = "TCP_CLOSE",
	[TCP_CLOSE_WAIT] = "TCP_CLOSE_WAIT",
	[TCP_LAST_ACK] = "TCP_LAST_ACK",
	[TCP_LISTEN] = "TCP_LISTEN",
	[TCP_CLOSING] = "TCP_CLOSING",
	[TCP_CLOSING + 1] = "TCP_NEW_SYN_RECV",
	[TCP_CLOSING + 2] = "TCP_BOUND_INACTIVE",
};

const char *tcp_state_name(int state)
{
	static char unknown[24];

	if (state >= 0 && state < (int)(sizeof(tcp_states) / sizeof(tcp_states[0])) &&
	    tcp_states[state])
		return tcp_states[state];
	snprintf(unknown, sizeof(unknown), "TCP_STATE_%d", state);
	return unknown;
}

const char *errno_name(int err)
{
	static char unknown[16];
	const char *name = strerrorname_np(err);

	if (name)
		return name;
	snprintf(unknown, sizeof(unknown), "E%d", err);
	return unknown;
}

const char *errno_message(int err)
{
	const char *msg = strerrordesc_np(err);

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

static void format_time(char *buf, size_t len, uint64_t realtime_ns, const char *fmt,
			const char *suffix, struct tm *(*convert)(const time_t *, struct tm *))
{
	time_t secs = realtime_ns / 1000000000ULL;
	struct tm tm;
	char date[24];

	convert(&secs, &tm);
	strftime(date, sizeof(date), fmt, &tm);
	snprintf(buf, len, "%s.%06u%s", date, (unsigned)(realtime_ns % 1000000000ULL / 1000),
		 suffix);
}

void format_wall_time(char *buf, size_t len, uint64_t realtime_ns)
{
	format_time(buf, len, realtime_ns, "%Y/%m/%d %H:%M:%S", "", localtime_r);
}

void format_utc_time(char *buf, size_t len, uint64_t realtime_ns)
{
	format_time(buf, len, realtime_ns, "%Y-%m-%dT%H:%M:%S", "Z", gmtime_r);
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

uint64_t monotonic_to_realtime_offset(void)
{
	return clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
}
