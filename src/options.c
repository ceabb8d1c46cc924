// SPDX-License-Identifier: GPL-2.0-only
/* The option engine (options.h): a command's table becomes its getopt_long
 * parser and its --help. getopt_long rather than argp: argp prints two
 * lines and exits 64 on a bad option; sockeye promises one line and 2. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "sockeye.h"
#include "options.h"
#include "probe.h"

/* Every command's own: they are not in the tables. */
static const struct opt_def global_options[] = {
	{ "verbose", 'v', NULL, "show libbpf's messages (the verifier's output) while loading",
	  OPT_FLAG },
	{ "help", 'h', NULL, "show this help", OPT_FLAG },
	{ "version", 'V', NULL, "print the version", OPT_FLAG },
	OPTION_END,
};

enum { GLOBAL_VERBOSE, GLOBAL_HELP, GLOBAL_VERSION };

#define MAX_OPTIONS 64
/* getopt_long returns an option's index in the merged list plus this. */
#define OPT_INDEX_BASE 0x100

/* A command's options followed by the global ones. */
struct option_list {
	const struct opt_def *def[MAX_OPTIONS];
	size_t n;
};

static void list_options(const struct opt_def *options, struct option_list *l)
{
	l->n = 0;
	for (const struct opt_def *o = options; o && (o->name || o->letter); o++)
		l->def[l->n++] = o;
	for (const struct opt_def *o = global_options; o->name; o++)
		l->def[l->n++] = o;
}

/* "--name": how an error names an option, whichever way it was typed. */
static const char *spelled(const struct opt_def *o)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "--%s", o->name);
	return buf;
}

static void build_getopt(const struct option_list *l, struct option *longopts, char *shortopts)
{
	char *s = shortopts;
	size_t n = 0;

	*s++ = ':';	/* a missing value is told apart from an unknown option */
	for (size_t i = 0; i < l->n; i++) {
		const struct opt_def *o = l->def[i];

		if (o->name)
			longopts[n++] = (struct option){ o->name,
							 o->arg ? required_argument : no_argument,
							 NULL, OPT_INDEX_BASE + (int)i };
		if (o->letter) {
			*s++ = (char)o->letter;
			if (o->arg)
				*s++ = ':';
		}
	}
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };
	*s = '\0';
}

static int index_of_letter(const struct option_list *l, int letter)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->def[i]->letter == letter)
			return (int)i;
	return -1;
}

/* "--flag=value" for a flag: getopt reports it like an unknown option. */
static const struct opt_def *flag_given_value(const struct option_list *l, const char *word)
{
	const char *eq = strchr(word, '=');

	if (strncmp(word, "--", 2) || !eq)
		return NULL;
	for (size_t i = 0; i < l->n; i++)
		if (!l->def[i]->arg && l->def[i]->name &&
		    strlen(l->def[i]->name) == (size_t)(eq - word - 2) &&
		    !strncmp(l->def[i]->name, word + 2, eq - word - 2))
			return l->def[i];
	return NULL;
}

static void unknown_option(const char *cmd, const struct option_list *l, const char *word)
{
	const struct opt_def *flag = flag_given_value(l, word);

	if (flag)
		usage_error(cmd, "option '%s' takes no value", spelled(flag));
	if (optopt && optopt < OPT_INDEX_BASE)
		usage_error(cmd, "unknown option '-%c' (see 'sockeye %s --help')", optopt, cmd);
	usage_error(cmd, "unknown option '%s' (see 'sockeye %s --help')", word, cmd);
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

/* A duration: a number of seconds, or with a unit (ms, s, m, h). */
static double parse_duration(const char *cmd, const char *what, const char *arg)
{
	static const struct { const char *unit; double seconds; } units[] = {
		{ "", 1 }, { "ms", 0.001 }, { "s", 1 }, { "m", 60 }, { "h", 3600 },
	};
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (*arg && !errno && isfinite(v) && end != arg && *arg != '-' && *arg != '+')
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (!strcmp(end, units[i].unit) && v * units[i].seconds > 0 &&
			    v * units[i].seconds <= 31536000)
				return v * units[i].seconds;
	usage_error(cmd, "invalid %s '%s': expected a time greater than 0 and at most a year, "
		    "in seconds or with a unit (500ms, 10s, 2m, 1h)", what, arg);
}

static void store_uint(void *field, size_t size, unsigned long v)
{
	switch (size) {
	case 1: *(uint8_t *)field = v; break;
	case 2: *(uint16_t *)field = v; break;
	case 4: *(uint32_t *)field = v; break;
	default: *(uint64_t *)field = v; break;
	}
}

static void store_choice(const char *cmd, const struct opt_def *o, const char *arg, void *field)
{
	char names[256] = "";

	for (const struct opt_choice *c = o->choices; c->name; c++) {
		if (!strcmp(c->name, arg)) {
			*(int *)field = c->value;
			return;
		}
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			 c == o->choices ? "" : ", ", c->name);
	}
	usage_error(cmd, "invalid %s '%s': expected one of %s", spelled(o), arg, names);
}

