// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye sockstat`, `sofamily` and `soprotocol` against real system
 * calls: a child with a known pid and name waits until the programs are
 * attached, then makes a known number of each call; the counts of that
 * child, read from the maps or from the command's output, must match
 * exactly. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "test.h"
#include "helpers.h"
#include "sockstat_session.h"
#include "format.h"
#include "probe.h"

#define CHILD_COMM "ss-child"

/* In the child: a failed call ends it with status 1 and says which. */
#define MUST(cond)                                                                   \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "    child: %s failed (line %d): %s\n", #cond, \
				__LINE__, strerror(errno));                          \
			_exit(1);                                                    \
		}                                                                    \
	} while (0)

/* What the workload makes, call by call (see workload() and io()):
 *   socket    11: TCP listeners for IPv4 and IPv6 (2), 2 IPv4 clients, 1 IPv4
 *                 client refused, 1 IPv6 client, UDP receiver and 2 senders
 *                 (3), UNIX listener and client (2)
 *   bind      4: the TCP listeners, the UDP receiver, the UNIX listener
 *   listen    3: the listeners
 *   accept    4: 2 accept() on IPv4, 1 accept4() on IPv6, 1 accept4() on UNIX
 *   connect   7: 3 IPv4 TCP (one refused), 1 IPv6 TCP, 2 UDP, 1 UNIX
 *   send      6: TCP send, sendto, sendmsg, sendmmsg; UDP send, sendmmsg
 *   recv      5: TCP recv, recvfrom, recvmsg, recvmmsg; UDP recvmmsg
 *   shutdown  1
 *   sock_send 11: one per send call except the sendmmsgs, which make one per
 *                 message (TCP 3, UDP 2), plus a write() on TCP and one on
 *                 the socketpair: TCP 1+1+1+3+1, UDP 1+2, pair 1
 *   sock_recv 11: the same on the receiving side: TCP 1+1+1+3+1 (recvmmsg of
 *                 3 one-byte messages), UDP 3 (one recvmmsg of 3 datagrams),
 *                 a read() on the pair
 * connect, accept, shutdown and close make no socket-level send or receive. */
static const uint64_t expected_calls[SS_COUNTERS] = {
	[SS_SOCKET] = 11, [SS_SOCKETPAIR] = 1, [SS_BIND] = 4, [SS_LISTEN] = 3,
	[SS_ACCEPT] = 4, [SS_CONNECT] = 7, [SS_SEND] = 6, [SS_RECV] = 5,
	[SS_SHUTDOWN] = 1, [SS_SOCK_SEND] = 11, [SS_SOCK_RECV] = 11,
};

/* The same workload by socket: (kind, family, protocol) -> count. */
static const struct {
	uint8_t kind;
	uint16_t family, protocol;
	uint64_t count;
} expected_sockets[] = {
	{ SO_ACCEPT, AF_INET, IPPROTO_TCP, 2 },
	{ SO_ACCEPT, AF_INET6, IPPROTO_TCP, 1 },
	{ SO_ACCEPT, AF_UNIX, 0, 1 },
	{ SO_CONNECT, AF_INET, IPPROTO_TCP, 3 },
	{ SO_CONNECT, AF_INET6, IPPROTO_TCP, 1 },
	{ SO_CONNECT, AF_INET6, IPPROTO_UDP, 2 },
	{ SO_CONNECT, AF_UNIX, 0, 1 },
};
#define EXPECTED_SOCKETS (sizeof(expected_sockets) / sizeof(expected_sockets[0]))

/* A listening UNIX socket on an abstract address (no file to remove), a
 * client connected to it, and the accepted end. */
