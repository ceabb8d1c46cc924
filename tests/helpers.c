// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <limits.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include "helpers.h"
#include "maps.h"
#include "probe.h"
#include "programs.h"
#include "test.h"

socklen_t loopback(int family, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*in);
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	in6->sin6_addr = in6addr_loopback;
	return sizeof(*in6);
}

const uint8_t *loopback_bytes(int family)
{
	static const uint8_t v4[4] = { 127, 0, 0, 1 };

	return family == AF_INET ? v4 : in6addr_loopback.s6_addr;
}

uint16_t local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
			 ((struct sockaddr_in6 *)&ss)->sin6_port);
}

int bound_socket(int family, int type, bool listen_too, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, 0, &ss);
	int fd = socket(family, type, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, len) || (listen_too && listen(fd, 16))) {
		close(fd);
		return -1;
	}
	*port = local_port(fd);
	return fd;
}

int connect_to(int family, int type, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, port, &ss);
	int fd = socket(family, type, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, len)) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

void tcp_connection(int family, int *srv, int *cli, int *acc, uint16_t *port, uint16_t *cport)
{
	*srv = bound_socket(family, SOCK_STREAM, true, port);
	*cli = connect_to(family, SOCK_STREAM, *port);
	*acc = accept(*srv, NULL, NULL);
	*cport = local_port(*cli);
}

bool send_all(int fd, size_t len)
{
	char buf[4096];

	memset(buf, 'x', sizeof(buf));
	while (len) {
		ssize_t n = send(fd, buf, len < sizeof(buf) ? len : sizeof(buf), 0);

		if (n <= 0)
			return false;
		len -= n;
	}
	return true;
}

bool recv_exactly(int fd, size_t len)
{
	char buf[4096];

	while (len) {
		ssize_t n = recv(fd, buf, len < sizeof(buf) ? len : sizeof(buf), 0);

		if (n <= 0)
			return false;
		len -= n;
	}
	return true;
}

uint16_t free_port(void)
{
	uint16_t port = 0;
	int fd = bound_socket(AF_INET, SOCK_STREAM, false, &port);

	close(fd);
	return port;
}

const char *sockeye_path(void)
{
	const char *path = getenv("SOCKEYE");

	return path ? path : "./sockeye";
}

static void read_all(int fd, char *buf, size_t len)
{
	size_t used = 0;
	ssize_t n;

	while ((n = read(fd, buf + used, len - 1 - used)) > 0 && used + n < len - 1)
		used += n;
	if (n > 0)
		used += n;
	buf[used < len ? used : len - 1] = '\0';
}

int wait_status(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run_capture(char *const argv[], char *out, size_t out_len, char *err, size_t err_len)
{
	char out_path[] = "/tmp/sockeye-test-outXXXXXX", err_path[] = "/tmp/sockeye-test-errXXXXXX";
	int out_fd = mkstemp(out_path), err_fd = mkstemp(err_path), status;
	pid_t pid = fork();

	if (pid == 0) {
		dup2(out_fd, 1);
		dup2(err_fd, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	status = wait_status(pid);
	lseek(out_fd, 0, SEEK_SET);
	lseek(err_fd, 0, SEEK_SET);
	read_all(out_fd, out, out_len);
	read_all(err_fd, err, err_len);
	close(out_fd);
	close(err_fd);
	unlink(out_path);
	unlink(err_path);
	return status;
}

bool features_say(const char *name, bool *yes)
{
	static char out[65536];
	char *argv[] = { (char *)sockeye_path(), "features", NULL }, err[4096], pattern[128];
	char word[8] = "";
	const char *at;

	if (run_capture(argv, out, sizeof(out), err, sizeof(err)) != 0)
		return false;
	snprintf(pattern, sizeof(pattern), "\n  %s ", name);
	at = strstr(out, pattern);
	if (!at || sscanf(at + strlen(pattern), "%7s", word) != 1)
		return false;
	*yes = !strcmp(word, "yes");
	return *yes || !strcmp(word, "no");
}

pid_t spawn(char *const argv[], const char *out_path)
{
	return spawn_logged(argv, out_path, NULL);
}

pid_t spawn_logged(char *const argv[], const char *out_path, const char *err_path)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, 1);
		if (err_path)
			dup2(open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600), 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Whether a program's name is one of names, "a|b|c": the kernel keeps 15
 * characters of it. */
static bool name_in(const char *prog, const char *names)
{
	for (const char *n = names; *n; n += strcspn(n, "|"), n += *n == '|') {
		size_t len = strcspn(n, "|");

		if (len > 15)
			len = 15;
		if (strlen(prog) == len && !strncmp(prog, n, len))
			return true;
	}
	return false;
}

static bool prog_named(__u32 id, const char *names)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);
	bool match;

	if (fd < 0)
		return false;
	match = !bpf_obj_get_info_by_fd(fd, &info, &len) && name_in(info.name, names);
	close(fd);
	return match;
}

