/* task_registry.h - the event store's side of tasks: which capture task id
 * each of the program's task keys stands for while the task runs, and which
 * task each thread runs.  Only the store's consumer uses it (under the
 * store's lock), so it may allocate; the program's threads never touch it.
 *
 * A key is the runtime's name for a task: the program's own id (task.h) or
 * a coroutine's serial number, told apart by origin.  Capture ids are dense,
 * from 1, handed out in the order tasks begin; a key that begins again after
 * it ended gets a new id.  Errors are negative errno values.
 */
#ifndef MEMSCOPE_TASK_REGISTRY_H
#define MEMSCOPE_TASK_REGISTRY_H

#include <stdint.h>

struct task_registry;

/* Returns 0 or -ENOMEM. */
int task_registry_create(struct task_registry **out);

/* NULL is a no-op. */
void task_registry_destroy(struct task_registry *registry);

/* The capture id for key of origin while it runs, or 0. */
uint32_t task_registry_find(const struct task_registry *registry, uint64_t key, uint32_t origin);

/* Gives key of origin the next capture id and returns it (0 when out of
 * memory, or of ids).  A key already running must be removed first. */
uint32_t task_registry_add(struct task_registry *registry, uint64_t key, uint32_t origin);

/* A task that ended: its key no longer names it. */
void task_registry_remove(struct task_registry *registry, uint64_t key, uint32_t origin);

/* The next capture id without a key: a thread's root task. */
uint32_t task_registry_take_id(struct task_registry *registry);

/* A thread's root task and the task it runs now (both 0 until set).
 * Returns 0 or -ENOMEM for the setters. */
uint32_t task_registry_root(const struct task_registry *registry, uint32_t thread);
uint32_t task_registry_current(const struct task_registry *registry, uint32_t thread);
int task_registry_set_root(struct task_registry *registry, uint32_t thread, uint32_t id);
int task_registry_set_current(struct task_registry *registry, uint32_t thread, uint32_t id);

#endif
