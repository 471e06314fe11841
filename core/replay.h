/* replay.h - replays a capture in one streaming pass and keeps what the
 * reports need: the blocks live at the end (with their tags), the stack
 * table, per-stack and per-thread aggregates, totals with the peak, the
 * modules, the INFO key/values, and whether the capture ended cleanly.
 *
 * Memory grows with the live set and the number of distinct stacks, never
 * with the number of events.  The peak is over requested bytes; the stacks
 * that held the memory at the peak come from a second pass (a rewind) that
 * stops at the peak event.  Odd streams are counted, not trusted: a FREE of
 * an unknown address, an ALLOC of an address still live, an event naming a
 * stack that does not exist.  A capture cut short replays up to the cut and
 * says so.  Errors are negative errno values.
 *
 * A sampled capture (SAMPLING records, sampling.h) is replayed as an
 * estimate: each block counts as its weight, the number of blocks of its
 * size it stands for (1 when every allocation is recorded), so the counts
 * and bytes of blocks, per stack and per thread, the live set and the peak
 * are estimates of the program's true figures.  They are summed as reals
 * (struct replay_weighted) and the integer fields are those sums rounded;
 * without sampling every weight is 1 and both are the exact counts.
 * Counts of records (events, untracked frees, tags, ...) stay true counts.
 */
#ifndef MEMSCOPE_REPLAY_H
#define MEMSCOPE_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "sampling.h"
#include "task_ledger.h"

struct stack_trie;
struct block_table;

/* Sums over blocks, each counted as its weight.  Kept as reals so that no
 * rounding accumulates; the integer fields beside them are these, rounded
 * (sampling.h's sample_count).  Per stack, frees and live_usable_bytes are not kept;
 * per thread, only allocations and allocated_bytes. */
struct replay_weighted {
	double allocations;
	double allocated_bytes;
	double frees;
	double expands;
	double live_blocks;
	double live_bytes;
	double live_usable_bytes;
	double peak_blocks;
	double peak_bytes;
};

/* What a TAG record said about a block.  It stays with the block: a realloc
 * that moves the block carries it to the new address. */
struct replay_tag {
	char *name;
	char *type_name;           /* "" when not given */
	char *file;
	uint32_t line;
	uint64_t time_ns;
};

/* A block live at the end of the capture. */
struct replay_block {
	uint64_t address;
	uint64_t size;             /* requested bytes (the new size after an EXPAND) */
	uint64_t usable;
	uint64_t time_ns;          /* when it was allocated, or last resized in place */
	uint32_t stack;            /* the stack of that allocation or resize */
	uint32_t thread;
	uint32_t kind;             /* enum capture_alloc_kind */
	struct replay_tag *tag;    /* NULL if never tagged */
	double weight;             /* blocks it stands for: 1 unless sampled (sampling.h) */
	uint32_t task;             /* the task that allocated it (task_ledger.h); 0: none */
	uint64_t event;            /* its allocation's ordinal among the events (from 1, as
	                              peak_event counts them); 0 where not counted */
};

/* One stack of the stack table; index = stack id, 0 = the empty stack.
 * Every figure is weighted: an estimate when sampled. */
struct replay_stack {
	uint64_t allocations;      /* blocks allocated with this stack (ALLOC records) */
	uint64_t allocated_bytes;  /* their requested bytes */
	uint64_t expands;          /* blocks resized in place to this stack (EXPAND records) */
	uint64_t live_blocks;      /* live at the end (leaks, when the run ended cleanly) */
	uint64_t live_bytes;
	uint64_t peak_blocks;      /* live at the peak */
	uint64_t peak_bytes;
	struct replay_weighted weighted; /* the same, unrounded: sum these, then round */
	/* Which of its blocks were samples (weight above 1) and which were
	 * recorded for sure (weight 1: the hybrid backend's blocks from its
	 * threshold on, every block at interval 1): what makes its figures
	 * exact, estimated or mixed (sampling.h). */
	struct sample_tally records; /* ALLOC records (with their bytes) and EXPAND records */
	struct sample_tally peak;    /* blocks live at the peak */
};

/* The same for the totals (exact_bytes kept where a figure counts bytes:
 * allocations, peak and live; 0 for expands and frees). */
struct replay_tallies {
	struct sample_tally allocations; /* ALLOC records, with their bytes */
	struct sample_tally expands;     /* EXPAND records of a live block */
	struct sample_tally frees;       /* FREE records of a live block, at its weight */
	struct sample_tally peak;        /* blocks live at the peak, with their bytes */
	struct sample_tally live;        /* blocks live at the end, with their bytes */
};

struct replay_thread {
	bool known;                /* a THREAD record named it */
	uint32_t tid;
	char *name;
	uint64_t allocations;      /* weighted, as the stacks' */
	uint64_t allocated_bytes;
	struct replay_weighted weighted;
};

struct replay_info {
	char *key;
	char *value;
};

