/* live_map.h - the live heap blocks by address, with their requested size.
 *
 * An open-addressing hash table with backward-shift deletion, so memory is
 * proportional to the live set however many blocks come and go.  The writer
 * thread updates it for every event, at random addresses: the table lives
 * in huge pages where the kernel allows, since TLB misses dominate its cost.
 * One owner; not thread-safe.  Errors are negative errno values.
 */
#ifndef MEMSCOPE_LIVE_MAP_H
#define MEMSCOPE_LIVE_MAP_H

#include <stdbool.h>
#include <stdint.h>

struct live_map;

/* Returns 0 or -ENOMEM. */
int live_map_create(struct live_map **out);

/* NULL is a no-op. */
void live_map_destroy(struct live_map *map);

/* Sets the size of the block at address.  Returns 1 if a block was there
 * (its size into *replaced, if not NULL), 0 if not, -ENOMEM when the table
 * could not grow. */
int live_map_put(struct live_map *map, uint64_t address, uint64_t size, uint64_t *replaced);

/* Removes the block at address, its size into *removed (if not NULL).
 * Returns true if it was there. */
bool live_map_remove(struct live_map *map, uint64_t address, uint64_t *removed);

/* The size of the block at address, or NULL.  Valid until the next put or
 * remove. */
uint64_t *live_map_find(struct live_map *map, uint64_t address);

/* Starts loading the slot of address into the cache: a consumer that
 * knows its next addresses hides most of the table's cache misses. */
void live_map_prefetch(const struct live_map *map, uint64_t address);

/* Blocks in the map. */
uint64_t live_map_count(const struct live_map *map);

#endif