static void store(const char *cmd, const struct opt_def *o, const char *arg, void *opts)
{
	void *field = (char *)opts + o->offset;

	switch (o->type) {
	case OPT_FLAG:
		*(bool *)field = true;
		break;
	case OPT_SET:
		store_uint(field, o->size, (unsigned long)o->value);
		break;
	case OPT_UINT:
		store_uint(field, o->size, parse_ulong(cmd, spelled(o), arg, o->min, o->max));
		break;
	case OPT_DURATION:
		*(double *)field = parse_duration(cmd, spelled(o), arg);
		break;
	case OPT_STRING:
		if (!*arg)
			usage_error(cmd, "invalid %s '': expected a value", spelled(o));
		*(const char **)field = arg;
		break;
	case OPT_CHOICE:
		store_choice(cmd, o, arg, field);
		break;
	case OPT_CALL:
		o->parse(cmd, arg, field);
		break;
	case OPT_RENAMED:
		usage_error(cmd, "option %s%s%s%s%s is now '%s' (see 'sockeye %s --help')",
			    o->name ? "'" : "", o->name ? spelled(o) : "", o->name ? "'" : "",
			    o->name && o->letter ? " or " : "",
			    o->letter ? (char[]){ '\'', '-', (char)o->letter, '\'', 0 } : "",
			    o->renamed, cmd);
	}
}

static void print_command_help(const struct command *cmd, FILE *out);

/* The global options act at once: --help and --version need no more. */
static void global_option(const struct command *cmd, int which)
{
	switch (which) {
	case GLOBAL_VERBOSE:
		verbose = true;
		break;
	case GLOBAL_HELP:
		print_command_help(cmd, stdout);
		exit(EXIT_OK);
	case GLOBAL_VERSION:
		print_version();
		exit(EXIT_OK);
	}
}

/* Refuses an option given twice (the later would silently win) and two
 * of one group. */
static void check_repeats(const char *cmd, const struct option_list *l, size_t i,
			  const struct opt_def **seen, const struct opt_def **group_seen)
{
	const struct opt_def *o = l->def[i];

	if (seen[i] && !o->many)
		usage_error(cmd, "option '%s' given twice", spelled(o));
	seen[i] = o;
	if (!o->group)
		return;
	if (group_seen[o->group]) {
		char first[64];

		snprintf(first, sizeof(first), "%s", spelled(group_seen[o->group]));
		usage_error(cmd, "options '%s' and '%s' exclude each other; give one", first,
			    spelled(o));
	}
	group_seen[o->group] = o;
}

/* A number after a flag was its interval in older spellings (--hist 5). */
static void stray_argument(const struct command *cmd, const struct option_list *l,
			   const char *word)
{
	char *end;

	if (index_of_letter(l, 'i') >= 0 && strtod(word, &end) > 0 && end != word)
		usage_error(cmd->name, "unexpected argument '%s': an interval is given as -i %s",
			    word, word);
	usage_error(cmd->name, "unexpected argument '%s' (see 'sockeye %s --help')", word,
		    cmd->name);
}

