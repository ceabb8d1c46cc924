// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye top`'s rows: interval bytes from successive reads, processes
 * that ended, grouping, filtering and sorting, and the names and units
 * the rows are shown with. See top_model.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "top_model.h"
#include "options.h"
#include "format.h"
#include "probe.h"

static int by_pid(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* A process has ended when /proc has no such pid or shows it as a zombie
 * (exited, not yet reaped by its parent). */
static bool process_ended(uint32_t pid)
{
	char path[32], stat[512], *state;
	FILE *f;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return true;
	len = fread(stat, 1, sizeof(stat) - 1, f);
	fclose(f);
	stat[len] = '\0';
	/* "pid (comm) S ...": the comm may hold spaces and parentheses. */
	state = strrchr(stat, ')');
	return state && (state[2] == 'Z' || state[2] == 'X');
}

/* The row of r's process in a snapshot, or NULL: the same pid and the
 * same counters (a pid reused after the row was deleted has new ones). */
static const struct top_row *row_in(const struct top_snapshot *snap, const struct top_row *r)
{
	const struct top_row *found = snap->n ? bsearch(r, snap->rows, snap->n, sizeof(*r),
							by_pid) : NULL;

	return found && found->first_ns == r->first_ns ? found : NULL;
}

static void add_totals(struct top_row *sum, const struct top_row *r)
{
	for (int d = 0; d < TRAFFIC_DIRS; d++)
		for (int s = 0; s < TRAFFIC_SPLITS; s++)
			sum->total[d][s] += r->total[d][s];
}

/* Makes a row of one process's counters and subtracts its previous read;
 * a row read ended before is gone now (it was shown). Without a previous
 * read (first), the interval is unknown: no bytes in it. */
static void fill_row(const struct process_traffic *read, const struct top_snapshot *last,
		     bool first, struct top_row *r)
{
	const struct traffic_stats *st = &read->stats;
	const struct top_row *prev;

	memset(r, 0, sizeof(*r));
	r->pid = read->pid;
	r->uid = st->uid;
	r->cgroup_id = st->cgroup_id;
	r->first_ns = st->first_ns;
	memcpy(r->comm, st->comm, sizeof(r->comm));
	r->processes = 1;
	memcpy(r->total, st->bytes, sizeof(r->total));
	prev = row_in(last, r);
	if (prev) {
		r->ended_ns = prev->ended_ns;
		r->gone = prev->ended;
	}
	for (int d = 0; d < TRAFFIC_DIRS; d++)
		for (int s = 0; s < TRAFFIC_SPLITS; s++)
			r->delta[d][s] = first ? 0 : r->total[d][s] - (prev ? prev->total[d][s] : 0);
}

/* Adds to the departed totals the processes that leave the view with this
 * read: those shown ended last time (gone now, or deleted since). */
static void count_departed(const struct top_snapshot *last, struct top_snapshot *now)
{
	now->departed = last->departed;
	for (size_t i = 0; i < last->n; i++) {
		const struct top_row *prev = &last->rows[i];

		if (prev->ended && !prev->gone)
			add_totals(&now->departed, prev);
		else if (!prev->gone && !row_in(now, prev))
			add_totals(&now->departed, prev);	/* deleted by someone else */
	}
}

/* Deletes the counters of the processes that have ended once their grace
 * period is over (at once for top's own). */
static void forget_ended(struct top_session *s, struct top_row *rows, size_t n)
{
	uint64_t now = monotonic_now_ns();

	for (size_t i = 0; i < n; i++) {
		struct top_row *r = &rows[i];

		if (!r->ended)
			continue;
		if (!r->ended_ns)
			r->ended_ns = now;
		if (now - r->ended_ns >= s->ended_grace_ns)
			top_forget(s, r->pid);
	}
}

int top_take(struct top_session *s, struct top_tracker *t, const struct report_span *span,
	     const struct top_snapshot **snap)
{
	struct process_traffic *read = NULL;
	struct top_snapshot now = {};
	int n = top_read(s, &read);

	if (n < 0)
		return n;
	now.rows = calloc(n ? n : 1, sizeof(*now.rows));
	if (!now.rows) {
		free(read);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		/* A process seen ended sends no more: read it again for what
		 * it sent between the first read and its exit, since its row
		 * leaves after this. Deleted since (an agent's): the first
		 * read stands. */
		bool ended = process_ended(read[i].pid);

		if (ended)
			top_read_again(s, &read[i]);
		fill_row(&read[i], &t->last, !t->reads && !s->skel, &now.rows[i]);
		now.rows[i].ended = ended || now.rows[i].gone;
	}
	free(read);
	now.n = n;
	qsort(now.rows, n, sizeof(*now.rows), by_pid);
	count_departed(&t->last, &now);
	forget_ended(s, now.rows, n);
	now.end_ns = span->end_ns;
	now.span_ns = span->length_ns;
	now.skipped = top_skipped(s);
	now.lost = top_lost(s) + now.skipped;
	free(t->last.rows);
	t->last = now;
	t->reads++;
	*snap = &t->last;
	return 0;
}

int top_begin(struct top_session *s, struct top_tracker *t)
{
	const struct top_snapshot *snap;

	return s->skel ? 0 : top_take(s, t, &(struct report_span){}, &snap);
}

void top_tracker_free(struct top_tracker *t)
{
	free(t->last.rows);
	t->last = (struct top_snapshot){};
}

uint64_t row_bytes(const struct top_row *r, bool total, int dir, unsigned splits)
{
	uint64_t sum = 0;

	for (int s = 0; s < TRAFFIC_SPLITS; s++)
		if (splits & (1u << s))
			sum += total ? r->total[dir][s] : r->delta[dir][s];
	return sum;
}

unsigned view_splits(const struct top_view *v)
{
	return v->protocols & v->families;
}

double per_second(uint64_t bytes, uint64_t span_ns)
{
	return span_ns ? bytes * 1e9 / span_ns : 0;
}

static void add_row(struct top_row *sum, const struct top_row *r)
{
	add_totals(sum, r);
	for (int d = 0; d < TRAFFIC_DIRS; d++)
		for (int s = 0; s < TRAFFIC_SPLITS; s++)
			sum->delta[d][s] += r->delta[d][s];
	sum->processes += r->processes;
	sum->ended = sum->ended && r->ended;
}

void top_sum(const struct top_row *rows, size_t n, struct top_row *sum)
{
	memset(sum, 0, sizeof(*sum));
	sum->ended = n > 0;
	for (size_t i = 0; i < n; i++)
		add_row(sum, &rows[i]);
}

void top_total(const struct top_snapshot *snap, const struct top_row *rows, size_t n,
	       struct top_row *sum)
{
	top_sum(rows, n, sum);
	add_totals(sum, &snap->departed);
}

static int by_cgroup(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;

	return (x->cgroup_id > y->cgroup_id) - (x->cgroup_id < y->cgroup_id);
}

/* Folds rows (sorted by cgroup) into one per cgroup, in place; a cgroup
 * row keeps a uid only when all its processes share it. */
static size_t group_by_cgroup(struct top_row *rows, size_t n)
{
	size_t out = 0;

	for (size_t i = 0; i < n; i++) {
		struct top_row *g = out ? &rows[out - 1] : NULL;	/* the row folded into */

		if (g && g->cgroup_id == rows[i].cgroup_id) {
			if (g->uid != rows[i].uid)
				g->uid = UINT32_MAX;
			add_row(g, &rows[i]);
			continue;
		}
		rows[out] = rows[i];
		rows[out].pid = 0;
		rows[out].comm[0] = '\0';
		out++;
	}
	return out;
}

static int compare_numbers(uint64_t x, uint64_t y)
{
	return (x > y) - (x < y);
}

static const char *copy_name(char *buf, const char *name)
{
	snprintf(buf, PATH_MAX, "%s", name);
	return buf;
}

/* Names and numbers sort up, bytes down, unless reversed; ties by pid
 * (grouped: by cgroup) so rows keep their places between refreshes. */
static int compare_rows(const void *a, const void *b, void *ctx)
{
	const struct top_row *x = a, *y = b;
	const struct top_view *v = ctx;
	unsigned splits = view_splits(v);
	char first[PATH_MAX];	/* the second look-up may drop the first name */
	int c = 0;

	switch (v->sort) {
	case SORT_PID:
		c = v->by_cgroup ? 0 : compare_numbers(x->pid, y->pid);
		break;
	case SORT_USER:
		c = strcmp(copy_name(first, user_name(x->uid)), user_name(y->uid));
		break;
	case SORT_COMM:
		c = v->by_cgroup ? strcmp(copy_name(first, cgroup_path(x->cgroup_id)),
					  cgroup_path(y->cgroup_id))
				 : strcmp(x->comm, y->comm);
		break;
	case SORT_SENT_RATE:
	case SORT_RECV_RATE:
		c = -compare_numbers(row_bytes(x, false, v->sort == SORT_RECV_RATE, splits),
				     row_bytes(y, false, v->sort == SORT_RECV_RATE, splits));
		break;
	case SORT_SENT:
	case SORT_RECV:
		c = -compare_numbers(row_bytes(x, true, v->sort == SORT_RECV, splits),
				     row_bytes(y, true, v->sort == SORT_RECV, splits));
		break;
	case SORT_RATE:
	case TOP_SORTS:
		c = -compare_numbers(row_bytes(x, false, DIR_SENT, splits) +
				     row_bytes(x, false, DIR_RECV, splits),
				     row_bytes(y, false, DIR_SENT, splits) +
				     row_bytes(y, false, DIR_RECV, splits));
		break;
	}
	if (!c)
		c = v->by_cgroup ? by_cgroup(x, y) : by_pid(x, y);
	return v->reverse ? -c : c;
}

static bool row_matches(const struct top_row *r, const struct top_view *v)
{
	char pid[16];

	if (!v->filter[0])
		return true;
	if (v->by_cgroup)
		return strstr(cgroup_path(r->cgroup_id), v->filter);
	snprintf(pid, sizeof(pid), "%u", r->pid);
	return strstr(r->comm, v->filter) || !strcmp(pid, v->filter);
}

int top_arrange(const struct top_snapshot *snap, const struct top_view *v,
		struct top_row **rows)
{
	struct top_row *out = malloc((snap->n ? snap->n : 1) * sizeof(*out));
	unsigned splits = view_splits(v);
	size_t n = 0, kept = 0;

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < snap->n; i++)
		if (!snap->rows[i].gone)	/* in snap->departed */
			out[n++] = snap->rows[i];
	if (v->by_cgroup) {
		qsort(out, n, sizeof(*out), by_cgroup);
		n = group_by_cgroup(out, n);
	}
	for (size_t i = 0; i < n; i++)
		if ((row_bytes(&out[i], true, DIR_SENT, splits) ||
		     row_bytes(&out[i], true, DIR_RECV, splits)) && row_matches(&out[i], v))
			out[kept++] = out[i];
	qsort_r(out, kept, sizeof(*out), compare_rows, (void *)v);
	*rows = out;
	return kept;
}

