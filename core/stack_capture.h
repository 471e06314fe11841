/* stack_capture.h - the call stack of the current allocation, fast.
 *
 * libunwind's unw_backtrace with a per-thread cache, minus the innermost
 * frames that belong to memscope itself or to jemalloc, so frame 0 is the
 * code that called the allocator (the program, or libc's strdup, or
 * libstdc++'s operator new).  Safe to call from the allocation hooks: no
 * locks of ours, no allocation once the thread's cache is warm.
 */
#ifndef MEMSCOPE_STACK_CAPTURE_H
#define MEMSCOPE_STACK_CAPTURE_H

#include <stdint.h>

/* Finds memscope's and jemalloc's code ranges and sets up libunwind.
 * Idempotent.  Returns 0 or -ENOENT when our own module cannot be found. */
int stack_capture_init(void);

/* Writes up to max return addresses, innermost first, into ips.  Returns
 * how many. */
int stack_capture(uint64_t *ips, int max);

#endif
