/* interleaved.c - what memscope's malloc and free cost on bench/ring.c's
 * pattern (frees at random across 262,144 live blocks of 16 to 1,039
 * bytes), measured inside one process: the ring runs in turns of 50,000
 * steps, each turn through one pair of functions, the C library's own
 * (__libc_malloc, __libc_free) or memscope's (the preload library's
 * malloc and free, tracing this process with a sampling backend), and the
 * time stamp counter adds up each pair's turns.
 *
 * Timed in separate processes, the same comparison moved by 10% from one
 * run to the next on this VM: other machines' work slows a heap this size
 * for seconds at a time.  Turns of a few milliseconds share those spells
 * between both pairs.  What this leaves out, a run's start and end (memscope
 * loading, finishing the capture), is small and the same for every program.
 *
 *   interleaved PRELOAD_LIBRARY [BACKEND [ROUNDS [CAPTURE]]]
 *
 * BACKEND is lockfree (the default) or hybrid; ROUNDS of one turn of each
 * pair, in alternate order (default 200); CAPTURE is where the capture
 * goes (default /tmp/memscope-interleaved.memscope).  Prints the median
 * cycles a step took with each pair, and the median over the rounds of
 * the two turns' ratio: a turn the kernel took the processor away from
 * weighs no more than any other.  Every call of a turn is its pair's,
 * frees too: memscope's free takes a block glibc made as it takes any
 * block no sampler picked.  (Frees given back to the pair that made the
 * block would put half of each pair's frees on the other's turns, and hide
 * what free costs.)  One exception: a block in memscope's heap of sampled
 * blocks (backends/sampled_heap.h) only memscope's free can take, so each
 * slot keeps, in its low bit, whether its block lies in that heap's range
 * (read from /proc/self/maps), and such a block goes to memscope's free
 * whoever's turn it is: one block in a thousand.  Both pairs' turns run
 * the same code for that, a compare when they allocate and a test when
 * they free.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <x86intrin.h>

#include "xorshift.h"

#define SLOTS (1u << 18)
#define TURN_STEPS 50000

extern void *__libc_malloc(size_t size);
extern void __libc_free(void *block);

struct pair {
	const char *name;
	void *(*allocate)(size_t);
	void (*release)(void *);
	uint64_t *cycles;             /* of each round's turn */
};

static uintptr_t slots[SLOTS]; /* a block's address | whether it is in the heap */
static uintptr_t heap_start, heap_span;
static void (*memscope_free)(void *);

static uintptr_t slot_value(void *block)
{
	return (uintptr_t)block | ((uintptr_t)block - heap_start < heap_span);
}

static void release_slot(const struct pair *pair, uintptr_t value)
{
	void *block = (void *)(value & ~(uintptr_t)1);
	if (value & 1)
		memscope_free(block);
	else
		pair->release(block);
}

/* memscope's heap of sampled blocks: the one mapping of more than 64 GiB. */
static void find_heap(void)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	if (maps == NULL)
		return;
	unsigned long start, end;
	char line[512];
	while (fgets(line, sizeof line, maps) != NULL) {
		if (sscanf(line, "%lx-%lx", &start, &end) == 2 && end - start > (64ul << 30)) {
			heap_start = start;
			heap_span = end - start;
		}
	}
	fclose(maps);
}


static void turn(struct pair *pairs, unsigned chosen, unsigned long round, uint64_t *state)
{
	struct pair *pair = &pairs[chosen];
	uint64_t start = __rdtsc();
	for (int i = 0; i < TURN_STEPS; i++) {
		uint64_t random = xorshift_next(state);
		uint32_t slot = (uint32_t)(random >> 40) % SLOTS;
		release_slot(pair, slots[slot]);
		slots[slot] = slot_value(pair->allocate(16 + random % 1024));
	}
	pair->cycles[round] = __rdtsc() - start;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *values, unsigned long count)
{
	qsort(values, count, sizeof *values, compare_doubles);
	return count % 2 ? values[count / 2] : (values[count / 2 - 1] + values[count / 2]) / 2;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: interleaved PRELOAD_LIBRARY [BACKEND [ROUNDS [CAPTURE]]]\n");
		return 2;
	}
	const char *backend = argc > 2 ? argv[2] : "lockfree";
	unsigned long rounds = argc > 3 ? strtoul(argv[3], NULL, 10) : 200;
	if (rounds == 0)
		rounds = 1;
	const char *capture = argc > 4 ? argv[4] : "/tmp/memscope-interleaved.memscope";
	char pid[32];
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	/* What `memscope run --backend BACKEND` tells its preload library. */
	setenv("MEMSCOPE_OUTPUT", capture, 1);
	setenv("MEMSCOPE_ROOT_PID", pid, 1);
	setenv("MEMSCOPE_BACKEND", backend, 1);
	setenv("MEMSCOPE_ALLOCATOR", "libc", 1);
	void *library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (library == NULL) {
		fprintf(stderr, "interleaved: %s\n", dlerror());
		return 2;
	}
	struct pair pairs[2] = {
		{.name = "glibc", .allocate = __libc_malloc, .release = __libc_free},
		{.name = "memscope", .allocate = (void *(*)(size_t))dlsym(library, "malloc"),
		 .release = (void (*)(void *))dlsym(library, "free")},
	};
	if (pairs[1].allocate == NULL || pairs[1].release == NULL) {
		fprintf(stderr, "interleaved: %s has no malloc or free\n", argv[1]);
		return 2;
	}

	double *values = calloc(rounds, sizeof *values);
	pairs[0].cycles = calloc(rounds, sizeof(uint64_t));
	pairs[1].cycles = calloc(rounds, sizeof(uint64_t));
	if (values == NULL || pairs[0].cycles == NULL || pairs[1].cycles == NULL)
		return 2;

	memscope_free = pairs[1].release;
	find_heap();
	uint64_t state = 0x9e3779b97f4a7c15u;
	for (uint32_t slot = 0; slot < SLOTS; slot++)
		slots[slot] = slot_value(pairs[1].allocate(16 + xorshift_next(&state) % 1024));
	for (unsigned long round = 0; round < rounds; round++) {
		turn(pairs, (unsigned)(round & 1), round, &state);
		turn(pairs, (unsigned)(~round & 1), round, &state);
	}
	for (uint32_t slot = 0; slot < SLOTS; slot++)
		release_slot(&pairs[1], slots[slot]);

	for (int i = 0; i < 2; i++) {
		for (unsigned long round = 0; round < rounds; round++)
			values[round] = (double)pairs[i].cycles[round] / TURN_STEPS;
		printf("%-9s %.1f cycles a step\n", pairs[i].name, median(values, rounds));
	}
	for (unsigned long round = 0; round < rounds; round++)
		values[round] = (double)pairs[1].cycles[round] / (double)pairs[0].cycles[round];
	printf("memscope/glibc %.3fx (%s, median of %lu rounds of %d steps each)\n",
	       median(values, rounds), backend, rounds, TURN_STEPS);
	return 0;
}