/* ---- names and units ---- */

/* Indexed by their values, and ended by a NULL name for the option engine. */
const struct opt_choice top_sort_keys[TOP_SORTS + 1] = {
	{ "pid", SORT_PID },
	{ "user", SORT_USER },
	{ "comm", SORT_COMM },
	{ "sent", SORT_SENT_RATE },
	{ "recv", SORT_RECV_RATE },
	{ "total-sent", SORT_SENT },
	{ "total-recv", SORT_RECV },
	{ "rate", SORT_RATE },
	{ NULL, 0 },
};

const struct opt_choice top_units[TOP_UNITS + 1] = {
	{ "kb", UNITS_KB },
	{ "mb", UNITS_MB },
	{ "b", UNITS_B },
	{ "auto", UNITS_AUTO },
	{ NULL, 0 },
};

const char *sort_name(enum top_sort sort)
{
	return top_sort_keys[sort].name;
}

const char *units_name(enum top_units units)
{
	return top_units[units].name;
}

const char *split_name(int split)
{
	static const char *const names[TRAFFIC_SPLITS] = {
		[SPLIT_TCP4] = "tcp4", [SPLIT_TCP6] = "tcp6",
		[SPLIT_UDP4] = "udp4", [SPLIT_UDP6] = "udp6",
	};

	return names[split];
}

