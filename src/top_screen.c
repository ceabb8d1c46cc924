// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye top`'s full-screen view, with ncurses (the library every
 * terminal tool of its kind uses, nethogs included): the rows of
 * top_model.c, a chart of the host's recent send and receive rates, a
 * status line, and keys that change the view at once. */
#define _GNU_SOURCE
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <ncurses.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sockeye.h"
#include "top_screen.h"

#define HISTORY 128	/* intervals the chart remembers */
#define CHART_ROWS 2	/* lines above the table: one chart per direction */
#define TOP_LINES 4	/* title, two charts, blank */
#define MAX_COMM_WIDTH 48	/* cgroup paths can be long; numbers matter more */

struct screen {
	struct top_session *session;
	struct top_tracker tracker;
	const struct top_snapshot *snap;	/* NULL before the first interval */
	struct top_view view;
	double interval;
	bool split;		/* a line per protocol and family under each row */
	bool help;
	bool utf8;
	bool keys;		/* stdin is a terminal to read keys from */
	double history[TRAFFIC_DIRS][HISTORY];	/* bytes/s, newest last */
	int filled;
};

/* ---- drawing ---- */

static const char *protocols_name(unsigned protocols)
{
	return protocols == SPLITS_TCP ? "TCP" : protocols == SPLITS_UDP ? "UDP" : "TCP+UDP";
}

static const char *families_name(unsigned families)
{
	return families == SPLITS_IPV4 ? "IPv4" : families == SPLITS_IPV6 ? "IPv6" : "IPv4+IPv6";
}

static void draw_title(const struct screen *s)
{
	const struct top_view *v = &s->view;

	mvprintw(0, 0, "sockeye top - every %gs - %s by %s%s - %s %s - units %s%s", s->interval,
		 v->by_cgroup ? "cgroups" : "processes", sort_name(v->sort),
		 v->reverse ? " (reversed)" : "", protocols_name(v->protocols),
		 families_name(v->families), units_name(v->units), s->split ? " - split" : "");
}

/* One line of the chart: the last `width` rates of a direction, scaled to
 * the highest among them, with the newest rate written after it. */
