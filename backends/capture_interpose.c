/* capture_interpose.c - the interposing capture source: malloc & co. are
 * memscope's own functions (exported by the preload library, see
 * cli/preload_malloc.c), which call the allocator the program runs on and
 * report each call to the backend.
 *
 * That allocator is jemalloc (through its non-standard API: mallocx,
 * dallocx, xallocx, sallocx), or, when the environment says so
 * (MEMSCOPE_ALLOCATOR=libc: the lockfree backend's default under
 * `memscope`), the C library's own malloc, so that a program traced in
 * production keeps the allocator it ships with.
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
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
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
atomic_bool interpose_enabled;
_Atomic(void *(*)(size_t)) interpose_fast_malloc = interpose_malloc_slow;
_Atomic(void (*)(void *)) interpose_fast_free = interpose_free_slow;
_Atomic uintptr_t interpose_heap_start;
static bool entry_points_present;

/* The heap of sampled blocks (sampled_heap.h) is used from a sampling
 * interval of 4 KiB on.  Below that the sampled blocks are so many that
 * they would be most of the program's heap, in memscope's power-of-two
 * slots: they stay in the allocator, and every free asks the sampled set. */
#define HEAP_FROM_INTERVAL 4096

/* Whether the blocks reported from now on go to the heap: set while a
 * sampler runs with it (before the first is reported, cleared after free's
 * fast path is the slow one again). */
static atomic_bool heap_placing;

/* Set for good once a block that belonged in the heap could not have a
 * slot there (larger than its largest class, or its class full): it is in
 * the allocator, so every free takes the slow way from then on. */
static atomic_bool heap_overflowed;

/* The C library's allocator, by the names glibc exports for callers that
 * interpose malloc: reachable from the first call, before any dlsym. */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *block, size_t size);
extern void __libc_free(void *block);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);

enum allocator {
	ALLOCATOR_UNDECIDED,
	ALLOCATOR_JEMALLOC,
	ALLOCATOR_LIBC,
};

static int allocator = ALLOCATOR_UNDECIDED;
static size_t (*libc_usable_size)(void *);

/* The allocator's own standard entry points, used while nothing is
 * recorded (capture_interpose.h): jemalloc's, so that with the hooks source
 * jemalloc sees the program's real call (malloc, not mallocx), or the C
 * library's.  Until jemalloc's are found, its x-API serves. */
struct interpose_next interpose_next;

static void use_libc(void)
{
	interpose_next.malloc = __libc_malloc;
	interpose_next.calloc = __libc_calloc;
	interpose_next.free = __libc_free;
	interpose_next.realloc = __libc_realloc;
	interpose_next.memalign = __libc_memalign;
	interpose_next.valloc = __libc_valloc;
	/* posix_memalign and aligned_alloc: through memalign, after our own
	 * checks of the alignment. */
}

/* Decided at the first call (the environment is there before any
 * constructor runs) and never again. */
static inline bool on_libc(void)
{
	if (__builtin_expect(allocator == ALLOCATOR_UNDECIDED, 0)) {
		const char *chosen = getenv(MEMSCOPE_ENV_ALLOCATOR);
		if (chosen != NULL && strcmp(chosen, "libc") == 0) {
			use_libc();
			allocator = ALLOCATOR_LIBC;
		} else {
			allocator = ALLOCATOR_JEMALLOC;
		}
	}
	return allocator == ALLOCATOR_LIBC;
}

