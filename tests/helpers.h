/* SPDX-License-Identifier: GPL-2.0-only */
/* Test helpers: loopback sockets on free ports, running the sockeye binary,
 * and listing the BPF programs in the kernel. */
#ifndef SOCKEYE_TEST_HELPERS_H
#define SOCKEYE_TEST_HELPERS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include "http_session.h"

/* Loopback address of a family: 127.0.0.1 or ::1. */
socklen_t loopback(int family, uint16_t port, struct sockaddr_storage *ss);
/* A socket bound to loopback port 0 (the kernel picks a free one);
 * listening when type is SOCK_STREAM and listen is true. */
int bound_socket(int family, int type, bool listen, uint16_t *port);
int connect_to(int family, int type, uint16_t port);
/* Its address bytes, network order: 4 for IPv4, 16 for IPv6. */
const uint8_t *loopback_bytes(int family);
/* A TCP port on 127.0.0.1 that was free a moment ago, for a server that
 * binds it itself. */
uint16_t free_port(void);
uint16_t local_port(int fd);
/* A loopback TCP connection: the listener on port, the client on cport and
 * the accepted socket. */
void tcp_connection(int family, int *srv, int *cli, int *acc, uint16_t *port, uint16_t *cport);
/* Sends all len bytes / receives exactly len bytes; returns false on error. */
bool send_all(int fd, size_t len);
bool recv_exactly(int fd, size_t len);
/* Waits until everything fd sent is acknowledged (SIOCOUTQ: written, not
 * yet acknowledged, for at most 5 s), so the counts are final. */
void settle(int fd);
/* Three HTTP/1.1 exchanges over one keep-alive connection (cli the client
 * end, acc the server's): GET /a and GET /b answered 200, then a POST /c
 * with a 3-byte body answered 404. */
bool three_http_exchanges(int cli, int acc);
/* One exchange on such a connection: request from cli read whole at acc,
 * response from acc read whole at cli; false if a side failed. */
bool one_http_exchange(int cli, int acc, const char *request, const char *response);

/* Path of the sockeye binary: $SOCKEYE or ./sockeye. */
const char *sockeye_path(void);
/* Runs argv to the end with stdout and stderr captured (NUL-terminated,
 * cut to size); returns the exit status, or 128+signal. */
int run_capture(char *const argv[], char *out, size_t out_len, char *err, size_t err_len);
/* What `sockeye features` says of the line named name: false if it has no
 * such line, else true with *yes set. */
bool features_say(const char *name, bool *yes);
/* Starts argv with stdout to out_path; stderr is inherited. */
pid_t spawn(char *const argv[], const char *out_path);
/* The same with stderr to err_path as well. */
pid_t spawn_logged(char *const argv[], const char *out_path, const char *err_path);
int wait_status(pid_t pid);
/* Runs argv (a sockeye that ends by itself: give it --duration), calling
 * traffic(ctx) once the program named attach_prog is attached; what it
 * prints goes to out. Returns its exit status. */
int sockeye_with_traffic(char *const argv[], const char *attach_prog,
			 void (*traffic)(void *ctx), void *ctx, char *out, size_t len);
/* The same for a command without --duration, stopped with SIGINT once the
 * traffic is over: a slow machine (an emulated guest) stretches the run
 * instead of cutting the traffic short. */
int sockeye_stopped_after_traffic(char *const argv[], const char *attach_prog,
				  void (*traffic)(void *ctx), void *ctx, char *out, size_t len);
/* The same for `sockeye CMD -p <this pid> --duration 2 MODE`. */
int sockeye_watching_me(const char *cmd, const char *mode, const char *attach_prog,
			void (*traffic)(void *ctx), void *ctx, char *out, size_t len);

/* Program names below may list alternatives, "top_recv|top_r6_fx": the
 * same program under each kind of hook (see bpf/sockio.bpf.h). */

/* How long to wait for sockeye to attach: long, since success ends the
 * wait at once and an emulated guest attaches fentry programs slowly. */