static void unix_connection(int *lis, int *cli, int *acc)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	socklen_t len;

	snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1, "sockeye-test-%d", getpid());
	len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(addr.sun_path + 1);
	MUST((*lis = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	MUST(!bind(*lis, (struct sockaddr *)&addr, len));
	MUST(!listen(*lis, 4));
	MUST((*cli = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	MUST(!connect(*cli, (struct sockaddr *)&addr, len));
	MUST((*acc = accept4(*lis, NULL, NULL, SOCK_CLOEXEC)) >= 0);
}

/* n one-byte messages, all in one buffer. */
static void one_byte_messages(struct mmsghdr *mm, struct iovec *iov, char *bytes, int n)
{
	memset(mm, 0, n * sizeof(*mm));
	for (int i = 0; i < n; i++) {
		iov[i] = (struct iovec){ &bytes[i], 1 };
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
}

/* Every way to send on TCP: 7 bytes in 5 calls, 7 socket-level sends. */
static void tcp_sends(int fd)
{
	char bytes[3] = "xyz";
	struct iovec iov[3];
	struct mmsghdr mm[3];

	one_byte_messages(mm, iov, bytes, 3);
	MUST(send(fd, bytes, 1, 0) == 1);
	MUST(sendto(fd, bytes, 1, 0, NULL, 0) == 1);
	MUST(sendmsg(fd, &mm[0].msg_hdr, 0) == 1);
	MUST(sendmmsg(fd, mm, 3, 0) == 3);
	MUST(write(fd, bytes, 1) == 1);
}

/* And to receive them: one byte per call, one per message of recvmmsg. */
static void tcp_receives(int fd)
{
	char bytes[3];
	struct iovec iov[3];
	struct mmsghdr mm[3];

	one_byte_messages(mm, iov, bytes, 3);
	MUST(recv(fd, bytes, 1, 0) == 1);
	MUST(recvfrom(fd, bytes, 1, 0, NULL, NULL) == 1);
	MUST(recvmsg(fd, &mm[0].msg_hdr, 0) == 1);
	MUST(recvmmsg(fd, mm, 3, 0, NULL) == 3);
	MUST(read(fd, bytes, 1) == 1);
}

/* Three datagrams from two senders, taken in one recvmmsg. */
static void udp_exchange(int one, int two, int receiver)
{
	char bytes[3] = "abc";
	struct iovec iov[3];
	struct mmsghdr mm[3];

	one_byte_messages(mm, iov, bytes, 3);
	MUST(send(one, bytes, 1, 0) == 1);
	MUST(sendmmsg(two, mm, 2, 0) == 2);
	MUST(recvmmsg(receiver, mm, 3, 0, NULL) == 3);
}

static void workload(uint16_t closed_port)
{
	uint16_t port4, port6, uport;
	int l4, a, b, a1, a2, l6, c6, a6, u, u1, u2, lu, cu, au, pair[2];
	char byte = 'p';

	MUST((l4 = bound_socket(AF_INET, SOCK_STREAM, true, &port4)) >= 0);
	MUST((a = connect_to(AF_INET, SOCK_STREAM, port4)) >= 0);
	MUST((b = connect_to(AF_INET, SOCK_STREAM, port4)) >= 0);
	MUST(connect_to(AF_INET, SOCK_STREAM, closed_port) < 0 && errno == ECONNREFUSED);
	MUST((a1 = syscall(SYS_accept, l4, NULL, NULL)) >= 0);
	MUST((a2 = syscall(SYS_accept, l4, NULL, NULL)) >= 0);
	MUST((l6 = bound_socket(AF_INET6, SOCK_STREAM, true, &port6)) >= 0);
	MUST((c6 = connect_to(AF_INET6, SOCK_STREAM, port6)) >= 0);
	MUST((a6 = accept4(l6, NULL, NULL, SOCK_CLOEXEC)) >= 0);
	MUST((u = bound_socket(AF_INET6, SOCK_DGRAM, false, &uport)) >= 0);
	MUST((u1 = connect_to(AF_INET6, SOCK_DGRAM, uport)) >= 0);
	MUST((u2 = connect_to(AF_INET6, SOCK_DGRAM, uport)) >= 0);
	unix_connection(&lu, &cu, &au);
	MUST(!socketpair(AF_UNIX, SOCK_STREAM, 0, pair));

	tcp_sends(a);
	tcp_receives(a1);
	udp_exchange(u1, u2, u);
	MUST(write(pair[0], &byte, 1) == 1);
	MUST(read(pair[1], &byte, 1) == 1);
	MUST(!shutdown(a, SHUT_WR));
	/* The rest close at exit, which counts nowhere. */
	(void)b, (void)a2, (void)c6, (void)a6;
}

/* The child named CHILD_COMM, waiting for the go to run fn(arg). */
struct child {
	pid_t pid;
	int go;
};

static bool child_start(struct child *c, void (*fn)(uint16_t), uint16_t arg)
{
	int sync[2];
	char go;

	if (!ASSERT_EQ(pipe(sync), 0, "pipe"))
		return false;
	c->pid = fork();
	if (c->pid == 0) {
		close(sync[1]);
		prctl(PR_SET_NAME, CHILD_COMM);
		if (read(sync[0], &go, 1) != 1)
			_exit(1);
		fn(arg);
		_exit(0);
	}
	close(sync[0]);
	c->go = sync[1];
	return ASSERT_TRUE(c->pid > 0, "fork");
}

/* Lets the child run and waits for it to end; true if it did it all. */
static bool child_run(struct child *c)
{
	bool ok = ASSERT_EQ(write(c->go, "g", 1), 1, "start the child");

	close(c->go);
	return ASSERT_EQ(wait_status(c->pid), 0, "the child made every call") && ok;
}

/* A TCP port that answers a connect with a reset: bound, not listening. */
struct closed_port {
	int fd;
	uint16_t port;
};

static bool closed_port_open(struct closed_port *p)
{
	p->fd = bound_socket(AF_INET, SOCK_STREAM, false, &p->port);
	return ASSERT_TRUE(p->fd >= 0, "a closed port");
}

/* The filters that select the child: by pid, or by name. */
static struct sock_filters child_filters(pid_t pid, bool by_comm)
{
	struct sock_filters f = {};

	if (by_comm) {
		f.comm_set = 1;
		strcpy(f.comm, CHILD_COMM);
	} else {
		f.pid = pid;
	}
	return f;
}

/* Linux 6.1 lacks the tracepoints of SOCK_SEND and SOCK_RECV, which count
 * every family (no fallback on TCP and UDP functions counts the same):
 * sockstat says so at start and they stay out of the check there. */
static bool have_sock_io_tracepoints(void)
{
	char why[256];

	return hook_exists("tp_btf/sock_send_length", why, sizeof(why));
}

static void check_calls(const uint64_t counts[SS_COUNTERS])
{
	bool sock_io = have_sock_io_tracepoints();

	for (int i = 0; i < SS_COUNTERS; i++)
		if (sock_io || (i != SS_SOCK_SEND && i != SS_SOCK_RECV))
			ASSERT_EQ(counts[i], expected_calls[i], ss_counter_key(i));
}

static void calls_of_child(bool by_comm)
{
	struct sockstat_session s;
	struct closed_port closed;
	struct sock_filters f;
	struct child child;
	uint64_t counts[SS_COUNTERS];
	uint32_t before;

	if (!closed_port_open(&closed) || !child_start(&child, workload, closed.port))
		return;
	f = child_filters(child.pid, by_comm);
	before = last_program_id();
	if (!ASSERT_EQ(sockstat_session_start(&s, PART_CALLS, &f, "sockstat"), 0, "session starts"))
		return;
	/* Programs loaded since this session began: another sockeye may run. */
	ASSERT_EQ(count_programs_after("so_connect", before), 0, "sofamily's programs stay out");
	if (child_run(&child) && ASSERT_EQ(sockstat_read_calls(&s, counts), 0, "read"))
		check_calls(counts);
	sockstat_session_stop(&s);
	close(closed.fd);
}

KTEST(sockstat_counts_calls_of_pid)
{
	calls_of_child(false);
}

KTEST(sockstat_counts_calls_of_comm)
{
	calls_of_child(true);
}

/* The counts of the session's map, by key, as the commands see them. */
struct socket_counts {
	struct so_key keys[EXPECTED_SOCKETS + 8];
	uint64_t counts[EXPECTED_SOCKETS + 8];
	size_t n;
};

static void collect_key(void *ctx, const void *key, uint64_t delta)
{
	struct socket_counts *c = ctx;

	if (c->n < sizeof(c->keys) / sizeof(c->keys[0])) {
		c->keys[c->n] = *(const struct so_key *)key;
		c->counts[c->n++] = delta;
	}
}

static bool read_socket_counts(const struct sockstat_session *s, struct socket_counts *out)
{
	struct counter_snapshot now, none;
	bool ok;

	counter_snapshot_init(&now, sizeof(struct so_key));
	counter_snapshot_init(&none, sizeof(struct so_key));
	out->n = 0;
	ok = ASSERT_EQ(sockstat_read_sockets(s, &now), 0, "read the map");
	if (ok)
		counter_snapshot_diff(&now, &none, collect_key, out);
	counter_snapshot_free(&now);
	return ok;
}

static uint64_t count_for(const struct socket_counts *c, int kind, int family, int protocol)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->keys[i].kind == kind && c->keys[i].family == family &&
		    c->keys[i].protocol == protocol)
			return c->counts[i];
	return 0;
}

/* Runs the workload under a PART_SOCKETS session with filters f. */
static bool sockets_of_child(struct sock_filters f, bool by_pid, struct socket_counts *out,
			     struct sockstat_session *s)
{
	struct closed_port closed;
	struct child child;
	uint32_t before;
	bool ok;

	if (!closed_port_open(&closed) || !child_start(&child, workload, closed.port))
		return false;
	if (by_pid)
		f.pid = child.pid;
	before = last_program_id();
	if (!ASSERT_EQ(sockstat_session_start(s, PART_SOCKETS, &f, "sofamily"), 0, "session starts"))
		return false;
	ASSERT_TRUE(wait_for_unload("ss_socket", before, 3000), "sockstat's programs stay out");
	ok = child_run(&child) && read_socket_counts(s, out);
	close(closed.fd);
	return ok;
}

KTEST(sofamily_counts_sockets_of_pid)
{
	struct sockstat_session s;
	struct socket_counts c;
	char what[64];

	if (!sockets_of_child((struct sock_filters){}, true, &c, &s))
		return;
	ASSERT_EQ(c.n, EXPECTED_SOCKETS, "one key per kind, family and protocol");
	for (size_t i = 0; i < EXPECTED_SOCKETS; i++) {
		snprintf(what, sizeof(what), "%s %s %s", so_kind_name(expected_sockets[i].kind),
			 family_name(expected_sockets[i].family),
			 protocol_name(expected_sockets[i].family, expected_sockets[i].protocol));
		ASSERT_EQ(count_for(&c, expected_sockets[i].kind, expected_sockets[i].family,
				    expected_sockets[i].protocol), expected_sockets[i].count, what);
	}
	for (size_t i = 0; i < c.n; i++)
		ASSERT_STR_EQ(c.keys[i].comm, CHILD_COMM, "the child's name");
	ASSERT_EQ(sockstat_sockets_lost(&s), 0, "nothing lost");
	sockstat_session_stop(&s);
}

KTEST(sofamily_family_filter)
{
	struct sock_filters f = child_filters(0, true);
	struct sockstat_session s;
	struct socket_counts c;

	f.family = AF_INET6;
	if (!sockets_of_child(f, false, &c, &s))
		return;
	ASSERT_EQ(c.n, 3, "the IPv6 keys only");
	ASSERT_EQ(count_for(&c, SO_CONNECT, AF_INET6, IPPROTO_TCP), 1, "IPv6 TCP connect");
	ASSERT_EQ(count_for(&c, SO_CONNECT, AF_INET6, IPPROTO_UDP), 2, "IPv6 UDP connects");
	ASSERT_EQ(count_for(&c, SO_ACCEPT, AF_INET6, IPPROTO_TCP), 1, "IPv6 accept4");
	sockstat_session_stop(&s);
}

/* Each connect under a new name is a new key: the map fills, and every
 * connect past it is counted as lost. */
#define RENAMED_CONNECTS (SO_MAX_ROWS + 100)

static void renamed_connects(uint16_t port)
{
	int fd;

	MUST((fd = connect_to(AF_INET, SOCK_DGRAM, port)) >= 0);
	for (int i = 1; i < RENAMED_CONNECTS; i++) {
		char name[16];
		struct sockaddr_storage ss;
		socklen_t len = loopback(AF_INET, port, &ss);

		snprintf(name, sizeof(name), "c%d", i);
		prctl(PR_SET_NAME, name);
		MUST(!connect(fd, (struct sockaddr *)&ss, len));
	}
}

KTEST(sofamily_full_map_counts_lost)
{
	struct sock_filters f = {};
	struct sockstat_session s;
	struct counter_snapshot snap;
	struct child child;
	uint16_t port;
	int udp = bound_socket(AF_INET, SOCK_DGRAM, false, &port);

	if (!child_start(&child, renamed_connects, port))
		return;
	f.pid = child.pid;
	if (!ASSERT_EQ(sockstat_session_start(&s, PART_SOCKETS, &f, "sofamily"), 0, "session starts"))
		return;
	counter_snapshot_init(&snap, sizeof(struct so_key));
	if (child_run(&child) && ASSERT_EQ(sockstat_read_sockets(&s, &snap), 0, "read")) {
		ASSERT_EQ(snap.n, SO_MAX_ROWS, "the map is full");
		ASSERT_EQ(sockstat_sockets_lost(&s), RENAMED_CONNECTS - SO_MAX_ROWS,
			  "every connect past it is lost, and counted");
	}
	counter_snapshot_free(&snap);
	sockstat_session_stop(&s);
	close(udp);
}

/* The snapshot diff on a map this test fills by hand. */
KTEST(sockstat_counter_snapshot_diff)
{
	struct counter_snapshot old, cur;
	struct socket_counts seen = {};
	struct so_key k[3] = { { .kind = SO_ACCEPT }, { .kind = SO_CONNECT }, { .family = 1 } };
	uint64_t v;
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "test_counts", sizeof(struct so_key),
				sizeof(uint64_t), 16, NULL);

	if (!ASSERT_TRUE(fd >= 0, "map created"))
		return;
	counter_snapshot_init(&old, sizeof(struct so_key));
	counter_snapshot_init(&cur, sizeof(struct so_key));
	v = 5, bpf_map_update_elem(fd, &k[0], &v, BPF_ANY);
	v = 7, bpf_map_update_elem(fd, &k[1], &v, BPF_ANY);
	ASSERT_EQ(counter_snapshot_read(&old, fd), 0, "first read");
	v = 9, bpf_map_update_elem(fd, &k[0], &v, BPF_ANY);	/* grew by 4 */
	v = 2, bpf_map_update_elem(fd, &k[2], &v, BPF_ANY);	/* new: 2 */
	ASSERT_EQ(counter_snapshot_read(&cur, fd), 0, "second read");
	counter_snapshot_diff(&cur, &old, collect_key, &seen);
	ASSERT_EQ(seen.n, 2, "the keys that changed, only");
	ASSERT_EQ(count_for(&seen, SO_ACCEPT, 0, 0), 4, "growth of an old key");
	ASSERT_EQ(count_for(&seen, 0, 1, 0), 2, "a new key counts from 0");
	counter_snapshot_free(&old);
	counter_snapshot_free(&cur);
	close(fd);
}

/* ---- the binary ---- */

/* The last program attached, where it exists. */
static const char *const call_programs[] = { "ss_socket", "ss_sock_recv", NULL };
static const char *const call_programs_6_1[] = { "ss_socket", "ss_shutdown", NULL };
static const char *const socket_programs[] = { "so_connect", "so_accept", "so_accept4", NULL };

static bool wait_attached(const char *const *names, uint32_t after)
{
	bool ok = true;

	for (; *names; names++)
		ok &= ASSERT_TRUE(wait_for_attach(*names, after, ATTACH_WAIT_MS), *names);
	return ok;
}

static void read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, len - 1, f) : 0;

	buf[n] = '\0';
	if (f)
		fclose(f);
}

