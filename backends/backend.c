/* backend.c - creating backends by kind, and the helpers through which the
 * optional slots of struct backend_ops are called. */
#include <errno.h>
#include <stddef.h>

#include "backend.h"

int backend_create(memscope_backend_kind kind, struct backend **out, const char **message)
{
	switch (kind) {
	case MEMSCOPE_BACKEND_EXACT:
		return exact_backend_create(out);
	case MEMSCOPE_BACKEND_LOCKFREE:
		*message = "the lockfree backend is not built yet; use --backend exact";
		return -ENOTSUP;
	case MEMSCOPE_BACKEND_ASYNC:
		*message = "the async backend is not built yet; use --backend exact";
		return -ENOTSUP;
	case MEMSCOPE_BACKEND_HYBRID:
		*message = "the hybrid backend is not built yet; use --backend exact";
		return -ENOTSUP;
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
