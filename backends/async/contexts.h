/* contexts.h - ucontext coroutines as tasks, for the preload library's
 * swapcontext, setcontext and makecontext (cli/preload_ucontext.c).
 *
 * makecontext makes a new task, a child of the task current where it is
 * called; the code that ran before a thread's first switch stays in the
 * thread's root task.  A switch saves what the thread runs (tasks.h's
 * task_state: the coroutine and the annotations entered on it) with the
 * context it leaves, and restores the state saved with the context it goes
 * to.  glibc ends a coroutine whose function returns with an internal call
 * to __setcontext that no interposer sees, so makecontext installs a
 * trampoline of ours instead of the function: it calls the function, then
 * ends the task and makes the uc_link context's state current before glibc
 * switches to it.
 *
 * Contexts are found by address in a table behind a spin lock (a switch
 * already costs a sigprocmask system call); their records never move, and
 * are given back when their coroutine ends or the context is made again.
 * A switch made from a signal handler that interrupted the table's owner
 * on the same thread is passed through untracked.
 */
#ifndef MEMSCOPE_ASYNC_CONTEXTS_H
#define MEMSCOPE_ASYNC_CONTEXTS_H

#include <stdbool.h>
#include <stdint.h>
#include <ucontext.h>

/* Arguments of a coroutine function that makecontext can carry through the
 * trampoline; with more, the context is made as it is, untracked. */
#define CONTEXT_MAX_ARGS 16

/* Before switching from the running context (saved into from; NULL for
 * setcontext) to the context to. */
void contexts_before_switch(ucontext_t *from, const ucontext_t *to);

/* What the real makecontext should install for (ucp, function, args):
 * returns true and sets *start and the two halves of its argument when the
 * coroutine is tracked (then call makecontext(ucp, *start, 2, low, high)),
 * false to make the context as the program asked. */
bool contexts_make(ucontext_t *ucp, void (*function)(void), int argc, const uint64_t *args,
                   void (**start)(void), unsigned int *low, unsigned int *high);

/* Contexts tracked now, and those passed through because the table was
 * full or busy on the same thread (for tests and the capture's INFO). */
void contexts_counts(uint64_t *tracked, uint64_t *untracked);

#endif
