/* SPDX-License-Identifier: GPL-2.0-only */
/* `sockeye top`'s full-screen view (top_screen.c), on the rows of
 * top_model.h; the command (top.c) starts it on a terminal. */
#ifndef SOCKEYE_TOP_SCREEN_H
#define SOCKEYE_TOP_SCREEN_H

#include <stdio.h>
#include "top_model.h"

/* The full-screen view, refreshed every interval seconds (+ and - change
 * it) until q, a signal, --duration or count refreshes (0: no limit); v is
 * where it starts. A process's connections come from flows' programs, or
 * from the agent's flows pins under agent_pins when the counters are an
 * agent's. Returns 0, or -errno after restoring the terminal and saying
 * what failed. */
int top_screen(struct top_session *s, const char *agent_pins, const struct top_view *v,
	       double interval, unsigned long count);
/* The view's keys, for top's --help and man page. */
void top_print_keys(FILE *out);

#endif
