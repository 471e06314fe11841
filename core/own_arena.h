/* own_arena.h - a jemalloc arena of memscope's own, so that the timeline's
 * jemalloc figures are the program's: the writer thread (and the tracker's
 * set-up) allocate from it, and its statistics are taken off jemalloc's
 * totals in every sample. */
#ifndef MEMSCOPE_OWN_ARENA_H
#define MEMSCOPE_OWN_ARENA_H

#include <stdint.h>

#define OWN_ARENA_NONE UINT32_MAX

/* Binds the calling thread to memscope's arena (created on first use) and
 * returns the arena it was bound to, for own_arena_leave; OWN_ARENA_NONE
 * when jemalloc cannot make one (nothing changes then). */
uint32_t own_arena_enter(void);

/* Binds the calling thread back to arena (OWN_ARENA_NONE: no-op). */
void own_arena_leave(uint32_t arena);

/* What memscope's arena holds, in bytes; zeros if there is none.  Read
 * after jemalloc's epoch was refreshed. */
struct own_arena_stats {
	uint64_t allocated;
	uint64_t active;
	uint64_t resident;
	uint64_t mapped;
	uint64_t retained;
};

void own_arena_stats(struct own_arena_stats *out);

#endif
