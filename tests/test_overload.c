// SPDX-License-Identifier: GPL-2.0-only
/* Overload: more events than `sockeye events` can take. The test stops
 * sockeye (SIGSTOP) so that its ring buffer fills for real, drives RST
 * churn and 64-byte UDP in a network namespace of its own, and lets it go
 * on: it must keep running and count every event it could not deliver,
 * so that delivered + lost is what the test did; the namespace's own
 * counters (/proc/net/snmp, nobody else's traffic in them) must agree. */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "test.h"
#include "helpers.h"

enum { RST_CONNECTIONS = 2000, UDP_BATCH = 1000, MAX_BATCHES = 300 };

/* A fresh network namespace for this test's process, with lo up. */
static bool own_netns(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd;
	bool up;

	if (unshare(CLONE_NEWNET))
		return false;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	up = fd >= 0 && !ioctl(fd, SIOCGIFFLAGS, &ifr) &&
	     (ifr.ifr_flags |= IFF_UP, !ioctl(fd, SIOCSIFFLAGS, &ifr));
	close(fd);
	return up;
}

/* A counter of /proc/self/net/snmp ("Tcp", "ActiveOpens"): a line of names
 * then a line of values per protocol. -1 if absent. */
static long long snmp(const char *proto, const char *name)
{
	char names[4096], values[4096], *n, *v, *save_n, *save_v;
	size_t plen = strlen(proto);
	FILE *f = fopen("/proc/self/net/snmp", "r");
	long long found = -1;

	while (f && found < 0 && fgets(names, sizeof(names), f) && fgets(values, sizeof(values), f)) {
		if (strncmp(names, proto, plen) || names[plen] != ':')
			continue;
		n = strtok_r(names, " \n", &save_n);
		v = strtok_r(values, " \n", &save_v);
		while ((n = strtok_r(NULL, " \n", &save_n)) && (v = strtok_r(NULL, " \n", &save_v)))
			if (!strcmp(n, name))
				found = atoll(v);
	}
	if (f)
		fclose(f);
	return found;
}

struct counters {
	long long active_opens, out_rsts, out_datagrams;
};

static struct counters read_counters(void)
{
	return (struct counters){
		snmp("Tcp", "ActiveOpens"), snmp("Tcp", "OutRsts"), snmp("Udp", "OutDatagrams"),
	};
}

/* n connections to the listener, each accepted, then closed by the client
 * with an RST (SO_LINGER 0), as the benchmark's churn does. */
