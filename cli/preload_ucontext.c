/* preload_ucontext.c - swapcontext, setcontext and makecontext of the
 * preload library: ucontext coroutines become tasks under the async
 * backend (backends/async/contexts.h says how).  Each wrapper does its
 * bookkeeping, then calls the C library's function through, and does
 * nothing after it returns: a context may resume on another thread, and a
 * shadow stack (CET) sees only ordinary calls and returns.  getcontext is
 * not wrapped: it saves its caller's frame, and a context saved inside a
 * wrapper would resume in a frame that no longer exists.
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <ucontext.h>

#include "contexts.h"
#include "memscope/memscope.h"

typedef int (*swapcontext_fn)(ucontext_t *restrict, const ucontext_t *restrict);
typedef int (*setcontext_fn)(const ucontext_t *);
typedef void (*makecontext_fn)(ucontext_t *, void (*)(void), int, ...);

static swapcontext_fn real_swapcontext;
static setcontext_fn real_setcontext;
static makecontext_fn real_makecontext;

/* Before main (and before any coroutine): dlsym may allocate. */
__attribute__((constructor)) static void find_real_functions(void)
{
	real_swapcontext = (swapcontext_fn)dlsym(RTLD_NEXT, "swapcontext");
	real_setcontext = (setcontext_fn)dlsym(RTLD_NEXT, "setcontext");
	real_makecontext = (makecontext_fn)dlsym(RTLD_NEXT, "makecontext");
}

MEMSCOPE_EXPORT int swapcontext(ucontext_t *restrict from, const ucontext_t *restrict to)
{
	contexts_before_switch(from, to);
	return real_swapcontext(from, to);
}

MEMSCOPE_EXPORT int setcontext(const ucontext_t *to)
{
	contexts_before_switch(NULL, to);
	return real_setcontext(to);
}

MEMSCOPE_EXPORT void makecontext(ucontext_t *ucp, void (*function)(void), int argc, ...)
{
	/* As the C library reads them: one 64-bit slot per argument. */
	uint64_t args[CONTEXT_MAX_ARGS] = {0};
	va_list list;
	va_start(list, argc);
	for (int i = 0; i < argc && i < CONTEXT_MAX_ARGS; i++)
		args[i] = va_arg(list, uint64_t);
	va_end(list);

	void (*start)(void);
	unsigned int low, high;
	if (contexts_make(ucp, function, argc, args, &start, &low, &high)) {
		real_makecontext(ucp, start, 2, low, high);
		return;
	}
	real_makecontext(ucp, function, argc, args[0], args[1], args[2], args[3], args[4], args[5],
	                 args[6], args[7], args[8], args[9], args[10], args[11], args[12], args[13],
	                 args[14], args[15]);
}
