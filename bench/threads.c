/* threads.c - allocation throughput with several threads, for
 * bench/threads.sh: each thread replaces, OPERATIONS times, one block of a
 * small working set of its own (32 blocks) with a new one of a size from
 * 16 to 4096 bytes, so every operation is one free and one malloc.  The
 * threads start together (a barrier) and the clock runs from their start
 * to the last one's end.
 *
 * Usage: threads THREADS OPERATIONS_PER_THREAD
 * Prints: "threads THREADS, operations TOTAL, SECONDS s, OPS ops/s"; only the
 * first two figures are the same from run to run. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WORKING_SET 32
#define MAX_THREADS 256

struct worker {
	pthread_t thread;
	unsigned index;
	uint64_t operations;
};

static pthread_barrier_t start;

__attribute__((noinline)) static void *allocate(size_t size)
{
	char *block = malloc(size);
	if (block == NULL) {
		fputs("threads: out of memory\n", stderr);
		exit(1);
	}
	block[0] = (char)size; /* a block the program uses, not one the compiler may drop */
	return block;
}

static void *work(void *argument)
{
	struct worker *worker = argument;
	void *slots[WORKING_SET] = {0};
	/* Each thread its own sequence of sizes and slots. */
	uint64_t state = 0x9e3779b97f4a7c15u * (worker->index + 1);
	pthread_barrier_wait(&start);
	for (uint64_t i = 0; i < worker->operations; i++) {
		state = state * 6364136223846793005u + 1442695040888963407u;
		unsigned slot = (unsigned)(state >> 59) % WORKING_SET;
		free(slots[slot]);
		slots[slot] = allocate(16 + (size_t)(state >> 33) % 4081);
	}
	for (int i = 0; i < WORKING_SET; i++)
		free(slots[i]);
	return NULL;
}

static double seconds_since(const struct timespec *then)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - then->tv_sec) + (double)(now.tv_nsec - then->tv_nsec) / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fputs("usage: threads THREADS OPERATIONS_PER_THREAD\n", stderr);
		return 2;
	}
	char *end;
	unsigned long threads = strtoul(argv[1], &end, 10);
	if (*end != '\0' || threads < 1 || threads > MAX_THREADS) {
		fprintf(stderr, "threads: THREADS must be 1 to %d, not '%s'\n", MAX_THREADS, argv[1]);
		return 2;
	}
	unsigned long long operations = strtoull(argv[2], &end, 10);
	if (*end != '\0' || operations < 1) {
		fprintf(stderr, "threads: OPERATIONS_PER_THREAD must be a positive number, not '%s'\n",
		        argv[2]);
		return 2;
	}

	static struct worker workers[MAX_THREADS];
	pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
	for (unsigned i = 0; i < threads; i++) {
		workers[i] = (struct worker){.index = i, .operations = operations};
		int error = pthread_create(&workers[i].thread, NULL, work, &workers[i]);
		if (error != 0) {
			fprintf(stderr, "threads: cannot start thread %u: %s\n", i, strerror(error));
			return 1;
		}
	}
	struct timespec began;
	pthread_barrier_wait(&start);
	clock_gettime(CLOCK_MONOTONIC, &began);
	for (unsigned i = 0; i < threads; i++)
		pthread_join(workers[i].thread, NULL);
	double seconds = seconds_since(&began);
	pthread_barrier_destroy(&start);

	unsigned long long total = operations * threads;
	printf("threads %lu, operations %llu, %.3f s, %.0f ops/s\n", threads, total, seconds,
	       (double)total / seconds);
	return 0;
}