static bool rst_churn(int srv, uint16_t port, int n)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	for (int i = 0; i < n; i++) {
		int cli = connect_to(AF_INET, SOCK_STREAM, port), acc = accept(srv, NULL, NULL);

		if (cli < 0 || acc < 0 || setsockopt(cli, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
			return false;
		close(cli);
		close(acc);
	}
	return true;
}

/* n datagrams of 64 bytes on a connected socket (sockeye shows a send's
 * addresses from its socket); how many went out. */
static int udp_burst(int fd, int n)
{
	char buf[64] = { 0 };
	int sent = 0;

	for (int i = 0; i < n; i++)
		sent += send(fd, buf, sizeof(buf), 0) == sizeof(buf);
	return sent;
}

/* What sockeye wrote: this process's TCP connects, its UDP sends to port
 * (and, apart, to other ports), anything else, and the last lost count. */
struct tally {
	long long connects, sends, other_sends, others, lost;
};

static struct tally tally_of(const char *path, uint16_t port)
{
	static char line[4096];
	struct tally t = { .lost = -1 };
	FILE *f = fopen(path, "r");
	char kind[16];

	while (f && fgets(line, sizeof(line), f)) {
		if (strstr(line, "{\"type\":\"lost\"")) {
			t.lost = json_number(line, "count");
			continue;
		}
		if (!strstr(line, "{\"type\":\"event\""))
			continue;
		if (json_number(line, "pid") != (uint64_t)getpid() || !json_string(line, "event", kind, sizeof(kind)))
			t.others++;
		else if (!strcmp(kind, "connect") && strstr(line, "\"proto\":\"tcp\""))
			t.connects++;
		else if (!strcmp(kind, "send") && strstr(line, "\"proto\":\"udp\""))
			*(json_number(line, "dport") == port ? &t.sends : &t.other_sends) += 1;
		else
			t.others++;
	}
	if (f)
		fclose(f);
	return t;
}

/* Sends a datagram to port every 50 ms until sockeye's output holds one:
 * then it is attached and reading (a count of programs by name could be
 * another sockeye's). */
static bool wait_for_send_to(const char *path, int fd, uint16_t port)
{
	char want[32], line[4096];

	snprintf(want, sizeof(want), "\"dport\":%u,", port);
	for (int waited = 0; waited < ATTACH_WAIT_MS; waited += 50) {
		FILE *f = fopen(path, "r");
		bool seen = false;

		while (f && !seen && fgets(line, sizeof(line), f))
			seen = strstr(line, "\"event\":\"send\"") && strstr(line, want);
		if (f)
			fclose(f);
		if (seen)
			return true;
		udp_burst(fd, 1);
		sleep_ms(50);
	}
	return false;
}

/* Sends UDP_BATCH datagrams at a time until sockeye, stopped, has lost
 * some, then one batch more: the buffer overflows for real whatever its
 * size and the machine's speed. Returns the datagrams sent. */
static long long overflow(pid_t sockeye, int fd)
{
	long long sent = 0;

	for (int batch = 0; batch < MAX_BATCHES && lost_records_of(sockeye) == 0; batch++)
		sent += udp_burst(fd, UDP_BATCH);
	return sent + udp_burst(fd, UDP_BATCH);
}

KTEST(events_overload_delivered_plus_lost_is_what_happened)
{
	char out_path[64], err_path[64], me[16];
	char *argv[] = { (char *)sockeye_path(), "events", "--json", "-p", me, "-e", "connect,send",
			 NULL };
	struct counters before, after;
	struct tally t;
	long long sent = 0;
	uint16_t port, sink_port, hello_port;
	int srv, udp, sink, hello, hello_sink, status;
	pid_t pid;

	if (!own_netns()) {
		test_skip("cannot make a network namespace");
		return;
	}
	snprintf(me, sizeof(me), "%d", getpid());
	snprintf(out_path, sizeof(out_path), "/tmp/sockeye-test-overload-%d.json", getpid());
	snprintf(err_path, sizeof(err_path), "/tmp/sockeye-test-overload-%d.err", getpid());
	srv = bound_socket(AF_INET, SOCK_STREAM, true, &port);
	/* Never read. Connected before sockeye starts: no UDP connect events. */
	sink = bound_socket(AF_INET, SOCK_DGRAM, false, &sink_port);
	hello_sink = bound_socket(AF_INET, SOCK_DGRAM, false, &hello_port);
	udp = connect_to(AF_INET, SOCK_DGRAM, sink_port);
	hello = connect_to(AF_INET, SOCK_DGRAM, hello_port);
	pid = spawn_logged(argv, out_path, err_path);
	if (!ASSERT_TRUE(wait_for_send_to(out_path, hello, hello_port), "sockeye attached and reading") ||
	    !ASSERT_EQ(lost_records_of(pid), 0, "its lost count found, at 0"))
		goto out;
	before = read_counters();
	kill(pid, SIGSTOP);
	ASSERT_TRUE(rst_churn(srv, port, RST_CONNECTIONS), "RST churn");
	sent = overflow(pid, udp);
	after = read_counters();
	kill(pid, SIGCONT);
	sleep_ms(200);
	ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0, "sockeye still running");
	kill(pid, SIGINT);
	ASSERT_EQ(wait_status(pid), 0, "sockeye exits 0");
	pid = 0;
	t = tally_of(out_path, sink_port);
	printf("    %d RST connections, %lld datagrams: %lld + %lld delivered, %lld lost\n",
	       RST_CONNECTIONS, sent, t.connects, t.sends, t.lost);
	ASSERT_TRUE(t.lost > 0, "the ring buffer overflowed");
	ASSERT_EQ(t.others, 0, "only this process's connects and UDP sends");
	ASSERT_EQ(t.connects + t.sends + t.lost, RST_CONNECTIONS + sent, "delivered + lost");
	ASSERT_TRUE(t.connects <= RST_CONNECTIONS && t.sends <= sent, "no event twice");
	/* The namespace is this test's alone: its counters are exact. */
	ASSERT_EQ(after.active_opens - before.active_opens, RST_CONNECTIONS, "kernel: connects");
	ASSERT_TRUE(after.out_rsts - before.out_rsts >= RST_CONNECTIONS, "kernel: an RST each");
	ASSERT_EQ(after.out_datagrams - before.out_datagrams, sent, "kernel: datagrams");
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		kill(pid, SIGCONT);
		wait_status(pid);
	}
	close(srv);
	close(sink);
	close(udp);
	close(hello);
	close(hello_sink);
	unlink(out_path);
	unlink(err_path);
}
