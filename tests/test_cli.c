// SPDX-License-Identifier: GPL-2.0-only
/* The sockeye binary from outside: usage errors, help, privileges, and
 * that stopping it in every way leaves nothing of it in the kernel. */
#include <grp.h>
#include <stdio.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include "sockeye.h"
#include "version.h"
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
		{ { "events", "--pid", "abc" }, "invalid --pid 'abc'" },
		{ { "events", "--pid", "0" }, "invalid --pid '0'" },
		{ { "events", "--pid", "-5" }, "invalid --pid '-5'" },
		{ { "events", "--pid", "99999999999999999999" }, "invalid --pid" },
		{ { "events", "--port", "65536" }, "invalid --port '65536'" },
		{ { "events", "--port", "80x" }, "invalid --port '80x'" },
		{ { "events", "--comm", "a-name-longer-than-15" }, "invalid --comm" },
		{ { "events", "--duration", "0" }, "invalid --duration '0'" },
		{ { "events", "--duration", "soon" }, "invalid --duration 'soon'" },
		{ { "events", "-4", "-6" }, "options '--ipv4' and '--ipv6' exclude each other" },
		{ { "events", "--event", "connect,teleport" }, "unknown event 'teleport'" },
		{ { "events", "--event", "send", "--no-io" }, "--no-io leaves none" },
		{ { "events", "stray" }, "unexpected argument 'stray'" },
		{ { "features", "--pid", "1" }, "unknown option '--pid'" },
		{ { "connlat", "-m", "abc" }, "invalid --min-us 'abc'" },
		{ { "connlat", "--min-us", "-1" }, "invalid --min-us '-1'" },
		{ { "connlat", "-L", "0" }, "option '-L' is now '--lport'" },
		{ { "connlat", "--lport", "70000" }, "invalid --lport '70000'" },
		{ { "connlat", "--hist=0" }, "option '--hist' takes no value" },
		{ { "connlat", "--hist", "5" }, "an interval is given as -i 5" },
		{ { "connlat", "-i", "5" }, "-i and -c go with --hist" },
		{ { "connlat", "--hist", "-c", "2" }, "--count needs --interval" },
		{ { "connlat", "--hist", "--failed" }, "--hist counts completed handshakes only" },
		{ { "connlat", "--timestamp=yes" }, "option '--timestamp' takes no value" },
		{ { "connlat", "stray" }, "unexpected argument 'stray'" },
		{ { "soconnect", "--bogus" }, "unknown option '--bogus'" },
		{ { "soconnect", "-p", "0" }, "invalid --pid '0'" },
		{ { "soconnect", "--port", "x" }, "invalid --port 'x'" },
		{ { "sockstat", "-i", "0" }, "invalid --interval '0'" },
		{ { "sockstat", "-i", "abc" }, "invalid --interval 'abc'" },
		{ { "sockstat", "--interval", "-1" }, "invalid --interval '-1'" },
		{ { "sockstat", "-i" }, "option '-i' needs a value" },
		{ { "sockstat", "-c", "0" }, "invalid --count '0'" },
		{ { "sockstat", "-c", "x" }, "invalid --count 'x'" },
		{ { "sockstat", "--count", "2.5" }, "invalid --count '2.5'" },
		{ { "sockstat", "--port", "80" }, "unknown option '--port'" },
		{ { "sockstat", "-4" }, "unknown option '-4'" },
		{ { "sockstat", "--event", "connect" }, "unknown option '--event'" },
		{ { "sockstat", "stray" }, "unexpected argument 'stray'" },
		{ { "sofamily", "--port", "443" }, "unknown option '--port'" },
		{ { "sofamily", "-c", "3" }, "--count needs --interval" },
		{ { "sofamily", "-i", "0" }, "invalid --interval '0'" },
		{ { "sofamily", "-4", "-6" }, "'--ipv4' and '--ipv6' exclude each other" },
		{ { "sofamily", "--comm", "a-name-longer-than-15" }, "invalid --comm" },
		{ { "sofamily", "--bogus" }, "unknown option '--bogus'" },
		{ { "soprotocol", "--port", "53" }, "unknown option '--port'" },
		{ { "soprotocol", "-i", "soon" }, "invalid --interval 'soon'" },
		{ { "soprotocol", "-i", "1", "-c", "-2" }, "invalid --count '-2'" },
		{ { "soprotocol", "--tcp" }, "unknown option '--tcp'" },
		{ { "soprotocol", "stray" }, "unexpected argument 'stray'" },
		{ { "top", "-d", "2" }, "option '--delay' or '-d' is now '-i, --interval'" },
		{ { "top", "-i", "fast" }, "invalid --interval 'fast'" },
		{ { "top", "-c", "0" }, "invalid --count '0'" },
		{ { "top", "--sort", "speed" }, "invalid --sort 'speed'" },
		{ { "top", "-s" }, "option '-s' needs a value" },
		{ { "top", "--units", "kib" }, "invalid --units 'kib'" },
		{ { "top", "--tcp", "--udp" }, "options '--tcp' and '--udp' exclude each other" },
		{ { "top", "-4", "-6" }, "'--ipv4' and '--ipv6' exclude each other" },
		{ { "top", "--cgroup", "/no/such/cgroup" }, "invalid --cgroup '/no/such/cgroup'" },
		{ { "top", "--cgroup", "../.." }, "invalid --cgroup '../..'" },
		{ { "top", "--batch=yes" }, "option '--batch' takes no value" },
		{ { "top", "stray" }, "unexpected argument 'stray'" },
		{ { "http", "--max-bytes", "15" }, "invalid --max-bytes '15'" },
		{ { "http", "--max-bytes", "4097" }, "invalid --max-bytes '4097'" },
		{ { "http", "--max-bytes", "lots" }, "invalid --max-bytes 'lots'" },
		{ { "http", "--method", "get" }, "invalid --method 'get'" },
		{ { "http", "--method", "FETCH" }, "invalid --method 'FETCH'" },
		{ { "http", "--status", "99" }, "invalid --status '99'" },
		{ { "http", "--status", "600" }, "invalid --status '600'" },
		{ { "http", "--status", "6xx" }, "invalid --status '6xx'" },
		{ { "http", "--status", "20x" }, "invalid --status '20x'" },
		{ { "http", "--path-prefix", "" }, "invalid --path-prefix ''" },
		{ { "http", "--summary=0" }, "option '--summary' takes no value" },
		{ { "http", "-i", "2" }, "-i and -c go with --summary" },
		{ { "http", "--summary", "-c", "2" }, "--count needs --interval" },
		{ { "http", "--method" }, "option '--method' needs a value" },
		{ { "http", "stray" }, "unexpected argument 'stray'" },
		{ { "top", "--pin-dir", "/sys/fs/bpf/x" }, "--pin-dir goes with --from-agent" },
		{ { "top", "--from-agent", "--comm", "curl" }, "filters do not apply to --from-agent" },
		{ { "flows", "--pin-dir", "/sys/fs/bpf/x" }, "--pin-dir goes with --from-agent" },
		{ { "flows", "--from-agent", "--rport", "443" }, "filters do not apply to --from-agent" },
		{ { "flows", "--from-agent", "-4" }, "filters do not apply to --from-agent" },
		{ { "flows", "--from-agent", "--drops" }, "do not go with --from-agent" },
		{ { "flows", "--from-agent", "-a" }, "do not go with --from-agent" },
		{ { "flows", "--from-agent", "--prom", "f" }, "do not go with --from-agent" },
		{ { "flows", "--from-agent", "--retrans-events" }, "do not go with --from-agent" },
		{ { "agent", "--listen", "9464" }, "invalid --listen '9464'" },
		{ { "agent", "--listen", "nosuchhost.invalid:9464" },
		  "'nosuchhost.invalid' is not an IPv4 address or a host name that resolves" },
		{ { "agent", "--listen", ":0" }, "invalid --listen ':0'" },
		{ { "agent", "--listen", ":80x" }, "invalid --listen ':80x'" },
		{ { "agent", "--listen", "127.0.0.1:65536" }, "invalid --listen '127.0.0.1:65536'" },
		{ { "agent", "--listen", "127.0.0.1:0" }, "invalid --listen '127.0.0.1:0'" },
		{ { "agent", "--listen", "::1:9464" }, "invalid --listen '::1:9464'" },
		{ { "agent", "--listen", "[127.0.0.1]:9464" }, "invalid --listen '[127.0.0.1]:9464'" },
		{ { "agent", "--collectors", "bytes,flux" }, "unknown collector 'flux'" },
		{ { "agent", "--collectors", "," }, "invalid --collectors ','" },
		{ { "agent", "--max-series", "0" }, "invalid --max-series '0'" },
		{ { "agent", "--max-series", "10001" }, "invalid --max-series '10001'" },
		{ { "agent", "--pin-dir", "sockeye" }, "invalid --pin-dir 'sockeye'" },
		{ { "agent", "--textfile", "" }, "invalid --textfile ''" },
		{ { "agent", "-i", "0" }, "invalid --interval '0'" },
		{ { "agent", "--port", "0" }, "invalid --port '0'" },
		{ { "agent", "--pid", "1" }, "unknown option '--pid'" },
		{ { "agent", "-c", "3" }, "unknown option '-c'" },
		{ { "agent", "-4", "-6" }, "'--ipv4' and '--ipv6' exclude each other" },
		{ { "agent", "stray" }, "unexpected argument 'stray'" },
		{ { "flows", "--lport", "0" }, "invalid --lport '0'" },
		{ { "flows", "--sport", "80" }, "option '--sport' is now '--lport'" },
		{ { "flows", "--rport", "65536" }, "invalid --rport '65536'" },
		{ { "flows", "--rport" }, "option '--rport' needs a value" },
		{ { "flows", "-i", "0" }, "invalid --interval '0'" },
		{ { "flows", "-c", "-1" }, "invalid --count '-1'" },
		{ { "flows", "--sort", "speed" }, "invalid --sort 'speed'" },
		{ { "flows", "--prom", "" }, "invalid --prom ''" },
		{ { "flows", "--retrans-events", "-x" }, "--retrans-events and --packets print" },
		{ { "flows", "--retrans-events", "--sort", "age" }, "print lines one by one" },
		{ { "flows", "--all=yes" }, "option '--all' takes no value" },
		{ { "flows", "-4", "-6" }, "'--ipv4' and '--ipv6' exclude each other" },
		{ { "flows", "stray" }, "unexpected argument 'stray'" },
		{ { "flows", "--packets" }, "--packets prints a line per segment" },
		{ { "flows", "-P", "--retrans-events" }, "are two views: choose one" },
		{ { "flows", "-P", "--layers", "--port", "80" }, "print lines one by one" },
		{ { "flows", "--layers=all" }, "option '--layers' takes no value" },
		{ { "flows", "-P", "-4" }, "--packets prints a line per segment" },
		{ { "flows", "-P", "--port", "80", "-c", "2" }, "print lines one by one" },
		{ { "flows", "--retrans-events", "--http" }, "--http are for the table" },
		{ { "flows", "--http=yes" }, "option '--http' takes no value" },
		{ { "flows", "-d", "443" }, "option '--dport' or '-d' is now '--rport'" },
		{ { "flows", "-e" }, "option '--errors' or '-e' is now '--drops'" },
		{ { "flows", "-t" }, "option '-t' is now '--layers'" },
		{ { "flows", "-r" }, "option '-r' is now '-R, --retrans'" },
		{ { "flows", "-s", "0" }, "invalid --sort '0'" },
		{ { "events", "-p", "1", "--pid", "2" }, "option '--pid' given twice" },
		{ { "events", "--no-io", "--no-io" }, "option '--no-io' given twice" },
		{ { "events", "--tcp", "--udp" }, "options '--tcp' and '--udp' exclude each other" },
		{ { "events", "--duration", "2x" }, "invalid --duration '2x'" },
		{ { "events", "--duration", "-5s" }, "invalid --duration '-5s'" },
		{ { "events", "--duration", "ms" }, "invalid --duration 'ms'" },
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
	/* The release, its git revision ("unknown" outside a clone) and libbpf. */
	ASSERT_HAS(out, "sockeye " SOCKEYE_VERSION " (" SOCKEYE_REVISION ", libbpf v", "version line");
}

