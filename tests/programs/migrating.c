/* migrating.c - ucontext coroutines that move between threads: a first
 * thread runs each of 4 coroutines up to its first yield, then a second
 * thread runs them to their end.  Coroutine i allocates i + 1 blocks of 64
 * bytes on the first thread and frees them on the second, where it also
 * allocates and frees one block of 32 bytes: each task ran on 2 threads,
 * made i + 2 allocations and freed them all.  The threads take turns (one
 * joins before the next starts), so the run is deterministic.
 */
#include <pthread.h>
#include <stdlib.h>
#include <ucontext.h>
#include <unistd.h>

#define COROUTINES 4
#define STACK_BYTES 65536

static ucontext_t scheduler;          /* saved by whichever thread schedules */
static ucontext_t contexts[COROUTINES];
static void *volatile blocks[COROUTINES][COROUTINES];
static void *volatile small;

static void coroutine(int self)
{
	for (int i = 0; i <= self; i++)
		blocks[self][i] = malloc(64);
	swapcontext(&contexts[self], &scheduler);
	for (int i = 0; i <= self; i++)
		free(blocks[self][i]);
	small = malloc(32);
	free(small);
}

static void *run_each_once(void *unused)
{
	(void)unused;
	for (int i = 0; i < COROUTINES; i++)
		swapcontext(&scheduler, &contexts[i]);
	return NULL;
}

int main(void)
{
	static char stacks[COROUTINES][STACK_BYTES];
	for (int i = 0; i < COROUTINES; i++) {
		getcontext(&contexts[i]);
		contexts[i].uc_stack.ss_sp = stacks[i];
		contexts[i].uc_stack.ss_size = STACK_BYTES;
		contexts[i].uc_link = &scheduler;
		makecontext(&contexts[i], (void (*)(void))coroutine, 1, i);
	}
	for (int turn = 0; turn < 2; turn++) {
		pthread_t thread;
		if (pthread_create(&thread, NULL, run_each_once, NULL) != 0 ||
		    pthread_join(thread, NULL) != 0)
			return 1;
	}
	static const char done[] = "migrating: done\n";
	return write(1, done, sizeof(done) - 1) == sizeof(done) - 1 ? 0 : 1;
}