void parse_options(const struct command *cmd, int argc, char **argv, void *opts)
{
	struct option longopts[MAX_OPTIONS + 1];
	const struct opt_def *seen[MAX_OPTIONS] = {}, *group_seen[16] = {};
	char shortopts[2 * MAX_OPTIONS + 2];
	struct option_list l;
	int opt, i;

	list_options(cmd->options, &l);
	build_getopt(&l, longopts, shortopts);
	opterr = 0;
	optind = 0;	/* resets getopt fully */
	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (opt == ':')
			usage_error(cmd->name, "option '%s' needs a value", argv[optind - 1]);
		i = opt >= OPT_INDEX_BASE ? opt - OPT_INDEX_BASE : index_of_letter(&l, opt);
		if (opt == '?' || i < 0)
			unknown_option(cmd->name, &l, argv[optind - 1]);
		if (l.def[i] >= global_options && l.def[i] < global_options + GLOBAL_VERSION + 1) {
			global_option(cmd, (int)(l.def[i] - global_options));
			continue;
		}
		check_repeats(cmd->name, &l, (size_t)i, seen, group_seen);
		store(cmd->name, l.def[i], optarg, opts);
	}
	if (optind < argc)
		stray_argument(cmd, &l, argv[optind]);
}

/* ---- --help ---- */

#define HELP_COLUMN 23
#define HELP_WIDTH 79

/* Writes text from column `at` on, wrapped at word boundaries to
 * HELP_WIDTH, each further line indented to HELP_COLUMN. */
static void wrap(FILE *out, const char *text, int at)
{
	while (*text) {
		int room = HELP_WIDTH - at, len = (int)strlen(text);

		if (len > room) {
			len = room;
			while (len > 0 && text[len] != ' ')
				len--;
			if (!len)
				len = (int)strcspn(text, " ");
		}
		fprintf(out, "%.*s\n", len, text);
		text += len;
		while (*text == ' ')
			text++;
		if (*text)
			fprintf(out, "%*s", HELP_COLUMN, "");
		at = HELP_COLUMN;
	}
}

static void print_option(const struct opt_def *o, FILE *out)
{
	char left[64];
	int len;

	if (o->letter)
		len = snprintf(left, sizeof(left), "  -%c, --%s%s%s", o->letter, o->name,
			       o->arg ? " " : "", o->arg ? o->arg : "");
	else
		len = snprintf(left, sizeof(left), "      --%s%s%s", o->name, o->arg ? " " : "",
			       o->arg ? o->arg : "");
	fputs(left, out);
	if (len >= HELP_COLUMN - 1) {
		fprintf(out, "\n%*s", HELP_COLUMN, "");
		len = HELP_COLUMN;
	} else {
		fprintf(out, "%*s", HELP_COLUMN - len, "");
		len = HELP_COLUMN;
	}
	wrap(out, o->help, len);
}

static void print_options(const struct opt_def *options, FILE *out)
{
	for (const struct opt_def *o = options; o && (o->name || o->letter); o++)
		if (o->type != OPT_RENAMED)
			print_option(o, out);
	for (const struct opt_def *o = global_options; o->name; o++)
		print_option(o, out);
}

static void print_command_help(const struct command *cmd, FILE *out)
{
	fprintf(out, "Usage: sockeye %s %s\n\n%s", cmd->name, cmd->synopsis, cmd->description);
	if (cmd->print_details)
		cmd->print_details(out);
	fputs("\nOptions:\n", out);
	print_options(cmd->options, out);
	if (cmd->notes)
		fprintf(out, "\n%s", cmd->notes);
	if (cmd->examples)
		fprintf(out, "\nExamples:\n%s", cmd->examples);
}

/* ---- the shared options' parsers ---- */

void parse_json(const char *cmd, const char *arg, void *json)
{
	*(bool *)json = true;
	json_errors = true;
}

void parse_comm(const char *cmd, const char *arg, void *filters)
{
	struct sock_filters *f = filters;

	if (!*arg || strlen(arg) >= sizeof(f->comm))
		usage_error(cmd, "invalid --comm '%s': expected 1 to %zu characters", arg,
			    sizeof(f->comm) - 1);
	strcpy(f->comm, arg);
	f->comm_set = true;
}

