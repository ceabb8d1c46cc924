// SPDX-License-Identifier: GPL-2.0-only
/* sockeye: one eBPF program for a host's TCP and UDP sockets. This file
 * holds the command table and the dispatch; each command has its own file. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>
#include <bpf/libbpf.h>
#include "sockeye.h"
#include "version.h"

static const struct command commands[] = {
	{ "top", cmd_top, "bandwidth per process, live (the default command)" },
	{ "events", cmd_events, "one line per socket event (connect, accept, send, close, ...)" },
	{ "connlat", cmd_connlat, "TCP connect latency, SYN sent to SYN-ACK received" },
	{ "flows", cmd_flows, "TCP connections and their health: window, RTT, bytes, retransmits" },
	{ "http", cmd_http, "HTTP/1.x requests with status and latency, server and client side" },
	{ "soconnect", cmd_soconnect, "connect(2) calls with their latency and result" },
	{ "sockstat", cmd_sockstat, "socket system calls counted per interval (socket, connect, send, ...)" },
	{ "sofamily", cmd_sofamily, "accepts and connects by process and address family" },
	{ "soprotocol", cmd_soprotocol, "accepts and connects by process and transport protocol" },
	{ "agent", cmd_agent, "a daemon serving Prometheus metrics, with maps pinned for the others" },
	{ "features", cmd_features, "what this kernel allows and which commands can run" },
};

#define DEFAULT_COMMAND "top"

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	/* sockeye says what failed and what to do; -v adds libbpf's why. */
	return verbose ? vfprintf(stderr, fmt, ap) : 0;
}

static void print_help(void)
{
	printf("Usage: sockeye [-v] COMMAND [OPTIONS]\n"
	       "       sockeye COMMAND --help\n"
	       "\n"
	       "Watch a host's TCP and UDP sockets with eBPF. With no command, runs '%s'.\n"
	       "\nCommands:\n", DEFAULT_COMMAND);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %-11s %s\n", commands[i].name, commands[i].summary);
	printf("\nOptions:\n"
	       "  -v, --verbose  show libbpf's messages (verifier output) while loading\n"
	       "  -h, --help     show this help\n"
	       "      --version  print the version\n"
	       "\nNeeds root, or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN, and a kernel with BTF.\n"
	       "Exit status: 0 on success and on Ctrl-C, 1 on failure, 2 on bad usage.\n");
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static char *default_argv[] = { DEFAULT_COMMAND, NULL };
	const struct command *cmd;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'v':
			verbose = true;
			break;
		case 'h':
			print_help();
			return EXIT_OK;
		case 'V':
			printf("sockeye %s (%s, libbpf %s)\n", SOCKEYE_VERSION, SOCKEYE_REVISION,
			       libbpf_version_string());
			return EXIT_OK;
		default:
			usage_error(NULL, "unknown option '%s' (see 'sockeye --help')", argv[optind - 1]);
		}
	}
	libbpf_set_print(libbpf_print);
	if (optind < argc) {
		/* The command sees its own name as argv[0]. */
		argc -= optind;
		argv += optind;
	} else {
		argc = 1;
		argv = default_argv;
	}
	cmd = find_command(argv[0]);
	if (!cmd)
		usage_error(NULL, "unknown command '%s' (see 'sockeye --help')", argv[0]);
	optind = 0;	/* resets getopt fully for the command's options */
	return cmd->run(argc, argv);
}
