// SPDX-License-Identifier: GPL-2.0-only
/* The Prometheus writer and the agent's label bounds, without root. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "test.h"
#include "agent/collectors.h"
#include "prom.h"

/* What fn writes, as a string (malloc'd). */
static char *written(void (*fn)(FILE *out))
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	fn(out);
	fclose(out);
	return text;
}

static void family_and_escapes(FILE *out)
{
	const struct prom_label labels[] = { { "comm", "a\"b\\c\nd" }, { "protocol", "tcp" } };

	prom_family(out, "x_total", "counter", "Help with \\ and\na new line.");
	prom_uint(out, "x_total", labels, 2, 18446744073709551615ULL);
	prom_uint(out, "x_total", NULL, 0, 0);
}

TEST(prom_escapes_help_and_label_values)
{
	char *text = written(family_and_escapes);

	ASSERT_STR_EQ(text,
		      "# HELP x_total Help with \\\\ and\\na new line.\n"
		      "# TYPE x_total counter\n"
		      "x_total{comm=\"a\\\"b\\\\c\\nd\",protocol=\"tcp\"} 18446744073709551615\n"
		      "x_total 0\n", "exposition");
	free(text);
}

static void utf8_labels(FILE *out)
{
	const struct prom_label labels[] = {
		{ "valid", "caf\xc3\xa9-\xe2\x9c\x93" },		/* café-✓ */
		{ "invalid", "\xff\xfe\x01" "ab" },
		{ "overlong", "\xc0\xaf" },			/* '/' in two bytes */
		{ "surrogate", "\xed\xa0\x80" },		/* U+D800 */
		{ "cut", "x\xe2\x9c" },			/* ✓ without its last byte */
		{ "escaped", "\xf0\x9f\x90\x9f\"\\" },	/* 🐟 and escapes */
	};

	prom_family(out, "y", "gauge", "Help \xff.");
	prom_uint(out, "y", labels, 6, 1);
}

#define FFFD "\xef\xbf\xbd"

TEST(prom_label_values_are_valid_utf8)
{
	char *text = written(utf8_labels), buf[16];

	ASSERT_STR_EQ(text,
		      "# HELP y Help " FFFD ".\n"
		      "# TYPE y gauge\n"
		      "y{valid=\"caf\xc3\xa9-\xe2\x9c\x93\",invalid=\"" FFFD FFFD "\x01" "ab\","
		      "overlong=\"" FFFD FFFD "\",surrogate=\"" FFFD FFFD FFFD "\",cut=\"x" FFFD FFFD
		      "\",escaped=\"\xf0\x9f\x90\x9f\\\"\\\\\"} 1\n", "exposition");
	free(text);
	ASSERT_EQ(prom_utf8(buf, sizeof(buf), "\xff" "a\xc3\xa9"), 6, "length");
	ASSERT_STR_EQ(buf, FFFD "a\xc3\xa9", "replaced, the rest as is");
	/* 15 bytes of room: five replacements fit, a sixth does not, nor half. */
	ASSERT_EQ(prom_utf8(buf, sizeof(buf), "\xff\xff\xff\xff\xff\xff"), 15, "cut");
	ASSERT_EQ(prom_utf8(buf, 5, "ab\xe2\x9c\x93"), 2, "never half a character");
	ASSERT_STR_EQ(buf, "ab", "cut before it");
}

static void histogram(FILE *out)
{
	const struct prom_label role = { "role", "client" };
	const uint64_t counts[] = { 1, 0, 2, 4 };	/* the last is above every bound */
	double bounds[3];

	prom_log2_us_bounds(bounds, 3);
	prom_histogram(out, "h_seconds", &role, 1, bounds, 3, counts, 2500000001ULL);
	prom_histogram(out, "g_seconds", NULL, 0, bounds, 1, counts, 7);
}

TEST(prom_histogram_buckets_are_cumulative_in_seconds)
{
	char *text = written(histogram);

	ASSERT_STR_EQ(text,
		      "h_seconds_bucket{role=\"client\",le=\"2e-06\"} 1\n"
		      "h_seconds_bucket{role=\"client\",le=\"4e-06\"} 1\n"
		      "h_seconds_bucket{role=\"client\",le=\"8e-06\"} 3\n"
		      "h_seconds_bucket{role=\"client\",le=\"+Inf\"} 7\n"
		      "h_seconds_sum{role=\"client\"} 2.500000001\n"
		      "h_seconds_count{role=\"client\"} 7\n"
		      "g_seconds_bucket{le=\"2e-06\"} 1\n"
		      "g_seconds_bucket{le=\"+Inf\"} 1\n"
		      "g_seconds_sum 0.000000007\n"
		      "g_seconds_count 1\n", "exposition");
	free(text);
}

TEST(agent_labels_keep_their_series_and_fold_the_rest)
{
	struct label_set set = { .max = 2 };

	ASSERT_EQ(label_index(&set, "nginx"), 0, "first value");
	ASSERT_EQ(label_index(&set, "other"), 2, "\"other\" is always the fold");
	ASSERT_EQ(label_index(&set, "postgres"), 1, "second value");
	ASSERT_EQ(label_index(&set, "curl"), 2, "third folds into other");
	ASSERT_EQ(label_index(&set, "nginx"), 0, "first keeps its series");
	ASSERT_EQ(label_index(&set, "a-name-longer-than-15"), 2, "still full");
	ASSERT_STR_EQ(label_value(&set, 1), "postgres", "value of 1");
	ASSERT_STR_EQ(label_value(&set, 2), LABEL_OTHER, "value of max");
	ASSERT_EQ(set.n, 2, "two values");
	label_set_free(&set);
}

/* A forgotten value frees its index for the next new one; a forgotten
 * value seen again is a new value. */
TEST(agent_labels_forgotten_free_their_index)
{
	struct label_set set = { .max = 2 };

	ASSERT_EQ(label_index(&set, "nginx"), 0, "first value");
	ASSERT_EQ(label_index(&set, "postgres"), 1, "second value");
	ASSERT_EQ(label_index(&set, "curl"), 2, "full: other");
	label_forget(&set, 0);
	ASSERT_STR_EQ(label_value(&set, 0), LABEL_OTHER, "a free index has no value");
	ASSERT_EQ(label_index(&set, "postgres"), 1, "the other keeps its index");
	ASSERT_EQ(label_index(&set, "curl"), 0, "the free index goes to the next new value");
	ASSERT_EQ(label_index(&set, "nginx"), 2, "the forgotten one is new again: full");
	ASSERT_EQ(label_index(&set, ""), 2, "an empty value is other");
	ASSERT_EQ(set.n, 2, "no index past max");
	label_set_free(&set);
}

/* Label values are compared as written: two names that differ only in
 * invalid bytes are one series, not two with the same labels. */
TEST(agent_labels_of_invalid_names_are_one_value)
{
	struct label_set set = { .max = 4 };

	ASSERT_EQ(label_index(&set, "\xff" "ab"), 0, "first invalid name");
	ASSERT_EQ(label_index(&set, "\xfe" "ab"), 0, "reads the same: the same index");
	ASSERT_EQ(label_index(&set, "caf\xc3\xa9"), 1, "a valid name");
	ASSERT_STR_EQ(label_value(&set, 0), FFFD "ab", "stored as written");
	ASSERT_EQ(label_index(&set, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"),
		  2, "a 15-byte invalid name");
	ASSERT_EQ(strlen(label_value(&set, 2)), 45, "kept whole");
	label_set_free(&set);
}
