/* lockfree.c - the lockfree backend: Poisson sampling by bytes, for runs
 * where tracking must cost next to nothing.
 *
 * The capture source asks the sampler (sampler.h) on every allocation and
 * calls this backend only for those it picks: about one allocation per
 * sampling interval (512 KiB by default) of allocated bytes.  Only then is
 * a stack taken and an event recorded.  Frees reach this backend only for
 * addresses the sampled set (sampled_set.h) may hold, and are recorded only
 * for blocks that were sampled: no phantom leaks, and no cost for the
 * program's other frees.
 *
 * Nothing here waits.  Events go to the thread's own ring in the event
 * store with event_store_try_record: a full ring is replaced by a larger
 * one, up to a bound, and past it the event is dropped and counted; the
 * tracking figures then say how complete the capture is.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "backend.h"
#include "capture.h"
#include "event_store.h"
#include "sampled_set.h"
#include "sampler.h"
#include "sampling.h"
#include "stack_capture.h"

struct lockfree_backend {
	struct backend base;
	struct event_store *store;
	int depth;
	uint64_t interval;
	/* Samples that found no slot in the sampled set, and frees of blocks
	 * whose allocation was dropped: rare paths, where a shared counter
	 * costs nothing that matters. */
	_Atomic uint64_t set_full;
	_Atomic uint64_t frees_of_dropped;
};

/* One instance per process, never freed: see exact.c. */
static struct lockfree_backend instance;
static atomic_bool instance_taken;

static int lockfree_open(struct backend *backend, const memscope_config *config,
                         struct event_store *store)
{
	struct lockfree_backend *lockfree = (struct lockfree_backend *)backend;
	int error = stack_capture_init();
	if (error < 0)
		return error;
	lockfree->interval = config->sample_interval != 0 ? config->sample_interval
	                                                  : SAMPLING_DEFAULT_INTERVAL;
	error = sampled_set_reset(lockfree->interval);
	if (error < 0)
		return error;
	lockfree->store = store;
	lockfree->depth = (int)config->stack_depth;
	sampler_start(lockfree->interval, config->sample_seed);
	/* Interval 1 records every allocation, each a block of its own. */
	event_store_set_sampling(store, lockfree->interval, sampler_seed(), 0);
	return 0;
}

static void lockfree_close(struct backend *backend)
{
	sampler_stop();
	atomic_store(&instance_taken, false);
}

/* Records a picked allocation; its address joins the sampled set first, so
 * a free on another thread right after can find it. */
static void record_alloc(struct lockfree_backend *lockfree, const struct heap_event *event,
                         const uint64_t *ips, int depth)
{
	if (!sampled_set_add(event->address)) {
		atomic_fetch_add_explicit(&lockfree->set_full, 1, memory_order_relaxed);
		return;
	}
	if (!event_store_try_record(lockfree->store, event, ips, depth))
		/* Dropped, and counted by the store.  The block stays in the
		 * set, marked: its free is a miss as well, counted when it
		 * comes, and never recorded (it would match nothing). */
		sampled_set_mark_dropped(event->address);
}

static void record_free(struct lockfree_backend *lockfree, const struct heap_event *event)
{
	switch (sampled_set_remove(event->address)) {
	case SAMPLED_RECORDED:
		event_store_try_record(lockfree->store, event, NULL, 0);
		break;
	case SAMPLED_DROPPED:
		atomic_fetch_add_explicit(&lockfree->frees_of_dropped, 1, memory_order_relaxed);
		break;
	case SAMPLED_ABSENT:
		break;
	}
}

static void lockfree_on_alloc(struct backend *backend, const struct heap_event *event)
{
	struct lockfree_backend *lockfree = (struct lockfree_backend *)backend;
	uint64_t ips[MEMSCOPE_MAX_STACK_DEPTH];
	/* The set's line is most likely not cached: fetch it while unwinding. */
	sampled_set_prefetch(event->address);
	int depth = stack_capture(ips, lockfree->depth);
	record_alloc(lockfree, event, ips, depth);
}

static void lockfree_on_free(struct backend *backend, const struct heap_event *event)
{
	record_free((struct lockfree_backend *)backend, event);
}

/* A resize in place is, to a sampler, the old block's free and a new
 * block's allocation at the same address: the new size gets its own chance
 * of being picked, and its own weight. */
static void lockfree_on_expand(struct backend *backend, const struct heap_event *event)
{
	struct lockfree_backend *lockfree = (struct lockfree_backend *)backend;
	if (sampled_set_may_contain(event->address)) {
		struct heap_event free_event = {.type = HEAP_EVENT_FREE, .kind = event->kind,
		                                .address = event->address,
		                                .usable = event->old_usable};
		record_free(lockfree, &free_event);
	}
	if (sampler_pick(event->size)) {
		struct heap_event alloc_event = {.type = HEAP_EVENT_ALLOC, .kind = event->kind,
		                                 .address = event->address, .size = event->size,
		                                 .usable = event->usable};
		lockfree_on_alloc(backend, &alloc_event);
	}
}

/* Kept before the tracker started, with their stacks: sampled like the
 * rest, so that their weights stay true. */
static void lockfree_on_early(struct backend *backend, const struct heap_event *event,
                              const uint64_t *ips, int depth)
{
	struct lockfree_backend *lockfree = (struct lockfree_backend *)backend;
	if (event->type == HEAP_EVENT_FREE) {
		if (sampled_set_may_contain(event->address))
			record_free(lockfree, event);
	} else if (event->type == HEAP_EVENT_ALLOC && sampler_pick(event->size)) {
		record_alloc(lockfree, event, ips, depth);
	}
}

static int lockfree_stats(struct backend *backend, struct backend_stats *out)
{
	struct lockfree_backend *lockfree = (struct lockfree_backend *)backend;
	struct store_totals totals;
	event_store_totals(lockfree->store, &totals);
	backend_stats_from_store(&totals, out);
	/* Samples the set had no room for, and the frees of blocks whose
	 * allocation was dropped, were never offered to the store. */
	uint64_t unoffered = atomic_load_explicit(&lockfree->set_full, memory_order_relaxed) +
	                     atomic_load_explicit(&lockfree->frees_of_dropped, memory_order_relaxed);
	out->misses += unoffered;
	out->attempts += unoffered;
	return 0;
}

static const struct backend_ops lockfree_ops = {
	.version = BACKEND_OPS_VERSION,
	.name = "lockfree",
	.open = lockfree_open,
	.close = lockfree_close,
	.on_alloc = lockfree_on_alloc,
	.on_free = lockfree_on_free,
	.on_expand = lockfree_on_expand,
	.stats = lockfree_stats,
	.on_early = lockfree_on_early,
};

int lockfree_backend_create(struct backend **out)
{
	bool expected = false;
	if (!atomic_compare_exchange_strong(&instance_taken, &expected, true))
		return -EBUSY;
	instance = (struct lockfree_backend){.base = {.ops = &lockfree_ops}};
	*out = &instance.base;
	return 0;
}