/* Runs `sockeye ARGS...` (ARGS may use %d for the child's pid) while the
 * child does the workload, stops it with SIGINT and returns its output. */
static bool output_around_child(const char *const args[], const char *const *programs,
				char *out, size_t len)
{
	char path[] = "/tmp/sockeye-test-sockstatXXXXXX", pid_arg[16];
	char *argv[12] = { (char *)sockeye_path() };
	struct closed_port closed;
	struct child child;
	int fd = mkstemp(path), i;
	uint32_t before;
	pid_t pid;
	bool ok;

	if (!closed_port_open(&closed) || !child_start(&child, workload, closed.port))
		return false;
	snprintf(pid_arg, sizeof(pid_arg), "%d", child.pid);
	for (i = 0; args[i] && i < 10; i++)
		argv[i + 1] = strcmp(args[i], "%d") ? (char *)args[i] : pid_arg;
	before = last_program_id();
	pid = spawn(argv, path);
	ok = wait_attached(programs, before) && child_run(&child);
	sleep_ms(100);	/* an interval or two ends after the child */
	kill(pid, SIGINT);
	ok &= ASSERT_EQ(wait_status(pid), 0, "exit status after Ctrl-C");
	read_file(path, out, len);
	close(fd);
	unlink(path);
	close(closed.fd);
	return ok;
}

