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
#include "options.h"

static const struct command docs_command;

static const struct command *const commands[] = {
	WATCH_COMMANDS, &agent_command, &features_command, &docs_command,
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

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
	for (size_t i = 0; i < N_COMMANDS; i++)
		printf("  %-11s %s\n", commands[i]->name, commands[i]->summary);
	printf("\nOptions:\n"
	       "  -v, --verbose  show libbpf's messages (verifier output) while loading\n"
	       "  -h, --help     show this help\n"
	       "  -V, --version  print the version\n"
	       "\nNeeds root, or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN, and a kernel with BTF.\n"
	       "Exit status: 0 on success and on Ctrl-C, 1 on failure, 2 on bad usage.\n");
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

/* ---- docs: the man pages and the completion, from the tables ---- */

struct docs_opts {
	const char *man;
	int completion;
};

enum { SHELL_NONE, SHELL_BASH };

static const struct opt_choice docs_shells[] = { { "bash", SHELL_BASH }, { NULL } };

static const struct opt_def docs_options[] = {
	{ "man", 0, "COMMAND", "print COMMAND's man page, sockeye-COMMAND(8), as roff; "
	  "'sockeye' prints sockeye(8)", OPT_STRING, OPT_FIELD(struct docs_opts, man),
	  .group = GROUP_COMMAND_FIRST },
	{ "completion", 0, "SHELL", "print the completion script of SHELL", OPT_CHOICE,
	  OPT_FIELD(struct docs_opts, completion), .choices = docs_shells,
	  .group = GROUP_COMMAND_FIRST },
	OPTION_END,
};

static int cmd_docs(int argc, char **argv)
{
	struct docs_opts opts = {};
	const struct command *cmd;

	parse_options(&docs_command, argc, argv, &opts);
	if (opts.completion == SHELL_BASH) {
		print_completion_bash(commands, N_COMMANDS, stdout);
	} else if (opts.man && !strcmp(opts.man, "sockeye")) {
		print_main_man(commands, N_COMMANDS, stdout);
	} else if (opts.man) {
		cmd = find_command(opts.man);
		if (!cmd)
			usage_error("docs", "invalid --man '%s': no such command (see 'sockeye "
				    "--help')", opts.man);
		print_command_man(cmd, stdout);
	} else {
		usage_error("docs", "give --man COMMAND or --completion bash");
	}
	return fflush(stdout) ? EXIT_FAIL : EXIT_OK;
}

static const struct command docs_command = {
	.name = "docs",
	.run = cmd_docs,
	.summary = "print a man page or the shell completion (for packagers)",
	.synopsis = "--man COMMAND | --completion bash",
	.description =
	"Prints a command's man page or the bash completion, made from the same\n"
	"tables as every command's --help, so that they cannot differ. 'make man'\n"
	"and 'make completion' run it; 'make install' installs what they wrote.\n",
	.examples =
	"  sockeye docs --man flows | man -l -     read sockeye-flows(8) unbuilt\n"
	"  sockeye docs --completion bash > /etc/bash_completion.d/sockeye\n",
	.options = docs_options,
};

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
	while ((opt = getopt_long(argc, argv, "+vhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'v':
			verbose = true;
			break;
		case 'h':
			print_help();
			return EXIT_OK;
		case 'V':
			print_version();
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
	return cmd->run(argc, argv);
}
