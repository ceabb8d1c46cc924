// SPDX-License-Identifier: GPL-2.0-only
/* Prometheus text exposition 0.0.4; see prom.h and
 * https://prometheus.io/docs/instrumenting/exposition_formats/ */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include "prom.h"
#include "utf8.h"

/* HELP text escapes backslash and newline; label values also escape the
 * double quote. Both are valid UTF-8 whatever the bytes: a valid character
 * passes as is, each byte that starts none becomes U+FFFD (Prometheus
 * rejects a whole scrape for one invalid label value). */
static void escaped(FILE *out, const char *s, bool quote)
{
	while (*s) {
		size_t len = utf8_char_len(s);

		if (!len)
			fputs(UTF8_REPLACEMENT, out);
		else if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else if (*s == '"' && quote)
			fputs("\\\"", out);
		else
			fwrite(s, 1, len, out);
		s += len ? len : 1;
	}
}

size_t prom_utf8(char *dst, size_t size, const char *src)
{
	size_t used = 0;

	while (*src) {
		size_t len = utf8_char_len(src);
		const char *c = len ? src : UTF8_REPLACEMENT;
		size_t clen = len ? len : sizeof(UTF8_REPLACEMENT) - 1;

		if (used + clen >= size)
			break;
		memcpy(dst + used, c, clen);
		used += clen;
		src += len ? len : 1;
	}
	if (size)
		dst[used] = '\0';
	return used;
}

void prom_family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s ", name);
	escaped(out, help, false);
	fprintf(out, "\n# TYPE %s %s\n", name, type);
}

/* name{a="x",b="y" and the closing brace when close is set. */
static void series(FILE *out, const char *name, const char *suffix,
		   const struct prom_label *labels, size_t n, bool close)
{
	fprintf(out, "%s%s", name, suffix);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%c%s=\"", i ? ',' : '{', labels[i].name);
		escaped(out, labels[i].value, true);
		fputc('"', out);
	}
	if (close && n)
		fputc('}', out);
}

void prom_uint(FILE *out, const char *name, const struct prom_label *labels, size_t n,
	       uint64_t value)
{
	series(out, name, "", labels, n, true);
	fprintf(out, " %" PRIu64 "\n", value);
}

void prom_double(FILE *out, const char *name, const struct prom_label *labels, size_t n,
		 double value)
{
	series(out, name, "", labels, n, true);
	fprintf(out, " %.15g\n", value);
}

static void bucket(FILE *out, const char *name, const struct prom_label *labels, size_t n,
		   const char *le, uint64_t cumulative)
{
	series(out, name, "_bucket", labels, n, false);
	fprintf(out, "%cle=\"%s\"} %" PRIu64 "\n", n ? ',' : '{', le, cumulative);
}

void prom_histogram(FILE *out, const char *name, const struct prom_label *labels, size_t n_labels,
		    const double *le_seconds, size_t n_bounds, const uint64_t *counts,
		    uint64_t sum_ns)
{
	uint64_t cumulative = 0;
	char le[32];

	for (size_t i = 0; i < n_bounds; i++) {
		cumulative += counts[i];
		snprintf(le, sizeof(le), "%.9g", le_seconds[i]);
		bucket(out, name, labels, n_labels, le, cumulative);
	}
	cumulative += counts[n_bounds];
	bucket(out, name, labels, n_labels, "+Inf", cumulative);
	series(out, name, "_sum", labels, n_labels, true);
	fprintf(out, " %" PRIu64 ".%09" PRIu64 "\n", sum_ns / 1000000000, sum_ns % 1000000000);
	series(out, name, "_count", labels, n_labels, true);
	fprintf(out, " %" PRIu64 "\n", cumulative);
}

void prom_log2_us_bounds(double *le_seconds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		le_seconds[i] = (double)(2ULL << i) / 1e6;
}

int prom_write_file(const char *path, const char *body, size_t len)
{
	char tmp[PATH_MAX];
	FILE *f;
	int err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	errno = 0;
	f = fopen(tmp, "we");
	if (!f || fwrite(body, 1, len, f) != len)
		err = errno ? -errno : -EIO;
	if (f && fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}
