/* plugin.h - the memscope plugin ABI: analyzers and exporters, built as
 * shared objects against this header alone (they never link libmemscope).
 *
 * A plugin exports exactly one symbol, MEMSCOPE_PLUGIN_ENTRY_NAME, a
 * function the host calls with its API table; it returns a description of
 * the analyzers and exporters it holds.  Everything the plugin needs from a
 * capture, and everything it reports, goes through that table.
 *
 *   #include <memscope/plugin.h>
 *
 *   static int run(const memscope_host *host, memscope_capture *capture,
 *                  memscope_results *results) { ... }
 *   static const memscope_analyzer mine = {
 *           .version = MEMSCOPE_ANALYZER_VERSION, .name = "mine",
 *           .description = "...", .run = run };
 *   static const memscope_analyzer *const analyzers[] = {&mine, NULL};
 *   MEMSCOPE_PLUGIN_DESCRIBE("my-plugin", "1.0", analyzers, NULL)
 *
 * Versions: MEMSCOPE_PLUGIN_ABI_MAJOR changes break plugins (the host
 * refuses a plugin of another major); minor versions only add.  Every
 * struct that crosses the boundary starts with a version and only grows at
 * its end; a slot added later is marked "since N" and is called only after
 * checking the version.  Errors are negative errno values.
 *
 * Sampled captures (since ABI 1.1): a sampling backend records only some
 * allocations, and each recorded block stands for memscope_block.weight
 * blocks of its size.  Sum weight and weight * size (as doubles, rounded
 * once at the end with memscope_weighted_count) to get estimates of the
 * program's true counts and bytes; memscope_summary.sample_interval says
 * whether the capture was sampled.  Read a field added in a later version
 * through the helpers below, which give what an older host means by
 * leaving it out: weight 1, no sampling, no tracking.
 *
 * Tasks (since ABI 1.2): captures of the async backend attribute every
 * heap event to a task (a coroutine, a request, a thread's own work).
 * memscope_host_for_each_task() lists them with their figures; a block's
 * task is the one that allocated it, which its free counts against
 * whichever task gives it back.  Captures without tasks have none, and
 * every block's task is 0.
 *
 * Accuracy (since ABI 1.4): every figure is exact, estimated or mixed,
 * from what the blocks behind it weigh (memscope_accuracy): sum a table
 * row's blocks into a memscope_tally as you sum their weights, and say
 * what it makes of the row; the host says it of the summary's figures and
 * of each task's.  The hybrid backend records its large blocks for sure
 * (weight 1) and samples the small ones, so its totals are mixed.
 *
 * Order (since ABI 1.5): times are clock ticks about 1 ms apart, which
 * many events share; each block also carries the positions of its
 * allocation and free in the capture's one order of events, and the
 * summary the position of the peak, so that memscope_block_live_at_peak()
 * says exactly which blocks made the peak, and a thread's own live bytes
 * can be replayed in order.
 *
 * The peak on the timeline (since ABI 1.6): the samples are taken every
 * 10 ms and miss a peak that comes and goes between two of them.  Whoever
 * draws the live heap's line adds the summary's peak as one more point,
 * (peak_time_ns, peak_bytes, peak_blocks), so the line passes through the
 * figure every report gives.
 */
#ifndef MEMSCOPE_PLUGIN_H
#define MEMSCOPE_PLUGIN_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MEMSCOPE_PLUGIN_ABI_MAJOR 1
#define MEMSCOPE_PLUGIN_ABI_MINOR 6 /* 1: sampling and tracking figures, weights;
                                       2: tasks; 3: the hybrid backend's threshold,
                                       the interval's range and moves, task changes;
                                       4: each figure's accuracy; 5: the events'
                                       order (blocks' and the peak's positions);
                                       6: the blocks live at the peak, how the
                                       program died */

/* The one symbol a plugin exports. */
#define MEMSCOPE_PLUGIN_ENTRY memscope_plugin_entry_v1
#define MEMSCOPE_PLUGIN_ENTRY_NAME "memscope_plugin_entry_v1"

