/* sampling_backend.h - what the two sampling backends share: lockfree
 * (every allocation sampled by bytes) and hybrid (the same below a size,
 * every block from it on, and tasks).  lockfree.c holds the code.
 *
 * The capture source calls on_alloc only for the allocations the sampler
 * (sampler.h) picks, and on_free only for addresses the sampled set
 * (sampled_set.h) may hold; a picked allocation is recorded with its stack
 * and its address joins the set, so that its free is recorded too, and no
 * other.  Nothing here waits: events go to the thread's ring with
 * event_store_try_record, dropped and counted when no room is left.
 */
#ifndef MEMSCOPE_SAMPLING_BACKEND_H
#define MEMSCOPE_SAMPLING_BACKEND_H

#include <stdatomic.h>
#include <stdint.h>

#include "backend.h"

struct sampling_backend {
	struct backend base;
	struct event_store *store;
	int depth;
	uint64_t interval;
	uint64_t exact_above;          /* 0: none (lockfree) */
	/* Samples that found no slot in the sampled set, and frees of blocks
	 * whose allocation was dropped: rare paths, where a shared counter
	 * costs nothing that matters. */
	_Atomic uint64_t set_full;
	_Atomic uint64_t frees_of_dropped;
};

/* Starts the sampler at config's interval (its default when 0), every
 * block of exact_above bytes or more picked (0: none), and tells the store.
 * Returns 0 or a negative errno. */
int sampling_backend_open(struct sampling_backend *sampling, const memscope_config *config,
                          struct event_store *store, uint64_t exact_above);
void sampling_backend_close(struct sampling_backend *sampling);

/* The backend slots, the same for both. */
void sampling_backend_on_alloc(struct backend *backend, const struct heap_event *event);
void sampling_backend_on_free(struct backend *backend, const struct heap_event *event);
void sampling_backend_on_expand(struct backend *backend, const struct heap_event *event);
void sampling_backend_on_early(struct backend *backend, const struct heap_event *event,
                               const uint64_t *ips, int depth);
int sampling_backend_stats(struct backend *backend, struct backend_stats *out);

#endif
