/* SPDX-License-Identifier: GPL-2.0-only */
/* A JSON Lines writer: one flat object per line. Small enough to own; a
 * library (json-c) would build a tree for every record only to print it. */
#ifndef SOCKEYE_JSON_H
#define SOCKEYE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct json {
	FILE *out;
	bool first;
};

void json_begin(struct json *j, FILE *out);
void json_str(struct json *j, const char *key, const char *value);
void json_int(struct json *j, const char *key, int64_t value);
void json_uint(struct json *j, const char *key, uint64_t value);
/* A duration in seconds, to the millisecond: "interval_s":1.002 */
void json_seconds(struct json *j, const char *key, uint64_t ns);
void json_bool(struct json *j, const char *key, bool value);
void json_uint_array(struct json *j, const char *key, const uint64_t *values, size_t n);
struct sock_owner;
/* The fields a record of one event starts with: "type", then "time" (RFC
 * 3339, UTC, microseconds) and "time_us" of realtime_ns. */
void json_record_begin(struct json *j, const char *type, uint64_t realtime_ns);
/* "pid", "tid" and "comm" of the process a record belongs to. */
void json_owner(struct json *j, const struct sock_owner *o);
/* Closes the object and the line. */
void json_end(struct json *j);

#endif
