/* entry_points.c - each allocation entry point once, with a size of its
 * own, so a capture shows which call made which block:
 *   malloc 101, calloc 3 x 34 = 102, realloc(NULL) 103, realloc growing a
 *   malloc(8) to 100,000 (moves), reallocarray 5 x 21 = 105, posix_memalign
 *   106, aligned_alloc 64/128, memalign 108, valloc 109, strdup of 9 chars
 *   (10 bytes); every block is freed, the realloc'd one by realloc(p, 0).
 * It checks what the C library promises of each (contents kept by realloc,
 * zeroes from calloc, alignments, usable sizes) and exits 2 to 5 when one
 * does not hold: memscope may put a block in a heap of its own.
 */
#include <malloc.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static void *volatile sink;

int main(void)
{
	/* volatile: the compiler would turn realloc(NULL, n) into malloc(n). */
	void *volatile none = NULL;
	void *blocks[10];
	blocks[0] = malloc(101);
	blocks[1] = calloc(3, 34);
	blocks[2] = realloc(none, 103);
	char *small = malloc(8);
	if (small == NULL)
		return 1;
	memcpy(small, "abcdefg", 8);
	blocks[3] = realloc(small, 100000);
	if (blocks[3] == NULL || memcmp(blocks[3], "abcdefg", 8) != 0)
		return 2;
	blocks[4] = reallocarray(none, 5, 21);
	if (posix_memalign(&blocks[5], 64, 106) != 0)
		return 1;
	blocks[6] = aligned_alloc(64, 128);
	blocks[7] = memalign(64, 108);
	blocks[8] = valloc(109);
	blocks[9] = strdup("123456789");
	for (int i = 0; i < 102; i++)
		if (((const unsigned char *)blocks[1])[i] != 0)
			return 3;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	if ((uintptr_t)blocks[5] % 64 || (uintptr_t)blocks[6] % 64 || (uintptr_t)blocks[7] % 64 ||
	    (uintptr_t)blocks[8] % page)
		return 4;
	static const size_t sizes[10] = {101, 102, 103, 100000, 105, 106, 128, 108, 109, 10};
	for (int i = 0; i < 10; i++) {
		if (blocks[i] == NULL || malloc_usable_size(blocks[i]) < sizes[i])
			return 5;
		memset(blocks[i], 0xa5, malloc_usable_size(blocks[i]));
		sink = blocks[i];
	}
	for (int i = 0; i < 10; i++)
		if (i != 3)
			free(blocks[i]);
	sink = realloc(blocks[3], 0);
	return 0;
}
