/* SPDX-License-Identifier: GPL-2.0-only */
/* What `sockeye top` shows, apart from how: snapshots of the per-process
 * counters with the bytes of the last interval, and the rows a view makes
 * of them (filtered by protocol and family, grouped by process or cgroup,
 * sorted). The batch output (top.c) and the terminal view (top_screen.c)
 * print the same rows. */
#ifndef SOCKEYE_TOP_MODEL_H
#define SOCKEYE_TOP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "run.h"
#include "top_session.h"

/* One process (or, grouped, one cgroup): bytes since sockeye started and
 * in the last interval, by direction and by protocol and family. */
struct top_row {
	uint32_t pid;		/* 0 in a cgroup row */
	uint32_t uid;
	uint64_t cgroup_id;
	char comm[16];
	uint32_t processes;	/* how many processes the row adds up */
	uint64_t first_ns;	/* when its counters were made: its identity with pid */
	uint64_t ended_ns;	/* when first read ended (monotonic clock), or 0 */
	bool ended;		/* exited during the interval (all of them, grouped) */
	bool gone;		/* shown ended already: left out of the views */
	uint64_t total[TRAFFIC_DIRS][TRAFFIC_SPLITS];
	uint64_t delta[TRAFFIC_DIRS][TRAFFIC_SPLITS];
};

struct top_snapshot {
	struct top_row *rows;	/* one per process, in pid order */
	size_t n;
	uint64_t end_ns;	/* CLOCK_REALTIME */
	uint64_t span_ns;	/* since the previous snapshot */
	struct top_row departed;	/* the totals of the processes shown ended */
	uint64_t lost;		/* calls not counted since the start */
	uint64_t skipped;	/* the part of lost the kernel skipped */
};

/* The previous read, to tell each interval's bytes. */
struct top_tracker {
	struct top_snapshot last;
	unsigned long reads;
};

/* Reads the counters into snap (which the tracker owns until the next
 * call), with each process's bytes since the previous call. Processes that
 * have exited are marked ended, so they show once, with their last
 * interval, and then leave (their counters are deleted the session's grace
 * period later); their totals stay in snap->departed. The first read of
 * an agent's counters has no interval: its bytes are the agent's since its
 * start. Returns 0 or -errno. */
int top_take(struct top_session *s, struct top_tracker *t, const struct report_span *span,
	     const struct top_snapshot **snap);
/* For an agent's counters, takes the first read, so that the first
 * snapshot shown has one interval's bytes; nothing otherwise. */
int top_begin(struct top_session *s, struct top_tracker *t);
void top_tracker_free(struct top_tracker *t);

enum top_sort {
	SORT_PID,
	SORT_USER,
	SORT_COMM,
	SORT_SENT_RATE,
	SORT_RECV_RATE,
	SORT_SENT,
	SORT_RECV,
	SORT_RATE,	/* sent and received per second together */
	TOP_SORTS,
};

enum top_units { UNITS_KB, UNITS_MB, UNITS_B, UNITS_AUTO, TOP_UNITS };

/* Which of protocol and family a view counts: bits (1 << SPLIT_*). */
#define SPLITS_ALL 0xfu
#define SPLITS_TCP ((1u << SPLIT_TCP4) | (1u << SPLIT_TCP6))
#define SPLITS_UDP ((1u << SPLIT_UDP4) | (1u << SPLIT_UDP6))
#define SPLITS_IPV4 ((1u << SPLIT_TCP4) | (1u << SPLIT_UDP4))
#define SPLITS_IPV6 ((1u << SPLIT_TCP6) | (1u << SPLIT_UDP6))

struct top_view {
	enum top_sort sort;
	bool reverse;
	bool by_cgroup;
	unsigned protocols;	/* SPLITS_TCP, SPLITS_UDP or SPLITS_ALL */
	unsigned families;	/* SPLITS_IPV4, SPLITS_IPV6 or SPLITS_ALL */
	enum top_units units;
	/* Only the rows whose comm (cgroup path, grouped) holds this text, or
	 * whose pid it is; "" for every row. */
	char filter[32];
};

