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
 * frees too: memscope's free takes a block glibc made as it takes one
 * from before tracking started (its filter says no), and a sample glibc's
 * free takes back stays in memscope's set, a stale entry whose cell still
 * answers its neighbours' frees at once.  (Frees given back to the pair
 * that made the block would put half of each pair's frees on the other's
 * turns, and hide what free costs.)
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

static void *slots[SLOTS];


static void turn(struct pair *pairs, unsigned chosen, unsigned long round, uint64_t *state)
{
	struct pair *pair = &pairs[chosen];
	uint64_t start = __rdtsc();
	for (int i = 0; i < TURN_STEPS; i++) {
		uint64_t random = xorshift_next(state);
		uint32_t slot = (uint32_t)(random >> 40) % SLOTS;
		pair->release(slots[slot]);
		slots[slot] = pair->allocate(16 + random % 1024);
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

	uint64_t state = 0x9e3779b97f4a7c15u;
	for (uint32_t slot = 0; slot < SLOTS; slot++) {
		slots[slot] = pairs[1].allocate(16 + xorshift_next(&state) % 1024);
	}
	for (unsigned long round = 0; round < rounds; round++) {
		turn(pairs, (unsigned)(round & 1), round, &state);
		turn(pairs, (unsigned)(~round & 1), round, &state);
	}
	for (uint32_t slot = 0; slot < SLOTS; slot++)
		pairs[1].release(slots[slot]);

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
