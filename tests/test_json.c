// SPDX-License-Identifier: GPL-2.0-only
/* sockeye's JSON Lines against its schema (schema/sockeye.schema.json):
 * every command that writes JSON runs against loopback traffic the test
 * makes, and every record it writes, on stdout and stderr, is validated
 * with python3-jsonschema (tests/validate_jsonl.py); and process names
 * that are not ASCII, or not UTF-8 at all, come out as valid JSON and as
 * text without control bytes. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test.h"
#include "helpers.h"

#define SCHEMA "schema/sockeye.schema.json"
#define VALIDATOR "tests/validate_jsonl.py"

/* The record types no run here can make, each with the reason; the
 * validator fails if one of them is produced after all, or if a type of
 * the schema is missing that this list does not name. */
static const struct { const char *type, *why; } unproduced[] = {
	{ "warning", "only when the kernel lacks a hook or a table of the kernel's fills up" },
	{ "info", "only when sockeye mounts tracefs or bpffs itself, or under the agent" },
};

/* One sockeye run: its arguments after "sockeye" and the programs to wait
 * for before the traffic ("a|b": either; one name per element). */
struct run {
	const char *name;
	const char *args[16];
	const char *attached[4];
	pid_t pid;
};

struct traffic {
	uint16_t port;		/* a listener the runs filter on */
	uint16_t syn_port;	/* a listener whose accept queue is full */
	uint16_t cport;		/* the client end of the connection to port */
	uint16_t refused_port;
	int srv, syn_srv;
};

static char dir[] = "/tmp/sockeye-json-XXXXXX";

static void path_of(char *buf, size_t len, const char *name, const char *ext)
{
	snprintf(buf, len, "%s/%s.%s", dir, name, ext);
}

/* Whether the validator can run (the test is skipped if not), with the
 * directory for the output made. */
static bool ready_to_validate(void)
{
	char *argv[] = { "python3", "-c", "import jsonschema", NULL }, out[256], err[1024];

	if (run_capture(argv, out, sizeof(out), err, sizeof(err))) {
		test_skip("python3 with jsonschema (Debian: python3-jsonschema) is not installed");
		return false;
	}
	return ASSERT_TRUE(mkdtemp(dir) != NULL, "a directory for the output");
}

/* "%d" in an argument is this process's pid, "%P" the listener's port and
 * "%Q" the full one's; the strings live as long as the run. */
static char *expand(const char *arg, const struct traffic *t)
{
	char *s;

	if (!strcmp(arg, "%d"))
		return asprintf(&s, "%d", getpid()) < 0 ? NULL : s;
	if (!strcmp(arg, "%P"))
		return asprintf(&s, "%u", t->port) < 0 ? NULL : s;
	if (!strcmp(arg, "%Q"))
		return asprintf(&s, "%u", t->syn_port) < 0 ? NULL : s;
	return strdup(arg);
}

static pid_t start_run(const struct run *r, const struct traffic *t)
{
	char *argv[20] = { (char *)sockeye_path() }, out[128], err[128];
	int n = 1;
	pid_t pid;

	for (int i = 0; r->args[i] && n < 19; i++)
		argv[n++] = expand(r->args[i], t);
	path_of(out, sizeof(out), r->name, "out");
	path_of(err, sizeof(err), r->name, "err");
	pid = spawn_logged(argv, out, err);
	for (int i = 1; i < n; i++)
		free(argv[i]);
	return pid;
}

/* ---- the traffic ---- */

static void accept_one(int srv)
{
	int fd = accept(srv, NULL, NULL);

	if (fd >= 0)
		close(fd);
}

/* A connection to port that moves bytes both ways, three HTTP exchanges,
 * a connect refused, a UDP datagram, and a SYN retransmitted to a listener
 * whose accept queue is full; the connection stays open past a snapshot. */