/* The view's rows of a snapshot in *rows (malloc'd; the caller frees):
 * rows without a byte in the view's protocols and families, and those the
 * view's filter leaves out, are not among them.
 * Returns how many, or -ENOMEM. */
int top_arrange(const struct top_snapshot *snap, const struct top_view *v,
		struct top_row **rows);
/* The sum of the rows, as one row. */
void top_sum(const struct top_row *rows, size_t n, struct top_row *sum);
/* The TOTAL row: the sum of the rows and of the processes that left, so
 * that its bytes since the start never go down. */
void top_total(const struct top_snapshot *snap, const struct top_row *rows, size_t n,
	       struct top_row *sum);

/* A row's bytes in one direction, counting the given splits: since the
 * start (total) or in the last interval. */
uint64_t row_bytes(const struct top_row *r, bool total, int dir, unsigned splits);
/* Which splits a view counts. */
unsigned view_splits(const struct top_view *v);
double per_second(uint64_t bytes, uint64_t span_ns);

/* Names for options, the status line and JSON. */
struct opt_choice;
extern const struct opt_choice top_sort_keys[];
extern const struct opt_choice top_units[];
const char *sort_name(enum top_sort sort);
const char *units_name(enum top_units units);
const char *split_name(int split);	/* "tcp4", ... */

/* Bytes in the view's units: KB and MB are 1024 and 1024 * 1024 bytes, as
 * nethogs counts them; UNITS_AUTO picks a unit per number and names it,
 * with three significant digits (at most "1023 KiB": eight characters). */
void format_amount(char *buf, size_t len, double bytes, enum top_units units);

/* The table's text, the same in batch output and on the screen: the
 * header, and a row (a total row when name is given: it replaces the pid,
 * user and comm columns), in columns of the given widths. */
struct top_columns {
	int comm;	/* COMM (or CGROUP) */
	int number;	/* each of the four numbers */
	int exe;	/* EXE, last, in bytes; 0: no such column */
};
#define TOP_COMM_WIDTH 16	/* a comm has 15 characters at most */
#define TOP_MIN_COMM_WIDTH 8
#define TOP_NUMBER_WIDTH 13
#define TOP_MIN_EXE_WIDTH 16	/* narrower, a path says too little */
#define TOP_MAX_EXE_WIDTH 1024	/* a row fits in TOP_LINE_MAX bytes */
#define TOP_LINE_MAX 2048
/* The batch output's columns: the same in every snapshot; the path is in
 * JSON's exe. */
#define TOP_BATCH_COLUMNS ((struct top_columns){ TOP_COMM_WIDTH, TOP_NUMBER_WIDTH, 0 })
/* A row's width: pid, user, comm, four numbers, "  ended"; and the EXE
 * column, if any. */
#define TOP_ROW_WIDTH(c) (7 + 1 + 9 + 1 + (c).comm + 4 * (1 + (c).number) + 7 + \
			  ((c).exe ? 1 + (c).exe : 0))
void format_top_header(char *buf, size_t len, const struct top_view *v,
		       const struct top_columns *c);
void format_top_row(char *buf, size_t len, const struct top_row *r, const char *name,
		    const struct top_view *v, uint64_t span_ns, const struct top_columns *c);
/* Columns for a screen width: the numbers as wide as the widest of the
 * rows' and the total's (or its header), COMM the rest, from
 * TOP_MIN_COMM_WIDTH up to max_comm (TOP_COMM_WIDTH for processes), so
 * that every column fits in width while the numbers fit in theirs; for
 * processes, what is left after that, from TOP_MIN_EXE_WIDTH on, is EXE:
 * the path of each one's executable, its end when it is longer. */
void top_fit_columns(const struct top_row *rows, int n, const struct top_row *total,
		     const struct top_view *v, uint64_t span_ns, int width, int max_comm,
		     struct top_columns *c);

/* The user name of a uid, or the number (cached). */
const char *user_name(uint32_t uid);
/* A cgroup's path below the cgroup2 mount ("/" for the root), or its id
 * in brackets when it is gone (cached). */
const char *cgroup_path(uint64_t id);

#endif