/* Binary units, named as such (KiB, MiB: 1024 and 1024 * 1024 bytes, as
 * nethogs counts them), in the table and the chart alike. */
void format_amount(char *buf, size_t len, double bytes, enum top_units units)
{
	static const char *const suffix[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int scale = 0;

	switch (units) {
	case UNITS_KB:
		snprintf(buf, len, "%.3f", bytes / 1024);
		return;
	case UNITS_MB:
		snprintf(buf, len, "%.3f", bytes / (1024 * 1024));
		return;
	case UNITS_B:
		snprintf(buf, len, "%.0f", bytes);
		return;
	case UNITS_AUTO:
	case TOP_UNITS:
		break;
	}
	while (bytes >= 1024 && scale < 4) {
		bytes /= 1024;
		scale++;
	}
	snprintf(buf, len, "%.*f %s", !scale || bytes >= 100 ? 0 : bytes >= 10 ? 1 : 2, bytes,
		 suffix[scale]);
}

static const char *rate_unit(enum top_units units)
{
	static const char *const names[TOP_UNITS] = {
		[UNITS_KB] = " KiB/s", [UNITS_MB] = " MiB/s", [UNITS_B] = " B/s", [UNITS_AUTO] = "/s",
	};

	return names[units];
}

static const char *amount_unit(enum top_units units)
{
	static const char *const names[TOP_UNITS] = {
		[UNITS_KB] = " KiB", [UNITS_MB] = " MiB", [UNITS_B] = " B", [UNITS_AUTO] = "",
	};

	return names[units];
}

/* The four number headers, in the order of the columns. */
static void number_headers(const struct top_view *v, char headers[4][24])
{
	snprintf(headers[0], sizeof(headers[0]), "SENT%s", rate_unit(v->units));
	snprintf(headers[1], sizeof(headers[1]), "RECV%s", rate_unit(v->units));
	snprintf(headers[2], sizeof(headers[2]), "SENT%s", amount_unit(v->units));
	snprintf(headers[3], sizeof(headers[3]), "RECV%s", amount_unit(v->units));
}

void format_top_header(char *buf, size_t len, const struct top_view *v,
		       const struct top_columns *c)
{
	char h[4][24];

	number_headers(v, h);
	snprintf(buf, len, "%7s %-9s %-*s %*s %*s %*s %*s%s", v->by_cgroup ? "PROCS" : "PID",
		 "USER", c->comm, v->by_cgroup ? "CGROUP" : "COMM", c->number, h[0], c->number,
		 h[1], c->number, h[2], c->number, h[3], c->exe ? "        EXE" : "");
}

/* A row's four numbers, in the order of the columns. */
static void row_numbers(const struct top_row *r, const struct top_view *v, uint64_t span_ns,
			char numbers[4][24])
{
	unsigned splits = view_splits(v);

	for (int d = 0; d < TRAFFIC_DIRS; d++) {
		format_amount(numbers[d], sizeof(numbers[d]),
			      per_second(row_bytes(r, false, d, splits), span_ns), v->units);
		format_amount(numbers[2 + d], sizeof(numbers[2 + d]), row_bytes(r, true, d, splits),
			      v->units);
	}
}

static int widest(int width, char (*texts)[24], int n)
{
	for (int i = 0; i < n; i++)
		if ((int)strlen(texts[i]) > width)
			width = strlen(texts[i]);
	return width;
}

void top_fit_columns(const struct top_row *rows, int n, const struct top_row *total,
		     const struct top_view *v, uint64_t span_ns, int width, int max_comm,
		     struct top_columns *c)
{
	char texts[4][24];
	int comm, exe;

	number_headers(v, texts);
	c->number = widest(0, texts, 4);
	for (int i = 0; i <= n; i++) {
		row_numbers(i < n ? &rows[i] : total, v, span_ns, texts);
		c->number = widest(c->number, texts, 4);
	}
	c->comm = c->exe = 0;
	comm = width - TOP_ROW_WIDTH(*c);	/* the room left with no COMM column */
	if (!v->by_cgroup && max_comm > TOP_COMM_WIDTH)
		max_comm = TOP_COMM_WIDTH;
	c->comm = comm < TOP_MIN_COMM_WIDTH ? TOP_MIN_COMM_WIDTH : comm > max_comm ? max_comm : comm;
	exe = width - TOP_ROW_WIDTH(*c) - 1;	/* and a space before it */
	if (!v->by_cgroup && exe >= TOP_MIN_EXE_WIDTH)
		c->exe = exe < TOP_MAX_EXE_WIDTH ? exe : TOP_MAX_EXE_WIDTH;
}

/* A host path as text to print (text_safe) in width bytes: when longer,
 * "..." and its end, which names the program, container or service, cut
 * at a character's start. */
static const char *safe_tail(char *buf, size_t len, const char *path, int width)
{
	static char safe[PATH_MAX * 3 + 1];
	size_t n = strlen(text_safe(safe, sizeof(safe), path));
	const char *end;

	if (n <= (size_t)width || width < 4)
		return text_safe(buf, len < (size_t)width + 1 ? len : (size_t)width + 1, safe);
	/* text_safe gave valid UTF-8: a byte that continues no character
	 * starts one. */
	for (end = safe + n - (width - 3); (*end & 0xc0) == 0x80; end++)
		;
	snprintf(buf, len, "...%s", end);
	return buf;
}

/* The path of a process row's executable in width bytes, "-" if unknown. */
static const char *exe_text(char *buf, size_t len, const struct top_row *r, int width)
{
	char comm[sizeof(r->comm) + 1] = "";
	const char *exe;

	memcpy(comm, r->comm, sizeof(r->comm));
	exe = process_exe(r->pid, comm);
	return safe_tail(buf, len, exe ? exe : "-", width);
}

void format_top_row(char *buf, size_t len, const struct top_row *r, const char *name,
		    const struct top_view *v, uint64_t span_ns, const struct top_columns *c)
{
	char numbers[4][24], first[16], shown[PATH_MAX], exe[PATH_MAX];
	const char *ended = r->ended && !name ? "  ended" : "";
	int comm = c->comm;

	row_numbers(r, v, span_ns, numbers);
	if (name)
		snprintf(first, sizeof(first), "%7s", "");
	else
		snprintf(first, sizeof(first), "%7u", v->by_cgroup ? r->processes : r->pid);
	if (name)
		shown[0] = '\0';
	else if (v->by_cgroup)
		safe_tail(shown, sizeof(shown), cgroup_path(r->cgroup_id), comm);
	else	/* cut at a character's end */
		text_safe(shown, comm + 1 < (int)sizeof(shown) ? (size_t)comm + 1 : sizeof(shown),
			  comm_str(r->comm).s);
	exe[0] = '\0';
	if (c->exe && !name)
		exe_text(exe, sizeof(exe), r, c->exe);
	snprintf(buf, len, "%s %-9.9s %-*.*s %*s %*s %*s %*s%-*s%s%s", first,
		 name ? name : user_name(r->uid), comm, comm, shown, c->number, numbers[0],
		 c->number, numbers[1], c->number, numbers[2], c->number, numbers[3],
		 exe[0] ? 7 : 0, ended, exe[0] ? " " : "", exe);
}

#define NAME_CACHE 1024

struct name_entry {
	uint64_t id;
	char *name;
};

/* A cache of names by id; when full, it starts over. A name stays valid
 * until the next look-up in the same cache. */
struct name_cache {
	struct name_entry entries[NAME_CACHE];
	int n;
};

static const char *cached(const struct name_cache *c, uint64_t id)
{
	for (int i = 0; i < c->n; i++)
		if (c->entries[i].id == id)
			return c->entries[i].name;
	return NULL;
}

static void cache_clear(struct name_cache *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->entries[i].name);
	c->n = 0;
}

