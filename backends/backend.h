/* backend.h - the backend vtable: what the capture source calls on every
 * heap event, and what decides what is recorded, with which stack.
 *
 * The capture source (capture_source.h) turns allocator callbacks into
 * struct heap_event and calls on_alloc / on_free / on_expand with the
 * reentrancy guard raised.  Those three slots are the hot path: no locks,
 * no syscalls, no allocation in their common case.  Optional slots are
 * called only through the backend_* helpers below, which check the
 * version and NULL and return -ENOTSUP otherwise.
 *
 * A backend that samples (lockfree) starts the sampler (sampler.h) when it
 * opens.  While the sampler runs, capture sources call on_alloc only for the
 * allocations sampler_pick() picks, and on_free only for addresses
 * sampled_set_may_contain() lets through (sampled_set.h): the test that
 * skips everything else is inline, in the capture source, and costs a few
 * loads.  They call on_expand for every in-place resize; the backend sorts
 * those out itself.
 */
#ifndef MEMSCOPE_BACKEND_H
#define MEMSCOPE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include <errno.h>

#include "memscope/memscope.h"

struct event_store;
struct store_task;

enum heap_event_type {
	HEAP_EVENT_ALLOC = 1,
	HEAP_EVENT_FREE,
	HEAP_EVENT_EXPAND,
};

struct heap_event {
	enum heap_event_type type;
	uint32_t kind;              /* enum capture_alloc_kind */
	uintptr_t address;
	size_t size;                /* requested (alloc, expand) */
	size_t usable;              /* usable (alloc, expand, free) */
	size_t old_usable;          /* expand only */
};

/* How complete the backend's record is (memscope_tracking_stats). */
struct backend_stats {
	uint64_t attempts;          /* events it tried to record */
	uint64_t successes;         /* recorded */
	uint64_t misses;            /* dropped or lost */
	uint64_t waits;             /* times a thread waited for room */
	uint64_t growths;           /* times a thread's buffer grew */
	uint64_t task_changes;      /* task entries recorded besides the events (async) */
};

struct store_totals;

/* The figures the event store keeps for every backend: an event counts as
 * recorded once the consumer has handled it (a free of a block from before
 * tracking included), as missed when dropped or lost. */
void backend_stats_from_store(const struct store_totals *totals, struct backend_stats *out);

struct backend;

struct backend_ops {
	uint32_t version;           /* BACKEND_OPS_VERSION */
	const char *name;

	/* Required.  Returns 0 or a negative errno. */
	int (*open)(struct backend *backend, const memscope_config *config, struct event_store *store);
	void (*close)(struct backend *backend);
	void (*on_alloc)(struct backend *backend, const struct heap_event *event);
	void (*on_free)(struct backend *backend, const struct heap_event *event);
	void (*on_expand)(struct backend *backend, const struct heap_event *event);

	/* Optional, since version 1. */
	void (*task_switch)(struct backend *backend, uint64_t task);
	int (*flush)(struct backend *backend);
	int (*stats)(struct backend *backend, struct backend_stats *out);

	/* Optional, since version 2: an event from before the tracker started,
	 * with the stack taken then.  Without it, such events are recorded as
	 * they are. */
	void (*on_early)(struct backend *backend, const struct heap_event *event,
	                 const uint64_t *ips, int depth);

	/* Optional, since version 3: a backend that attributes events to
	 * tasks.  task_switch (above) then names a key (struct store_task)
	 * through task_event, which carries begins, ends and switches alike. */
	void (*task_event)(struct backend *backend, const struct store_task *task);

	/* Optional, since version 4: called by whoever runs the writer's pass
	 * (its thread, or the program's in inline mode), after each pass, with
	 * the store's clock: a backend that paces itself looks at its rate. */
	void (*pace)(struct backend *backend, uint64_t now_ns);
};

#define BACKEND_OPS_VERSION 4

/* Every backend embeds this first. */
struct backend {
	const struct backend_ops *ops;
};

/* Creates the backend of this kind (not opened).  Returns 0, -ENOTSUP with
 * *message set for a kind not built yet, or -ENOMEM. */
int backend_create(memscope_backend_kind kind, struct backend **out, const char **message);

/* Closes (if opened) and frees.  NULL is a no-op. */
void backend_destroy(struct backend *backend);

int backend_flush(struct backend *backend);
int backend_stats(struct backend *backend, struct backend_stats *out);
int backend_task_switch(struct backend *backend, uint64_t task);
/* Returns -ENOTSUP when the backend records no tasks. */
int backend_task_event(struct backend *backend, const struct store_task *task);
/* Returns -ENOTSUP when the backend does not pace itself. */
int backend_pace(struct backend *backend, uint64_t now_ns);
/* Returns -ENOTSUP when the backend has no on_early slot. */
int backend_on_early(struct backend *backend, const struct heap_event *event, const uint64_t *ips,
                     int depth);

/* The backends built so far. */
int exact_backend_create(struct backend **out);
int lockfree_backend_create(struct backend **out);
int async_backend_create(struct backend **out);
int hybrid_backend_create(struct backend **out);

#endif
