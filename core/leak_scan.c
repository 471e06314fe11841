/* leak_scan.c - see leak_scan.h.
 *
 * Two passes over the blocks, as memcheck makes them.  The first marks from
 * the roots: a word pointing at a block's start, from a root or from a
 * block already still reachable, makes the block still reachable; any other
 * word pointing into it makes an unreached block possibly lost.  A block
 * goes on the mark stack whenever its kind rises, so one first scanned as
 * possibly lost is scanned again once it is found still reachable: at most
 * twice in all.  Blocks left unreached are lost.  The second pass takes
 * them in address order: each one not yet claimed leads a group, and every
 * unreached block reached from it (through any pointer, start or middle)
 * joins the group as indirectly lost, an earlier group's leader too.  The
 * leaders left are definitely lost.
 */
#include "leak_scan.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/mman.h>

/* During the scan a block's kind is its mark: LEAK_DEFINITE is "not
 * reached yet". */
#define UNREACHED LEAK_DEFINITE

struct scan {
	struct leak_block *blocks;
	size_t count;
	uintptr_t lowest, highest;     /* the first start, the last end */
	uint32_t *stack;
	size_t depth;
};

static bool before(const struct leak_block *a, const struct leak_block *b)
{
	return a->start < b->start;
}

static void sift_down(struct leak_block *blocks, size_t root, size_t count)
{
	for (;;) {
		size_t child = 2 * root + 1;
		if (child >= count)
			return;
		if (child + 1 < count && before(&blocks[child], &blocks[child + 1]))
			child++;
		if (!before(&blocks[root], &blocks[child]))
			return;
		struct leak_block swap = blocks[root];
		blocks[root] = blocks[child];
		blocks[child] = swap;
		root = child;
	}
}

/* Heapsort: qsort may call malloc. */
void leak_blocks_sort(struct leak_block *blocks, size_t count)
{
	for (size_t i = count / 2; i-- > 0;)
		sift_down(blocks, i, count);
	for (size_t end = count; end-- > 1;) {
		struct leak_block swap = blocks[0];
		blocks[0] = blocks[end];
		blocks[end] = swap;
		sift_down(blocks, 0, end);
	}
}

size_t leak_blocks_from(const struct leak_block *blocks, size_t count, uintptr_t address)
{
	size_t low = 0, high = count;
	while (low < high) {
		size_t middle = low + (high - low) / 2;
		if (blocks[middle].start < address)
			low = middle + 1;
		else
			high = middle;
	}
	return low;
}

/* The index of the block word points into, or -1. */
static long block_at(const struct scan *scan, uintptr_t word)
{
	if (word < scan->lowest || word >= scan->highest)
		return -1;
	/* The last block starting at or before word (word + 1 cannot wrap:
	 * word is below highest). */
	size_t after = leak_blocks_from(scan->blocks, scan->count, word + 1);
	if (after == 0)
		return -1;
	const struct leak_block *block = &scan->blocks[after - 1];
	if (block->size == 0 ? word == block->start : word - block->start < block->size)
		return (long)(after - 1);
	return -1;
}

static void push(struct scan *scan, size_t index)
{
	scan->stack[scan->depth++] = (uint32_t)index;
}

/* First pass: what word, found in a root (definite) or in a block of the
 * given kind, does to the block it points into. */
static void mark(struct scan *scan, uintptr_t word, bool definite)
{
	long found = block_at(scan, word);
	if (found < 0)
		return;
	struct leak_block *block = &scan->blocks[found];
	if (word == block->start && definite && block->kind != LEAK_REACHABLE) {
		block->kind = LEAK_REACHABLE;
		push(scan, (size_t)found);
	} else if (block->kind == UNREACHED) {
		block->kind = LEAK_POSSIBLE;
		push(scan, (size_t)found);
	}
}

/* Second pass: word, in a block of the group led by leader, claims the
 * unreached block it points into. */
