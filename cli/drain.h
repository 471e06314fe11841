/* drain.h - `memscope run` writes the captures of the processes it traces
 * from their rings, which live in memory it shares with them
 * (core/ring_window.h): what a process had recorded when it died, of
 * SIGKILL or anything else, is in its capture.
 *
 * A thread of memscope's drains every traced process's window about every
 * millisecond, and finishes each capture when its process finished it (a
 * trailer) or was found gone (no trailer, and an INFO record "death").
 */
#ifndef MEMSCOPE_DRAIN_H
#define MEMSCOPE_DRAIN_H

#include <sys/types.h>

struct drain;

/* Creates the shared memory and starts draining it.  Returns 0 or -errno:
 * the caller then lets the processes write their own captures. */
int drain_start(struct drain **out);

/* The value of MEMSCOPE_DRAIN (ring_window.h) for the processes to trace. */
const char *drain_variable(const struct drain *drain);

/* The root process (root) has ended with wait_status: finishes every
 * capture (waiting, with a word on stderr, for traced processes still
 * running), stops and frees.  NULL is a no-op. */
void drain_finish(struct drain *drain, pid_t root, int wait_status);

#endif
