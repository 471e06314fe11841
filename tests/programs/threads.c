/* threads.c - blocks allocated on one thread and freed on another, many
 * times over, to check that the capture keeps the true order of events
 * across threads: at the end nothing is live and no free is unmatched.
 *   4 producer threads x 20,000 malloc(48) handed through a queue to
 *   4 consumer threads that free them: 80,000 allocations, 80,000 frees.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#define THREADS 4
#define PER_THREAD 20000
#define SLOTS 1024

static _Atomic(void *) slots[SLOTS];

static void *produce(void *argument)
{
	unsigned index = (unsigned)(uintptr_t)argument;
	for (int i = 0; i < PER_THREAD; i++) {
		void *block = malloc(48);
		for (;;) {
			void *expected = NULL;
			index = (index + 7) % SLOTS;
			if (atomic_compare_exchange_weak(&slots[index], &expected, block))
				break;
		}
	}
	return NULL;
}

static void *consume(void *argument)
{
	unsigned index = (unsigned)(uintptr_t)argument;
	for (int freed = 0; freed < PER_THREAD;) {
		index = (index + 13) % SLOTS;
		void *block = atomic_exchange(&slots[index], NULL);
		if (block != NULL) {
			free(block);
			freed++;
		}
	}
	return NULL;
}

int main(void)
{
	pthread_t producers[THREADS], consumers[THREADS];
	for (uintptr_t i = 0; i < THREADS; i++) {
		pthread_create(&producers[i], NULL, produce, (void *)(i * 100));
		pthread_create(&consumers[i], NULL, consume, (void *)(i * 100 + 50));
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(producers[i], NULL);
		pthread_join(consumers[i], NULL);
	}
	return 0;
}
