/* reserved.c - see reserved.h. */
#include <stdint.h>
#include <sys/mman.h>

#include "reserved.h"

void *reserved_map(size_t bytes)
{
	void *memory = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
	                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return memory == MAP_FAILED ? NULL : memory;
}

void *reserved_map_aligned(size_t bytes, size_t alignment)
{
	size_t mapped = bytes + alignment;
	char *memory = reserved_map(mapped);
	if (memory == NULL)
		return NULL;
	char *aligned = (char *)(((uintptr_t)memory + alignment - 1) & ~(uintptr_t)(alignment - 1));
	if (aligned != memory)
		munmap(memory, (size_t)(aligned - memory));
	munmap(aligned + bytes, (size_t)(memory + mapped - (aligned + bytes)));
	return aligned;
}
