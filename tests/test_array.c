// SPDX-License-Identifier: GPL-2.0-only
/* The growable array every table of rows uses. */
#include <stdint.h>
#include <stdlib.h>
#include "test.h"
#include "array.h"

TEST(array_grows_keeping_every_element)
{
	uint32_t *v = NULL;
	size_t n = 0, cap = 0;
	bool kept = true;

	for (uint32_t i = 0; i < 1000; i++) {
		if (!ASSERT_TRUE(ARRAY_GROW(v, n, cap), "room for one more"))
			break;
		v[n++] = i * 7;
	}
	ASSERT_EQ(n, 1000, "every element added");
	ASSERT_EQ(cap, 1024, "doubled from 64 as it filled");
	for (size_t i = 0; i < n; i++)
		kept &= v[i] == i * 7;
	ASSERT_TRUE(kept, "each element where it was put");
	free(v);
}

TEST(array_grows_only_when_full)
{
	char *v = NULL;
	size_t cap = 0;

	ASSERT_TRUE(array_grow(&v, 0, &cap, 3), "the first allocation");
	ASSERT_EQ(cap, 64, "64 elements at first");
	ASSERT_TRUE(array_grow(&v, 63, &cap, 3), "room left");
	ASSERT_EQ(cap, 64, "not grown while there is room");
	ASSERT_TRUE(array_grow(&v, 64, &cap, 3), "full: grows");
	ASSERT_EQ(cap, 128, "doubled");
	free(v);
}