static const char *const command_names[] = {
	"top", "events", "connlat", "flows", "http", "soconnect", "sockstat", "sofamily",
	"soprotocol", "agent", "features",
};

/* One option as --help lists it. */
struct listed_option {
	char letter;		/* 0: long only */
	char name[32];
	bool takes_value;
};

/* Reads "  -x, --name ARG   help" and "      --name   help" lines. */
static bool parse_help_line(const char *line, struct listed_option *o)
{
	const char *p;
	size_t len;

	*o = (struct listed_option){};
	if (!strncmp(line, "  -", 3) && line[4] == ',' && !strncmp(line + 5, " --", 3)) {
		o->letter = line[3];
		p = line + 8;
	} else if (!strncmp(line, "      --", 8)) {
		p = line + 8;
	} else {
		return false;
	}
	len = strcspn(p, " \n");
	if (!len || len >= sizeof(o->name))
		return false;
	memcpy(o->name, p, len);
	/* A value's name follows after one space; help comes after two. */
	o->takes_value = p[len] == ' ' && p[len + 1] != ' ';
	return true;
}

static size_t help_options(const char *cmd, struct listed_option *opts, size_t max)
{
	char out[32768], err[1024];
	size_t n = 0;

	if (!ASSERT_EQ(run_sockeye((const char *[]){ cmd, "--help", NULL }, out, sizeof(out), err,
				   sizeof(err)), 0, "--help exits 0"))
		return 0;
	for (char *line = strtok(strstr(out, "\nOptions:\n"), "\n"); line && n < max;
	     line = strtok(NULL, "\n"))
		if (parse_help_line(line, &opts[n]))
			n++;
	return n;
}

