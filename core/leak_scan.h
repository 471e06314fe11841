/* leak_scan.h - which of the blocks still live at exit the program can
 * reach, by valgrind memcheck's definitions:
 *
 *   still reachable   a pointer to its start lies in a root or in a block
 *                     that is itself still reachable;
 *   possibly lost     reached, but only through a pointer into its middle,
 *                     or from a block that is itself only possibly lost;
 *   indirectly lost   not reached from the roots, but pointed to (anywhere
 *                     in it) from a block that is lost;
 *   definitely lost   the rest: the first block of each group of lost
 *                     blocks that point to one another (the group's other
 *                     blocks are indirectly lost).
 *
 * A pointer is an aligned 8-byte word whose value lies in a block (its
 * start, for a block of 0 bytes), in a root range or in a block reached.
 * The roots are ranges of the program's memory the caller names: the
 * writable segments of its modules, its threads' live stacks, their saved
 * registers.  Scanning reads that memory and the blocks' in place: it runs
 * in the traced process (at exit, or when the in-process API writes a
 * capture), and neither allocates from the program's allocator nor takes a
 * lock; its one mark stack is an anonymous mapping of its own.
 */
#ifndef MEMSCOPE_LEAK_SCAN_H
#define MEMSCOPE_LEAK_SCAN_H

#include <stddef.h>
#include <stdint.h>

enum leak_kind {
	LEAK_DEFINITE = 0,
	LEAK_INDIRECT = 1,
	LEAK_POSSIBLE = 2,
	LEAK_REACHABLE = 3,
	LEAK_KINDS
};

struct leak_block {
	uintptr_t start;
	uint64_t size;
	uint32_t kind;             /* enum leak_kind, set by leak_scan */
	uint32_t clique;           /* for an indirectly lost block, the index (after
	                              the sort) of the block whose group claimed it:
	                              definitely lost, or itself claimed later by
	                              another group (follow the chain); a block's own
	                              index otherwise */
};

struct leak_range {
	uintptr_t start;
	uintptr_t end;             /* one past the last byte */
};

struct leak_totals {
	uint64_t blocks[LEAK_KINDS];
	uint64_t bytes[LEAK_KINDS];
};

/* Sorts blocks by start (they must not overlap), classifies each, and adds
 * up the kinds into totals.  Every root range and every block must be
 * readable memory of this process.  Returns 0, or -ENOMEM when the mark
 * stack cannot be mapped (then every kind is left LEAK_DEFINITE and the
 * totals are zero). */
int leak_scan(struct leak_block *blocks, size_t count, const struct leak_range *roots,
              size_t root_count, struct leak_totals *totals);

/* Sorts blocks by start, as leak_scan does: in place, no allocation. */
void leak_blocks_sort(struct leak_block *blocks, size_t count);

/* The index of the first of blocks (sorted by start) that starts at or
 * after address; count if none does. */
size_t leak_blocks_from(const struct leak_block *blocks, size_t count, uintptr_t address);

/* valgrind's name of a kind: "definitely lost", "indirectly lost",
 * "possibly lost", "still reachable". */
const char *leak_kind_name(enum leak_kind kind);

#endif
