/* preload_malloc.c - malloc & co. of a program traced by memscope: the
 * standard names, exported by the preload library in front of the allocator,
 * leading to the interpose capture source (backends/capture_interpose.c). */
/* The C library's own declarations, so these definitions match them. */
#include <malloc.h>
#include <stdlib.h>

#include "capture_interpose.h"

#define EXPORTED __attribute__((visibility("default")))

EXPORTED void *malloc(size_t size)
{
	return interpose_malloc(size);
}

EXPORTED void *calloc(size_t count, size_t size)
{
	return interpose_calloc(count, size);
}

EXPORTED void free(void *block)
{
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
