// SPDX-License-Identifier: GPL-2.0-only
#include <inttypes.h>
#include <string.h>
#include <linux/types.h>
#include <sys/socket.h>
#include "json.h"
#include "format.h"
#include "sockeye.h"
#include "sock.h"
#include "utf8.h"

/* Runs of plain characters are written as they are, in one call: events
 * writes tens of thousands of strings a second. */
static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	while (*s) {
		size_t run = 0, len;

		while ((len = utf8_char_len(s + run)) &&
		       !(len == 1 && ((unsigned char)s[run] < 0x20 || s[run] == 0x7f ||
				      s[run] == '"' || s[run] == '\\')))
			run += len;
		fwrite(s, 1, run, out);
		s += run;
		if (!*s)
			break;
		if (!len)
			fputs(UTF8_REPLACEMENT, out);
		else if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else
			fprintf(out, "\\u%04x", (unsigned char)*s);
		s++;
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

void json_null(struct json *j, const char *key)
{
	json_key(j, key);
	fputs("null", j->out);
}

void json_str_or_null(struct json *j, const char *key, const char *value)
{
	if (value)
		json_str(j, key, value);
	else
		json_null(j, key);
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

void json_object_begin(struct json *j, const char *key)
{
	json_key(j, key);
	fputc('{', j->out);
	j->first = true;
}

void json_object_end(struct json *j)
{
	fputc('}', j->out);
	j->first = false;
}

void json_end(struct json *j)
{
	fputs("}\n", j->out);
}

/* ---- the parts records share ---- */

void json_record_begin_to(struct json *j, FILE *out, const char *type, uint64_t realtime_ns)
{
	char when[TIME_LEN];

	json_begin(j, out);
	json_str(j, "type", type);
	format_utc_time(when, sizeof(when), realtime_ns);
	json_str(j, "time", when);
	json_uint(j, "time_us", realtime_ns / 1000);
}

void json_record_begin(struct json *j, const char *type, uint64_t realtime_ns)
{
	json_record_begin_to(j, stdout, type, realtime_ns);
}

void json_report_begin(struct json *j, const char *type, uint64_t end_ns, uint64_t length_ns)
{
	json_record_begin(j, type, end_ns);
	json_uint(j, "interval_ns", length_ns);
}

void json_process(struct json *j, uint32_t pid, int64_t tid, const char *comm)
{
	json_uint(j, "pid", pid);
	if (tid >= 0)
		json_uint(j, "tid", tid);
	json_str(j, "comm", comm);
}

void json_owner(struct json *j, const struct sock_owner *o)
{
	char comm[sizeof(o->comm) + 1] = "";

	memcpy(comm, o->comm, sizeof(o->comm));
	json_process(j, o->pid, o->tid, comm);
}

void json_family(struct json *j, int af)
{
	json_uint(j, "family", af == AF_INET6 ? 6 : 4);
}

void json_endpoint(struct json *j, int af, const uint8_t *laddr, uint16_t lport,
		   const uint8_t *raddr, uint16_t rport)
{
	char addr[ADDR_LEN];

	json_family(j, af);
	if (laddr) {
		format_addr(addr, sizeof(addr), af, laddr);
		json_str(j, "laddr", addr);
	} else {
		json_null(j, "laddr");
	}
	json_uint(j, "lport", lport);
	format_addr(addr, sizeof(addr), af, raddr);
	json_str(j, "raddr", addr);
	json_uint(j, "rport", rport);
}

void json_tuple(struct json *j, const struct sock_tuple *t)
{
	json_endpoint(j, t->family, t->saddr, t->sport, t->daddr, t->dport);
}

void json_connection_begin(struct json *j, const char *type, uint64_t realtime_ns,
			   const struct sock_owner *o, const struct sock_tuple *t)
{
	json_record_begin(j, type, realtime_ns);
	json_owner(j, o);
	json_tuple(j, t);
}

void json_outcome(struct json *j, long long err)
{
	json_str_or_null(j, "error", err ? errno_name(err) : NULL);
	json_int(j, "errno", err);
}

void json_hist(struct json *j, const uint64_t *slots, size_t n)
{
	uint64_t total = 0;
	size_t used = 0;

	for (size_t i = 0; i < n; i++)
		if ((total += slots[i], slots[i]))
			used = i + 1;
	json_str(j, "unit", "us");
	json_uint(j, "total", total);
	json_uint_array(j, "counts", slots, used);
}

void json_header(const char *command)
{
	struct json j;

	json_record_begin(&j, "header", realtime_now_ns());
	json_uint(&j, "schema", JSON_SCHEMA_VERSION);
	json_str(&j, "command", command);
	json_str(&j, "version", SOCKEYE_VERSION);
	json_end(&j);
}

void json_lost(struct json_lost *l, uint64_t count, uint64_t skipped, bool final)
{
	struct json j;

	if (!final && count <= l->shown)
		return;
	json_record_begin(&j, "lost", realtime_now_ns());
	json_uint(&j, "count", count);
	json_uint(&j, "skipped", skipped);
	json_end(&j);
	l->shown = count;
}
