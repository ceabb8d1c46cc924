/* SPDX-License-Identifier: GPL-2.0-only */
/* `sockeye top`'s full-screen view (top_screen.c), on the rows of
 * top_model.h; the command (top.c) starts it on a terminal. */
#ifndef SOCKEYE_TOP_SCREEN_H
#define SOCKEYE_TOP_SCREEN_H

#include "top_model.h"

/* The full-screen view, refreshed every interval seconds
 * until q, a signal, --duration or count refreshes (0: no limit); v is
 * where it starts. Returns 0, or -errno after restoring the terminal and
 * saying what failed. */
int top_screen(struct top_session *s, const struct top_view *v, double interval,
	       unsigned long count);

#endif
