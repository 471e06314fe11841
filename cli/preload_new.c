/* preload_new.c - C++ operator new and delete of a program traced by
 * memscope.  jemalloc defines them itself (straight into its allocator,
 * past malloc), so the preload library must define them too, in front of
 * jemalloc, or the interpose capture source would miss every C++ object.
 *
 * The names are the Itanium C++ ABI's mangled ones.  A throwing new that
 * cannot allocate hands over to jemalloc's own, which runs the program's
 * new-handler and throws std::bad_alloc: C cannot throw. */
#include <dlfcn.h>
#include <stddef.h>

#include "capture_interpose.h"

#define EXPORTED __attribute__((visibility("default")))

typedef void *(*new_function)(size_t);
typedef void *(*aligned_new_function)(size_t, size_t);

static void *retry_new(const char *name, size_t size)
{
	new_function next = (new_function)dlsym(RTLD_NEXT, name);
	return next != NULL ? next(size) : NULL;
}

static void *retry_aligned_new(const char *name, size_t size, size_t alignment)
{
	aligned_new_function next = (aligned_new_function)dlsym(RTLD_NEXT, name);
	return next != NULL ? next(size, alignment) : NULL;
}

/* Declared here only: nothing else in C calls them. */
void *_Znwm(size_t size);
void *_Znam(size_t size);
void *_ZnwmRKSt9nothrow_t(size_t size, const void *nothrow);
void *_ZnamRKSt9nothrow_t(size_t size, const void *nothrow);
void *_ZnwmSt11align_val_t(size_t size, size_t alignment);
void *_ZnamSt11align_val_t(size_t size, size_t alignment);
void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t size, size_t alignment, const void *nothrow);
void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t size, size_t alignment, const void *nothrow);
void _ZdlPv(void *block);
void _ZdaPv(void *block);
void _ZdlPvm(void *block, size_t size);
void _ZdaPvm(void *block, size_t size);
void _ZdlPvRKSt9nothrow_t(void *block, const void *nothrow);
void _ZdaPvRKSt9nothrow_t(void *block, const void *nothrow);
void _ZdlPvSt11align_val_t(void *block, size_t alignment);
void _ZdaPvSt11align_val_t(void *block, size_t alignment);
void _ZdlPvmSt11align_val_t(void *block, size_t size, size_t alignment);
void _ZdaPvmSt11align_val_t(void *block, size_t size, size_t alignment);
void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *block, size_t alignment, const void *nothrow);
void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *block, size_t alignment, const void *nothrow);

EXPORTED void *_Znwm(size_t size)
{
	void *block = interpose_malloc(size);
	return block != NULL ? block : retry_new("_Znwm", size);
}

EXPORTED void *_Znam(size_t size)
{
	void *block = interpose_malloc(size);
	return block != NULL ? block : retry_new("_Znam", size);
}

EXPORTED void *_ZnwmRKSt9nothrow_t(size_t size, const void *nothrow)
{
	return interpose_malloc(size);
}

EXPORTED void *_ZnamRKSt9nothrow_t(size_t size, const void *nothrow)
{
	return interpose_malloc(size);
}

EXPORTED void *_ZnwmSt11align_val_t(size_t size, size_t alignment)
{
	void *block = interpose_aligned_alloc(alignment, size);
	return block != NULL ? block : retry_aligned_new("_ZnwmSt11align_val_t", size, alignment);
}

EXPORTED void *_ZnamSt11align_val_t(size_t size, size_t alignment)
{
	void *block = interpose_aligned_alloc(alignment, size);
	return block != NULL ? block : retry_aligned_new("_ZnamSt11align_val_t", size, alignment);
}

EXPORTED void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t size, size_t alignment,
                                                   const void *nothrow)
{
	return interpose_aligned_alloc(alignment, size);
}

EXPORTED void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t size, size_t alignment,
                                                   const void *nothrow)
{
	return interpose_aligned_alloc(alignment, size);
}

EXPORTED void _ZdlPv(void *block)
{
	interpose_free(block);
}

EXPORTED void _ZdaPv(void *block)
{
	interpose_free(block);
}

EXPORTED void _ZdlPvm(void *block, size_t size)
{
	interpose_free(block);
}

EXPORTED void _ZdaPvm(void *block, size_t size)
{
	interpose_free(block);
}

EXPORTED void _ZdlPvRKSt9nothrow_t(void *block, const void *nothrow)
{
	interpose_free(block);
}

EXPORTED void _ZdaPvRKSt9nothrow_t(void *block, const void *nothrow)
{
	interpose_free(block);
}

EXPORTED void _ZdlPvSt11align_val_t(void *block, size_t alignment)
{
	interpose_free(block);
}

EXPORTED void _ZdaPvSt11align_val_t(void *block, size_t alignment)
{
	interpose_free(block);
}

EXPORTED void _ZdlPvmSt11align_val_t(void *block, size_t size, size_t alignment)
{
	interpose_free(block);
}

EXPORTED void _ZdaPvmSt11align_val_t(void *block, size_t size, size_t alignment)
{
	interpose_free(block);
}

EXPORTED void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *block, size_t alignment,
                                                  const void *nothrow)
{
	interpose_free(block);
}

EXPORTED void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *block, size_t alignment,
                                                  const void *nothrow)
{
	interpose_free(block);
}
