/* capture_hooks.c - the reference capture source: jemalloc 5.3's
 * "experimental.hooks" (alloc, dalloc, expand).
 *
 * jemalloc calls the alloc hook after every allocation, the dalloc hook
 * before every deallocation (so an address is never reused before its free
 * is recorded) and the expand hook after an in-place resize.  The hooks see
 * every entry point: malloc, calloc, realloc, posix_memalign, aligned_alloc,
 * memalign, valloc, the *allocx family, and C++ new/delete (which reach
 * malloc/free).  jemalloc's own reentrancy guard keeps allocations made inside
 * a hook from reaching the hooks again; ours keeps memscope's own threads and
 * API calls out.
 *
 * The hook types are not in jemalloc's public header, so they are declared
 * here as jemalloc 5.3 defines them (include/jemalloc/internal/hook.h).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jemalloc/jemalloc.h>

#include "backend.h"
#include "capture.h"
#include "capture_source.h"
#include "guard.h"
#include "sampled_set.h"
#include "sampler.h"

enum jemalloc_hook_alloc {
	JE_HOOK_ALLOC_MALLOC,
	JE_HOOK_ALLOC_POSIX_MEMALIGN,
	JE_HOOK_ALLOC_ALIGNED_ALLOC,
	JE_HOOK_ALLOC_CALLOC,
	JE_HOOK_ALLOC_MEMALIGN,
	JE_HOOK_ALLOC_VALLOC,
	JE_HOOK_ALLOC_MALLOCX,
	JE_HOOK_ALLOC_REALLOC,
	JE_HOOK_ALLOC_RALLOCX,
};

enum jemalloc_hook_dalloc {
	JE_HOOK_DALLOC_FREE,
	JE_HOOK_DALLOC_DALLOCX,
	JE_HOOK_DALLOC_SDALLOCX,
	JE_HOOK_DALLOC_REALLOC,
	JE_HOOK_DALLOC_RALLOCX,
};

enum jemalloc_hook_expand {
	JE_HOOK_EXPAND_REALLOC,
	JE_HOOK_EXPAND_RALLOCX,
	JE_HOOK_EXPAND_XALLOCX,
};

typedef void (*jemalloc_alloc_hook)(void *extra, int type, void *result, uintptr_t result_raw,
                                    uintptr_t args_raw[3]);
typedef void (*jemalloc_dalloc_hook)(void *extra, int type, void *address, uintptr_t args_raw[3]);
typedef void (*jemalloc_expand_hook)(void *extra, int type, void *address, size_t old_usize,
                                     size_t new_usize, uintptr_t result_raw, uintptr_t args_raw[4]);

struct jemalloc_hooks {
	jemalloc_alloc_hook alloc_hook;
	jemalloc_dalloc_hook dalloc_hook;
	jemalloc_expand_hook expand_hook;
	void *extra;
};

static struct backend *sink;
static void *hook_handle;
static atomic_bool enabled;

static const uint32_t alloc_kinds[] = {
	[JE_HOOK_ALLOC_MALLOC] = CAPTURE_KIND_MALLOC,
	[JE_HOOK_ALLOC_POSIX_MEMALIGN] = CAPTURE_KIND_POSIX_MEMALIGN,
	[JE_HOOK_ALLOC_ALIGNED_ALLOC] = CAPTURE_KIND_ALIGNED_ALLOC,
	[JE_HOOK_ALLOC_CALLOC] = CAPTURE_KIND_CALLOC,
	[JE_HOOK_ALLOC_MEMALIGN] = CAPTURE_KIND_MEMALIGN,
	[JE_HOOK_ALLOC_VALLOC] = CAPTURE_KIND_VALLOC,
	[JE_HOOK_ALLOC_MALLOCX] = CAPTURE_KIND_MALLOCX,
	[JE_HOOK_ALLOC_REALLOC] = CAPTURE_KIND_REALLOC,
	[JE_HOOK_ALLOC_RALLOCX] = CAPTURE_KIND_RALLOCX,
};

static const uint32_t dalloc_kinds[] = {
	[JE_HOOK_DALLOC_FREE] = CAPTURE_KIND_FREE,
	[JE_HOOK_DALLOC_DALLOCX] = CAPTURE_KIND_DALLOCX,
	[JE_HOOK_DALLOC_SDALLOCX] = CAPTURE_KIND_SDALLOCX,
	[JE_HOOK_DALLOC_REALLOC] = CAPTURE_KIND_REALLOC,
	[JE_HOOK_DALLOC_RALLOCX] = CAPTURE_KIND_RALLOCX,
};

static const uint32_t expand_kinds[] = {
	[JE_HOOK_EXPAND_REALLOC] = CAPTURE_KIND_REALLOC,
	[JE_HOOK_EXPAND_RALLOCX] = CAPTURE_KIND_RALLOCX,
	[JE_HOOK_EXPAND_XALLOCX] = CAPTURE_KIND_XALLOCX,
};

/* The size the caller asked for, from the entry point's own arguments. */
static size_t requested_size(int type, const uintptr_t args[3])
{
	switch (type) {
	case JE_HOOK_ALLOC_POSIX_MEMALIGN:
		return args[2];
	case JE_HOOK_ALLOC_ALIGNED_ALLOC:
	case JE_HOOK_ALLOC_MEMALIGN:
	case JE_HOOK_ALLOC_REALLOC:
	case JE_HOOK_ALLOC_RALLOCX:
		return args[1];
	case JE_HOOK_ALLOC_CALLOC:
		/* jemalloc already refused a product that overflows */
		return args[0] * args[1];
	default: /* malloc, valloc, mallocx */
		return args[0];
	}
}

