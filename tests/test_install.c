// SPDX-License-Identifier: GPL-2.0-only
/* `make install` and `make uninstall` into a scratch DESTDIR: the checks
 * are in tests/install-test.sh, which says what it checks. The Debian
 * package has its own, slower test: `make deb-test` (tests/deb-test.sh). */
#include <unistd.h>
#include "test.h"
#include "helpers.h"

TEST(install_destdir_exact_files_then_uninstall)
{
	static char out[16384], err[16384];
	char *argv[] = { "sh", "tests/install-test.sh", NULL };

/* It installs the plain build: the sanitizer pass has nothing to add. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
	test_skip("installs the plain build; the first pass ran it");
#endif
#endif
	if (access("Makefile", F_OK) || access("tests/install-test.sh", F_OK))
		test_skip("no source tree here");
	if (!ASSERT_EQ(run_capture(argv, out, sizeof(out), err, sizeof(err)), 0,
		       "tests/install-test.sh passes"))
		printf("%s%s", out, err);
}
