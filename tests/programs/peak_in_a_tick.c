/* peak_in_a_tick.c - a peak reached and left within one tick of the
 * capture's clock: 64 blocks of 32,500 bytes (2,080,000 bytes) allocated
 * and freed in a burst, twice, with 1,000-byte blocks made and freed
 * between them; ten blocks of 100 bytes stay live at the end.  Reports
 * that order events by their time alone cannot place the peak; the
 * capture's order can, so every report's peak figures must add up to it.
 */
#include <stdlib.h>

static void *volatile sink;

int main(void)
{
	void *burst[64];
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 64; i++)
			burst[i] = malloc(32500);
		for (int i = 0; i < 64; i++) {
			sink = burst[i];
			free(burst[i]);
		}
		for (int i = 0; i < 100; i++) {
			void *small = malloc(1000);
			sink = small;
			free(small);
		}
	}
	for (int i = 0; i < 10; i++)
		sink = malloc(100);
	return 0;
}