KTEST(sockstat_json_by_pid)
{
	static const char *const args[] = { "sockstat", "--json", "-p", "%d", "-i", "0.05", NULL };
	static char out[1 << 16];
	uint64_t sums[SS_COUNTERS] = {};
	char *save = NULL;
	int rows = 0;

	if (!output_around_child(args, have_sock_io_tracepoints() ? call_programs :
				 call_programs_6_1, out, sizeof(out)))
		return;
	ASSERT_HAS(out, "{\"type\":\"header\",", "a header first");
	ASSERT_HAS(out, "{\"type\":\"lost\",", "what was lost, at exit");
	for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "{\"type\":\"header\",") || strstr(line, "{\"type\":\"lost\","))
			continue;
		ASSERT_HAS(line, "{\"type\":\"sockstat\",\"time\":\"", "a sockstat object");
		ASSERT_TRUE(json_number(line, "time_us") != UINT64_MAX, "time_us");
		ASSERT_TRUE(json_number(line, "interval_ns") != UINT64_MAX, "interval_ns");
		for (int i = 0; i < SS_COUNTERS; i++)
			sums[i] += json_number(line, ss_counter_key(i));
		rows++;
	}
	ASSERT_TRUE(rows >= 2, "a row per interval");
	check_calls(sums);
}

