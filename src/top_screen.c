// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye top`'s full-screen view, with ncurses (the library every
 * terminal tool of its kind uses, nethogs included): the rows of
 * top_model.c, a chart of the host's recent send and receive rates, a
 * status line, and keys that change the view at once; a process's
 * connections (top_conns.c) on Enter. */
#define _GNU_SOURCE
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <ncurses.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sockeye.h"
#include "format.h"
#include "top_conns.h"
#include "top_screen.h"

#define HISTORY 128	/* intervals the chart remembers */
#define CHART_ROWS 2	/* lines above the table: one chart per direction */
#define TOP_LINES 4	/* title, two charts, blank */
#define MAX_COMM_WIDTH 48	/* cgroup paths can be long; numbers matter more */

static int clamp(int v, int low, int high)
{
	return v < low ? low : v > high ? high : v;
}

struct screen {
	struct top_session *session;
	const char *agent_pins;	/* where the agent's maps are, or NULL */
	struct top_tracker tracker;
	const struct top_snapshot *snap;	/* NULL before the first interval */
	struct top_snapshot frozen;	/* what a pause shows: a copy of snap */
	struct top_view view;
	double interval;
	bool split;		/* a line per protocol and family under each row */
	bool help;
	bool paused;
	bool prompt;		/* a filter being typed, in typing */
	char typing[sizeof(((struct top_view *)0)->filter)];
	uint32_t selected;	/* the selected process's pid, or 0 */
	bool conns_open;	/* showing the connections of the selected process */
	int conns_err;		/* why they cannot be read, -errno */
	struct top_conns conns;
	bool utf8;
	bool keys;		/* stdin is a terminal to read keys from */
	double history[TRAFFIC_DIRS][HISTORY];	/* bytes/s, newest last */
	int filled;
};

/* The snapshot the view shows: the frozen one while paused. */
static const struct top_snapshot *shown(const struct screen *s)
{
	return s->paused ? &s->frozen : s->snap;
}

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

	mvprintw(0, 0, "sockeye top - every %gs - ", s->interval);
	if (s->conns_open) {
		printw("connections of %u", s->conns.pid);
		return;
	}
	printw("%s by %s%s - %s %s - units %s%s", v->by_cgroup ? "cgroups" : "processes",
	       sort_name(v->sort), v->reverse ? " (reversed)" : "", protocols_name(v->protocols),
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
			       shown(s)->span_ns, columns);
		mvaddnstr(y++, 0, line, COLS);
	}
	return y;
}

/* How many rows fit between the header and the total. */
static int table_rows(void)
{
	return LINES - 2 - (TOP_LINES + 1);
}

static void draw_table(const struct screen *s, const struct top_row *rows, int n)
{
	const struct top_snapshot *snap = shown(s);
	int y = TOP_LINES, bottom = LINES - 2;
	struct top_columns columns;
	char line[TOP_LINE_MAX];
	struct top_row sum;

	/* Filtered, the total is the rows': those that left may not match. */
	if (s->view.filter[0])
		top_sum(rows, n, &sum);
	else
		top_total(snap, rows, n, &sum);
	top_fit_columns(rows, n, &sum, &s->view, snap->span_ns, COLS, MAX_COMM_WIDTH, &columns);
	format_top_header(line, sizeof(line), &s->view, &columns);
	attron(A_REVERSE);
	mvprintw(y++, 0, "%-*.*s", COLS, COLS, line);
	attroff(A_REVERSE);
	for (int i = 0; i < n && y < bottom; i++) {
		bool selected = s->selected && rows[i].pid == s->selected && !s->view.by_cgroup;

		format_top_row(line, sizeof(line), &rows[i], NULL, &s->view, snap->span_ns,
			       &columns);
		attrset(selected ? A_REVERSE : rows[i].ended ? A_DIM : A_NORMAL);
		mvprintw(y++, 0, "%-*.*s", selected ? COLS : 0, COLS, line);
		attrset(A_NORMAL);
		if (s->split)
			y = draw_splits(s, y, bottom, &rows[i], &columns);
	}
	format_top_row(line, sizeof(line), &sum, "TOTAL", &s->view, snap->span_ns, &columns);
	attron(A_BOLD);
	mvaddnstr(LINES - 2, 0, line, COLS);
	attroff(A_BOLD);
}

