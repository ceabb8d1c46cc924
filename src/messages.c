// SPDX-License-Identifier: GPL-2.0-only
/* Error, warning and usage messages, in text or, under --json, as JSON. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sockeye.h"
#include <bpf/libbpf.h>
#include "format.h"
#include "json.h"
#include "version.h"

bool verbose;
bool json_errors;

static void vmessage(const char *level, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (json_errors) {
		struct json j;

		json_record_begin_to(&j, stderr, level, realtime_now_ns());
		json_str(&j, "message", msg);
		json_end(&j);
	} else {
		fprintf(stderr, "sockeye: %s%s\n", strcmp(level, "error") ? "" : "error: ", msg);
	}
}

void p_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("error", fmt, ap);
	va_end(ap);
}

void p_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("warning", fmt, ap);
	va_end(ap);
}

void p_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("info", fmt, ap);
	va_end(ap);
}

void usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sockeye%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_USAGE);
}


void print_version(void)
{
	printf("sockeye %s (%s, libbpf %s)\n", SOCKEYE_VERSION, SOCKEYE_REVISION,
	       libbpf_version_string());
}
