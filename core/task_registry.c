/* task_registry.c - see task_registry.h.  Keys live in an open-addressing
 * table with backward-shift deletion (tasks end as often as they begin, and
 * tombstones would pile up over 100,000 short tasks); threads in an array
 * by thread index. */
#include "task_registry.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct key_slot {
	uint64_t key;
	uint32_t origin;
	uint32_t id;               /* 0: the slot is empty */
};

struct thread_tasks {
	uint32_t root;
	uint32_t current;
};

struct task_registry {
	struct key_slot *slots;
	size_t capacity;           /* a power of two, or 0 */
	size_t count;
	uint32_t next_id;
	struct thread_tasks *threads;
	size_t thread_capacity;
};

int task_registry_create(struct task_registry **out)
{
	struct task_registry *registry = calloc(1, sizeof(*registry));
	if (!registry)
		return -ENOMEM;
	registry->next_id = 1;
	*out = registry;
	return 0;
}

void task_registry_destroy(struct task_registry *registry)
{
	if (!registry)
		return;
	free(registry->slots);
	free(registry->threads);
	free(registry);
}

static size_t home(const struct task_registry *registry, uint64_t key, uint32_t origin)
{
	uint64_t mixed = (key ^ (uint64_t)origin << 61) * UINT64_C(0x9e3779b97f4a7c15);
	return (size_t)(mixed ^ (mixed >> 29)) & (registry->capacity - 1);
}

/* The slot of key, or capacity. */
static size_t find(const struct task_registry *registry, uint64_t key, uint32_t origin)
{
	if (registry->count == 0)
		return registry->capacity;
	size_t mask = registry->capacity - 1;
	for (size_t i = home(registry, key, origin);; i = (i + 1) & mask) {
		const struct key_slot *slot = &registry->slots[i];
		if (slot->id == 0)
			return registry->capacity;
		if (slot->key == key && slot->origin == origin)
			return i;
	}
}

static void place(struct task_registry *registry, struct key_slot entry)
{
	size_t mask = registry->capacity - 1;
	size_t i = home(registry, entry.key, entry.origin);
	while (registry->slots[i].id != 0)
		i = (i + 1) & mask;
	registry->slots[i] = entry;
	registry->count++;
}

static int grow(struct task_registry *registry)
{
	size_t capacity = registry->capacity ? registry->capacity * 2 : 256;
	struct key_slot *slots = calloc(capacity, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	struct key_slot *old = registry->slots;
	size_t old_capacity = registry->capacity;
	registry->slots = slots;
	registry->capacity = capacity;
	registry->count = 0;
	for (size_t i = 0; i < old_capacity; i++)
		if (old[i].id != 0)
			place(registry, old[i]);
	free(old);
	return 0;
}

uint32_t task_registry_find(const struct task_registry *registry, uint64_t key, uint32_t origin)
{
	size_t slot = find(registry, key, origin);
	return slot < registry->capacity ? registry->slots[slot].id : 0;
}

uint32_t task_registry_take_id(struct task_registry *registry)
{
	if (registry->next_id == UINT32_MAX)
		return 0;
	return registry->next_id++;
}

uint32_t task_registry_add(struct task_registry *registry, uint64_t key, uint32_t origin)
{
	if ((registry->count + 1) * 4 > registry->capacity * 3 && grow(registry) < 0)
		return 0;
	uint32_t id = task_registry_take_id(registry);
	if (id != 0)
		place(registry, (struct key_slot){.key = key, .origin = origin, .id = id});
	return id;
}

void task_registry_remove(struct task_registry *registry, uint64_t key, uint32_t origin)
{
	size_t hole = find(registry, key, origin);
	if (hole == registry->capacity)
		return;
	size_t mask = registry->capacity - 1;
	/* Later members of the probe run move back into the hole unless their
	 * home lies cyclically after it. */
	for (size_t next = (hole + 1) & mask; registry->slots[next].id != 0;
	     next = (next + 1) & mask) {
		size_t at = home(registry, registry->slots[next].key, registry->slots[next].origin);
		bool stays = hole <= next ? (hole < at && at <= next) : (hole < at || at <= next);
		if (stays)
			continue;
		registry->slots[hole] = registry->slots[next];
		hole = next;
	}
	registry->slots[hole].id = 0;
	registry->count--;
}

static struct thread_tasks *thread_of(struct task_registry *registry, uint32_t thread)
{
	if (thread >= registry->thread_capacity) {
		size_t capacity = registry->thread_capacity ? registry->thread_capacity : 16;
		while (capacity <= thread)
			capacity *= 2;
		struct thread_tasks *grown = realloc(registry->threads, capacity * sizeof(*grown));
		if (!grown)
			return NULL;
		memset(grown + registry->thread_capacity, 0,
		       (capacity - registry->thread_capacity) * sizeof(*grown));
		registry->threads = grown;
		registry->thread_capacity = capacity;
	}
	return &registry->threads[thread];
}

uint32_t task_registry_root(const struct task_registry *registry, uint32_t thread)
{
	return thread < registry->thread_capacity ? registry->threads[thread].root : 0;
}

uint32_t task_registry_current(const struct task_registry *registry, uint32_t thread)
{
	return thread < registry->thread_capacity ? registry->threads[thread].current : 0;
}

int task_registry_set_root(struct task_registry *registry, uint32_t thread, uint32_t id)
{
	struct thread_tasks *tasks = thread_of(registry, thread);
	if (!tasks)
		return -ENOMEM;
	tasks->root = id;
	tasks->current = id;
	return 0;
}

int task_registry_set_current(struct task_registry *registry, uint32_t thread, uint32_t id)
{
	struct thread_tasks *tasks = thread_of(registry, thread);
	if (!tasks)
		return -ENOMEM;
	tasks->current = id;
	return 0;
}
