/* SPDX-License-Identifier: GPL-2.0-only */
/* Options every command shares (output mode, run length, filters) and
 * checked number parsing. */
#ifndef SOCKEYE_OPTIONS_H
#define SOCKEYE_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <linux/types.h>
#include "sock.h"

struct common_opts {
	bool json;
	double duration;	/* seconds; 0 runs until Ctrl-C */
	struct sock_filters filters;
};

/* Copies the filters into a BPF object's read-only data (its `filter`,
 * from bpf/sockeye.bpf.h) before load. */
static inline void set_filters(volatile struct sock_filters *rodata, const struct sock_filters *f)
{
	memcpy((void *)rodata, f, sizeof(*f));
}

enum common_long_only {
	OPT_COMM = 0x100,
	OPT_PORT,
	OPT_DURATION,
	OPT_JSON,
	OPT_CGROUP,
	OPT_FROM_AGENT,
	OPT_PIN_DIR,
	OPT_COMMAND_FIRST = 0x200,	/* commands number their own from here */
};

#define COMMON_SHORTOPTS "p:46hv"
#define COMMON_LONGOPTS                                                   \
	{ "pid", required_argument, NULL, 'p' },                          \
	{ "comm", required_argument, NULL, OPT_COMM },                    \
	{ "port", required_argument, NULL, OPT_PORT },                    \
	{ "duration", required_argument, NULL, OPT_DURATION },            \
	{ "json", no_argument, NULL, OPT_JSON },                          \
	{ "help", no_argument, NULL, 'h' },                               \
	{ "verbose", no_argument, NULL, 'v' }

/* The help lines of the shared options, in pieces for the commands to
 * which some filters do not apply. */
#define PROCESS_FILTER_HELP                                                          \
	"  -p, --pid PID        only sockets of this process (thread group id)\n"     \
	"      --comm NAME      only processes with this name (exact, 15 chars max)\n"
#define PORT_FILTER_HELP                                                             \
	"      --port PORT      only sockets with this local or remote port\n"
/* --cgroup, for the commands whose programs all run in the process that
 * owns the socket (the filter reads the current task's cgroup). */
#define CGROUP_LONGOPT { "cgroup", required_argument, NULL, OPT_CGROUP }
#define CGROUP_FILTER_HELP                                                           \
	"      --cgroup PATH    only processes in this cgroup v2 or below it: a path\n"   \
	"                       under the cgroup2 mount, or as /proc/PID/cgroup shows it\n"
#define FAMILY_FILTER_HELP                                                           \
	"  -4, -6               only IPv4, only IPv6 sockets\n"
#define RUN_HELP                                                                     \
	"      --json           JSON Lines output, one object per line\n"             \
	"      --duration SECS  stop after SECS seconds (fractions allowed)\n"        \
	"  -v, --verbose        show libbpf's messages while loading\n"               \
	"  -h, --help           show this help\n"
#define COMMON_HELP PROCESS_FILTER_HELP PORT_FILTER_HELP FAMILY_FILTER_HELP RUN_HELP

/* -i/--interval and -c/--count, for the commands that report periodically. */
struct interval_opts {
	double interval;	/* seconds; 0 when not given */
	unsigned long count;	/* reports; 0 for no limit */
};

#define INTERVAL_SHORTOPTS "i:c:"
#define INTERVAL_LONGOPTS                                                 \
	{ "interval", required_argument, NULL, 'i' },                     \
	{ "count", required_argument, NULL, 'c' }

/* Handles -i or -c; returns false if opt is neither. */
bool interval_option(const char *cmd, int opt, const char *arg, struct interval_opts *o);

/* --from-agent and --pin-dir, for the commands that can read what a
 * running agent counts (pins.h) instead of loading programs. */
struct agent_source {
	bool from_agent;
	const char *pin_dir;	/* NULL: the default */
};

#define AGENT_SOURCE_LONGOPTS                                             \
	{ "from-agent", no_argument, NULL, OPT_FROM_AGENT },              \
	{ "pin-dir", required_argument, NULL, OPT_PIN_DIR }

/* Handles --from-agent or --pin-dir; returns false if opt is neither. */
bool agent_source_option(int opt, const char *arg, struct agent_source *src);
/* Refuses --pin-dir without --from-agent, and filters with it: the
 * agent's programs filtered with its own options, in the kernel. */
void check_agent_source(const char *cmd, const struct agent_source *src, bool filtered);
/* Whether any of the shared filters is set. */
bool any_filter(const struct sock_filters *f);

/* getopt_long over argv with sockeye's error style: an unknown option or
 * a missing value ends the program with one line and exit code 2. */
int next_option(const char *cmd, int argc, char **argv, const char *shortopts,
		const struct option *longopts);

/* Handles one of the shared options; returns false if opt is not one. */
bool common_option(const char *cmd, int opt, const char *arg, const char *help,
		   struct common_opts *o);

/* Refuses stray positional arguments. */
void no_arguments(const char *cmd, int argc, char **argv);

unsigned long parse_ulong(const char *cmd, const char *what, const char *arg,
			  unsigned long min, unsigned long max);
double parse_seconds(const char *cmd, const char *what, const char *arg);
/* The value of an option with an optional interval (--hist, --summary):
 * as --opt=5, and, since that is what people type, as --opt 5 when the
 * next word is a number (taken from argv); 0 when none is given. */
double optional_seconds(const char *cmd, const char *what, int argc, char **argv);

#endif