static void draw_chart(const struct screen *s, int y, int dir)
{
	static const char *const blocks[] = { " ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
	static const char ascii[] = " .:-=+*#%@";
	int levels = s->utf8 ? 8 : (int)sizeof(ascii) - 2, width = COLS - 32, n, first;
	double top = 0, now = s->filled ? s->history[dir][HISTORY - 1] : 0;
	char amount[32];

	if (width > HISTORY)
		width = HISTORY;
	n = s->filled < width ? s->filled : width;
	first = HISTORY - n;
	for (int i = first; i < HISTORY; i++)
		if (s->history[dir][i] > top)
			top = s->history[dir][i];
	mvprintw(y, 0, "%-5s", dir == DIR_SENT ? "sent" : "recv");
	for (int i = first; i < HISTORY; i++) {
		int level = top > 0 ? (int)(s->history[dir][i] / top * levels + 0.5) : 0;

		if (s->utf8)
			addstr(blocks[level]);
		else
			addch(ascii[level]);
	}
	format_amount(amount, sizeof(amount), now, UNITS_AUTO);
	printw(" %s/s", amount);
}

/* The rows of one protocol and family under a row, in split mode. */
static int draw_splits(const struct screen *s, int y, int bottom, const struct top_row *r,
		       const struct top_columns *columns)
{
	char line[512];

	for (int i = 0; i < TRAFFIC_SPLITS && y < bottom; i++) {
		struct top_row part = *r;

		if (!(view_splits(&s->view) & (1u << i)) ||
		    !(r->total[DIR_SENT][i] | r->total[DIR_RECV][i]))
			continue;
		memset(part.total, 0, sizeof(part.total));
		memset(part.delta, 0, sizeof(part.delta));
		for (int d = 0; d < TRAFFIC_DIRS; d++) {
			part.total[d][i] = r->total[d][i];
			part.delta[d][i] = r->delta[d][i];
		}
		format_top_row(line, sizeof(line), &part, split_name(i), &s->view,
			       s->snap->span_ns, columns);
		mvaddnstr(y++, 0, line, COLS);
	}
	return y;
}

static void draw_table(const struct screen *s, const struct top_row *rows, int n)
{
	int y = TOP_LINES, bottom = LINES - 2;
	struct top_columns columns;
	char line[512];
	struct top_row sum;

	top_total(s->snap, rows, n, &sum);
	top_fit_columns(rows, n, &sum, &s->view, s->snap->span_ns, COLS, MAX_COMM_WIDTH, &columns);
	format_top_header(line, sizeof(line), &s->view, &columns);
	attron(A_REVERSE);
	mvprintw(y++, 0, "%-*.*s", COLS, COLS, line);
	attroff(A_REVERSE);
	for (int i = 0; i < n && y < bottom; i++) {
		format_top_row(line, sizeof(line), &rows[i], NULL, &s->view, s->snap->span_ns,
			       &columns);
		if (rows[i].ended)
			attron(A_DIM);
		mvaddnstr(y++, 0, line, COLS);
		attroff(A_DIM);
		if (s->split)
			y = draw_splits(s, y, bottom, &rows[i], &columns);
	}
	format_top_row(line, sizeof(line), &sum, "TOTAL", &s->view, s->snap->span_ns, &columns);
	attron(A_BOLD);
	mvaddnstr(LINES - 2, 0, line, COLS);
	attroff(A_BOLD);
}

static void draw_status(const struct screen *s, int rows)
{
	move(LINES - 1, 0);
	if (s->snap && s->snap->lost) {
		attron(A_REVERSE);
		printw("lost %llu send/receive calls",
		       (unsigned long long)s->snap->lost);
		attroff(A_REVERSE);
		addstr("  ");
	}
	printw("%d %s  q quit  ? keys", rows, s->view.by_cgroup ? "cgroups" : "processes");
}

static const char *const help_lines[] = {
	"Keys",
	"",
	"  q          quit (Ctrl-C too)",
	"  p u c      sort by pid, user, comm (cgroup when grouped)",
	"  s r        sort by sent/s, received/s",
	"  S R        sort by total sent, total received",
	"  a          sort by sent/s + received/s",
	"  < >        sort by the column on the left, on the right",
	"  I          reverse the order",
	"  m          units: automatic, KiB, MiB, bytes",
	"  t          protocols: TCP+UDP, TCP, UDP",
	"  f          families: IPv4+IPv6, IPv4, IPv6",
	"  x          a line per protocol and family under each row",
	"  g          group by cgroup (container, service) or by process",
	"  ?          this help; any key closes it",
};

static void draw_help(void)
{
	int n = sizeof(help_lines) / sizeof(help_lines[0]);

	for (int i = 0; i < n && TOP_LINES + i < LINES; i++)
		mvprintw(TOP_LINES + i, 2, "%-60s", help_lines[i]);
}

static int draw(struct screen *s)
{
	struct top_row *rows = NULL;
	int n = 0;

	erase();
	draw_title(s);
	for (int d = 0; d < TRAFFIC_DIRS && 1 + d < LINES; d++)
		draw_chart(s, 1 + d, d);
	if (s->help) {
		draw_help();
	} else if (s->snap) {
		n = top_arrange(s->snap, &s->view, &rows);
		if (n < 0)
			return n;
		draw_table(s, rows, n);
		free(rows);
	} else {
		mvprintw(TOP_LINES, 0, "counting for %g seconds...", s->interval);
	}
	draw_status(s, n);
	refresh();
	return 0;
}

/* ---- keys ---- */

/* The columns from left to right, for < and >. */
static const enum top_sort column_order[] = {
	SORT_PID, SORT_USER, SORT_COMM, SORT_SENT_RATE, SORT_RECV_RATE, SORT_SENT, SORT_RECV,
};
#define COLUMNS (int)(sizeof(column_order) / sizeof(column_order[0]))

static void move_sort(struct top_view *v, int step)
{
	int at = COLUMNS - 1;	/* sorting by rate: as if on the last column */

	for (int i = 0; i < COLUMNS; i++)
		if (column_order[i] == v->sort)
			at = i;
	at += step;
	v->sort = column_order[at < 0 ? 0 : at >= COLUMNS ? COLUMNS - 1 : at];
}

static unsigned next_of(unsigned current, unsigned a, unsigned b)
{
	return current == SPLITS_ALL ? a : current == a ? b : SPLITS_ALL;
}

/* Returns false for a key that is not one of the view's. */
static bool handle_key(struct screen *s, int key)
{
	static const char sort_keys[] = "pucsrSRa";
	static const enum top_sort sort_for[] = {
		SORT_PID, SORT_USER, SORT_COMM, SORT_SENT_RATE, SORT_RECV_RATE,
		SORT_SENT, SORT_RECV, SORT_RATE,
	};
	struct top_view *v = &s->view;
	const char *sort_key = key > 0 && key < 256 ? strchr(sort_keys, key) : NULL;

	if (sort_key)
		v->sort = sort_for[sort_key - sort_keys];
	else if (key == '<' || key == '>')
		move_sort(v, key == '<' ? -1 : 1);
	else if (key == 'I')
		v->reverse = !v->reverse;
	else if (key == 'm')
		v->units = (v->units + 1) % TOP_UNITS;
	else if (key == 't')
		v->protocols = next_of(v->protocols, SPLITS_TCP, SPLITS_UDP);
	else if (key == 'f')
		v->families = next_of(v->families, SPLITS_IPV4, SPLITS_IPV6);
	else if (key == 'x')
		s->split = !s->split;
	else if (key == 'g')
		v->by_cgroup = !v->by_cgroup;
	else if (key == '?' || key == 'h')
		s->help = true;
	else if (key == 'q' || key == 'Q')
		run_request_stop();
	else
		return key == KEY_RESIZE;
	return true;
}

/* Between refreshes: every key redraws at once. */
static void wait_for_keys(void *ctx, int ms)
{
	struct screen *s = ctx;
	int key;

	if (!s->keys) {	/* getch() would return at once, again and again */
		poll(NULL, 0, ms);
		return;
	}
	timeout(ms);
	key = getch();
	if (key == ERR)
		return;
	if (s->help)
		s->help = key == KEY_RESIZE;	/* any key closes the help */
	else if (!handle_key(s, key))
		return;
	if (!run_should_stop())
		draw(s);
}

static int refresh_rows(void *ctx, const struct report_span *span)
{
	struct screen *s = ctx;
	struct top_row sum;
	int err = top_take(s->session, &s->tracker, span, &s->snap);

	if (err)
		return err;
	top_sum(s->snap->rows, s->snap->n, &sum);
	for (int d = 0; d < TRAFFIC_DIRS; d++) {
		memmove(s->history[d], s->history[d] + 1, (HISTORY - 1) * sizeof(double));
		s->history[d][HISTORY - 1] =
			per_second(row_bytes(&sum, false, d, view_splits(&s->view)), span->length_ns);
	}
	if (s->filled < HISTORY)
		s->filled++;
	return draw(s);
}

int top_screen(struct top_session *session, const struct top_view *v, double interval,
	       unsigned long count)
{
	struct screen *s = calloc(1, sizeof(*s));
	SCREEN *term;
	int err;

	if (!s)
		return -ENOMEM;
	*s = (struct screen){ .session = session, .view = *v, .interval = interval };
	/* LC_CTYPE only: numbers keep their decimal point. */
	setlocale(LC_CTYPE, "");
	s->utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	s->keys = isatty(STDIN_FILENO);
	/* newterm(), unlike initscr(), returns instead of exiting on failure. */
	term = newterm(NULL, stdout, stdin);
	if (!term) {
		free(s);
		p_err("cannot start the terminal view (TERM=%s); use -b for text",
		      getenv("TERM") ? getenv("TERM") : "");
		return -EIO;
	}
	cbreak();	/* Ctrl-C stays a signal */
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	draw(s);
	err = top_begin(session, &s->tracker);
	if (!err)
		err = run_reports_waiting(interval, count, refresh_rows, s, wait_for_keys, s);
	endwin();
	delscreen(term);
	if (err)
		p_err("cannot read the traffic counters: %s", strerror(-err));
	top_tracker_free(&s->tracker);
	free(s);
	return err;
}
