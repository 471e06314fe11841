/* stack_capture.c - see stack_capture.h. */
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <libunwind.h>
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

static struct code_range own_ranges[MAX_RANGES];
static int own_range_count;
static bool initialized;

struct range_search {
	uintptr_t address;
};

/* Adds the executable segments of the object that contains address. */
static int add_object_ranges(struct dl_phdr_info *info, size_t size, void *data)
{
	const struct range_search *search = data;
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
	for (int i = 0; i < info->dlpi_phnum && own_range_count < MAX_RANGES; i++) {
		const ElfW(Phdr) *phdr = &info->dlpi_phdr[i];
		if (phdr->p_type != PT_LOAD || !(phdr->p_flags & PF_X))
			continue;
		uintptr_t start = info->dlpi_addr + phdr->p_vaddr;
		own_ranges[own_range_count++] = (struct code_range){start, start + phdr->p_memsz};
	}
	return 1;
}

static void add_ranges_of(const void *address)
{
	struct range_search search = {(uintptr_t)address};
	dl_iterate_phdr(add_object_ranges, &search);
}

int stack_capture_init(void)
{
	if (initialized)
		return 0;
	add_ranges_of((const void *)(uintptr_t)stack_capture_init);
	if (own_range_count == 0)
		return -ENOENT;
	/* jemalloc: wherever the process's mallocx lives. */
	void *mallocx_address = dlsym(RTLD_DEFAULT, "mallocx");
	if (mallocx_address != NULL)
		add_ranges_of(mallocx_address);
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
	initialized = true;
	return 0;
}

static bool is_own_frame(uintptr_t ip)
{
	for (int i = 0; i < own_range_count; i++)
		if (ip >= own_ranges[i].start && ip < own_ranges[i].end)
			return true;
	return false;
}

int stack_capture(uint64_t *ips, int max)
{
	void *frames[MAX_OWN_FRAMES + 128];
	int limit = max + MAX_OWN_FRAMES;
	if (limit > (int)(sizeof frames / sizeof frames[0]))
		limit = sizeof frames / sizeof frames[0];

	int count = unw_backtrace(frames, limit);
	int first = 0;
	while (first < count && is_own_frame((uintptr_t)frames[first]))
		first++;
	int kept = count - first < max ? count - first : max;
	for (int i = 0; i < kept; i++)
		ips[i] = (uint64_t)(uintptr_t)frames[first + i];
	return kept;
}
