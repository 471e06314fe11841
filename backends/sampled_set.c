/* sampled_set.c - see sampled_set.h. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "reserved.h"
#include "sampled_set.h"

#define SLOTS_PER_BUCKET 8
#define MAX_BUCKET_BITS 17 /* 128 Ki buckets of 64 bytes: 8 MiB, a million slots */
#define SMALL_BUCKET_BITS 15 /* 32 Ki buckets: 2 MiB, 262,144 slots */
#define SMALL_FROM_INTERVAL 65536
#define FILTER_SIZE (1u << SAMPLED_SET_FILTER_BITS)
#define CELL_SATURATED 15u

struct bucket {
	_Alignas(64) _Atomic uintptr_t slots[SLOTS_PER_BUCKET];
};

_Atomic uint16_t sampled_set_filter[FILTER_SIZE];
#define filter sampled_set_filter
static struct bucket *buckets;
static unsigned bucket_bits = MAX_BUCKET_BITS; /* of the tracker under way */

#define HUGE_PAGE (2u << 20)
#define TABLE_SIZE ((size_t)sizeof(struct bucket) << MAX_BUCKET_BITS)

/* How much of the table a tracker uses depends on how many blocks it
 * samples.  At interval 1 every live block is in the set: all 8 MiB.  From
 * 64 KiB on, the set holds about live bytes / interval blocks: a quarter of
 * the table (190,000 blocks before the first refusal, 95 GiB live at the
 * default interval), one huge page.  Huge pages either way, where the
 * kernel has them: a few hundred samples at random addresses touched all
 * four of the whole table's (8 MiB of zeroing, 1% of a python3 run here),
 * and as many small pages of the quarter, each a fault (about 15 us on this
 * VM: 6 ms of the same run), against one fault for the quarter on a huge
 * page.  A lookup in a table on small pages also misses the TLB. */
int sampled_set_reset(uint64_t interval)
{
	if (buckets == NULL) {
		/* mmap, not malloc: the set stays out of the program's heap
		 * and jemalloc's statistics. */
		/* The largest table, aligned to a huge page. */
		buckets = reserved_map_aligned(TABLE_SIZE, HUGE_PAGE);
		if (buckets == NULL)
			return -ENOMEM;
	} else {
		/* A new tracker: the last one's blocks are not ours.  Dropping
		 * the pages gives zeroes back and returns the memory. */
		madvise(buckets, TABLE_SIZE, MADV_DONTNEED);
		memset((void *)filter, 0, FILTER_SIZE * sizeof *filter);
	}
	bucket_bits = interval >= SMALL_FROM_INTERVAL ? SMALL_BUCKET_BITS : MAX_BUCKET_BITS;
	madvise(buckets, TABLE_SIZE, MADV_HUGEPAGE);
	return 0;
}

/* An address's first bucket.  From SMALL_FROM_INTERVAL on, the hash of
 * its 64 KiB region of memory, not of the address: samples are then one
 * per interval allocated, on average one per region of a heap or fewer, so
 * a first bucket seldom fills, and a small heap's samples keep to a few
 * lines of the table.  By address, every sample read a line of its own,
 * at random in 2 MiB: a malloc/free loop over 130 KB of heap, sampled
 * every 64 KiB, spent about 100 ns of each sample in the set, 40 ns now.
 * The region is hashed, not used as an index, so that blocks a power of
 * two apart do not crowd a few buckets. */
#define REGION_SHIFT 16

static struct bucket *first_bucket(uintptr_t address, uint64_t hash)
{
	if (bucket_bits == SMALL_BUCKET_BITS) /* the interval is SMALL_FROM_INTERVAL or more */
		hash = sampled_set_hash(address >> REGION_SHIFT << 4);
	return &buckets[hash >> (64 - bucket_bits)];
}

static struct bucket *second_bucket(uint64_t hash)
{
	/* Other bits of the same product, mixed once more. */
	uint64_t other = (hash ^ (hash >> 29)) * 0xbf58476d1ce4e5b9u;
	return &buckets[other >> (64 - bucket_bits)];
}

static bool claim_slot(struct bucket *bucket, uintptr_t address)
{
	for (int i = 0; i < SLOTS_PER_BUCKET; i++) {
		uintptr_t expected = 0;
		if (atomic_load_explicit(&bucket->slots[i], memory_order_relaxed) == 0 &&
		    atomic_compare_exchange_strong_explicit(&bucket->slots[i], &expected, address,
		                                            memory_order_release,
		                                            memory_order_relaxed))
			return true;
	}
	return false;
}

/* Blocks are at least 16-byte aligned: the lowest bit of a slot marks an
 * address whose allocation was dropped. */
#define DROPPED_MARK ((uintptr_t)1)

