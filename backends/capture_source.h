/* capture_source.h - where heap events come from.
 *
 * A capture source sees every allocation call of the process and hands it
 * to one backend as a struct heap_event, with the reentrancy guard (guard.h)
 * raised and only while the source is enabled.  The reference source is
 * jemalloc 5.3's experimental hooks (capture_hooks.c); the interposing one
 * (capture_interpose.c) costs less and is the default under `memscope`.
 */
#ifndef MEMSCOPE_CAPTURE_SOURCE_H
#define MEMSCOPE_CAPTURE_SOURCE_H

#include <stdint.h>

struct backend;

struct capture_source_ops {
	uint32_t version;           /* CAPTURE_SOURCE_OPS_VERSION */
	const char *name;

	/* Checks the source can work in this process and installs it, disabled.
	 * Returns 0, or -ENOTSUP with *message saying why (e.g. malloc is not
	 * jemalloc's), -EBUSY (already installed). */
	int (*install)(struct backend *sink, const char **message);
	/* Starts / stops delivering events (a relaxed store: cheap and safe
	 * from any thread). */
	void (*enable)(void);
	void (*disable)(void);
	/* Stops delivering for good and removes the source. */
	void (*uninstall)(void);
};

#define CAPTURE_SOURCE_OPS_VERSION 1

extern const struct capture_source_ops capture_source_jemalloc_hooks;
extern const struct capture_source_ops capture_source_interpose;

#endif
