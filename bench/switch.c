/* switch.c - what a task change costs, for bench/async.sh: a timed loop
 * with no allocation in it, after one untimed warm-up round.
 *
 * Usage: switch MODE [COUNT [BURST]]   (COUNT default 1,000,000)
 *   switch    COUNT swapcontext calls, ping-pong between main and one
 *             coroutine (each round trip is two of them); prints ns per
 *             swapcontext call.  Under memscope --backend async each call
 *             goes through the preload library's wrapper and its task
 *             bookkeeping; under --backend exact the wrapper forwards.
 *   annotate  COUNT memscope_task_enter + memscope_task_leave pairs on one
 *             task (memscope/task.h); prints ns per pair.  Without memscope
 *             in the process, that is the header's cost when nothing is
 *             found.  With BURST, the pairs run in bursts of BURST, 3 ms
 *             apart (the pauses are not timed): memscope's writer thread
 *             sleeps up to a millisecond between drains, and a burst that
 *             fits in the thread's ring measures the annotations' own cost
 *             rather than how fast the writer takes their records in.
 * Prints: "MODE COUNT, SECONDS s, NS ns per UNIT"; only the first two
 * figures are the same from run to run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>

#include "memscope/task.h"

#define STACK_BYTES (64 * 1024)
#define ANNOTATED_TASK 1

static ucontext_t main_context;
static ucontext_t coroutine_context;
static uint64_t round_trips;

static uint64_t now_ns(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

/* Switches straight back, round_trips times; then returns through uc_link. */
static void ping_pong(void)
{
	for (uint64_t i = 0; i < round_trips; i++)
		swapcontext(&coroutine_context, &main_context);
}

/* Two swapcontext calls per round trip: main to the coroutine and back.
 * The coroutine is made afresh each time so that it runs trips round
 * trips and returns. */
static void run_switches(void *stack, uint64_t trips)
{
	getcontext(&coroutine_context);
	coroutine_context.uc_stack.ss_sp = stack;
	coroutine_context.uc_stack.ss_size = STACK_BYTES;
	coroutine_context.uc_link = &main_context;
	makecontext(&coroutine_context, ping_pong, 0);
	round_trips = trips;
	/* trips + 1 entries into the coroutine: the last one returns. */
	for (uint64_t i = 0; i <= trips; i++)
		swapcontext(&main_context, &coroutine_context);
}

static void run_annotations(uint64_t pairs)
{
	for (uint64_t i = 0; i < pairs; i++) {
		memscope_task_enter(ANNOTATED_TASK);
		memscope_task_leave(ANNOTATED_TASK);
	}
}

/* The nanoseconds that pairs enter+leave pairs took, in bursts of burst
 * (0: one burst) with untimed pauses between them. */
static double time_annotations(uint64_t pairs, uint64_t burst)
{
	if (burst == 0)
		burst = pairs;
	const struct timespec pause = {.tv_sec = 0, .tv_nsec = 3000000};
	double elapsed_ns = 0;
	for (uint64_t done = 0; done < pairs; done += burst) {
		uint64_t now = pairs - done < burst ? pairs - done : burst;
		if (done != 0)
			nanosleep(&pause, NULL);
		uint64_t start = now_ns();
		run_annotations(now);
		elapsed_ns += (double)(now_ns() - start);
	}
	return elapsed_ns;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	uint64_t count = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
	uint64_t burst = argc > 3 ? strtoull(argv[3], NULL, 10) : 0;
	double elapsed_ns;
	if (strcmp(mode, "switch") == 0) {
		/* Allocated before the clock starts; the loop allocates nothing. */
		void *stack = malloc(STACK_BYTES);
		if (stack == NULL)
			return 1;
		uint64_t trips = count / 2;
		run_switches(stack, 1000);
		uint64_t start = now_ns();
		run_switches(stack, trips);
		elapsed_ns = (double)(now_ns() - start);
		/* Besides the round trips: the entry that finds the coroutine's
		 * loop over, and its return through uc_link (a makecontext is
		 * timed too, once). */
		count = trips * 2 + 2;
		free(stack);
	} else if (strcmp(mode, "annotate") == 0) {
		memscope_task_begin(ANNOTATED_TASK, "annotated", 0);
		run_annotations(1000);
		elapsed_ns = time_annotations(count, burst);
		memscope_task_end(ANNOTATED_TASK);
	} else {
		fprintf(stderr, "usage: switch switch|annotate [COUNT [BURST]]\n");
		return 2;
	}
	printf("%s %llu, %.6f s, %.2f ns per %s\n", mode, (unsigned long long)count,
	       elapsed_ns / 1e9, elapsed_ns / (double)count,
	       strcmp(mode, "switch") == 0 ? "switch" : "enter+leave pair");
	return 0;
}