KTEST(sockstat_text_by_comm)
{
	static const char *const args[] = { "sockstat", "--comm", CHILD_COMM, "-i", "0.05", NULL };
	static char out[1 << 16];
	uint64_t sums[SS_COUNTERS] = {};
	char *save = NULL, *line = NULL;
	bool sock_io = have_sock_io_tracepoints();

	if (!output_around_child(args, sock_io ? call_programs : call_programs_6_1, out, sizeof(out)))
		return;
	line = strtok_r(out, "\n", &save);
	ASSERT_STR_EQ(line, "TIME      SOCKET SOCKPAIR    BIND  LISTEN  ACCEPT CONNECT    SEND    RECV "
		      "SHUTDOWN SOCK_SEND SOCK_RECV", "the header");
	while ((line = strtok_r(NULL, "\n", &save))) {
		unsigned long long v[SS_COUNTERS];
		int h, m, s;

		if (!ASSERT_EQ(sscanf(line, "%2d:%2d:%2d %llu %llu %llu %llu %llu %llu %llu %llu "
				      "%llu %llu %llu", &h, &m, &s, &v[0], &v[1], &v[2], &v[3], &v[4],
				      &v[5], &v[6], &v[7], &v[8], &v[9], &v[10]),
			       sock_io ? 3 + SS_COUNTERS : 1 + SS_COUNTERS, line))
			break;
		/* The counters this kernel cannot give read "-". */
		if (!sock_io)
			ASSERT_HAS(line, "        -         -", line);
		for (int i = 0; i < SS_COUNTERS; i++)
			sums[i] += v[i];
	}
	check_calls(sums);
}