int count_programs_after(const char *name, uint32_t after)
{
	__u32 id = after;
	int count = 0;

	while (!bpf_prog_get_next_id(id, &id))
		count += prog_named(id, name);
	return count;
}

uint32_t last_program_id(void)
{
	__u32 id = 0, last = 0;

	while (!bpf_prog_get_next_id(id, &id))
		last = id;
	return last;
}

/* The id of the BPF object an open file of pid is ("map_id", "prog_id"),
 * or 0. */
static uint32_t bpf_id_of(pid_t pid, int fd, const char *kind)
{
	char path[300], line[128], format[32];
	unsigned int id = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	snprintf(format, sizeof(format), "%s: %%u", kind);
	f = fopen(path, "r");
	while (f && !id && fgets(line, sizeof(line), f))
		sscanf(line, format, &id);
	if (f)
		fclose(f);
	return id;
}

/* The program an open file of pid attaches: a bpf_link's, or a perf
 * event's (how tracepoints and kprobes are attached before Linux 5.15,
 * which has no bpf_link for them); 0 for any other file. */
static uint32_t attached_prog_of(pid_t pid, int fd)
{
	__u32 prog_id = 0, type, len = 0;
	__u64 offset, addr;

	if (bpf_id_of(pid, fd, "link_id"))
		return bpf_id_of(pid, fd, "prog_id");
	if (bpf_task_fd_query(pid, fd, 0, NULL, &len, &prog_id, &type, &offset, &addr))
		return 0;
	return prog_id;
}

#define MAX_FDS 4096

/* The numbers of process pid's open files, at most max; returns how many. */
static int open_fds(pid_t pid, int *fds, int max)
{
	char path[64];
	struct dirent *f;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	if (pid <= 0 || !(dir = opendir(path)))
		return 0;
	while (n < max && (f = readdir(dir)))
		if (f->d_name[0] != '.')
			fds[n++] = atoi(f->d_name);
	closedir(dir);
	return n;
}

/* The ids of the programs process pid holds links or perf events of (a
 * program once per file: a uprobe's link and perf event both), at most
 * max; returns how many. */
static int attached_progs(pid_t pid, uint32_t *ids, int max)
{
	int fds[MAX_FDS], n_fds = open_fds(pid, fds, MAX_FDS), n = 0;

	for (int i = 0; i < n_fds && n < max; i++) {
		uint32_t prog_id = attached_prog_of(pid, fds[i]);

		if (prog_id)
			ids[n++] = prog_id;
	}
	return n;
}

#define MAX_ATTACHED 512

/* Whether process pid holds a link or perf event of a program named name
 * loaded after the program id after. */
static bool pid_attached(pid_t pid, const char *name, uint32_t after)
{
	uint32_t ids[MAX_ATTACHED];
	int n = attached_progs(pid, ids, MAX_ATTACHED);

	for (int i = 0; i < n; i++)
		if (ids[i] > after && prog_named(ids[i], name))
			return true;
	return false;
}

int programs_attached_by(pid_t pid, uint32_t *ids, int max, int ms)
{
	int n = 0, settled = 0;

	/* Attaching takes a while, a program at a time: done once the count
	 * has not moved for a second. */
	for (int waited = 0; waited < ms && settled < 1000; waited += 50) {
		int now = attached_progs(pid, ids, max);

		settled = now && now == n ? settled + 50 : 0;
		n = now;
		sleep_ms(50);
	}
	return n;
}

