// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>
#include "histogram.h"
#include "format.h"

#define BAR_WIDTH 40

size_t log2_slot(uint64_t value, size_t n)
{
	size_t slot = value > 1 ? 63 - __builtin_clzll(value) : 0;

	return slot < n ? slot : n - 1;
}

size_t log2_used_slots(const uint64_t *slots, size_t n)
{
	while (n && !slots[n - 1])
		n--;
	return n;
}

static void print_bar(FILE *out, uint64_t count, uint64_t max)
{
	int stars = max ? (int)(count * BAR_WIDTH / max) : 0;
	char bar[BAR_WIDTH + 1];

	memset(bar, '*', stars);
	memset(bar + stars, ' ', BAR_WIDTH - stars);
	bar[BAR_WIDTH] = '\0';
	fprintf(out, "|%s|\n", bar);
}

void print_log2_hist(FILE *out, const uint64_t *slots, size_t n, const char *unit)
{
	size_t used = log2_used_slots(slots, n);
	uint64_t max = 0;

	for (size_t i = 0; i < used; i++)
		if (slots[i] > max)
			max = slots[i];
	fprintf(out, "%5s%-19s : count    distribution\n", "", unit);
	for (size_t i = 0; i < used; i++) {
		uint64_t low = i ? 1ULL << i : 0, high = (1ULL << (i + 1)) - 1;

		fprintf(out, "%10llu -> %-10llu : %-8llu ", (unsigned long long)low,
			(unsigned long long)high, (unsigned long long)slots[i]);
		print_bar(out, slots[i], max);
	}
}
