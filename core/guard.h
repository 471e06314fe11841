/* guard.h - the thread-local state of memscope's capture path: the
 * reentrancy guard, and beside it the sampler's countdown (sampler.h), so
 * that the interposed malloc reaches both with one address and tests the
 * guard and the sampler's epoch with one compare (capture_interpose.h).
 *
 * While a thread's guard is raised, its allocations are not recorded: the
 * capture source raises it around every hook, and memscope's own threads
 * and API calls raise it so that memscope never records itself.
 */
#ifndef MEMSCOPE_GUARD_H
#define MEMSCOPE_GUARD_H

#include <stdbool.h>
#include <stdint.h>

/* For the capture path's globals, read by the exported malloc and free
 * (which inline their fast path): declared hidden, the compiler addresses
 * them directly instead of loading their address from the GOT first, one
 * instruction less on every call.  Every definition is hidden already
 * (-fvisibility=hidden); this says so where they are used. */
#define MEMSCOPE_HIDDEN __attribute__((visibility("hidden")))

struct memscope_thread {
	union {
		struct {
			uint32_t epoch;       /* the sampler epoch countdown was drawn in */
			uint32_t guard_depth; /* not 0: this thread is inside memscope */
		};
		uint64_t key;         /* both: epoch | guard_depth << 32 */
	};
	/* Bytes to the next sample point: countdown + countdown_held.  With a
	 * threshold (the hybrid backend) countdown is at most exact_above, the
	 * rest held back, so that the one compare the interposed malloc makes
	 * (bytes < countdown) sends every block from the threshold on to the
	 * slow path, which picks it (sampler.c). */
	uint64_t countdown;
	uint64_t countdown_held;
	uint64_t random;              /* the sampler's generator state */
	uint64_t drawn_interval;      /* the interval countdown was drawn at */
	uint64_t picked_interval;     /* the interval of the last pick's countdown */
	uint64_t told_interval;       /* the last one sent to the store; 0: the first */
	/* sampler_pick_next(): the sampler epoch in which the next allocation
	 * is to be picked for sure, weight 1 (0: none); the countdown
	 * (countdown + countdown_held) waits meanwhile. */
	uint32_t pick_next;
	uint64_t countdown_parked;
};

/* initial-exec: reaching this variable must never allocate (a dynamic TLS
 * access may call malloc on its first use in a thread). */
extern __thread struct memscope_thread memscope_thread __attribute__((tls_model("initial-exec")));

static inline bool guard_raised(void)
{
	return memscope_thread.guard_depth != 0;
}

static inline void guard_raise(void)
{
	memscope_thread.guard_depth++;
}

static inline void guard_lower(void)
{
	memscope_thread.guard_depth--;
}

#endif