struct bpf_object *open_program_set(const struct program_set *set)
{
	size_t size;
	const void *elf = set->elf_bytes(&size);

	return bpf_object__open_mem(elf, size, NULL);
}

/* How many uprobes and return uprobes on the file path the open files of
 * pid hold (libbpf keeps a uprobe's perf event open beside its link). */
static int uprobes_held(pid_t pid, const char *path)
{
	int fds[MAX_FDS], n_fds = open_fds(pid, fds, MAX_FDS), held = 0;
	char buf[256];

	for (int i = 0; i < n_fds; i++) {
		__u32 prog_id, type, len = sizeof(buf);
		__u64 offset, addr;

		if (!bpf_task_fd_query(pid, fds[i], 0, buf, &len, &prog_id, &type, &offset, &addr))
			held += (type == BPF_FD_TYPE_UPROBE || type == BPF_FD_TYPE_URETPROBE) &&
				!strcmp(buf, path);
	}
	return held;
}

bool wait_for_uprobes(const char *path, int n, int ms)
{
	for (int waited = 0; waited < ms; waited += 20) {
		DIR *procs = opendir("/proc");
		struct dirent *p;
		int held = 0;

		while (procs && (p = readdir(procs)))
			held += uprobes_held(atoi(p->d_name), path);
		if (procs)
			closedir(procs);
		if (held >= n)
			return true;
		sleep_ms(20);
	}
	return false;
}

/* Whether a process holds a perf event or link with a program named name
 * loaded after the program id after, for kernels before 5.15. */
static bool perf_attached(const char *name, uint32_t after)
{
	DIR *procs = opendir("/proc");
	struct dirent *p;
	bool found = false;

	while (procs && !found && (p = readdir(procs)))
		found = pid_attached(atoi(p->d_name), name, after);
	if (procs)
		closedir(procs);
	return found;
}

/* A link of a program named name ("a|b" for either) loaded after the
 * program id after, or its perf event where the kernel gives it no link:
 * so another sockeye running beside the tests is not taken for the one a
 * test started. */
static bool attached(const char *name, uint32_t after)
{
	static int perf_links = -1;
	__u32 id = 0;

	while (!bpf_link_get_next_id(id, &id)) {
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_link_get_fd_by_id(id);
		bool match;

		if (fd < 0)
			continue;
		match = !bpf_obj_get_info_by_fd(fd, &info, &len) && info.prog_id > after &&
			prog_named(info.prog_id, name);
		close(fd);
		if (match)
			return true;
	}
	if (perf_links < 0) {
		struct btf *btf = kernel_btf();

		perf_links = !btf || btf__find_by_name_kind(btf, "bpf_perf_link", BTF_KIND_STRUCT) > 0;
	}
	return !perf_links && perf_attached(name, after);
}

bool wait_for_attach(const char *name, uint32_t after, int ms)
{
	for (int waited = 0; waited < ms; waited += 20) {
		if (attached(name, after))
			return true;
		sleep_ms(20);
	}
	return false;
}

bool wait_for_attach_by(pid_t pid, const char *name, int ms)
{
	for (int waited = 0; waited < ms; waited += 20) {
		if (pid_attached(pid, name, 0))
			return true;
		sleep_ms(20);
	}
	return false;
}

static int run_with_traffic(char *const argv[], const char *attach_prog,
			    void (*traffic)(void *ctx), void *ctx, char *out, size_t len,
			    bool stop_after)
{
	char path[] = "/tmp/sockeye-test-outXXXXXX";
	int fd = mkstemp(path), status;
	pid_t pid = spawn(argv, path);
	ssize_t n;

	/* Its own programs: another sockeye (a test's, or the host's) may
	 * attach programs of the same names meanwhile. */
	if (wait_for_attach_by(pid, attach_prog, ATTACH_WAIT_MS)) {
		traffic(ctx);
		if (stop_after) {
			sleep_ms(500);	/* the last records on their way */
			kill(pid, SIGINT);
		}
	}
	status = wait_status(pid);
	n = read(fd, out, len - 1);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return status;
}

