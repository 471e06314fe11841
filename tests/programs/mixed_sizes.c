/* mixed_sizes.c - large blocks the hybrid backend must record exactly,
 * among many small ones it samples.  It prints its own totals.
 *   large_blocks: 40 blocks of 600,000 bytes, freed, then one of 1,000,000
 *     kept (a leak of one large block);
 *   small_blocks: 100,000 blocks of 16 to 271 bytes (16 + i % 256), a
 *     fifth of them kept live to the end, the rest freed at once.
 * With --sample-interval 16K the hybrid threshold is 75,452 bytes: every
 * large block is above it, every small one far below.
 */
#include <stdio.h>
#include <stdlib.h>

#define SMALL 100000

static void *volatile kept_large;
static void *volatile kept_small[SMALL / 5];

static __attribute__((noinline)) void large_blocks(void)
{
	for (int i = 0; i < 40; i++) {
		char *volatile block = malloc(600000);
		block[0] = 1;
		free(block);
	}
	kept_large = malloc(1000000);
}

static __attribute__((noinline)) unsigned long long small_blocks(void)
{
	unsigned long long bytes = 0;
	for (int i = 0; i < SMALL; i++) {
		size_t size = 16 + (size_t)(i % 256);
		char *volatile block = malloc(size);
		block[0] = 1;
		bytes += size;
		if (i % 5 == 0)
			kept_small[i / 5] = block;
		else
			free(block);
	}
	return bytes;
}

int main(void)
{
	large_blocks();
	unsigned long long small = small_blocks();
	printf("large: 41 blocks, %llu bytes; small: %d blocks, %llu bytes, %d kept\n",
	       40ULL * 600000 + 1000000, SMALL, small, SMALL / 5);
	return 0;
}
