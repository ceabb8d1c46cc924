// SPDX-License-Identifier: GPL-2.0-only
/* The sockeye binary from outside: usage errors, help, privileges, and
 * that stopping it in every way leaves nothing of it in the kernel. */
#include <grp.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include "test.h"
#include "helpers.h"

#define MAX_ARGS 8
/* The last program of bpf/events.bpf.c, so the last libbpf attaches. */
#define LAST_ATTACHED "exit_shutdown"

static int run_sockeye(const char *const args[], char *out, size_t out_len, char *err,
		       size_t err_len)
{
	char *argv[MAX_ARGS + 2] = { (char *)sockeye_path() };

	for (int i = 0; args[i] && i < MAX_ARGS; i++)
		argv[i + 1] = (char *)args[i];
	return run_capture(argv, out, out_len, err, err_len);
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

TEST(cli_bad_usage_exits_2_with_one_line)
{
	static const struct { const char *args[MAX_ARGS]; const char *says; } cases[] = {
		{ { "bogus" }, "unknown command 'bogus'" },
		{ { "--bogus" }, "unknown option '--bogus'" },
		{ { "events", "--bogus" }, "unknown option '--bogus'" },
		{ { "events", "-x" }, "unknown option '-x'" },
		{ { "events", "--pid" }, "option '--pid' needs a value" },
		{ { "events", "--pid", "abc" }, "invalid pid 'abc'" },
		{ { "events", "--pid", "0" }, "invalid pid '0'" },
		{ { "events", "--pid", "-5" }, "invalid pid '-5'" },
		{ { "events", "--pid", "99999999999999999999" }, "invalid pid" },
		{ { "events", "--port", "65536" }, "invalid port '65536'" },
		{ { "events", "--port", "80x" }, "invalid port '80x'" },
		{ { "events", "--comm", "a-name-longer-than-15" }, "invalid comm" },
		{ { "events", "--duration", "0" }, "invalid duration '0'" },
		{ { "events", "--duration", "soon" }, "invalid duration 'soon'" },
		{ { "events", "-4", "-6" }, "-4 and -6 exclude each other" },
		{ { "events", "--event", "connect,teleport" }, "unknown event 'teleport'" },
		{ { "events", "--event", "send", "--no-io" }, "--no-io leaves none" },
		{ { "events", "stray" }, "unexpected argument 'stray'" },
		{ { "features", "--pid", "1" }, "unknown option '--pid'" },
		{ { "connlat", "-m", "abc" }, "invalid minimum latency 'abc'" },
		{ { "connlat", "--min-us", "-1" }, "invalid minimum latency '-1'" },
		{ { "connlat", "-L", "0" }, "invalid local port '0'" },
		{ { "connlat", "--lport", "70000" }, "invalid local port '70000'" },
		{ { "connlat", "--hist=0" }, "invalid histogram interval '0'" },
		{ { "connlat", "--hist=often" }, "invalid histogram interval 'often'" },
		{ { "connlat", "--hist", "-1" }, "invalid histogram interval '-1'" },
		{ { "connlat", "--hist", "--failed" }, "--hist counts completed handshakes only" },
		{ { "connlat", "--timestamp=yes" }, "option '--timestamp' takes no value" },
		{ { "connlat", "stray" }, "unexpected argument 'stray'" },
		{ { "soconnect", "--bogus" }, "unknown option '--bogus'" },
		{ { "soconnect", "-p", "0" }, "invalid pid '0'" },
		{ { "soconnect", "--port", "x" }, "invalid port 'x'" },
		{ { "sockstat", "-i", "0" }, "invalid interval '0'" },
		{ { "sockstat", "-i", "abc" }, "invalid interval 'abc'" },
		{ { "sockstat", "--interval", "-1" }, "invalid interval '-1'" },
		{ { "sockstat", "-i" }, "option '-i' needs a value" },
		{ { "sockstat", "-c", "0" }, "invalid count '0'" },
		{ { "sockstat", "-c", "x" }, "invalid count 'x'" },
		{ { "sockstat", "--count", "2.5" }, "invalid count '2.5'" },
		{ { "sockstat", "--port", "80" }, "--port does not apply" },
		{ { "sockstat", "-4" }, "-4 and -6 do not apply" },
		{ { "sockstat", "--event", "connect" }, "unknown option '--event'" },
		{ { "sockstat", "stray" }, "unexpected argument 'stray'" },
		{ { "sofamily", "--port", "443" }, "--port does not apply" },
		{ { "sofamily", "-c", "3" }, "--count needs --interval" },
		{ { "sofamily", "-i", "0" }, "invalid interval '0'" },
		{ { "sofamily", "-4", "-6" }, "-4 and -6 exclude each other" },
		{ { "sofamily", "--comm", "a-name-longer-than-15" }, "invalid comm" },
		{ { "sofamily", "--bogus" }, "unknown option '--bogus'" },
		{ { "soprotocol", "--port", "53" }, "--port does not apply" },
		{ { "soprotocol", "-i", "soon" }, "invalid interval 'soon'" },
		{ { "soprotocol", "-i", "1", "-c", "-2" }, "invalid count '-2'" },
		{ { "soprotocol", "--tcp" }, "unknown option '--tcp'" },
		{ { "soprotocol", "stray" }, "unexpected argument 'stray'" },
		{ { "top", "-d", "0" }, "invalid interval '0'" },
		{ { "top", "--delay", "fast" }, "invalid interval 'fast'" },
		{ { "top", "-c", "0" }, "invalid count '0'" },
		{ { "top", "--sort", "speed" }, "invalid sort key 'speed'" },
		{ { "top", "-s" }, "option '-s' needs a value" },
		{ { "top", "--units", "kib" }, "invalid units 'kib'" },
		{ { "top", "--tcp", "--udp" }, "--tcp and --udp exclude each other" },
		{ { "top", "-4", "-6" }, "-4 and -6 exclude each other" },
		{ { "top", "--cgroup", "/no/such/cgroup" }, "invalid cgroup '/no/such/cgroup'" },
		{ { "top", "--cgroup", "../.." }, "invalid cgroup '../..'" },
		{ { "top", "--batch=yes" }, "option '--batch' takes no value" },
		{ { "top", "stray" }, "unexpected argument 'stray'" },
		{ { "http", "--max-bytes", "15" }, "invalid byte count '15'" },
		{ { "http", "--max-bytes", "4097" }, "invalid byte count '4097'" },
		{ { "http", "--max-bytes", "lots" }, "invalid byte count 'lots'" },
		{ { "http", "--method", "get" }, "invalid method 'get'" },
		{ { "http", "--method", "FETCH" }, "invalid method 'FETCH'" },
		{ { "http", "--status", "99" }, "invalid status '99'" },
		{ { "http", "--status", "600" }, "invalid status '600'" },
		{ { "http", "--status", "6xx" }, "invalid status '6xx'" },
		{ { "http", "--status", "20x" }, "invalid status '20x'" },
		{ { "http", "--path-prefix", "" }, "invalid path prefix ''" },
		{ { "http", "--summary=0" }, "invalid summary interval '0'" },
		{ { "http", "--summary", "-2" }, "invalid summary interval '-2'" },
		{ { "http", "--method" }, "option '--method' needs a value" },
		{ { "http", "stray" }, "unexpected argument 'stray'" },
		{ { "top", "--pin-dir", "/sys/fs/bpf/x" }, "--pin-dir goes with --from-agent" },
		{ { "top", "--from-agent", "--comm", "curl" }, "filters do not apply to --from-agent" },
		{ { "flows", "--pin-dir", "/sys/fs/bpf/x" }, "--pin-dir goes with --from-agent" },
		{ { "flows", "--from-agent", "-d", "443" }, "filters do not apply to --from-agent" },
		{ { "flows", "--from-agent", "-4" }, "filters do not apply to --from-agent" },
		{ { "flows", "--from-agent", "-e" }, "do not go with --from-agent" },
		{ { "flows", "--from-agent", "-a" }, "do not go with --from-agent" },
		{ { "flows", "--from-agent", "--prom", "f" }, "do not go with --from-agent" },
		{ { "flows", "--from-agent", "--retrans-events" }, "do not go with --from-agent" },
		{ { "agent", "--listen", "9464" }, "invalid listen address '9464'" },
		{ { "agent", "--listen", "localhost:9464" }, "invalid listen address 'localhost:9464'" },
		{ { "agent", "--listen", "127.0.0.1:65536" }, "invalid listen address '127.0.0.1:65536'" },
		{ { "agent", "--listen", "127.0.0.1:0" }, "invalid listen address '127.0.0.1:0'" },
		{ { "agent", "--listen", "::1:9464" }, "invalid listen address '::1:9464'" },
		{ { "agent", "--listen", "[127.0.0.1]:9464" }, "invalid listen address '[127.0.0.1]:9464'" },
		{ { "agent", "--collectors", "bytes,flux" }, "unknown collector 'flux'" },
		{ { "agent", "--collectors", "," }, "invalid collectors ','" },
		{ { "agent", "--max-series", "0" }, "invalid series limit '0'" },
		{ { "agent", "--max-series", "10001" }, "invalid series limit '10001'" },
		{ { "agent", "--pin-dir", "sockeye" }, "invalid pin directory 'sockeye'" },
		{ { "agent", "--textfile", "" }, "invalid textfile ''" },
		{ { "agent", "-i", "0" }, "invalid interval '0'" },
		{ { "agent", "--port", "0" }, "invalid port '0'" },
		{ { "agent", "--pid", "1" }, "unknown option '--pid'" },
		{ { "agent", "-c", "3" }, "unknown option '-c'" },
		{ { "agent", "-4", "-6" }, "-4 and -6 exclude each other" },
		{ { "agent", "stray" }, "unexpected argument 'stray'" },
		{ { "flows", "-s", "0" }, "invalid local port '0'" },
		{ { "flows", "--sport", "http" }, "invalid local port 'http'" },
		{ { "flows", "-d", "65536" }, "invalid remote port '65536'" },
		{ { "flows", "--dport" }, "option '--dport' needs a value" },
		{ { "flows", "-i", "0" }, "invalid interval '0'" },
		{ { "flows", "-c", "-1" }, "invalid count '-1'" },
		{ { "flows", "--sort", "speed" }, "unknown sort column 'speed'" },
		{ { "flows", "--prom", "" }, "--prom needs a file name" },
		{ { "flows", "--retrans-events", "-x" }, "--retrans-events and --packets print" },
		{ { "flows", "--retrans-events", "--sort", "age" }, "print lines one by one" },
		{ { "flows", "--all=yes" }, "option '--all' takes no value" },
		{ { "flows", "-4", "-6" }, "-4 and -6 exclude each other" },
		{ { "flows", "stray" }, "unexpected argument 'stray'" },
		{ { "flows", "--packets" }, "--packets prints a line per segment" },
		{ { "flows", "-P", "--retrans-events" }, "are two views: choose one" },
		{ { "flows", "-P", "-t", "--port", "80" }, "print lines one by one" },
		{ { "flows", "--layers=all" }, "option '--layers' takes no value" },
		{ { "flows", "-P", "-4" }, "--packets prints a line per segment" },
		{ { "flows", "-P", "--port", "80", "-c", "2" }, "print lines one by one" },
		{ { "flows", "--retrans-events", "--http" }, "--http are for the table" },
		{ { "flows", "--http=yes" }, "option '--http' takes no value" },
	};
	char out[4096], err[4096];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int status = run_sockeye(cases[i].args, out, sizeof(out), err, sizeof(err));

		ASSERT_EQ(status, 2, cases[i].says);
		ASSERT_HAS(err, cases[i].says, "the message names the problem");
		ASSERT_EQ(count_lines(err), 1, "one line");
		ASSERT_STR_EQ(out, "", "nothing on stdout");
	}
}

