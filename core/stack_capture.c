/* stack_capture.c - see stack_capture.h. */
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <libunwind.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "stack_capture.h"

/* Frames inside the hooks: our hook and backend, then jemalloc's entry point
 * and internals.  Anything deeper is the caller's code. */
#define MAX_OWN_FRAMES 24
#define MAX_RANGES 8

struct code_range {
	uintptr_t start;
	uintptr_t end;
};

/* The executable segments of a few objects. */
struct code_ranges {
	struct code_range range[MAX_RANGES];
	int count;
};

/* memscope's and jemalloc's code: the frames cut from every stack. */
static struct code_ranges own;
/* libunwind's code: where the signal-mask calls stack_capture_sigprocmask
 * answers for come from. */
static struct code_ranges unwinder;
static bool initialized;

/* An unwind under way: whether libunwind asked for every signal to be
 * blocked and memscope did it, and the program's mask, to put back. */
struct unwind {
	bool masked;
	sigset_t program_mask;
};

/* The thread's unwind under way in stack_capture (on its stack), or NULL. */
static __thread struct unwind *unwinding __attribute__((tls_model("initial-exec")));

struct range_search {
	uintptr_t address;
	struct code_ranges *ranges;
};

/* Adds the executable segments of the object that contains the address. */
static int add_object_ranges(struct dl_phdr_info *info, size_t size, void *data)
{
	const struct range_search *search = data;
	struct code_ranges *ranges = search->ranges;
	bool contains = false;

	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *phdr = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + phdr->p_vaddr;
		if (phdr->p_type == PT_LOAD && search->address >= start &&
		    search->address < start + phdr->p_memsz)
			contains = true;
	}
	if (!contains)
		return 0;
	for (int i = 0; i < info->dlpi_phnum && ranges->count < MAX_RANGES; i++) {
		const ElfW(Phdr) *phdr = &info->dlpi_phdr[i];
		if (phdr->p_type != PT_LOAD || !(phdr->p_flags & PF_X))
			continue;
		uintptr_t start = info->dlpi_addr + phdr->p_vaddr;
		ranges->range[ranges->count++] = (struct code_range){start, start + phdr->p_memsz};
	}
	return 1;
}

static void add_ranges_of(struct code_ranges *ranges, const void *address)
{
	struct range_search search = {(uintptr_t)address, ranges};
	dl_iterate_phdr(add_object_ranges, &search);
}

static bool in_ranges(const struct code_ranges *ranges, uintptr_t address)
{
	for (int i = 0; i < ranges->count; i++)
		if (address >= ranges->range[i].start && address < ranges->range[i].end)
			return true;
	return false;
}

int stack_capture_init(void)
{
	if (initialized)
		return 0;
	add_ranges_of(&own, (const void *)(uintptr_t)stack_capture_init);
	if (own.count == 0)
		return -ENOENT;
	/* jemalloc: wherever the process's mallocx lives. */
	void *mallocx_address = dlsym(RTLD_DEFAULT, "mallocx");
	if (mallocx_address != NULL)
		add_ranges_of(&own, mallocx_address);
	add_ranges_of(&unwinder, (const void *)(uintptr_t)unw_backtrace);
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
	initialized = true;
	return 0;
}

/* Whether every standard signal a thread can block is blocked in mask. */
static bool blocks_all(const sigset_t *mask)
{
	for (int signal = 1; signal < 32; signal++)
		if (signal != SIGKILL && signal != SIGSTOP && !sigismember(mask, signal))
			return false;
	return true;
}

/* Puts the program's mask back after an unwind that blocked signals.  If a
 * signal handler that interrupted the unwind before the first block went
 * into libunwind itself, the block was the handler's, and the kernel put
 * the program's mask back when the handler returned: program_mask is then
 * the handler's, and the one to keep is the one in force. */
static void unmask(const struct unwind *unwind)
{
	sigset_t current;
	pthread_sigmask(SIG_SETMASK, &unwind->program_mask, &current);
	if (!blocks_all(&current))
		pthread_sigmask(SIG_SETMASK, &current, NULL);
}

int stack_capture(uint64_t *ips, int max)
{
	void *frames[MAX_OWN_FRAMES + 128];
	int limit = max + MAX_OWN_FRAMES;
	if (limit > (int)(sizeof frames / sizeof frames[0]))
		limit = sizeof frames / sizeof frames[0];

	struct unwind unwind;
	unwind.masked = false; /* program_mask is written before it is read */
	unwinding = &unwind;
	int count = unw_backtrace(frames, limit);
	unwinding = NULL;
	if (unwind.masked)
		unmask(&unwind);
	int first = 0;
	while (first < count && in_ranges(&own, (uintptr_t)frames[first]))
		first++;
	int kept = count - first < max ? count - first : max;
	for (int i = 0; i < kept; i++)
		ips[i] = (uint64_t)(uintptr_t)frames[first + i];
	return kept;
}

int stack_capture_sigprocmask(int how, const sigset_t *set, sigset_t *old, const void *caller)
{
	struct unwind *unwind = unwinding;
	if (unwind != NULL && in_ranges(&unwinder, (uintptr_t)caller)) {
		/* libunwind only ever blocks every signal and sets its saved
		 * mask back: the first block stands until stack_capture ends. */
		sigset_t all;
		sigfillset(&all);
		if (!unwind->masked) {
			pthread_sigmask(SIG_SETMASK, &all, &unwind->program_mask);
			unwind->masked = true;
		}
		if (old != NULL)
			*old = all;
		return 0;
	}
	int error = pthread_sigmask(how, set, old);
	if (error != 0) {
		errno = error;
		return -1;
	}
	return 0;
}
