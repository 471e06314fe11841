/* hybrid.c - the hybrid backend: every block of exact_above bytes or more
 * recorded, with its stack, as the exact backend would; the smaller ones
 * sampled by bytes, as the lockfree backend does (sampling_backend.h);
 * and every event charged to its task, as the async backend does
 * (async/tasks.h).
 *
 * The sampler picks the large blocks itself without touching its
 * countdown, so the small ones are sampled exactly as they would be alone
 * and keep their weights; the capture's SAMPLING record names the
 * threshold, from which readers weigh a block 1 (docs/capture-format.md,
 * minor 3).  A resize in place is a free and an allocation, as in the
 * lockfree backend: one that crosses the threshold moves the block from
 * one population to the other.
 *
 * The threshold, unless the user sets one, is where a block's chance of
 * being picked would reach 99%: ln(100) = 4.6 intervals.  Above it the
 * sampled weight would be within 1% of 1 anyway; recording those blocks
 * outright costs few events (at most one per 4.6 intervals allocated) and
 * makes them, their sites and their leaks exact.
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "event_store.h"
#include "hybrid.h"
#include "sampling.h"
#include "sampling_backend.h"
#include "tasks.h"

/* One instance per process, never freed: see exact.c. */
static struct sampling_backend instance;
static atomic_bool instance_taken;

uint64_t hybrid_default_exact_above(uint64_t interval)
{
	if (interval <= 1)
		return 1;
	return (uint64_t)ceil((double)interval * log(100.0));
}

static int hybrid_open(struct backend *backend, const memscope_config *config,
                       struct event_store *store)
{
	uint64_t interval = config->sample_interval != 0 ? config->sample_interval
	                                                 : SAMPLING_DEFAULT_INTERVAL;
	uint64_t exact_above = config->exact_above != 0
	                           ? config->exact_above
	                           : hybrid_default_exact_above(interval);
	int error = event_store_record_tasks(store);
	if (error < 0)
		return error;
	error = sampling_backend_open((struct sampling_backend *)backend, config, store,
	                              exact_above);
	if (error < 0)
		return error;
	tasks_attach(backend);
	return 0;
}

static void hybrid_close(struct backend *backend)
{
	tasks_attach(NULL);
	sampling_backend_close((struct sampling_backend *)backend);
	atomic_store(&instance_taken, false);
}

static void hybrid_task_event(struct backend *backend, const struct store_task *task)
{
	event_store_record_task(((struct sampling_backend *)backend)->store, task);
}

static const struct backend_ops hybrid_ops = {
	.version = BACKEND_OPS_VERSION,
	.name = "hybrid",
	.open = hybrid_open,
	.close = hybrid_close,
	.on_alloc = sampling_backend_on_alloc,
	.on_free = sampling_backend_on_free,
	.on_expand = sampling_backend_on_expand,
	.stats = sampling_backend_stats,
	.on_early = sampling_backend_on_early,
	.task_event = hybrid_task_event,
};

int hybrid_backend_create(struct backend **out)
{
	bool expected = false;
	if (!atomic_compare_exchange_strong(&instance_taken, &expected, true))
		return -EBUSY;
	instance = (struct sampling_backend){.base = {.ops = &hybrid_ops}};
	*out = &instance.base;
	return 0;
}