/* Opaque to plugins. */
typedef struct memscope_capture memscope_capture;
typedef struct memscope_results memscope_results;
typedef struct memscope_table memscope_table;

/* ---- what a capture holds ------------------------------------------------ */

/* How exact a figure is (since ABI 1.4): every block behind it weighs 1,
 * recorded for sure (exact); every one is a sample standing for more
 * (estimated); or some of each (mixed).  A figure with no block behind it
 * is exact.  0 is no value: a host before ABI 1.4 gives none. */
typedef enum memscope_accuracy {
	MEMSCOPE_ACCURACY_EXACT = 1,
	MEMSCOPE_ACCURACY_ESTIMATED,
	MEMSCOPE_ACCURACY_MIXED,
} memscope_accuracy;

#define MEMSCOPE_SUMMARY_VERSION 7

/* Counts and bytes are weighted: estimates when sample_interval is above 1. */
typedef struct memscope_summary {
	uint32_t version;
	const char *path;              /* the capture file */
	const char *program;           /* as recorded; "" if unknown */
	const char *backend;
	uint64_t duration_ns;
	uint64_t allocations;          /* blocks handed out */
	uint64_t reallocations;        /* blocks resized in place */
	uint64_t frees;
	uint64_t allocated_bytes;      /* requested, by the allocations */
	uint64_t peak_bytes;           /* most requested bytes live at once */
	uint64_t peak_time_ns;
	uint64_t live_blocks;          /* at the end: leaks when ended_cleanly */
	uint64_t live_bytes;
	uint32_t threads;
	bool ended_cleanly;            /* the capture has its trailer */
	bool truncated;                /* the file is cut short or damaged */
	/* Since version 2. */
	uint64_t sample_interval;      /* mean bytes between samples at the end of the capture;
	                                  0: no sampling (every allocation recorded); 1: a
	                                  sampling backend that recorded every allocation.
	                                  Above 1, the counts and bytes are estimates. */
	bool has_tracking;             /* the backend recorded the counters below */
	uint64_t attempts;             /* events the backend tried to record */
	uint64_t successes;            /* recorded */
	uint64_t misses;               /* dropped (no room in its buffers) or lost */
	uint64_t waits;                /* times a thread waited for room */
	uint64_t growths;              /* times a thread's buffer grew */
	/* Since version 3. */
	uint32_t tasks;                /* tasks the capture holds (memscope_host.for_each_task) */
	/* Since version 4: read them through the helpers below. */
	uint64_t exact_above;          /* the hybrid backend recorded every block of this many
	                                  bytes or more (weight 1); 0: none */
	uint64_t sample_interval_min;  /* the smallest and largest intervals above 1 in force */
	uint64_t sample_interval_max;
	uint64_t interval_changes;     /* times a thread's interval moved (an event budget) */
	uint64_t task_changes;         /* task entries recorded besides the events; they wait
	                                  for room as events do */
	/* Since version 5: read them through memscope_summary_accuracy(). */
	uint32_t allocations_accuracy; /* memscope_accuracy of allocations, allocated_bytes */
	uint32_t reallocations_accuracy;
	uint32_t frees_accuracy;
	uint32_t peak_accuracy;        /* of peak_bytes: the blocks live at the peak */
	uint32_t live_accuracy;        /* of live_blocks and live_bytes */
	/* Since version 6: read it through memscope_block_live_at_peak(). */
	uint64_t peak_event;           /* the position of the allocation that reached the peak
	                                  among the capture's events (memscope_block's
	                                  allocated_event); 0: no peak */
	/* Since version 7. */
	uint64_t peak_blocks;          /* blocks live at the peak (weighted, as peak_bytes) */
	const char *death;             /* without a trailer, how the program died as memscope
	                                  saw it ("killed by signal 9 (Killed)"); NULL: it ended
	                                  cleanly, replaced itself (exec), or nothing says.  The
	                                  blocks live at the end are then those live when it died */
} memscope_summary;

/* One heap block from allocation to free (or to the end). */
#define MEMSCOPE_BLOCK_VERSION 4

