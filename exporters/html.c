/* html.c - the "html" exporter: one self-contained HTML page that opens
 * offline from disk: summary cards, memory over time, an allocation flame
 * graph, every analyzer's tables and findings, a per-thread view and, when
 * the capture has tasks, a per-task one.
 *
 * The page's data travels as one JSON object inside
 * <script type="application/json">; the page's script and style
 * (exporters/html/page.js, page.css) are compiled into this plugin by
 * exporters/html/embed.py.  A Content-Security-Policy meta tag forbids every
 * network access, so the page can be mailed around and opened anywhere.
 *
 * The heavy lifting is done here, not in the browser: blocks are summed per
 * stack, stacks are merged into a flame tree whose nodes below 0.1% of every
 * metric fold into "other", and long timelines are reduced to a few thousand
 * points, so a capture with 100k stacks still makes a page that stays
 * responsive.  In a sampled capture every block counts as its weight (sums
 * kept as reals, rounded as they are written), and the page says that its
 * figures are estimates; the backend's tracking counters are shown when the
 * capture has them, with a warning when too many events were dropped.
 * Every figure carries its accuracy as the json exporter's do: the
 * summary's "accuracy" object, the analyzers' "accuracy" column, and an
 * accuracy string on each thread's row, task's row and task leak; the page
 * marks an estimated figure "~" and a mixed one "~" with a "mixed" badge.
 *
 * A capture with tasks (coroutines, requests, a thread's own work) adds a
 * "tasks" key, and only then, so a capture without tasks makes the same
 * island as before.  A task's figures are the host's memscope_task as
 * given, never recomputed here, so they equal the json exporter's "tasks":
 *
 *   "tasks": {
 *     "columns": ["id", "parent", ..., "leaks"],   names of a row's fields, the json
 *                                                   exporter's keys for the same figures
 *     "rows": [[id, parent, name, origin, key, began_on, [thread, ...],
 *               begin_ns, end_ns, ended, children,
 *               allocations, allocated_bytes, frees, freed_bytes,
 *               freed_by_others, freed_by_others_bytes,
 *               freed_of_others, freed_of_others_bytes,
 *               peak_bytes, peak_time_ns, live_at_end_blocks, live_at_end_bytes,
 *               leaked_blocks, leaked_bytes, accuracy,
 *               [[stack, blocks, bytes, accuracy], ...]], ...],
 *     "series_limit": 50, "series_points": 400,
 *     "series": [[task, origin_ns, width_ns, [bucket, high, last, ...]], ...] or null
 *   }
 *
 * One row per task, in the order the host tells them (as they finish:
 * the page finds rows by id); live_at_end_* are memscope_task's
 * end_live_*, leaked_* its live_* (blocks still live at the capture's end).
 * A row's last field is its leaks by stack (blocks it allocated that were
 * never freed, from for_each_block), biggest first; their stacks' frames
 * are in "stacks".  "series" holds the live bytes of the series_limit
 * tasks with the highest peaks (ties: lower id), in that order, replayed
 * from for_each_event (+size on an alloc, -size on a free, the change of
 * size on a resize, all to the block's owner task): time from origin_ns
 * (the task's begin) is cut into buckets of width_ns, and each bucket with
 * an event is three numbers: its index, the highest live bytes after an
 * event in it, and the live bytes after its last event.  At most
 * series_points buckets: when events run past them, width_ns doubles and
 * neighbours merge.  "series" is null when the host gives no events.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <memscope/plugin.h>

#include "exporter_common.h"
#include "html_assets.h"

#define HTML_DATA_VERSION 2

/* Flame graph: nodes below this share of the root in every metric fold
 * into their parent's "other" node, and at most this many nodes are kept. */
#define FLAME_MINIMUM_SHARE 0.001
#define FLAME_MAX_NODES 30000
/* Timeline points sent to the page; longer timelines are reduced by taking
 * the highest value of each series in equal runs of samples. */
#define TIMELINE_MAX_POINTS 6000
/* Rows of one analyzer table sent to the page (the table's own order). */
#define TABLE_MAX_ROWS 20000
/* Tasks' live bytes over time go to the page for the tasks with the
 * highest peaks only, each at most this many points (an even number: runs
 * merge in pairs), so the page grows with neither tasks nor events. */
#define TASK_SERIES_MAX_TASKS 50
#define TASK_SERIES_MAX_POINTS 400
_Static_assert(TASK_SERIES_MAX_POINTS % 2 == 0, "series buckets merge in pairs");

enum metric {
	METRIC_BYTES,        /* requested bytes, all blocks */
	METRIC_COUNT,        /* blocks */
	METRIC_PEAK,         /* bytes live at the summary's peak */
	METRIC_LEAKED,       /* bytes never freed */
	METRIC_COUNT_OF,
};

/* ---- JSON text ----------------------------------------------------------- */

/* A JSON string that is also safe inside the page's <script> element. */
static void json_string(FILE *out, const char *text)
{
	exporter_json_string(out, text, EXPORTER_JSON_IN_SCRIPT);
}

/* Text for the HTML body (the title): the five characters HTML gives
 * meaning to become entities, bytes that are not UTF-8 become U+FFFD. */
static void html_text(FILE *out, const char *text)
{
	const unsigned char *cursor = (const unsigned char *)(text ? text : "");
	while (*cursor) {
		switch (*cursor) {
		case '<': fputs("&lt;", out); cursor++; continue;
		case '>': fputs("&gt;", out); cursor++; continue;
		case '&': fputs("&amp;", out); cursor++; continue;
		case '"': fputs("&quot;", out); cursor++; continue;
		case '\'': fputs("&#39;", out); cursor++; continue;
		default: break;
		}
		size_t length = exporter_utf8_sequence_length(cursor);
		if (length == 0) {
			fputs("\xef\xbf\xbd", out);
			cursor++;
		} else {
			fwrite(cursor, 1, length, out);
			cursor += length;
		}
	}
}

static void write_lines(FILE *out, const char *const *lines)
{
	for (; *lines; lines++)
		fputs(*lines, out);
}

/* ---- sums per stack and per thread ------------------------------------------ */

/* Sums over blocks, each counted as its weight. */
struct stack_total {
	uint32_t stack;
	double metric[METRIC_COUNT_OF];
};

