/* memscope.h - track the heap of the current process from inside it.
 *
 * A tracker records every allocation the process makes (through jemalloc, which
 * must be the process's malloc: link with -ljemalloc, see README) with its call
 * stack, thread and time, and keeps running totals.  Its capture can be written
 * to a .memscope file that `memscope report` reads.
 *
 * Errors are negative errno values; each function says which.  Only one tracker
 * can be running in a process at a time.
 */
#ifndef MEMSCOPE_MEMSCOPE_H
#define MEMSCOPE_MEMSCOPE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(MEMSCOPE_BUILDING_LIBRARY)
#define MEMSCOPE_EXPORT __attribute__((visibility("default")))
#else
#define MEMSCOPE_EXPORT
#endif

#define MEMSCOPE_VERSION_MAJOR 0
#define MEMSCOPE_VERSION_MINOR 1

/* The capture backends.  Each decides what is recorded and with which stack. */
typedef enum memscope_backend_kind {
	MEMSCOPE_BACKEND_EXACT = 0,    /* every event, every stack: the reference */
	MEMSCOPE_BACKEND_LOCKFREE = 1, /* Poisson sampling by bytes, no locks */
	MEMSCOPE_BACKEND_ASYNC = 2,    /* every event attributed to its task */
	MEMSCOPE_BACKEND_HYBRID = 3,   /* exact for large blocks, sampled for small */
} memscope_backend_kind;

/* Where allocations are seen.  Both see malloc, calloc, realloc,
 * posix_memalign, aligned_alloc, memalign, valloc, free and C++ new/delete. */
typedef enum memscope_capture_kind {
	MEMSCOPE_CAPTURE_DEFAULT = 0,   /* interpose under `memscope`, else hooks */
	MEMSCOPE_CAPTURE_HOOKS = 1,     /* jemalloc's hooks: also sees mallocx & co. */
	MEMSCOPE_CAPTURE_INTERPOSE = 2, /* memscope's own malloc in front of jemalloc:
	                                   cheaper; needs the preload library */
} memscope_capture_kind;

typedef struct memscope_tracker memscope_tracker;

/* Configuration.  Fill with memscope_config_init(), then change fields. */
typedef struct memscope_config {
	uint32_t version;               /* MEMSCOPE_CONFIG_VERSION */
	memscope_backend_kind backend;
	uint32_t stack_depth;           /* frames kept per stack, 1..MEMSCOPE_MAX_STACK_DEPTH */
	uint32_t timeline_interval_ms;  /* 0 turns the timeline sampler off */
	const char *output_path;        /* stream the capture here as it happens; NULL keeps it
	                                   in an anonymous file until write_capture */
	const char *program_name;       /* recorded in the capture; NULL: the process's name */
	memscope_capture_kind capture;
	/* Since version 2; read by the lockfree and hybrid backends. */
	uint64_t sample_interval;       /* mean bytes between samples (default 512 KiB);
	                                   1: every allocation */
	uint64_t sample_seed;           /* of the sampler's random numbers; 0: a new one each run */
	/* Since version 3; read by the hybrid backend only. */
	uint64_t exact_above;           /* blocks of this many requested bytes or more are all
	                                   recorded; 0: ln(100) x sample_interval (99% sure) */
	uint64_t event_budget;          /* events recorded per second to keep under, by raising
	                                   the interval from sample_interval; 0: no budget */
	/* Since version 4. */
	uint32_t flags;                 /* MEMSCOPE_CONFIG_* below; 0: the defaults */
} memscope_config;

/* A tracker that writes its capture to output_path finishes it when the
 * program dies of a signal it has not handled (SIGSEGV, SIGBUS, SIGFPE,
 * SIGILL, SIGABRT and so abort() and an uncaught C++ exception, SIGTERM,
 * SIGINT, SIGHUP, SIGQUIT, SIGPIPE): its handler takes in every event
 * recorded, says how the program died, ends the file, and lets the signal
 * kill the process as it would have (the same signal, a core dump where
 * the system makes one).  A handler the program had installed before the
 * tracker started is called instead, and decides; one installed later
 * replaces memscope's.  Signals the program ignores stay ignored.  A
 * SIGKILL (and the OOM killer) cannot be caught: the capture then ends
 * with the events flushed last, at most 100 ms before.  This flag leaves
 * every signal disposition alone. */
#define MEMSCOPE_CONFIG_KEEP_SIGNALS 1u