/* Empties the slot holding address (marked or not); returns what it held. */
static enum sampled_state release_slot(struct bucket *bucket, uintptr_t address)
{
	for (int i = 0; i < SLOTS_PER_BUCKET; i++) {
		uintptr_t held = atomic_load_explicit(&bucket->slots[i], memory_order_acquire);
		if ((held & ~DROPPED_MARK) != address)
			continue;
		if (atomic_compare_exchange_strong_explicit(&bucket->slots[i], &held, 0,
		                                            memory_order_relaxed, memory_order_relaxed))
			return held & DROPPED_MARK ? SAMPLED_DROPPED : SAMPLED_RECORDED;
	}
	return SAMPLED_ABSENT;
}

static bool mark_slot(struct bucket *bucket, uintptr_t address)
{
	for (int i = 0; i < SLOTS_PER_BUCKET; i++) {
		if (atomic_load_explicit(&bucket->slots[i], memory_order_relaxed) == address) {
			/* Only this thread, which allocated the block, writes its slot
			 * until the block is freed. */
			atomic_store_explicit(&bucket->slots[i], address | DROPPED_MARK,
			                      memory_order_release);
			return true;
		}
	}
	return false;
}

void sampled_set_mark_dropped(uintptr_t address)
{
	if (buckets == NULL || address == 0)
		return;
	uint64_t hash = sampled_set_hash(address);
	if (!mark_slot(first_bucket(address, hash), address))
		mark_slot(second_bucket(hash), address);
}

static int free_slots(const struct bucket *bucket)
{
	int count = 0;
	for (int i = 0; i < SLOTS_PER_BUCKET; i++)
		count += atomic_load_explicit(&bucket->slots[i], memory_order_relaxed) == 0;
	return count;
}

bool sampled_set_add(uintptr_t address)
{
	if (buckets == NULL || address == 0)
		return false;
	uint64_t hash = sampled_set_hash(address);
	/* Into the emptier of the two buckets: with that choice, buckets fill
	 * evenly, and the table holds far more before one overflows.  But a
	 * first bucket less than half full is taken without reading the
	 * second: one cache miss, not two, in a table mostly empty (filled at
	 * random, the table then still holds 72% of its slots before the
	 * first refusal, against 74% with the choice always made). */
	struct bucket *first = first_bucket(address, hash), *second = second_bucket(hash);
	if (free_slots(first) <= SLOTS_PER_BUCKET / 2 && free_slots(second) > free_slots(first)) {
		struct bucket *swap = first;
		first = second;
		second = swap;
	}
	if (!claim_slot(first, address) && !claim_slot(second, address))
		return false;
	/* Counted after the address is in: a free of it cannot come before
	 * the allocation returns, so the filter is never behind a lookup.
	 * The first block of a cell leaves its fingerprint; a second makes
	 * it unknown (sampled_set.h). */
	_Atomic uint16_t *counter = &filter[sampled_set_filter_index(address)];
	uint16_t cell = atomic_load_explicit(counter, memory_order_relaxed);
	for (;;) {
		unsigned count = cell >> SAMPLED_CELL_COUNT_SHIFT;
		if (count == CELL_SATURATED)
			break;
		uint16_t next = count == 0 ? (uint16_t)(1u << SAMPLED_CELL_COUNT_SHIFT |
		                                        sampled_set_fingerprint(address))
		                           : (uint16_t)((count + 1) << SAMPLED_CELL_COUNT_SHIFT);
		if (atomic_compare_exchange_weak_explicit(counter, &cell, next, memory_order_release,
		                                          memory_order_relaxed))
			break;
	}
	return true;
}

void sampled_set_prefetch(uintptr_t address)
{
	if (buckets != NULL)
		__builtin_prefetch(first_bucket(address, sampled_set_hash(address)), 1);
}

enum sampled_state sampled_set_remove(uintptr_t address)
{
	if (buckets == NULL || address == 0)
		return SAMPLED_ABSENT;
	uint64_t hash = sampled_set_hash(address);
	enum sampled_state state = release_slot(first_bucket(address, hash), address);
	if (state == SAMPLED_ABSENT)
		state = release_slot(second_bucket(hash), address);
	if (state == SAMPLED_ABSENT)
		return SAMPLED_ABSENT;
	/* A saturated cell stays so: it no longer knows how many it holds.
	 * One that goes back from two blocks to one does not know which is
	 * left: its fingerprint stays unknown until it empties. */
	_Atomic uint16_t *counter = &filter[sampled_set_filter_index(address)];
	uint16_t cell = atomic_load_explicit(counter, memory_order_relaxed);
	for (;;) {
		unsigned count = cell >> SAMPLED_CELL_COUNT_SHIFT;
		if (count == CELL_SATURATED || count == 0)
			break;
		uint16_t next = count == 1 ? 0 : (uint16_t)((count - 1) << SAMPLED_CELL_COUNT_SHIFT);
		if (atomic_compare_exchange_weak_explicit(counter, &cell, next, memory_order_relaxed,
		                                          memory_order_relaxed))
			break;
	}
	return state;
}
