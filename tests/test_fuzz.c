// SPDX-License-Identifier: GPL-2.0-only
/* A few seconds of each fuzz target (`make fuzz` runs them longer; see
 * tests/fuzz/fuzz.h). Each first replays its corpus, where the crash inputs
 * found before are kept; a new crash lands there too and fails the test. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "test.h"
#include "helpers.h"

#define FUZZ_SECONDS "3"

/* Removes a flat directory and the files in it. */
static void remove_dir(const char *dir)
{
	char path[512];
	struct dirent *d;
	DIR *dp = opendir(dir);

	while (dp && (d = readdir(dp)))
		if (d->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
			unlink(path);
		}
	if (dp)
		closedir(dp);
	rmdir(dir);
}

static void short_run(const char *target)
{
	char bin[128], corpus[128], prefix[160], dir[] = "/tmp/sockeye-fuzz-XXXXXX";
	static char out[256], err[8192];
	char *argv[] = { bin, "-max_total_time=" FUZZ_SECONDS, "-close_fd_mask=3", prefix, dir,
			 corpus, NULL };

/* The targets are sanitizer builds already: the sanitizer pass has nothing
 * to add, and would take as long again. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
	test_skip("a fuzz target is built with the sanitizers; the first pass ran it");
#endif
#endif
	/* The kernel matrix's guests carry the runner and sockeye only. */
	if (access("tests/fuzz", F_OK))
		test_skip("no source tree here: the fuzz targets run on the host");
	snprintf(bin, sizeof(bin), "build/fuzz/%s", target);
	snprintf(corpus, sizeof(corpus), "tests/fuzz/corpus/%s", target);
	snprintf(prefix, sizeof(prefix), "-artifact_prefix=%s/", corpus);
	if (!ASSERT_TRUE(access(bin, X_OK) == 0, "the target is built (make test builds it)") ||
	    !ASSERT_TRUE(mkdtemp(dir) != NULL, "a directory for new inputs"))
		return;
	if (!ASSERT_EQ(run_capture(argv, out, sizeof(out), err, sizeof(err)), 0,
		       "no crash, no leak"))
		printf("%s", err);
	remove_dir(dir);
}

#define FUZZ_TEST(target)            \
	TEST(fuzz_##target)          \
	{                            \
		short_run(#target);  \
	}

FUZZ_TEST(http_parse)
FUZZ_TEST(http_records)
FUZZ_TEST(events_records)
FUZZ_TEST(connlat_records)
FUZZ_TEST(soconnect_records)
FUZZ_TEST(flows_records)
FUZZ_TEST(drop_reasons)
FUZZ_TEST(options)
FUZZ_TEST(endpoint)
