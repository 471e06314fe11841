/* sampled.c - a program whose heap totals are known exactly, for the
 * lockfree backend's estimates: a leak of 64 MiB in 16,384 blocks, a ramp
 * of 256 MiB live in 4 KiB blocks freed again (the peak: 320 MiB), then
 * CHURN blocks of 16 to 4,096 bytes, each freed at once.  It prints its own
 * totals on stdout, without stdio (whose buffer would be one more block):
 *
 *     allocations A bytes B peak P leak L
 *
 * Usage: sampled [CHURN [RAMP]]: CHURN blocks (default 4,000,000), a ramp
 * of RAMP blocks of 4 KiB (default 65,536, at most that). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define LEAK_BLOCKS 16384
#define RAMP_BLOCKS 65536
#define BLOCK 4096

static void *leaked[LEAK_BLOCKS];
static void *ramp[RAMP_BLOCKS];
static uint64_t allocations, bytes;

/* A macro, not a function: the malloc call is then in the function that
 * reports name, and its leaks and sites show under it. */
#define COUNTED_MALLOC(target, size)                    \
	do {                                            \
		size_t bytes_ = (size);                 \
		(target) = malloc(bytes_);              \
		if ((target) == NULL)                   \
			abort();                        \
		allocations++;                          \
		bytes += bytes_;                        \
	} while (0)

__attribute__((noinline)) static void leak_64_mib(void)
{
	for (int i = 0; i < LEAK_BLOCKS; i++)
		COUNTED_MALLOC(leaked[i], BLOCK);
}

__attribute__((noinline)) static void ramp_up_and_down(uint64_t ramp_blocks)
{
	for (uint64_t i = 0; i < ramp_blocks; i++)
		COUNTED_MALLOC(ramp[i], BLOCK);
	for (uint64_t i = 0; i < ramp_blocks; i++)
		free(ramp[i]);
}

__attribute__((noinline)) static void churn(uint64_t count)
{
	for (uint64_t i = 0; i < count; i++) {
		char *block;
		COUNTED_MALLOC(block, 16 + (size_t)(i * 7919 % 4081));
		*(volatile char *)block = 1;
		free((void *)block);
	}
}

int main(int argc, char **argv)
{
	uint64_t count = argc > 1 ? strtoull(argv[1], NULL, 10) : 4000000;
	uint64_t ramp_blocks = argc > 2 ? strtoull(argv[2], NULL, 10) : RAMP_BLOCKS;
	if (ramp_blocks > RAMP_BLOCKS)
		ramp_blocks = RAMP_BLOCKS;
	leak_64_mib();
	ramp_up_and_down(ramp_blocks);
	churn(count);
	char line[160];
	int length = snprintf(line, sizeof line, "allocations %llu bytes %llu peak %llu leak %llu\n",
	                      (unsigned long long)allocations, (unsigned long long)bytes,
	                      (unsigned long long)(LEAK_BLOCKS + ramp_blocks) * BLOCK,
	                      (unsigned long long)LEAK_BLOCKS * BLOCK);
	return write(STDOUT_FILENO, line, (size_t)length) == length ? 0 : 1;
}
