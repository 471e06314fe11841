/* failing_calls.c - allocation calls that fail, or that the C library
 * answers in its own way, each printed with its result and errno: a
 * traced run must print the same lines as an untraced one (the one line
 * that may differ under --capture hooks, which runs the program on
 * jemalloc's own entry points, starts with "huge").  No call here leaves
 * a block behind but aligned_alloc's and memalign's, which are freed. */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void *volatile sink;
/* Read at run time: the compiler would refuse them as constants. */
static volatile size_t largest = SIZE_MAX, half = SIZE_MAX / 2;

static void said(const char *call, void *block)
{
	printf("%s: %s, errno %d\n", call, block != NULL ? "memory" : "NULL", errno);
	free(block);
}

int main(void)
{
	void *untouched = (void *)16;
	void *result = untouched;
	errno = 0;
	int error = posix_memalign(&result, 3, 100);
	printf("posix_memalign(3, 100): %d, %s\n", error, result == untouched ? "untouched" : "set");
	error = posix_memalign(&result, 64, largest);
	printf("posix_memalign(64, SIZE_MAX): %d, %s\n", error, result == untouched ? "untouched" : "set");
	errno = 0;
	said("aligned_alloc(3, 128)", aligned_alloc(3, 128));
	errno = 0;
	said("memalign(3, 100)", memalign(3, 100));
	errno = 0;
	said("calloc(SIZE_MAX / 2, 4)", calloc(half, 4));
	errno = 0;
	said("reallocarray(NULL, SIZE_MAX / 2, 4)", reallocarray(NULL, half, 4));
	errno = 0;
	said("malloc(SIZE_MAX)", malloc(largest));
	errno = 0;
	said("huge malloc(1 << 46)", malloc((size_t)1 << 46));
	sink = NULL;
	return 0;
}
