/* counts.c - allocations whose every count and byte is known, for the
 * end-to-end tests.  What it does, in order:
 *   1000 x malloc(32) then free               1000 allocations, 32,000 bytes
 *   10 x calloc(10, 10) kept, then freed      10 allocations, 1,000 bytes
 *   peak: 10 x malloc(100,000) live at once   1,000,000 bytes live at the peak
 *   1 x malloc(24) grown by realloc to 4,000,000 bytes (moves), then freed
 *   1 x malloc(20,000) resized by realloc to 20,400 (in place: jemalloc's
 *     size class is 20,480), then freed
 * Nothing else allocates.  Totals: 1,024 allocation calls (1000 + 10 + 10 +
 * 2 malloc + 2 realloc), 1,023 blocks handed out (the in-place realloc
 * hands out none), all freed.  Peak: 4,000,000 bytes, the realloc'd block
 * alone, counting a moving realloc as a resize (as heaptrack and massif
 * do); 4,000,024 with jemalloc's hooks, which see both blocks live for an
 * instant.
 */
#include <stdlib.h>

static void *volatile sink;

int main(void)
{
	for (int i = 0; i < 1000; i++) {
		sink = malloc(32);
		free(sink);
	}

	void *blocks[10];
	for (int i = 0; i < 10; i++)
		blocks[i] = calloc(10, 10);
	for (int i = 0; i < 10; i++)
		free(blocks[i]);

	for (int i = 0; i < 10; i++)
		blocks[i] = malloc(100000);
	for (int i = 0; i < 10; i++)
		free(blocks[i]);

	char *grown = malloc(24);
	grown = realloc(grown, 4000000);
	sink = grown;
	free(grown);

	char *resized = malloc(20000);
	resized = realloc(resized, 20400);
	sink = resized;
	free(resized);
	return 0;
}