/* Each option of --help as its letter and as its name: a flag given both
 * ways is refused as given twice, a value refused as empty, each naming
 * the long option; so each letter parses to the option listed beside it. */
static void check_option_parses(const char *cmd, const struct listed_option *o)
{
	char out[4096], err[4096], letter[3] = { '-', o->letter }, name[40], what[96];
	const char *first = o->letter ? letter : name;

	snprintf(name, sizeof(name), "--%s", o->name);
	snprintf(what, sizeof(what), "%s %s %s", cmd, first, name);
	if (o->takes_value)
		ASSERT_EQ(run_sockeye((const char *[]){ cmd, first, "", NULL }, out, sizeof(out), err,
				      sizeof(err)), 2, what);
	else
		ASSERT_EQ(run_sockeye((const char *[]){ cmd, first, name, NULL }, out, sizeof(out), err,
				      sizeof(err)), 2, what);
	ASSERT_HAS(err, name, what);
}

TEST(cli_every_letter_means_one_option_in_every_command)
{
	/* The long name each letter stands for, across all commands. */
	char meaning[128][32] = {}, where[128][16] = {}, what[160];
	struct listed_option opts[64];
	size_t n, total = 0;

	for (size_t c = 0; c < sizeof(command_names) / sizeof(command_names[0]); c++) {
		const char *cmd = command_names[c];

		n = help_options(cmd, opts, 64);
		ASSERT_TRUE(n >= 3, "help lists options");
		for (size_t i = 0; i < n; i++) {
			unsigned char l = (unsigned char)opts[i].letter;

			total++;
			if (l && meaning[l][0]) {
				snprintf(what, sizeof(what), "-%c is --%s in %s and --%s in %s", l,
					 meaning[l], where[l], opts[i].name, cmd);
				ASSERT_STR_EQ(opts[i].name, meaning[l], what);
			} else if (l) {
				snprintf(meaning[l], sizeof(meaning[l]), "%s", opts[i].name);
				snprintf(where[l], sizeof(where[l]), "%s", cmd);
			}
			/* help, version and verbose act at once: tested below. */
			if (l != 'h' && l != 'V' && l != 'v')
				check_option_parses(cmd, &opts[i]);
		}
	}
	ASSERT_TRUE(total > 100, "the commands' options were all read");
	ASSERT_STR_EQ(meaning['p'], "pid", "-p is the pid, as in bcc's tools");
	ASSERT_STR_EQ(meaning['i'], "interval", "-i is the interval");
	ASSERT_STR_EQ(meaning['c'], "count", "-c is the count");
	ASSERT_STR_EQ(meaning['j'], "json", "-j is JSON");
}