static void make_traffic(void *ctx)
{
	struct traffic *t = ctx;
	int cli = connect_to(AF_INET, SOCK_STREAM, t->port), acc = accept(t->srv, NULL, NULL);
	int web = connect_to(AF_INET, SOCK_STREAM, t->port), web_acc = accept(t->srv, NULL, NULL);
	int first, second, udp, refused;

	ASSERT_TRUE(cli >= 0 && acc >= 0 && web >= 0 && web_acc >= 0,
		    "two connections to the listener");
	t->cport = local_port(cli);
	ASSERT_TRUE(send_all(cli, 5000) && recv_exactly(acc, 5000), "bytes up");
	ASSERT_TRUE(send_all(acc, 3000) && recv_exactly(cli, 3000), "bytes down");
	/* On a connection of its own: http follows those that start like HTTP. */
	ASSERT_TRUE(three_http_exchanges(web, web_acc), "the HTTP exchanges");
	refused = connect_to(AF_INET, SOCK_STREAM, t->refused_port);
	ASSERT_TRUE(refused < 0, "a connect refused");
	udp = connect_to(AF_INET, SOCK_DGRAM, t->port);
	ASSERT_TRUE(udp >= 0 && send(udp, "u", 1, 0) == 1, "a datagram");
	/* The first fills the accept queue of the listener of backlog 0; the
	 * second's SYN is dropped, and retransmitted after a second. */
	first = connect_to(AF_INET, SOCK_STREAM, t->syn_port);
	second = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (second >= 0) {
		struct sockaddr_storage ss;
		socklen_t len = loopback(AF_INET, t->syn_port, &ss);

		connect(second, (struct sockaddr *)&ss, len);
	}
	sleep_ms(2500);
	accept_one(t->syn_srv);
	shutdown(cli, SHUT_WR);
	close(cli), close(acc), close(web), close(web_acc), close(udp), close(first),
	close(second);
	sleep_ms(300);
}

/* Starts the runs, waits for their programs, calls traffic(t), stops them
 * with SIGINT and waits for them to end. */
static void run_wave(struct run *runs, int n, void (*traffic)(void *ctx), struct traffic *t)
{
	uint32_t before = last_program_id();

	for (int i = 0; i < n; i++)
		runs[i].pid = start_run(&runs[i], t);
	for (int i = 0; i < n; i++)
		for (int k = 0; runs[i].attached[k]; k++)
			if (!ASSERT_TRUE(wait_for_attach(runs[i].attached[k], before, ATTACH_WAIT_MS),
					 runs[i].name))
				printf("    %s: %s never attached\n", runs[i].name, runs[i].attached[k]);
	traffic(t);
	for (int i = 0; i < n; i++)
		kill(runs[i].pid, SIGINT);
	for (int i = 0; i < n; i++)
		ASSERT_EQ(wait_status(runs[i].pid), 0, runs[i].name);
}

/* ---- reading the output ---- */

static char *read_whole(const char *path)
{
	struct stat st;
	char *buf = NULL;
	int fd = open(path, O_RDONLY);

	if (fd >= 0 && !fstat(fd, &st) && (buf = malloc(st.st_size + 1))) {
		ssize_t n = read(fd, buf, st.st_size);

		buf[n > 0 ? n : 0] = '\0';
	}
	if (fd >= 0)
		close(fd);
	return buf;
}

/* Whether a run's output has a record of type whose pid (0: any) and local
 * or remote port (0: any) are these, and which holds also (NULL: no more). */
static bool has_record(const char *name, const char *type, pid_t pid, uint16_t port,
		       const char *also)
{
	char path[128], want[64];
	char *out, *save = NULL;
	bool found = false;

	path_of(path, sizeof(path), name, "out");
	out = read_whole(path);
	snprintf(want, sizeof(want), "{\"type\":\"%s\",", type);
	for (char *line = out ? strtok_r(out, "\n", &save) : NULL; line && !found;
	     line = strtok_r(NULL, "\n", &save))
		found = !strncmp(line, want, strlen(want)) &&
			(!pid || json_number(line, "pid") == (uint64_t)pid) &&
			(!port || json_number(line, "lport") == port ||
			 json_number(line, "rport") == port) &&
			(!also || strstr(line, also));
	free(out);
	if (!found)
		printf("    no %s record of pid %d, port %u%s%s in %s\n", type, pid, port,
		       also ? " with " : "", also ? also : "", name);
	return found;
}

/* Validates every file of the directory; with unproduced (comma-separated),
 * also that every type of the schema but those was seen. */
static bool validate_all(const char *unproduced_list)
{
	char cmd[512], out[4096], err[8192];
	char *argv[] = { "sh", "-c", cmd, NULL };
	int status;

	snprintf(cmd, sizeof(cmd), "python3 " VALIDATOR " " SCHEMA " %s%s%s "
		 "$(find %s -type f -size +0)", unproduced_list ? "--unproduced '" : "",
		 unproduced_list ? unproduced_list : "", unproduced_list ? "'" : "", dir);
	status = run_capture(argv, out, sizeof(out), err, sizeof(err));
	if (status)
		printf("    %s", err);
	else
		printf("    record types seen: %s", out);
	return status == 0;
}

