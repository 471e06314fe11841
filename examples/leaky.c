/* leaky.c - a program with known leaks, the example `memscope` runs first.
 *
 * It leaks from six functions, each a different way and amount:
 *   leak_with_malloc          3 blocks x 1000 bytes   (malloc)
 *   leak_with_calloc          1 block  of 40 x 100    (calloc)
 *   leak_with_realloc         1 block  grown to 5000  (malloc then realloc)
 *   leak_with_posix_memalign  2 blocks x 4096         (posix_memalign, 64-aligned)
 *   leak_with_strdup          1 block  of 26 bytes    (strdup of a 25-char string)
 *   leak_from_thread          4 blocks x 512          (malloc on a second thread)
 * and frees everything else it allocates (exactly 100 blocks of 64 bytes in
 * churn()).  It exits with status 3 so you can see memscope pass it on.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *volatile last_block;

/* Keeps the compiler from dropping the allocation; the next call forgets
 * the block, which is what makes it a leak. */
__attribute__((noinline)) static void hold(void *block)
{
	last_block = block;
}

__attribute__((noinline)) static void leak_with_malloc(void)
{
	for (int i = 0; i < 3; i++)
		hold(malloc(1000));
}

__attribute__((noinline)) static void leak_with_calloc(void)
{
	hold(calloc(40, 100));
}

__attribute__((noinline)) static void leak_with_realloc(void)
{
	char *block = malloc(100);
	block = realloc(block, 5000);
	hold(block);
}

__attribute__((noinline)) static void leak_with_posix_memalign(void)
{
	for (int i = 0; i < 2; i++) {
		void *block = NULL;
		if (posix_memalign(&block, 64, 4096) == 0)
			hold(block);
	}
}

__attribute__((noinline)) static void leak_with_strdup(void)
{
	hold(strdup("a string of 25 characters"));
}

__attribute__((noinline)) static void *leak_from_thread(void *argument)
{
	for (int i = 0; i < 4; i++)
		hold(malloc(512));
	return argument;
}

__attribute__((noinline)) static void churn(void)
{
	for (int i = 0; i < 100; i++) {
		void *volatile block = malloc(64);
		free(block);
	}
}

int main(void)
{
	churn();
	leak_with_malloc();
	leak_with_calloc();
	leak_with_realloc();
	leak_with_posix_memalign();
	leak_with_strdup();

	pthread_t thread;
	if (pthread_create(&thread, NULL, leak_from_thread, NULL) != 0)
		return 1;
	pthread_join(thread, NULL);

	static const char message[] = "leaky: done, leaking on purpose\n";
	if (write(STDOUT_FILENO, message, sizeof message - 1) < 0)
		return 1;
	return 3;
}
