/* preload_malloc.c - malloc & co. of a program traced by memscope: the
 * standard names, exported by the preload library in front of jemalloc,
 * leading to the interpose capture source (backends/capture_interpose.c). */
/* The C library's own declarations, so these definitions match them. */
#include <malloc.h>
#include <stdlib.h>

#include "capture_interpose.h"

#define EXPORTED __attribute__((visibility("default")))

/* malloc and free are the calls that count: what needs no report goes to
 * the allocator from here, without another call in between. */
EXPORTED void *malloc(size_t size)
{
	bool reported = interpose_reporting_alloc(size);
	if (__builtin_expect(!reported && interpose_next.malloc != NULL, 1))
		return interpose_next.malloc(size);
	return interpose_malloc_decided(size, reported);
}

EXPORTED void *calloc(size_t count, size_t size)
{
	return interpose_calloc(count, size);
}

EXPORTED void free(void *block)
{
	if (__builtin_expect(block != NULL && interpose_next.free != NULL &&
	                     !interpose_reporting_free(block), 1)) {
		interpose_next.free(block);
		return;
	}
	interpose_free(block);
}

EXPORTED void *realloc(void *block, size_t size)
{
	return interpose_realloc(block, size);
}

EXPORTED void *reallocarray(void *block, size_t count, size_t size)
{
	return interpose_reallocarray(block, count, size);
}

EXPORTED int posix_memalign(void **result, size_t alignment, size_t size)
{
	return interpose_posix_memalign(result, alignment, size);
}

EXPORTED void *aligned_alloc(size_t alignment, size_t size)
{
	return interpose_aligned_alloc(alignment, size);
}

EXPORTED void *memalign(size_t alignment, size_t size)
{
	return interpose_memalign(alignment, size);
}

EXPORTED void *valloc(size_t size)
{
	return interpose_valloc(size);
}

EXPORTED void *pvalloc(size_t size)
{
	return interpose_pvalloc(size);
}

EXPORTED size_t malloc_usable_size(void *block)
{
	return interpose_usable_size(block);
}
