/* leak_scan.c - what classifying the blocks live at exit costs
 * (core/leak_scan.c), against the size of the heap.
 *
 *   leak_scan MEGABYTES [--no-scan]
 *
 * Allocates about MEGABYTES of blocks of 64 to 4,096 bytes and leaves them
 * live: half held by a global table (still reachable), a quarter in lists
 * whose heads are lost (one definitely lost block per 100, the rest
 * indirectly lost), and a quarter in lists whose heads the table holds only
 * by a pointer into their middle (possibly lost).  Then it stops no other
 * thread (it has none), collects the roots and scans, and prints the
 * blocks, the roots' bytes, the time of each step and each kind's totals.
 * With --no-scan it only builds the heap and exits: what valgrind's memcheck
 * is timed on (bench/leak_scan.sh).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "leak_roots.h"
#include "leak_scan.h"
#include "xorshift.h"

#define LIST_LENGTH 100

/* The still reachable blocks and the lists' heads: a global, a root. */
#define TABLE_MAX (1u << 22)
void *table[TABLE_MAX];          /* not static: only written, it would be optimized away */
static size_t table_count;

static double seconds(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: leak_scan MEGABYTES [--no-scan]\n");
		return 2;
	}
	uint64_t target = strtoull(argv[1], NULL, 10) << 20;
	int scan = argc < 3 || strcmp(argv[2], "--no-scan") != 0;
	uint64_t random = 88172645463325252ull;

	/* For the scan, every block's place, in an anonymous mapping (no root
	 * of memscope's; memcheck would take it for one, so --no-scan keeps
	 * none). */
	size_t capacity = (size_t)(target / 64) + LIST_LENGTH;
	struct leak_block *blocks = NULL;
	if (scan) {
		blocks = mmap(NULL, capacity * sizeof *blocks, PROT_READ | PROT_WRITE,
		              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (blocks == MAP_FAILED) {
			fprintf(stderr, "leak_scan: no memory for the table of %s MB\n", argv[1]);
			return 1;
		}
	}
	size_t count = 0;
	uint64_t bytes = 0;
	double start = seconds();
	while (bytes < target && table_count < TABLE_MAX) {
		uint64_t kind = xorshift_next(&random) % 4;
		size_t length = kind < 2 ? 1 : LIST_LENGTH;
		void *previous = NULL;
		for (size_t i = 0; i < length; i++) {
			size_t size = 64 + (size_t)(xorshift_next(&random) % 4033);
			void **block = calloc(1, size);
			if (block == NULL)
				return 1;
			block[0] = previous;
			previous = block;
			if (blocks != NULL)
				blocks[count] = (struct leak_block){ .start = (uintptr_t)block, .size = size };
			count++;
			bytes += size;
		}
		if (kind < 2)
			table[table_count++] = previous;                 /* still reachable */
		else if (kind == 3)
			table[table_count++] = (char *)previous + 8;      /* possibly lost */
		/* kind 2: the list's head is lost. */
	}
	double built = seconds();
	if (!scan)
		return 0;

	static struct leak_range roots[4096];
	size_t root_count;
	leak_blocks_sort(blocks, count);
	double sorted = seconds();
	int error = leak_roots_collect(blocks, count, NULL, 0, 0, NULL, 0, roots, 4096, &root_count);
	if (error != 0) {
		fprintf(stderr, "leak_scan: roots: %s\n", strerror(-error));
		return 1;
	}
	uint64_t root_bytes = 0;
	for (size_t r = 0; r < root_count; r++)
		root_bytes += roots[r].end - roots[r].start;
	double collected = seconds();
	struct leak_totals totals;
	if (leak_scan(blocks, count, roots, root_count, &totals) != 0)
		return 1;
	double scanned = seconds();
	printf("heap %.0f MB in %zu blocks (built in %.2f s); roots %zu ranges, %.1f MB\n",
	       (double)bytes / 1e6, count, built - start, root_count, (double)root_bytes / 1e6);
	printf("sort %.3f s, roots %.3f s, scan %.3f s: %.3f s in all\n", sorted - built,
	       collected - sorted, scanned - collected, scanned - built);
	for (int k = 0; k < LEAK_KINDS; k++)
		printf("  %-16s %10llu blocks %14llu bytes\n", leak_kind_name((enum leak_kind)k),
		       (unsigned long long)totals.blocks[k], (unsigned long long)totals.bytes[k]);
	return 0;
}
