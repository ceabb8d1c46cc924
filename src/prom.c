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
void prom_sample(struct prom *p, const char *name, uint64_t value, ...)
{
	const char *label, *sep = "{";
	va_list ap;

	fputs(name, p->out);
	va_start(ap, value);
	while ((label = va_arg(ap, const char *))) {
		fprintf(p->out, "%s%s=\"%s\"", sep, label, va_arg(ap, const char *));
		sep = ",";
	}
	va_end(ap);
	fprintf(p->out, "%s %llu\n", *sep == ',' ? "}" : "", (unsigned long long)value);
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