#define ATTACH_WAIT_MS 30000
/* How long to wait for what the kernel or a sockeye does by itself (a
 * socket destroyed, a program freed, a row forgotten): long for an emulated
 * guest; the wait ends as soon as it is done. */
#define SETTLE_WAIT_MS 30000
/* Waits up to ms for a program of this name to be attached (have a link). */
bool wait_for_attach(const char *name, uint32_t after, int ms);
/* Waits up to ms for process pid to hold a link (or, before Linux 5.15,
 * a perf event) of a program of this name: its own, not another's. */
bool wait_for_attach_by(pid_t pid, const char *name, int ms);
/* The ids of the programs process pid has attached (links, or perf
 * events before Linux 5.15), at most max, once it has attached them all
 * (waiting up to ms for that); returns how many. */
int programs_attached_by(pid_t pid, uint32_t *ids, int max, int ms);
struct program_set;
struct bpf_object;
/* A command's BPF object opened (not loaded), or NULL. */
struct bpf_object *open_program_set(const struct program_set *set);
/* Waits up to ms for processes to hold n uprobes (entries and returns
 * alike) on the file path. */
bool wait_for_uprobes(const char *path, int n, int ms);
/* Waits up to ms for no program of this name to be loaded: the kernel
 * frees tracing programs after an RCU grace period, a little after their
 * last reference closed, longer on a busy machine. */
bool wait_for_unload(const char *name, uint32_t after, int ms);
/* How many BPF programs of this name (the kernel keeps 15 chars) were
 * loaded after the one with this id (ids only grow): those a test's own
 * sockeye loaded, not older ones of other programs. */
int count_programs_after(const char *name, uint32_t after);
/* The id of the program loaded last, to count from. */
uint32_t last_program_id(void);

/* A field of a JSON Lines object as sockeye writes it (flat, no spaces):
 * a whole number (UINT64_MAX if absent) or a string without escapes
 * (NULL if absent). */
uint64_t json_number(const char *line, const char *key);
const char *json_string(const char *line, const char *key, char *buf, size_t len);

/* A cgroup below the cgroup2 root named for this process: its path as
 * sockeye's --cgroup takes it ("/sockeye-test-PID") and in the file system.
 * False if cgroup v2 is not mounted or mkdir fails; rmdir(abs) removes it
 * once no process is left in it. */
bool make_test_cgroup(char *rel, size_t rel_len, char *abs, size_t abs_len);
bool move_to_cgroup(const char *abs, pid_t pid);
/* This process's cgroup v2 directory, to move back to. */
bool own_cgroup(char *abs, size_t len);

/* Skips the running test where `events` has no create, close, bind or UDP
 * connect events: no kfunc bpf_cast_to_kern_ctx (before Linux 6.2) and no
 * fentry either (fallback_missing_create_hook_is_said_at_start checks that
 * it says so). */
void need_cgroup_sock_events(void);
/* Skips the running test where the hook of a command's set that gives
 * what ("error", a name of its gives bits) does not work, with the reason
 * `sockeye features` gives: the same probe the command makes at start. */
void need_hook(const struct program_set *set, const char *what);

/* Forks a child named comm that sends n datagrams of size bytes to port on
 * 127.0.0.1 over a connected socket, then exits 0 (1 if a send failed); or,
 * with ready_fd >= 0, writes a byte there and waits to be killed. */
pid_t udp_sender(uint16_t port, int n, size_t size, const char *comm, int ready_fd);
/* A process named leader with a thread named thread which connects to a
 * port on 127.0.0.1 over TCP and sends 10 bytes when told, then keeps the
 * connection until threaded_client_end(). */
struct threaded_client {
	pid_t pid;
	int go[2], done[2];
};

/* Forks it, to connect to port; false if it cannot. */
bool threaded_client_start(struct threaded_client *c, uint16_t port, const char *leader,
			   const char *thread);
