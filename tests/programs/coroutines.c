/* coroutines.c - three ucontext coroutines, interleaved by a scheduler in
 * main, each allocating known amounts.  No annotation: the async backend
 * must find the tasks itself.
 *   scheduler (main's root task): 3 stacks of 65,536 bytes and a run queue
 *     of 128 bytes, all freed at the end;
 *   worker_frees_all: 4 rounds of 10 blocks of 100 bytes, all freed;
 *   worker_leaks: 4 rounds of 5 blocks of 200 bytes; frees 12, leaks 8
 *     (1,600 bytes);
 *   worker_large: one block of 1,048,576 bytes, freed after a switch.
 * Each coroutine yields after every round and returns at the end (through
 * uc_link, back to the scheduler).  stdio is not used: its buffers would
 * be the scheduler's allocations too.
 */
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#define STACK_BYTES 65536
#define ROUNDS 4

static ucontext_t scheduler;
static ucontext_t contexts[3];
static int finished[3];

static void yield(int self)
{
	swapcontext(&contexts[self], &scheduler);
}

static void worker_frees_all(int self)
{
	void *blocks[ROUNDS * 10];
	for (int round = 0; round < ROUNDS; round++) {
		for (int i = 0; i < 10; i++)
			blocks[round * 10 + i] = malloc(100);
		yield(self);
	}
	for (int i = 0; i < ROUNDS * 10; i++)
		free(blocks[i]);
	finished[self] = 1;
}

static void *kept[8];

static void worker_leaks(int self)
{
	void *blocks[ROUNDS * 5];
	for (int round = 0; round < ROUNDS; round++) {
		for (int i = 0; i < 5; i++)
			blocks[round * 5 + i] = malloc(200);
		yield(self);
	}
	for (int i = 0; i < 12; i++)
		free(blocks[i]);
	/* The other 8 are never freed (kept only so the compiler keeps them). */
	memcpy(kept, &blocks[12], sizeof(kept));
	finished[self] = 1;
}

/* Where the large block is while the worker waits: the compiler may not
 * drop a malloc whose block another function can see. */
static char *volatile large;

static void worker_large(int self)
{
	large = malloc(1048576);
	memset(large, 1, 1048576);
	yield(self);
	free(large);
	finished[self] = 1;
}

int main(void)
{
	void (*const workers[3])(int) = {worker_frees_all, worker_leaks, worker_large};
	void *stacks[3];
	int *queue = malloc(128);
	for (int i = 0; i < 3; i++) {
		stacks[i] = malloc(STACK_BYTES);
		getcontext(&contexts[i]);
		contexts[i].uc_stack.ss_sp = stacks[i];
		contexts[i].uc_stack.ss_size = STACK_BYTES;
		contexts[i].uc_link = &scheduler;
		makecontext(&contexts[i], (void (*)(void))workers[i], 1, i);
		queue[i] = i;
	}
	int running = 3;
	while (running > 0) {
		running = 0;
		for (int i = 0; i < 3; i++) {
			if (finished[queue[i]])
				continue;
			swapcontext(&scheduler, &contexts[queue[i]]);
			running += !finished[queue[i]];
		}
	}
	for (int i = 0; i < 3; i++)
		free(stacks[i]);
	free(queue);
	static const char done[] = "coroutines: done\n";
	return write(1, done, sizeof(done) - 1) == sizeof(done) - 1 ? 0 : 1;
}
