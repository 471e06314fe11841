/* timeline.h - one sample of the process's memory and CPU: RSS, jemalloc's
 * allocated/active/resident/mapped/retained (without memscope's own arena,
 * own_arena.h), CPU time, threads, I/O.  The
 * heap fields are left for the event store, which knows the live set.
 * Called from the tracker's writer thread every interval. */
#ifndef MEMSCOPE_TIMELINE_H
#define MEMSCOPE_TIMELINE_H

#include <stdbool.h>

#include "capture.h"

/* Fills *sample (time_ns and heap fields untouched); fields that cannot be
 * read stay 0, and so do jemalloc's unless jemalloc_heap says the program
 * allocates from jemalloc. */
void timeline_sample(struct capture_sample *sample, bool jemalloc_heap);

#endif
