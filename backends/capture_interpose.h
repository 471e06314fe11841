/* capture_interpose.h - the functions behind the interposed malloc & co.
 * (capture_interpose.c).  The preload library exports the standard names
 * and calls these; they forward to jemalloc and report to the backend when
 * the interpose capture source is enabled. */
#ifndef MEMSCOPE_CAPTURE_INTERPOSE_H
#define MEMSCOPE_CAPTURE_INTERPOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *interpose_malloc(size_t size);
void *interpose_calloc(size_t count, size_t size);
void interpose_free(void *block);
void *interpose_realloc(void *block, size_t size);
void *interpose_reallocarray(void *block, size_t count, size_t size);
int interpose_posix_memalign(void **result, size_t alignment, size_t size);
void *interpose_aligned_alloc(size_t alignment, size_t size);
void *interpose_memalign(size_t alignment, size_t size);
void *interpose_valloc(size_t size);
void *interpose_pvalloc(size_t size);
size_t interpose_usable_size(void *block);

/* Called once by the preload library: the standard names now lead here,
 * so the interpose source can be installed. */
void interpose_entry_points_present(void);

struct heap_event;
typedef void (*early_event_fn)(void *context, const struct heap_event *event,
                               const uint64_t *ips, int depth);

/* Hands the events kept before the tracker started (when the environment
 * said this process would be traced) to deliver, in order, and stops
 * keeping them.  Returns how many could not be kept. */
uint64_t interpose_take_early(early_event_fn deliver, void *context);

/* Stops keeping early events and drops any not taken: the preload library
 * calls it once it has started a tracker, or decided not to. */
void interpose_early_finish(void);

/* Whether interpose_entry_points_present() was called in this copy of the
 * runtime. */
bool interpose_available(void);

#endif
