/* SPDX-License-Identifier: GPL-2.0-only */
/* Arrays that grow by one element at a time: every list whose length is
 * known only once it has been read (rows of a table, entries of a map). */
#ifndef SOCKEYE_ARRAY_H
#define SOCKEYE_ARRAY_H

#include <stdbool.h>
#include <stddef.h>

/* Makes room for element n of *array (a pointer to the array's pointer,
 * whose allocation holds *cap elements of size bytes): when n reaches
 * *cap, the array doubles (from 64). False when out of memory, the array
 * as it was. */
bool array_grow(void *array, size_t n, size_t *cap, size_t size);

/* The same for an array variable, its count and its capacity. */
#define ARRAY_GROW(array, n, cap) array_grow(&(array), (n), &(cap), sizeof(*(array)))

#endif
