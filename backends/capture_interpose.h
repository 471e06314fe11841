/* capture_interpose.h - the functions behind the interposed malloc & co.
 * (capture_interpose.c).  The preload library exports the standard names
 * and calls these; they forward to jemalloc and report to the backend when
 * the interpose capture source is enabled. */
#ifndef MEMSCOPE_CAPTURE_INTERPOSE_H
#define MEMSCOPE_CAPTURE_INTERPOSE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guard.h"
#include "sampled_heap.h"
#include "sampled_set.h"
#include "sampler.h"

/* "libc": the program runs on the C library's malloc, with memscope's in
 * front of it; otherwise (unset, "jemalloc") on jemalloc, which must then
 * be preloaded right after memscope's library.  Set by `memscope run`. */
#define MEMSCOPE_ENV_ALLOCATOR "MEMSCOPE_ALLOCATOR"

/* The allocator the program runs on (jemalloc's or the C library's
 * standard entry points), once found; NULL before. */
struct interpose_next {
	void *(*malloc)(size_t);
	void *(*calloc)(size_t, size_t);
	void (*free)(void *);
	void *(*realloc)(void *, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*memalign)(size_t, size_t);
	void *(*valloc)(size_t);
};

enum {
	INTERPOSE_EARLY_UNDECIDED,
	INTERPOSE_EARLY_KEEPING,  /* before the tracker starts, events are kept */
	INTERPOSE_EARLY_OVER,
};

extern MEMSCOPE_HIDDEN struct interpose_next interpose_next;
extern MEMSCOPE_HIDDEN atomic_bool interpose_enabled;
extern MEMSCOPE_HIDDEN int interpose_early_state;

/* Where malloc's fast path goes, a block its countdown covers: while the
 * source is enabled and a sampler runs, the allocator (interpose_next);
 * otherwise interpose_malloc_slow, which decides in full.  The countdown
 * alone then gates the fast path: a thread the sampler has not seeded yet
 * has none (0) and takes the slow path, which seeds it; a thread inside
 * memscope (its guard raised) is never picked, so whatever path it takes
 * records nothing.  Only the process's first sampler gets the fast path
 * (see enable() in capture_interpose.c).  This one pointer, read where the epoch
 * and the guard were compared before, took malloc's cost on a ring of
 * random frees from 5.3% to 2.7% (bench/interleaved.c). */
extern MEMSCOPE_HIDDEN _Atomic(void *(*)(size_t)) interpose_fast_malloc;

/* Where free's fast path goes, a block outside the heap of sampled blocks
 * (sampled_heap.h), where the interposed malloc puts every block it reports
 * while a sampler runs: the allocator (interpose_next.free) then, and
 * otherwise interpose_free_slow, which decides in full.  A block outside
 * the heap is one no sampler picked, reported by nobody, inside memscope
 * or not.  The heap's start is 0 before the heap is mapped, then its first
 * address for good.  Both are read relaxed, in either order: a thread
 * holds a block of the heap only through an allocation made after the
 * start was stored, so it reads the start stored (and while it reads 0, a
 * block it frees is not in the heap: any path is right for it); a thread
 * that reads the allocator here when the pointer has just gone back to
 * interpose_free_slow (the heap full, or the source disabled) frees a block
 * no sampler picked, as the allocator would.  A subtraction and a compare
 * of the address, no load of a filter or of the block: on a ring of random
 * frees, the run with a filter's cell read here took 1.16x the untracked
 * one, with this 1.12x (docs/overhead.md). */
extern MEMSCOPE_HIDDEN _Atomic(void (*)(void *)) interpose_fast_free;
extern MEMSCOPE_HIDDEN _Atomic uintptr_t interpose_heap_start;

bool interpose_keeping_early_slow(void);

static inline bool interpose_keeping_early(void)
{
	if (__builtin_expect(interpose_early_state == INTERPOSE_EARLY_OVER, 1))
		return false;
	return interpose_keeping_early_slow();
}

/* Whether an allocation of size bytes is reported: every one, or, while a
 * sampling backend runs, the ones the sampler picks (a call counts against
 * the thread's countdown: ask once per allocation).  Before the tracker
 * starts, every one is kept: the backend samples them when it gets them.
 * Inline, so that the exported malloc sends what is not reported straight
 * to the allocator, one call deep. */
static inline bool interpose_reporting_alloc(size_t size)
{
	if (guard_raised())
		return false;
	if (atomic_load_explicit(&interpose_enabled, memory_order_relaxed))
		return !sampler_running() || sampler_pick(size);
	return interpose_keeping_early();
}

/* Whether the free of block is reported: every one, or, while a sampling
 * backend runs, those of blocks it may have sampled.  No side effect. */
static inline bool interpose_reporting_free(const void *block)
{
	if (guard_raised())
		return false;
	if (atomic_load_explicit(&interpose_enabled, memory_order_relaxed))
		return !sampler_running() || sampled_set_may_contain((uintptr_t)block);
	return interpose_keeping_early();
}

/* malloc and free when the fast path does not apply: they decide in full
 * (interpose_reporting_alloc/free), report, or run before the allocator is
 * found. */
