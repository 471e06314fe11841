/* tasks.c - see tasks.h; also the exported memscope_task_interface_v1. */
#include "tasks.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "memscope/memscope.h"
#include "memscope/task.h"

#include "backend.h"
#include "capture.h"
#include "event_store.h"
#include "guard.h"

struct thread_tasks {
	struct task_state state;
	/* What the attached backend was last told this thread runs, and under
	 * which attachment (a new one has been told nothing). */
	uint64_t sent_key;
	uint32_t sent_origin;
	uint32_t sent_generation;
};

static __thread struct thread_tasks thread_tasks __attribute__((tls_model("initial-exec")));
static _Atomic(struct backend *) sink;
static _Atomic uint32_t generation = 1;

/* A fork's child has no writer thread to drain what it would send, and
 * its capture is the parent's: it sends nothing. */
static void detach_in_child(void)
{
	atomic_store(&sink, NULL);
}

static void watch_forks(void)
{
	pthread_atfork(NULL, NULL, detach_in_child);
}

void tasks_attach(struct backend *backend)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	if (backend != NULL) {
		pthread_once(&once, watch_forks);
		atomic_fetch_add(&generation, 1);
	}
	atomic_store(&sink, backend);
}

bool tasks_attached(void)
{
	return atomic_load_explicit(&sink, memory_order_relaxed) != NULL;
}

struct task_state *tasks_thread_state(void)
{
	return &thread_tasks.state;
}

void tasks_send(const struct store_task *task)
{
	struct backend *backend = atomic_load_explicit(&sink, memory_order_acquire);
	if (backend == NULL)
		return;
	guard_raise();
	backend_task_event(backend, task);
	guard_lower();
}

static void current_of(const struct task_state *state, uint64_t *key, uint32_t *origin)
{
	if (state->depth > 0) {
		*key = state->entered[state->depth - 1];
		*origin = CAPTURE_TASK_ANNOTATION;
	} else if (state->coroutine != 0) {
		*key = state->coroutine;
		*origin = CAPTURE_TASK_UCONTEXT;
	} else {
		*key = 0;
		*origin = CAPTURE_TASK_THREAD;
	}
}

void tasks_report(void)
{
	if (!tasks_attached())
		return;
	struct thread_tasks *me = &thread_tasks;
	uint64_t key;
	uint32_t origin;
	current_of(&me->state, &key, &origin);
	uint32_t now = atomic_load_explicit(&generation, memory_order_relaxed);
	/* A thread a new attachment has not heard of runs its root task as
	 * far as the capture knows. */
	if (me->sent_generation != now) {
		me->sent_generation = now;
		me->sent_key = 0;
		me->sent_origin = CAPTURE_TASK_THREAD;
	}
	if (key == me->sent_key && origin == me->sent_origin)
		return;
	me->sent_key = key;
	me->sent_origin = origin;
	struct store_task task = {.op = STORE_TASK_SWITCH, .key = key, .origin = origin};
	tasks_send(&task);
}

/* ---- the program's annotations (memscope/task.h) ---------------------- */

static void annotation_begin(uint64_t id, const char *name, uint64_t parent)
{
	if (id == 0)
		return;
	/* The parent is current on this thread unless named: the capture
	 * must know what is current before the begin comes. */
	tasks_report();
	struct store_task task = {
		.op = STORE_TASK_BEGIN,
		.key = id,
		.origin = CAPTURE_TASK_ANNOTATION,
		.parent = parent,
		.parent_origin = CAPTURE_TASK_ANNOTATION,
		.shown_key = id,
		.name = name,
	};
	tasks_send(&task);
}

static void annotation_enter(uint64_t id)
{
	if (id == 0)
		return;
	struct task_state *state = &thread_tasks.state;
	if (state->depth == TASK_NESTING) {
		state->overflow++;
		return;
	}
	state->entered[state->depth++] = id;
	tasks_report();
}

/* Drops id and everything entered after it; whether it was entered. */
static bool leave_entered(struct task_state *state, uint64_t id)
{
	for (uint32_t level = state->depth; level-- > 0;) {
		if (state->entered[level] == id) {
			state->depth = level;
			return true;
		}
	}
	return false;
}

static void annotation_leave(uint64_t id)
{
	struct task_state *state = &thread_tasks.state;
	if (id == 0)
		return;
	if (state->overflow > 0) {
		state->overflow--;
		return;
	}
	if (leave_entered(state, id))
		tasks_report();
}

static void annotation_end(uint64_t id)
{
	if (id == 0)
		return;
	if (leave_entered(&thread_tasks.state, id))
		tasks_report();
	struct store_task task = {
		.op = STORE_TASK_END,
		.key = id,
		.origin = CAPTURE_TASK_ANNOTATION,
	};
	tasks_send(&task);
}

/* What memscope/task.h looks up by name. */
MEMSCOPE_EXPORT const memscope_task_interface memscope_task_interface_v1 = {
	.version = MEMSCOPE_TASK_INTERFACE_VERSION,
	.begin = annotation_begin,
	.enter = annotation_enter,
	.leave = annotation_leave,
	.end = annotation_end,
};
