// SPDX-License-Identifier: GPL-2.0-only
/* Every option and value of every command, as a user types them: the input
 * is cut at NUL bytes into the words of a command line, which sockeye's
 * own main() takes (src/main.c built as sockeye_main() for this target).
 * Each command runs until it exits (a usage error, --help) or is done
 * parsing. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sockeye.h"
#include "fuzz.h"

int sockeye_main(int argc, char **argv);

#define MAX_WORDS 32

struct command_line {
	int argc;
	char *argv[MAX_WORDS + 2];
};

static int run_main(void *ctx)
{
	struct command_line *c = ctx;

	return sockeye_main(c->argc, c->argv);
}

/* `features` has no options to parse and goes on to probe the kernel. */
static bool runs_features(char **words)
{
	while (*words && (*words)[0] == '-')
		words++;
	return *words && !strcmp(*words, "features");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct command_line c = { .argc = 1, .argv = { "sockeye" } };
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (char *w = text; w < text + size + 1 && c.argc <= MAX_WORDS; w += strlen(w) + 1)
		c.argv[c.argc++] = w;
	if (!runs_features(c.argv + 1)) {
		/* What a process starts with, and what options set. */
		optind = 0;
		verbose = json_errors = false;
		fuzz_run(run_main, &c);
	}
	free(text);
	return 0;
}
