/* steady.c - allocates and frees blocks of 32 to 543 bytes at a steady
 * rate for SECONDS seconds (default 3) on THREADS threads (default 1, the
 * main thread; more are started for the purpose), then prints what they
 * allocated together: "N allocations, B bytes in S.SSS s".  For the
 * hybrid backend's event budget: its rate must stay under the budget
 * however fast this runs, and however many threads share it.
 * Usage: steady [SECONDS [THREADS]]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAX_THREADS 16

struct worker {
	pthread_t thread;
	double seconds;
	unsigned long long allocations;
	unsigned long long bytes;
	double elapsed;
};

static double now(void)
{
	struct timespec time;
	clock_gettime(CLOCK_MONOTONIC, &time);
	return (double)time.tv_sec + (double)time.tv_nsec * 1e-9;
}

static void *work(void *argument)
{
	struct worker *worker = argument;
	double start = now();
	while (worker->elapsed < worker->seconds) {
		for (int i = 0; i < 10000; i++) {
			size_t size = 32 + (size_t)((worker->allocations * 2654435761u) >> 7) % 512;
			char *volatile block = malloc(size);
			block[0] = 1;
			free(block);
			worker->allocations++;
			worker->bytes += size;
		}
		worker->elapsed = now() - start;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 3.0;
	int threads = argc > 2 ? atoi(argv[2]) : 1;
	if (threads < 1 || threads > MAX_THREADS) {
		fprintf(stderr, "steady: THREADS must be 1 to %d\n", MAX_THREADS);
		return 2;
	}
	static struct worker workers[MAX_THREADS];
	for (int i = 0; i < threads; i++)
		workers[i].seconds = seconds;
	for (int i = 1; i < threads; i++)
		if (pthread_create(&workers[i].thread, NULL, work, &workers[i]) != 0)
			return 1;
	work(&workers[0]);
	unsigned long long allocations = workers[0].allocations, bytes = workers[0].bytes;
	double elapsed = workers[0].elapsed;
	for (int i = 1; i < threads; i++) {
		pthread_join(workers[i].thread, NULL);
		allocations += workers[i].allocations;
		bytes += workers[i].bytes;
		if (workers[i].elapsed > elapsed)
			elapsed = workers[i].elapsed;
	}
	printf("%llu allocations, %llu bytes in %.3f s\n", allocations, bytes, elapsed);
	return 0;
}
