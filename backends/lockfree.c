/* lockfree.c - the lockfree backend: Poisson sampling by bytes, for runs
 * where tracking must cost next to nothing; and the recording both
 * sampling backends share (sampling_backend.h).
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

#include "capture.h"
#include "event_store.h"
#include "sampled_set.h"
#include "sampler.h"
#include "sampling.h"
#include "sampling_backend.h"
#include "stack_capture.h"

/* One instance per process, never freed: see exact.c. */
static struct sampling_backend instance;
static atomic_bool instance_taken;

int sampling_backend_open(struct sampling_backend *sampling, const memscope_config *config,
                          struct event_store *store, uint64_t exact_above)
{
	int error = stack_capture_init();
	if (error < 0)
		return error;
	sampling->interval = config->sample_interval != 0 ? config->sample_interval
	                                                  : SAMPLING_DEFAULT_INTERVAL;
	error = sampled_set_reset(sampling->interval);
	if (error < 0)
		return error;
	sampling->store = store;
	sampling->depth = (int)config->stack_depth;
	sampling->exact_above = exact_above;
	sampler_start(sampling->interval, config->sample_seed, exact_above);
	/* Interval 1 records every allocation, each a block of its own. */
	event_store_set_sampling(store, sampling->interval, sampler_seed(), exact_above);
	return 0;
}

void sampling_backend_close(struct sampling_backend *sampling)
{
	(void)sampling;
	sampler_stop();
}

static int lockfree_open(struct backend *backend, const memscope_config *config,
                         struct event_store *store)
{
	return sampling_backend_open((struct sampling_backend *)backend, config, store, 0);
}

static void lockfree_close(struct backend *backend)
{
	sampling_backend_close((struct sampling_backend *)backend);
	atomic_store(&instance_taken, false);
}

/* Records a picked allocation; its address joins the sampled set first, so
 * a free on another thread right after can find it. */
/* A sampled pick weighs by the interval its countdown was drawn at: when
 * that is not the one the store last heard from this thread, it is told
 * first, in the thread's own ring, so that readers weigh this event and
 * the thread's next ones by it.  Blocks from the threshold on weigh 1
 * whatever the interval.  Returns false when the store had no room: the
 * event must then not be recorded either (its weight would be wrong). */
static bool tell_interval(struct sampling_backend *sampling, const struct heap_event *event)
{
	if (sampling->exact_above != 0 && event->size >= sampling->exact_above)
		return true;
	struct memscope_thread *thread = &memscope_thread;
	uint64_t picked = sampler_picked_interval();
	uint64_t told = thread->told_interval != 0 ? thread->told_interval : sampling->interval;
	if (picked == 0 || picked == told)
		return true;
	if (!event_store_try_record_interval(sampling->store, picked))
		return false;
	thread->told_interval = picked;
	return true;
}

static void record_alloc(struct sampling_backend *sampling, const struct heap_event *event,
                         const uint64_t *ips, int depth)
{
	if (!tell_interval(sampling, event))
		return;
	if (!sampled_set_add(event->address)) {
		atomic_fetch_add_explicit(&sampling->set_full, 1, memory_order_relaxed);
		return;
	}
	if (!event_store_try_record(sampling->store, event, ips, depth))
		/* Dropped, and counted by the store.  The block stays in the
		 * set, marked: its free is a miss as well, counted when it
		 * comes, and never recorded (it would match nothing). */
		sampled_set_mark_dropped(event->address);
}

static void record_free(struct sampling_backend *sampling, const struct heap_event *event)
{
	switch (sampled_set_remove(event->address)) {
	case SAMPLED_RECORDED:
		event_store_try_record(sampling->store, event, NULL, 0);
		break;
	case SAMPLED_DROPPED:
		atomic_fetch_add_explicit(&sampling->frees_of_dropped, 1, memory_order_relaxed);
		break;
	case SAMPLED_ABSENT:
		break;
	}
}

void sampling_backend_on_alloc(struct backend *backend, const struct heap_event *event)
{
	struct sampling_backend *sampling = (struct sampling_backend *)backend;
	uint64_t ips[MEMSCOPE_MAX_STACK_DEPTH];
	/* The set's line is most likely not cached: fetch it while unwinding. */
	sampled_set_prefetch(event->address);
	int depth = stack_capture(ips, sampling->depth);
	record_alloc(sampling, event, ips, depth);
}

void sampling_backend_on_free(struct backend *backend, const struct heap_event *event)
{
	record_free((struct sampling_backend *)backend, event);
}

/* A resize in place is, to a sampler, the old block's free and a new
 * block's allocation at the same address: the new size gets its own chance
 * of being picked, and its own weight. */
void sampling_backend_on_expand(struct backend *backend, const struct heap_event *event)
{
	struct sampling_backend *sampling = (struct sampling_backend *)backend;
	if (sampled_set_may_contain(event->address)) {
		struct heap_event free_event = {.type = HEAP_EVENT_FREE, .kind = event->kind,
		                                .address = event->address,
		                                .usable = event->old_usable};
		record_free(sampling, &free_event);
	}
	if (sampler_pick(event->size)) {
		struct heap_event alloc_event = {.type = HEAP_EVENT_ALLOC, .kind = event->kind,
		                                 .address = event->address, .size = event->size,
		                                 .usable = event->usable};
		sampling_backend_on_alloc(backend, &alloc_event);
	}
}

/* Kept before the tracker started, with their stacks: sampled like the
 * rest, so that their weights stay true. */
void sampling_backend_on_early(struct backend *backend, const struct heap_event *event,
                               const uint64_t *ips, int depth)
{
	struct sampling_backend *sampling = (struct sampling_backend *)backend;
	if (event->type == HEAP_EVENT_FREE) {
		if (sampled_set_may_contain(event->address))
			record_free(sampling, event);
	} else if (event->type == HEAP_EVENT_ALLOC && sampler_pick(event->size)) {
		record_alloc(sampling, event, ips, depth);
	}
}

int sampling_backend_stats(struct backend *backend, struct backend_stats *out)
{
	struct sampling_backend *sampling = (struct sampling_backend *)backend;
	struct store_totals totals;
	event_store_totals(sampling->store, &totals);
	backend_stats_from_store(&totals, out);
	/* Samples the set had no room for, and the frees of blocks whose
	 * allocation was dropped, were never offered to the store. */
	uint64_t unoffered = atomic_load_explicit(&sampling->set_full, memory_order_relaxed) +
	                     atomic_load_explicit(&sampling->frees_of_dropped, memory_order_relaxed);
	out->misses += unoffered;
	out->attempts += unoffered;
	return 0;
}

static const struct backend_ops lockfree_ops = {
	.version = BACKEND_OPS_VERSION,
	.name = "lockfree",
	.open = lockfree_open,
	.close = lockfree_close,
	.on_alloc = sampling_backend_on_alloc,
	.on_free = sampling_backend_on_free,
	.on_expand = sampling_backend_on_expand,
	.stats = sampling_backend_stats,
	.on_early = sampling_backend_on_early,
};

int lockfree_backend_create(struct backend **out)
{
	bool expected = false;
	if (!atomic_compare_exchange_strong(&instance_taken, &expected, true))
		return -EBUSY;
	instance = (struct sampling_backend){.base = {.ops = &lockfree_ops}};
	*out = &instance.base;
	return 0;
}