typedef struct memscope_block {
	uint32_t version;
	uint32_t stack;                /* stack id: memscope_host.stack_frames */
	uint64_t address;
	uint64_t size;                 /* requested bytes (the last size, if resized) */
	uint64_t usable;               /* bytes the allocator reserved */
	uint32_t thread;               /* thread index: memscope_host.thread_name */
	uint32_t kind;                 /* how it was allocated: memscope_host.kind_name */
	uint64_t task;                 /* the task that allocated it (memscope_task.id), 0 if none;
	                                  filled since version 3 */
	uint64_t allocated_ns;
	uint64_t freed_ns;             /* when freed; the capture's end if not */
	bool freed;
	const char *tag_name;          /* MEMSCOPE_TRACK's name, or NULL */
	const char *tag_type;          /* its type name, or NULL */
	/* Since version 2: read it with memscope_block_weight(). */
	double weight;                 /* blocks of its size it stands for: 1 unless sampled,
	                                  1 / (1 - exp(-size / sample_interval)) when sampled */
	/* Since version 3. */
	uint64_t freed_by_task;        /* the task that gave it back; 0 if none or not freed */
	/* Since version 4: positions in the capture's one order of events (every
	 * allocation, free and resize of every thread, counted from 1), where
	 * the times above are clock ticks about 1 ms apart that many events
	 * share. */
	uint64_t allocated_event;
	uint64_t freed_event;          /* 0 while live */
} memscope_block;

/* One heap event, in the order the program made them. */
#define MEMSCOPE_EVENT_VERSION 3

typedef enum memscope_event_type {
	MEMSCOPE_EVENT_ALLOC = 1,      /* a block handed out */
	MEMSCOPE_EVENT_FREE,           /* a block given back */
	MEMSCOPE_EVENT_RESIZE,         /* a block resized in place */
} memscope_event_type;

typedef struct memscope_event {
	uint32_t version;
	memscope_event_type type;
	uint64_t time_ns;
	uint32_t thread;
	uint32_t kind;                 /* memscope_host.kind_name */
	uint64_t address;
	uint64_t size;                 /* requested: the block's (new) size; for a free, the size it had */
	uint64_t usable;
	uint32_t stack;                /* of the alloc or resize; for a free, of the block's allocation */
	/* Since version 2: read it with memscope_event_weight(). */
	double weight;                 /* the block's, after the event (a resize takes its new
	                                  size's); for a free, the weight the block had */
	/* Since version 3: read them with memscope_event_task(). */
	uint64_t task;                 /* the task that made the event, 0 if none */
	uint64_t owner_task;           /* the task the block belongs to (its allocator), 0 if none */
} memscope_event;

/* Below this share of events recorded (successes / attempts), reports
 * warn; the same value as memscope.h's. */
#ifndef MEMSCOPE_COMPLETENESS_WARNING
#define MEMSCOPE_COMPLETENESS_WARNING 0.95
#endif

/* The blocks a block stands for; 1 from a host before ABI 1.1, or when
 * the host left the field 0 (no recorded block weighs less than 1). */
static inline double memscope_block_weight(const memscope_block *block)
{
	return block->version >= 2 && block->weight > 0.0 ? block->weight : 1.0;
}

/* Whether block was live at the capture's peak: by the events' order from
 * a host of ABI 1.5 on, exactly (allocated by the peak's allocation or
 * before, freed after it or never); before that, by clock ticks, where a
 * block freed in the peak's tick cannot be ordered against the peak and
 * counts as freed.  A block resized in place counts with its last size. */
/* Whether the host gives the events' order (ABI 1.5) for this capture's
 * peak: memscope_block's allocated_event and freed_event then place each
 * block against it. */
static inline bool memscope_summary_peak_ordered(const memscope_summary *summary)
{
	return summary->version >= 6 && summary->peak_event != 0;
}

static inline bool memscope_block_live_at_peak(const memscope_summary *summary,
                                               const memscope_block *block)
{
	if (memscope_summary_peak_ordered(summary) && block->version >= 4 &&
	    block->allocated_event != 0)
		return block->allocated_event <= summary->peak_event &&
		       (!block->freed || block->freed_event > summary->peak_event);
	return block->allocated_ns <= summary->peak_time_ns &&
	       (!block->freed || block->freed_ns > summary->peak_time_ns);
}