/* Versions 1 (without the sampling fields), 2 (without exact_above) and 3
 * (without flags) are still accepted. */
#define MEMSCOPE_CONFIG_VERSION 4
#define MEMSCOPE_MAX_STACK_DEPTH 128

/* Totals since the tracker started. */
typedef struct memscope_stats {
	uint32_t version;               /* MEMSCOPE_STATS_VERSION, set by the caller */
	uint32_t reserved;
	uint64_t total_allocations;     /* every block handed out */
	uint64_t total_frees;
	uint64_t active_allocations;    /* blocks live now */
	uint64_t total_bytes;           /* requested bytes of every block handed out */
	uint64_t active_bytes;          /* requested bytes live now */
	uint64_t active_usable_bytes;   /* usable bytes (what the allocator reserved) live now */
	uint64_t peak_bytes;            /* highest active_bytes seen */
	uint64_t peak_time_ns;          /* when, in ns since the tracker started */
	uint64_t leaked_allocations;    /* blocks still live when the tracker stopped (0 while running) */
	uint64_t leaked_bytes;
} memscope_stats;

#define MEMSCOPE_STATS_VERSION 1

/* How complete the record is: what the backend tried to record, what it
 * did, and what it had to drop.  A backend that samples counts only the
 * allocations its sampler picked (and their frees) as attempts. */
typedef struct memscope_tracking_stats {
	uint32_t version;               /* MEMSCOPE_TRACKING_STATS_VERSION, set by the caller */
	uint32_t reserved;
	uint64_t attempts;              /* events the backend tried to record */
	uint64_t successes;             /* events recorded */
	uint64_t misses;                /* events dropped (no room within the buffers' bound) or lost */
	uint64_t waits;                 /* times a thread waited for room: the exact backend
	                                   waits rather than drop; lockfree never waits */
	uint64_t buffer_growths;        /* times a thread's buffer grew because it was full */
	double completeness;            /* successes / attempts; 1 when nothing was attempted */
	double drop_rate;               /* misses / attempts */
	double contention_rate;         /* waits / (attempts + task changes recorded) */
	uint64_t sample_interval;       /* mean bytes between samples; 0: every event is seen */
} memscope_tracking_stats;

#define MEMSCOPE_TRACKING_STATS_VERSION 1

/* Below this completeness, reports and `memscope run` warn. */
#define MEMSCOPE_COMPLETENESS_WARNING 0.95

/* Fills *config with defaults: exact backend, depth 64, 10 ms timeline,
 * a 512 KiB sampling interval (for the lockfree backend), a new seed. */
MEMSCOPE_EXPORT void memscope_config_init(memscope_config *config);

/* Creates and starts a tracker.  Returns NULL on failure and prints why on
 * stderr; memscope_tracker_create() says why as an error code instead. */
MEMSCOPE_EXPORT memscope_tracker *memscope_tracker_new(memscope_backend_kind backend);

/* Creates a tracker from *config without starting it.
 * Returns 0, or -EINVAL (bad config), -ENOTSUP (backend not built yet, or
 * malloc is not jemalloc's), -EBUSY (another tracker is running), -ENOMEM,
 * or the errno of opening config->output_path. */
MEMSCOPE_EXPORT int memscope_tracker_create(const memscope_config *config, memscope_tracker **out);

/* Starts recording.  Returns 0, -EBUSY if another tracker is running, -EALREADY. */
MEMSCOPE_EXPORT int memscope_tracker_start(memscope_tracker *tracker);

/* Stops recording; what is live now counts as leaked.  Returns 0 or -EALREADY. */
MEMSCOPE_EXPORT int memscope_tracker_stop(memscope_tracker *tracker);

/* Stops if running and frees everything.  NULL is a no-op. */
MEMSCOPE_EXPORT void memscope_tracker_destroy(memscope_tracker *tracker);

/* Copies the totals, up to date with every call made before this one, into
 * *stats (whose version the caller sets).  With a sampling backend they are
 * estimates (every sampled block weighted by the inverse of its chance of
 * being picked), rounded.  Returns 0 or -EINVAL. */
MEMSCOPE_EXPORT int memscope_tracker_get_stats(memscope_tracker *tracker, memscope_stats *stats);

/* Copies the backend's tracking counters, up to date with every call made
 * before this one, into *stats (whose version the caller sets).  Returns 0
 * or -EINVAL. */
