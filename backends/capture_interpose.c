/* capture_interpose.c - the interposing capture source: malloc & co. are
 * memscope's own functions (exported by the preload library, see
 * cli/preload_malloc.c), which call jemalloc's non-standard API (mallocx,
 * dallocx, xallocx, sallocx) and report each call to the backend.
 *
 * It costs less than the hooks: jemalloc keeps its fast path (its hooks,
 * once installed, send every call down the slow one), and the requested
 * size and kind are known without decoding hook arguments.  It sees only
 * the standard entry points; a program that calls mallocx itself needs the
 * hooks source.
 *
 * Order is kept the way the hooks keep it: an allocation is recorded after
 * jemalloc returns the block, a free before jemalloc gets it back, so no
 * thread can be handed an address before its free is numbered.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jemalloc/jemalloc.h>

#include "backend.h"
#include "capture.h"
#include "capture_interpose.h"
#include "capture_source.h"
#include "guard.h"
#include "sampled_set.h"
#include "sampler.h"
#include "stack_capture.h"

static struct backend *sink;
static atomic_bool enabled;
static bool entry_points_present;

/* jemalloc's own standard entry points, used while nothing is recorded
 * here: with the hooks source, jemalloc then sees the program's real call
 * (malloc, not mallocx).  Until they are found, the x-API serves. */
static struct {
	void *(*malloc)(size_t);
	void *(*calloc)(size_t, size_t);
	void (*free)(void *);
	void *(*realloc)(void *, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*memalign)(size_t, size_t);
	void *(*valloc)(size_t);
} next;

/* ---- before the tracker starts ------------------------------------------
 *
 * Libraries' constructors run before the preload library's (dependencies
 * first), and some allocate: libstdc++'s exception pool, for one.  When the
 * environment says this process will be traced, such early events are kept
 * here, with their stacks, and handed to the tracker when it starts. */

#define EARLY_EVENTS 512
#define EARLY_FRAMES 32

struct early_event {
	struct heap_event event;
	int depth;
	uint64_t ips[EARLY_FRAMES];
};

enum early_state {
	EARLY_UNDECIDED,
	EARLY_KEEPING,
	EARLY_OVER,
};

static struct early_event early_events[EARLY_EVENTS];
static unsigned early_count;
static uint64_t early_lost;
static int early_state = EARLY_UNDECIDED;
static atomic_flag early_lock = ATOMIC_FLAG_INIT;

static bool will_be_traced(void)
{
	const char *output = getenv("MEMSCOPE_OUTPUT");
	const char *root = getenv("MEMSCOPE_ROOT_PID");
	const char *follow = getenv("MEMSCOPE_FOLLOW_FORK");
	if (output == NULL || root == NULL)
		return false;
	return strtol(root, NULL, 10) == (long)getpid() || (follow != NULL && strcmp(follow, "1") == 0);
}

static bool keeping_early(void)
{
	if (__builtin_expect(early_state == EARLY_OVER, 1))
		return false;
	if (early_state == EARLY_UNDECIDED)
		early_state = will_be_traced() ? EARLY_KEEPING : EARLY_OVER;
	return early_state == EARLY_KEEPING;
}

static void keep_early(const struct heap_event *event)
{
	while (atomic_flag_test_and_set_explicit(&early_lock, memory_order_acquire))
		;
	if (early_state == EARLY_KEEPING) {
		stack_capture_init();
		if (early_count < EARLY_EVENTS) {
			struct early_event *kept = &early_events[early_count++];
			kept->event = *event;
			kept->depth = event->type == HEAP_EVENT_FREE ? 0
			                                             : stack_capture(kept->ips, EARLY_FRAMES);
		} else {
			early_lost++;
		}
	}
	atomic_flag_clear_explicit(&early_lock, memory_order_release);
}

uint64_t interpose_take_early(early_event_fn deliver, void *context)
{
	while (atomic_flag_test_and_set_explicit(&early_lock, memory_order_acquire))
		;
	for (unsigned i = 0; i < early_count; i++)
		deliver(context, &early_events[i].event, early_events[i].ips, early_events[i].depth);
	uint64_t lost = early_lost;
	early_count = 0;
	early_state = EARLY_OVER;
	atomic_flag_clear_explicit(&early_lock, memory_order_release);
	return lost;
}

void interpose_early_finish(void)
{
	while (atomic_flag_test_and_set_explicit(&early_lock, memory_order_acquire))
		;
	early_count = 0;
	early_state = EARLY_OVER;
	atomic_flag_clear_explicit(&early_lock, memory_order_release);
}

/* ---- reporting ---------------------------------------------------------- */

static inline bool recording(void)
{
	if (guard_raised())
		return false;
	return atomic_load_explicit(&enabled, memory_order_relaxed) || keeping_early();
}

/* Whether an allocation of size bytes is reported: every one, or, while a
 * sampling backend runs, the ones the sampler picks.  Before the tracker
 * starts, every one is kept: the backend samples them when it gets them. */
