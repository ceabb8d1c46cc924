/* SPDX-License-Identifier: GPL-2.0-only */
/* Every command declares its options in one table of struct opt_def; one
 * engine turns the table into the getopt_long parser, the OPTIONS part of
 * --help and the shell completion. The shared options are macros, so that
 * a letter, a name and a help line mean the same in every command that
 * has them (tests/test_cli.c checks it across the commands). */
#ifndef SOCKEYE_OPTIONS_H
#define SOCKEYE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#include "sock.h"

/* What every command's options struct starts with, as its `common`. */
struct common_opts {
	bool json;
	double duration;	/* seconds; 0 runs until Ctrl-C */
	double interval;	/* seconds; 0 when not given */
	unsigned long count;	/* reports; 0 for no limit */
	struct sock_filters filters;
};

/* Copies the filters into a BPF object's read-only data (its `filter`,
 * from bpf/sockeye.bpf.h) before load, with how this kernel lets its
 * programs find a process's cgroup. */
void set_filters(volatile struct sock_filters *rodata, const struct sock_filters *f);

enum opt_type {
	OPT_FLAG,	/* sets a bool */
	OPT_SET,	/* stores .value in an int-like field: --tcp, -4 */
	OPT_UINT,	/* a whole number from .min to .max */
	OPT_DURATION,	/* seconds, as a double: 10, 1.5, 10s, 500ms, 2m, 1h */
	OPT_STRING,	/* the word itself, as a const char * */
	OPT_CHOICE,	/* one of .choices' names; stores its value as an int */
	OPT_CALL,	/* .parse stores it (a flag when .arg is NULL) */
	OPT_RENAMED,	/* an old spelling: refused with the new one's name */
};

struct opt_choice {
	const char *name;
	int value;
};

struct opt_def {
	const char *name;	/* the long option, without "--" (NULL: an old letter) */
	int letter;		/* its short form, or 0 */
	const char *arg;	/* the value's name in --help; NULL for a flag */
	const char *help;	/* one paragraph, wrapped by the engine */
	enum opt_type type;
	size_t offset, size;	/* the field it lands in, in the options struct */
	unsigned long min, max;	/* OPT_UINT */
	int value;		/* OPT_SET */
	const struct opt_choice *choices;	/* OPT_CHOICE; words to complete for OPT_CALL */
	/* OPT_CALL: stores arg in field, or calls usage_error(). */
	void (*parse)(const char *cmd, const char *arg, void *field);
	int group;		/* options of one group exclude each other */
	bool many;		/* OPT_CALL: may be given again, each value parsed */
	const char *renamed;	/* OPT_RENAMED: the spelling to use now */
};

#define OPT_FIELD(type, field) \
	.offset = offsetof(type, field), .size = sizeof(((type *)0)->field)

/* The groups of options that exclude each other. */
enum { GROUP_NONE, GROUP_FAMILY, GROUP_PROTO, GROUP_COMMAND_FIRST };

/* ---- the shared options; T is the command's options struct ---- */

/* Sets the bool, and errors become JSON too. */
void parse_json(const char *cmd, const char *arg, void *json);
#define OPTION_JSON(T) \
	{ "json", 'j', NULL, "JSON Lines, one object per line (the record types are in " \
	  "sockeye's JSON schema)", OPT_CALL, OPT_FIELD(T, common.json), .parse = parse_json }
#define OPTION_PID(T) \
	{ "pid", 'p', "PID", "only sockets of this process (its thread group id)", OPT_UINT, \
	  OPT_FIELD(T, common.filters.pid), .min = 1, .max = 4194304 }
void parse_comm(const char *cmd, const char *arg, void *filters);
#define OPTION_COMM(T) \
	{ "comm", 0, "NAME", "only processes with this name (exact, 15 characters at most)", \
	  OPT_CALL, OPT_FIELD(T, common.filters), .parse = parse_comm }
#define OPTION_PORT(T) \
	{ "port", 0, "PORT", "only sockets with this local or remote port", OPT_UINT, \
	  OPT_FIELD(T, common.filters.port), .min = 1, .max = 65535 }
/* The local and remote port filters of the commands that have them. */
#define OPTION_LPORT(T, field) \
	{ "lport", 0, "PORT", "only sockets with this local port", OPT_UINT, \
	  OPT_FIELD(T, field), .min = 1, .max = 65535 }
#define OPTION_RPORT(T, field) \
	{ "rport", 0, "PORT", "only sockets with this remote port", OPT_UINT, \
	  OPT_FIELD(T, field), .min = 1, .max = 65535 }
#define OPTION_FAMILY(T) \
	{ "ipv4", '4', NULL, "only IPv4 sockets", OPT_SET, OPT_FIELD(T, common.filters.family), \
	  .value = 2, .group = GROUP_FAMILY }, \
	{ "ipv6", '6', NULL, "only IPv6 sockets", OPT_SET, OPT_FIELD(T, common.filters.family), \
	  .value = 10, .group = GROUP_FAMILY }