/* Blocks and bytes are weighted (estimates when sampled, see the top);
 * events, records and the problems found are true counts of records. */
struct replay_totals {
	uint64_t events;           /* ALLOC, FREE and EXPAND records (a true count) */
	uint64_t allocations;      /* blocks allocated (ALLOC records) */
	uint64_t frees;            /* blocks freed (FREE records that matched a live block) */
	uint64_t expands;          /* blocks resized in place (EXPAND records that matched) */
	uint64_t allocated_bytes;  /* requested bytes of every ALLOC */
	uint64_t frees_untracked;  /* FREE of an address not live */
	uint64_t expands_untracked;/* EXPAND of an address not live */
	uint64_t allocs_over_live; /* ALLOC of an address still live: the old block is dropped */
	uint64_t tags;             /* TAG records that named a live block */
	uint64_t tags_untracked;   /* TAG of an address not live */
	uint64_t unknown_stacks;   /* events naming a stack id never defined (counted as stack 0) */
	uint64_t bad_stack_nodes;  /* STACK_NODE records out of order or invalid */
	uint64_t samples;          /* timeline samples */
	uint64_t peak_bytes;       /* most requested bytes live at once */
	uint64_t peak_blocks;      /* blocks live at that moment */
	uint64_t peak_time_ns;
	uint64_t peak_event;       /* ordinal (from 1) of the event that reached the peak; 0: none */
	uint64_t live_blocks;      /* at the end */
	uint64_t live_bytes;
	uint64_t live_usable_bytes;
	uint64_t end_time_ns;      /* the trailer's time, else the last time seen */
	uint64_t alloc_records;    /* ALLOC records: = allocations unless sampled */
	uint64_t free_records;     /* FREE records that matched a live block */
	struct replay_weighted weighted; /* the weighted figures above, unrounded */
	struct replay_tallies tallies;
};

struct replay {
	struct replay_totals totals;

	struct replay_stack *stacks;   /* [stack_count], index = stack id */
	uint32_t stack_count;          /* including the empty stack 0 */
	struct stack_trie *trie;       /* parents and ips: use replay_stack_ips() */

	struct replay_thread *threads; /* [thread_count], index = capture_thread.index */
	uint32_t thread_count;         /* highest known index + 1 */
	uint32_t threads_named;        /* THREAD records */

	struct capture_module *modules;/* every MODULE record in order, paths owned */
	size_t module_count;

	struct replay_info *infos;     /* INFO records in order */
	size_t info_count;

	bool has_trailer;
	struct capture_trailer trailer;

	bool truncated;                /* the file is cut short or corrupt past some point */
	char *truncation;              /* the reader's explanation, or NULL */

	uint32_t format_major;
	uint32_t format_minor;

	/* Sampling: SAMPLING records set the interval in force (0 before any). */
	bool sampled;                  /* an interval above 1 was in force: figures are estimates */
	uint64_t sample_interval;      /* the interval in force at the end (the last SAMPLING
	                                  record's); 0: none, every allocation recorded */
	uint64_t exact_above;          /* hybrid: blocks of at least this many bytes are all
	                                  recorded (weight 1); 0: none */
	uint64_t interval_changes;     /* THREAD_SAMPLING records: a thread's interval moved */
	uint64_t sample_interval_min;  /* the smallest and largest intervals above 1 in force */
	uint64_t sample_interval_max;  /* (they differ when the backend changed its rate) */

	bool has_tracking;             /* a TRACKING record was read */
	struct capture_tracking tracking; /* the last one: the backend's counters at the end */

	struct block_table *live;         /* the blocks live at the end */

	/* Tasks (the async backend's captures): each is told to the sink given
	 * to replay_create_with_tasks() once finished, and not kept here. */
	uint32_t task_count;           /* tasks begun; 0 when the capture has none */
	uint32_t tasks_most_held;      /* the most running or owning live blocks at once */
	struct task_ledger_problems task_problems;
	struct task_ledger *task_ledger;
};

/* Replays the capture at path.  A capture cut short is not an error: it
 * replays what was read and sets truncated.  Returns 0, -ENOMEM, or what
 * capture_reader_open returns (-errno of open, -EPROTO not a capture,
 * -EPROTONOSUPPORT unknown major); then *message, if not NULL, explains
 * (a static string). */
int replay_create(const char *path, struct replay **out, const char **message);

/* Told now and then how far a replay has got: done of total bytes in a
 * stage ("reading", then "finding who held the peak"), and once more with
 * stage NULL when it is over. */
struct replay_progress {
	void (*report)(void *context, const char *stage, uint64_t done, uint64_t total);
	void *context;
};

/* replay_create(), reporting progress to progress (NULL: none). */
int replay_create_with_progress(const char *path, const struct replay_progress *progress,
                                struct replay **out, const char **message);

/* replay_create_with_progress(), telling tasks (NULL: nobody) of every
 * task with its figures once they are final (task_ledger.h): when it has
 * ended with none of its blocks live, or at the end, in id order, for the
 * rest.  The sink's first nonzero value fails the replay with it. */