TEST(cli_help_and_version_after_every_command)
{
	char out[32768], err[1024], long_help[32768], version[256];

	ASSERT_EQ(run_sockeye((const char *[]){ "--version", NULL }, version, sizeof(version), err,
			      sizeof(err)), 0, "--version");
	for (size_t c = 0; c < sizeof(command_names) / sizeof(command_names[0]); c++) {
		const char *cmd = command_names[c];

		ASSERT_EQ(run_sockeye((const char *[]){ cmd, "--help", NULL }, long_help,
				      sizeof(long_help), err, sizeof(err)), 0, cmd);
		ASSERT_EQ(run_sockeye((const char *[]){ cmd, "-h", NULL }, out, sizeof(out), err,
				      sizeof(err)), 0, cmd);
		ASSERT_STR_EQ(out, long_help, "-h is --help");
		ASSERT_HAS(out, "Usage: sockeye ", "a usage line");
		ASSERT_EQ(run_sockeye((const char *[]){ cmd, "--version", NULL }, out, sizeof(out),
				      err, sizeof(err)), 0, cmd);
		ASSERT_STR_EQ(out, version, "--version after the command");
		ASSERT_EQ(run_sockeye((const char *[]){ cmd, "-V", NULL }, out, sizeof(out), err,
				      sizeof(err)), 0, cmd);
		ASSERT_STR_EQ(out, version, "-V after the command");
	}
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

static int count_of(const char *s, const char *needle)
{
	int n = 0;

	for (; (s = strstr(s, needle)); s++)
		n++;
	return n;
}

/* -c stops every periodic report after its count, in every command that
 * reports periodically; durations take units. */
KTEST(cli_count_stops_every_periodic_report)
{
	static const struct { const char *args[MAX_ARGS]; const char *record; } cases[] = {
		{ { "connlat", "--hist", "-i", "200ms", "-c", "2", "-j" }, "\"type\":\"hist\"" },
		{ { "sockstat", "-i", "0.2", "-c", "2", "-j" }, "\"type\":\"sockstat\"" },
		{ { "top", "-i", "200ms", "-c", "2", "-j", "-p", "1" }, "\"type\":\"total\"" },
		{ { "flows", "-i", "200ms", "-c", "2", "-j", "--lport", "1" }, "\"type\":\"flows\"" },
	};
	static char out[1 << 16];
	char err[4096];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ASSERT_EQ(run_sockeye(cases[i].args, out, sizeof(out), err, sizeof(err)), 0, err);
		ASSERT_EQ(count_of(out, cases[i].record), 2, cases[i].args[0]);
	}
}
