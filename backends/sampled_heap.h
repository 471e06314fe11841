/* sampled_heap.h - where the interposed malloc puts the blocks a sampling
 * backend records: a heap of memscope's own, in one reserved range of
 * address space, so that free can tell them from every other block by the
 * address alone, with no load of a filter or of the block.
 *
 * On bench/ring.c (frees at random across 140 MB of live blocks) the
 * filter's load was most of what the lockfree backend cost: in 41 rounds
 * of separate runs, 1.16x the untracked run with the filter, 1.12x with
 * this heap (docs/overhead.md).
 *
 * The heap is a set of power-of-two classes, 16 bytes to 16 GiB, each its
 * own part of the range, so that a slot is aligned to its size and an
 * address names its class.  A class hands out slots from a free list (a
 * lock-free stack of slot numbers, with a tag against ABA) or, when that is
 * empty, the next never-used slot.  No lock, no allocation, and a system
 * call only to give back the pages of a freed block from 64 KiB on.  The
 * range is mapped once, MAP_NORESERVE: untouched pages cost nothing, but
 * the process's virtual size grows by 256 GiB.  Where that mapping is
 * refused (vm.overcommit_memory=2, a limit on address space), the heap is
 * absent and the caller falls back (capture_interpose.c).
 *
 * Blocks of the small classes waste up to half their slot; they are the
 * sampled blocks only, about one block in a thousand at the default
 * interval.
 */
#ifndef MEMSCOPE_SAMPLED_HEAP_H
#define MEMSCOPE_SAMPLED_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The range's size: its classes fill it but for 4 MiB, mapped with it. */
#define SAMPLED_HEAP_SPAN ((uintptr_t)1 << 38)

/* Maps the range, once per process.  Returns 0, or -ENOMEM when the
 * kernel refused it (then every call below finds no heap). */
int sampled_heap_reserve(void);

/* Whether the range is mapped, and where: [*start, *start + SAMPLED_HEAP_SPAN). */
bool sampled_heap_start(uintptr_t *start);

/* A block of at least size bytes aligned to alignment (a power of two, or
 * 0 for 16), zeroed if asked; NULL when there is no heap, or the block
 * would be larger than the largest class, or its class is full. */
void *sampled_heap_allocate(size_t size, size_t alignment, bool zeroed);

/* Whether block is in the heap's range. */
bool sampled_heap_contains(const void *block);

/* Gives a block of the heap back.  A pointer into the range that no
 * allocation returned ends the process, as the C library's free does. */
void sampled_heap_release(void *block);

/* Whether block can hold size bytes where it is (size is of its class);
 * if so, size is now its requested size. */
bool sampled_heap_resize_in_place(void *block, size_t size);

/* The size of block's slot: what malloc_usable_size says of it. */
size_t sampled_heap_usable(const void *block);

/* The size block was allocated with (sampled_heap_allocate's size). */
size_t sampled_heap_requested(const void *block);

/* The usable size the C library's malloc would have given a block of size
 * bytes (its chunk rounding, and whole pages from its default mmap
 * threshold on): what a sampled block reports in its event, so that the
 * fragmentation table describes the program's allocator, not this heap. */
size_t sampled_heap_libc_usable(size_t size);

#endif