struct thread_total {
	double blocks;
	double bytes;
	double peak_bytes;
	double leaked_blocks;
	double leaked_bytes;
	memscope_tally tally;         /* every block it allocated */
};

struct totals {
	const memscope_summary *summary;
	/* Open addressing over stack ids: slot holds index + 1, 0 is free. */
	uint32_t *slots;
	size_t slot_capacity;         /* a power of two */
	struct stack_total *stacks;
	size_t stack_count;
	size_t stack_capacity;
	struct thread_total *threads;
	size_t thread_count;
};

static size_t hash_u32(uint32_t value)
{
	uint64_t mixed = (uint64_t)value * 0x9e3779b97f4a7c15u;
	return (size_t)(mixed >> 29);
}

static int totals_grow_slots(struct totals *totals)
{
	size_t capacity = totals->slot_capacity ? totals->slot_capacity * 2 : 1024;
	uint32_t *slots = calloc(capacity, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < totals->stack_count; i++) {
		size_t slot = hash_u32(totals->stacks[i].stack) & (capacity - 1);
		while (slots[slot])
			slot = (slot + 1) & (capacity - 1);
		slots[slot] = (uint32_t)(i + 1);
	}
	free(totals->slots);
	totals->slots = slots;
	totals->slot_capacity = capacity;
	return 0;
}

static struct stack_total *totals_stack(struct totals *totals, uint32_t stack)
{
	if ((totals->stack_count + 1) * 2 > totals->slot_capacity && totals_grow_slots(totals) < 0)
		return NULL;
	size_t mask = totals->slot_capacity - 1;
	size_t slot = hash_u32(stack) & mask;
	while (totals->slots[slot]) {
		struct stack_total *found = &totals->stacks[totals->slots[slot] - 1];
		if (found->stack == stack)
			return found;
		slot = (slot + 1) & mask;
	}
	if (totals->stack_count == totals->stack_capacity) {
		size_t capacity = totals->stack_capacity ? totals->stack_capacity * 2 : 256;
		struct stack_total *grown = realloc(totals->stacks, capacity * sizeof(*grown));
		if (!grown)
			return NULL;
		totals->stacks = grown;
		totals->stack_capacity = capacity;
	}
	struct stack_total *added = &totals->stacks[totals->stack_count++];
	memset(added, 0, sizeof(*added));
	added->stack = stack;
	totals->slots[slot] = (uint32_t)totals->stack_count;
	return added;
}

static struct thread_total *totals_thread(struct totals *totals, uint32_t thread)
{
	if (thread >= totals->thread_count) {
		size_t count = (size_t)thread + 1;
		struct thread_total *grown = realloc(totals->threads, count * sizeof(*grown));
		if (!grown)
			return NULL;
		memset(grown + totals->thread_count, 0,
		       (count - totals->thread_count) * sizeof(*grown));
		totals->threads = grown;
		totals->thread_count = count;
	}
	return &totals->threads[thread];
}

static int add_block(void *context, const memscope_block *block)
{
	struct totals *totals = context;
	struct stack_total *stack = totals_stack(totals, block->stack);
	struct thread_total *thread = totals_thread(totals, block->thread);
	if (!stack || !thread)
		return -ENOMEM;
	/* Live at the peak: allocated by then and not yet freed, in the
	 * events' order where the host gives it.  The block whose allocation
	 * made the peak counts. */
	bool live_at_peak = memscope_block_live_at_peak(totals->summary, block);
	double weight = memscope_block_weight(block);
	double bytes = weight * (double)block->size;
	stack->metric[METRIC_BYTES] += bytes;
	stack->metric[METRIC_COUNT] += weight;
	thread->blocks += weight;
	thread->bytes += bytes;
	memscope_tally_add(&thread->tally, weight);
	if (live_at_peak) {
		stack->metric[METRIC_PEAK] += bytes;
		thread->peak_bytes += bytes;
	}
	if (!block->freed) {
		stack->metric[METRIC_LEAKED] += bytes;
		thread->leaked_blocks += weight;
		thread->leaked_bytes += bytes;
	}
	return 0;
}

static void totals_finish(struct totals *totals)
{
	free(totals->slots);
	free(totals->stacks);
	free(totals->threads);
}

/* ---- the flame tree ----------------------------------------------------------- */

enum node_kind {
	NODE_FUNCTION,       /* name is a function */
	NODE_MODULE,         /* no symbol: name is the module, or "?" */
	NODE_OTHER,          /* small children folded together */
};

struct flame_node {
	uint32_t parent;
	enum node_kind kind;
	const char *name;
	const char *file;
	uint32_t line;
	double metric[METRIC_COUNT_OF];
};

struct flame {
	struct flame_node *nodes;
	size_t count;
	size_t capacity;
	/* Open addressing over (parent, kind, name): index + 1, 0 is free. */
	uint32_t *slots;
	size_t slot_capacity;
};

static size_t hash_child(uint32_t parent, enum node_kind kind, const char *name)
{
	uint64_t hash = 0xcbf29ce484222325u ^ ((uint64_t)parent * 0x9e3779b97f4a7c15u) ^ kind;
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		hash = (hash ^ *c) * 0x100000001b3u;
	return (size_t)(hash ^ (hash >> 31));
}

