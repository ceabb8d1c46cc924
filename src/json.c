// SPDX-License-Identifier: GPL-2.0-only
#include <inttypes.h>
#include <linux/types.h>
#include "json.h"
#include "format.h"
#include "sock.h"

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f) /* bytes of a comm need not be UTF-8 */
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void json_key(struct json *j, const char *key)
{
	if (!j->first)
		fputc(',', j->out);
	j->first = false;
	json_string(j->out, key);
	fputc(':', j->out);
}

void json_begin(struct json *j, FILE *out)
{
	j->out = out;
	j->first = true;
	fputc('{', out);
}

void json_str(struct json *j, const char *key, const char *value)
{
	json_key(j, key);
	json_string(j->out, value);
}

void json_int(struct json *j, const char *key, int64_t value)
{
	json_key(j, key);
	fprintf(j->out, "%" PRId64, value);
}

void json_uint(struct json *j, const char *key, uint64_t value)
{
	json_key(j, key);
	fprintf(j->out, "%" PRIu64, value);
}

void json_seconds(struct json *j, const char *key, uint64_t ns)
{
	json_key(j, key);
	fprintf(j->out, "%" PRIu64 ".%03u", ns / 1000000000, (unsigned)(ns % 1000000000 / 1000000));
}

void json_bool(struct json *j, const char *key, bool value)
{
	json_key(j, key);
	fputs(value ? "true" : "false", j->out);
}

void json_uint_array(struct json *j, const char *key, const uint64_t *values, size_t n)
{
	json_key(j, key);
	fputc('[', j->out);
	for (size_t i = 0; i < n; i++)
		fprintf(j->out, "%s%" PRIu64, i ? "," : "", values[i]);
	fputc(']', j->out);
}

void json_end(struct json *j)
{
	fputs("}\n", j->out);
}

void json_record_begin(struct json *j, const char *type, uint64_t realtime_ns)
{
	char when[TIME_LEN];

	json_begin(j, stdout);
	json_str(j, "type", type);
	format_utc_time(when, sizeof(when), realtime_ns);
	json_str(j, "time", when);
	json_uint(j, "time_us", realtime_ns / 1000);
}

void json_owner(struct json *j, const struct sock_owner *o)
{
	json_uint(j, "pid", o->pid);
	json_uint(j, "tid", o->tid);
	json_str(j, "comm", comm_str(o->comm).s);
}