static inline bool reporting_alloc(size_t size)
{
	if (guard_raised())
		return false;
	if (atomic_load_explicit(&enabled, memory_order_relaxed))
		return !sampler_running() || sampler_pick(size);
	return keeping_early();
}

/* Whether the free of block is reported: every one, or, while a sampling
 * backend runs, those of blocks it may have sampled. */
static inline bool reporting_free(const void *block)
{
	if (guard_raised())
		return false;
	if (atomic_load_explicit(&enabled, memory_order_relaxed))
		return !sampler_running() || sampled_set_may_contain((uintptr_t)block);
	return keeping_early();
}

static inline bool sampling(void)
{
	return atomic_load_explicit(&enabled, memory_order_relaxed) && sampler_running();
}

/* To the backend, or, before the tracker starts, to the early log. */
static void deliver(const struct heap_event *event)
{
	if (atomic_load_explicit(&enabled, memory_order_relaxed)) {
		if (event->type == HEAP_EVENT_ALLOC)
			sink->ops->on_alloc(sink, event);
		else if (event->type == HEAP_EVENT_FREE)
			sink->ops->on_free(sink, event);
		else
			sink->ops->on_expand(sink, event);
	} else {
		keep_early(event);
	}
}

/* Hands one event on, keeping errno: a successful malloc leaves it alone. */
static void report(const struct heap_event *event)
{
	int saved = errno;
	guard_raise();
	deliver(event);
	guard_lower();
	errno = saved;
}

static void report_alloc(void *address, size_t size, size_t usable, uint32_t kind)
{
	report(&(struct heap_event){.type = HEAP_EVENT_ALLOC, .kind = kind,
	                            .address = (uintptr_t)address, .size = size, .usable = usable});
}

static void report_free(void *address, uint32_t kind)
{
	report(&(struct heap_event){.type = HEAP_EVENT_FREE, .kind = kind,
	                            .address = (uintptr_t)address, .usable = sallocx(address, 0)});
}

static void report_expand(void *address, size_t size, size_t old_usable, size_t usable)
{
	report(&(struct heap_event){.type = HEAP_EVENT_EXPAND, .kind = CAPTURE_KIND_REALLOC,
	                            .address = (uintptr_t)address, .size = size, .usable = usable,
	                            .old_usable = old_usable});
}

/* mallocx wants a non-zero size; malloc(0) still returns a unique block. */
static inline size_t at_least_one(size_t size)
{
	return size != 0 ? size : 1;
}