MEMSCOPE_EXPORT int memscope_tracker_get_tracking_stats(memscope_tracker *tracker,
                                                        memscope_tracking_stats *stats);

/* Names the live heap block at address: it shows under this name, type and
 * source line in reports.  Returns 0, -EINVAL (NULL), -ENOENT (not tracking). */
MEMSCOPE_EXPORT int memscope_tracker_tag(memscope_tracker *tracker, const void *address,
                                         const char *name, const char *type_name,
                                         const char *file, int line);

/* Names the calling thread's next allocation (malloc & co., operator new:
 * the first the program makes after this call, on this thread): it shows
 * under this name, type and source line, as with memscope_tracker_tag,
 * and a sampling backend records it whatever its size, weighing 1, so
 * that its figures are exact (a block tagged after its allocation was
 * only recorded if it had been sampled).  A name not yet used is replaced.
 * Returns 0, -EINVAL (NULL), -ENOENT (not tracking), -ENOMEM. */
MEMSCOPE_EXPORT int memscope_tracker_tag_next(memscope_tracker *tracker, const char *name,
                                              const char *type_name, const char *file,
                                              int line);

/* Writes everything captured so far to path as a .memscope file.
 * Returns 0, or -errno of creating or writing the file. */
MEMSCOPE_EXPORT int memscope_tracker_write_capture(memscope_tracker *tracker, const char *path);

/* The name of a backend ("exact", ...), or NULL for an unknown value. */
MEMSCOPE_EXPORT const char *memscope_backend_name(memscope_backend_kind backend);

/* Parses a backend name.  Returns 0, or -EINVAL for an unknown name. */
MEMSCOPE_EXPORT int memscope_backend_parse(const char *name, memscope_backend_kind *out);

/* Parses a capture source name: "hooks" or "interpose".  Returns 0 or -EINVAL. */
MEMSCOPE_EXPORT int memscope_capture_parse(const char *name, memscope_capture_kind *out);

/* Runs the default analyzers (leaks, hotspots, fragmentation: those
 * installed) on everything captured so far and writes their results with
 * the exporter plugin named format ("json", "svg", "binary", ...) to path,
 * as `memscope report --format FORMAT -o PATH` does with a capture file.
 * Plugins are searched in $MEMSCOPE_PLUGIN_PATH, then the install
 * directory.  Returns 0, -EINVAL (a NULL argument), -ENOENT (no exporter of
 * that name), -ENOMEM, -errno of writing the capture's temporary file or
 * path, or what the exporter returned. */
MEMSCOPE_EXPORT int memscope_tracker_export(memscope_tracker *tracker, const char *format,
                                            const char *path);

/* Runs the analyzer plugin named analyzer ("leaks", "hotspots", ...) on
 * everything captured so far and prints its results as text to out, as
 * `memscope analyze --analyzer NAME` does (20 rows a table).  Returns 0,
 * -EINVAL (a NULL argument), -ENOENT (no analyzer of that name), -ENOMEM,
 * -errno of writing the capture's temporary file, -EIO (out failed), or
 * what the analyzer returned (its results so far are still printed). */
MEMSCOPE_EXPORT int memscope_tracker_analyze(memscope_tracker *tracker, const char *analyzer,
                                             FILE *out);

/* MEMSCOPE_TRACK(t, buf): names the block buf points to "buf", at this file:line. */
#define MEMSCOPE_TRACK(tracker, variable) \
	memscope_tracker_tag((tracker), (variable), #variable, NULL, __FILE__, __LINE__)

/* MEMSCOPE_TRACK_TYPED(t, node, struct node): the same, recording the type name too. */
#define MEMSCOPE_TRACK_TYPED(tracker, variable, type) \
	memscope_tracker_tag((tracker), (variable), #variable, #type, __FILE__, __LINE__)

/* MEMSCOPE_TRACK_NEXT(t, "frame"); frame = malloc(n): names the next block,
 * recorded exactly even when sampling. */
#define MEMSCOPE_TRACK_NEXT(tracker, name) \
	memscope_tracker_tag_next((tracker), (name), NULL, __FILE__, __LINE__)

/* MEMSCOPE_TRACK_NEXT_TYPED(t, "node", struct node): the same, with the type. */
#define MEMSCOPE_TRACK_NEXT_TYPED(tracker, name, type) \
	memscope_tracker_tag_next((tracker), (name), #type, __FILE__, __LINE__)

#ifdef __cplusplus
}
#endif

#endif
