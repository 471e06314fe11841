/* alloc_loop.c - an allocation-heavy workload for the overhead benchmark:
 * a pure malloc/free loop, a few calls deep, sizes from 16 to 4 KiB, and a
 * working set of 64 live blocks so frees do not always follow their
 * allocation.  Usage: alloc_loop [iterations] (default 2,000,000). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define WORKING_SET 64

static void *slots[WORKING_SET];

__attribute__((noinline)) static void *allocate(size_t size)
{
	return malloc(size);
}

__attribute__((noinline)) static void step(uint64_t i)
{
	unsigned slot = (unsigned)(i * 2654435761u) % WORKING_SET;
	free(slots[slot]);
	slots[slot] = allocate(16 + (i * 7919) % 4080);
}

__attribute__((noinline)) static void run(uint64_t iterations)
{
	for (uint64_t i = 0; i < iterations; i++)
		step(i);
}

int main(int argc, char **argv)
{
	uint64_t iterations = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000000;
	run(iterations);
	for (int i = 0; i < WORKING_SET; i++)
		free(slots[i]);
	printf("%llu iterations\n", (unsigned long long)iterations);
	return 0;
}
