/* SPDX-License-Identifier: GPL-2.0-only */
/* A JSON Lines writer: one object per line. Small enough to own; a library
 * (json-c) would build a tree for every record only to print it.
 *
 * Every record follows sockeye's JSON schema (schema/sockeye.schema.json):
 * the parts records share (time, process, endpoint, outcome, histogram,
 * the stream's header, lost records) are written here, once. */
#ifndef SOCKEYE_JSON_H
#define SOCKEYE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The "schema" of the header record: raised on any change that can break a
 * reader (a key renamed or removed, a meaning changed). */
#define JSON_SCHEMA_VERSION 1

/* A record being written: built in buf, written to out by json_end(). */
struct json {
	FILE *out;
	bool first;
	size_t len;
	char buf[4096];
};

/* Keys are sockeye's own names, plain ASCII: written without escaping. */
void json_begin(struct json *j, FILE *out);
/* Strings from the host pass through when valid UTF-8; each byte that
 * starts no valid character becomes U+FFFD, control characters \u00XX. */
void json_str(struct json *j, const char *key, const char *value);
/* value, or null when value is NULL. */
void json_str_or_null(struct json *j, const char *key, const char *value);
void json_null(struct json *j, const char *key);
void json_int(struct json *j, const char *key, int64_t value);
void json_uint(struct json *j, const char *key, uint64_t value);
void json_bool(struct json *j, const char *key, bool value);
void json_uint_array(struct json *j, const char *key, const uint64_t *values, size_t n);
/* "key":{ ... }: the fields between the two calls go inside. */
void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
/* Closes the object and the line. */
void json_end(struct json *j);

/* ---- the parts records share ---- */

struct sock_owner;
struct sock_tuple;

/* What every record starts with: "type", then "time" (RFC 3339, UTC,
 * microseconds) and "time_us" (microseconds since the epoch) of
 * realtime_ns. json_record_begin() writes to stdout. */
void json_record_begin(struct json *j, const char *type, uint64_t realtime_ns);
void json_record_begin_to(struct json *j, FILE *out, const char *type, uint64_t realtime_ns);
/* The same of a report on an interval that ended at end_ns (CLOCK_REALTIME),
 * then "interval_ns": how long the interval was. */
void json_report_begin(struct json *j, const char *type, uint64_t end_ns, uint64_t length_ns);
/* "pid", "tid" (left out when tid is negative: not known) and "comm". */
void json_process(struct json *j, uint32_t pid, int64_t tid, const char *comm);
/* The same of a record's owner, whose comm is 16 bytes from the kernel. */
void json_owner(struct json *j, const struct sock_owner *o);
/* "family": 4 or 6. */
void json_family(struct json *j, int af);
/* "family", "laddr", "lport", "raddr", "rport": the local and remote ends
 * from the socket's point of view. laddr NULL: "laddr":null (not known). */
void json_endpoint(struct json *j, int af, const uint8_t *laddr, uint16_t lport,
		   const uint8_t *raddr, uint16_t rport);
/* The same of a tuple, whose saddr/sport are the socket's local end. */
void json_tuple(struct json *j, const struct sock_tuple *t);
/* What a record about one connection begins with: json_record_begin(),
 * the owner (pid 0 and an empty comm when sockeye never saw it), both ends. */
void json_connection_begin(struct json *j, const char *type, uint64_t realtime_ns,
			   const struct sock_owner *o, const struct sock_tuple *t);
/* "error": the errno name ("ECONNREFUSED"), null when err is 0, and
 * "errno": err, positive (0 on success). */
void json_outcome(struct json *j, long long err);
/* A log2 histogram of microseconds: "unit":"us", "total" (the sum of the
 * slots) and "counts": slot 0 (0-1 us), slot n (2^n to 2^(n+1)-1 us), up to
 * the last slot used. */
void json_hist(struct json *j, const uint64_t *slots, size_t n);
/* The first record of every JSON stream: {"type":"header","schema":N,
 * "command":..., "version":...}. */
void json_header(const char *command);

/* Records not shown: {"type":"lost","count":N,"skipped":M}, count the total
 * since the start, skipped the part of it the kernel skipped (runs of a
 * program already running on that CPU). One per command that can lose. */
struct json_lost {
	uint64_t shown;		/* the count in the last lost record */
};

/* Writes the lost record when count grew since the last one, or always
 * when final (at exit). */
void json_lost(struct json_lost *l, uint64_t count, uint64_t skipped, bool final);

#endif
