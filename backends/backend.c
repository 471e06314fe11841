/* backend.c - creating backends by kind, and the helpers through which the
 * optional slots of struct backend_ops are called. */
#include <errno.h>
#include <stddef.h>

#include "backend.h"
#include "event_store.h"

int backend_create(memscope_backend_kind kind, struct backend **out, const char **message)
{
	switch (kind) {
	case MEMSCOPE_BACKEND_EXACT:
		return exact_backend_create(out);
	case MEMSCOPE_BACKEND_LOCKFREE:
		return lockfree_backend_create(out);
	case MEMSCOPE_BACKEND_ASYNC:
		return async_backend_create(out);
	case MEMSCOPE_BACKEND_HYBRID:
		return hybrid_backend_create(out);
	}
	*message = "unknown backend";
	return -EINVAL;
}

void backend_destroy(struct backend *backend)
{
	if (backend == NULL)
		return;
	backend->ops->close(backend);
}

int backend_flush(struct backend *backend)
{
	if (backend == NULL || backend->ops->version < 1 || backend->ops->flush == NULL)
		return -ENOTSUP;
	return backend->ops->flush(backend);
}

int backend_stats(struct backend *backend, struct backend_stats *out)
{
	if (backend == NULL || backend->ops->version < 1 || backend->ops->stats == NULL)
		return -ENOTSUP;
	return backend->ops->stats(backend, out);
}

int backend_task_switch(struct backend *backend, uint64_t task)
{
	if (backend == NULL || backend->ops->version < 1 || backend->ops->task_switch == NULL)
		return -ENOTSUP;
	backend->ops->task_switch(backend, task);
	return 0;
}

int backend_on_early(struct backend *backend, const struct heap_event *event, const uint64_t *ips,
                     int depth)
{
	if (backend == NULL || backend->ops->version < 2 || backend->ops->on_early == NULL)
		return -ENOTSUP;
	backend->ops->on_early(backend, event, ips, depth);
	return 0;
}

int backend_pace(struct backend *backend, uint64_t now_ns)
{
	if (backend == NULL || backend->ops->version < 4 || backend->ops->pace == NULL)
		return -ENOTSUP;
	backend->ops->pace(backend, now_ns);
	return 0;
}

int backend_task_event(struct backend *backend, const struct store_task *task)
{
	if (backend == NULL || backend->ops->version < 3 || backend->ops->task_event == NULL)
		return -ENOTSUP;
	backend->ops->task_event(backend, task);
	return 0;
}

void backend_stats_from_store(const struct store_totals *totals, struct backend_stats *out)
{
	out->successes = totals->events + totals->untracked_frees;
	out->misses = totals->lost_events + totals->dropped_events;
	out->attempts = out->successes + out->misses;
	out->waits = totals->producer_waits;
	out->growths = totals->ring_growths;
	out->task_changes = totals->task_changes;
}