/* Tells its thread to connect, accepts on srv (the client's address into
 * *peer), takes the 10 bytes and waits for the thread to be done. Returns
 * the accepted socket, or -1. */
int threaded_client_accept(struct threaded_client *c, int srv, struct sockaddr_in *peer);
void threaded_client_end(struct threaded_client *c);
/* Whether the BPF hash map fd holds key (of key_size bytes); walks the
 * keys, so per-CPU maps need no value buffer. */
bool map_has_key(int fd, const void *key, size_t key_size);

/* The records a running sockeye process could not queue so far: its
 * lost_records map, found among its open files and summed over CPUs,
 * read while it is stopped too. UINT64_MAX if it has none. */
uint64_t lost_records_of(pid_t pid);
/* The runs of a running sockeye process's programs that the kernel skipped
 * (bpf_prog_info's recursion_misses), as sockeye counts them: without the
 * twin programs (is_twin), which cover for each other. */
uint64_t skipped_runs_of(pid_t pid);
/* Whether --json output out ends with its {"type":"lost"} object, which
 * counts no record lost to a full ring buffer (runs the kernel skipped,
 * which other sockets of the host can cause, may be there). */
bool lost_none_at_exit(const char *out);

void sleep_ms(int ms);
/* CLOCK_MONOTONIC, the clock of the records' timestamps. */
uint64_t monotonic_ns(void);

/* Copies of the records a session hands to collect_record(), in order. */
struct collected {
	char *recs;
	size_t size;
	int n, max;
};

void collected_init(struct collected *c, size_t record_size, int max);
void collect_record(void *ctx, const void *record, size_t size);	/* a record_fn */
const void *collected_at(const struct collected *c, int i);
void collected_free(struct collected *c);

/* Reads what a session's programs queued. Loopback traffic is done when
 * its system calls return, so a short drain sees all of it. */
void drain_reader(struct record_reader *r);

/* A test's session: defines start(s, c, cfg), which starts the session NAME
 * with its records collected into c (at most max, of record_type), drain(s)
 * and stop(s, c), which also frees the records: start a session, drive
 * traffic, drain, stop. */
#define SESSION_FIXTURE(name, cfg_type, record_type, max)                                 \
	static bool start(struct name##_session *s, struct collected *c, const cfg_type *cfg) \
	{                                                                                  \
		collected_init(c, sizeof(record_type), max);                               \
		return ASSERT_EQ(name##_session_start(s, cfg, collect_record, c), 0,       \
				 "session starts");                                        \
	}                                                                                  \
	static void drain(struct name##_session *s)                                        \
	{                                                                                  \
		drain_reader(&s->reader);                                                  \
	}                                                                                  \
	static void stop(struct name##_session *s, struct collected *c)                    \
	{                                                                                  \
		name##_session_stop(s);                                                    \
		collected_free(c);                                                         \
	}

/* HTTP exchanges as an http_session gives them (an http_event_fn),
 * kept for the checks. */
#define MAX_EVENTS 64

struct events {
	int n;
	struct http_event e[MAX_EVENTS];
};

void collect_exchange(void *ctx, const struct http_event *e);

/* The kernel's HTTP sums as http_sums_read() gives them (--summary, the
 * agent), kept for the checks. */
#define MAX_SUMS 16

struct sums {
	int n;
	struct http_sum_key key[MAX_SUMS];
	struct http_sum sum[MAX_SUMS];
};

void collect_sum(void *ctx, const struct http_sum_key *key, const struct http_sum *sum);

/* ---- network namespaces, made with `ip netns add NAME` ---- */

/* Runs the formatted command with /bin/sh; true when it exits 0. */
bool shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Moves this thread into the namespace; false if it cannot. */
bool enter_netns(const char *name);
/* Its inode number (what flows shows as NETNS), 0 if it is gone. */
uint32_t netns_inode(const char *ns);
/* A counter of `nstat` (TcpRetransSegs) in the namespace; -1 if none. */
long long nstat_value(const char *ns, const char *name);

#endif
