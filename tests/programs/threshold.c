/* threshold.c - 2,000 blocks each of THRESHOLD - 1, THRESHOLD and
 * THRESHOLD + 1 bytes, from three functions of their own, each freed at
 * once, one of each kind in turn: the hybrid backend samples the first
 * kind and records the other two; all three estimates must be unbiased.
 * The turns matter: a sampled block draws a new countdown, which may be
 * longer than the threshold, and the next block at the threshold must be
 * recorded all the same.
 * Usage: threshold THRESHOLD
 */
#include <stdlib.h>

#define BLOCKS 2000

static __attribute__((noinline)) void allocate(size_t size)
{
	char *volatile block = malloc(size);
	block[0] = 1;
	free(block);
}

static __attribute__((noinline)) void just_below(size_t threshold)
{
	allocate(threshold - 1);
}

static __attribute__((noinline)) void at_threshold(size_t threshold)
{
	allocate(threshold);
}

static __attribute__((noinline)) void just_above(size_t threshold)
{
	allocate(threshold + 1);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	size_t threshold = strtoul(argv[1], NULL, 10);
	for (int i = 0; i < BLOCKS; i++) {
		just_below(threshold);
		at_threshold(threshold);
		just_above(threshold);
	}
	return 0;
}
