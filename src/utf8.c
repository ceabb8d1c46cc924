// SPDX-License-Identifier: GPL-2.0-only
/* Validation after RFC 3629's table of well-formed byte sequences. */
#include "utf8.h"

static int in(unsigned char c, unsigned char lo, unsigned char hi)
{
	return c >= lo && c <= hi;
}

size_t utf8_char_len(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (in(s[0], 0xc2, 0xdf))
		len = 2;
	else if (in(s[0], 0xe0, 0xef))
		len = 3;
	else if (in(s[0], 0xf0, 0xf4))
		len = 4;
	else
		return 0;
	/* The second byte's range rules out overlong forms, surrogates and
	 * code points past U+10FFFF. */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (!in(s[1], lo, hi))
		return 0;
	for (size_t i = 2; i < len; i++)
		if (!in(s[i], 0x80, 0xbf))
			return 0;
	return len;
}