static void *allocate(size_t size, int flags, uint32_t kind, bool reported)
{
	void *block = mallocx(at_least_one(size), flags);
	if (block == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (reported)
		report_alloc(block, size, nallocx(at_least_one(size), flags), kind);
	return block;
}

void *interpose_malloc(size_t size)
{
	bool reported = reporting_alloc(size);
	if (next.malloc != NULL && !reported)
		return next.malloc(size);
	return allocate(size, 0, CAPTURE_KIND_MALLOC, reported);
}

void *interpose_calloc(size_t count, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(count, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	bool reported = reporting_alloc(total);
	if (next.calloc != NULL && !reported)
		return next.calloc(count, size);
	return allocate(total, MALLOCX_ZERO, CAPTURE_KIND_CALLOC, reported);
}

void interpose_free(void *block)
{
	if (block == NULL)
		return;
	if (reporting_free(block)) {
		report_free(block, CAPTURE_KIND_FREE);
	} else if (next.free != NULL) {
		next.free(block);
		return;
	}
	dallocx(block, 0);
}

/* realloc while sampling: the old block's free (if it was sampled), then
 * the new block, picked on its own size, as the sampler sees a resize. */
static void *realloc_sampled(void *block, size_t size)
{
	bool picked = sampler_pick(size);
	if (block == NULL)
		return allocate(size, 0, CAPTURE_KIND_REALLOC, picked);
	bool was_sampled = sampled_set_may_contain((uintptr_t)block);
	if (!was_sampled && !picked)
		return rallocx(block, size, 0);
	/* Before rallocx, which may hand the address to another thread.  If
	 * rallocx then fails, the old block lives on untracked. */
	if (was_sampled)
		report_free(block, CAPTURE_KIND_REALLOC);
	void *result = rallocx(block, size, 0);
	if (result == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (picked)
		report_alloc(result, size, sallocx(result, 0), CAPTURE_KIND_REALLOC);
	return result;
}

void *interpose_realloc(void *block, size_t size)
{
	if (next.realloc != NULL && !recording())
		return next.realloc(block, size);
	if (sampling() && size != 0)
		return realloc_sampled(block, size);
	if (block == NULL)
		return allocate(size, 0, CAPTURE_KIND_REALLOC, recording());
	if (size == 0) {
		/* glibc's realloc(p, 0) frees p and returns NULL. */
		if (reporting_free(block))
			report_free(block, CAPTURE_KIND_REALLOC);
		dallocx(block, 0);
		return NULL;
	}
	size_t old_usable = sallocx(block, 0);
	size_t usable = xallocx(block, size, 0, 0);
	if (usable >= size) {
		if (recording())
			report_expand(block, size, old_usable, usable);
		return block;
	}
	void *moved = mallocx(size, 0);
	if (moved == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	memcpy(moved, block, old_usable < size ? old_usable : size);
	if (recording()) {
		/* The old block's free first, as heaptrack and massif count a
		 * resize: the peak never holds both copies.  Neither address can
		 * change hands before dallocx, so the order stays true. */
		report_free(block, CAPTURE_KIND_REALLOC);
		report_alloc(moved, size, nallocx(size, 0), CAPTURE_KIND_REALLOC);
	}
	dallocx(block, 0);
	return moved;
}

void *interpose_reallocarray(void *block, size_t count, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(count, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return interpose_realloc(block, total);
}

static bool power_of_two(size_t value)
{
	return value != 0 && (value & (value - 1)) == 0;
}

int interpose_posix_memalign(void **result, size_t alignment, size_t size)
{
	bool reported = reporting_alloc(size);
	if (next.posix_memalign != NULL && !reported)
		return next.posix_memalign(result, alignment, size);
	if (!power_of_two(alignment) || alignment % sizeof(void *) != 0)
		return EINVAL;
	int saved = errno;
	void *block = allocate(size, MALLOCX_ALIGN(alignment), CAPTURE_KIND_POSIX_MEMALIGN, reported);
	errno = saved;
	if (block == NULL)
		return ENOMEM;
	*result = block;
	return 0;
}

void *interpose_aligned_alloc(size_t alignment, size_t size)
{
	bool reported = reporting_alloc(size);
	if (next.aligned_alloc != NULL && !reported)
		return next.aligned_alloc(alignment, size);
	if (!power_of_two(alignment)) {
		errno = EINVAL;
		return NULL;
	}
	return allocate(size, MALLOCX_ALIGN(alignment), CAPTURE_KIND_ALIGNED_ALLOC, reported);
}

void *interpose_memalign(size_t alignment, size_t size)
{
	bool reported = reporting_alloc(size);
	if (next.memalign != NULL && !reported)
		return next.memalign(alignment, size);
	/* glibc rounds an alignment that is not a power of two up to one. */
	size_t rounded = sizeof(void *);
	while (rounded < alignment && rounded != 0)
		rounded <<= 1;
	if (rounded == 0) {
		errno = EINVAL;
		return NULL;
	}
	return allocate(size, MALLOCX_ALIGN(rounded), CAPTURE_KIND_MEMALIGN, reported);
}

void *interpose_valloc(size_t size)
{
	bool reported = reporting_alloc(size);
	if (next.valloc != NULL && !reported)
		return next.valloc(size);
	return allocate(size, MALLOCX_ALIGN((size_t)sysconf(_SC_PAGESIZE)), CAPTURE_KIND_VALLOC,
	                reported);
}

void *interpose_pvalloc(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t rounded = (size + page - 1) & ~(page - 1);
	size_t bytes = rounded ? rounded : page;
	return allocate(bytes, MALLOCX_ALIGN(page), CAPTURE_KIND_VALLOC, reporting_alloc(bytes));
}

size_t interpose_usable_size(void *block)
{
	return block != NULL ? sallocx(block, 0) : 0;
}

void interpose_entry_points_present(void)
{
	/* RTLD_NEXT from here: the objects after the preload library, where
	 * jemalloc comes first. */
	next.calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	next.free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	next.realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	next.posix_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
	next.aligned_alloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
	next.memalign = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "memalign");
	next.valloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "valloc");
	next.malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	entry_points_present = true;
}

bool interpose_available(void)
{
	return entry_points_present;
}

static int install(struct backend *backend, const char **message)
{
	if (!entry_points_present) {
		*message = "the interpose capture source needs memscope's preload library in front "
		           "of the program's malloc: run the program under `memscope`, or use the "
		           "hooks capture source";
		return -ENOTSUP;
	}
	if (sink != NULL && atomic_load(&enabled)) {
		*message = "the interposed malloc is already reporting to another tracker";
		return -EBUSY;
	}
	sink = backend;
	return 0;
}

static void enable(void)
{
	atomic_store_explicit(&enabled, true, memory_order_relaxed);
}

static void disable(void)
{
	atomic_store_explicit(&enabled, false, memory_order_relaxed);
}

static void uninstall(void)
{
	/* sink stays set: a call that passed the enabled check just before may
	 * still be reporting, and backends outlive their trackers. */
	disable();
}

const struct capture_source_ops capture_source_interpose = {
	.version = CAPTURE_SOURCE_OPS_VERSION,
	.name = "interpose",
	.install = install,
	.enable = enable,
	.disable = disable,
	.uninstall = uninstall,
};
