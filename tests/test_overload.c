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

/* A counter of a network namespace's snmp file ("Tcp", "ActiveOpens"): a
 * line of names then a line of values per protocol. -1 if absent. */
static long long snmp(const char *path, const char *proto, const char *name)
{
	char names[4096], values[4096], *n, *v, *save_n, *save_v;
	size_t plen = strlen(proto);
	FILE *f = fopen(path, "r");
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

#define OWN_SNMP "/proc/self/net/snmp"

static struct counters read_counters(void)
{
	return (struct counters){
		snmp(OWN_SNMP, "Tcp", "ActiveOpens"), snmp(OWN_SNMP, "Tcp", "OutRsts"),
		snmp(OWN_SNMP, "Udp", "OutDatagrams"),
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
 * (and, apart, to other ports), anything else, and the last lost count
 * with its part of runs the kernel skipped. */
struct tally {
	long long connects, sends, other_sends, others, lost, skipped;
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
			t.skipped = json_number(line, "skipped");
			continue;
		}
		if (!strstr(line, "{\"type\":\"event\""))
			continue;
		if (json_number(line, "pid") != (uint64_t)getpid() ||
		    !json_string(line, "event", kind, sizeof(kind)))
			t.others++;
		else if (!strcmp(kind, "connect") && strstr(line, "\"proto\":\"tcp\""))
			t.connects++;
		else if (!strcmp(kind, "send") && strstr(line, "\"proto\":\"udp\""))
			*(json_number(line, "rport") == port ? &t.sends : &t.other_sends) += 1;
		else
			t.others++;
	}
	if (f)
		fclose(f);
	return t;
}

/* Calls poke(ctx) every 50 ms until sockeye's output holds an event of
 * kind to port: then it is attached and reading (a count of programs by
 * name could be another sockeye's). */
static bool wait_for_event(const char *path, const char *kind, uint16_t port,
			   void (*poke)(void *ctx), void *ctx)
{
	char want_kind[32], want_port[32], line[4096];

	snprintf(want_kind, sizeof(want_kind), "\"event\":\"%s\"", kind);
	snprintf(want_port, sizeof(want_port), "\"rport\":%u,", port);
	for (int waited = 0; waited < ATTACH_WAIT_MS; waited += 50) {
		FILE *f = fopen(path, "r");
		bool seen = false;

		while (f && !seen && fgets(line, sizeof(line), f))
			seen = strstr(line, want_kind) && strstr(line, want_port);
		if (f)
			fclose(f);
		if (seen)
			return true;
		poke(ctx);
		sleep_ms(50);
	}
	return false;
}

static void send_one(void *ctx)
{
	udp_burst(*(int *)ctx, 1);
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

/* A `sockeye events --json` with its output in a file. */
struct watcher {
	pid_t pid;
	char out[64], err[64];
	uint64_t lost_before, lost_after;	/* lost records and skipped runs */
};

/* Starts `sockeye events --json A B C D` (tag names its files). */
static void watch(struct watcher *w, const char *tag, const char *a, const char *b,
		  const char *c, const char *d)
{
	char *argv[] = { (char *)sockeye_path(), "events", "--json", (char *)a, (char *)b,
			 (char *)c, (char *)d, NULL };

	snprintf(w->out, sizeof(w->out), "/tmp/sockeye-test-overload-%d-%s.json", getpid(), tag);
	snprintf(w->err, sizeof(w->err), "/tmp/sockeye-test-overload-%d-%s.err", getpid(), tag);
	w->pid = spawn_logged(argv, w->out, w->err);
}

/* Stops it with sig (after SIGCONT) and returns its exit status; 0 if it
 * was not running. */
static int unwatch(struct watcher *w, int sig)
{
	int status;

	if (w->pid <= 0)
		return 0;
	kill(w->pid, SIGCONT);
	kill(w->pid, sig);
	status = wait_status(w->pid);
	w->pid = 0;
	return status;
}

static void remove_files(const struct watcher *w)
{
	unlink(w->out);
	unlink(w->err);
}

KTEST(events_overload_delivered_plus_lost_is_what_happened)
{
	struct watcher w = {};
	struct counters before, after;
	struct tally t;
	long long sent, happened, ring_full;
	uint64_t skipped;
	uint16_t port, sink_port, hello_port;
	int srv, udp, sink, hello, hello_sink, status;
	char me[16];

	if (!own_netns()) {
		test_skip("cannot make a network namespace");
		return;
	}
	snprintf(me, sizeof(me), "%d", getpid());
	srv = bound_socket(AF_INET, SOCK_STREAM, true, &port);
	/* Never read. Connected before sockeye starts: no UDP connect events. */
	sink = bound_socket(AF_INET, SOCK_DGRAM, false, &sink_port);
	hello_sink = bound_socket(AF_INET, SOCK_DGRAM, false, &hello_port);
	udp = connect_to(AF_INET, SOCK_DGRAM, sink_port);
	hello = connect_to(AF_INET, SOCK_DGRAM, hello_port);
	watch(&w, "pid", "-p", me, "-e", "connect,send");
	if (!ASSERT_TRUE(wait_for_event(w.out, "send", hello_port, send_one, &hello),
			 "sockeye attached and reading") ||
	    !ASSERT_EQ(lost_records_of(w.pid), 0, "its lost count found, at 0"))
		goto out;
	before = read_counters();
	kill(w.pid, SIGSTOP);
	ASSERT_TRUE(rst_churn(srv, port, RST_CONNECTIONS), "RST churn");
	sent = overflow(w.pid, udp);
	after = read_counters();
	kill(w.pid, SIGCONT);
	sleep_ms(200);
	ASSERT_EQ(waitpid(w.pid, &status, WNOHANG), 0, "sockeye still running");
	skipped = skipped_runs_of(w.pid);
	ASSERT_EQ(unwatch(&w, SIGINT), 0, "sockeye exits 0");
	t = tally_of(w.out, sink_port);
	ring_full = t.lost - t.skipped;
	happened = RST_CONNECTIONS + sent;
	printf("    %d RST connections, %lld datagrams: %lld + %lld delivered, %lld lost "
	       "(%lld skipped by the kernel)\n",
	       RST_CONNECTIONS, sent, t.connects, t.sends, t.lost, t.skipped);
	ASSERT_TRUE(ring_full > 0, "the ring buffer overflowed");
	/* The host's other traffic can only add to it after the read. */
	ASSERT_TRUE(t.skipped >= 0 && (uint64_t)t.skipped >= skipped,
		    "skipped: the kernel's count of the programs' skipped runs");
	ASSERT_EQ(t.others, 0, "only this process's connects and UDP sends");
	/* Skipped runs are counted for every socket of the host, these and
	 * others alike: they bound what is missing from above. */
	ASSERT_TRUE(t.connects + t.sends + ring_full <= happened &&
		    happened <= t.connects + t.sends + t.lost,
		    "delivered + lost (exact when nothing was skipped)");
	ASSERT_TRUE(t.connects <= RST_CONNECTIONS && t.sends <= sent, "no event twice");
	/* The namespace is this test's alone: its counters are exact. */
	ASSERT_EQ(after.active_opens - before.active_opens, RST_CONNECTIONS, "kernel: connects");
	ASSERT_TRUE(after.out_rsts - before.out_rsts >= RST_CONNECTIONS, "kernel: an RST each");
	ASSERT_EQ(after.out_datagrams - before.out_datagrams, sent, "kernel: datagrams");
out:
	unwatch(&w, SIGKILL);
	remove_files(&w);
	close(srv);
	close(sink);
	close(udp);
	close(hello);
	close(hello_sink);
}

/* ---- unfiltered, against the kernel's counters ---- */

/* A counter of a snmp6 file: one "Name value" per line. -1 if absent. */
static long long snmp6(const char *path, const char *name)
{
	char key[64];
	long long value, found = -1;
	FILE *f = fopen(path, "r");

	while (f && found < 0 && fscanf(f, "%63s %lld", key, &value) == 2)
		if (!strcmp(key, name))
			found = value;
	if (f)
		fclose(f);
	return found;
}

/* TCP connects and UDP datagrams out of this test's namespace and the
 * host's (pid 1's), where all but other tests' namespaces' traffic is. */
struct host_counters {
	long long active_opens, datagrams;
};

static struct host_counters host_counters(void)
{
	return (struct host_counters){
		snmp(OWN_SNMP, "Tcp", "ActiveOpens") + snmp("/proc/1/net/snmp", "Tcp", "ActiveOpens"),
		snmp(OWN_SNMP, "Udp", "OutDatagrams") + snmp("/proc/1/net/snmp", "Udp", "OutDatagrams") +
		snmp6("/proc/self/net/snmp6", "Udp6OutDatagrams") +
		snmp6("/proc/1/net/snmp6", "Udp6OutDatagrams"),
	};
}

/* Events of kind in the output between from_us and to_us (wall clock),
 * failed ones left out (the kernel counts what went out). */
static long long delivered_between(const char *path, const char *kind, uint64_t from_us,
				   uint64_t to_us)
{
	static char line[4096];
	char want[32];
	long long n = 0;
	FILE *f = fopen(path, "r");

	snprintf(want, sizeof(want), "\"event\":\"%s\"", kind);
	while (f && fgets(line, sizeof(line), f)) {
		uint64_t t = json_number(line, "time_us");

		n += strstr(line, want) && strstr(line, "\"error\":null,") && t >= from_us &&
		     t <= to_us;
	}
	if (f)
		fclose(f);
	return n;
}

static uint64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

struct churn_ctx {
	int srv;
	uint16_t port;
};

static void connect_one(void *ctx)
{
	struct churn_ctx *c = ctx;

	rst_churn(c->srv, c->port, 1);
}

/* The host's other traffic (in other tests' namespaces, which no counter
 * read here sees) and events within microseconds of either end of the
 * window can land on one side only; the test's own load is exact on both
 * (events_overload_delivered_plus_lost_is_what_happened). Measured beside
 * other test suites, with up to 118 connects of other programs in the
 * window: no difference in 5 runs. 10 events plus 0.5% of the load still
 * shows a leak of one event in 200. */
static long long allowance(long long load)
{
	return 10 + load / 200;
}

static void check_agrees(const char *what, long long seen, long long counted, long long load)
{
	printf("    %s: sockeye %lld (delivered + lost), kernel %lld, load %lld\n", what, seen,
	       counted, load);
	ASSERT_TRUE(llabs(seen - counted) <= allowance(load), what);
}

/* `events` with no filter, one for TCP connects and one for UDP sends,
 * both stopped while the load runs: over the same interval, what each
 * delivered or lost equals what the kernel counted, host-wide. */
KTEST(events_overload_unfiltered_agrees_with_kernel_counters)
{
	struct watcher tcp = {}, udp = {};
	struct host_counters before, after;
	struct churn_ctx churn;
	uint64_t from_us, to_us;
	long long sent;
	uint16_t sink_port;
	int sink, out;

	if (!own_netns()) {
		test_skip("cannot make a network namespace");
		return;
	}
	churn.srv = bound_socket(AF_INET, SOCK_STREAM, true, &churn.port);
	sink = bound_socket(AF_INET, SOCK_DGRAM, false, &sink_port);
	out = connect_to(AF_INET, SOCK_DGRAM, sink_port);
	watch(&tcp, "tcp", "--tcp", "-e", "connect", NULL);
	watch(&udp, "udp", "--udp", "-e", "send", NULL);
	if (!ASSERT_TRUE(wait_for_event(tcp.out, "connect", churn.port, connect_one, &churn) &&
			 wait_for_event(udp.out, "send", sink_port, send_one, &out),
			 "both attached and reading"))
		goto out;
	kill(tcp.pid, SIGSTOP);
	kill(udp.pid, SIGSTOP);
	tcp.lost_before = lost_records_of(tcp.pid) + skipped_runs_of(tcp.pid);
	udp.lost_before = lost_records_of(udp.pid) + skipped_runs_of(udp.pid);
	from_us = wall_us();
	before = host_counters();
	ASSERT_TRUE(rst_churn(churn.srv, churn.port, RST_CONNECTIONS), "RST churn");
	sent = overflow(udp.pid, out);
	after = host_counters();
	to_us = wall_us();
	tcp.lost_after = lost_records_of(tcp.pid) + skipped_runs_of(tcp.pid);
	udp.lost_after = lost_records_of(udp.pid) + skipped_runs_of(udp.pid);
	ASSERT_EQ(unwatch(&tcp, SIGINT), 0, "TCP watcher exits 0");
	ASSERT_EQ(unwatch(&udp, SIGINT), 0, "UDP watcher exits 0");
	ASSERT_TRUE(udp.lost_after > udp.lost_before, "the UDP watcher's buffer overflowed");
	check_agrees("TCP connects",
		     delivered_between(tcp.out, "connect", from_us, to_us) +
		     (long long)(tcp.lost_after - tcp.lost_before),
		     after.active_opens - before.active_opens, RST_CONNECTIONS);
	check_agrees("UDP datagrams",
		     delivered_between(udp.out, "send", from_us, to_us) +
		     (long long)(udp.lost_after - udp.lost_before),
		     after.datagrams - before.datagrams, sent);
out:
	unwatch(&tcp, SIGKILL);
	unwatch(&udp, SIGKILL);
	remove_files(&tcp);
	remove_files(&udp);
	close(churn.srv);
	close(sink);
	close(out);
}
