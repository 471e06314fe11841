/* task.h - name the tasks of a program (requests, connections, jobs,
 * coroutines) so that memscope's async backend charges every allocation to
 * the task that made it.  Header-only: nothing to link.  The functions find
 * memscope at their first call in each translation unit (dlsym), and when
 * it is absent each call costs one predictable branch.
 *
 *   memscope_task_begin(conn_id, "http-conn", 0);   // 0: the current task is the parent
 *   memscope_task_enter(conn_id);    // this thread now works for conn_id
 *   ...                              // allocations here are conn_id's
 *   memscope_task_leave(conn_id);    // back to what ran before the enter
 *   memscope_task_end(conn_id);      // its blocks still live are its leaks
 *
 * A task id is any non-zero 64-bit number the program chooses, unique among
 * the tasks running at once (an id may be reused after its task ended).
 * Enter and leave nest on each thread (up to 16 deep): leave restores what
 * was current before the matching enter.  A task may be entered on several
 * threads over its life, and on several at once.  Entering an id that was
 * never begun begins it, without a name.  A block belongs to the task that
 * allocated it; freed by another task, it still counts against its owner.
 *
 * Annotations take precedence over what memscope infers: inside an enter,
 * the entered task is current even on a ucontext coroutine.  Each
 * coroutine keeps its own enters across its switches.  Calls made while no
 * tracker runs, or under a backend that records no tasks, do nothing.
 *
 * Where to put the calls (README, "Tasks"): around each callback run for a
 * request in a libuv-style event loop; around each step of a hand-written
 * state machine; in a C++20 coroutine's awaiter (enter in await_resume,
 * leave in await_suspend) or with memscope::task_scope in its body; and
 * around the body of each coroutine of a library that switches stacks in
 * its own assembly (libco, libaco, Boost.Context), which memscope cannot
 * see switch.
 */
#ifndef MEMSCOPE_TASK_H
#define MEMSCOPE_TASK_H

#include <dlfcn.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What memscope exports under MEMSCOPE_TASK_INTERFACE_SYMBOL.  Only grows
 * at its end; read slots added later only after checking version. */
#define MEMSCOPE_TASK_INTERFACE_VERSION 1
#define MEMSCOPE_TASK_INTERFACE_SYMBOL "memscope_task_interface_v1"

typedef struct memscope_task_interface {
	uint32_t version;
	void (*begin)(uint64_t id, const char *name, uint64_t parent);
	void (*enter)(uint64_t id);
	void (*leave)(uint64_t id);
	void (*end)(uint64_t id);
} memscope_task_interface;

#ifdef RTLD_DEFAULT
#define MEMSCOPE_TASK_LOOKUP_SCOPE RTLD_DEFAULT
#else
/* <dlfcn.h> names it only under _GNU_SOURCE; glibc's and musl's value. */
#define MEMSCOPE_TASK_LOOKUP_SCOPE ((void *)0)
#endif

/* memscope's interface, or NULL when memscope is not in the process.
 * Looked up once per translation unit; racing first calls look up the same
 * thing, so relaxed atomics are enough. */
static inline const memscope_task_interface *memscope_task_interface_get(void)
{
	static const memscope_task_interface *found;
	static int looked;
	if (__builtin_expect(__atomic_load_n(&looked, __ATOMIC_ACQUIRE), 1))
		return __atomic_load_n(&found, __ATOMIC_RELAXED);
	const memscope_task_interface *tasks = (const memscope_task_interface *)dlsym(
	    MEMSCOPE_TASK_LOOKUP_SCOPE, MEMSCOPE_TASK_INTERFACE_SYMBOL);
	if (tasks != NULL && tasks->version < 1)
		tasks = NULL;
	__atomic_store_n(&found, tasks, __ATOMIC_RELAXED);
	__atomic_store_n(&looked, 1, __ATOMIC_RELEASE);
	return tasks;
}

/* A task begins: name (copied, up to 255 bytes; NULL for none) and parent
 * (0: the task current on this thread).  It is not entered. */
static inline void memscope_task_begin(uint64_t id, const char *name, uint64_t parent)
{
	const memscope_task_interface *tasks = memscope_task_interface_get();
	if (tasks != NULL)
		tasks->begin(id, name, parent);
}

/* This thread works for task id from now on. */
static inline void memscope_task_enter(uint64_t id)
{
	const memscope_task_interface *tasks = memscope_task_interface_get();
	if (tasks != NULL)
		tasks->enter(id);
}

/* This thread stops working for task id: what was current before its
 * enter is current again. */
static inline void memscope_task_leave(uint64_t id)
{
	const memscope_task_interface *tasks = memscope_task_interface_get();
	if (tasks != NULL)
		tasks->leave(id);
}

/* Task id is over; its blocks still live are its leaks.  Left first on
 * this thread if it is entered here. */
static inline void memscope_task_end(uint64_t id)
{
	const memscope_task_interface *tasks = memscope_task_interface_get();
	if (tasks != NULL)
		tasks->end(id);
}

#ifdef __cplusplus
}

namespace memscope {

/* Enters a task for the life of a scope:
 *   { memscope::task_scope scope(request_id); handle(request); } */
class task_scope {
public:
	explicit task_scope(uint64_t id) : id_(id) { memscope_task_enter(id_); }
	~task_scope() { memscope_task_leave(id_); }
	task_scope(const task_scope &) = delete;
	task_scope &operator=(const task_scope &) = delete;

private:
	uint64_t id_;
};

} // namespace memscope
#endif

#endif
