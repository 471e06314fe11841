/* test_stack_capture.c - the signal mask while stack_capture unwinds.
 *
 * This program exports its own sigprocmask, as the preload library does,
 * so libunwind's calls land in stack_capture_sigprocmask.  It counts what
 * libunwind asks for and what reaches the kernel (through pthread_sigmask,
 * which it wraps too), and checks that the program's mask comes out as it
 * went in, whoever changed it meanwhile. */
#define UNW_LOCAL_ONLY
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <libunwind.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "stack_capture.h"

typedef int (*pthread_sigmask_function)(int, const sigset_t *, sigset_t *);

/* What one unwind did, on the thread under test. */
static __thread int unwinder_requests; /* sigprocmask calls from libunwind */
static __thread int kernel_calls;      /* pthread_sigmask calls made */

/* What a test thread does, and what its unwind must come to. */
struct unwind_case {
	void (*at_first_request)(void); /* run before libunwind's first request is answered */
	int kernel_calls;
	bool sigusr1_blocked_after;
};
static __thread const struct unwind_case *current_case;

__attribute__((visibility("default"))) int pthread_sigmask(int how, const sigset_t *set,
                                                          sigset_t *old)
{
	static pthread_sigmask_function next;
	if (next == NULL)
		next = (pthread_sigmask_function)dlsym(RTLD_NEXT, "pthread_sigmask");
	kernel_calls++;
	return next(how, set, old);
}

static bool from_libunwind(const void *caller)
{
	Dl_info unwinder, info;
	return dladdr((void *)(uintptr_t)unw_backtrace, &unwinder) != 0 &&
	       dladdr(caller, &info) != 0 && info.dli_fbase == unwinder.dli_fbase;
}

__attribute__((visibility("default"))) int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	const void *caller = __builtin_return_address(0);
	if (current_case != NULL && from_libunwind(caller) && unwinder_requests++ == 0 &&
	    current_case->at_first_request != NULL)
		current_case->at_first_request();
	return stack_capture_sigprocmask(how, set, old, caller);
}

static bool blocked(int signal)
{
	sigset_t mask;
	pthread_sigmask(SIG_BLOCK, NULL, &mask);
	return sigismember(&mask, signal);
}

/* A few frames of this program's own for libunwind to look up. */
__attribute__((noinline)) static int unwind_from_here(void)
{
	uint64_t ips[64];
	int depth = stack_capture(ips, 64);
	__asm__ volatile("" ::: "memory");
	return depth;
}

__attribute__((noinline)) static int unwind_two_deep(void)
{
	int depth = unwind_from_here();
	__asm__ volatile("" ::: "memory");
	return depth;
}

/* libunwind's caches are per thread: a new thread unwinds cold, and asks
 * for the mask around its table lookups.  SIGUSR2 is blocked before, and
 * must stay so. */
static void *unwind_cold(void *argument)
{
	sigset_t usr2;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	ck_assert_int_eq(pthread_sigmask(SIG_BLOCK, &usr2, NULL), 0);
	unwinder_requests = 0;
	kernel_calls = 0;
	current_case = argument;
	unwind_two_deep();
	current_case = NULL;
	ck_assert_msg(unwinder_requests >= 2,
	              "libunwind asked for the mask %d times: nothing was tested",
	              unwinder_requests);
	const struct unwind_case *expected = argument;
	ck_assert_msg(kernel_calls == expected->kernel_calls,
	              "%d mask calls for %d requests of libunwind, expected %d", kernel_calls,
	              unwinder_requests, expected->kernel_calls);
	ck_assert(blocked(SIGUSR2));
	ck_assert(blocked(SIGUSR1) == expected->sigusr1_blocked_after);
	ck_assert(!blocked(SIGINT));
	return NULL;
}

static void run_in_new_thread(const struct unwind_case *unwind_case)
{
	pthread_t thread;
	ck_assert_int_eq(stack_capture_init(), 0);
	ck_assert_int_eq(pthread_create(&thread, NULL, unwind_cold, (void *)unwind_case), 0);
	ck_assert_int_eq(pthread_join(thread, NULL), 0);
}

/* However many times libunwind asks, the kernel sees one block and one
 * restore. */
START_TEST(an_unwind_blocks_signals_once_and_restores_the_mask)
{
	static const struct unwind_case plain = {NULL, 2, false};
	run_in_new_thread(&plain);
}
END_TEST

/* A signal handler that runs before libunwind's first block and changes
 * the mask from its own code: its change is the program's, and stays.
 * (Two calls of its own, the block and the check, then the two.) */
static void handler_blocks_sigusr1(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	ck_assert_int_eq(sigprocmask(SIG_BLOCK, &set, NULL), 0);
	ck_assert(blocked(SIGUSR1));
}

START_TEST(a_change_from_outside_libunwind_during_an_unwind_is_kept)
{
	static const struct unwind_case with_change = {handler_blocks_sigusr1, 4, true};
	run_in_new_thread(&with_change);
}
END_TEST

/* A real handler that goes into libunwind (its requests come from libunwind
 * while stack_capture unwinds) and interrupts the unwind before the first
 * block: the block is taken in the handler and undone by the kernel when
 * the handler returns.  The program must end with its own mask, not the
 * handler's, which blocks the handler's signal: a third call puts it
 * back. */
static volatile sig_atomic_t handled;

static void unwinding_handler(int signal)
{
	(void)signal;
	sigset_t all, old;
	sigfillset(&all);
	stack_capture_sigprocmask(SIG_SETMASK, &all, &old, (const void *)(uintptr_t)unw_backtrace);
	handled = 1;
}

static void raise_sigusr1(void)
{
	raise(SIGUSR1);
}

START_TEST(a_handler_that_unwinds_leaves_the_programs_mask)
{
	static const struct unwind_case interrupted = {raise_sigusr1, 3, false};
	struct sigaction action = {.sa_handler = unwinding_handler};
	sigemptyset(&action.sa_mask);
	ck_assert_int_eq(sigaction(SIGUSR1, &action, NULL), 0);
	handled = 0;
	run_in_new_thread(&interrupted);
	ck_assert(handled);
	signal(SIGUSR1, SIG_DFL);
}
END_TEST

START_TEST(the_programs_own_calls_change_the_mask)
{
	sigset_t set, old, now;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	ck_assert(!blocked(SIGUSR1));
	ck_assert_int_eq(sigprocmask(SIG_BLOCK, &set, &old), 0);
	ck_assert(!sigismember(&old, SIGUSR1));
	ck_assert(blocked(SIGUSR1));
	ck_assert_int_eq(sigprocmask(SIG_SETMASK, &old, &now), 0);
	ck_assert(sigismember(&now, SIGUSR1));
	ck_assert(!blocked(SIGUSR1));
	errno = 0;
	ck_assert_int_eq(sigprocmask(12345, &set, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("stack_capture");
	TCase *masks = tcase_create("signal mask");
	tcase_add_test(masks, an_unwind_blocks_signals_once_and_restores_the_mask);
	tcase_add_test(masks, a_change_from_outside_libunwind_during_an_unwind_is_kept);
	tcase_add_test(masks, a_handler_that_unwinds_leaves_the_programs_mask);
	tcase_add_test(masks, the_programs_own_calls_change_the_mask);
	suite_add_tcase(suite, masks);
	SRunner *runner = srunner_create(suite);
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? 0 : 1;
}
