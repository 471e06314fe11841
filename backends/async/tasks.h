/* tasks.h - which task each thread of the program runs, as the runtime
 * sees it, and the entry points memscope/task.h finds by name.
 *
 * A thread runs, in order of precedence: the innermost task.h annotation it
 * entered (and has not left), else the ucontext coroutine it runs
 * (contexts.h), else its root task.  Whenever that changes while a backend
 * that records tasks is attached, the change is sent to it as a struct
 * store_task, in order with the thread's heap events.  The state lives in
 * thread-local storage: no lock, no allocation; a send costs one entry in
 * the thread's ring.
 */
#ifndef MEMSCOPE_ASYNC_TASKS_H
#define MEMSCOPE_ASYNC_TASKS_H

#include <stdbool.h>
#include <stdint.h>

struct backend;
struct store_task;

#define TASK_NESTING 16 /* enters a thread (or a coroutine) keeps at once */

/* What a thread runs, saved with a coroutine when it is switched away from
 * and restored when it runs again. */
struct task_state {
	uint64_t coroutine;         /* the ucontext coroutine's key; 0: none */
	uint32_t depth;             /* annotations entered, innermost last */
	uint32_t overflow;          /* enters past TASK_NESTING, not kept */
	uint64_t entered[TASK_NESTING];
};

/* From here on, task changes go to backend (the async backend's open);
 * NULL stops them (its close). */
void tasks_attach(struct backend *backend);

/* Whether a backend takes task changes now. */
bool tasks_attached(void);

/* The calling thread's state, for contexts.c to save and restore. */
struct task_state *tasks_thread_state(void);

/* Sends a switch if what the calling thread runs differs from what was
 * last sent for it. */
void tasks_report(void);

/* Sends one task event (a begin or an end) of the calling thread. */
void tasks_send(const struct store_task *task);

#endif
