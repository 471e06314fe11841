/* ring.c - frees at random across a ring of live blocks of mixed sizes:
 * 262,144 live blocks of 16 to 1,039 bytes (about 140 MB), and at each step
 * one at a random slot is freed and a new one of a random size allocated
 * there.  Unlike alloc_loop's 64 live blocks, the frees land all over a
 * large heap: what a free costs the tracker beyond its cache lines shows.
 * Usage: ring [steps] (default 20,000,000).  Prints "N steps, B bytes". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "xorshift.h"

#define SLOTS (1u << 18)

static void *slots[SLOTS];


int main(int argc, char **argv)
{
	uint64_t steps = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000000;
	uint64_t state = 0x9e3779b97f4a7c15u, bytes = 0;
	for (uint32_t i = 0; i < SLOTS; i++) {
		size_t size = 16 + xorshift_next(&state) % 1024;
		slots[i] = malloc(size);
		bytes += size;
	}
	for (uint64_t i = 0; i < steps; i++) {
		uint64_t random = xorshift_next(&state);
		uint32_t slot = (uint32_t)(random >> 40) % SLOTS;
		size_t size = 16 + random % 1024;
		free(slots[slot]);
		slots[slot] = malloc(size);
		bytes += size;
	}
	for (uint32_t i = 0; i < SLOTS; i++)
		free(slots[i]);
	printf("%llu steps, %llu bytes\n", (unsigned long long)steps, (unsigned long long)bytes);
	return 0;
}