void set_filters(volatile struct sock_filters *rodata, const struct sock_filters *f)
{
	memcpy((void *)rodata, f, sizeof(*f));
	rodata->cgroup_from_task = f->cgroup_id && !ancestor_cgroup_helper();
}

/* A cgroup's id is the inode number of its directory in the cgroup2
 * mount; its level is how many directories down from the root it is. */
void parse_cgroup(const char *cmd, const char *arg, void *filters)
{
	const char *root = cgroup2_root(), *rel = arg;
	char path[PATH_MAX], real[PATH_MAX];
	struct sock_filters *f = filters;
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
		usage_error(cmd, "invalid --cgroup '%s': no such cgroup under %s", arg, root);
	f->cgroup_id = st.st_ino;
	f->cgroup_level = 0;
	for (const char *c = real + root_len; *c; c++)
		f->cgroup_level += *c == '/';
}

void check_agent_source(const char *cmd, bool from_agent, const char *pin_dir, bool filtered)
{
	if (pin_dir && !from_agent)
		usage_error(cmd, "--pin-dir goes with --from-agent");
	if (from_agent && filtered)
		usage_error(cmd, "filters do not apply to --from-agent: the agent counts with its own");
}

bool any_filter(const struct sock_filters *f)
{
	static const struct sock_filters none;

	return memcmp(f, &none, sizeof(none));
}

/* ---- man pages and shell completion, from the same tables ---- */

/* Writes text escaped for roff: a backslash, a '-' (an option's, not a
 * hyphenation point) and a line starting with '.' or '\''. */
static void roff_escape(FILE *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((i == 0 || s[i - 1] == '\n') && (s[i] == '.' || s[i] == '\''))
			fputs("\\&", out);
		if (s[i] == '\\')
			fputs("\\e", out);
		else if (s[i] == '-')
			fputs("\\-", out);
		else
			fputc(s[i], out);
	}
}

/* A block of --help text as roff: its paragraphs filled, its indented
 * lines (columns, tables) kept as they are. */
static void roff_text(FILE *out, const char *text)
{
	bool literal = false;

	while (text && *text) {
		size_t len = strcspn(text, "\n");
		bool indented = text[0] == ' ' || text[0] == '\t';

		if (indented != literal) {
			fputs(indented ? ".nf\n" : ".fi\n", out);
			literal = indented;
		}
		if (!len) {
			fputs(literal ? "\n" : ".PP\n", out);
		} else {
			roff_escape(out, text, len);
			fputc('\n', out);
		}
		text += len + (text[len] == '\n');
	}
	if (literal)
		fputs(".fi\n", out);
}

static void roff_option(FILE *out, const struct opt_def *o)
{
	fputs(".TP\n", out);
	if (o->letter)
		fprintf(out, "\\fB\\-%c\\fR, ", o->letter);
	fputs("\\fB\\-\\-", out);
	roff_escape(out, o->name, strlen(o->name));
	fputs("\\fR", out);
	if (o->arg)
		fprintf(out, " \\fI%s\\fR", o->arg);
	fputc('\n', out);
	roff_escape(out, o->help, strlen(o->help));
	fputc('\n', out);
}

/* "  sockeye top -g      by container" lines: the command, then what it
 * does after a run of two spaces or more. */
static void roff_examples(FILE *out, const char *text)
{
	while (text && *text) {
		size_t len = strcspn(text, "\n"), start = strspn(text, " "), cmd_len;
		const char *gap;

		if (start < len) {
			gap = strstr(text + start, "  ");
			cmd_len = gap && gap < text + len ? (size_t)(gap - text) - start : len - start;
			fputs(".TP\n.B ", out);
			roff_escape(out, text + start, cmd_len);
			fputc('\n', out);
			if (start + cmd_len < len) {
				size_t skip = start + cmd_len + strspn(text + start + cmd_len, " ");

				roff_escape(out, text + skip, len - skip);
				fputc('\n', out);
			}
		}
		text += len + (text[len] == '\n');
	}
}

