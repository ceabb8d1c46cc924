// SPDX-License-Identifier: GPL-2.0-only
/* The documentation against the program: every command's --help, man page
 * and bash completion name the same options and each page has its
 * sections; sockeye(8) and the completion name the same commands as
 * --help; every relative link in the README and docs/ leads to a file. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "test.h"
#include "helpers.h"

#define MAX_WORDS 128
#define WORD_LEN 48

struct words {
	char w[MAX_WORDS][WORD_LEN];
	int n;
};

static int run_sockeye(const char *a, const char *b, const char *c, char *out, size_t len)
{
	static char err[4096];
	char *argv[] = { (char *)sockeye_path(), (char *)a, (char *)b, (char *)c, NULL };

	return run_capture(argv, out, len, err, sizeof(err));
}

static void add_word(struct words *w, const char *s, size_t len)
{
	if (w->n < MAX_WORDS && len && len < WORD_LEN) {
		memcpy(w->w[w->n], s, len);
		w->w[w->n++][len] = 0;
	}
}

static int cmp_word(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The words, sorted, in one line: what the three sources must agree on. */
static const char *joined(struct words *w, char *buf, size_t len)
{
	size_t at = 0;

	qsort(w->w, (size_t)w->n, WORD_LEN, cmp_word);
	buf[0] = 0;
	for (int i = 0; i < w->n && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? " " : "", w->w[i]);
	return buf;
}

/* Option lines of --help: "  -x, --name ARG  help" or "      --name ...". */
static void help_options(const char *text, struct words *w)
{
	const char *line = strstr(text, "\nOptions:\n");

	for (line = line ? line + 10 : ""; *line && *line != '\n'; line = strchr(line, '\n') + 1) {
		const char *s = line + strspn(line, " ");

		bool letter = s - line == 2 && s[0] == '-' && s[1] != '-';

		if (letter) {
			add_word(w, s, 2);
			s += 4;
		}
		/* At the option column, not a wrapped help line's "--x". */
		if ((letter || s - line == 6) && s[0] == '-' && s[1] == '-')
			add_word(w, s, strcspn(s, " \n"));
		if (!strchr(line, '\n'))
			break;
	}
}

/* The man page's OPTIONS: "\fB\-x\fR, \fB\-\-name\fR \fIARG\fR" after .TP. */
static void man_options(const char *text, struct words *w)
{
	const char *s = strstr(text, ".SH OPTIONS\n"), *end;

	end = s ? strstr(s + 1, "\n.SH ") : NULL;
	for (; s && (s = strstr(s, ".TP\n")) && (!end || s < end); s += 4) {
		const char *line = s + 4;
		size_t len = strcspn(line, "\n");
		char word[WORD_LEN];
		size_t n = 0;

		/* Unescape \- and drop the font changes. */
		for (size_t i = 0; i < len; i++) {
			if (line[i] == '\\' && line[i + 1] == '-') {
				i++;
			} else if (line[i] == '\\' && line[i + 1] == 'f') {
				i += 2;
				continue;
			} else if (line[i] == ',' || line[i] == ' ') {
				if (n && word[0] == '-')
					add_word(w, word, n);
				n = 0;
				continue;
			}
			if (n < WORD_LEN - 1)
				word[n++] = line[i];
		}
		if (n && word[0] == '-')
			add_word(w, word, n);
	}
}

/* The completion's "_sockeye_opts_CMD='...'" line (or any NAME='...'). */
static void completion_words(const char *text, const char *var, struct words *w)
{
	char key[64];
	const char *s;

	snprintf(key, sizeof(key), "\n%s='", var);
	s = strstr(text, key);
	if (!s)
		return;
	for (s += strlen(key); *s && *s != '\''; ) {
		size_t len = strcspn(s, " '");

		add_word(w, s, len);
		s += len + (s[len] == ' ');
	}
}

/* The commands `sockeye --help` lists. */
static void help_commands(const char *text, struct words *w)
{
	const char *line = strstr(text, "\nCommands:\n");

	for (line = line ? line + 11 : ""; line[0] == ' ' && line[1] == ' ';) {
		add_word(w, line + 2, strcspn(line + 2, " \n"));
		line = strchr(line, '\n');
		if (!line)
			break;
		line++;
	}
}

