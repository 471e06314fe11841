/* sampled_heap.c - see sampled_heap.h. */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "reserved.h"
#include "sampled_heap.h"

#define SMALLEST_SHIFT 4   /* 16 bytes, the C library's alignment */
#define LARGEST_SHIFT 34   /* 16 GiB */
#define CLASSES (LARGEST_SHIFT - SMALLEST_SHIFT + 1)
#define SLOTS_SHIFT 18     /* 262,144 slots in a class of small blocks */
#define PART_SHIFT_MAX 33  /* 8 GiB of range in a class of large ones */
#define LEAST_SLOTS_SHIFT 2
#define RETURNED_FROM_SHIFT 16 /* a freed slot from 64 KiB on gives its pages back */

/* One class: its part of the range and its slots. */
struct heap_class {
	_Alignas(64) _Atomic uint64_t free_top; /* tag << 32 | slot number + 1; 0: empty */
	_Atomic uint64_t fresh;                 /* slots ever handed out */
	uintptr_t start;
	uint64_t slots;
	_Atomic uint32_t *below;                /* under each free slot, the next one + 1 */
	uint64_t *requested;                    /* each slot's block's requested size */
};

static struct heap_class classes[CLASSES];
static uintptr_t range_start;
enum { RESERVE_UNTRIED, RESERVE_UNDER_WAY, RESERVE_MAPPED, RESERVE_REFUSED };
static _Atomic int reserved;

static unsigned part_shift(unsigned shift)
{
	unsigned part = shift + SLOTS_SHIFT;
	if (part > PART_SHIFT_MAX)
		part = PART_SHIFT_MAX;
	if (part < shift + LEAST_SLOTS_SHIFT)
		part = shift + LEAST_SLOTS_SHIFT;
	return part;
}

/* Lays the classes out largest first from an address aligned to the
 * largest slot: every part is a multiple of the next one's slots, so each
 * starts aligned to its own. */
static int map_classes(void)
{
	size_t parts = 0, slots = 0;
	for (unsigned shift = SMALLEST_SHIFT; shift <= LARGEST_SHIFT; shift++) {
		parts += (size_t)1 << part_shift(shift);
		slots += (size_t)1 << (part_shift(shift) - shift);
	}
	if (parts > SAMPLED_HEAP_SPAN)
		return -ENOMEM;
	/* All of the span, so that no other mapping lies in it. */
	size_t span = SAMPLED_HEAP_SPAN;
	size_t links = slots * (sizeof(uint32_t) + sizeof(uint64_t));
	char *aligned = reserved_map_aligned(span, (size_t)1 << LARGEST_SHIFT);
	if (aligned == NULL)
		return -ENOMEM;
	char *below = reserved_map(links);
	if (below == NULL) {
		munmap(aligned, span);
		return -ENOMEM;
	}
	uintptr_t next = (uintptr_t)aligned;
	for (unsigned shift = LARGEST_SHIFT + 1; shift-- > SMALLEST_SHIFT;) {
		struct heap_class *class = &classes[shift - SMALLEST_SHIFT];
		class->start = next;
		class->slots = (uint64_t)1 << (part_shift(shift) - shift);
		class->requested = (uint64_t *)below;
		below += class->slots * sizeof(uint64_t);
		class->below = (_Atomic uint32_t *)below;
		below += class->slots * sizeof(uint32_t);
		next += (uintptr_t)1 << part_shift(shift);
	}
	range_start = (uintptr_t)aligned;
	return 0;
}

int sampled_heap_reserve(void)
{
	int state = RESERVE_UNTRIED;
	if (atomic_compare_exchange_strong_explicit(&reserved, &state, RESERVE_UNDER_WAY,
	                                            memory_order_acquire, memory_order_acquire)) {
		state = map_classes() == 0 ? RESERVE_MAPPED : RESERVE_REFUSED;
		atomic_store_explicit(&reserved, state, memory_order_release);
	}
	/* Once per process, a few microseconds: another thread waits them out. */
	while (state == RESERVE_UNDER_WAY) {
		sched_yield();
		state = atomic_load_explicit(&reserved, memory_order_acquire);
	}
	return state == RESERVE_MAPPED ? 0 : -ENOMEM;
}

static bool mapped(void)
{
	return atomic_load_explicit(&reserved, memory_order_acquire) == RESERVE_MAPPED;
}

bool sampled_heap_start(uintptr_t *start)
{
	if (!mapped())
		return false;
	*start = range_start;
	return true;
}

bool sampled_heap_contains(const void *block)
{
	return mapped() && (uintptr_t)block - range_start < SAMPLED_HEAP_SPAN;
}

static unsigned shift_for(size_t size, size_t alignment)
{
	size_t need = size > alignment ? size : alignment;
	if (need <= ((size_t)1 << SMALLEST_SHIFT))
		return SMALLEST_SHIFT;
	if (need > ((size_t)1 << LARGEST_SHIFT))
		return LARGEST_SHIFT + 1;
	return (unsigned)(64 - __builtin_clzll((unsigned long long)need - 1));
}