static const char roff_exit_status[] =
	".SH EXIT STATUS\n"
	"0 on success, also when stopped with Ctrl\\-C, SIGTERM, \\fB\\-\\-duration\\fR or "
	"\\fB\\-\\-count\\fR; 1 on failure (with a line on standard error saying what failed "
	"and what to do); 2 on bad usage (with one line naming the problem).\n";

static void roff_header(FILE *out, const char *name, const char *what)
{
	char upper[64];
	size_t i;

	for (i = 0; name[i] && i < sizeof(upper) - 1; i++)
		upper[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 'a' + 'A' : name[i]);
	upper[i] = 0;
	fprintf(out, ".\\\" Generated by 'sockeye docs --man'; edit the command's table in src/.\n"
		".TH %s 8 \"\" \"sockeye %s\" \"System Administration\"\n"
		".SH NAME\n%s \\- ", upper, SOCKEYE_VERSION, name);
	roff_escape(out, what, strlen(what));
	fputc('\n', out);
}

void print_command_man(const struct command *cmd, FILE *out)
{
	char page[64];

	snprintf(page, sizeof(page), "sockeye-%s", cmd->name);
	roff_header(out, page, cmd->summary);
	fprintf(out, ".SH SYNOPSIS\n.B sockeye %s\n", cmd->name);
	roff_escape(out, cmd->synopsis, strlen(cmd->synopsis));
	fputs("\n.SH DESCRIPTION\n", out);
	roff_text(out, cmd->description);
	if (cmd->print_details) {
		char *details = NULL;
		size_t size = 0;
		FILE *mem = open_memstream(&details, &size);

		if (mem) {
			cmd->print_details(mem);
			fclose(mem);
			roff_text(out, details);
			free(details);
		}
	}
	fputs(".SH OPTIONS\n", out);
	for (const struct opt_def *o = cmd->options; o && (o->name || o->letter); o++)
		if (o->type != OPT_RENAMED)
			roff_option(out, o);
	for (const struct opt_def *o = global_options; o->name; o++)
		roff_option(out, o);
	if (cmd->notes) {
		fputs(".SH NOTES\n", out);
		roff_text(out, cmd->notes);
	}
	if (cmd->overhead) {
		fputs(".SH OVERHEAD\n", out);
		roff_text(out, cmd->overhead);
		fputs(".PP\nThe benchmark's method and its latest figures are in docs/performance.md "
		      "in sockeye's source.\n", out);
	}
	if (cmd->examples) {
		fputs(".SH EXAMPLES\n", out);
		roff_examples(out, cmd->examples);
	}
	fputs(roff_exit_status, out);
	fputs(".SH SEE ALSO\n.BR sockeye (8)\n", out);
}

void print_main_man(const struct command *const *cmds, size_t n, FILE *out)
{
	roff_header(out, "sockeye", "watch a host's TCP and UDP sockets with eBPF");
	fputs(".SH SYNOPSIS\n.B sockeye\n[\\fB\\-v\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR]\n"
	      ".br\n.B sockeye\n\\fICOMMAND\\fR \\fB\\-\\-help\\fR\n"
	      ".SH DESCRIPTION\n"
	      "sockeye watches a Linux host's TCP and UDP sockets with eBPF: which process talks "
	      "to whom, what fails and why, how connections are doing. It loads its programs "
	      "when a command starts and detaches them when it ends. With no command, it runs "
	      "\\fBtop\\fR. Every event it could not deliver is counted and shown.\n"
	      ".SH COMMANDS\n", out);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, ".TP\n.BR sockeye\\-%s (8)\n", cmds[i]->name);
		roff_escape(out, cmds[i]->summary, strlen(cmds[i]->summary));
		fputc('\n', out);
	}
	fputs(".SH OPTIONS\n", out);
	for (const struct opt_def *o = global_options; o->name; o++)
		roff_option(out, o);
	fputs(".SH REQUIREMENTS\n"
	      "Linux with BTF (\\fI/sys/kernel/btf/vmlinux\\fR); root, or the capabilities "
	      "CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN; cgroup v2 mounted. "
	      "\\fBsockeye features\\fR says what runs on this kernel.\n", out);
	fputs(roff_exit_status, out);
	fputs(".SH SEE ALSO\n", out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, ".BR sockeye\\-%s (8)%s\n", cmds[i]->name, i + 1 < n ? "," : "");
}