/* A rate, or "-" before there is one. */
static void format_rate(char *buf, size_t len, double per_s, enum top_units units)
{
	if (per_s < 0)
		snprintf(buf, len, "-");
	else
		format_amount(buf, len, per_s, units);
}

/* The numbers of a connection: rates sent, received, bytes sent, received. */
static void conn_numbers(const struct top_conn *c, enum top_units units, char numbers[4][24])
{
	format_rate(numbers[0], sizeof(numbers[0]), c->sent_per_s, units);
	format_rate(numbers[1], sizeof(numbers[1]), c->recv_per_s, units);
	format_amount(numbers[2], sizeof(numbers[2]), c->sent, units);
	format_amount(numbers[3], sizeof(numbers[3]), c->recv, units);
}

/* A connection's remote end: "*" for a UDP socket that is not connected,
 * which may send to any peer (the send tracepoint does not say which). */
static void format_remote(char *buf, size_t len, const struct top_conn *conn)
{
	if (conn->tuple.protocol == IPPROTO_UDP && !conn->tuple.dport)
		snprintf(buf, len, "*");
	else
		format_endpoint(buf, len, conn->tuple.family, conn->tuple.daddr, conn->tuple.dport);
}

/* The connections of the opened process, busiest first: protocol, remote
 * end, local port, rates and bytes (TCP's sent: acknowledged by the peer). */
static void draw_conns(const struct screen *s)
{
	const struct top_conns *c = &s->conns;
	char numbers[4][24], remote[ENDPOINT_LEN], line[512];
	int width = 8, remote_width, y = TOP_LINES;

	if (s->conns_err == -ENOENT && s->agent_pins) {
		mvprintw(y, 0, "the agent runs no flows collector: no connections to show");
		return;
	}
	if (s->conns_err) {
		mvprintw(y, 0, "cannot read the connections of %u: %s", c->pid,
			 strerror(-s->conns_err));
		return;
	}
	for (size_t i = 0; i < c->n; i++) {
		conn_numbers(&c->conns[i], s->view.units, numbers);
		for (int k = 0; k < 4; k++)
			if ((int)strlen(numbers[k]) > width)
				width = strlen(numbers[k]);
	}
	/* PROTO, LPORT, four numbers, "  closed" */
	remote_width = COLS - (5 + 1 + 1 + 5 + 4 * (1 + width) + 8);
	remote_width = remote_width < 21 ? 21 : remote_width > ENDPOINT_LEN ? ENDPOINT_LEN : remote_width;
	snprintf(line, sizeof(line), "%-5s %-*s %5s %*s %*s %*s %*s", "PROTO", remote_width,
		 "REMOTE", "LPORT", width, "SENT/s", width, "RECV/s", width, "SENT", width, "RECV");
	attron(A_REVERSE);
	mvprintw(y++, 0, "%-*.*s", COLS, COLS, line);
	attroff(A_REVERSE);
	for (size_t i = 0; i < c->n && y < LINES - 1; i++) {
		const struct top_conn *conn = &c->conns[i];

		format_remote(remote, sizeof(remote), conn);
		conn_numbers(conn, s->view.units, numbers);
		snprintf(line, sizeof(line), "%-5s %-*s %5u %*s %*s %*s %*s%s",
			 split_name((conn->tuple.protocol == IPPROTO_UDP) * 2 +
				    (conn->tuple.family == AF_INET6)), remote_width, remote,
			 conn->tuple.sport, width, numbers[0], width, numbers[1], width, numbers[2],
			 width, numbers[3], conn->closed ? "  closed" : "");
		mvaddnstr(y++, 0, line, COLS);
	}
	if (c->udp_err && y < LINES - 1)
		mvprintw(y, 0, "UDP sockets: %s", s->agent_pins ? "shown without --from-agent only"
				: "not counted here (no hook at socket close)");
}