static void claim(struct scan *scan, uintptr_t word, size_t leader)
{
	long found = block_at(scan, word);
	if (found < 0 || (size_t)found == leader)
		return;
	struct leak_block *block = &scan->blocks[found];
	if (block->kind != UNREACHED)
		return;
	block->kind = LEAK_INDIRECT;
	block->clique = (uint32_t)leader;
	push(scan, (size_t)found);
}

enum pass { FROM_DEFINITE, FROM_POSSIBLE, CLAIMING };

/* Takes each aligned word of [start, end) as a pointer: marked from a root
 * or a still reachable block, marked from a possibly lost one, or claimed
 * for leader's group. */
static void scan_range(struct scan *scan, uintptr_t start, uintptr_t end, enum pass pass,
                       size_t leader)
{
	const uintptr_t align = sizeof(uintptr_t);
	for (uintptr_t at = (start + align - 1) & ~(align - 1); at < end && end - at >= align;
	     at += align) {
		uintptr_t word = *(const uintptr_t *)at;
		if (pass == CLAIMING)
			claim(scan, word, leader);
		else
			mark(scan, word, pass == FROM_DEFINITE);
	}
}

static uintptr_t block_end(const struct leak_block *block)
{
	return block->start + (uintptr_t)block->size;
}

int leak_scan(struct leak_block *blocks, size_t count, const struct leak_range *roots,
              size_t root_count, struct leak_totals *totals)
{
	*totals = (struct leak_totals){ {0}, {0} };
	for (size_t i = 0; i < count; i++) {
		blocks[i].kind = UNREACHED;
		blocks[i].clique = 0;
	}
	if (count == 0)
		return 0;
	if (count > UINT32_MAX / 2)
		return -ENOMEM;
	leak_blocks_sort(blocks, count);
	for (size_t i = 0; i < count; i++)
		blocks[i].clique = (uint32_t)i;

	/* Every block is pushed at most twice in the first pass, once in the
	 * second. */
	size_t stack_bytes = 2 * count * sizeof(uint32_t);
	void *stack = mmap(NULL, stack_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	                   -1, 0);
	if (stack == MAP_FAILED)
		return -ENOMEM;
	struct scan scan = {
		.blocks = blocks,
		.count = count,
		.lowest = blocks[0].start,
		.highest = 0,
		.stack = stack,
	};
	for (size_t i = 0; i < count; i++) {
		uintptr_t end = block_end(&blocks[i]) + (blocks[i].size == 0);
		if (end > scan.highest)
			scan.highest = end;
	}

	for (size_t r = 0; r < root_count; r++)
		scan_range(&scan, roots[r].start, roots[r].end, FROM_DEFINITE, 0);
	while (scan.depth > 0) {
		const struct leak_block *block = &blocks[scan.stack[--scan.depth]];
		scan_range(&scan, block->start, block_end(block),
		           block->kind == LEAK_REACHABLE ? FROM_DEFINITE : FROM_POSSIBLE, 0);
	}

	for (size_t leader = 0; leader < count; leader++) {
		/* A block reached, or claimed by an earlier group, leads none. */
		if (blocks[leader].kind != UNREACHED)
			continue;
		push(&scan, leader);
		while (scan.depth > 0) {
			const struct leak_block *block = &blocks[scan.stack[--scan.depth]];
			scan_range(&scan, block->start, block_end(block), CLAIMING, leader);
		}
	}
	munmap(stack, stack_bytes);

	for (size_t i = 0; i < count; i++) {
		totals->blocks[blocks[i].kind]++;
		totals->bytes[blocks[i].kind] += blocks[i].size;
	}
	return 0;
}

const char *leak_kind_name(enum leak_kind kind)
{
	switch (kind) {
	case LEAK_DEFINITE: return "definitely lost";
	case LEAK_INDIRECT: return "indirectly lost";
	case LEAK_POSSIBLE: return "possibly lost";
	case LEAK_REACHABLE: return "still reachable";
	default: return "unknown";
	}
}