static int flame_grow_slots(struct flame *flame)
{
	size_t capacity = flame->slot_capacity ? flame->slot_capacity * 2 : 4096;
	uint32_t *slots = calloc(capacity, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	/* Node 0, the root, is nobody's child. */
	for (size_t i = 1; i < flame->count; i++) {
		const struct flame_node *node = &flame->nodes[i];
		size_t slot = hash_child(node->parent, node->kind, node->name) & (capacity - 1);
		while (slots[slot])
			slot = (slot + 1) & (capacity - 1);
		slots[slot] = (uint32_t)(i + 1);
	}
	free(flame->slots);
	flame->slots = slots;
	flame->slot_capacity = capacity;
	return 0;
}

static int flame_append(struct flame *flame, const struct flame_node *node)
{
	if (flame->count == flame->capacity) {
		size_t capacity = flame->capacity ? flame->capacity * 2 : 1024;
		struct flame_node *grown = realloc(flame->nodes, capacity * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		flame->nodes = grown;
		flame->capacity = capacity;
	}
	flame->nodes[flame->count] = *node;
	return (int)flame->count++;
}

/* The child of parent for this frame, made if new.  Returns its index or
 * -ENOMEM. */
static int flame_child(struct flame *flame, uint32_t parent, const memscope_frame *frame)
{
	struct flame_node wanted = { .parent = parent, .kind = NODE_FUNCTION };
	if (frame->function) {
		wanted.name = frame->function;
		wanted.file = frame->file;
		wanted.line = frame->line;
	} else {
		wanted.kind = NODE_MODULE;
		const char *slash = frame->module ? strrchr(frame->module, '/') : NULL;
		wanted.name = slash ? slash + 1 : frame->module ? frame->module : "?";
	}
	if ((flame->count + 1) * 2 > flame->slot_capacity && flame_grow_slots(flame) < 0)
		return -ENOMEM;
	size_t mask = flame->slot_capacity - 1;
	size_t slot = hash_child(parent, wanted.kind, wanted.name) & mask;
	while (flame->slots[slot]) {
		uint32_t index = flame->slots[slot] - 1;
		const struct flame_node *node = &flame->nodes[index];
		if (node->parent == parent && node->kind == wanted.kind &&
		    strcmp(node->name, wanted.name) == 0)
			return (int)index;
		slot = (slot + 1) & mask;
	}
	int index = flame_append(flame, &wanted);
	if (index >= 0)
		flame->slots[slot] = (uint32_t)index + 1;
	return index;
}

static void add_metrics(double *into, const double *from)
{
	for (int m = 0; m < METRIC_COUNT_OF; m++)
		into[m] += from[m];
}

/* Every stack's totals down its path, outermost frame first. */
static int flame_build(struct flame *flame, const memscope_host *host, memscope_capture *capture,
                       const struct totals *totals)
{
	struct flame_node root = { .parent = UINT32_MAX, .kind = NODE_FUNCTION, .name = "all" };
	if (flame_append(flame, &root) < 0)
		return -ENOMEM;
	for (size_t s = 0; s < totals->stack_count; s++) {
		const struct stack_total *stack = &totals->stacks[s];
		const memscope_frame *frames;
		size_t frame_count = exporter_stack_frames(host, capture, stack->stack, &frames);
		uint32_t node = 0;
		add_metrics(flame->nodes[0].metric, stack->metric);
		if (frame_count == 0) {
			static const memscope_frame unknown = { .version = MEMSCOPE_FRAME_VERSION };
			frames = &unknown;
			frame_count = 1;
		}
		for (size_t f = frame_count; f-- > 0;) {
			int child = flame_child(flame, node, &frames[f]);
			if (child < 0)
				return child;
			node = (uint32_t)child;
			add_metrics(flame->nodes[node].metric, stack->metric);
		}
	}
	return 0;
}

static bool node_large(const struct flame_node *node, const double *root)
{
	for (int m = 0; m < METRIC_COUNT_OF; m++)
		if (root[m] > 0 && node->metric[m] >= FLAME_MINIMUM_SHARE * root[m])
			return true;
	return false;
}

static void write_metrics(FILE *out, const double *metric)
{
	for (int m = 0; m < METRIC_COUNT_OF; m++)
		fprintf(out, ",%" PRIu64, memscope_weighted_count(metric[m]));
}

/* Writes the kept nodes as [parent, kind, name, file, line, bytes, count,
 * peak, leaked], parents before children.  A node is kept when its parent
 * is and it is large, while room remains; the others of a kept parent are
 * summed into one "other" node under it.  Children never exceed their
 * parent, so a small node's whole subtree is small. */
static int flame_write(FILE *out, const struct flame *flame)
{
	uint32_t *kept_as = malloc(flame->count * sizeof(*kept_as));
	double (*other)[METRIC_COUNT_OF] = calloc(flame->count, sizeof(*other));
	if (!kept_as || !other) {
		free(kept_as);
		free(other);
		return -ENOMEM;
	}
	const double *root = flame->nodes[0].metric;
	uint32_t written = 0;
	fputs("[", out);
	for (size_t i = 0; i < flame->count; i++) {
		const struct flame_node *node = &flame->nodes[i];
		kept_as[i] = UINT32_MAX;
		bool parent_kept = i == 0 || kept_as[node->parent] != UINT32_MAX;
		if (!parent_kept)
			continue;
		if (i > 0 && (!node_large(node, root) || written >= FLAME_MAX_NODES)) {
			add_metrics(other[node->parent], node->metric);
			continue;
		}
		kept_as[i] = written++;
		fprintf(out, "%s\n[%" PRId64 ",%d,", i ? "," : "",
		        i ? (int64_t)kept_as[node->parent] : (int64_t)-1, (int)node->kind);
		json_string(out, node->name);
		fputc(',', out);
		json_string(out, node->file);
		fprintf(out, ",%" PRIu32, node->line);
		write_metrics(out, node->metric);
		fputc(']', out);
	}
	for (size_t i = 0; i < flame->count; i++) {
		if (kept_as[i] == UINT32_MAX)
			continue;
		const double *sum = other[i];
		if (!(sum[METRIC_BYTES] > 0) && !(sum[METRIC_COUNT] > 0))
			continue;
		fprintf(out, ",\n[%" PRIu32 ",%d,\"other\",null,0", kept_as[i], (int)NODE_OTHER);
		write_metrics(out, sum);
		fputc(']', out);
	}
	fputs("]", out);
	free(kept_as);
	free(other);
	return 0;
}

static void flame_finish(struct flame *flame)
{
	free(flame->nodes);
	free(flame->slots);
}

/* ---- tasks' live bytes over time ---------------------------------------------------- */

/* A run of time in a task's series: the highest live bytes after an event
 * in it, and the live bytes after its last one. */
struct task_bucket {
	uint64_t high;
	uint64_t last;
	bool used;
};

struct task_series {
	uint32_t task;
	uint64_t peak_bytes;
	uint64_t origin;              /* the task's begin: bucket 0 starts there */
	uint64_t width;               /* ns per bucket */
	int64_t live;                 /* its blocks' bytes after the events so far */
	struct task_bucket *buckets;  /* [TASK_SERIES_MAX_POINTS], once the tasks are chosen */
};

/* A live block of a task with a series, by address: the size a resize
 * changes from.  Only those tasks' blocks are kept, so the table follows
 * their live blocks, not the capture's. */
struct tracked_block {
	uint64_t address;             /* 0: a free slot */
	uint64_t size;
};

struct task_charts {
	struct task_series *series;   /* [count]: by task id once chosen, by peak to be written */
	struct task_bucket *buckets;  /* every series' buckets, one allocation */
	size_t count;
	size_t worst;                 /* while choosing: the one the next better task replaces */
	struct tracked_block *blocks; /* open addressing, at most half full */
	size_t block_count;
	size_t block_capacity;        /* a power of two, or 0 */
};

/* Whether task a comes before b in the choice: a higher peak, then a lower id. */
static bool series_before(uint64_t a_peak, uint32_t a_task, uint64_t b_peak, uint32_t b_task)
{
	return a_peak != b_peak ? a_peak > b_peak : a_task < b_task;
}

/* for_each_task visitor: keeps the TASK_SERIES_MAX_TASKS highest peaks. */
static int choose_series(void *context, const memscope_task *task)
{
	struct task_charts *charts = context;
	struct task_series *into;
	if (charts->count < TASK_SERIES_MAX_TASKS) {
		into = &charts->series[charts->count++];
	} else {
		const struct task_series *worst = &charts->series[charts->worst];
		if (!series_before(task->peak_bytes, task->id, worst->peak_bytes, worst->task))
			return 0;
		into = &charts->series[charts->worst];
	}
	*into = (struct task_series){ 0 };
	into->task = task->id;
	into->peak_bytes = task->peak_bytes;
	into->origin = task->begin_ns;
	/* The task's lifetime fills the buckets; events after its end (its
	 * blocks freed later) widen them. */
	uint64_t lifetime = task->end_ns > task->begin_ns ? task->end_ns - task->begin_ns : 0;
	into->width = lifetime / TASK_SERIES_MAX_POINTS + 1;
	if (charts->count == TASK_SERIES_MAX_TASKS) {
		charts->worst = 0;
		for (size_t i = 1; i < charts->count; i++) {
			const struct task_series *candidate = &charts->series[i];
			const struct task_series *worst = &charts->series[charts->worst];
			if (series_before(worst->peak_bytes, worst->task, candidate->peak_bytes,
			                  candidate->task))
				charts->worst = i;
		}
	}
	return 0;
}

static int compare_series_by_task(const void *left, const void *right)
{
	const struct task_series *a = left, *b = right;
	return (a->task > b->task) - (a->task < b->task);
}

static int compare_series_by_peak(const void *left, const void *right)
{
	const struct task_series *a = left, *b = right;
	if (a->task == b->task)
		return 0;
	return series_before(a->peak_bytes, a->task, b->peak_bytes, b->task) ? -1 : 1;
}

static struct task_series *charts_series(struct task_charts *charts, uint64_t task)
{
	if (task == 0 || task > UINT32_MAX)
		return NULL;
	struct task_series key = { .task = (uint32_t)task };
	return bsearch(&key, charts->series, charts->count, sizeof(*charts->series),
	               compare_series_by_task);
}

/* Where the probe for address starts. */
static size_t tracked_home(uint64_t address, size_t mask)
{
	return (size_t)((address * UINT64_C(0x9e3779b97f4a7c15)) >> 24) & mask;
}

static size_t tracked_slot(const struct tracked_block *blocks, size_t capacity, uint64_t address)
{
	size_t mask = capacity - 1;
	size_t slot = tracked_home(address, mask);
	while (blocks[slot].address != 0 && blocks[slot].address != address)
		slot = (slot + 1) & mask;
	return slot;
}

static int tracked_make_room(struct task_charts *charts)
{
	if (2 * (charts->block_count + 1) <= charts->block_capacity)
		return 0;
	size_t capacity = charts->block_capacity ? 2 * charts->block_capacity : 1024;
	struct tracked_block *blocks = calloc(capacity, sizeof(*blocks));
	if (!blocks)
		return -ENOMEM;
	for (size_t i = 0; i < charts->block_capacity; i++)
		if (charts->blocks[i].address != 0)
			blocks[tracked_slot(blocks, capacity, charts->blocks[i].address)] =
			    charts->blocks[i];
	free(charts->blocks);
	charts->blocks = blocks;
	charts->block_capacity = capacity;
	return 0;
}

/* The tracked block at address, or NULL. */
static struct tracked_block *tracked_find(struct task_charts *charts, uint64_t address)
{
	if (charts->block_capacity == 0 || address == 0)
		return NULL;
	struct tracked_block *block =
	    &charts->blocks[tracked_slot(charts->blocks, charts->block_capacity, address)];
	return block->address == address ? block : NULL;
}

/* Empties a slot and moves later members of its probe run back into the
 * hole, so lookups never stop short (linear probing has no tombstones). */
static void tracked_remove(struct task_charts *charts, struct tracked_block *block)
{
	size_t mask = charts->block_capacity - 1;
	size_t hole = (size_t)(block - charts->blocks);
	for (size_t next = (hole + 1) & mask; charts->blocks[next].address != 0;
	     next = (next + 1) & mask) {
		size_t home = tracked_home(charts->blocks[next].address, mask);
		/* It moves into the hole unless its home lies in (hole, next]. */
		bool stays = hole <= next ? hole < home && home <= next
		                          : hole < home || home <= next;
		if (!stays) {
			charts->blocks[hole] = charts->blocks[next];
			hole = next;
		}
	}
	charts->blocks[hole] = (struct tracked_block){ 0 };
	charts->block_count--;
}

/* Halves the series' resolution: each pair of buckets becomes one. */
static void series_merge(struct task_series *series)
{
	struct task_bucket *buckets = series->buckets;
	for (size_t i = 0; i < TASK_SERIES_MAX_POINTS / 2; i++) {
		struct task_bucket merged = buckets[2 * i];
		const struct task_bucket *second = &buckets[2 * i + 1];
		if (second->used) {
			if (!merged.used || second->high > merged.high)
				merged.high = second->high;
			merged.last = second->last;
			merged.used = true;
		}
		buckets[i] = merged;
	}
	memset(&buckets[TASK_SERIES_MAX_POINTS / 2], 0,
	       TASK_SERIES_MAX_POINTS / 2 * sizeof(*buckets));
	series->width *= 2;
}

static void series_record(struct task_series *series, uint64_t time_ns)
{
	uint64_t offset = time_ns > series->origin ? time_ns - series->origin : 0;
	while (offset / series->width >= TASK_SERIES_MAX_POINTS)
		series_merge(series);
	struct task_bucket *bucket = &series->buckets[offset / series->width];
	uint64_t live = series->live > 0 ? (uint64_t)series->live : 0;
	if (!bucket->used || live > bucket->high)
		bucket->high = live;
	bucket->last = live;
	bucket->used = true;
}

/* for_each_event visitor: a block's bytes count for its owner task from
 * its allocation to its free, whichever task frees it. */
static int chart_event(void *context, const memscope_event *event)
{
	struct task_charts *charts = context;
	struct task_series *series = charts_series(charts, memscope_event_owner_task(event));
	if (!series)
		return 0;
	struct tracked_block *block = tracked_find(charts, event->address);
	switch (event->type) {
	case MEMSCOPE_EVENT_ALLOC:
		if (!block && event->address != 0) {
			if (tracked_make_room(charts) < 0)
				return -ENOMEM;
			block = &charts->blocks[tracked_slot(charts->blocks, charts->block_capacity,
			                                     event->address)];
			block->address = event->address;
			charts->block_count++;
		}
		if (block)
			block->size = event->size;
		series->live += (int64_t)event->size;
		break;
	case MEMSCOPE_EVENT_FREE:
		if (block)
			tracked_remove(charts, block);
		series->live -= (int64_t)event->size;
		break;
	case MEMSCOPE_EVENT_RESIZE:
		/* A block whose allocation was not seen has no size to change from. */
		if (!block)
			return 0;
		series->live += (int64_t)event->size - (int64_t)block->size;
		block->size = event->size;
		break;
	default:
		return 0;
	}
	series_record(series, event->time_ns);
	return 0;
}

static void charts_finish(struct task_charts *charts)
{
	free(charts->series);
	free(charts->buckets);
	free(charts->blocks);
}

/* ---- the data island ------------------------------------------------------------ */

struct export {
	const memscope_host *host;
	memscope_capture *capture;
	FILE *out;
	const memscope_summary *summary;
	struct totals totals;
	/* Stack ids the tables and the tasks' leaks name: their frames go
	 * into the page. */
	struct exporter_stack_ids named_stacks;
	/* Tasks: listed when the capture has them and the host can list them. */
	bool has_tasks;
	struct exporter_task_leaks task_leaks;
	size_t task_rows;             /* written so far */
	struct task_charts charts;
	bool charted;                 /* the host gave the events the series come from */
};

static void write_key(FILE *out, const char *key)
{
	json_string(out, key);
	fputc(':', out);
}

static void write_summary(struct export *export)
{
	FILE *out = export->out;
	const memscope_summary *summary = export->summary;
	fputs("\"summary\":{", out);
	write_key(out, "path");
	json_string(out, summary->path);
	fputc(',', out);
	write_key(out, "program");
	json_string(out, summary->program);
	fputc(',', out);
	write_key(out, "backend");
	json_string(out, summary->backend);
	fprintf(out,
	        ",\"duration_ns\":%" PRIu64 ",\"allocations\":%" PRIu64
	        ",\"reallocations\":%" PRIu64 ",\"frees\":%" PRIu64
	        ",\"allocated_bytes\":%" PRIu64 ",\"peak_bytes\":%" PRIu64
	        ",\"peak_time_ns\":%" PRIu64 ",\"peak_blocks\":%" PRIu64
	        ",\"live_blocks\":%" PRIu64 ",\"live_bytes\":%" PRIu64 ",\"accuracy\":",
	        summary->duration_ns, summary->allocations, summary->reallocations, summary->frees,
	        summary->allocated_bytes, summary->peak_bytes, summary->peak_time_ns,
	        summary->version >= 7 ? summary->peak_blocks : 0, summary->live_blocks,
	        summary->live_bytes);
	exporter_accuracy_object(out, summary, false);
	fprintf(out, ",\"threads\":%" PRIu32 ",\"ended_cleanly\":%s,", summary->threads,
	        summary->ended_cleanly ? "true" : "false");
	write_key(out, "death");
	json_string(out, summary->version >= 7 ? summary->death : NULL);
	fprintf(out, ",\"truncated\":%s}", summary->truncated ? "true" : "false");
}

/* A real number in JSON: %.17g reads back exactly; NaN and infinities
 * have no JSON form. */
static void write_real(FILE *out, double value)
{
	if (value != value || value > 1e308 || value < -1e308)
		fputs("null", out);
	else
		fprintf(out, "%.17g", value);
}

/* "sampling": {interval, estimated, interval_min, interval_max,
 * interval_changes, exact_above} when a sampling backend wrote the
 * capture, else null; "tracking": the backend's counters and the share
 * recorded, else null. */
static void write_sampling_and_tracking(struct export *export)
{
	FILE *out = export->out;
	const memscope_summary *summary = export->summary;
	uint64_t interval = memscope_summary_sample_interval(summary);
	fputs(",\n\"sampling\":", out);
	if (interval != 0)
		exporter_sampling_object(out, summary, false);
	else
		fputs("null", out);
	fputs(",\n\"tracking\":", out);
	if (!memscope_summary_has_tracking(summary)) {
		fputs("null", out);
		return;
	}
	fprintf(out,
	        "{\"attempts\":%" PRIu64 ",\"successes\":%" PRIu64 ",\"misses\":%" PRIu64
	        ",\"waits\":%" PRIu64 ",\"growths\":%" PRIu64 ",\"completeness\":",
	        summary->attempts, summary->successes, summary->misses, summary->waits,
	        summary->growths);
	write_real(out, memscope_summary_completeness(summary));
	fputs(",\"contention_rate\":", out);
	write_real(out, memscope_summary_contention_rate(summary));
	fprintf(out, ",\"warning_below\":");
	write_real(out, MEMSCOPE_COMPLETENESS_WARNING);
	fputs("}", out);
}

static int write_table(struct export *export, const memscope_table *table)
{
	const memscope_host *host = export->host;
	FILE *out = export->out;
	size_t column_count = 0;
	const memscope_column *columns = host->table_columns(table, &column_count);
	if (!columns)
		column_count = 0;
	size_t row_count = host->table_row_count(table);

	fputs("{\"name\":", out);
	json_string(out, host->table_name(table));
	fputs(",\"title\":", out);
	json_string(out, host->table_title(table));
	fprintf(out, ",\"total_rows\":%zu,\"columns\":[", row_count);
	for (size_t c = 0; c < column_count; c++) {
		fputs(c ? ",[" : "[", out);
		json_string(out, columns[c].name);
		fputc(',', out);
		json_string(out, columns[c].title);
		fputc(',', out);
		json_string(out, exporter_column_type_name(columns[c].type));
		fputc(']', out);
	}
	fputs("],\"rows\":[", out);
	if (row_count > TABLE_MAX_ROWS)
		row_count = TABLE_MAX_ROWS;
	bool first_row = true;
	for (size_t r = 0; r < row_count; r++) {
		const memscope_value *values = host->table_row_at(table, r);
		if (!values)
			continue;
		fputs(first_row ? "\n[" : ",\n[", out);
		first_row = false;
		for (size_t c = 0; c < column_count; c++) {
			if (c)
				fputc(',', out);
			switch (columns[c].type) {
			case MEMSCOPE_COLUMN_TEXT:
				json_string(out, values[c].text);
				break;
			case MEMSCOPE_COLUMN_COUNT:
			case MEMSCOPE_COLUMN_BYTES:
			case MEMSCOPE_COLUMN_TIME:
				fprintf(out, "%" PRIu64, values[c].count);
				break;
			case MEMSCOPE_COLUMN_RATIO:
				write_real(out, values[c].real);
				break;
			case MEMSCOPE_COLUMN_STACK:
				fprintf(out, "%" PRIu32, values[c].stack);
				if (exporter_stack_ids_add(&export->named_stacks, values[c].stack) < 0)
					return -ENOMEM;
				break;
			default:
				/* A type from a newer ABI: its union member is unknown. */
				fputs("null", out);
				break;
			}
		}
		fputc(']', out);
	}
	fputs("]}", out);
	return 0;
}

static int write_results(struct export *export, const memscope_results *const *results,
                         size_t count)
{
	const memscope_host *host = export->host;
	FILE *out = export->out;
	fputs(",\n\"results\":[", out);
	bool first = true;
	for (size_t r = 0; r < count; r++) {
		if (!results[r])
			continue;
		fputs(first ? "\n{\"analyzer\":" : ",\n{\"analyzer\":", out);
		first = false;
		json_string(out, host->results_analyzer(results[r]));
		fputs(",\"findings\":[", out);
		size_t finding_count = host->finding_count(results[r]);
		for (size_t f = 0; f < finding_count; f++) {
			memscope_severity severity = MEMSCOPE_SEVERITY_INFO;
			const char *text = host->finding_at(results[r], f, &severity);
			fputs(f ? ",[" : "[", out);
			json_string(out, exporter_severity_name(severity, "info"));
			fputc(',', out);
			json_string(out, text);
			fputc(']', out);
		}
		fputs("],\"tables\":[", out);
		size_t table_count = host->table_count(results[r]);
		bool first_table = true;
		for (size_t t = 0; t < table_count; t++) {
			const memscope_table *table = host->table_at(results[r], t);
			if (!table)
				continue;
			if (!first_table)
				fputc(',', out);
			first_table = false;
			int error = write_table(export, table);
			if (error < 0)
				return error;
		}
		fputs("]}", out);
	}
	fputs("]", out);
	return 0;
}

/* The frames of every stack a table names: {"id": [[function, file, line,
 * module, offset, inlined], ...]}, innermost first. */
static void write_stacks(struct export *export)
{
	FILE *out = export->out;
	const struct exporter_stack_ids *named = &export->named_stacks;
	exporter_stack_ids_settle(&export->named_stacks);
	fputs(",\n\"stacks\":{", out);
	for (size_t i = 0; i < named->count; i++) {
		uint32_t stack = named->ids[i];
		const memscope_frame *frames;
		size_t frame_count = exporter_stack_frames(export->host, export->capture, stack, &frames);
		fprintf(out, "%s\n\"%" PRIu32 "\":[", i ? "," : "", stack);
		for (size_t f = 0; f < frame_count; f++) {
			fputs(f ? ",[" : "[", out);
			json_string(out, frames[f].function);
			fputc(',', out);
			json_string(out, frames[f].file);
			fprintf(out, ",%" PRIu32 ",", frames[f].line);
			json_string(out, frames[f].module);
			fprintf(out, ",%" PRIu64 ",%s]", frames[f].module_offset,
			        frames[f].inlined ? "true" : "false");
		}
		fputc(']', out);
	}
	fputs("}", out);
}

static void write_threads(struct export *export)
{
	FILE *out = export->out;
	const struct totals *totals = &export->totals;
	size_t count = totals->thread_count;
	if (count < export->summary->threads)
		count = export->summary->threads;
	fputs(",\n\"threads\":[", out);
	for (size_t t = 0; t < count; t++) {
		static const struct thread_total none;
		const struct thread_total *thread =
		    t < totals->thread_count ? &totals->threads[t] : &none;
		fprintf(out, "%s\n[%zu,", t ? "," : "", t);
		json_string(out, export->host->thread_name(export->capture, (uint32_t)t));
		fprintf(out, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",\"%s\"]",
		        memscope_weighted_count(thread->blocks), memscope_weighted_count(thread->bytes),
		        memscope_weighted_count(thread->peak_bytes),
		        memscope_weighted_count(thread->leaked_blocks),
		        memscope_weighted_count(thread->leaked_bytes),
		        memscope_accuracy_name(memscope_tally_accuracy(&thread->tally)));
	}
	fputs("]", out);
}

/* ---- the timeline ------------------------------------------------------------- */

enum series {
	SERIES_TIME,
	SERIES_HEAP,
	SERIES_RSS,
	SERIES_ACTIVE,
	SERIES_RESIDENT,
	SERIES_COUNT_OF,
};

static void series_of(const memscope_sample *sample, uint64_t point[SERIES_COUNT_OF])
{
	point[SERIES_TIME] = sample->time_ns;
	point[SERIES_HEAP] = sample->heap_live_bytes;
	point[SERIES_RSS] = sample->rss_bytes;
	point[SERIES_ACTIVE] = sample->jemalloc_active;
	point[SERIES_RESIDENT] = sample->jemalloc_resident;
}

/* [[time, heap, rss, active, resident], ...], the peak a point of its own
 * (exporter_timeline_collect).  A run of samples reduced to one point
 * keeps its first time and the highest value of each series, so no peak
 * disappears from the chart; the run that holds the capture's peak keeps
 * the peak's time, so the line passes through it. */
static int write_timeline(struct export *export)
{
	FILE *out = export->out;
	struct exporter_timeline timeline = { 0 };
	int error = exporter_timeline_collect(&timeline, export->host, export->capture,
	                                      exporter_summary(export->host, export->capture));
	if (error < 0) {
		exporter_timeline_finish(&timeline);
		return error;
	}
	size_t run = (timeline.count + TIMELINE_MAX_POINTS - 1) / TIMELINE_MAX_POINTS;
	if (run == 0)
		run = 1;
	fputs(",\n\"timeline\":[", out);
	for (size_t start = 0; start < timeline.count; start += run) {
		uint64_t point[SERIES_COUNT_OF], next[SERIES_COUNT_OF];
		series_of(&timeline.samples[start], point);
		for (size_t i = start + 1; i < start + run && i < timeline.count; i++) {
			series_of(&timeline.samples[i], next);
			for (int s = SERIES_HEAP; s < SERIES_COUNT_OF; s++)
				if (next[s] > point[s])
					point[s] = next[s];
		}
		if (timeline.peak >= start && timeline.peak < start + run)
			point[SERIES_TIME] = timeline.samples[timeline.peak].time_ns;
		fprintf(out, "%s[%" PRIu64, start ? ",\n" : "\n", point[SERIES_TIME]);
		for (int s = SERIES_HEAP; s < SERIES_COUNT_OF; s++)
			fprintf(out, ",%" PRIu64, point[s]);
		fputc(']', out);
	}
	fputs("]", out);
	exporter_timeline_finish(&timeline);
	return 0;
}

/* ---- tasks ----------------------------------------------------------------------- */

/* The fields of a row of "tasks", named as the json exporter's keys. */
static const char *const task_columns[] = {
	"id", "parent", "name", "origin", "key", "began_on", "threads", "begin_ns", "end_ns",
	"ended", "children", "allocations", "allocated_bytes", "frees", "freed_bytes",
	"freed_by_others", "freed_by_others_bytes", "freed_of_others", "freed_of_others_bytes",
	"peak_bytes", "peak_time_ns", "live_at_end_blocks", "live_at_end_bytes", "leaked_blocks",
	"leaked_bytes", "accuracy", "leaks",
};

/* Before "stacks" is written: chooses the tasks that get a series and
 * replays their blocks' events, then groups every task's leaks by stack
 * and names those stacks.  A capture without tasks, or a host that cannot
 * list them, leaves everything as it was.  Returns 0 or a negative errno. */
static int collect_tasks(struct export *export)
{
	if (memscope_summary_tasks(export->summary) == 0)
		return 0;
	struct task_charts *charts = &export->charts;
	charts->series = calloc(TASK_SERIES_MAX_TASKS, sizeof(*charts->series));
	if (!charts->series)
		return -ENOMEM;
	int error = memscope_host_for_each_task(export->host, export->capture, choose_series,
	                                        charts);
	if (error == -ENOTSUP)
		return 0;
	if (error != 0)
		return error < 0 ? error : -EIO;
	export->has_tasks = true;
	qsort(charts->series, charts->count, sizeof(*charts->series), compare_series_by_task);
	charts->buckets = calloc(TASK_SERIES_MAX_TASKS * TASK_SERIES_MAX_POINTS,
	                         sizeof(*charts->buckets));
	if (!charts->buckets)
		return -ENOMEM;
	for (size_t s = 0; s < charts->count; s++)
		charts->series[s].buckets = &charts->buckets[s * TASK_SERIES_MAX_POINTS];
	if (export->host->for_each_event) {
		error = export->host->for_each_event(export->capture, chart_event, charts);
		if (error != 0 && error != -ENOTSUP)
			return error < 0 ? error : -EIO;
		export->charted = error == 0;
	}
	error = exporter_task_leaks_collect(&export->task_leaks, export->host, export->capture);
	if (error < 0)
		return error;
	const struct exporter_task_leaks *leaks = &export->task_leaks;
	for (size_t i = 0; i < leaks->count; i++)
		if (exporter_stack_ids_add(&export->named_stacks, leaks->entries[i].stack) < 0)
			return -ENOMEM;
	return 0;
}

static int write_task(void *context, const memscope_task *task)
{
	struct export *export = context;
	FILE *out = export->out;
	fprintf(out, "%s\n[%" PRIu32 ",%" PRIu32 ",", export->task_rows++ ? "," : "", task->id,
	        task->parent);
	json_string(out, task->name);
	fputc(',', out);
	json_string(out, task->origin);
	fprintf(out, ",%" PRIu64 ",%" PRIu32 ",[", task->key, task->began_on);
	for (size_t i = 0; task->threads && i < task->thread_count; i++)
		fprintf(out, "%s%" PRIu32, i ? "," : "", task->threads[i]);
	fprintf(out, "],%" PRIu64 ",%" PRIu64 ",%s,%" PRIu32, task->begin_ns, task->end_ns,
	        task->ended ? "true" : "false", task->children);
	const uint64_t figures[] = {
		task->allocations, task->allocated_bytes, task->frees, task->freed_bytes,
		task->freed_by_others, task->freed_by_others_bytes, task->freed_of_others,
		task->freed_of_others_bytes, task->peak_bytes, task->peak_time_ns,
		task->end_live_blocks, task->end_live_bytes, task->live_blocks, task->live_bytes,
	};
	for (size_t i = 0; i < sizeof(figures) / sizeof(figures[0]); i++)
		fprintf(out, ",%" PRIu64, figures[i]);
	fprintf(out, ",\"%s\"",
	        memscope_accuracy_name(memscope_task_accuracy(task, export->summary)));

	/* Leaks of an id the host does not list are left out. */
	size_t count;
	const struct exporter_task_leak *leaks =
	    exporter_task_leaks_of(&export->task_leaks, task->id, &count);
	fputs(",[", out);
	for (size_t i = 0; i < count; i++)
		fprintf(out, "%s[%" PRIu32 ",%" PRIu64 ",%" PRIu64 ",\"%s\"]", i ? "," : "",
		        leaks[i].stack, leaks[i].blocks, leaks[i].bytes,
		        memscope_accuracy_name(memscope_tally_accuracy(&leaks[i].tally)));
	fputs("]]", out);
	return 0;
}

static void write_series(struct export *export)
{
	FILE *out = export->out;
	struct task_charts *charts = &export->charts;
	if (!export->charted) {
		fputs("null", out);
		return;
	}
	qsort(charts->series, charts->count, sizeof(*charts->series), compare_series_by_peak);
	fputs("[", out);
	for (size_t s = 0; s < charts->count; s++) {
		const struct task_series *series = &charts->series[s];
		fprintf(out, "%s\n[%" PRIu32 ",%" PRIu64 ",%" PRIu64 ",[", s ? "," : "",
		        series->task, series->origin, series->width);
		bool first = true;
		for (size_t b = 0; b < TASK_SERIES_MAX_POINTS; b++) {
			const struct task_bucket *bucket = &series->buckets[b];
			if (!bucket->used)
				continue;
			fprintf(out, "%s%zu,%" PRIu64 ",%" PRIu64, first ? "" : ",", b,
			        bucket->high, bucket->last);
			first = false;
		}
		fputs("]]", out);
	}
	fputs("]", out);
}

/* "tasks", laid out as the comment at the top of this file says. */
static int write_tasks(struct export *export)
{
	FILE *out = export->out;
	if (!export->has_tasks)
		return 0;
	fputs(",\n\"tasks\":{\"columns\":[", out);
	for (size_t c = 0; c < sizeof(task_columns) / sizeof(task_columns[0]); c++) {
		if (c)
			fputc(',', out);
		json_string(out, task_columns[c]);
	}
	fputs("],\n\"rows\":[", out);
	int error = memscope_host_for_each_task(export->host, export->capture, write_task, export);
	if (error != 0)
		return error < 0 ? error : -EIO;
	fprintf(out, "],\n\"series_limit\":%d,\"series_points\":%d,\n\"series\":",
	        TASK_SERIES_MAX_TASKS, TASK_SERIES_MAX_POINTS);
	write_series(export);
	fputs("}", out);
	return 0;
}

/* ---- the page ------------------------------------------------------------------ */

static int write_data(struct export *export, const memscope_results *const *results,
                      size_t count)
{
	FILE *out = export->out;
	fprintf(out, "{\"version\":%d,", HTML_DATA_VERSION);
	write_summary(export);
	write_sampling_and_tracking(export);

	int error = export->host->for_each_block(export->capture, add_block, &export->totals);
	if (error != 0)
		return error < 0 ? error : -EIO;

	struct flame flame = { 0 };
	error = flame_build(&flame, export->host, export->capture, &export->totals);
	if (error == 0) {
		fprintf(out, ",\n\"stack_count\":%zu,\n\"flame\":", export->totals.stack_count);
		error = flame_write(out, &flame);
	}
	flame_finish(&flame);
	if (error < 0)
		return error;

	error = write_results(export, results, count);
	if (error < 0)
		return error;
	error = collect_tasks(export);
	if (error < 0)
		return error;
	write_stacks(export);
	write_threads(export);
	error = write_timeline(export);
	if (error < 0)
		return error;
	error = write_tasks(export);
	if (error < 0)
		return error;
	fputs("}", out);
	return 0;
}

static int write_page(struct export *export, const memscope_results *const *results,
                      size_t count)
{
	FILE *out = export->out;
	const char *program = export->summary->program;
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<title>memscope: ",
	      out);
	html_text(out, program && *program ? program : export->summary->path);
	fputs("</title>\n<style>\n", out);
	write_lines(out, html_page_css);
	fputs("</style>\n</head>\n<body>\n"
	      "<noscript><p class=\"noscript\">This memscope report draws itself with "
	      "JavaScript; please allow scripts for this file.</p></noscript>\n"
	      "<div id=\"app\"></div>\n"
	      "<script type=\"application/json\" id=\"memscope-data\">",
	      out);
	int error = write_data(export, results, count);
	if (error < 0)
		return error;
	fputs("</script>\n<script>\n", out);
	write_lines(out, html_page_js);
	fputs("</script>\n</body>\n</html>\n", out);
	return 0;
}

/* Every slot the exporter calls, present in a host of version 1. */
static bool host_usable(const memscope_host *host)
{
	return host && host->version >= 1 && host->summary && host->for_each_block &&
	       host->for_each_sample && host->stack_frames && host->thread_name &&
	       host->table_count && host->table_at && host->table_name && host->table_title &&
	       host->table_columns && host->table_row_count && host->table_row_at &&
	       host->finding_count && host->finding_at && host->results_analyzer;
}

static int write_html(const memscope_host *host, memscope_capture *capture,
                      const memscope_results *const *results, size_t count, FILE *out)
{
	if (!out || (count > 0 && !results))
		return -EINVAL;
	if (!host_usable(host))
		return -ENOTSUP;
	const memscope_summary *summary = exporter_summary(host, capture);

	/* Numbers in the C locale whatever the host set: "0.5", never "0,5". */
	struct exporter_locale locale;
	if (exporter_locale_enter(&locale) < 0)
		return -ENOMEM;

	struct export export = {
		.host = host,
		.capture = capture,
		.out = out,
		.summary = summary,
		.totals = { .summary = summary },
	};
	int error = write_page(&export, results, count);

	exporter_locale_leave(&locale);
	totals_finish(&export.totals);
	exporter_stack_ids_finish(&export.named_stacks);
	exporter_task_leaks_finish(&export.task_leaks);
	charts_finish(&export.charts);
	return exporter_finish_output(out, error);
}

static const memscope_exporter html_exporter = {
	.version = MEMSCOPE_EXPORTER_VERSION,
	.name = "html",
	.extension = "html",
	.description = "a self-contained, offline HTML dashboard: summary, memory over time, "
	               "flame graph, tables, findings, threads, tasks",
	.write = write_html,
};

static const memscope_exporter *const exporters[] = { &html_exporter, NULL };

MEMSCOPE_PLUGIN_DESCRIBE("html", "1.0", NULL, exporters)