TEST(cli_help_and_version)
{
	char out[16384], err[4096];

	ASSERT_EQ(run_sockeye((const char *[]){ "--help", NULL }, out, sizeof(out), err, sizeof(err)),
		  0, "--help exits 0");
	ASSERT_HAS(out, "Usage: sockeye [-v] COMMAND", "usage line");
	ASSERT_HAS(out, "events", "lists the commands");
	ASSERT_HAS(out, "features", "lists the commands");
	ASSERT_EQ(run_sockeye((const char *[]){ "events", "--help", NULL }, out, sizeof(out), err,
			      sizeof(err)), 0, "events --help exits 0");
	ASSERT_HAS(out, "Examples:", "events help has examples");
	ASSERT_HAS(out, "--no-io", "events help lists its options");
	ASSERT_HAS(out, "--duration", "events help lists the shared options");
	ASSERT_EQ(run_sockeye((const char *[]){ "--version", NULL }, out, sizeof(out), err,
			      sizeof(err)), 0, "--version exits 0");
	ASSERT_HAS(out, "sockeye 0.", "version line");
}

/* Drops to nobody, as an unprivileged user would run it. */
KTEST(cli_unprivileged_exits_1_and_says_why)
{
	char out[4096], err[4096];
	pid_t pid;
	int fds[2];

	if (pipe(fds))
		return;
	pid = fork();
	if (pid == 0) {
		char *argv[] = { (char *)sockeye_path(), "events", NULL };

		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(99);
		dup2(fds[1], 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	ssize_t n = read(fds[0], err, sizeof(err) - 1);
	err[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	(void)out;
	ASSERT_EQ(wait_status(pid), 1, "exit status");
	ASSERT_HAS(err, "needs root, or the capabilities CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN",
		   "says what is needed");
	ASSERT_HAS(err, "sudo", "says what to do");
}

/* Starts `sockeye events`, waits until its programs are in, stops it with
 * sig (or lets --duration end it), and checks nothing of it is left. */
static void check_stop_leaves_nothing(int sig)
{
	char *argv[] = { (char *)sockeye_path(), "events", "--duration", sig ? "60" : "1", NULL };
	const char *programs[] = { "set_state", "sock_create", "sock_release", "exit_accept4",
				   "send_length", "connect4" };
	uint32_t before = last_program_id();
	pid_t pid = spawn(argv, "/dev/null");

	if (!ASSERT_TRUE(wait_for_attach(LAST_ATTACHED, before, ATTACH_WAIT_MS), "programs attached")) {
		kill(pid, SIGKILL);
		return;
	}
	if (sig)
		kill(pid, sig);
	ASSERT_EQ(wait_status(pid), 0, "exit status");
	for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++)
		ASSERT_TRUE(wait_for_unload(programs[i], before, 1000), programs[i]);
}

KTEST(cli_sigint_detaches_everything)
{
	check_stop_leaves_nothing(SIGINT);
}

KTEST(cli_sigterm_detaches_everything)
{
	check_stop_leaves_nothing(SIGTERM);
}

KTEST(cli_duration_detaches_everything)
{
	check_stop_leaves_nothing(0);
}

struct five_bytes {
	int srv;
	uint16_t port, cport;
};

/* One connection to the listener, with 5 bytes across. */
static void send_five_bytes(void *ctx)
{
	struct five_bytes *f = ctx;
	int cli = connect_to(AF_INET, SOCK_STREAM, f->port), acc = accept(f->srv, NULL, NULL);

	f->cport = local_port(cli);
	send_all(cli, 5);
	recv_exactly(acc, 5);
	close(cli);
	close(acc);
}

/* Runs `sockeye events --port P --duration 3 MODE` around send_five_bytes()
 * to P; returns its exit status and what it printed. */
static int events_output(const char *mode, char *out, size_t len, uint16_t *port, uint16_t *cport)
{
	struct five_bytes f = {};
	char portarg[8];
	char *argv[] = { (char *)sockeye_path(), "events", "--port", portarg, "--duration", "3",
			 (char *)mode, NULL };
	int status;

	f.srv = bound_socket(AF_INET, SOCK_STREAM, true, &f.port);
	snprintf(portarg, sizeof(portarg), "%u", f.port);
	status = sockeye_with_traffic(argv, LAST_ATTACHED, send_five_bytes, &f, out, len);
	ASSERT_TRUE(f.cport != 0, "the connection was made once the programs were in");
	close(f.srv);
	*port = f.port;
	*cport = f.cport;
	return status;
}

KTEST(cli_events_json_lines)
{
	char out[65536], want[256];
	uint16_t port, cport;

	need_cgroup_sock_events();
	ASSERT_EQ(events_output("--json", out, sizeof(out), &port, &cport), 0, "exit status");
	snprintf(want, sizeof(want), "\"event\":\"connect\",\"proto\":\"tcp\",\"pid\":%d,", getpid());
	ASSERT_HAS(out, want, "connect record with our pid");
	snprintf(want, sizeof(want), "\"error\":null,\"errno\":0,"
		 "\"state\":\"ESTABLISHED\",\"family\":4,\"laddr\":\"127.0.0.1\",\"lport\":%u,"
		 "\"raddr\":\"127.0.0.1\",\"rport\":%u,", cport, port);
	ASSERT_HAS(out, want, "connect record fields");
	snprintf(want, sizeof(want), "\"event\":\"send\",\"proto\":\"tcp\",\"pid\":%d,", getpid());
	ASSERT_HAS(out, want, "send record");
	ASSERT_HAS(out, "\"error\":null,\"errno\":0,\"bytes\":5,", "send of 5 bytes");
	ASSERT_TRUE(lost_none_at_exit(out), "lost count at exit, nothing lost");
}

KTEST(cli_events_text_lines)
{
	char out[65536], want[256];
	uint16_t port, cport;

	ASSERT_EQ(events_output("--tcp", out, sizeof(out), &port, &cport), 0, "exit status");
	snprintf(want, sizeof(want), " TCP: sockeye-tests connect err=\"\" ESTABLISHED "
		 "src=127.0.0.1:%u dst=127.0.0.1:%u rcv/snd(", cport, port);
	ASSERT_HAS(out, want, "connect line in the seed's layout");
	snprintf(want, sizeof(want), " pid=%d tid=%d cookie=", getpid(), getpid());
	ASSERT_HAS(out, want, "pid and tid");
	ASSERT_HAS(out, " bytes=5\n", "send line ends with the bytes");
}
