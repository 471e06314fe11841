/* entry_points.c - each allocation entry point once, with a size of its
 * own, so a capture shows which call made which block:
 *   malloc 101, calloc 3 x 34 = 102, realloc(NULL) 103, realloc growing a
 *   malloc(8) to 100,000 (moves), reallocarray 5 x 21 = 105, posix_memalign
 *   106, aligned_alloc 64/128, memalign 108, valloc 109, strdup of 9 chars
 *   (10 bytes); every block is freed, the realloc'd one by realloc(p, 0).
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

static void *volatile sink;

int main(void)
{
	/* volatile: the compiler would turn realloc(NULL, n) into malloc(n). */
	void *volatile none = NULL;
	void *blocks[10];
	blocks[0] = malloc(101);
	blocks[1] = calloc(3, 34);
	blocks[2] = realloc(none, 103);
	blocks[3] = realloc(malloc(8), 100000);
	blocks[4] = reallocarray(none, 5, 21);
	if (posix_memalign(&blocks[5], 64, 106) != 0)
		return 1;
	blocks[6] = aligned_alloc(64, 128);
	blocks[7] = memalign(64, 108);
	blocks[8] = valloc(109);
	blocks[9] = strdup("123456789");
	for (int i = 0; i < 10; i++)
		sink = blocks[i];
	for (int i = 0; i < 10; i++)
		if (i != 3)
			free(blocks[i]);
	sink = realloc(blocks[3], 0);
	return 0;
}