static void remove_dir(void)
{
	char out[64], err[64];
	char *argv[] = { "rm", "-rf", dir, NULL };

	run_capture(argv, out, sizeof(out), err, sizeof(err));
}

/* Runs that share program names are in different waves: a wait for a
 * program's attachment must be the one run's. */
KTEST(json_every_record_of_every_command_follows_the_schema)
{
	static struct run wave1[] = {
		{ "events", { "events", "--json", "-p", "%d" }, { "exit_shutdown" } },
		{ "connlat", { "connlat", "--json", "--failed", "-p", "%d" }, { "connlat_state" } },
		{ "soconnect", { "soconnect", "--json", "-p", "%d" }, { "soconnect_exit" } },
		{ "http", { "http", "--json", "-p", "%d" }, { "http_recvmsg_e" } },
		{ "top", { "top", "--json", "-p", "%d" }, { "top_recv|top_r6_fx|top_r6_kr" } },
		{ "sockstat", { "sockstat", "--json", "-p", "%d" }, { "ss_socket" } },
		{ "sofamily", { "sofamily", "--json", "-p", "%d" }, { "so_connect", "so_accept" } },
	};
	static struct run wave2[] = {
		{ "connlat-hist", { "connlat", "--json", "--hist", "-p", "%d" }, { "connlat_state" } },
		{ "http-summary", { "http", "--json", "--summary", "-p", "%d" }, { "http_recvmsg_e" } },
		{ "top-cgroups", { "top", "--json", "-g", "-p", "%d" },
		  { "top_recv|top_r6_fx|top_r6_kr" } },
		{ "flows-retrans", { "flows", "--json", "--retrans-events", "--port", "%Q" },
		  { "flows_retrans" } },
		{ "soprotocol", { "soprotocol", "--json", "-p", "%d" }, { "so_connect", "so_accept" } },
	};
	static struct run wave3[] = {
		{ "flows", { "flows", "--json", "--port", "%P", "-x", "-R", "--drops", "--layers", "--http" },
		  { "flows_synack", "http_recvmsg_e" } },
	};
	static struct run wave4[] = {
		{ "flows-packets", { "flows", "--json", "--packets", "--port", "%P" },
		  { "flows_tcp_in" } },
	};
	struct traffic t = {};
	char list[256] = "", path[128], out[1 << 16], err[1 << 12];
	char *features[] = { (char *)sockeye_path(), "features", "--json", NULL };
	char *no_agent[] = { (char *)sockeye_path(), "flows", "--json", "--from-agent",
			     "--pin-dir", "/nonexistent/sockeye-test", NULL };
	int fd, refused;

	if (!ready_to_validate())
		return;
	t.srv = bound_socket(AF_INET, SOCK_STREAM, true, &t.port);
	t.syn_srv = bound_socket(AF_INET, SOCK_STREAM, false, &t.syn_port);
	refused = bound_socket(AF_INET, SOCK_STREAM, false, &t.refused_port);
	close(refused);		/* nothing listens there: a connect is refused */
	ASSERT_EQ(listen(t.syn_srv, 0), 0, "a listener of backlog 0");
	fcntl(t.srv, F_SETFD, FD_CLOEXEC);
	fcntl(t.syn_srv, F_SETFD, FD_CLOEXEC);

	run_wave(wave1, sizeof(wave1) / sizeof(wave1[0]), make_traffic, &t);
	run_wave(wave2, sizeof(wave2) / sizeof(wave2[0]), make_traffic, &t);
	run_wave(wave3, sizeof(wave3) / sizeof(wave3[0]), make_traffic, &t);
	run_wave(wave4, sizeof(wave4) / sizeof(wave4[0]), make_traffic, &t);
	/* features, and an error: on stderr, as JSON under --json. */
	ASSERT_EQ(run_capture(features, out, sizeof(out), err, sizeof(err)), 0, "features");
	path_of(path, sizeof(path), "features", "out");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ASSERT_TRUE(write(fd, out, strlen(out)) == (ssize_t)strlen(out), "features' output kept");
	close(fd);
	ASSERT_EQ(run_capture(no_agent, out, sizeof(out), err, sizeof(err)), 1, "no agent: exit 1");
	path_of(path, sizeof(path), "no-agent", "err");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ASSERT_TRUE(write(fd, err, strlen(err)) == (ssize_t)strlen(err), "the error kept");
	close(fd);

	/* Each run saw the traffic: its own records, by pid and port. */
	has_record("events", "event", getpid(), t.port, "\"event\":\"connect\"");
	has_record("events", "event", getpid(), t.refused_port, "\"error\":\"ECONNREFUSED\"");
	has_record("connlat", "connlat", getpid(), t.port, "\"error\":null");
	has_record("connlat", "connlat", getpid(), t.refused_port, "\"error\":\"ECONNREFUSED\"");
	has_record("soconnect", "connect", getpid(), t.refused_port, "\"error\":\"ECONNREFUSED\"");
	has_record("http", "http", getpid(), t.port, "\"role\":\"server\"");
	has_record("top", "process", getpid(), 0, NULL);
	has_record("flows", "flow", 0, t.port, "\"role\":\"client\"");
	has_record("flows", "layer", 0, 0, NULL);
	has_record("flows-retrans", "retrans", 0, t.syn_port, "\"kind\":\"syn\"");
	has_record("flows-packets", "packet", getpid(), t.port, "\"direction\":\"send\"");
	has_record("sofamily", "sofamily", 0, 0, "\"family\":4");
	has_record("http-summary", "http_summary", 0, 0, NULL);
	has_record("connlat-hist", "hist", 0, 0, NULL);
	for (size_t i = 0; i < sizeof(unproduced) / sizeof(unproduced[0]); i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? "," : "",
			 unproduced[i].type);
	ASSERT_TRUE(validate_all(list), "every record valid, every type of the schema produced");
	close(t.srv), close(t.syn_srv);
	remove_dir();
}