/* The usable size of a block of the program's allocator. */
static size_t allocator_usable(void *block)
{
	if (!on_libc())
		return sallocx(block, 0);
	if (libc_usable_size == NULL)
		libc_usable_size = (size_t (*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
	return libc_usable_size != NULL ? libc_usable_size(block) : 0;
}

/* A block's usable size, from whichever allocator holds it. */
static size_t usable_of(void *block)
{
	return sampled_heap_contains(block) ? sampled_heap_usable(block) : allocator_usable(block);
}

/* The usable size an event reports: for a block in the heap of sampled
 * blocks, the one the program's allocator would have given it (jemalloc's
 * exactly, the C library's from its rounding rules, alignment aside), so
 * that reports describe the program's allocator. */
static size_t reported_usable(void *block)
{
	if (!sampled_heap_contains(block))
		return allocator_usable(block);
	size_t requested = sampled_heap_requested(block);
	return on_libc() ? sampled_heap_libc_usable(requested) : nallocx(requested ? requested : 1, 0);
}

/* Gives a block back to the allocator it came from. */
static void release(void *block)
{
	if (sampled_heap_contains(block))
		sampled_heap_release(block);
	else if (on_libc())
		__libc_free(block);
	else
		dallocx(block, 0);
}

static bool placing_in_heap(void);
static void overflow_heap(void);

/* A block of size bytes aligned to alignment (0: the default), zeroed if
 * asked; in the heap of sampled blocks if it is reported and sampled
 * blocks go there. */
/* The largest block the C library's malloc could give, as the kernel's
 * overcommit policy lets its mmap have one: jemalloc reserves address
 * space without committing it, and would hand out blocks the program
 * could never have had (malloc(1 << 46) on a machine of 24 GiB).  Under
 * the heuristic policy (0) the kernel refuses a mapping larger than RAM
 * and swap together; under 2, larger than its commit limit; under 1,
 * nothing.  Read once, with system calls only: this runs inside malloc. */
static size_t libc_largest_block(void)
{
	static _Atomic size_t largest;
	size_t known = atomic_load_explicit(&largest, memory_order_relaxed);
	if (known != 0)
		return known;
	char policy = '0';
	int fd = open("/proc/sys/vm/overcommit_memory", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &policy, 1) != 1)
			policy = '0';
		close(fd);
	}
	struct sysinfo info;
	size_t limit = PTRDIFF_MAX;
	if (policy != '1' && sysinfo(&info) == 0) {
		unsigned long long memory = (unsigned long long)info.totalram * info.mem_unit;
		unsigned long long swap = (unsigned long long)info.totalswap * info.mem_unit;
		unsigned long long total = policy == '2' ? memory / 2 + swap : memory + swap;
		if (total < limit)
			limit = (size_t)total;
	}
	atomic_store_explicit(&largest, limit, memory_order_relaxed);
	return limit;
}

static void *obtain(size_t size, size_t alignment, bool zeroed, bool reported)
{
	if (reported && placing_in_heap()) {
		void *block = sampled_heap_allocate(size != 0 ? size : 1, alignment, zeroed);
		if (block != NULL)
			return block;
		overflow_heap();
	}
	if (!on_libc()) {
		if (size > libc_largest_block())
			return NULL;
		int flags = (alignment != 0 ? MALLOCX_ALIGN(alignment) : 0) | (zeroed ? MALLOCX_ZERO : 0);
		return mallocx(size != 0 ? size : 1, flags);
	}
	if (alignment == 0)
		return zeroed ? __libc_calloc(1, size) : __libc_malloc(size);
	void *block = __libc_memalign(alignment, size);
	if (block != NULL && zeroed)
		memset(block, 0, size);
	return block;
}

/* block resized to size bytes (its contents kept), where the new block is
 * to be reported or not: a block moves in or out of the heap of sampled
 * blocks with a copy. */
static void *resize(void *block, size_t size, bool reported)
{
	bool from_heap = sampled_heap_contains(block);
	bool to_heap = reported && placing_in_heap();
	if (!from_heap && !to_heap && on_libc())
		return __libc_realloc(block, size);
	if (!from_heap && !to_heap)
		return size <= libc_largest_block() ? rallocx(block, size, 0) : NULL;
	if (from_heap && to_heap && sampled_heap_resize_in_place(block, size))
		return block;
	void *moved = obtain(size, 0, false, reported);
	if (moved == NULL)
		return NULL;
	size_t kept = usable_of(block);
	memcpy(moved, block, kept < size ? kept : size);
	release(block);
	return moved;
}

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

static struct early_event early_events[EARLY_EVENTS];
static unsigned early_count;
static uint64_t early_lost;
int interpose_early_state = INTERPOSE_EARLY_UNDECIDED;
static atomic_flag early_lock = ATOMIC_FLAG_INIT;

/* ---- the heap of sampled blocks ---------------------------------------- */

/* Maps the heap and tells free where it starts.  False when there is
 * none. */
static bool heap_ready(void)
{
	uintptr_t start;
	if (sampled_heap_reserve() != 0 || !sampled_heap_start(&start))
		return false;
	atomic_store_explicit(&interpose_heap_start, start, memory_order_relaxed);
	return true;
}