static inline double memscope_event_weight(const memscope_event *event)
{
	return event->version >= 2 && event->weight > 0.0 ? event->weight : 1.0;
}

/* The sampling interval of the capture: 0 from a host before ABI 1.1. */
static inline uint64_t memscope_summary_sample_interval(const memscope_summary *summary)
{
	return summary->version >= 2 ? summary->sample_interval : 0;
}

/* Whether the summary's counts and bytes (and the weighted sums of its
 * blocks) are estimates rather than counts. */
static inline bool memscope_summary_estimated(const memscope_summary *summary)
{
	return memscope_summary_sample_interval(summary) > 1;
}

/* The figures of the summary, for memscope_summary_accuracy(). */
typedef enum memscope_figure {
	MEMSCOPE_FIGURE_ALLOCATIONS = 1, /* allocations and allocated_bytes */
	MEMSCOPE_FIGURE_REALLOCATIONS,   /* reallocations */
	MEMSCOPE_FIGURE_FREES,           /* frees */
	MEMSCOPE_FIGURE_PEAK,            /* peak_bytes */
	MEMSCOPE_FIGURE_LIVE,            /* live_blocks and live_bytes */
} memscope_figure;

/* How exact a figure of the summary is.  From a host before ABI 1.4, what
 * sampling alone says: estimated when the capture was sampled, else exact. */
static inline memscope_accuracy memscope_summary_accuracy(const memscope_summary *summary,
                                                          memscope_figure figure)
{
	uint32_t given = 0;
	if (summary->version >= 5) {
		switch (figure) {
		case MEMSCOPE_FIGURE_ALLOCATIONS: given = summary->allocations_accuracy; break;
		case MEMSCOPE_FIGURE_REALLOCATIONS: given = summary->reallocations_accuracy; break;
		case MEMSCOPE_FIGURE_FREES: given = summary->frees_accuracy; break;
		case MEMSCOPE_FIGURE_PEAK: given = summary->peak_accuracy; break;
		case MEMSCOPE_FIGURE_LIVE: given = summary->live_accuracy; break;
		}
	}
	if (given >= MEMSCOPE_ACCURACY_EXACT && given <= MEMSCOPE_ACCURACY_MIXED)
		return (memscope_accuracy)given;
	return memscope_summary_estimated(summary) ? MEMSCOPE_ACCURACY_ESTIMATED
	                                           : MEMSCOPE_ACCURACY_EXACT;
}

/* The hybrid backend's threshold: 0 from a capture without one, or a host
 * before ABI 1.3. */
static inline uint64_t memscope_summary_exact_above(const memscope_summary *summary)
{
	return summary->version >= 4 ? summary->exact_above : 0;
}

/* The range of the sampling interval over the run (both the interval at the
 * end from a host before ABI 1.3), and how often a thread's interval moved. */
static inline void memscope_summary_interval_range(const memscope_summary *summary,
                                                   uint64_t *low, uint64_t *high,
                                                   uint64_t *changes)
{
	uint64_t interval = memscope_summary_sample_interval(summary);
	bool known = summary->version >= 4 && summary->sample_interval_max != 0;
	*low = known ? summary->sample_interval_min : interval;
	*high = known ? summary->sample_interval_max : interval;
	*changes = summary->version >= 4 ? summary->interval_changes : 0;
}

/* Whether the summary carries the backend's tracking counters. */
static inline bool memscope_summary_has_tracking(const memscope_summary *summary)
{
	return summary->version >= 2 && summary->has_tracking;
}

/* successes / attempts: the share of events recorded; 1 when nothing was
 * attempted or the capture has no tracking counters. */
static inline double memscope_summary_completeness(const memscope_summary *summary)
{
	if (!memscope_summary_has_tracking(summary) || summary->attempts == 0)
		return 1.0;
	return (double)summary->successes / (double)summary->attempts;
}

/* Waits per entry the threads put in their buffers (events, and the async
 * and hybrid backends' task changes); 0 without tracking counters. */
