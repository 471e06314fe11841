/* exact.c - the exact backend: every event, with the full stack of every
 * allocation and in-place resize, into the event store.  The reference the
 * other backends are measured against. */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "backend.h"
#include "event_store.h"
#include "stack_capture.h"

struct exact_backend {
	struct backend base;
	struct event_store *store;
	int depth;
	_Atomic uint64_t events_seen;
};

/* One instance per process: a hook that was already running when the
 * tracker stopped may still call into it, so it is never freed. */
static struct exact_backend instance;
static atomic_bool instance_taken;

static int exact_open(struct backend *backend, const memscope_config *config,
                      struct event_store *store)
{
	struct exact_backend *exact = (struct exact_backend *)backend;
	int error = stack_capture_init();
	if (error < 0)
		return error;
	exact->store = store;
	exact->depth = (int)config->stack_depth;
	return 0;
}

static void exact_close(struct backend *backend)
{
	struct exact_backend *exact = (struct exact_backend *)backend;
	atomic_store(&instance_taken, false);
	(void)exact;
}

static void record_with_stack(struct exact_backend *exact, const struct heap_event *event)
{
	uint64_t ips[MEMSCOPE_MAX_STACK_DEPTH];
	int depth = stack_capture(ips, exact->depth);
	event_store_record(exact->store, event, ips, depth);
}

static void exact_on_alloc(struct backend *backend, const struct heap_event *event)
{
	record_with_stack((struct exact_backend *)backend, event);
}

static void exact_on_expand(struct backend *backend, const struct heap_event *event)
{
	record_with_stack((struct exact_backend *)backend, event);
}

static void exact_on_free(struct backend *backend, const struct heap_event *event)
{
	struct exact_backend *exact = (struct exact_backend *)backend;
	event_store_record(exact->store, event, NULL, 0);
}

static int exact_stats(struct backend *backend, struct backend_stats *out)
{
	struct exact_backend *exact = (struct exact_backend *)backend;
	struct store_totals totals;
	event_store_totals(exact->store, &totals);
	backend_stats_from_store(&totals, out);
	return 0;
}

static const struct backend_ops exact_ops = {
	.version = BACKEND_OPS_VERSION,
	.name = "exact",
	.open = exact_open,
	.close = exact_close,
	.on_alloc = exact_on_alloc,
	.on_free = exact_on_free,
	.on_expand = exact_on_expand,
	.stats = exact_stats,
};

int exact_backend_create(struct backend **out)
{
	bool expected = false;
	if (!atomic_compare_exchange_strong(&instance_taken, &expected, true))
		return -EBUSY;
	instance = (struct exact_backend){.base = {.ops = &exact_ops}};
	*out = &instance.base;
	return 0;
}
