/* reserved.h - address space for memscope's own tables inside the traced
 * program (the sampled set, the heap of sampled blocks, the coroutine
 * table): private, anonymous and MAP_NORESERVE, so that pages never
 * touched cost no memory and count against no commit limit. */
#ifndef MEMSCOPE_RESERVED_H
#define MEMSCOPE_RESERVED_H

#include <stddef.h>

/* bytes of zeroed memory; NULL when the kernel refuses the mapping. */
void *reserved_map(size_t bytes);

/* The same, starting at a multiple of alignment (a power of two, at least
 * a page): mapped larger, the ends given back. */
void *reserved_map_aligned(size_t bytes, size_t alignment);

#endif