static inline double memscope_summary_contention_rate(const memscope_summary *summary)
{
	if (!memscope_summary_has_tracking(summary))
		return 0.0;
	uint64_t entries = summary->attempts + (summary->version >= 4 ? summary->task_changes : 0);
	return entries ? (double)summary->waits / (double)entries : 0.0;
}

/* The blocks behind one figure, by what they weigh (since ABI 1.4): add
 * each block's weight as it is summed into the figure, then ask what the
 * figure is.  Zero-initialise. */
typedef struct memscope_tally {
	uint64_t exact;                /* blocks of weight 1 */
	uint64_t sampled;              /* blocks of weight above 1 */
} memscope_tally;

static inline void memscope_tally_add(memscope_tally *tally, double weight)
{
	if (weight > 1.0)
		tally->sampled++;
	else
		tally->exact++;
}

static inline void memscope_tally_merge(memscope_tally *into, const memscope_tally *from)
{
	into->exact += from->exact;
	into->sampled += from->sampled;
}

static inline memscope_accuracy memscope_tally_accuracy(const memscope_tally *tally)
{
	if (tally->sampled == 0)
		return MEMSCOPE_ACCURACY_EXACT;
	return tally->exact == 0 ? MEMSCOPE_ACCURACY_ESTIMATED : MEMSCOPE_ACCURACY_MIXED;
}

/* "exact", "estimated", "mixed": the values of the analyzers' "accuracy"
 * columns and of the exporters' accuracy fields; "unknown" for another. */
static inline const char *memscope_accuracy_name(memscope_accuracy accuracy)
{
	switch (accuracy) {
	case MEMSCOPE_ACCURACY_EXACT: return "exact";
	case MEMSCOPE_ACCURACY_ESTIMATED: return "estimated";
	case MEMSCOPE_ACCURACY_MIXED: return "mixed";
	}
	return "unknown";
}

/* A weighted sum as a whole count: rounded to the nearest, half away from
 * zero (as llround), 0 for anything not above 0, UINT64_MAX beyond range.
 * Needs no libm. */
static inline uint64_t memscope_weighted_count(double weighted)
{
	if (!(weighted > 0.0))
		return 0;
	if (weighted >= 18446744073709551616.0)
		return UINT64_MAX;
	uint64_t whole = (uint64_t)weighted;
	return weighted - (double)whole >= 0.5 ? whole + 1 : whole;
}

/* The task that made an event, and the block's owner: 0 from a host
 * before ABI 1.2. */
static inline uint64_t memscope_event_task(const memscope_event *event)
{
	return event->version >= 3 ? event->task : 0;
}

static inline uint64_t memscope_event_owner_task(const memscope_event *event)
{
	return event->version >= 3 ? event->owner_task : 0;
}

/* The summary's task count: 0 from a host before ABI 1.2. */
static inline uint32_t memscope_summary_tasks(const memscope_summary *summary)
{
	return summary->version >= 3 ? summary->tasks : 0;
}

/* One task (since ABI 1.2): a coroutine, a request or a thread's own work,
 * with what its blocks did.  A block belongs to the task that allocated it;
 * its free counts against that task whichever task made it (a cross-task
 * free: freed_by_others here, freed_of_others on the freeing task).  Counts
 * are weighted as the blocks are: exact from the async backend, which
 * records every event; in part estimates from the hybrid backend, which
 * samples the small blocks (memscope_task_accuracy says which). */
#define MEMSCOPE_TASK_VERSION 2