void parse_cgroup(const char *cmd, const char *arg, void *filters);
#define OPTION_CGROUP(T) \
	{ "cgroup", 0, "PATH", "only processes in this cgroup v2 or below it: a path under " \
	  "the cgroup2 mount, or as /proc/PID/cgroup shows it", OPT_CALL, \
	  OPT_FIELD(T, common.filters), .parse = parse_cgroup }
#define OPTION_DURATION(T) \
	{ "duration", 0, "TIME", "stop after TIME (seconds, or with a unit: 500ms, 10s, 2m, 1h)", \
	  OPT_DURATION, OPT_FIELD(T, common.duration) }
#define OPTION_INTERVAL(T, what) \
	{ "interval", 'i', "TIME", what, OPT_DURATION, OPT_FIELD(T, common.interval) }
#define OPTION_COUNT(T, what) \
	{ "count", 'c', "N", what, OPT_UINT, OPT_FIELD(T, common.count), .min = 1, \
	  .max = 1000000000 }
#define OPTION_BATCH(T, field) \
	{ "batch", 'b', NULL, "text snapshots, one per interval, even on a terminal", OPT_FLAG, \
	  OPT_FIELD(T, field) }
#define OPTION_SORT(T, field, what, keys) \
	{ "sort", 's', "KEY", what, OPT_CHOICE, OPT_FIELD(T, field), .choices = keys }
#define OPTION_TCP_UDP(T, field, tcp, udp) \
	{ "tcp", 0, NULL, "only TCP", OPT_SET, OPT_FIELD(T, field), .value = tcp, \
	  .group = GROUP_PROTO }, \
	{ "udp", 0, NULL, "only UDP", OPT_SET, OPT_FIELD(T, field), .value = udp, \
	  .group = GROUP_PROTO }
#define OPTION_FROM_AGENT(T, field, what) \
	{ "from-agent", 0, NULL, what, OPT_FLAG, OPT_FIELD(T, field) }
#define OPTION_PIN_DIR(T, field, what) \
	{ "pin-dir", 0, "DIR", what, OPT_STRING, OPT_FIELD(T, field) }
/* An old spelling, refused with a pointer to the new one: a long name, a
 * letter, or both (old_name NULL where the long name lives on). */
#define OPTION_RENAMED(old_name, old_letter, arg_name, new_spelling) \
	{ old_name, old_letter, arg_name, NULL, OPT_RENAMED, .renamed = new_spelling }
#define OPTION_END { NULL, 0 }

/* The common filters, for the commands that have them all. */
#define OPTION_FILTERS(T) OPTION_PID(T), OPTION_COMM(T), OPTION_PORT(T), OPTION_FAMILY(T)

/* A command: its name, its options and the text around them in --help
 * (and in its man page). */
struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;		/* one line, for `sockeye --help` */
	const char *synopsis;		/* after "sockeye NAME", e.g. "[OPTIONS]" */
	const char *description;	/* before the options */
	void (*print_details)(FILE *out);	/* after it, what only the program knows */
	const char *notes;		/* after them: columns, fields, costs */
	const char *examples;		/* "  sockeye ...   what it does" lines */
	const char *overhead;		/* the man page's OVERHEAD: hooks and cost */
	const struct opt_def *options;	/* ends with OPTION_END */
	const struct program_set *programs;	/* its BPF object and hook table, if any */
};

/* Parses argv (argv[0] is the command's name) into opts, by the command's
 * table: --help, --version and --verbose are every command's. An unknown
 * option, a bad value, an option given twice, two that exclude each other
 * or a stray argument end the program with one line and exit code 2.
 * Returns after the last option. */
void parse_options(const struct command *cmd, int argc, char **argv, void *opts);


/* The command's man page, sockeye-NAME(8), as roff: the same text as
 * --help, in the sections of a man page. */
void print_command_man(const struct command *cmd, FILE *out);
/* sockeye(8): the commands, the global options, requirements. */
void print_main_man(const struct command *const *cmds, size_t n, FILE *out);
/* The bash completion of every command: options, and the values of those
 * with choices, files or directories. */
void print_completion_bash(const struct command *const *cmds, size_t n, FILE *out);

/* "invalid NAME 'ARG': ..." with a whole number; for the commands' own
 * parsers of lists and the like. */
unsigned long parse_ulong(const char *cmd, const char *what, const char *arg,
			  unsigned long min, unsigned long max);

/* Refuses --pin-dir without --from-agent, and filters with it: the
 * agent's programs filtered with its own options, in the kernel. */
void check_agent_source(const char *cmd, bool from_agent, const char *pin_dir, bool filtered);
/* Whether any of the shared filters is set. */
bool any_filter(const struct sock_filters *f);

#endif
