/* own_arena.c - see own_arena.h. */
#include <pthread.h>
#include <stdio.h>

#include <jemalloc/jemalloc.h>

#include "own_arena.h"

static uint32_t arena = OWN_ARENA_NONE;
static pthread_once_t arena_once = PTHREAD_ONCE_INIT;

static void create_arena(void)
{
	unsigned index;
	size_t size = sizeof index;
	if (mallctl("arenas.create", &index, &size, NULL, 0) == 0)
		arena = index;
}

uint32_t own_arena_enter(void)
{
	pthread_once(&arena_once, create_arena);
	if (arena == OWN_ARENA_NONE)
		return OWN_ARENA_NONE;
	unsigned previous, ours = arena;
	size_t size = sizeof previous;
	if (mallctl("thread.arena", &previous, &size, &ours, sizeof ours) != 0)
		return OWN_ARENA_NONE;
	return previous;
}

void own_arena_leave(uint32_t previous)
{
	if (previous == OWN_ARENA_NONE)
		return;
	unsigned index = previous;
	mallctl("thread.arena", NULL, NULL, &index, sizeof index);
}

static uint64_t arena_stat(const char *name)
{
	char path[96];
	size_t value = 0, size = sizeof value;
	snprintf(path, sizeof path, "stats.arenas.%u.%s", arena, name);
	if (mallctl(path, &value, &size, NULL, 0) != 0)
		return 0;
	return value;
}

void own_arena_stats(struct own_arena_stats *out)
{
	*out = (struct own_arena_stats){0};
	if (arena == OWN_ARENA_NONE)
		return;
	size_t page = 0, size = sizeof page;
	if (mallctl("arenas.page", &page, &size, NULL, 0) != 0)
		page = 4096;
	out->allocated = arena_stat("small.allocated") + arena_stat("large.allocated");
	out->active = arena_stat("pactive") * page;
	out->resident = arena_stat("resident");
	out->mapped = arena_stat("mapped");
	out->retained = arena_stat("retained");
}