static void draw_status(const struct screen *s, int rows)
{
	move(LINES - 1, 0);
	if (s->prompt) {
		printw("filter: %s", s->typing);
		curs_set(1);
		return;
	}
	curs_set(0);
	if (shown(s) && shown(s)->lost) {
		attron(A_REVERSE);
		printw("lost %llu send/receive calls",
		       (unsigned long long)shown(s)->lost);
		attroff(A_REVERSE);
		addstr("  ");
	}
	if (s->conns_open && top_udp_lost(s->session)) {
		attron(A_REVERSE);
		printw("lost %llu UDP calls per socket", (unsigned long long)top_udp_lost(s->session));
		attroff(A_REVERSE);
		addstr("  ");
	}
	if (s->paused) {
		attron(A_REVERSE);
		addstr("paused");
		attroff(A_REVERSE);
		addstr("  ");
	}
	if (s->conns_open)
		printw("%zu connections  Esc back", s->conns.n);
	else
		printw("%d %s", rows, s->view.by_cgroup ? "cgroups" : "processes");
	if (s->view.filter[0] && !s->conns_open)
		printw("  filter %s", s->view.filter);
	addstr("  q quit  ? keys");
}

static const char *const help_lines[] = {
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
	"  /          filter: text in the name (cgroup path), or a pid;",
	"             Enter applies it, Esc clears it",
	"  space      pause: the numbers stay until space again",
	"  + -        refresh less often, more often",
	"  j k        select a process (the arrow keys too)",
	"  Enter      the selected process's TCP connections and UDP sockets;",
	"             Esc back",
	"  ?  h       this help; any key closes it",
};
#define HELP_LINES (int)(sizeof(help_lines) / sizeof(help_lines[0]))

void top_print_keys(FILE *out)
{
	fputs("\nKeys of the full-screen view:\n", out);
	for (int i = 0; i < HELP_LINES; i++)
		fprintf(out, "%s\n", help_lines[i]);
}

/* Over the chart and the table: the keys take more lines than 24 leave
 * below the chart. */
static void draw_help(void)
{
	mvaddstr(1, 2, "Keys");
	for (int i = 0; i < HELP_LINES && 2 + i < LINES - 1; i++)
		mvprintw(2 + i, 2, "%-70s", help_lines[i]);
}

