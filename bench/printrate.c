// SPDX-License-Identifier: GPL-2.0-only
/* How many records a second `sockeye events` formats and writes from one
 * CPU: its printer (the ring buffer's callback) is handed a fixed set of
 * records, a mix of the events a connect/send/close load makes over IPv4
 * and IPv6, N times, writing to stdout (point it at /dev/null or a file).
 * Prints to stderr: the records, the CPU time the process spent (user and
 * system: the writes count) and the records per CPU second. No kernel, no
 * ring buffer: what is measured is the printing alone, the part a load
 * faster than it turns into lost records.
 *
 * Usage: bench/printrate [-j] [N] > /dev/null */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "events_print.h"

#define VARIETY 64

static void make_record(struct event_record *e, int i)
{
	static const __u8 kinds[] = { EV_CONNECT, EV_SEND, EV_RECV, EV_SEND, EV_RECV,
				      EV_CLOSE, EV_ACCEPT, EV_RESET_SENT };
	struct sock_tuple *t = &e->tuple;

	memset(e, 0, sizeof(*e));
	e->ts_ns = 1000000000ull * 3600 + 1234567ull * i;
	e->cookie = 40000 + i;
	e->kind = kinds[i % sizeof(kinds)];
	e->result = e->kind == EV_SEND || e->kind == EV_RECV ? 64 + i : (i % 7 ? 0 : -111);
	e->rcvbuf = 131072;
	e->sndbuf = 16384;
	t->protocol = i % 4 ? IPPROTO_TCP : IPPROTO_UDP;
	t->state = t->protocol == IPPROTO_TCP ? 1 : 0;
	if (i % 2) {
		t->family = AF_INET6;
		inet_pton(AF_INET6, "fd00::1:2", t->saddr);
		inet_pton(AF_INET6, "fd00::1:3", t->daddr);
	} else {
		t->family = AF_INET;
		inet_pton(AF_INET, "127.0.0.1", t->saddr);
		inet_pton(AF_INET, "10.20.30.40", t->daddr);
	}
	t->sport = 30000 + i;
	t->dport = 8080;
	e->owner.pid = 1000 + i;
	e->owner.tid = 1000 + i;
	snprintf(e->owner.comm, sizeof(e->owner.comm), "loadgen-%d", i % 5);
}

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct events_printer printer = { .clock_offset = 1796500000ull * 1000000000ull };
	static struct event_record records[VARIETY];
	long n = 2000000;
	double start, spent;
	int arg = 1;

	if (arg < argc && !strcmp(argv[arg], "-j")) {
		printer.json = true;
		arg++;
	}
	if (arg < argc)
		n = atol(argv[arg]);
	if (n <= 0) {
		fprintf(stderr, "usage: printrate [-j] [N] > /dev/null\n");
		return 2;
	}
	for (int i = 0; i < VARIETY; i++)
		make_record(&records[i], i);
	start = cpu_seconds();
	for (long i = 0; i < n; i++)
		events_print_event(&printer, &records[i % VARIETY], sizeof(records[0]));
	fflush(stdout);
	spent = cpu_seconds() - start;
	fprintf(stderr, "%s: %ld records in %.3f CPU s: %.0f records/s\n",
		printer.json ? "json" : "text", n, spent, n / spent);
	return 0;
}
