// SPDX-License-Identifier: GPL-2.0-only
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#include <sys/socket.h>
#include "json.h"
#include "format.h"
#include "sockeye.h"
#include "sock.h"
#include "utf8.h"

/* A record is built in j->buf and written with one fwrite at its end:
 * through stdio piece by piece (a call per key, value and comma), the
 * writing was most of the cost of `events --json`. A record larger than the
 * buffer (an HTTP payload escaped) goes out in several writes. */
static void flush(struct json *j)
{
	fwrite(j->buf, 1, j->len, j->out);
	j->len = 0;
}

static void put(struct json *j, const char *s, size_t n)
{
	if (n > sizeof(j->buf) - j->len) {
		flush(j);
		if (n > sizeof(j->buf)) {
			fwrite(s, 1, n, j->out);
			return;
		}
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
}

static void put_str(struct json *j, const char *s)
{
	put(j, s, strlen(s));
}

static void put_char(struct json *j, char c)
{
	if (j->len == sizeof(j->buf))
		flush(j);
	j->buf[j->len++] = c;
}

static void put_uint(struct json *j, uint64_t value)
{
	char digits[UINT_DIGITS];
	size_t n = uint_digits(digits, value);

	put(j, digits + UINT_DIGITS - n, n);
}

static void put_int(struct json *j, int64_t value)
{
	if (value < 0) {
		put_char(j, '-');
		put_uint(j, -(uint64_t)value);
	} else {
		put_uint(j, value);
	}
}

/* Whether c passes as it is: printable ASCII but the two JSON escapes. */
static bool plain_ascii(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/* The length of the run of characters at s that pass as they are, and in
 * len that of the character after it (0: not valid UTF-8, or the end). */
static size_t plain_run(const char *s, size_t *len)
{
	size_t run = 0;

	for (;;) {
		if (plain_ascii(s[run])) {
			run++;
			continue;
		}
		*len = utf8_char_len(s + run);
		if (*len <= 1)
			return run;
		run += *len;
	}
}

/* Runs of plain characters are copied as they are, in one piece. */
static void json_string(struct json *j, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	put_char(j, '"');
	while (*s) {
		size_t len, run = plain_run(s, &len);

		put(j, s, run);
		s += run;
		if (!*s)
			break;
		if (!len) {
			put_str(j, UTF8_REPLACEMENT);
		} else if (*s == '"' || *s == '\\') {
			put_char(j, '\\');
			put_char(j, *s);
		} else {
			char esc[] = { '\\', 'u', '0', '0', hex[(unsigned char)*s >> 4],
				       hex[*s & 15] };

			put(j, esc, sizeof(esc));
		}
		s++;
	}
	put_char(j, '"');
}

/* Keys are sockeye's own plain ASCII names: written as they are, with no
 * scan for characters to escape. */
static void json_key(struct json *j, const char *key)
{
	if (!j->first)
		put_char(j, ',');
	j->first = false;
	put_char(j, '"');
	put_str(j, key);
	put(j, "\":", 2);
}

void json_begin(struct json *j, FILE *out)
{
	j->out = out;
	j->first = true;
	j->len = 0;
	put_char(j, '{');
}

void json_str(struct json *j, const char *key, const char *value)
{
	json_key(j, key);
	json_string(j, value);
}

void json_null(struct json *j, const char *key)
{
	json_key(j, key);
	put_str(j, "null");
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
	put_int(j, value);
}

void json_uint(struct json *j, const char *key, uint64_t value)
{
	json_key(j, key);
	put_uint(j, value);
}

void json_bool(struct json *j, const char *key, bool value)
{
	json_key(j, key);
	put_str(j, value ? "true" : "false");
}

void json_uint_array(struct json *j, const char *key, const uint64_t *values, size_t n)
{
	json_key(j, key);
	put_char(j, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			put_char(j, ',');
		put_uint(j, values[i]);
	}
	put_char(j, ']');
}

void json_object_begin(struct json *j, const char *key)
{
	json_key(j, key);
	put_char(j, '{');
	j->first = true;
}

void json_object_end(struct json *j)
{
	put_char(j, '}');
	j->first = false;
}

void json_end(struct json *j)
{
	put(j, "}\n", 2);
	flush(j);
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
	json_str_or_null(j, "exe", process_exe(pid, comm));
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