/* The words a shell completes: every option's spellings. */
static void completion_words(const struct opt_def *options, FILE *out)
{
	const char *sep = "";

	for (const struct opt_def *o = options; o && (o->name || o->letter); o++) {
		if (o->type == OPT_RENAMED)
			continue;
		if (o->letter)
			fprintf(out, "%s-%c", sep, o->letter), sep = " ";
		fprintf(out, "%s--%s", sep, o->name);
		sep = " ";
	}
}

/* How an option's value completes: its choices, a file or a directory,
 * or nothing (a number, a name). */
static void completion_value(const char *cmd, const struct opt_def *o, FILE *out)
{
	fprintf(out, "\t");
	if (o->letter)
		fprintf(out, "\"%s -%c\"|", cmd, o->letter);
	fprintf(out, "\"%s --%s\")\n\t\t", cmd, o->name);
	if (o->choices) {
		fputs("COMPREPLY=($(compgen -W '", out);
		for (const struct opt_choice *c = o->choices; c->name; c++)
			fprintf(out, "%s%s", c->name, c[1].name ? " " : "");
		fputs("' -- \"$cur\")) ;;\n", out);
	} else if (!strcmp(o->arg, "FILE")) {
		fputs("COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n", out);
	} else if (!strcmp(o->arg, "DIR") || !strcmp(o->arg, "PATH")) {
		fputs("COMPREPLY=($(compgen -d -- \"$cur\")) ;;\n", out);
	} else {
		fputs("COMPREPLY=() ;;\n", out);
	}
}

void print_completion_bash(const struct command *const *cmds, size_t n, FILE *out)
{
	fputs("# bash completion for sockeye\n"
	      "# Generated by 'sockeye docs --completion bash'; edit the commands' tables in src/.\n\n",
	      out);
	fputs("_sockeye_commands='", out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%s", cmds[i]->name, i + 1 < n ? " " : "");
	fputs("'\n_sockeye_global='", out);
	completion_words(global_options, out);
	fputs("'\n", out);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "_sockeye_opts_%s='", cmds[i]->name);
		completion_words(cmds[i]->options, out);
		fputs(" ", out);
		completion_words(global_options, out);
		fputs("'\n", out);
	}
	fputs("\n# Completes the value of option $2 of command $1; fails for a flag.\n"
	      "_sockeye_value()\n{\n\tcase \"$1 $2\" in\n", out);
	for (size_t i = 0; i < n; i++)
		for (const struct opt_def *o = cmds[i]->options; o && (o->name || o->letter); o++)
			if (o->type != OPT_RENAMED && o->arg && o->name)
				completion_value(cmds[i]->name, o, out);
	fputs("\t*) return 1 ;;\n\tesac\n}\n\n", out);
	fputs("_sockeye()\n{\n"
	      "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd= i\n"
	      "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	      "\t\tcase ${COMP_WORDS[i]} in -*) ;; *) cmd=${COMP_WORDS[i]}; break ;; esac\n"
	      "\tdone\n"
	      "\tif [[ -z $cmd ]]; then\n"
	      "\t\tCOMPREPLY=($(compgen -W \"$_sockeye_commands $_sockeye_global\" -- \"$cur\"))\n"
	      "\t\treturn\n"
	      "\tfi\n"
	      "\t[[ $cmd =~ ^[a-z]+$ ]] || return\n"
	      "\t_sockeye_value \"$cmd\" \"$prev\" && return\n"
	      "\tlocal opts=_sockeye_opts_$cmd\n"
	      "\tCOMPREPLY=($(compgen -W \"${!opts}\" -- \"$cur\"))\n"
	      "}\n"
	      "complete -F _sockeye sockeye\n", out);
}
