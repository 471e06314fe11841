/* timeline.h - one sample of the process's memory and CPU: RSS, jemalloc's
 * allocated/active/resident/mapped/retained (without memscope's own arena,
 * own_arena.h), CPU time, threads, I/O.  The heap fields are left for the
 * event store, which knows the live set.  Called by the writer's pass every
 * interval, on the writer thread or on a program thread (tracker.c).
 *
 * The /proc/self files it reads stay open between samples: opening one
 * costs as much as reading it twice.  A sample is then two reads (three
 * once the program has a second thread) and a getrusage.
 */
#ifndef MEMSCOPE_TIMELINE_H
#define MEMSCOPE_TIMELINE_H

#include <stdbool.h>
#include <sys/types.h>

#include "capture.h"

/* A /proc/self file held open, and which file it is: a program may close
 * every descriptor it did not open, and open others under the same
 * numbers. */
struct proc_file {
	int fd;		/* -1: not open */
	dev_t device;
	ino_t inode;
};

struct timeline {
	struct proc_file statm, stat, io;
};

/* Nothing opened yet: the files open at timeline_open or the first sample. */
void timeline_init(struct timeline *timeline);

/* Closes the files that are still the timeline's. */
void timeline_finish(struct timeline *timeline);

/* Opens the files now, before the program runs on: a number taken while
 * it runs could be one the program expects for its next file. */
void timeline_open(struct timeline *timeline);

/* The state letter of the process's main thread ('Z' once it has left
 * through pthread_exit while other threads run on), read through the
 * timeline's /proc/self/stat; 0 if unknown. */
char timeline_main_thread_state(struct timeline *timeline);

/* The state letter of thread tid of this process, from a read of its
 * stat file; 0 if unknown (gone). */
char timeline_task_state(long tid);

/* Fills *sample (time_ns and heap fields untouched); fields that cannot be
 * read stay 0, and so do jemalloc's unless jemalloc_heap says the program
 * allocates from jemalloc. */
void timeline_sample(struct timeline *timeline, struct capture_sample *sample, bool jemalloc_heap);

#endif