static bool placing_in_heap(void)
{
	if (atomic_load_explicit(&heap_placing, memory_order_relaxed))
		return true;
	/* Blocks kept before the tracker starts may be sampled when it does:
	 * their frees must be seen, so they are in the heap too. */
	return interpose_early_state == INTERPOSE_EARLY_KEEPING && heap_ready();
}

static void overflow_heap(void)
{
	atomic_store_explicit(&heap_overflowed, true, memory_order_seq_cst);
	atomic_store_explicit(&interpose_fast_free, interpose_free_slow, memory_order_seq_cst);
}

/* Free's fast path to the allocator: called once blocks go to the heap. */
static void open_fast_free(void)
{
	if (atomic_load(&heap_overflowed))
		return;
	atomic_store_explicit(&interpose_fast_free, interpose_next.free, memory_order_release);
	/* An overflow in between must win. */
	if (atomic_load(&heap_overflowed))
		atomic_store_explicit(&interpose_fast_free, interpose_free_slow, memory_order_seq_cst);
}

static bool will_be_traced(void)
{
	const char *output = getenv("MEMSCOPE_OUTPUT");
	const char *root = getenv("MEMSCOPE_ROOT_PID");
	const char *follow = getenv("MEMSCOPE_FOLLOW_FORK");
	if (output == NULL || root == NULL)
		return false;
	return strtol(root, NULL, 10) == (long)getpid() || (follow != NULL && strcmp(follow, "1") == 0);
}

bool interpose_keeping_early_slow(void)
{
	if (interpose_early_state == INTERPOSE_EARLY_UNDECIDED)
		interpose_early_state = will_be_traced() ? INTERPOSE_EARLY_KEEPING : INTERPOSE_EARLY_OVER;
	return interpose_early_state == INTERPOSE_EARLY_KEEPING;
}