static int draw(struct screen *s)
{
	struct top_row *rows = NULL;
	int n = 0;

	erase();
	draw_title(s);
	if (s->help) {
		draw_help();
	} else if (s->conns_open) {
		draw_conns(s);
	} else {
		for (int d = 0; d < TRAFFIC_DIRS && 1 + d < LINES; d++)
			draw_chart(s, 1 + d, d);
		if (shown(s)) {
			n = top_arrange(shown(s), &s->view, &rows);
			if (n < 0)
				return n;
			draw_table(s, rows, n);
			free(rows);
		} else {
			mvprintw(TOP_LINES, 0, "counting for %g seconds...", s->interval);
		}
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

/* The intervals + and - step through. */
static const double intervals[] = { 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60 };
#define INTERVALS (int)(sizeof(intervals) / sizeof(intervals[0]))

/* The next interval up (longer) or down from the current one, which may
 * be between two of the steps; the current one at either end. */
static double next_interval(double current, bool up)
{
	if (up) {
		for (int i = 0; i < INTERVALS; i++)
			if (intervals[i] > current * 1.001)
				return intervals[i];
	} else {
		for (int i = INTERVALS - 1; i >= 0; i--)
			if (intervals[i] < current * 0.999)
				return intervals[i];
	}
	return current;
}

static void pause_view(struct screen *s)
{
	s->paused = !s->paused;
	free(s->frozen.rows);
	memset(&s->frozen, 0, sizeof(s->frozen));
	if (!s->paused)
		return;
	s->frozen = *s->snap;
	s->frozen.rows = malloc((s->snap->n ? s->snap->n : 1) * sizeof(*s->frozen.rows));
	if (!s->frozen.rows) {
		s->paused = false;
		return;
	}
	memcpy(s->frozen.rows, s->snap->rows, s->snap->n * sizeof(*s->frozen.rows));
}

/* Moves the selection by step among the rows on the screen; from none,
 * down selects the first and up the last. */
static void move_selection(struct screen *s, int step)
{
	struct top_row *rows = NULL;
	int n = top_arrange(shown(s), &s->view, &rows), at = -1;

	if (n > table_rows())
		n = table_rows();
	for (int i = 0; i < n; i++)
		if (rows[i].pid == s->selected)
			at = i;
	if (n > 0) {
		at = at < 0 ? (step > 0 ? 0 : n - 1) : clamp(at + step, 0, n - 1);
		s->selected = rows[at].pid;
	}
	free(rows);
}

/* Opens the selected process's connections: the first reading has no
 * rates yet; they come with the next interval. */
static void open_conns(struct screen *s)
{
	if (!s->selected || s->view.by_cgroup)
		return;
	s->conns_open = true;
	mvprintw(LINES - 1, 0, "reading the connections of %u...", s->selected);
	clrtoeol();
	refresh();
	s->conns_err = top_conns_open(&s->conns, s->selected, s->agent_pins, s->session);
	if (!s->conns_err)
		s->conns_err = top_conns_read(&s->conns);
	clearok(curscr, TRUE);	/* what libbpf may have written to the terminal */
}

static void close_conns(struct screen *s)
{
	top_conns_close(&s->conns);
	s->conns_open = false;
	s->conns_err = 0;
}

/* A key while a filter is typed: text, Backspace, Enter or Esc. */
static void prompt_key(struct screen *s, int key)
{
	size_t len = strlen(s->typing);

	if (key == '\n' || key == '\r' || key == KEY_ENTER) {
		memcpy(s->view.filter, s->typing, sizeof(s->view.filter));
		s->prompt = false;
	} else if (key == 27) {	/* Esc */
		s->view.filter[0] = s->typing[0] = '\0';
		s->prompt = false;
	} else if ((key == KEY_BACKSPACE || key == 127 || key == 8) && len) {
		s->typing[len - 1] = '\0';
	} else if (key >= ' ' && key < 127 && len + 1 < sizeof(s->typing)) {
		s->typing[len] = key;
		s->typing[len + 1] = '\0';
	}
}

/* The keys of both views: quit, pause, interval, help. */
static bool common_key(struct screen *s, int key)
{
	if (key == ' ' && s->snap)
		pause_view(s);
	else if (key == '+' || key == '-')
		s->interval = next_interval(s->interval, key == '+');
	else if (key == '?' || key == 'h')
		s->help = true;
	else if (key == 'q' || key == 'Q')
		run_request_stop();
	else
		return key == KEY_RESIZE;
	return true;
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

	if (s->prompt)
		prompt_key(s, key);
	else if (s->conns_open)
		return key == 27 ? (close_conns(s), true) : common_key(s, key);
	else if (sort_key)
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
	else if (key == '/')
		s->prompt = true;
	else if (key == 27)	/* Esc */
		v->filter[0] = s->typing[0] = '\0';
	else if ((key == KEY_DOWN || key == 'j' || key == KEY_UP || key == 'k') && shown(s))
		move_selection(s, key == KEY_DOWN || key == 'j' ? 1 : -1);
	else if (key == '\n' || key == '\r' || key == KEY_ENTER)
		open_conns(s);
	else
		return common_key(s, key);
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
	if (s->paused)	/* counting goes on; the screen stays */
		return 0;
	if (s->conns_open && !s->conns_err)
		s->conns_err = top_conns_read(&s->conns);
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

int top_screen(struct top_session *session, const char *agent_pins, const struct top_view *v,
	       double interval, unsigned long count)
{
	struct screen *s = calloc(1, sizeof(*s));
	SCREEN *term;
	int err;

	if (!s)
		return -ENOMEM;
	*s = (struct screen){ .session = session, .agent_pins = agent_pins, .view = *v,
			      .interval = interval };
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
	set_escdelay(25);	/* Esc alone: not the start of a longer key's sequence */
	curs_set(0);
	draw(s);
	err = top_begin(session, &s->tracker);
	if (!err)
		err = run_reports_live(&s->interval, count, refresh_rows, s, wait_for_keys, s);
	endwin();
	delscreen(term);
	if (err)
		p_err("cannot read the traffic counters: %s", strerror(-err));
	if (s->conns_open)
		close_conns(s);
	free(s->frozen.rows);
	top_tracker_free(&s->tracker);
	free(s);
	return err;
}