typedef struct memscope_task {
	uint32_t version;
	uint32_t id;                   /* from 1: what memscope_block.task holds */
	uint32_t parent;               /* the task current where it began; 0: none */
	uint32_t began_on;             /* thread index where it began */
	const char *origin;            /* "thread" (a thread's root task), "annotation"
	                                  (memscope/task.h) or "ucontext" (a coroutine) */
	const char *name;              /* what reports call it: the name the program gave, the
	                                  thread's name (a root task), the coroutine function's
	                                  (ucontext), or "task ID" */
	uint64_t key;                  /* the program's id (annotation), the context's
	                                  address (ucontext), the thread's tid (thread) */
	uint64_t begin_ns;
	uint64_t end_ns;               /* when it ended; the capture's end if it did not */
	bool ended;
	uint32_t children;             /* tasks whose parent it is */
	const uint32_t *threads;       /* [thread_count]: thread indices it ran on */
	size_t thread_count;
	uint64_t allocations;          /* blocks it allocated */
	uint64_t allocated_bytes;
	uint64_t frees;                /* of its blocks, given back by any task */
	uint64_t freed_bytes;
	uint64_t freed_by_others;      /* of those, by another task */
	uint64_t freed_by_others_bytes;
	uint64_t freed_of_others;      /* blocks of other tasks it gave back */
	uint64_t freed_of_others_bytes;
	uint64_t live_blocks;          /* its blocks live at the capture's end: its leaks */
	uint64_t live_bytes;
	uint64_t peak_bytes;           /* most of its bytes live at once */
	uint64_t peak_time_ns;
	uint64_t end_live_blocks;      /* its blocks live when it ended (0 if it did not) */
	uint64_t end_live_bytes;
	/* Since version 2: read it with memscope_task_accuracy(). */
	uint32_t accuracy;             /* memscope_accuracy of its figures, from every block
	                                  behind them: those it allocated (and resized), and
	                                  those of other tasks it freed */
} memscope_task;

/* How exact a task's figures are; from a host before ABI 1.4, what the
 * summary's sampling says. */
static inline memscope_accuracy memscope_task_accuracy(const memscope_task *task,
                                                       const memscope_summary *summary)
{
	if (task->version >= 2 && task->accuracy >= MEMSCOPE_ACCURACY_EXACT &&
	    task->accuracy <= MEMSCOPE_ACCURACY_MIXED)
		return (memscope_accuracy)task->accuracy;
	return memscope_summary_estimated(summary) ? MEMSCOPE_ACCURACY_ESTIMATED
	                                           : MEMSCOPE_ACCURACY_EXACT;
}

/* One timeline sample (every 10 ms by default). */
#define MEMSCOPE_SAMPLE_VERSION 1

typedef struct memscope_sample {
	uint32_t version;
	uint64_t time_ns;
	uint64_t heap_live_bytes;      /* requested bytes live */
	uint64_t heap_live_blocks;
	uint64_t rss_bytes;
	uint64_t jemalloc_allocated;
	uint64_t jemalloc_active;
	uint64_t jemalloc_resident;
	uint64_t jemalloc_mapped;
	uint64_t jemalloc_retained;
	uint64_t cpu_user_ns;
	uint64_t cpu_system_ns;
	uint32_t threads;
} memscope_sample;

/* One source-level frame of a stack, innermost first. */
#define MEMSCOPE_FRAME_VERSION 1

typedef struct memscope_frame {
	uint32_t version;
	const char *function;          /* NULL if unknown */
	const char *file;              /* NULL if no line information */
	uint32_t line;
	bool inlined;                  /* inlined into the next frame */
	const char *module;            /* the ELF object, NULL if none */
	uint64_t module_offset;
} memscope_frame;

/* ---- results --------------------------------------------------------------- */

typedef enum memscope_column_type {
	MEMSCOPE_COLUMN_TEXT = 1,      /* value.text */
	MEMSCOPE_COLUMN_COUNT,         /* value.count: a number of things */
	MEMSCOPE_COLUMN_BYTES,         /* value.count: a number of bytes */
	MEMSCOPE_COLUMN_TIME,          /* value.count: ns since the capture started */
	MEMSCOPE_COLUMN_RATIO,         /* value.real: 0.25 is 25% */
	MEMSCOPE_COLUMN_STACK,         /* value.stack: a stack id, shown symbolized */
} memscope_column_type;

typedef struct memscope_column {
	const char *name;              /* identifier: lower_case, for JSON keys */
	const char *title;             /* for people */
	memscope_column_type type;
} memscope_column;

typedef union memscope_value {
	const char *text;
	uint64_t count;
	double real;
	uint32_t stack;
} memscope_value;

