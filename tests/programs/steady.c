/* steady.c - allocates and frees blocks of 32 to 543 bytes at a steady
 * rate for SECONDS seconds (default 3), then prints what it allocated:
 * "N allocations, B bytes in S.SSS s".  For the hybrid backend's event
 * budget: its rate must stay under the budget however fast this runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec time;
	clock_gettime(CLOCK_MONOTONIC, &time);
	return (double)time.tv_sec + (double)time.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 3.0;
	unsigned long long allocations = 0, bytes = 0;
	double start = now(), elapsed = 0;
	while (elapsed < seconds) {
		for (int i = 0; i < 10000; i++) {
			size_t size = 32 + (size_t)((allocations * 2654435761u) >> 7) % 512;
			char *volatile block = malloc(size);
			block[0] = 1;
			free(block);
			allocations++;
			bytes += size;
		}
		elapsed = now() - start;
	}
	printf("%llu allocations, %llu bytes in %.3f s\n", allocations, bytes, elapsed);
	return 0;
}
