/* sampler.h - which allocations a sampling backend records.
 *
 * Every thread runs its own Poisson process over the bytes it allocates: a
 * countdown of bytes to the next sample point, drawn from an exponential
 * distribution whose mean is the sampling interval.  An allocation that
 * reaches the point is picked, and a new countdown is drawn: points are
 * memoryless, so where the next one falls does not depend on where in the
 * allocation the last one did.  An allocation that counts for s bytes (its
 * size plus one, sampler_counted_bytes) is thus picked with probability
 * 1 - exp(-s / interval) (core/sampling.h weighs it back).
 *
 * The thread's countdown lives in its memscope_thread (guard.h).  The test
 * on the hot path touches only the thread's own countdown and one
 * read-mostly line: no lock, no syscall, no allocation, no shared write.
 * Drawing a countdown (once per picked allocation) costs a log().
 *
 * The hybrid backend also names a size from which every allocation is
 * picked (exact_above): those do not count against the countdown, so the
 * small blocks' sampling is the same as with no threshold, and their
 * weights stay those of the interval.  The countdown the hot path compares
 * is kept at or under the threshold (the rest held back, guard.h), so the
 * same one compare sends those blocks to the slow path.
 *
 * One sampler per process: the sampling backend starts it when it opens and
 * stops it when it closes.  While it runs, the capture sources hand the
 * backend only the allocations sampler_pick() picks (see backend.h).
 */
#ifndef MEMSCOPE_SAMPLER_H
#define MEMSCOPE_SAMPLER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guard.h"

/* Read on every allocation, written when a sampler starts or stops. */
struct sampler_shared {
	_Alignas(64) atomic_bool running;
	_Atomic uint32_t epoch;     /* bumped at every start: old countdowns are void */
	_Atomic uint64_t interval;  /* mean bytes between points; <= 1: every allocation.
	                               Changed while running (sampler_set_interval): a
	                               countdown keeps the interval it was drawn at */
	uint64_t seed;
	uint64_t exact_above;       /* picked whatever the countdown; UINT64_MAX: none */
	_Atomic uint64_t threads;   /* threads seeded in this epoch */
};

extern MEMSCOPE_HIDDEN struct sampler_shared sampler_shared;

/* Starts sampling with this mean interval in bytes (<= 1: every allocation)
 * and seed (0: one drawn from the clock and the process id); allocations of
 * exact_above bytes or more are all picked (UINT64_MAX: none are). */
void sampler_start(uint64_t interval, uint64_t seed, uint64_t exact_above);

/* Stops sampling. */
void sampler_stop(void);

/* Moves the interval while running: each thread's next countdown is drawn
 * at it; the one under way ends at the interval it was drawn at, so every
 * pick has one interval, the one sampler_picked_interval() names. */
void sampler_set_interval(uint64_t interval);

/* The interval the calling thread's last pick was drawn at: what a sampled
 * block it picked stands for (sampling.h). */
static inline uint64_t sampler_picked_interval(void)
{
	return memscope_thread.picked_interval;
}

/* Makes the calling thread's next allocation a pick, whatever its size,
 * that stands for itself alone: sampler_picked_interval() then says 1, so
 * it is weighed 1 (memscope_tracker_tag_next: a named block is recorded
 * exactly).  It leaves the countdown as it was, as a block above the
 * threshold does.  Nothing while no sampler runs. */
void sampler_pick_next(void);

/* The seed in use (the one drawn, when 0 was asked for). */
uint64_t sampler_seed(void);

/* No countdown is drawn longer (malloc's fast path, capture_interpose.h,
 * takes a longer one for one wrapped around). */
#define SAMPLER_MAX_COUNTDOWN (UINT64_C(1) << 62)

/* The bytes an allocation of size bytes counts for in the countdown:
 * size + 1, so that a block of 0 bytes can be picked too, and malloc's fast
 * path adds it in one instruction (capture_interpose.h).  Modulo 2^64, as
 * that instruction counts: a request for SIZE_MAX bytes, which no
 * allocator meets, counts 0.  Readers weigh a pick by the same rule
 * (SAMPLING_COUNT_PLUS_ONE, core/sampling.h). */
static inline uint64_t sampler_counted_bytes(size_t size)
{
	return (uint64_t)size + 1;
}

bool sampler_pick_slow(struct memscope_thread *thread, uint64_t size);

static inline bool sampler_running(void)
{
	return atomic_load_explicit(&sampler_shared.running, memory_order_relaxed);
}

/* Whether an allocation of size bytes is picked.  Counts it against the
 * calling thread's countdown either way, unless it is at or above
 * exact_above. */
static inline bool sampler_pick(size_t size)
{
	struct memscope_thread *thread = &memscope_thread;
	uint64_t bytes = sampler_counted_bytes(size);
	if (__builtin_expect(
		    bytes < thread->countdown &&
		    thread->epoch == atomic_load_explicit(&sampler_shared.epoch, memory_order_relaxed),
		    1)) {
		thread->countdown -= bytes;
		return false;
	}
	return sampler_pick_slow(thread, size);
}

#endif
