/* tracker_internal.h - what the preload library needs of a tracker beyond
 * the public API (memscope.h).  Not exported from libmemscope. */
#ifndef MEMSCOPE_TRACKER_INTERNAL_H
#define MEMSCOPE_TRACKER_INTERNAL_H

#include "memscope/memscope.h"

/* The process is about to replace itself (exec): records key = value and
 * writes everything captured so far to the file, so the capture survives
 * the exec.  If the exec fails, tracking simply goes on.  Returns 0 or the
 * capture's write error. */
int tracker_checkpoint(memscope_tracker *tracker, const char *key, const char *value);

/* The traced program's stderr is its own: `memscope run` says what the
 * tracker would have warned about (from the capture), not the tracker. */
void tracker_keep_quiet(memscope_tracker *tracker);

/* The program is about to start a thread of its own: if the running
 * tracker has been writing from the program's single thread, it starts its
 * writer thread now (tracker.c, start_writing, says why it waited). */
void tracker_program_threads(void);

/* The program is about to dlclose a library: the running tracker records
 * the module map first, so that the frames of the library's blocks are
 * tied to its file even when it goes before the next periodic look. */
void tracker_before_dlclose(void);

/* The next tracker created keeps its rings in window (ring_window.h), from
 * which `memscope run` writes the capture to the tracker's output path:
 * the tracker opens no file. */
struct ring_window;
void tracker_share_window(struct ring_window *window);

/* In a fork's child traced too (--follow-fork), after the fork handler
 * stopped the parent's tracker here: lets go of its backend, which the
 * child's own tracker takes over.  The store and the capture stay the
 * parent's, untouched. */
void tracker_release_after_fork(memscope_tracker *tracker);

#endif
