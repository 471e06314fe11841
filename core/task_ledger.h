/* task_ledger.h - who each heap event of a capture belongs to, and what
 * every task did, from the capture's task records (TASK, TASK_END and
 * TASK_SWITCH, format minor 2, written by the async backend).
 *
 * A thread runs one task at a time: the one its last TASK_SWITCH named,
 * or its root task before any.  A block belongs to the task that allocated
 * it (its owner) for its whole life: whichever task frees it, the free is
 * the owner's, and is counted as a cross-task free on both sides.  A
 * resize in place changes the owner's live bytes and nothing else.
 *
 * A task is finished once it has ended, none of its blocks is live and no
 * thread runs it (a root task needs no switch away: its thread is gone).
 * Its figures cannot change after that, so the ledger tells its sink and
 * forgets it: memory is a record per task still running or still owning
 * a live block, and two words per thread, never a record per ended task
 * or per event.  task_ledger_finish() tells the rest.  Odd input is
 * counted, not trusted: a task id out of order, an end or a switch naming
 * a task that never began or is already finished.  Errors are negative
 * errno values.
 */
#ifndef MEMSCOPE_TASK_LEDGER_H
#define MEMSCOPE_TASK_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "sampling.h"

/* What a task's blocks did, as sums of their weights (core/sampling.h):
 * the counts themselves when every event is recorded (async), estimates
 * when the small blocks are sampled (hybrid). */
struct replay_task_weighted {
	double allocations, allocated_bytes, frees, freed_bytes;
	double freed_by_others, freed_by_others_bytes, freed_of_others, freed_of_others_bytes;
	double live_blocks, live_bytes, peak_bytes, end_live_blocks, end_live_bytes;
};

/* One task: what it is, and what its blocks did: the counts below are the
 * weighted sums rounded (exact when every event is recorded). */
struct replay_task {
	uint32_t id;               /* the capture's, dense from 1 */
	uint32_t parent;           /* 0: none */
	uint32_t origin;           /* enum capture_task_origin */
	uint32_t began_on;         /* thread index */
	uint64_t key;              /* the program's id, the context address, or the tid */
	char *name;                /* "" when none was given */
	uint64_t begin_ns;
	uint64_t end_ns;           /* when it ended; the capture's end while running */
	bool ended;                /* a TASK_END was read */
	uint32_t children;         /* tasks whose parent it is, begun before it finished */
	uint32_t *threads;         /* [thread_count]: the threads it ran on, first run first */
	uint32_t thread_count;

	uint64_t allocations;      /* blocks it allocated */
	uint64_t allocated_bytes;  /* their requested bytes */
	uint64_t frees;            /* of its blocks, given back (by any task) */
	uint64_t freed_bytes;
	uint64_t freed_by_others;  /* of those frees, made by another task */
	uint64_t freed_by_others_bytes;
	uint64_t freed_of_others;  /* blocks of other tasks this task gave back */
	uint64_t freed_of_others_bytes;
	uint64_t live_blocks;      /* its blocks live now: at the capture's end, its leaks */
	uint64_t live_bytes;
	uint64_t peak_bytes;       /* most of its bytes live at once */
	uint64_t peak_time_ns;
	uint64_t end_live_blocks;  /* its blocks live when it ended (0 while running) */
	uint64_t end_live_bytes;
	uint32_t running;          /* threads running it now (not kept for a root task) */
	uint64_t live_records;     /* its blocks in the capture live now, unweighted */
	struct replay_task_weighted weighted;
	/* The records behind its figures, by weight: the ALLOCs it made, the
	 * resizes of its blocks, and the frees of other tasks' blocks it made
	 * (its freed_of_others).  Its own frees are of blocks counted here. */
	struct sample_tally tally;
};

/* Told each task once, when it is finished, and at task_ledger_finish()
 * every task left, in id order.  task is valid during the call only.  A
 * nonzero return is kept (the first one) and returned by
 * task_ledger_status() and task_ledger_finish(); nothing more is told. */
struct task_ledger_sink {
	int (*finished)(void *context, const struct replay_task *task);
	void *context;
};

/* What the ledger found wrong in the task records (true counts). */
struct task_ledger_problems {
	uint64_t bad_tasks;        /* TASK records out of order, or repeating an id */
	uint64_t unknown_tasks;    /* TASK_END or TASK_SWITCH naming a task never begun,
	                              or one already finished */
};

struct task_ledger;

/* sink NULL: tasks are only followed (who runs what), nobody is told.
 * Returns 0 or -ENOMEM. */
int task_ledger_create(const struct task_ledger_sink *sink, struct task_ledger **out);

/* NULL is a no-op. */
void task_ledger_destroy(struct task_ledger *ledger);

/* Takes in a TASK, TASK_END or TASK_SWITCH record (any other record is
 * ignored).  Returns 0 or -ENOMEM. */
int task_ledger_record(struct task_ledger *ledger, const struct capture_record *record);

/* The task thread runs now; 0 when the capture has no tasks for it. */
uint32_t task_ledger_current(const struct task_ledger *ledger, uint32_t thread);

/* A block of size bytes allocated by task at time_ns, standing for weight
 * blocks (1 unless sampled). */
void task_ledger_alloc(struct task_ledger *ledger, uint32_t task, uint64_t size, double weight,
                       uint64_t time_ns);

/* A block of owner's, of size bytes and weight, given back by task by. */
void task_ledger_free(struct task_ledger *ledger, uint32_t owner, uint32_t by, uint64_t size,
                      double weight);

/* A block of owner's resized in place from old_size bytes (old_weight) to
 * size bytes (weight). */
void task_ledger_resize(struct task_ledger *ledger, uint32_t owner, uint64_t old_size,
                        double old_weight, uint64_t size, double weight, uint64_t time_ns);

/* At the capture's end: tells the sink of every task not finished yet, in
 * id order (those still running get end_ns as their end, ended stays
 * false; live_blocks are their leaks), and forgets them.  Returns 0, the
 * sink's first nonzero value, or -ENOMEM. */
int task_ledger_finish(struct task_ledger *ledger, uint64_t end_ns);

/* 0, or the first nonzero value the sink returned, or -ENOMEM: once it is
 * not 0, stop feeding the ledger. */
int task_ledger_status(const struct task_ledger *ledger);

/* Tasks begun: 0 when the capture has no tasks. */
uint32_t task_ledger_begun(const struct task_ledger *ledger);

/* Tasks held now: running, or owning a live block.  The most held at
 * once, in *most (NULL: not wanted). */
uint32_t task_ledger_held(const struct task_ledger *ledger, uint32_t *most);

void task_ledger_problems(const struct task_ledger *ledger, struct task_ledger_problems *out);

/* "thread", "annotation", "ucontext"; "?" for another value. */
const char *task_origin_name(uint32_t origin);

#endif