typedef enum memscope_severity {
	MEMSCOPE_SEVERITY_INFO = 1,
	MEMSCOPE_SEVERITY_WARNING,
	MEMSCOPE_SEVERITY_PROBLEM,
} memscope_severity;

/* ---- the host's API -------------------------------------------------------- */

#define MEMSCOPE_HOST_VERSION 2

typedef int (*memscope_block_visitor)(void *context, const memscope_block *block);
typedef int (*memscope_task_visitor)(void *context, const memscope_task *task);
typedef int (*memscope_sample_visitor)(void *context, const memscope_sample *sample);
typedef int (*memscope_event_visitor)(void *context, const memscope_event *event);

typedef struct memscope_host {
	uint32_t version;              /* MEMSCOPE_HOST_VERSION of the host */

	/* The capture's totals. */
	const memscope_summary *(*summary)(memscope_capture *capture);

	/* Every block, in order of its end (free, or the capture's end for
	 * blocks still live).  visit returning non-zero stops the walk and is
	 * returned.  Returns 0, that value, or a negative errno. */
	int (*for_each_block)(memscope_capture *capture, memscope_block_visitor visit, void *context);

	/* Every timeline sample, in time order. */
	int (*for_each_sample)(memscope_capture *capture, memscope_sample_visitor visit,
	                       void *context);

	/* The symbolized frames of a stack, innermost first; *frames stays
	 * valid as long as the capture.  Returns 0 or a negative errno. */
	int (*stack_frames)(memscope_capture *capture, uint32_t stack, const memscope_frame **frames,
	                    size_t *count);

	/* "main", "worker-1", ...; "?" if unknown. */
	const char *(*thread_name)(memscope_capture *capture, uint32_t thread);

	/* "malloc", "calloc", ...; "?" if unknown. */
	const char *(*kind_name)(uint32_t kind);

	/* An option given to this plugin on the command line (--option
	 * key=value), or NULL. */
	const char *(*option)(memscope_capture *capture, const char *key);

	/* Starts a table of results: columns are copied.  Returns NULL when out
	 * of memory. */
	memscope_table *(*table_begin)(memscope_results *results, const char *name,
	                               const char *title, const memscope_column *columns,
	                               size_t column_count);

	/* Adds a row: one value per column (texts are copied).  Returns 0 or
	 * -ENOMEM. */
	int (*table_row)(memscope_table *table, const memscope_value *values);

	/* Reports a finding: a sentence a person can act on.  Returns 0 or
	 * -ENOMEM. */
	int (*finding)(memscope_results *results, memscope_severity severity, const char *text);

	/* Reading results (exporters): how many tables, and table i. */
	size_t (*table_count)(const memscope_results *results);
	const memscope_table *(*table_at)(const memscope_results *results, size_t index);
	/* A table's name, title, columns and rows. */
	const char *(*table_name)(const memscope_table *table);
	const char *(*table_title)(const memscope_table *table);
	const memscope_column *(*table_columns)(const memscope_table *table, size_t *count);
	size_t (*table_row_count)(const memscope_table *table);
	const memscope_value *(*table_row_at)(const memscope_table *table, size_t row);
	/* Findings: count, then each one's severity and text. */
	size_t (*finding_count)(const memscope_results *results);
	const char *(*finding_at)(const memscope_results *results, size_t index,
	                          memscope_severity *severity);
	/* Which analyzer made the results. */
	const char *(*results_analyzer)(const memscope_results *results);

	/* Every heap event in the order the program made them (frees of
	 * blocks allocated before tracking are left out).  visit returning
	 * non-zero stops the walk and is returned. */
	int (*for_each_event)(memscope_capture *capture, memscope_event_visitor visit, void *context);

	/* Since version 2: call them through memscope_host_for_each_task()
	 * and memscope_host_task(). */
	/* Every task, in the order they finish (ended, none of its blocks
	 * live), then the rest (running, or owning blocks live at the end) in
	 * order of id.  Streamed: the task is valid during the call only. */
	int (*for_each_task)(memscope_capture *capture, memscope_task_visitor visit, void *context);
	/* The task of this id, or NULL; valid as long as the capture.  The
	 * first call copies every task (memory per task). */
	const memscope_task *(*task)(memscope_capture *capture, uint64_t id);
} memscope_host;