void *interpose_malloc_slow(size_t size);
void interpose_free_slow(void *block);

/* malloc and free are the calls that count.  While a sampler runs, nearly
 * every call is one that is not sampled: for malloc, the thread's countdown
 * taken down by the bytes the block counts for, for free a compare of its
 * address with the heap of sampled blocks, send it to the allocator, without
 * another call in between.
 *
 * On x86-64 both are written in assembly, because on a ring of random frees
 * every instruction here costs about half a point of the overhead, even
 * ones that wait for nothing: the misses of the allocator's own loads
 * dominate the time, and each instruction takes a place in the window of
 * instructions the processor holds while they are outstanding, so fewer of
 * the next misses overlap them.  GCC's version of the C below took ten
 * instructions for malloc and seven for free (1.13x on bench/interleaved.c);
 * these take five and five (1.08x; docs/overhead.md).  malloc subtracts
 * from the countdown in memory and tests the flags, where C loads, compares,
 * subtracts and stores; a block the countdown does not cover (the
 * subtraction borrows or reaches 0) has the bytes added back before the
 * slow path.  free folds the heap's start into its subtraction.
 *
 * A signal handler that allocates between the subtraction and the add back
 * finds the countdown wrapped around, far above any countdown drawn
 * (SAMPLER_MAX_COUNTDOWN): what it allocates then passes unsampled, and if
 * it took the countdown past 0, the add back leaves it wrapped.  The add
 * back sees that and takes the countdown as run out. */
static inline void *interpose_malloc(size_t size)
{
#if defined(__x86_64__) && defined(__GNUC__)
	/* No outputs: GCC 12 dropped the code at the labels of an asm goto
	 * with a memory output; the "memory" clobber says the countdown moved. */
	__asm__ goto("leaq 1(%1), %%rax\n\t"
	             "subq %%rax, %0\n\t"
	             "jbe %l[slow]"
	             : : "m"(memscope_thread.countdown), "r"(size)
	             : "rax", "cc", "memory" : slow);
	return atomic_load_explicit(&interpose_fast_malloc, memory_order_relaxed)(size);
slow:;
	uint64_t left = memscope_thread.countdown + sampler_counted_bytes(size);
	memscope_thread.countdown = left <= SAMPLER_MAX_COUNTDOWN ? left : 0;
	return interpose_malloc_slow(size);
#else
	struct memscope_thread *self = &memscope_thread;
	uint64_t bytes = sampler_counted_bytes(size);
	if (__builtin_expect(bytes < self->countdown, 1)) {
		self->countdown -= bytes;
		return atomic_load_explicit(&interpose_fast_malloc, memory_order_relaxed)(size);
	}
	return interpose_malloc_slow(size);
#endif
}

static inline void interpose_free(void *block)
{
#if defined(__x86_64__) && defined(__GNUC__)
	_Static_assert(SAMPLED_HEAP_SPAN == (uintptr_t)1 << 38, "the shift below");
	__asm__ goto("movq %0, %%rax\n\t"
	             "subq %1, %%rax\n\t"
	             "shrq $38, %%rax\n\t"
	             "je %l[slow]"
	             : : "r"(block), "m"(*(const uintptr_t *)&interpose_heap_start)
	             : "rax", "cc" : slow);
	atomic_load_explicit(&interpose_fast_free, memory_order_relaxed)(block);
	return;
slow:
	interpose_free_slow(block);
#else
	uintptr_t start = atomic_load_explicit(&interpose_heap_start, memory_order_relaxed);
	if (__builtin_expect((uintptr_t)block - start >= SAMPLED_HEAP_SPAN, 1)) {
		atomic_load_explicit(&interpose_fast_free, memory_order_relaxed)(block);
		return;
	}
	interpose_free_slow(block);
#endif
}

void *interpose_calloc(size_t count, size_t size);
void *interpose_realloc(void *block, size_t size);
void *interpose_reallocarray(void *block, size_t count, size_t size);
int interpose_posix_memalign(void **result, size_t alignment, size_t size);
void *interpose_aligned_alloc(size_t alignment, size_t size);
void *interpose_memalign(size_t alignment, size_t size);
void *interpose_valloc(size_t size);
void *interpose_pvalloc(size_t size);
size_t interpose_usable_size(void *block);

/* Called once by the preload library: the standard names now lead here,
 * so the interpose source can be installed. */
void interpose_entry_points_present(void);

struct heap_event;
typedef void (*early_event_fn)(void *context, const struct heap_event *event,
                               const uint64_t *ips, int depth);

/* Hands the events kept before the tracker started (when the environment
 * said this process would be traced) to deliver, in order, and stops
 * keeping them.  Returns how many could not be kept. */
uint64_t interpose_take_early(early_event_fn deliver, void *context);

/* Stops keeping early events and drops any not taken: the preload library
 * calls it once it has started a tracker, or decided not to. */
void interpose_early_finish(void);

/* Whether interpose_entry_points_present() was called in this copy of the
 * runtime. */
bool interpose_available(void);

/* Whether the program's blocks come from the C library's malloc (not
 * jemalloc's): jemalloc's statistics then say nothing about them. */
bool interpose_on_libc(void);

#endif