static const char *cache_add(struct name_cache *c, uint64_t id, const char *name)
{
	char *copy = strdup(name);

	if (!copy)
		return "?";
	if (c->n == NAME_CACHE)
		cache_clear(c);
	c->entries[c->n++] = (struct name_entry){ id, copy };
	return copy;
}

/* The user's name from /etc/passwd itself, not through NSS (getpwuid):
 * the release binary is static, and glibc's NSS modules are shared
 * libraries of the host's own glibc version. Users known only to a
 * directory service (LDAP, sssd) show as their number. */
static int passwd_name(uint32_t uid, char *name, size_t size)
{
	FILE *f = fopen("/etc/passwd", "re");
	struct passwd *pw;
	int found = 0;

	if (!f)
		return 0;
	while (!found && (pw = fgetpwent(f)))
		if (pw->pw_uid == uid)
			found = snprintf(name, size, "%s", pw->pw_name) > 0;
	fclose(f);
	return found;
}

const char *user_name(uint32_t uid)
{
	static struct name_cache users;
	const char *name = cached(&users, uid);
	char found[256];

	if (name)
		return name;
	if (uid == UINT32_MAX)
		return cache_add(&users, uid, "-");
	if (!passwd_name(uid, found, sizeof(found)))
		snprintf(found, sizeof(found), "%u", uid);
	return cache_add(&users, uid, found);
}

static struct name_cache cgroups;
static size_t cgroup_root_len;

static int remember_cgroup(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	const char *rel = path + cgroup_root_len;

	if (type == FTW_D && !cached(&cgroups, st->st_ino))
		cache_add(&cgroups, st->st_ino, *rel ? rel : "/");
	return cgroups.n == NAME_CACHE;	/* stop when full */
}

/* The cgroup2 tree is walked again when an id is not known: cgroups come
 * and go with containers and services. */
const char *cgroup_path(uint64_t id)
{
	char unknown[32];
	const char *root = cgroup2_root(), *path = cached(&cgroups, id);

	if (path)
		return path;
	if (root) {
		cgroup_root_len = strlen(root);
		nftw(root, remember_cgroup, 16, FTW_PHYS | FTW_MOUNT);
		path = cached(&cgroups, id);
	}
	if (path)
		return path;
	/* Gone: ids are not reused, so this one need not be looked for again. */
	snprintf(unknown, sizeof(unknown), "[%llu]", (unsigned long long)id);
	return cache_add(&cgroups, id, unknown);
}