/* Walks the tasks; -ENOTSUP from a host before ABI 1.2. */
static inline int memscope_host_for_each_task(const memscope_host *host,
                                              memscope_capture *capture,
                                              memscope_task_visitor visit, void *context)
{
	if (host->version < 2 || host->for_each_task == NULL)
		return -ENOTSUP;
	return host->for_each_task(capture, visit, context);
}

/* The task of id, or NULL (none, or a host before ABI 1.2). */
static inline const memscope_task *memscope_host_task(const memscope_host *host,
                                                      memscope_capture *capture, uint64_t id)
{
	if (host->version < 2 || host->task == NULL || id == 0)
		return NULL;
	return host->task(capture, id);
}

/* ---- what a plugin provides ------------------------------------------------ */

#define MEMSCOPE_ANALYZER_VERSION 1

typedef struct memscope_analyzer {
	uint32_t version;              /* MEMSCOPE_ANALYZER_VERSION */
	const char *name;              /* unique among analyzers: --analyzer NAME */
	const char *description;       /* one line */
	/* Reads the capture and reports into results.  Returns 0 or a negative
	 * errno (what was reported before it is kept). */
	int (*run)(const memscope_host *host, memscope_capture *capture, memscope_results *results);
} memscope_analyzer;

#define MEMSCOPE_EXPORTER_VERSION 1

typedef struct memscope_exporter {
	uint32_t version;              /* MEMSCOPE_EXPORTER_VERSION */
	const char *name;              /* unique among exporters: --format NAME */
	const char *extension;         /* of the files it writes: "json" */
	const char *description;
	/* Writes the capture and the analyzers' results (count of them) to
	 * out.  Returns 0 or a negative errno. */
	int (*write)(const memscope_host *host, memscope_capture *capture,
	             const memscope_results *const *results, size_t count, FILE *out);
} memscope_exporter;

#define MEMSCOPE_PLUGIN_INFO_VERSION 1

typedef struct memscope_plugin_info {
	uint32_t version;              /* MEMSCOPE_PLUGIN_INFO_VERSION */
	uint32_t abi_major;            /* MEMSCOPE_PLUGIN_ABI_MAJOR it was built with */
	uint32_t abi_minor;
	const char *name;
	const char *plugin_version;
	const memscope_analyzer *const *analyzers; /* NULL-terminated, or NULL */
	const memscope_exporter *const *exporters; /* NULL-terminated, or NULL */
} memscope_plugin_info;

typedef const memscope_plugin_info *(*memscope_plugin_entry_fn)(const memscope_host *host);

#if defined(__GNUC__)
#define MEMSCOPE_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define MEMSCOPE_PLUGIN_EXPORT
#endif

/* Defines the entry symbol of a plugin named plugin_name: analyzer_list
 * and exporter_list are NULL-terminated arrays of pointers (or NULL). */
#define MEMSCOPE_PLUGIN_DESCRIBE(plugin_name, version_text, analyzer_list, exporter_list)       \
	MEMSCOPE_PLUGIN_EXPORT const memscope_plugin_info *MEMSCOPE_PLUGIN_ENTRY(                   \
	    const memscope_host *host);                                                             \
	MEMSCOPE_PLUGIN_EXPORT const memscope_plugin_info *MEMSCOPE_PLUGIN_ENTRY(                   \
	    const memscope_host *host)                                                              \
	{                                                                                           \
		static const memscope_plugin_info info = {                                          \
			.version = MEMSCOPE_PLUGIN_INFO_VERSION,                                     \
			.abi_major = MEMSCOPE_PLUGIN_ABI_MAJOR,                                      \
			.abi_minor = MEMSCOPE_PLUGIN_ABI_MINOR,                                      \
			.name = (plugin_name),                                                       \
			.plugin_version = (version_text),                                            \
			.analyzers = (analyzer_list),                                                \
			.exporters = (exporter_list),                                                \
		};                                                                                  \
		(void)host;                                                                         \
		return &info;                                                                       \
	}

#ifdef __cplusplus
}
#endif

#endif
