/* report.h - what a capture shows: totals, peak with its top stacks, leaks
 * grouped by stack, top allocation sites; built by replaying the capture and
 * symbolizing its stacks, and printed as text.
 *
 * report_build() gives a structure whose numbers are exact, for tests and
 * for exporters; report_write_text() prints it the way valgrind and
 * heaptrack users expect.  For a sampled capture the blocks and bytes are
 * the replay's estimates, rounded (replay.h), and the text says so once at
 * the top; the backend's tracking counters, when the capture has them, are
 * printed too, with a warning below MEMSCOPE_COMPLETENESS_WARNING.
 *
 * Every figure has an accuracy, from the weights of the blocks behind it:
 * exact (every one weighs 1, as in a capture of every event), estimated
 * (every one is a sample) or mixed (both: the hybrid backend records its
 * large blocks for sure and samples the small ones).  The text marks an
 * estimated figure "~", a mixed one "~" and "(mixed)", with the exact part
 * of the totals spelled out, and an exact one not at all.  Errors are
 * negative errno values.
 */
#ifndef MEMSCOPE_REPORT_H
#define MEMSCOPE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "replay.h"
#include "sampling.h"

#define REPORT_DEFAULT_TOP 10      /* leak groups, peak stacks and sites printed */
#define REPORT_DEFAULT_DEPTH 16    /* frames printed per stack */
#define REPORT_MAX_STACK_FRAMES 256 /* instruction addresses symbolized per stack */

struct symbolizer;

/* How exact a figure is: what the blocks behind it weigh (sampling.h's
 * sample_tally).  A figure of no blocks is exact. */
enum report_accuracy {
	REPORT_EXACT,              /* every one weighs 1: recorded for sure */
	REPORT_ESTIMATED,          /* every one is a sample, weighing more than 1 */
	REPORT_MIXED,              /* some of each: an estimate with an exact part */
};

struct report_options {
	uint32_t top;              /* peak stacks and sites kept, leak groups printed; 0: all */
	uint32_t depth;            /* frames printed per stack; 0: all */
	const struct replay_progress *progress; /* told how a long read goes; NULL: nobody */
	bool tasks_walked;         /* keep no task: the caller walks them (replay_walk) */
};

/* One source-level frame of a stack.  Strings belong to the report. */
struct report_frame {
	uint64_t ip;               /* the recorded return address */
	const char *function;      /* NULL if unknown */
	const char *file;          /* NULL if no line information */
	uint32_t line;
	bool inlined;              /* inlined into the next frame */
	const char *module;        /* NULL if no module covers ip */
	uint64_t module_offset;
};

struct report_stack {
	uint32_t id;               /* the capture's stack id; 0: no stack was recorded */
	struct report_frame *frames; /* innermost first */
	size_t frame_count;
};

/* Blocks of one stack live at the peak. */
struct report_peak_stack {
	struct report_stack stack;
	uint64_t blocks;
	uint64_t bytes;
	bool estimated;            /* accuracy is not REPORT_EXACT */
	enum report_accuracy accuracy;
	struct sample_tally tally; /* the blocks live at the peak, by weight */
};

/* Blocks still live at the end, allocated from one stack. */
struct report_leak {
	struct report_stack stack;
	uint64_t blocks;
	uint64_t bytes;            /* requested */
	uint64_t first_time_ns;    /* earliest allocation among them */
	uint64_t last_time_ns;
	const struct replay_tag **tags; /* the tagged ones' tags */
	size_t tag_count;
	bool estimated;            /* accuracy is not REPORT_EXACT */
	enum report_accuracy accuracy;
	struct sample_tally tally; /* the blocks, by weight */
};

/* A stack that allocated. */
struct report_site {
	struct report_stack stack;
	uint64_t calls;            /* allocations + in-place reallocations */
	uint64_t allocations;
	uint64_t expands;
	uint64_t bytes;            /* requested by its allocations */
	bool estimated;            /* accuracy is not REPORT_EXACT */
	enum report_accuracy accuracy;
	struct sample_tally tally; /* its ALLOC and EXPAND records, by weight */
};

/* A task the report keeps, and what every report and exporter calls it. */
struct report_task {
	struct replay_task task;   /* name and threads: the report's copies */
	char *label;               /* report_task_label() */
	enum report_accuracy accuracy; /* of its figures: task.tally's */
};

/* A task's blocks still live at the end, allocated from one stack group. */
struct report_task_leak {
	uint32_t task;
	uint32_t group;            /* a stack_group id: report_leak_of_group() has its stack */
	uint64_t blocks;           /* weighted, rounded: estimates unless exact */
	uint64_t bytes;
	bool estimated;            /* accuracy is not REPORT_EXACT */
	enum report_accuracy accuracy;
	struct sample_tally tally; /* the blocks, by weight */
	double weighted_blocks;
	double weighted_bytes;
};

