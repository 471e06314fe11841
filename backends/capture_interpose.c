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
#include <string.h>
#include <unistd.h>

#include <jemalloc/jemalloc.h>

#include "backend.h"
#include "capture.h"
#include "capture_interpose.h"
#include "capture_source.h"
#include "guard.h"

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

static inline bool recording(void)
{
	return atomic_load_explicit(&enabled, memory_order_relaxed) && !guard_raised();
}

/* The report_* functions keep errno: a successful malloc leaves it alone. */
static void report_alloc(void *address, size_t size, size_t usable, uint32_t kind)
{
	int saved = errno;
	guard_raise();
	struct heap_event event = {
		.type = HEAP_EVENT_ALLOC,
		.kind = kind,
		.address = (uintptr_t)address,
		.size = size,
		.usable = usable,
	};
	sink->ops->on_alloc(sink, &event);
	guard_lower();
	errno = saved;
}

static void report_free(void *address, uint32_t kind)
{
	int saved = errno;
	guard_raise();
	struct heap_event event = {
		.type = HEAP_EVENT_FREE,
		.kind = kind,
		.address = (uintptr_t)address,
		.usable = sallocx(address, 0),
	};
	sink->ops->on_free(sink, &event);
	guard_lower();
	errno = saved;
}

static void report_expand(void *address, size_t size, size_t old_usable, size_t usable)
{
	int saved = errno;
	guard_raise();
	struct heap_event event = {
		.type = HEAP_EVENT_EXPAND,
		.kind = CAPTURE_KIND_REALLOC,
		.address = (uintptr_t)address,
		.size = size,
		.usable = usable,
		.old_usable = old_usable,
	};
	sink->ops->on_expand(sink, &event);
	guard_lower();
	errno = saved;
}

/* mallocx wants a non-zero size; malloc(0) still returns a unique block. */
static inline size_t at_least_one(size_t size)
{
	return size != 0 ? size : 1;
}

static void *allocate(size_t size, int flags, uint32_t kind)
{
	void *block = mallocx(at_least_one(size), flags);
	if (block == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (recording())
		report_alloc(block, size, nallocx(at_least_one(size), flags), kind);
	return block;
}

void *interpose_malloc(size_t size)
{
	if (next.malloc != NULL && !recording())
		return next.malloc(size);
	return allocate(size, 0, CAPTURE_KIND_MALLOC);
}

void *interpose_calloc(size_t count, size_t size)
{
	if (next.calloc != NULL && !recording())
		return next.calloc(count, size);
	size_t total;
	if (__builtin_mul_overflow(count, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return allocate(total, MALLOCX_ZERO, CAPTURE_KIND_CALLOC);
}

void interpose_free(void *block)
{
	if (block == NULL)
		return;
	if (recording()) {
		report_free(block, CAPTURE_KIND_FREE);
	} else if (next.free != NULL) {
		next.free(block);
		return;
	}
	dallocx(block, 0);
}

void *interpose_realloc(void *block, size_t size)
{
	if (next.realloc != NULL && !recording())
		return next.realloc(block, size);
	if (block == NULL)
		return allocate(size, 0, CAPTURE_KIND_REALLOC);
	if (size == 0) {
		/* glibc's realloc(p, 0) frees p and returns NULL. */
		if (recording())
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
	if (next.posix_memalign != NULL && !recording())
		return next.posix_memalign(result, alignment, size);
	if (!power_of_two(alignment) || alignment % sizeof(void *) != 0)
		return EINVAL;
	int saved = errno;
	void *block = allocate(size, MALLOCX_ALIGN(alignment), CAPTURE_KIND_POSIX_MEMALIGN);
	errno = saved;
	if (block == NULL)
		return ENOMEM;
	*result = block;
	return 0;
}

void *interpose_aligned_alloc(size_t alignment, size_t size)
{
	if (next.aligned_alloc != NULL && !recording())
		return next.aligned_alloc(alignment, size);
	if (!power_of_two(alignment)) {
		errno = EINVAL;
		return NULL;
	}
	return allocate(size, MALLOCX_ALIGN(alignment), CAPTURE_KIND_ALIGNED_ALLOC);
}

void *interpose_memalign(size_t alignment, size_t size)
{
	if (next.memalign != NULL && !recording())
		return next.memalign(alignment, size);
	/* glibc rounds an alignment that is not a power of two up to one. */
	size_t rounded = sizeof(void *);
	while (rounded < alignment && rounded != 0)
		rounded <<= 1;
	if (rounded == 0) {
		errno = EINVAL;
		return NULL;
	}
	return allocate(size, MALLOCX_ALIGN(rounded), CAPTURE_KIND_MEMALIGN);
}

void *interpose_valloc(size_t size)
{
	if (next.valloc != NULL && !recording())
		return next.valloc(size);
	return allocate(size, MALLOCX_ALIGN((size_t)sysconf(_SC_PAGESIZE)), CAPTURE_KIND_VALLOC);
}

void *interpose_pvalloc(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t rounded = (size + page - 1) & ~(page - 1);
	return allocate(rounded ? rounded : page, MALLOCX_ALIGN(page), CAPTURE_KIND_VALLOC);
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