/* ---- names from the host ---- */

#define VALID_NAME "caf\xc3\xa9-\xe2\x9c\x93"	/* café-✓ */
#define INVALID_NAME "\xff\xfe\x01" "ab"
#define FFFD "\xef\xbf\xbd"
/* An executable's file name with a quote, a newline and a byte that is not
 * UTF-8, as it comes out in JSON. */
#define HOSTILE_FILE "ev\"il\nname\xff"
#define HOSTILE_JSON "ev\\\"il\\u000aname" FFFD

/* A copy of bash under HOSTILE_FILE, for a third sender; empty if none. */
static char hostile_dir[64], hostile_exe[128];

static bool make_hostile_exe(void)
{
	char out[64], err[256];
	char *argv[] = { "cp", "/bin/bash", hostile_exe, NULL };

	snprintf(hostile_dir, sizeof(hostile_dir), "/tmp/sockeye-exe-%d", getpid());
	snprintf(hostile_exe, sizeof(hostile_exe), "%s/" HOSTILE_FILE, hostile_dir);
	if (mkdir(hostile_dir, 0755) || run_capture(argv, out, sizeof(out), err, sizeof(err))) {
		hostile_exe[0] = '\0';
		return false;
	}
	return true;
}

static void remove_hostile_exe(void)
{
	unlink(hostile_exe);
	rmdir(hostile_dir);
}

/* The third sender: bash under its hostile name connects, sends 1000
 * bytes itself (printf is a builtin), says so on fd 4 and waits for the
 * end of stdin (hold). */
static void exec_hostile_sender(uint16_t port, int ready_fd, int hold_fd)
{
	char script[256];

	snprintf(script, sizeof(script), "exec 3<>/dev/tcp/127.0.0.1/%u && printf %%01000d 0 >&3 "
		 "&& printf 1 >&4 && read -r x; exit 0", port);
	if (dup2(hold_fd, 0) < 0 || dup2(ready_fd, 4) < 0)
		_exit(1);
	execl(hostile_exe, "bash", "-c", script, (char *)NULL);
	_exit(1);
}

struct named {
	struct traffic *t;
	pid_t children[2];
	int hold[2];		/* the children exit when it closes */
};

/* Two children, one named VALID_NAME and one INVALID_NAME, and a third
 * running HOSTILE_FILE, each connect to the listener and send; they stay
 * until hold closes, for the snapshots. */