int replay_create_with_tasks(const char *path, const struct replay_progress *progress,
                             const struct task_ledger_sink *tasks, struct replay **out,
                             const char **message);

/* NULL is a no-op. */
void replay_destroy(struct replay *replay);

/* Sets the integer fields of stack from its weighted sums: after stacks
 * were added together (report.c's groups). */
void replay_stack_settle(struct replay_stack *stack);

/* The value of the first INFO record with key, or NULL. */
const char *replay_info(const struct replay *replay, const char *key);

/* How the capture ended: with its trailer; else in an exec (INFO exec:
 * the process went on as another program), in a death memscope recorded
 * (INFO death), or nothing says. */
enum replay_ending {
	REPLAY_ENDED_CLEANLY,
	REPLAY_ENDED_BY_EXEC,
	REPLAY_ENDED_BY_DEATH,
	REPLAY_ENDED_UNSAID,
};
enum replay_ending replay_ending(const struct replay *replay);

/* The frames of stack, innermost first, into ips[max].  Returns the depth of
 * the stack (which may exceed max: only max are filled), 0 for the empty
 * stack, or -EINVAL for a stack id that does not exist. */
int replay_stack_ips(const struct replay *replay, uint32_t stack, uint64_t *ips, int max);

/* The live block at address, or NULL. */
const struct replay_block *replay_find_live(const struct replay *replay, uint64_t address);

/* Calls visit on every block live at the end, in no particular order, until
 * visit returns nonzero; returns that value, or 0. */
int replay_foreach_live(const struct replay *replay,
                        int (*visit)(const struct replay_block *block, void *context),
                        void *context);

/* One block from its allocation to its end, as replay_walk() tells it. */
struct replay_block_life {
	uint64_t address;
	uint64_t size;             /* requested bytes: the last size, if resized in place */
	uint64_t usable;
	uint32_t stack;            /* of the allocation, or of the last in-place resize */
	uint32_t thread;           /* the thread that allocated it */
	uint32_t kind;             /* how it was allocated: enum capture_alloc_kind */
	uint64_t allocated_ns;
	uint64_t freed_ns;         /* when freed; the capture's end if still live */
	bool freed;
	/* Ordinals among the capture's events (ALLOC, FREE and EXPAND records,
	 * from 1), as replay_totals.peak_event counts them: a block was live at
	 * the peak when allocated_event <= peak_event < freed_event. */
	uint64_t allocated_event;
	uint64_t freed_event;      /* 0 while live */
	const struct replay_tag *tag; /* NULL if never tagged; valid during the visit only */
	double weight;             /* blocks it stands for: 1 unless sampled; after a resize in
	                              place, from the new size */
	uint32_t task;             /* the task that allocated it; 0: none */
	uint32_t freed_by_task;    /* the task that gave it back; 0: none, or still live */
};

/* What replay_walk() tells, and to whom.  A NULL callback is not called;
 * with block NULL the walk keeps no table of blocks at all. */
/* One heap event with what the walk knows of its block: a FREE carries
 * the size, usable size and stack the block had. */
struct replay_event {
	enum capture_record_type type; /* ALLOC, FREE or EXPAND */
	uint64_t time_ns;
	uint32_t thread;
	uint32_t kind;
	uint64_t address;
	uint64_t size;
	uint64_t usable;
	uint32_t stack;
	double weight;             /* of the block, after this event (a resize may change it) */
	uint32_t task;             /* the task that made the event; 0: none */
	uint32_t owner_task;       /* the task the block belongs to (its allocator's) */
};

struct replay_walker {
	/* Each block when it is freed, then those still live at the end in
	 * order of allocation (then address).  An ALLOC over a live address
	 * ends the old block there: its FREE was lost. */
	int (*block)(void *context, const struct replay_block_life *block);
	/* Each ALLOC, FREE (of a block the capture holds) and EXPAND, in
	 * order. */
	int (*event)(void *context, const struct replay_event *event);
	/* Each SAMPLE record, in file order. */
	int (*sample)(void *context, const struct capture_sample *sample);
	/* Each task with its final figures, as replay_create_with_tasks()
	 * tells them: in the order they finish, then the rest in id order;
	 * valid during the call only. */
	int (*task)(void *context, const struct replay_task *task);
	void *context;
};

/* Streams the capture at path once, telling walker of every block's life
 * and every timeline sample, with the same table of live blocks the replay
 * keeps (memory grows with the live set, not the events).  Stack ids are
 * the capture's; an id no STACK_NODE defined before the event counts as 0.
 * A capture cut short is walked up to the cut.  Returns 0, the first
 * nonzero value a callback returned (the walk stops there), -ENOMEM, or
 * capture_reader_open's errors; then *message, if not NULL, explains (a
 * static string). */
int replay_walk(const char *path, const struct replay_walker *walker, const char **message);

#endif