static void keep_early(const struct heap_event *event)
{
	while (atomic_flag_test_and_set_explicit(&early_lock, memory_order_acquire))
		;
	if (interpose_early_state == INTERPOSE_EARLY_KEEPING) {
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
	interpose_early_state = INTERPOSE_EARLY_OVER;
	atomic_flag_clear_explicit(&early_lock, memory_order_release);
	return lost;
}

void interpose_early_finish(void)
{
	while (atomic_flag_test_and_set_explicit(&early_lock, memory_order_acquire))
		;
	early_count = 0;
	interpose_early_state = INTERPOSE_EARLY_OVER;
	atomic_flag_clear_explicit(&early_lock, memory_order_release);
}

/* ---- reporting ---------------------------------------------------------- */

static inline bool recording(void)
{
	if (guard_raised())
		return false;
	return atomic_load_explicit(&interpose_enabled, memory_order_relaxed) || interpose_keeping_early();
}


static inline bool sampling(void)
{
	return atomic_load_explicit(&interpose_enabled, memory_order_relaxed) && sampler_running();
}

/* The sampled path unwinds the stack through every frame of memscope's
 * own before it reaches the program's: deliver, report and allocate are
 * part of their callers, three frames fewer to step through (of twelve
 * for a sampled malloc in a loop five calls deep). */
#define IN_CALLER inline __attribute__((always_inline))

/* To the backend, or, before the tracker starts, to the early log. */
static IN_CALLER void deliver(const struct heap_event *event)
{
	if (atomic_load_explicit(&interpose_enabled, memory_order_relaxed)) {
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
static IN_CALLER void report(const struct heap_event *event)
{
	int saved = errno;
	guard_raise();
	deliver(event);
	guard_lower();
	errno = saved;
}

static IN_CALLER void report_alloc(void *address, size_t size, size_t usable, uint32_t kind)
{
	report(&(struct heap_event){.type = HEAP_EVENT_ALLOC, .kind = kind,
	                            .address = (uintptr_t)address, .size = size, .usable = usable});
}

static IN_CALLER void report_free(void *address, uint32_t kind)
{
	report(&(struct heap_event){.type = HEAP_EVENT_FREE, .kind = kind,
	                            .address = (uintptr_t)address,
	                            .usable = reported_usable(address)});
}

static void report_expand(void *address, size_t size, size_t old_usable, size_t usable)
{
	report(&(struct heap_event){.type = HEAP_EVENT_EXPAND, .kind = CAPTURE_KIND_REALLOC,
	                            .address = (uintptr_t)address, .size = size, .usable = usable,
	                            .old_usable = old_usable});
}

static IN_CALLER void *allocate(size_t size, size_t alignment, bool zeroed, uint32_t kind,
                                bool reported)
{
	void *block = obtain(size, alignment, zeroed, reported);
	if (block == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (reported)
		report_alloc(block, size, reported_usable(block), kind);
	return block;
}

void *interpose_malloc_slow(size_t size)
{
	bool reported = interpose_reporting_alloc(size);
	if (!reported && interpose_next.malloc != NULL)
		return interpose_next.malloc(size);
	return allocate(size, 0, false, CAPTURE_KIND_MALLOC, reported);
}

void *interpose_calloc(size_t count, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(count, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	bool reported = interpose_reporting_alloc(total);
	if (interpose_next.calloc != NULL && !reported)
		return interpose_next.calloc(count, size);
	return allocate(total, 0, true, CAPTURE_KIND_CALLOC, reported);
}

void interpose_free_slow(void *block)
{
	if (block == NULL)
		return;
	if (interpose_reporting_free(block)) {
		report_free(block, CAPTURE_KIND_FREE);
	} else if (interpose_next.free != NULL && !sampled_heap_contains(block)) {
		interpose_next.free(block);
		return;
	}
	release(block);
}

/* realloc as the old block's free (if it is reported) and a new block (if
 * it is): what the sampler needs (the new size gets its own chance of being
 * picked), and all the C library's realloc lets us see. */
static void *realloc_as_free_and_alloc(void *block, size_t size)
{
	bool picked = interpose_reporting_alloc(size);
	if (block == NULL)
		return allocate(size, 0, false, CAPTURE_KIND_REALLOC, picked);
	bool old_reported = interpose_reporting_free(block);
	if (!old_reported && !picked)
		return resize(block, size, false);
	/* Before the resize, which may hand the address to another thread.  If
	 * it then fails, the old block lives on untracked. */
	if (old_reported)
		report_free(block, CAPTURE_KIND_REALLOC);
	void *result = resize(block, size, picked);
	if (result == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (picked)
		report_alloc(result, size, reported_usable(result), CAPTURE_KIND_REALLOC);
	return result;
}

void *interpose_realloc(void *block, size_t size)
{
	bool in_heap = block != NULL && sampled_heap_contains(block);
	if (interpose_next.realloc != NULL && !recording() && !in_heap)
		return interpose_next.realloc(block, size);
	if ((sampling() || on_libc() || in_heap) && size != 0)
		return realloc_as_free_and_alloc(block, size);
	if (block == NULL)
		return allocate(size, 0, false, CAPTURE_KIND_REALLOC, recording());
	if (size == 0) {
		/* glibc's realloc(p, 0) frees p and returns NULL. */
		if (interpose_reporting_free(block))
			report_free(block, CAPTURE_KIND_REALLOC);
		release(block);
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
	bool reported = interpose_reporting_alloc(size);
	if (interpose_next.posix_memalign != NULL && !reported)
		return interpose_next.posix_memalign(result, alignment, size);
	if (!power_of_two(alignment) || alignment % sizeof(void *) != 0)
		return EINVAL;
	int saved = errno;
	void *block = allocate(size, alignment, false, CAPTURE_KIND_POSIX_MEMALIGN, reported);
	errno = saved;
	if (block == NULL)
		return ENOMEM;
	*result = block;
	return 0;
}

/* The C library's rule for an alignment that is not a power of two:
 * before glibc 2.38, aligned_alloc is memalign, which rounds it up; from
 * 2.38 on, EINVAL. */
static bool libc_rounds_aligned_alloc(void)
{
	const char *version = gnu_get_libc_version();
	char *rest;
	long major = strtol(version, &rest, 10);
	long minor = *rest == '.' ? strtol(rest + 1, NULL, 10) : 0;
	return major < 2 || (major == 2 && minor < 38);
}

/* glibc's memalign rounds an alignment that is not a power of two up to
 * one (jemalloc's fails, and leaves errno alone): 0 when none is left. */
static size_t memalign_alignment(size_t alignment)
{
	size_t rounded = sizeof(void *);
	while (rounded < alignment && rounded != 0)
		rounded <<= 1;
	return rounded;
}

void *interpose_aligned_alloc(size_t alignment, size_t size)
{
	bool reported = interpose_reporting_alloc(size);
	if (interpose_next.aligned_alloc != NULL && !reported && power_of_two(alignment))
		return interpose_next.aligned_alloc(alignment, size);
	size_t kept = power_of_two(alignment)        ? alignment
	              : libc_rounds_aligned_alloc() ? memalign_alignment(alignment)
	                                            : 0;
	if (kept == 0) {
		errno = EINVAL;
		return NULL;
	}
	return allocate(size, kept, false, CAPTURE_KIND_ALIGNED_ALLOC, reported);
}

void *interpose_memalign(size_t alignment, size_t size)
{
	bool reported = interpose_reporting_alloc(size);
	if (interpose_next.memalign != NULL && !reported && power_of_two(alignment))
		return interpose_next.memalign(alignment, size);
	size_t rounded = memalign_alignment(alignment);
	if (rounded == 0) {
		errno = EINVAL;
		return NULL;
	}
	return allocate(size, rounded, false, CAPTURE_KIND_MEMALIGN, reported);
}

void *interpose_valloc(size_t size)
{
	bool reported = interpose_reporting_alloc(size);
	if (interpose_next.valloc != NULL && !reported)
		return interpose_next.valloc(size);
	return allocate(size, (size_t)sysconf(_SC_PAGESIZE), false, CAPTURE_KIND_VALLOC, reported);
}

void *interpose_pvalloc(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t rounded = (size + page - 1) & ~(page - 1);
	size_t bytes = rounded ? rounded : page;
	return allocate(bytes, page, false, CAPTURE_KIND_VALLOC, interpose_reporting_alloc(bytes));
}

size_t interpose_usable_size(void *block)
{
	return block != NULL ? usable_of(block) : 0;
}

void interpose_entry_points_present(void)
{
	if (on_libc()) {
		/* Set at the first call already; RTLD_NEXT would find the same. */
		libc_usable_size = (size_t (*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
		entry_points_present = true;
		return;
	}
	/* RTLD_NEXT from here: the objects after the preload library, where
	 * jemalloc comes first. */
	interpose_next.calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	interpose_next.free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	interpose_next.realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	interpose_next.posix_memalign =
		(int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
	interpose_next.aligned_alloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
	interpose_next.memalign = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "memalign");
	interpose_next.valloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "valloc");
	interpose_next.malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	entry_points_present = true;
}

bool interpose_available(void)
{
	return entry_points_present;
}

bool interpose_on_libc(void)
{
	return on_libc();
}

static int install(struct backend *backend, const char **message)
{
	if (!entry_points_present) {
		*message = "the interpose capture source needs memscope's preload library in front "
		           "of the program's malloc: run the program under `memscope`, or use the "
		           "hooks capture source";
		return -ENOTSUP;
	}
	if (sink != NULL && atomic_load(&interpose_enabled)) {
		*message = "the interposed malloc is already reporting to another tracker";
		return -EBUSY;
	}
	sink = backend;
	return 0;
}

static void enable(void)
{
	/* Blocks go to the heap before the first is reported, and frees of
	 * addresses outside it go the fast way only after that. */
	bool heap = sampler_running() &&
	            atomic_load_explicit(&sampler_shared.interval, memory_order_relaxed) >=
	                    HEAP_FROM_INTERVAL &&
	            heap_ready();
	if (heap)
		atomic_store_explicit(&heap_placing, true, memory_order_seq_cst);
	atomic_store_explicit(&interpose_enabled, true, memory_order_seq_cst);
	/* The sampler, if any, started when the backend opened, before this.
	 * The malloc fast path trusts any countdown; only the process's first
	 * sampler can: a later one (a tracker started again in the process)
	 * would find the countdowns the previous one drew, and the blocks
	 * allocated until they ran out would go unsampled.  After a restart
	 * malloc takes the slow path, which compares the sampler's epoch. */
	if (sampler_running() && interpose_next.malloc != NULL && interpose_next.free != NULL) {
		if (atomic_load_explicit(&sampler_shared.epoch, memory_order_relaxed) == 1)
			atomic_store_explicit(&interpose_fast_malloc, interpose_next.malloc,
			                      memory_order_release);
		if (heap)
			open_fast_free();
	}
}

static void disable(void)
{
	atomic_store_explicit(&interpose_fast_malloc, interpose_malloc_slow, memory_order_relaxed);
	atomic_store_explicit(&interpose_fast_free, interpose_free_slow, memory_order_seq_cst);
	atomic_store_explicit(&heap_placing, false, memory_order_relaxed);
	atomic_store_explicit(&interpose_enabled, false, memory_order_relaxed);
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