static void named_senders(void *ctx)
{
	static const char *const names[] = { VALID_NAME, INVALID_NAME };
	struct traffic *t = ctx;
	int hold[2], ready[2];
	pid_t children[3];
	char c;

	if (!ASSERT_EQ(pipe(hold), 0, "pipe") || !ASSERT_EQ(pipe(ready), 0, "pipe"))
		return;
	for (int i = 0; i < 3; i++) {
		children[i] = fork();
		if (children[i] == 0) {
			int fd;

			close(hold[1]);
			if (i == 2)
				exec_hostile_sender(t->port, ready[1], hold[0]);
			prctl(PR_SET_NAME, names[i]);
			fd = connect_to(AF_INET, SOCK_STREAM, t->port);
			c = fd >= 0 && send_all(fd, 1000);
			if (write(ready[1], &c, 1) != 1 || read(hold[0], &c, 1) < 0)
				_exit(1);
			_exit(0);
		}
	}
	close(ready[1]);
	for (int i = 0; i < 3; i++) {
		int fd = accept(t->srv, NULL, NULL);

		ASSERT_TRUE(read(ready[0], &c, 1) == 1 && c, "a child sent");
		ASSERT_TRUE(fd >= 0 && recv_exactly(fd, 1000), "its bytes arrived");
		if (fd >= 0)
			close(fd);
	}
	sleep_ms(1500);		/* a snapshot of top with both */
	close(hold[1]);
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(wait_status(children[i]), 0, "a child's exit");
	close(hold[0]), close(ready[0]);
	sleep_ms(300);
}

/* Whether out has a byte below 0x20 other than a newline. */
static bool has_control_bytes(const char *out)
{
	for (const unsigned char *p = (const unsigned char *)out; *p; p++)
		if (*p < 0x20 && *p != '\n')
			return true;
	return false;
}

/* A process named in valid UTF-8 that is not ASCII comes out as it is; one
 * named in bytes that are not UTF-8 comes out as valid JSON, each invalid
 * byte U+FFFD and the control character escaped, and as text with U+FFFD
 * and '?': no output carries a raw control byte. */
KTEST(json_and_text_of_process_names_not_ascii_or_not_utf8)
{
	static struct run json[] = {
		{ "events", { "events", "--json", "--port", "%P" }, { "exit_shutdown" } },
		{ "top", { "top", "--json", "--port", "%P" }, { "top_recv|top_r6_fx|top_r6_kr" } },
		{ "sofamily", { "sofamily", "--json", "-4" }, { "so_connect", "so_accept" } },
	};
	static struct run text[] = {
		{ "events-text", { "events", "--port", "%P" }, { "exit_shutdown" } },
		{ "top-text", { "top", "-b", "--port", "%P" }, { "top_recv|top_r6_fx|top_r6_kr" } },
		{ "sofamily-text", { "sofamily", "-4" }, { "so_connect", "so_accept" } },
	};
	struct traffic t = {};
	char path[128];

	if (!ready_to_validate() || !ASSERT_TRUE(make_hostile_exe(), "a copy of bash"))
		return;
	t.srv = bound_socket(AF_INET, SOCK_STREAM, true, &t.port);
	fcntl(t.srv, F_SETFD, FD_CLOEXEC);
	run_wave(json, sizeof(json) / sizeof(json[0]), named_senders, &t);
	run_wave(text, sizeof(text) / sizeof(text[0]), named_senders, &t);
	for (size_t i = 0; i < sizeof(json) / sizeof(json[0]); i++) {
		const char *type = i == 0 ? "event" : i == 1 ? "process" : "sofamily";

		has_record(json[i].name, type, 0, 0, "\"comm\":\"" VALID_NAME "\"");
		has_record(json[i].name, type, 0, 0, "\"comm\":\"" FFFD FFFD "\\u0001ab\"");
		if (i < 2) {
			char want[160];

			snprintf(want, sizeof(want), "\"exe\":\"%s/" HOSTILE_JSON "\"", hostile_dir);
			ASSERT_TRUE(has_record(json[i].name, type, 0, 0, want),
				    "the hostile path, escaped");
		}
	}
	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
		char *out;

		path_of(path, sizeof(path), text[i].name, "out");
		out = read_whole(path);
		if (!ASSERT_TRUE(out != NULL, text[i].name))
			continue;
		ASSERT_HAS(out, VALID_NAME, "the valid name as it is");
		ASSERT_HAS(out, FFFD FFFD "?ab", "the invalid one with U+FFFD and ?");
		ASSERT_TRUE(!has_control_bytes(out), "no control byte in the text");
		/* Out of the validator's way: it reads JSON. */
		unlink(path);
		path_of(path, sizeof(path), text[i].name, "err");
		unlink(path);
		free(out);
	}
	ASSERT_TRUE(validate_all(NULL), "every record valid JSON of the schema, in UTF-8");
	close(t.srv);
	remove_dir();
	remove_hostile_exe();
}
