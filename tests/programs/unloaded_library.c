/* unloaded_library.c - a library whose one function allocates a block of
 * 4,321 bytes and returns it; tests/programs/unloads.c loads it, keeps
 * the block and unloads the library at once. */
#include <stdlib.h>

void *allocate_in_library(void);

__attribute__((noinline, visibility("default"))) void *allocate_in_library(void)
{
	void *block = malloc(4321);
	__asm__ volatile("" ::: "memory");
	return block;
}
