/* tasks_scale.c - many short-lived tasks, for bench/async.sh: how a capture
 * of memscope --backend async and the reports read from it grow with the
 * tasks that ended, against those live at once.
 *
 * Usage: tasks_scale MODE TASKS LIVE
 *   annotate  tasks named with memscope/task.h
 *   ucontext  ucontext coroutines, found by memscope itself: each with its
 *             own stack, a scheduler in main switching among them
 * LIVE slots each hold one task.  The first LIVE tasks start one after the
 * other; then, in rotation, each slot's task is finished and a new one
 * started in its place, until TASKS have started; then the last LIVE are
 * finished.  A task runs twice: when it starts it allocates 4 blocks (32
 * to 536 bytes) and frees 3, keeping one; when it is finished it frees that
 * one and ends.  So at most LIVE tasks and LIVE blocks are live at once,
 * and nothing is leaked.  An annotated task is begun, entered, left and
 * ended; a coroutine yields to the scheduler between its two runs and
 * returns through uc_link at the end (4 switches per task).
 * Prints: "MODE TASKS tasks, LIVE live at once, ALLOCATIONS allocations".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "memscope/task.h"

#define STACK_BYTES (64 * 1024) /* memscope unwinds on it at each malloc */
#define BLOCKS_PER_TASK 4

static void **kept;              /* [live]: the block each slot's task keeps */
static uint64_t allocations;

/* A task's first run: what it allocates and frees. */
static void first_run(size_t slot, uint64_t task)
{
	void *blocks[BLOCKS_PER_TASK];
	for (int i = 0; i < BLOCKS_PER_TASK; i++)
		blocks[i] = malloc(32 + (task * 131 + (uint64_t)i * 67) % 505);
	allocations += BLOCKS_PER_TASK;
	for (int i = 1; i < BLOCKS_PER_TASK; i++)
		free(blocks[i]);
	kept[slot] = blocks[0];
}

static void last_run(size_t slot)
{
	free(kept[slot]);
	kept[slot] = NULL;
}

/* ---- annotated tasks ---------------------------------------------------- */

static void annotated_start(size_t slot, uint64_t task)
{
	uint64_t id = task + 1;
	memscope_task_begin(id, "job", 0);
	memscope_task_enter(id);
	first_run(slot, task);
	memscope_task_leave(id);
}

static void annotated_finish(size_t slot, uint64_t task)
{
	uint64_t id = task + 1;
	memscope_task_enter(id);
	last_run(slot);
	memscope_task_leave(id);
	memscope_task_end(id);
}

static void run_annotated(uint64_t tasks, size_t live)
{
	uint64_t *running = calloc(live, sizeof(*running));
	if (running == NULL)
		exit(1);
	for (uint64_t task = 0; task < tasks; task++) {
		size_t slot = (size_t)(task % live);
		if (task >= live)
			annotated_finish(slot, running[slot]);
		running[slot] = task;
		annotated_start(slot, task);
	}
	for (uint64_t task = tasks > live ? tasks - live : 0; task < tasks; task++)
		annotated_finish((size_t)(task % live), task);
	free(running);
}

/* ---- ucontext coroutines ------------------------------------------------- */

static ucontext_t scheduler;
static ucontext_t *contexts;     /* [live] */

static void coroutine(unsigned int slot, unsigned int task_low, unsigned int task_high)
{
	first_run(slot, (uint64_t)task_high << 32 | task_low);
	swapcontext(&contexts[slot], &scheduler);
	last_run(slot);
}

static void coroutine_start(ucontext_t *context, char *stack, size_t slot, uint64_t task)
{
	getcontext(context);
	context->uc_stack.ss_sp = stack;
	context->uc_stack.ss_size = STACK_BYTES;
	context->uc_link = &scheduler;
	makecontext(context, (void (*)(void))coroutine, 3, (unsigned int)slot,
	            (unsigned int)(task & 0xffffffffu), (unsigned int)(task >> 32));
	swapcontext(&scheduler, context);
}

static void run_coroutines(uint64_t tasks, size_t live)
{
	/* Stacks are mapped, not allocated: the heap is the tasks' alone, but
	 * for the context array. */
	char *stacks = mmap(NULL, live * STACK_BYTES, PROT_READ | PROT_WRITE,
	                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	contexts = calloc(live, sizeof(*contexts));
	if (stacks == MAP_FAILED || contexts == NULL)
		exit(1);
	for (uint64_t task = 0; task < tasks; task++) {
		size_t slot = (size_t)(task % live);
		if (task >= live)
			swapcontext(&scheduler, &contexts[slot]); /* it finishes and returns here */
		coroutine_start(&contexts[slot], stacks + slot * STACK_BYTES, slot, task);
	}
	for (uint64_t task = tasks > live ? tasks - live : 0; task < tasks; task++)
		swapcontext(&scheduler, &contexts[task % live]);
	free(contexts);
	munmap(stacks, live * STACK_BYTES);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: tasks_scale annotate|ucontext TASKS LIVE\n");
		return 2;
	}
	const char *mode = argv[1];
	uint64_t tasks = strtoull(argv[2], NULL, 10);
	size_t live = (size_t)strtoull(argv[3], NULL, 10);
	if (live == 0 || live > tasks) {
		fprintf(stderr, "tasks_scale: LIVE must be from 1 to TASKS (%llu), not %zu\n",
		        (unsigned long long)tasks, live);
		return 2;
	}
	kept = calloc(live, sizeof(*kept));
	if (kept == NULL)
		return 1;
	if (strcmp(mode, "annotate") == 0) {
		run_annotated(tasks, live);
	} else if (strcmp(mode, "ucontext") == 0) {
		run_coroutines(tasks, live);
	} else {
		fprintf(stderr, "tasks_scale: MODE is annotate or ucontext, not %s\n", mode);
		return 2;
	}
	free(kept);
	printf("%s %llu tasks, %zu live at once, %llu allocations\n", mode, (unsigned long long)tasks,
	       live, (unsigned long long)allocations);
	return 0;
}
