/* guard.h - the thread-local reentrancy guard of the capture path.
 *
 * While a thread's guard is raised, its allocations are not recorded: the
 * capture source raises it around every hook, and memscope's own threads
 * and API calls raise it so that memscope never records itself.
 */
#ifndef MEMSCOPE_GUARD_H
#define MEMSCOPE_GUARD_H

#include <stdbool.h>

/* initial-exec: reaching this variable must never allocate (a dynamic TLS
 * access may call malloc on its first use in a thread). */
extern __thread unsigned memscope_guard_depth __attribute__((tls_model("initial-exec")));

static inline bool guard_raised(void)
{
	return memscope_guard_depth != 0;
}

static inline void guard_raise(void)
{
	memscope_guard_depth++;
}

static inline void guard_lower(void)
{
	memscope_guard_depth--;
}

#endif
