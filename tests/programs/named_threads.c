/* named_threads.c - 8 threads, one after another, each naming itself
 * "worker-N" before its only allocation (100 bytes, freed) and ending at
 * once: the capture must still name every one, though each is gone long
 * before memscope's writer thread reads its events.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>

#define THREADS 8

static void *work(void *argument)
{
	char name[16];
	snprintf(name, sizeof(name), "worker-%u", (unsigned)(uintptr_t)argument);
	prctl(PR_SET_NAME, name);
	void *volatile block = malloc(100);
	free(block);
	return NULL;
}

int main(void)
{
	for (unsigned i = 0; i < THREADS; i++) {
		pthread_t thread;
		if (pthread_create(&thread, NULL, work, (void *)(uintptr_t)i) != 0)
			return 1;
		pthread_join(thread, NULL);
	}
	return 0;
}
