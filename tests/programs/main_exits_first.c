/* main_exits_first.c - main starts a worker and leaves through
 * pthread_exit; the worker allocates and frees 50 blocks of 100 bytes
 * over 100 ms, keeps one of 55 bytes, prints "worker done" and returns.
 * The process then ends as if exit(0) had been called: main's block of
 * 77 bytes and the worker's of 55 are leaks. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *volatile sink;

static void *work(void *argument)
{
	(void)argument;
	for (int i = 0; i < 50; i++) {
		void *block = malloc(100);
		sink = block;
		usleep(2000);
		free(block);
	}
	sink = malloc(55);
	puts("worker done");
	return NULL;
}

int main(void)
{
	pthread_t worker;
	if (pthread_create(&worker, NULL, work, NULL) != 0)
		return 2;
	sink = malloc(77);
	pthread_exit(NULL);
}
