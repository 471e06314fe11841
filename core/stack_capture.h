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

#include <signal.h>
#include <stdint.h>

/* Finds memscope's and jemalloc's code ranges and sets up libunwind.
 * Idempotent.  Returns 0 or -ENOENT when our own module cannot be found. */
int stack_capture_init(void);

/* Writes up to max return addresses, innermost first, into ips.  Returns
 * how many. */
int stack_capture(uint64_t *ips, int max);

/* sigprocmask(2) for the process, called from caller (the return address of
 * the exported sigprocmask: the preload library exports one that leads
 * here).  libunwind blocks every signal around each lookup of an unwind
 * table it has not cached yet, and around its own locks, and sets the mask
 * back after: two system calls, about a microsecond each on a VM, for a
 * lookup that takes less (python3 made 2,300 in a 0.6 s run, most of what
 * its samples cost in unwinding).  While stack_capture unwinds, libunwind's
 * first request blocks every signal for the rest of the unwind, and its
 * others change nothing and return 0: stack_capture puts the program's
 * mask back at the end.  The unwind is then as safe from signal handlers as
 * libunwind made it, with at most two system calls.  Every other call, the
 * program's own and a signal handler's among them, is pthread_sigmask's,
 * with sigprocmask's return convention (-1 and errno). */
int stack_capture_sigprocmask(int how, const sigset_t *set, sigset_t *old, const void *caller);

#endif