struct report {
	char *path;
	const char *program;       /* INFO "program", or NULL */
	const char *backend;       /* INFO "backend", or NULL */
	uint32_t threads;          /* THREAD records */
	uint64_t duration_ns;
	bool ended_cleanly;        /* the capture has its trailer */
	bool truncated;            /* the file is cut short or corrupt past some point */

	struct replay_totals totals; /* totals.tallies: what makes each exact, estimated or
	                                mixed (report_accuracy_of) */

	struct report_peak_stack *peak_stacks; /* bytes descending; at most options.top */
	size_t peak_stack_count;

	struct report_leak *leaks; /* every group, bytes descending */
	size_t leak_count;

	struct report_site *sites_by_calls;    /* at most options.top each */
	size_t sites_by_calls_count;
	struct report_site *sites_by_bytes;
	size_t sites_by_bytes_count;

	char **warnings;           /* what makes the numbers less than the whole story */
	size_t warning_count;

	struct report_options options;
	/* Stacks that symbolize to the same frames are one group (a loop the
	 * compiler unrolled calls malloc from two addresses on one line):
	 * stack_group[id] is the stack id that stands for id's group, and
	 * group_stats[group] sums the group's numbers.  Leaks, peak stacks and
	 * sites above are per group. */
	uint32_t *stack_group;     /* [replay->stack_count] */
	struct replay_stack *group_stats; /* [replay->stack_count]; zero but for groups */
	struct replay *replay;     /* owned: everything else the capture said */
	struct symbolizer *symbolizer; /* owned: frame strings live here */

	/* Tasks, when the capture has them.  The report keeps only those it
	 * can print: the options.top with the most bytes allocated (every one
	 * with top 0) and each with blocks live at the end; the others are
	 * counted as they finish, so memory follows the tasks live at once,
	 * not those that ended (task_ledger.h). */
	struct report_task *tasks; /* allocated bytes descending, then id */
	size_t task_kept;
	uint64_t task_total;       /* tasks begun */
	uint64_t task_cross_blocks; /* freed by a task other than their owner */
	uint64_t task_cross_bytes;
	struct report_task_leak *task_leaks; /* by task id, then bytes descending */
	size_t task_leak_count;
};

/* Defaults: REPORT_DEFAULT_TOP and REPORT_DEFAULT_DEPTH. */
void report_options_init(struct report_options *options);

/* Replays and symbolizes the capture at path (options NULL: defaults).  A
 * capture cut short is not an error: the report covers what was read and
 * carries a warning.  Returns 0, -ENOMEM, or capture_reader_open's errors
 * (-errno of open, -EPROTO not a capture, -EPROTONOSUPPORT unknown major);
 * then *message, if not NULL, explains (a static string). */
int report_build(const char *path, const struct report_options *options,
                 struct report **out, const char **message);

/* NULL is a no-op. */
void report_destroy(struct report *report);

/* What task is called everywhere, into text (always terminated): its name;
 * a root task without one by its thread; a ucontext coroutine without one
 * by its function; an unnamed annotation by its id. */
void report_task_label(const struct report *report, const struct replay_task *task, char *text,
                       size_t size);

/* What tally makes a figure: exact with no sampled block behind it,
 * estimated with no exact one, mixed with both. */
enum report_accuracy report_accuracy_of(const struct sample_tally *tally);

/* The leak group of a stack group id (report->leaks), or NULL. */
const struct report_leak *report_leak_of_group(const struct report *report, uint32_t group);

/* Prints the report as text.  Returns 0 or -EIO. */
int report_write_text(const struct report *report, FILE *out);

/* Whether function (as the symbolizer names it, demangled or not) is an
 * allocator or a library wrapper that allocates for its caller: malloc & co.,
 * strdup, __libc_*, operator new, and the C++ standard library (std::,
 * __gnu_cxx::) whose allocations a program makes through templates. */
bool report_is_allocator_function(const char *function);

/* The frame of the "leaking function": the innermost frame that is the
 * program's code, skipping allocator frames (report_is_allocator_function)
 * and every frame inside libc, libstdc++ or jemalloc.  NULL if none. */
const struct report_frame *report_leaking_frame(const struct report_stack *stack);

/* Prints the few-line summary `memscope run` shows when the program ends
 * (allocations, bytes, peak, leaks, and any warning about the capture) on
 * out: from the trailer and the TRACKING record beside it when the capture
 * ended cleanly, else from a replay.  A sampled capture's summary says so
 * first and marks its estimates with "~"; the tracking counters follow the
 * totals, with a warning when too few events were recorded.  Returns 0, or
 * a negative errno when the capture cannot be read at all (the reason is
 * printed on out too). */
int report_print_summary(const char *path, const struct replay_progress *progress, FILE *out);

#endif