KTEST(sofamily_json_by_comm)
{
	static const char *const args[] = { "sofamily", "--json", "--comm", CHILD_COMM, NULL };
	/* expected_sockets, protocols added up */
	static const struct { const char *kind; int family, count; } rows[] = {
		{ "accept", AF_INET, 2 }, { "accept", AF_INET6, 1 }, { "accept", AF_UNIX, 1 },
		{ "connect", AF_INET, 3 }, { "connect", AF_INET6, 3 }, { "connect", AF_UNIX, 1 },
	};
	static char out[1 << 16];
	const char *report;
	char want[160];

	if (!output_around_child(args, socket_programs, out, sizeof(out)))
		return;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char family[8];

		snprintf(family, sizeof(family), rows[i].family == AF_INET ? "4" :
			 rows[i].family == AF_INET6 ? "6" : "null");
		snprintf(want, sizeof(want), "\"kind\":\"%s\",\"comm\":\"" CHILD_COMM "\","
			 "\"family\":%s,\"family_name\":\"%s\",\"count\":%d}\n", rows[i].kind,
			 family, family_name(rows[i].family), rows[i].count);
		ASSERT_HAS(out, want, "a row");
	}
	ASSERT_HAS(out, "{\"type\":\"sofamily\",\"time\":\"", "rows start with type and time");
	report = strstr(out, "{\"type\":\"interval\",");
	ASSERT_TRUE(report && strstr(report, ",\"rows\":6}\n"), "one report of six rows at the end");
	/* Runs the kernel skipped (a part of the count) come from the host's
	 * other calls as well. */
	ASSERT_TRUE(lost_none_at_exit(out), "no call turned away");
}