static void *slot_address(const struct heap_class *class, unsigned shift, uint64_t slot)
{
	return (void *)(class->start + ((uintptr_t)slot << shift));
}

void *sampled_heap_allocate(size_t size, size_t alignment, bool zeroed)
{
	if (!mapped())
		return NULL;
	unsigned shift = shift_for(size, alignment);
	if (shift > LARGEST_SHIFT)
		return NULL;
	struct heap_class *class = &classes[shift - SMALLEST_SHIFT];
	uint64_t top = atomic_load_explicit(&class->free_top, memory_order_acquire);
	while ((uint32_t)top != 0) {
		uint64_t slot = (uint32_t)top - 1;
		uint32_t below = atomic_load_explicit(&class->below[slot], memory_order_relaxed);
		uint64_t popped = ((top >> 32) + 1) << 32 | below;
		if (atomic_compare_exchange_weak_explicit(&class->free_top, &top, popped,
		                                          memory_order_acquire,
		                                          memory_order_acquire)) {
			void *block = slot_address(class, shift, slot);
			class->requested[slot] = size;
			/* A slot from 64 KiB on gave its pages back: zero already. */
			if (zeroed && shift < RETURNED_FROM_SHIFT)
				memset(block, 0, size);
			return block;
		}
	}
	uint64_t slot = atomic_fetch_add_explicit(&class->fresh, 1, memory_order_relaxed);
	if (slot >= class->slots) {
		atomic_fetch_sub_explicit(&class->fresh, 1, memory_order_relaxed);
		return NULL;
	}
	class->requested[slot] = size;
	return slot_address(class, shift, slot); /* never used: zero */
}

/* The class of an address in the range, and its slot there; false when
 * the address is not the start of a slot ever handed out. */
static bool locate(const void *block, unsigned *shift, uint64_t *slot)
{
	uintptr_t address = (uintptr_t)block;
	for (unsigned candidate = SMALLEST_SHIFT; candidate <= LARGEST_SHIFT; candidate++) {
		const struct heap_class *class = &classes[candidate - SMALLEST_SHIFT];
		uintptr_t offset = address - class->start;
		if (offset >= (uintptr_t)class->slots << candidate)
			continue;
		*shift = candidate;
		*slot = offset >> candidate;
		return (offset & (((uintptr_t)1 << candidate) - 1)) == 0 &&
		       *slot < atomic_load_explicit(&class->fresh, memory_order_relaxed);
	}
	return false;
}

static _Noreturn void invalid_pointer(void)
{
	static const char message[] = "memscope: free(): invalid pointer (inside memscope's heap "
	                              "of sampled blocks, but not a block it handed out)\n";
	ssize_t written = write(STDERR_FILENO, message, sizeof message - 1);
	(void)written;
	abort();
}

void sampled_heap_release(void *block)
{
	unsigned shift;
	uint64_t slot;
	if (!locate(block, &shift, &slot))
		invalid_pointer();
	struct heap_class *class = &classes[shift - SMALLEST_SHIFT];
	if (shift >= RETURNED_FROM_SHIFT)
		madvise(block, (size_t)1 << shift, MADV_DONTNEED);
	uint64_t top = atomic_load_explicit(&class->free_top, memory_order_relaxed);
	uint64_t pushed;
	do {
		atomic_store_explicit(&class->below[slot], (uint32_t)top, memory_order_relaxed);
		pushed = ((top >> 32) + 1) << 32 | (slot + 1);
	} while (!atomic_compare_exchange_weak_explicit(&class->free_top, &top, pushed,
	                                                memory_order_release,
	                                                memory_order_relaxed));
}

bool sampled_heap_resize_in_place(void *block, size_t size)
{
	unsigned shift;
	uint64_t slot;
	if (!locate(block, &shift, &slot) || shift_for(size, 0) != shift)
		return false;
	classes[shift - SMALLEST_SHIFT].requested[slot] = size;
	return true;
}

size_t sampled_heap_usable(const void *block)
{
	unsigned shift;
	uint64_t slot;
	if (!locate(block, &shift, &slot))
		return 0;
	return (size_t)1 << shift;
}

size_t sampled_heap_requested(const void *block)
{
	unsigned shift;
	uint64_t slot;
	if (!locate(block, &shift, &slot))
		return 0;
	return classes[shift - SMALLEST_SHIFT].requested[slot];
}

size_t sampled_heap_libc_usable(size_t size)
{
	/* glibc on 64 bits: a chunk is the request and its 8-byte size field,
	 * rounded up to 16 and at least 32; from M_MMAP_THRESHOLD's default
	 * (128 KiB) on, whole pages holding a 16-byte header. */
	const size_t mmap_threshold = 128 * 1024;
	if (size >= mmap_threshold) {
		size_t page = (size_t)sysconf(_SC_PAGESIZE);
		return ((size + 16 + page - 1) & ~(page - 1)) - 16;
	}
	size_t chunk = (size + 8 + 15) & ~(size_t)15;
	if (chunk < 32)
		chunk = 32;
	return chunk - 8;
}