int sockeye_with_traffic(char *const argv[], const char *attach_prog,
			 void (*traffic)(void *ctx), void *ctx, char *out, size_t len)
{
	return run_with_traffic(argv, attach_prog, traffic, ctx, out, len, false);
}

int sockeye_stopped_after_traffic(char *const argv[], const char *attach_prog,
				  void (*traffic)(void *ctx), void *ctx, char *out, size_t len)
{
	return run_with_traffic(argv, attach_prog, traffic, ctx, out, len, true);
}

int sockeye_watching_me(const char *cmd, const char *mode, const char *attach_prog,
			void (*traffic)(void *ctx), void *ctx, char *out, size_t len)
{
	char me[16];
	char *argv[] = { (char *)sockeye_path(), (char *)cmd, "-p", me, "--duration", "2",
			 (char *)mode, NULL };

	snprintf(me, sizeof(me), "%d", getpid());
	return sockeye_with_traffic(argv, attach_prog, traffic, ctx, out, len);
}

bool wait_for_unload(const char *name, uint32_t after, int ms)
{
	/* The kernel frees a program a little after its last user exits. */
	for (int waited = 0; count_programs_after(name, after); waited += 10) {
		if (waited >= ms)
			return false;
		sleep_ms(10);
	}
	return true;
}

void need_cgroup_sock_events(void)
{
	char why[256];

	if (!kernel_has_btf_type("bpf_cast_to_kern_ctx", true) &&
	    !hook_exists("fexit/inet_create", why, sizeof(why)))
		test_skip("no create, close, bind or UDP connect events without the kfunc "
			  "bpf_cast_to_kern_ctx (Linux 6.2+) or fentry");
}

struct hook_wanted {
	const char *what;
	char why[640];
};

/* Whether a hook's gives ("create,book-keeping (fallback: ...)") names what. */
static bool gives_names(const char *gives, const char *what)
{
	size_t n = strlen(what);

	for (const char *g = gives; g; g = strchr(g, ',') ? strchr(g, ',') + 1 : NULL)
		if (!strncmp(g, what, n) && (!g[n] || g[n] == ',' || g[n] == ' '))
			return true;
	return false;
}

static void on_needed_hook(void *ctx, const char *section, const char *gives, bool ok,
			   const char *why)
{
	struct hook_wanted *w = ctx;

	if (!ok && !w->why[0] && gives_names(gives, w->what))
		snprintf(w->why, sizeof(w->why), "no %s: %s: %s", w->what, section, why);
}

void need_hook(const struct program_set *set, const char *what)
{
	struct hook_wanted w = { .what = what };

	/* An object that does not open skips nothing: the test fails on it. */
	report_hooks(set, on_needed_hook, &w);
	if (w.why[0])
		test_skip(w.why);
}

pid_t udp_sender(uint16_t port, int n, size_t size, const char *comm, int ready_fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = connect_to(AF_INET, SOCK_DGRAM, port);
		char buf[65536] = { 0 };

		prctl(PR_SET_NAME, comm);
		for (int i = 0; i < n; i++)
			if (send(fd, buf, size, 0) != (ssize_t)size)
				_exit(1);
		if (ready_fd >= 0 && write(ready_fd, "r", 1) == 1)
			pause();
		_exit(0);
	}
	return pid;
}

struct client_thread {
	uint16_t port;
	const char *name;
	int go_fd, done_fd;
};

static void *connect_in_thread(void *arg)
{
	const struct client_thread *t = arg;
	char go;
	int fd;

	prctl(PR_SET_NAME, t->name);
	if (read(t->go_fd, &go, 1) != 1)
		return NULL;
	fd = connect_to(AF_INET, SOCK_STREAM, t->port);
	if (fd >= 0 && send_all(fd, 10) && write(t->done_fd, "d", 1) == 1)
		pause();
	return NULL;
}

bool threaded_client_start(struct threaded_client *c, uint16_t port, const char *leader,
			   const char *thread)
{
	*c = (struct threaded_client){ .pid = -1 };
	if (pipe(c->go))
		return false;
	if (pipe(c->done)) {
		close(c->go[0]), close(c->go[1]);
		return false;
	}
	c->pid = fork();
	if (c->pid == 0) {
		struct client_thread t = { port, thread, c->go[0], c->done[1] };
		pthread_t th;

		prctl(PR_SET_NAME, leader);
		if (pthread_create(&th, NULL, connect_in_thread, &t))
			_exit(1);
		pthread_join(th, NULL);
		_exit(1);
	}
	return c->pid > 0;
}

