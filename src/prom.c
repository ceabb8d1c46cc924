// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include "prom.h"

int prom_begin(struct prom *p, const char *path)
{
	p->path = path;
	snprintf(p->tmp, sizeof(p->tmp), "%s.tmp", path);
	p->out = fopen(p->tmp, "w");
	return p->out ? 0 : -errno;
}

void prom_family(struct prom *p, const char *name, const char *type, const char *help)
{
	fprintf(p->out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Label values are sockeye's own words (states, kinds): no escaping needed. */
static void sample(struct prom *p, const char *name, const char *value, va_list ap)
{
	const char *label, *sep = "{";

	fputs(name, p->out);
	while ((label = va_arg(ap, const char *))) {
		fprintf(p->out, "%s%s=\"%s\"", sep, label, va_arg(ap, const char *));
		sep = ",";
	}
	fprintf(p->out, "%s %s\n", *sep == ',' ? "}" : "", value);
}

void prom_sample(struct prom *p, const char *name, uint64_t value, ...)
{
	char text[32];
	va_list ap;

	snprintf(text, sizeof(text), "%llu", (unsigned long long)value);
	va_start(ap, value);
	sample(p, name, text, ap);
	va_end(ap);
}

void prom_sample_seconds(struct prom *p, const char *name, uint64_t ns, ...)
{
	char text[32];
	va_list ap;

	snprintf(text, sizeof(text), "%llu.%09llu", (unsigned long long)(ns / 1000000000),
		 (unsigned long long)(ns % 1000000000));
	va_start(ap, ns);
	sample(p, name, text, ap);
	va_end(ap);
}

int prom_commit(struct prom *p)
{
	int err = ferror(p->out) ? EIO : 0;

	if (fclose(p->out) && !err)
		err = errno;
	if (!err && rename(p->tmp, p->path))
		err = errno;
	if (err)
		unlink(p->tmp);
	return -err;
}
