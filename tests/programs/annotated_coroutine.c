/* annotated_coroutine.c - an annotation inside a ucontext coroutine wins
 * over the coroutine's own task, and stays with the coroutine across its
 * switches:
 *   the coroutine enters task 42 ("inner"), allocates 11 bytes, yields;
 *   main, resumed, allocates 22 bytes: its own (the enter is the
 *     coroutine's, not the thread's);
 *   the coroutine, resumed, allocates 33 bytes (still inner's), leaves
 *     42, allocates 44 bytes (the coroutine's own task) and returns.
 * Nothing is freed: each figure is also a leak of the task it belongs to.
 */
#include <stdlib.h>
#include <ucontext.h>
#include <unistd.h>

#include <memscope/task.h>

static ucontext_t scheduler, coroutine;
static void *volatile kept[4];

static void body(void)
{
	memscope_task_enter(42);
	kept[0] = malloc(11);
	swapcontext(&coroutine, &scheduler);
	kept[2] = malloc(33);
	memscope_task_leave(42);
	kept[3] = malloc(44);
}

int main(void)
{
	static char stack[65536];
	memscope_task_begin(42, "inner", 0);
	getcontext(&coroutine);
	coroutine.uc_stack.ss_sp = stack;
	coroutine.uc_stack.ss_size = sizeof(stack);
	coroutine.uc_link = &scheduler;
	makecontext(&coroutine, body, 0);
	swapcontext(&scheduler, &coroutine);
	kept[1] = malloc(22);
	swapcontext(&scheduler, &coroutine);
	memscope_task_end(42);
	static const char done[] = "annotated_coroutine: done\n";
	return write(1, done, sizeof(done) - 1) == sizeof(done) - 1 ? 0 : 1;
}