int threaded_client_accept(struct threaded_client *c, int srv, struct sockaddr_in *peer)
{
	socklen_t len = sizeof(*peer);
	char byte;
	int acc;

	if (write(c->go[1], "g", 1) != 1)
		return -1;
	acc = accept(srv, (struct sockaddr *)peer, &len);
	if (acc >= 0 && (!recv_exactly(acc, 10) || read(c->done[0], &byte, 1) != 1)) {
		close(acc);
		acc = -1;
	}
	return acc;
}

void threaded_client_end(struct threaded_client *c)
{
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		wait_status(c->pid);
	}
	close(c->go[0]), close(c->go[1]), close(c->done[0]), close(c->done[1]);
}

bool map_has_key(int fd, const void *key, size_t key_size)
{
	unsigned char cur[64], next[64];
	void *prev = NULL;

	if (key_size > sizeof(cur))
		return false;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		if (!memcmp(next, key, key_size))
			return true;
		memcpy(cur, next, key_size);
		prev = cur;
	}
	return false;
}

uint64_t lost_records_of(pid_t pid)
{
	int fds[MAX_FDS], n_fds = open_fds(pid, fds, MAX_FDS);

	for (int i = 0; i < n_fds; i++) {
		uint32_t id = bpf_id_of(pid, fds[i], "map_id");
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		int fd = id ? bpf_map_get_fd_by_id(id) : -1;
		uint64_t lost = UINT64_MAX;

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && !strcmp(info.name, "lost_records"))
			lost = percpu_counter(fd);
		close(fd);
		if (lost != UINT64_MAX)
			return lost;
	}
	return UINT64_MAX;
}

bool lost_none_at_exit(const char *out)
{
	const char *last = NULL, *end;

	for (const char *p = out; (p = strstr(p, "{\"type\":\"lost\",")); p++)
		last = p;
	end = last ? strchr(last, '\n') : NULL;
	return end && !end[1] && json_number(last, "skipped") != UINT64_MAX &&
	       json_number(last, "count") == json_number(last, "skipped");
}

static bool seen_before(uint32_t id, uint32_t *seen, size_t *n, size_t cap)
{
	for (size_t i = 0; i < *n; i++)
		if (seen[i] == id)
			return true;
	if (*n < cap)
		seen[(*n)++] = id;
	return false;
}

uint64_t skipped_runs_of(pid_t pid)
{
	int fds[MAX_FDS], n_fds = open_fds(pid, fds, MAX_FDS);
	uint64_t skipped = 0;
	uint32_t seen[256];
	size_t n_seen = 0;

	for (int i = 0; i < n_fds; i++) {
		uint32_t id = bpf_id_of(pid, fds[i], "prog_id");
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd;

		/* A program's file and its links' files all name it. */
		if (!id || seen_before(id, seen, &n_seen, sizeof(seen) / sizeof(seen[0])))
			continue;
		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && !is_twin(info.name))
			skipped += info.recursion_misses;
		close(fd);
	}
	return skipped;
}

void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void collected_init(struct collected *c, size_t record_size, int max)
{
	c->recs = calloc(max, record_size);
	c->size = record_size;
	c->n = 0;
	c->max = c->recs ? max : 0;
}

void collect_record(void *ctx, const void *record, size_t size)
{
	struct collected *c = ctx;

	if (c->n < c->max)
		memcpy(c->recs + c->n++ * c->size, record, c->size);
}

const void *collected_at(const struct collected *c, int i)
{
	return c->recs + i * c->size;
}

void collected_free(struct collected *c)
{
	free(c->recs);
	c->recs = NULL;
}

void drain_reader(struct record_reader *r)
{
	for (int i = 0; i < 5; i++)
		reader_poll(r, 50);
}

uint64_t json_number(const char *line, const char *key)
{
	char pattern[64];
	const char *at;

	snprintf(pattern, sizeof(pattern), "\"%s\":", key);
	at = strstr(line, pattern);
	return at ? strtoull(at + strlen(pattern), NULL, 10) : UINT64_MAX;
}

