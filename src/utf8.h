/* SPDX-License-Identifier: GPL-2.0-only */
/* Strings from the host (process names, paths, payloads) are bytes anyone
 * chooses. Every writer (JSON, Prometheus, text) passes valid UTF-8
 * through and replaces each byte that starts no valid character with
 * U+FFFD, so no name can make an output invalid. */
#ifndef SOCKEYE_UTF8_H
#define SOCKEYE_UTF8_H

#include <stddef.h>

#define UTF8_REPLACEMENT "\xef\xbf\xbd"

/* The length (1 to 4) of the valid UTF-8 character s starts with, or 0
 * when its first byte starts none (a stray continuation byte, an overlong
 * form, a surrogate, a code point above U+10FFFF, a cut sequence). s is
 * NUL-terminated; the NUL ends any sequence. */
size_t utf8_char_len(const char *s);

#endif
