/* sampled_set.h - the addresses of the live sampled blocks: a lock-free set.
 *
 * A sampling backend adds the address of every block it records and takes
 * it out again when the block is freed, so that only the frees of sampled
 * blocks are recorded (a free of a block never recorded would be noise; a
 * sampled block whose free went unseen would be a phantom leak).  Under
 * jemalloc's hooks every free in the program asks the set first, and under
 * the interposed malloc every free that may be of a sampled block (with the
 * heap of sampled blocks, sampled_heap.h, only the frees of its blocks), so
 * the question has a fast answer: a filter of counters, one per group of addresses, answers "not
 * sampled" for most addresses with one load from a table that fits in the
 * cache (a counter per 256 bytes of address); only when the counter is not
 * zero is the set itself searched.
 *
 * The set is a table of buckets of eight slots, one cache line each; an
 * address lives in one of two buckets (two hashes; the first, at large
 * intervals, of its 64 KiB region: see first_bucket), so a search reads two
 * lines at most.  Slots are claimed and given back with compare-and-swap:
 * no locks.  An address is only ever added by the thread that allocated it
 * and removed by the one freeing it, which the allocator orders, so an add
 * and a remove of the same address never race.  The table is mapped once,
 * untouched pages cost nothing, and it never grows: when both buckets of an
 * address are full, the add fails and the caller counts the sample as
 * dropped.  At small intervals it has a million slots; since an address
 * goes into the emptier of its two buckets once the first is half full,
 * random addresses fill about 750,000 of them before the first is refused
 * (at interval 1, 750,000 live blocks).  From 64 KiB on it uses a quarter
 * of that: 190,000 blocks, 95 GiB live at the default interval.
 */
#ifndef MEMSCOPE_SAMPLED_SET_H
#define MEMSCOPE_SAMPLED_SET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "guard.h"

#define SAMPLED_SET_FILTER_BITS 16

/* In the library's zero-filled data: pages untouched until sampling cost
 * nothing. */
extern MEMSCOPE_HIDDEN _Atomic uint16_t sampled_set_filter[1u << SAMPLED_SET_FILTER_BITS];

/* Maps the set (once per process) and empties it, sized for samples
 * picked at this mean interval (sampled_set.c).  Returns 0 or -ENOMEM. */
int sampled_set_reset(uint64_t interval);

/* Starts reading the line where sampled_set_add(address) will look first,
 * so that the miss overlaps other work. */
void sampled_set_prefetch(uintptr_t address);

/* Adds address.  Returns false when its buckets are full. */
bool sampled_set_add(uintptr_t address);

enum sampled_state {
	SAMPLED_ABSENT = 0,         /* not sampled */
	SAMPLED_RECORDED,           /* sampled, its allocation recorded */
	SAMPLED_DROPPED,            /* sampled, but its allocation could not be recorded */
};

/* Marks address, in the set, as one whose allocation was dropped: its
 * free is then a miss too, not an event to record. */
void sampled_set_mark_dropped(uintptr_t address);

/* Takes address out.  Returns what it was. */
enum sampled_state sampled_set_remove(uintptr_t address);

static inline uint64_t sampled_set_hash(uintptr_t address)
{
	/* Blocks are at least 16-byte aligned: the low bits carry nothing. */
	return (uint64_t)(address >> 4) * 0x9e3779b97f4a7c15u;
}

/* By the address's 256-byte granule, not by a hash: the frees of
 * neighbouring blocks read the same cache line of the filter (32 counters,
 * 8 KiB of heap), where hashed addresses would pull a new line in for
 * nearly every free of a large heap.  Coarser, a counter by page, was
 * worse: in a small heap, a page holding one sampled block sent the frees
 * of all its neighbours to the set (a malloc/free loop over 130 KB of heap
 * spent 4% of its time there).  Finer, a counter by 64-byte line, spread a
 * 2 MB heap's counters over 64 KiB, more than the first-level cache holds:
 * the load missed it in half the frees.  Blocks in the same 256 bytes, and
 * addresses 16 MiB apart, share a counter. */
static inline uint32_t sampled_set_filter_index(uintptr_t address)
{
	return (uint32_t)(address >> 8) & ((1u << SAMPLED_SET_FILTER_BITS) - 1);
}

/* A filter cell: how many sampled blocks it covers (top four bits, 15 when
 * it lost count), and while that is one, which: a fingerprint of the
 * block's address (the low twelve bits, odd; 0 when not known, after two
 * blocks shared the cell).  A cell of one block answers "not sampled" for
 * its neighbours and aliases too: in python3's heap, where a freed block's
 * address comes back again and again, a counter alone sent 3-5% of the
 * frees to the set (17 ms of a 0.6 s run). */
#define SAMPLED_CELL_COUNT_SHIFT 12
#define SAMPLED_CELL_PRINT_MASK 0xfffu

static inline uint16_t sampled_set_fingerprint(uintptr_t address)
{
	return (uint16_t)(((sampled_set_hash(address) >> 20) & SAMPLED_CELL_PRINT_MASK) | 1);
}

/* False when address is certainly not in the set. */
static inline bool sampled_set_may_contain(uintptr_t address)
{
	uint16_t cell = atomic_load_explicit(&sampled_set_filter[sampled_set_filter_index(address)],
	                                     memory_order_relaxed);
	if (__builtin_expect(cell == 0, 1))
		return false;
	uint16_t print = cell & SAMPLED_CELL_PRINT_MASK;
	return cell >> SAMPLED_CELL_COUNT_SHIFT != 1 || print == 0 ||
	       print == sampled_set_fingerprint(address);
}

#endif