const char *json_string(const char *line, const char *key, char *buf, size_t len)
{
	char pattern[64];
	const char *at, *end;

	snprintf(pattern, sizeof(pattern), "\"%s\":\"", key);
	at = strstr(line, pattern);
	if (!at)
		return NULL;
	at += strlen(pattern);
	end = strchr(at, '"');
	snprintf(buf, len, "%.*s", end ? (int)(end - at) : 0, at);
	return buf;
}

bool make_test_cgroup(char *rel, size_t rel_len, char *abs, size_t abs_len)
{
	const char *root = cgroup2_root();

	if (!root)
		return false;
	snprintf(rel, rel_len, "/sockeye-test-%d", getpid());
	snprintf(abs, abs_len, "%s%s", root, rel);
	return mkdir(abs, 0755) == 0;
}

bool move_to_cgroup(const char *abs, pid_t pid)
{
	char path[PATH_MAX], line[32];
	int fd, n;
	bool ok;

	snprintf(path, sizeof(path), "%s/cgroup.procs", abs);
	fd = open(path, O_WRONLY);
	n = snprintf(line, sizeof(line), "%d\n", pid);
	ok = fd >= 0 && write(fd, line, n) == n;
	if (fd >= 0)
		close(fd);
	return ok;
}

bool own_cgroup(char *abs, size_t len)
{
	const char *root = cgroup2_root();
	char line[PATH_MAX];
	bool found = false;
	FILE *f = fopen("/proc/self/cgroup", "re");

	/* The cgroup v2 line is "0::/path". */
	while (f && root && !found && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(abs, len, "%s%s", root, line + 3);
			found = true;
		}
	if (f)
		fclose(f);
	return found;
}

/* One request written by the client end and read by the server end, and
 * its response the other way. */
bool one_http_exchange(int cli, int acc, const char *request, const char *response)
{
	char buf[512];
	size_t req = strlen(request), resp = strlen(response);

	return write(cli, request, req) == (ssize_t)req &&
	       recv(acc, buf, req, MSG_WAITALL) == (ssize_t)req &&
	       write(acc, response, resp) == (ssize_t)resp &&
	       recv(cli, buf, resp, MSG_WAITALL) == (ssize_t)resp;
}

bool three_http_exchanges(int cli, int acc)
{
	return one_http_exchange(cli, acc, "GET /a HTTP/1.1\r\nHost: t\r\n\r\n",
			"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") &&
	       one_http_exchange(cli, acc, "GET /b HTTP/1.1\r\nHost: t\r\n\r\n",
			"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") &&
	       one_http_exchange(cli, acc, "POST /c HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc",
			"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
}

void collect_sum(void *ctx, const struct http_sum_key *key, const struct http_sum *sum)
{
	struct sums *s = ctx;

	if (s->n < MAX_SUMS) {
		s->key[s->n] = *key;
		s->sum[s->n++] = *sum;
	}
}

void collect_exchange(void *ctx, const struct http_event *e)
{
	struct events *ev = ctx;

	if (ev->n < MAX_EVENTS)
		ev->e[ev->n++] = *e;
}

void settle(int fd)
{
	int queued;

	for (int i = 0; i < 500; i++) {
		if (ioctl(fd, SIOCOUTQ, &queued) || !queued)
			return;
		sleep_ms(10);
	}
}

/* ---- network namespaces ---- */

bool shell(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd) == 0;
}

bool enter_netns(const char *name)
{
	char path[128];
	int fd, err;

	snprintf(path, sizeof(path), "/var/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	err = setns(fd, CLONE_NEWNET);
	close(fd);
	return !err;
}

uint32_t netns_inode(const char *ns)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
	return stat(path, &st) ? 0 : (uint32_t)st.st_ino;
}

long long nstat_value(const char *ns, const char *name)
{
	char cmd[256], line[256];
	long long v = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ip netns exec %s nstat -az %s", ns, name);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, strlen(name)) && line[strlen(name)] == ' ')
			v = atoll(line + strlen(name));
	pclose(f);
	return v;
}
