/* SPDX-License-Identifier: GPL-2.0-only */
/* A small test harness in the style of the kernel's BPF selftests: TEST()
 * functions register themselves, ASSERT_*() print expected vs actual and
 * return whether they held, so a test can still clean up after a failure. */
#ifndef SOCKEYE_TEST_H
#define SOCKEYE_TEST_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct test {
	const char *name;
	void (*fn)(void);
	bool needs_root;
	struct test *next;
};

void register_test(struct test *t);
/* Marks the running test failed; used by the ASSERT macros. */
void test_fail(void);
/* Marks it skipped, with the reason; the test should return. */
void test_skip(const char *why);

#define DEFINE_TEST(tname, root)                                              \
	static void test_##tname(void);                                       \
	static struct test test_entry_##tname = { #tname, test_##tname, root, NULL }; \
	__attribute__((constructor)) static void register_##tname(void)       \
	{                                                                     \
		register_test(&test_entry_##tname);                           \
	}                                                                     \
	static void test_##tname(void)

/* A test of pure logic: no privileges needed. */
#define TEST(tname) DEFINE_TEST(tname, false)
/* A test that loads BPF programs into the running kernel. */
#define KTEST(tname) DEFINE_TEST(tname, true)

#define ASSERT_TRUE(cond, what)                                                      \
	({                                                                           \
		bool ok_ = (cond);                                                   \
		if (!ok_) {                                                          \
			printf("    %s:%d: %s: expected true\n", __FILE__, __LINE__, what); \
			test_fail();                                                 \
		}                                                                    \
		ok_;                                                                 \
	})

#define ASSERT_EQ(actual, expected, what)                                            \
	({                                                                           \
		long long a_ = (long long)(actual), e_ = (long long)(expected);      \
		if (a_ != e_) {                                                      \
			printf("    %s:%d: %s: expected %lld, got %lld\n", __FILE__,     \
			       __LINE__, what, e_, a_);                              \
			test_fail();                                                 \
		}                                                                    \
		a_ == e_;                                                            \
	})

#define ASSERT_STR_EQ(actual, expected, what)                                        \
	({                                                                           \
		const char *a_ = (actual), *e_ = (expected);                         \
		bool ok_ = a_ && !strcmp(a_, e_);                                    \
		if (!ok_) {                                                          \
			printf("    %s:%d: %s: expected \"%s\", got \"%s\"\n", __FILE__, \
			       __LINE__, what, e_, a_ ? a_ : "(null)");              \
			test_fail();                                                 \
		}                                                                    \
		ok_;                                                                 \
	})

#define ASSERT_HAS(haystack, needle, what)                                           \
	({                                                                           \
		const char *h_ = (haystack), *n_ = (needle);                         \
		bool ok_ = h_ && strstr(h_, n_);                                     \
		if (!ok_) {                                                          \
			printf("    %s:%d: %s: expected to contain \"%s\", got \"%s\"\n", \
			       __FILE__, __LINE__, what, n_, h_ ? h_ : "(null)");    \
			test_fail();                                                 \
		}                                                                    \
		ok_;                                                                 \
	})

#endif
