/* thread_stop.c - see thread_stop.h. */
#include "thread_stop.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

enum {
	SLOT_SENT = 1,        /* the signal is on its way */
	SLOT_STOPPED,         /* the handler saved the registers and waits */
	SLOT_LEFT,            /* the handler has returned */
	SLOT_GONE,            /* no signal could be sent: the thread ended */
	SLOT_ABANDONED,       /* never answered; a late handler returns at once */
};

_Static_assert(THREAD_STOP_REGISTERS == NGREG, "the ucontext's general registers");

static struct stopped_thread table[THREAD_STOP_MAX];
static _Atomic int states[THREAD_STOP_MAX];
static _Atomic size_t slots_used;
static _Atomic int released;
static struct sigaction program_action;
static int stop_signal;

static long futex(_Atomic int *word, int operation, int value, const struct timespec *timeout)
{
	return syscall(SYS_futex, word, operation, value, timeout, NULL, 0);
}

static int current_tid(void)
{
	return (int)syscall(SYS_gettid);
}

static void on_stop_signal(int signal_number, siginfo_t *info, void *context)
{
	(void)signal_number;
	if (info->si_code != SI_TKILL || info->si_pid != getpid())
		return;
	int saved_errno = errno;
	int tid = current_tid();
	size_t used = atomic_load_explicit(&slots_used, memory_order_acquire);
	for (size_t i = 0; i < used; i++) {
		if (table[i].tid != tid)
			continue;
		if (atomic_load_explicit(&states[i], memory_order_acquire) != SLOT_SENT)
			break;
		const ucontext_t *interrupted = context;
		memcpy(table[i].registers, interrupted->uc_mcontext.gregs, sizeof table[i].registers);
		table[i].stack_pointer = (uintptr_t)interrupted->uc_mcontext.gregs[REG_RSP];
		table[i].thread_pointer = (uintptr_t)__builtin_thread_pointer();
		atomic_store_explicit(&states[i], SLOT_STOPPED, memory_order_release);
		futex(&states[i], FUTEX_WAKE_PRIVATE, 1, NULL);
		while (atomic_load_explicit(&released, memory_order_acquire) == 0)
			futex(&released, FUTEX_WAIT_PRIVATE, 0, NULL);
		atomic_store_explicit(&states[i], SLOT_LEFT, memory_order_release);
		futex(&states[i], FUTEX_WAKE_PRIVATE, 1, NULL);
		break;
	}
	errno = saved_errno;
}

static uint64_t now_ns(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

/* Waits while states[i] is from, until deadline (ns). */
static void wait_while(size_t i, int from, uint64_t deadline)
{
	for (;;) {
		if (atomic_load_explicit(&states[i], memory_order_acquire) != from)
			return;
		uint64_t now = now_ns();
		if (now >= deadline)
			return;
		uint64_t left = deadline - now;
		struct timespec timeout = { (time_t)(left / 1000000000u), (long)(left % 1000000000u) };
		futex(&states[i], FUTEX_WAIT_PRIVATE, from, &timeout);
	}
}

static bool listed(int tid, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (table[i].tid == tid)
			return true;
	return false;
}

/* Signals each thread of /proc/self/task not in the table yet.  Returns
 * how many were added, or -errno. */
static long signal_new_threads(int self)
{
	int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	long added = 0;
	char buffer[4096] __attribute__((aligned(8)));
	for (;;) {
		long got = syscall(SYS_getdents64, fd, buffer, sizeof buffer);
		if (got <= 0)
			break;
		for (long at = 0; at < got;) {
			const struct dirent64 *entry = (const struct dirent64 *)(buffer + at);
			at += entry->d_reclen;
			char *end;
			long tid = strtol(entry->d_name, &end, 10);
			if (*end != '\0' || tid <= 0 || tid == self || listed((int)tid, slots_used))
				continue;
			size_t i = atomic_load_explicit(&slots_used, memory_order_relaxed);
			if (i == THREAD_STOP_MAX)
				continue;
			table[i] = (struct stopped_thread){ .tid = (int)tid };
			atomic_store_explicit(&states[i], SLOT_SENT, memory_order_relaxed);
			atomic_store_explicit(&slots_used, i + 1, memory_order_release);
			if (syscall(SYS_tgkill, getpid(), (int)tid, stop_signal) != 0)
				atomic_store_explicit(&states[i], SLOT_GONE, memory_order_relaxed);
			added++;
		}
	}
	close(fd);
	return added;
}

const struct stopped_thread *thread_stop_all(int signal_number, unsigned timeout_ms,
                                             size_t *count)
{
	*count = 0;
	atomic_store(&slots_used, 0);
	atomic_store(&released, 0);
	stop_signal = 0;
	struct sigaction action = { .sa_sigaction = on_stop_signal,
	                            .sa_flags = SA_SIGINFO | SA_RESTART };
	sigfillset(&action.sa_mask);
	if (sigaction(signal_number, NULL, &program_action) != 0 ||
	    (program_action.sa_flags & SA_SIGINFO) != 0 ||
	    (program_action.sa_handler != SIG_DFL && program_action.sa_handler != SIG_IGN) ||
	    sigaction(signal_number, &action, NULL) != 0)
		return NULL;
	stop_signal = signal_number;

	int self = current_tid();
	/* Threads started while the first ones stop: a few rounds, each
	 * waiting for its own batch. */
	for (int round = 0; round < 8; round++) {
		size_t before = atomic_load(&slots_used);
		long added = signal_new_threads(self);
		if (added < 0 && round == 0) {
			thread_stop_resume();
			return NULL;
		}
		if (added <= 0)
			break;
		uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000u;
		for (size_t i = before; i < atomic_load(&slots_used); i++)
			wait_while(i, SLOT_SENT, deadline);
	}
	size_t used = atomic_load(&slots_used);
	for (size_t i = 0; i < used; i++)
		table[i].stopped = atomic_load(&states[i]) == SLOT_STOPPED;
	*count = used;
	return table;
}

void thread_stop_resume(void)
{
	if (stop_signal == 0)
		return;
	size_t used = atomic_load(&slots_used);
	bool unanswered = false;
	for (size_t i = 0; i < used; i++) {
		int expected = SLOT_SENT;
		/* A thread that never answered may still run the handler later:
		 * it must find its slot given up. */
		if (atomic_compare_exchange_strong(&states[i], &expected, SLOT_ABANDONED))
			unanswered = true;
	}
	atomic_store_explicit(&released, 1, memory_order_release);
	futex(&released, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
	uint64_t deadline = now_ns() + 1000000000u;
	for (size_t i = 0; i < used; i++)
		wait_while(i, SLOT_STOPPED, deadline);
	/* With a signal still pending for a thread that blocks it, the
	 * program's action (to end the process, by default) must not be the
	 * one to take it: the handler stays, returning at once. */
	if (!unanswered)
		sigaction(stop_signal, &program_action, NULL);
	stop_signal = 0;
}
