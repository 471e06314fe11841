/* async.c - the async backend: every event with its stack, as the exact
 * backend records them, and the program's tasks (tasks.h, contexts.h) in
 * the same order, so that each event is charged to the task its thread ran
 * when it happened.  The capture then holds TASK, TASK_END and TASK_SWITCH
 * records (docs/capture-format.md, minor 2). */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "backend.h"
#include "event_store.h"
#include "stack_capture.h"
#include "tasks.h"

struct async_backend {
	struct backend base;
	struct event_store *store;
	int depth;
};

/* One instance per process, never freed: a hook or a coroutine switch
 * already under way when the tracker stops may still call into it. */
static struct async_backend instance;
static atomic_bool instance_taken;

static int async_open(struct backend *backend, const memscope_config *config,
                      struct event_store *store)
{
	struct async_backend *async = (struct async_backend *)backend;
	int error = stack_capture_init();
	if (error < 0)
		return error;
	error = event_store_record_tasks(store);
	if (error < 0)
		return error;
	async->store = store;
	async->depth = (int)config->stack_depth;
	tasks_attach(backend);
	return 0;
}

static void async_close(struct backend *backend)
{
	(void)backend;
	tasks_attach(NULL);
	atomic_store(&instance_taken, false);
}

static void record_with_stack(struct async_backend *async, const struct heap_event *event)
{
	uint64_t ips[MEMSCOPE_MAX_STACK_DEPTH];
	int depth = stack_capture(ips, async->depth);
	event_store_record(async->store, event, ips, depth);
}

static void async_on_alloc(struct backend *backend, const struct heap_event *event)
{
	record_with_stack((struct async_backend *)backend, event);
}

static void async_on_expand(struct backend *backend, const struct heap_event *event)
{
	record_with_stack((struct async_backend *)backend, event);
}

static void async_on_free(struct backend *backend, const struct heap_event *event)
{
	struct async_backend *async = (struct async_backend *)backend;
	event_store_record(async->store, event, NULL, 0);
}

static void async_task_event(struct backend *backend, const struct store_task *task)
{
	struct async_backend *async = (struct async_backend *)backend;
	event_store_record_task(async->store, task);
}

static int async_stats(struct backend *backend, struct backend_stats *out)
{
	struct async_backend *async = (struct async_backend *)backend;
	struct store_totals totals;
	event_store_totals(async->store, &totals);
	backend_stats_from_store(&totals, out);
	return 0;
}

static const struct backend_ops async_ops = {
	.version = BACKEND_OPS_VERSION,
	.name = "async",
	.open = async_open,
	.close = async_close,
	.on_alloc = async_on_alloc,
	.on_free = async_on_free,
	.on_expand = async_on_expand,
	.stats = async_stats,
	.task_event = async_task_event,
};

int async_backend_create(struct backend **out)
{
	bool expected = false;
	if (!atomic_compare_exchange_strong(&instance_taken, &expected, true))
		return -EBUSY;
	instance = (struct async_backend){.base = {.ops = &async_ops}};
	*out = &instance.base;
	return 0;
}
