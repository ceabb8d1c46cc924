/* SPDX-License-Identifier: GPL-2.0-only */
/* What every part of sockeye's user side shares: the command table's entry
 * type, exit codes, error reporting and the shared options. */
#ifndef SOCKEYE_H
#define SOCKEYE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* The release; its git revision, SOCKEYE_REVISION, is in the generated
 * build/version.h, included only where it is printed (main.c, agent.c). */
#define SOCKEYE_VERSION "0.2.0"

#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

extern bool verbose;
/* Errors follow the output mode: a JSON object on stderr under --json. */
extern bool json_errors;

void p_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void p_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void p_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "sockeye VERSION (libbpf VERSION)", for --version. */
void print_version(void);
/* Prints "sockeye CMD: MESSAGE" and exits with EXIT_USAGE. */
void usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/* Each command's BPF programs and hooks (its struct command's programs). */
struct program_set;
extern const struct program_set events_programs;
extern const struct program_set connlat_programs;
extern const struct program_set soconnect_programs;
extern const struct program_set sockstat_programs;
extern const struct program_set sofamily_programs;
extern const struct program_set soprotocol_programs;
extern const struct program_set top_programs;
extern const struct program_set http_programs;
extern const struct program_set flows_programs;

/* The commands (options.h), each defined in its own file. */
struct command;
extern const struct command events_command;
extern const struct command connlat_command;
extern const struct command soconnect_command;
extern const struct command sockstat_command;
extern const struct command sofamily_command;
extern const struct command soprotocol_command;
extern const struct command top_command;
extern const struct command http_command;
extern const struct command flows_command;
extern const struct command features_command;
extern const struct command agent_command;

/* The commands that watch the host, each with its own BPF programs, in
 * --help's order: main.c's table starts with them, and `sockeye features`
 * and the tests go through them. */
#define WATCH_COMMANDS &top_command, &events_command, &connlat_command, &flows_command, \
	&http_command, &soconnect_command, &sockstat_command, &sofamily_command,        \
	&soprotocol_command

#endif
