// SPDX-License-Identifier: GPL-2.0-only
/* Shared option parsing. getopt_long rather than argp: argp prints two
 * lines and exits 64 on a bad option; sockeye promises one line and 2. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "sockeye.h"
#include "options.h"
#include "probe.h"

/* "--flag=value" for a flag: getopt reports it like an unknown option. */
static bool takes_no_value(const char *arg, const struct option *longopts)
{
	const char *eq = strchr(arg, '=');

	if (strncmp(arg, "--", 2) || !eq)
		return false;
	for (; longopts->name; longopts++)
		if (longopts->has_arg == no_argument &&
		    strlen(longopts->name) == (size_t)(eq - arg - 2) &&
		    !strncmp(longopts->name, arg + 2, eq - arg - 2))
			return true;
	return false;
}

int next_option(const char *cmd, int argc, char **argv, const char *shortopts,
		const struct option *longopts)
{
	char spec[64];
	int opt;

	/* A leading ':' makes getopt report a missing value apart from an
	 * unknown option. */
	snprintf(spec, sizeof(spec), ":%s", shortopts);
	opterr = 0;
	opt = getopt_long(argc, argv, spec, longopts, NULL);
	if (opt == '?') {
		if (takes_no_value(argv[optind - 1], longopts))
			usage_error(cmd, "option '%.*s' takes no value",
				    (int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
		if (optopt && optopt < 0x100)
			usage_error(cmd, "unknown option '-%c' (see 'sockeye %s --help')", optopt, cmd);
		usage_error(cmd, "unknown option '%s' (see 'sockeye %s --help')", argv[optind - 1], cmd);
	}
	if (opt == ':')
		usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
	return opt;
}

unsigned long parse_ulong(const char *cmd, const char *what, const char *arg,
			  unsigned long min, unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (!*arg || *end || errno || arg[0] == '-' || v < min || v > max)
		usage_error(cmd, "invalid %s '%s': expected a whole number from %lu to %lu",
			    what, arg, min, max);
	return v;
}

double parse_seconds(const char *cmd, const char *what, const char *arg)
{
	double v;
	char *end;

	errno = 0;
	v = strtod(arg, &end);
	if (!*arg || *end || errno || !isfinite(v) || v <= 0 || v > 31536000)
		usage_error(cmd, "invalid %s '%s': expected seconds greater than 0", what, arg);
	return v;
}

/* A cgroup's id is the inode number of its directory in the cgroup2
 * mount; its level is how many directories down from the root it is. */
static void parse_cgroup(const char *cmd, const char *arg, struct sock_filters *f)
{
	const char *root = cgroup2_root(), *rel = arg;
	char path[PATH_MAX], real[PATH_MAX];
	size_t root_len;
	struct stat st;

	if (!root) {
		p_err("--cgroup needs cgroup v2, which is not mounted; mount it with "
		      "'mount -t cgroup2 none /sys/fs/cgroup'");
		exit(EXIT_FAIL);
	}
	root_len = strlen(root);
	if (!strncmp(arg, root, root_len) && (!arg[root_len] || arg[root_len] == '/'))
		rel = arg + root_len;
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	/* realpath() resolves "..", so the level counts real directories. */
	if (!*arg || !realpath(path, real) || strncmp(real, root, root_len) ||
	    (real[root_len] && real[root_len] != '/') || stat(real, &st) || !S_ISDIR(st.st_mode))
		usage_error(cmd, "invalid cgroup '%s': no such cgroup under %s", arg, root);
	f->cgroup_id = st.st_ino;
	f->cgroup_level = 0;
	for (const char *c = real + root_len; *c; c++)
		f->cgroup_level += *c == '/';
}

double optional_seconds(const char *cmd, const char *what, int argc, char **argv)
{
	char *end;

	if (optarg)
		return parse_seconds(cmd, what, optarg);
	if (optind < argc && strtod(argv[optind], &end) && !*end)
		return parse_seconds(cmd, what, argv[optind++]);
	return 0;
}

bool common_option(const char *cmd, int opt, const char *arg, const char *help,
		   struct common_opts *o)
{
	struct sock_filters *f = &o->filters;

	switch (opt) {
	case 'p':
		f->pid = parse_ulong(cmd, "pid", arg, 1, 4194304);
		return true;
	case OPT_COMM:
		if (!*arg || strlen(arg) >= sizeof(f->comm))
			usage_error(cmd, "invalid comm '%s': expected 1 to %zu characters",
				    arg, sizeof(f->comm) - 1);
		strcpy(f->comm, arg);
		f->comm_set = true;
		return true;
	case OPT_PORT:
		f->port = parse_ulong(cmd, "port", arg, 1, 65535);
		return true;
	case '4':
	case '6':
		if (f->family)
			usage_error(cmd, "-4 and -6 exclude each other; give neither for both");
		f->family = opt == '4' ? AF_INET : AF_INET6;
		return true;
	case OPT_CGROUP:
		parse_cgroup(cmd, arg, f);
		return true;
	case OPT_JSON:
		o->json = true;
		json_errors = true;
		return true;
	case OPT_DURATION:
		o->duration = parse_seconds(cmd, "duration", arg);
		return true;
	case 'v':
		verbose = true;
		return true;
	case 'h':
		fputs(help, stdout);
		exit(EXIT_OK);
	}
	return false;
}

bool interval_option(const char *cmd, int opt, const char *arg, struct interval_opts *o)
{
	switch (opt) {
	case 'i':
		o->interval = parse_seconds(cmd, "interval", arg);
		return true;
	case 'c':
		o->count = parse_ulong(cmd, "count", arg, 1, 1000000000);
		return true;
	}
	return false;
}

bool agent_source_option(int opt, const char *arg, struct agent_source *src)
{
	switch (opt) {
	case OPT_FROM_AGENT:
		src->from_agent = true;
		return true;
	case OPT_PIN_DIR:
		src->pin_dir = arg;
		return true;
	}
	return false;
}

void check_agent_source(const char *cmd, const struct agent_source *src, bool filtered)
{
	if (src->pin_dir && !src->from_agent)
		usage_error(cmd, "--pin-dir goes with --from-agent");
	if (src->from_agent && filtered)
		usage_error(cmd, "filters do not apply to --from-agent: the agent counts with its own");
}

bool any_filter(const struct sock_filters *f)
{
	static const struct sock_filters none;

	return memcmp(f, &none, sizeof(none));
}

void no_arguments(const char *cmd, int argc, char **argv)
{
	if (optind < argc)
		usage_error(cmd, "unexpected argument '%s' (see 'sockeye %s --help')",
			    argv[optind], cmd);
}
