// SPDX-License-Identifier: GPL-2.0-only
/* Arrays that grow by one element at a time; see array.h. */
#include <stdlib.h>
#include <string.h>
#include "array.h"

bool array_grow(void *array, size_t n, size_t *cap, size_t size)
{
	size_t want = *cap ? 2 * *cap : 64;
	void *old, *grown;

	if (n < *cap)
		return true;
	/* The pointer is copied out and back: array is any type's pointer. */
	memcpy(&old, array, sizeof(old));
	grown = reallocarray(old, want, size);
	if (!grown)
		return false;
	memcpy(array, &grown, sizeof(grown));
	*cap = want;
	return true;
}