KTEST(soprotocol_text_by_pid)
{
	static const char *const args[] = { "soprotocol", "-p", "%d", NULL };
	/* Sorted by kind, then count. */
	static const char want[] =
		"KIND     COMM             PROTO NAME             SHORT           COUNT\n"
		"accept   ss-child             6 IPPROTO_TCP      TCP                 3\n"
		"accept   ss-child             0 UNIX             UNIX                1\n"
		"connect  ss-child             6 IPPROTO_TCP      TCP                 4\n"
		"connect  ss-child            17 IPPROTO_UDP      UDP                 2\n"
		"connect  ss-child             0 UNIX             UNIX                1\n";
	static char out[1 << 16];

	if (output_around_child(args, socket_programs, out, sizeof(out)))
		ASSERT_STR_EQ(out, want, "the table at the end");
}

static int run_counting(const char *const args[], char *out, size_t len)
{
	char *argv[12] = { (char *)sockeye_path() }, err[4096];

	for (int i = 0; args[i] && i < 10; i++)
		argv[i + 1] = (char *)args[i];
	return run_capture(argv, out, len, err, sizeof(err));
}

static int count_lines_with(const char *s, const char *needle)
{
	int n = 0;

	for (; (s = strstr(s, needle)); s++)
		n++;
	return n;
}

/* -c ends the run after N reports; --duration a multiple of -i gives that
 * many full intervals and no shorter one. */
KTEST(sockstat_count_and_duration_end_the_run)
{
	static char out[1 << 16];

	ASSERT_EQ(run_counting((const char *[]){ "sockstat", "--json", "-i", "0.1", "-c", "3", NULL },
			       out, sizeof(out)), 0, "sockstat -c 3 exits 0");
	ASSERT_EQ(count_lines_with(out, "{\"type\":\"sockstat\""), 3, "three rows");
	ASSERT_EQ(run_counting((const char *[]){ "sockstat", "--json", "-i", "0.1", "--duration",
						 "0.5", NULL }, out, sizeof(out)), 0,
		  "sockstat --duration exits 0");
	ASSERT_EQ(count_lines_with(out, "{\"type\":\"sockstat\""), 5, "five rows");
	for (const char *at = out; (at = strstr(at, "\"interval_ns\":")); at++)
		ASSERT_TRUE(json_number(at - 1, "interval_ns") > 20000000, "no short last row");
	ASSERT_EQ(run_counting((const char *[]){ "soprotocol", "--json", "-i", "0.1", "-c", "2", NULL },
			       out, sizeof(out)), 0, "soprotocol -c 2 exits 0");
	ASSERT_EQ(count_lines_with(out, "{\"type\":\"interval\""), 2, "two reports");
}

TEST(sockstat_help_pages)
{
	static const char *const commands[] = { "sockstat", "sofamily", "soprotocol" };
	static char out[16384];

	for (size_t i = 0; i < 3; i++) {
		ASSERT_EQ(run_counting((const char *[]){ commands[i], "--help", NULL }, out,
				       sizeof(out)), 0, "--help exits 0");
		ASSERT_HAS(out, "Examples:", commands[i]);
		ASSERT_HAS(out, "--interval", commands[i]);
	}
	ASSERT_EQ(run_counting((const char *[]){ "--help", NULL }, out, sizeof(out)), 0, "--help");
	for (size_t i = 0; i < 3; i++)
		ASSERT_HAS(out, commands[i], "the command list");
}