TEST(docs_help_man_and_completion_list_the_same_options)
{
	static char help[32768], man[65536], completion[65536], a[4096], b[4096];
	struct words commands = {}, w;

	ASSERT_EQ(run_sockeye("--help", NULL, NULL, help, sizeof(help)), 0, "--help");
	help_commands(help, &commands);
	ASSERT_TRUE(commands.n >= 12, "--help lists the commands");
	ASSERT_EQ(run_sockeye("docs", "--completion", "bash", completion, sizeof(completion)), 0,
		  "docs --completion bash");
	ASSERT_HAS(completion, "\ncomplete -F _sockeye sockeye\n", "the completion registers");

	/* The same commands in --help, sockeye(8) and the completion. */
	memset(&w, 0, sizeof(w));
	completion_words(completion, "_sockeye_commands", &w);
	joined(&commands, a, sizeof(a));
	ASSERT_STR_EQ(joined(&w, b, sizeof(b)), a, "the completion's commands");
	ASSERT_EQ(run_sockeye("docs", "--man", "sockeye", man, sizeof(man)), 0, "sockeye(8)");
	ASSERT_HAS(man, ".TH SOCKEYE 8", "sockeye(8)'s title");
	for (int i = 0; i < commands.n; i++) {
		char see[96];

		snprintf(see, sizeof(see), ".BR sockeye\\-%s (8)", commands.w[i]);
		ASSERT_HAS(man, see, "sockeye(8) names every command's page");
	}

	for (int i = 0; i < commands.n; i++) {
		const char *cmd = commands.w[i];
		struct words from_help = {}, from_man = {}, from_completion = {};
		char var[64], title[64];

		ASSERT_EQ(run_sockeye(cmd, "--help", NULL, help, sizeof(help)), 0, cmd);
		ASSERT_EQ(run_sockeye("docs", "--man", cmd, man, sizeof(man)), 0, cmd);
		help_options(help, &from_help);
		man_options(man, &from_man);
		snprintf(var, sizeof(var), "_sockeye_opts_%s", cmd);
		completion_words(completion, var, &from_completion);
		ASSERT_TRUE(from_help.n >= 3, cmd);
		joined(&from_help, a, sizeof(a));
		printf("    %s: %s\n", cmd, a);
		ASSERT_STR_EQ(joined(&from_man, b, sizeof(b)), a, "the man page's options");
		ASSERT_STR_EQ(joined(&from_completion, b, sizeof(b)), a, "the completion's options");
		snprintf(title, sizeof(title), "\nsockeye-%s \\- ", cmd);
		ASSERT_HAS(man, title, "the man page's NAME");
		ASSERT_HAS(man, "\n.SH EXIT STATUS\n", "the man page's EXIT STATUS");
		/* What it attaches and costs: every command that loads programs. */
		if (strcmp(cmd, "docs"))
			ASSERT_HAS(man, "\n.SH OVERHEAD\n", "the man page's OVERHEAD");
	}
}

TEST(docs_man_and_completion_usage)
{
	static char out[4096];

	ASSERT_EQ(run_sockeye("docs", NULL, NULL, out, sizeof(out)), 2, "docs without a choice");
	ASSERT_EQ(run_sockeye("docs", "--man", "bogus", out, sizeof(out)), 2, "an unknown page");
	ASSERT_EQ(run_sockeye("docs", "--completion", "zsh", out, sizeof(out)), 2,
		  "a shell without a completion");
}

TEST(docs_every_relative_link_leads_to_a_file)
{
	static char out[16384], err[16384];
	char *argv[] = { "sh", "tests/links-test.sh", NULL };

	if (access("README.md", F_OK) || access("tests/links-test.sh", F_OK))
		test_skip("no source tree here");
	if (!ASSERT_EQ(run_capture(argv, out, sizeof(out), err, sizeof(err)), 0,
		       "tests/links-test.sh passes"))
		printf("%s%s", out, err);
}