static void on_alloc(void *extra, int type, void *result, uintptr_t result_raw, uintptr_t args_raw[3])
{
	if (!atomic_load_explicit(&enabled, memory_order_relaxed) || guard_raised())
		return;
	if (result == NULL || (unsigned)type >= sizeof alloc_kinds / sizeof alloc_kinds[0])
		return;
	/* A posix_memalign that failed returns its error, and result is
	 * whatever the caller had left in *memptr: no block. */
	if (type == JE_HOOK_ALLOC_POSIX_MEMALIGN && result_raw != 0)
		return;
	size_t size = requested_size(type, args_raw);
	if (sampler_running() && !sampler_pick(size))
		return;
	guard_raise();
	struct heap_event event = {
		.type = HEAP_EVENT_ALLOC,
		.kind = alloc_kinds[type],
		.address = (uintptr_t)result,
		.size = size,
		.usable = sallocx(result, 0),
	};
	sink->ops->on_alloc(sink, &event);
	guard_lower();
}

static void on_dalloc(void *extra, int type, void *address, uintptr_t args_raw[3])
{
	if (!atomic_load_explicit(&enabled, memory_order_relaxed) || guard_raised())
		return;
	if (address == NULL || (unsigned)type >= sizeof dalloc_kinds / sizeof dalloc_kinds[0])
		return;
	if (sampler_running() && !sampled_set_may_contain((uintptr_t)address))
		return;
	guard_raise();
	struct heap_event event = {
		.type = HEAP_EVENT_FREE,
		.kind = dalloc_kinds[type],
		.address = (uintptr_t)address,
		/* The block is still allocated: the hook runs before the free. */
		.usable = sallocx(address, 0),
	};
	sink->ops->on_free(sink, &event);
	guard_lower();
}

static void on_expand(void *extra, int type, void *address, size_t old_usize, size_t new_usize,
                      uintptr_t result_raw, uintptr_t args_raw[4])
{
	if (!atomic_load_explicit(&enabled, memory_order_relaxed) || guard_raised())
		return;
	if (address == NULL || (unsigned)type >= sizeof expand_kinds / sizeof expand_kinds[0])
		return;
	guard_raise();
	/* realloc and rallocx pass the new size second; xallocx's request is
	 * size + extra at most, and what it got is new_usize. */
	size_t size = type == JE_HOOK_EXPAND_XALLOCX ? new_usize : args_raw[1];
	struct heap_event event = {
		.type = HEAP_EVENT_EXPAND,
		.kind = expand_kinds[type],
		.address = (uintptr_t)address,
		.size = size,
		.usable = new_usize,
		.old_usable = old_usize,
	};
	sink->ops->on_expand(sink, &event);
	guard_lower();
}

static uint64_t jemalloc_thread_allocated(void)
{
	uint64_t allocated = 0;
	size_t size = sizeof allocated;
	if (mallctl("thread.allocated", &allocated, &size, NULL, 0) != 0)
		return 0;
	return allocated;
}

/* A tracker that silently sees nothing is the worst failure, so check that
 * the malloc this process calls is the jemalloc whose hooks we install: a
 * malloc through the process's own symbol lookup must show in jemalloc's
 * count of this thread's allocations.  (Comparing symbol addresses is not
 * enough: a non-PIE program's PLT stub stands in for malloc's address.) */
static bool malloc_is_jemalloc(const char **message)
{
	if (dlsym(RTLD_DEFAULT, "mallocx") == NULL) {
		*message = "jemalloc is not loaded in this process: run the program under `memscope`, "
		           "or link it with -ljemalloc (pkg-config memscope)";
		return false;
	}
	uint64_t before = jemalloc_thread_allocated();
	void *(*volatile process_malloc)(size_t) = malloc;
	void *probe = process_malloc(4096);
	uint64_t after = jemalloc_thread_allocated();
	free(probe);
	if (after - before < 4096) {
		*message = "malloc in this process is not jemalloc's (another allocator comes first), "
		           "so nothing would be recorded: link with -ljemalloc before other allocators, "
		           "or run the program under `memscope`";
		return false;
	}
	return true;
}

static int install(struct backend *backend, const char **message)
{
	if (hook_handle != NULL) {
		*message = "the jemalloc hooks are already installed by another tracker";
		return -EBUSY;
	}
	if (!malloc_is_jemalloc(message))
		return -ENOTSUP;

	struct jemalloc_hooks hooks = {
		.alloc_hook = on_alloc,
		.dalloc_hook = on_dalloc,
		.expand_hook = on_expand,
		.extra = NULL,
	};
	void *handle = NULL;
	size_t handle_size = sizeof handle;

	sink = backend;
	if (mallctl("experimental.hooks.install", &handle, &handle_size, &hooks, sizeof hooks) != 0) {
		sink = NULL;
		*message = "jemalloc refused to install hooks (experimental.hooks.install): "
		           "memscope needs jemalloc 5.3";
		return -ENOTSUP;
	}
	hook_handle = handle;
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
	disable();
	if (hook_handle == NULL)
		return;
	mallctl("experimental.hooks.remove", NULL, NULL, &hook_handle, sizeof hook_handle);
	hook_handle = NULL;
	/* sink stays set: a hook that passed the enabled check just before may
	 * still be running, and backends outlive their trackers (backend.c). */
}

const struct capture_source_ops capture_source_jemalloc_hooks = {
	.version = CAPTURE_SOURCE_OPS_VERSION,
	.name = "jemalloc-hooks",
	.install = install,
	.enable = enable,
	.disable = disable,
	.uninstall = uninstall,
};
