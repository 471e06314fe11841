/* live_map.c - see live_map.h.  Address 0 marks an empty slot: no block
 * lives at address 0. */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "live_map.h"

struct slot {
	uint64_t address;
	uint64_t size;
};

struct live_map {
	struct slot *slots;
	uint64_t mask;                /* capacity - 1; capacity is a power of two */
	uint64_t count;
};

/* 64 KiB: a sampled capture holds a few hundred blocks, and every page of
 * a larger table that one of them lands on is a fault; the table doubles
 * as it fills. */
#define INITIAL_CAPACITY (1u << 12)
#define HUGE_PAGE (2u << 20)

static uint64_t hash_address(uint64_t address)
{
	/* Blocks are 16-aligned and packed in slabs: mix every bit into the
	 * low ones the mask keeps. */
	address ^= address >> 33;
	address *= 0xff51afd7ed558ccdULL;
	address ^= address >> 33;
	return address;
}

static struct slot *map_slots(uint64_t capacity)
{
	size_t bytes = capacity * sizeof(struct slot);
	void *memory = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (memory == MAP_FAILED)
		return NULL;
	if (bytes >= HUGE_PAGE)
		madvise(memory, bytes, MADV_HUGEPAGE);
	return memory;
}

static void unmap_slots(struct slot *slots, uint64_t capacity)
{
	munmap(slots, capacity * sizeof *slots);
}

int live_map_create(struct live_map **out)
{
	struct live_map *map = calloc(1, sizeof *map);
	if (map == NULL)
		return -ENOMEM;
	map->slots = map_slots(INITIAL_CAPACITY);
	if (map->slots == NULL) {
		free(map);
		return -ENOMEM;
	}
	map->mask = INITIAL_CAPACITY - 1;
	*out = map;
	return 0;
}

void live_map_destroy(struct live_map *map)
{
	if (map == NULL)
		return;
	unmap_slots(map->slots, map->mask + 1);
	free(map);
}

static struct slot *find_slot(const struct live_map *map, uint64_t address)
{
	uint64_t index = hash_address(address) & map->mask;
	while (map->slots[index].address != 0 && map->slots[index].address != address)
		index = (index + 1) & map->mask;
	return &map->slots[index];
}

static int grow(struct live_map *map)
{
	uint64_t old_capacity = map->mask + 1;
	struct slot *old_slots = map->slots;
	struct slot *slots = map_slots(old_capacity * 2);
	if (slots == NULL)
		return -ENOMEM;
	map->slots = slots;
	map->mask = old_capacity * 2 - 1;
	for (uint64_t i = 0; i < old_capacity; i++)
		if (old_slots[i].address != 0)
			*find_slot(map, old_slots[i].address) = old_slots[i];
	unmap_slots(old_slots, old_capacity);
	return 0;
}

int live_map_put(struct live_map *map, uint64_t address, uint64_t size, uint64_t *replaced)
{
	/* Load at most 5/8: short probe runs even with clustered addresses. */
	if ((map->count + 1) * 8 > (map->mask + 1) * 5) {
		int error = grow(map);
		if (error < 0)
			return error;
	}
	struct slot *slot = find_slot(map, address);
	int existed = slot->address == address;
	if (existed && replaced != NULL)
		*replaced = slot->size;
	if (!existed)
		map->count++;
	slot->address = address;
	slot->size = size;
	return existed;
}

bool live_map_remove(struct live_map *map, uint64_t address, uint64_t *removed)
{
	struct slot *slot = find_slot(map, address);
	if (slot->address != address)
		return false;
	if (removed != NULL)
		*removed = slot->size;
	map->count--;

	/* Backward-shift: pull later members of the probe run into the hole so
	 * lookups never need tombstones. */
	uint64_t hole = (uint64_t)(slot - map->slots);
	uint64_t index = hole;
	for (;;) {
		index = (index + 1) & map->mask;
		struct slot *next = &map->slots[index];
		if (next->address == 0)
			break;
		uint64_t home = hash_address(next->address) & map->mask;
		/* next may move to the hole if its home is not in (hole, index]. */
		bool home_between = hole <= index ? (home > hole && home <= index)
		                                  : (home > hole || home <= index);
		if (!home_between) {
			map->slots[hole] = *next;
			hole = index;
		}
	}
	map->slots[hole].address = 0;
	return true;
}

uint64_t *live_map_find(struct live_map *map, uint64_t address)
{
	struct slot *slot = find_slot(map, address);
	return slot->address == address ? &slot->size : NULL;
}

void live_map_prefetch(const struct live_map *map, uint64_t address)
{
	__builtin_prefetch(&map->slots[hash_address(address) & map->mask]);
}

uint64_t live_map_count(const struct live_map *map)
{
	return map->count;
}
