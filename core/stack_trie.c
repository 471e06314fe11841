/* stack_trie.c - implements stack_trie.h.
 *
 * Two structures: a dense array, indexed by id, of each node's (parent, ip),
 * and an open-addressing hash table (linear probing, power-of-two size, kept
 * at most half full) from (parent, ip) to id.  A table slot holds the whole
 * key next to the id, so a lookup that hits reads one slot and no node.
 * Both grow by doubling; nothing is ever removed.
 */
#include "stack_trie.h"

#include <errno.h>
#include <stdlib.h>

#define INITIAL_SLOTS 1024u
#define INITIAL_NODES 512u

struct slot {
	uint64_t ip;
	uint32_t parent;
	uint32_t id;               /* 0: the slot is empty (0 is never a node) */
};

struct stack_trie {
	struct slot *slots;
	size_t slot_mask;          /* slot count - 1 */
	uint32_t *parents;         /* by id; entry 0 is the root and unused */
	uint64_t *ips;
	size_t node_capacity;      /* entries in parents and ips */
	uint32_t count;            /* nodes, not counting the root */
};

static size_t hash_key(uint32_t parent, uint64_t ip)
{
	/* Return addresses share their high bits and are often a few bytes
	 * apart, and sibling frames share a parent: mix everything into every
	 * bit before masking (the 64-bit finaliser of MurmurHash3). */
	uint64_t x = ip ^ ((uint64_t)parent * 0x9e3779b97f4a7c15u);

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdu;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53u;
	x ^= x >> 33;
	return (size_t)x;
}

int stack_trie_create(struct stack_trie **out)
{
	struct stack_trie *trie = calloc(1, sizeof(*trie));

	if (!trie)
		return -ENOMEM;
	trie->slots = calloc(INITIAL_SLOTS, sizeof(*trie->slots));
	trie->parents = malloc(INITIAL_NODES * sizeof(*trie->parents));
	trie->ips = malloc(INITIAL_NODES * sizeof(*trie->ips));
	if (!trie->slots || !trie->parents || !trie->ips) {
		stack_trie_destroy(trie);
		return -ENOMEM;
	}
	trie->slot_mask = INITIAL_SLOTS - 1;
	trie->node_capacity = INITIAL_NODES;
	trie->parents[0] = 0;
	trie->ips[0] = 0;
	*out = trie;
	return 0;
}

void stack_trie_destroy(struct stack_trie *trie)
{
	if (!trie)
		return;
	free(trie->slots);
	free(trie->parents);
	free(trie->ips);
	free(trie);
}

static int grow_slots(struct stack_trie *trie)
{
	size_t old_count = trie->slot_mask + 1;
	size_t new_count = old_count * 2;

	if (new_count > SIZE_MAX / sizeof(struct slot))
		return -ENOMEM;
	struct slot *slots = calloc(new_count, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	size_t mask = new_count - 1;
	for (size_t i = 0; i < old_count; i++) {
		const struct slot *old = &trie->slots[i];
		if (!old->id)
			continue;
		size_t at = hash_key(old->parent, old->ip) & mask;
		while (slots[at].id)
			at = (at + 1) & mask;
		slots[at] = *old;
	}
	free(trie->slots);
	trie->slots = slots;
	trie->slot_mask = mask;
	return 0;
}

static int grow_nodes(struct stack_trie *trie)
{
	size_t capacity = trie->node_capacity * 2;

	if (capacity > SIZE_MAX / sizeof(uint64_t))
		return -ENOMEM;
	/* Each array is replaced only once its new copy exists, so a failure
	 * leaves the trie as it was (a larger parents array is harmless). */
	uint32_t *parents = realloc(trie->parents, capacity * sizeof(*parents));
	if (!parents)
		return -ENOMEM;
	trie->parents = parents;
	uint64_t *ips = realloc(trie->ips, capacity * sizeof(*ips));
	if (!ips)
		return -ENOMEM;
	trie->ips = ips;
	trie->node_capacity = capacity;
	return 0;
}

int stack_trie_intern(struct stack_trie *trie, uint32_t parent, uint64_t ip,
                      uint32_t *id, bool *created)
{
	if (parent > trie->count)
		return -EINVAL;

	size_t at = hash_key(parent, ip) & trie->slot_mask;
	for (;;) {
		const struct slot *slot = &trie->slots[at];
		if (!slot->id)
			break;
		if (slot->ip == ip && slot->parent == parent) {
			*id = slot->id;
			if (created)
				*created = false;
			return 0;
		}
		at = (at + 1) & trie->slot_mask;
	}

	if (trie->count == UINT32_MAX)
		return -EOVERFLOW;
	uint32_t new_id = trie->count + 1;
	if (new_id >= trie->node_capacity) {
		int err = grow_nodes(trie);
		if (err < 0)
			return err;
	}
	/* Keep the table at most half full: linear probing stays short, and
	 * the empty slot found above is only reusable if nothing moved. */
	if ((size_t)new_id > (trie->slot_mask + 1) / 2) {
		int err = grow_slots(trie);
		if (err < 0)
			return err;
		at = hash_key(parent, ip) & trie->slot_mask;
		while (trie->slots[at].id)
			at = (at + 1) & trie->slot_mask;
	}

	trie->slots[at] = (struct slot){ .ip = ip, .parent = parent, .id = new_id };
	trie->parents[new_id] = parent;
	trie->ips[new_id] = ip;
	trie->count = new_id;
	*id = new_id;
	if (created)
		*created = true;
	return 0;
}

int stack_trie_node(const struct stack_trie *trie, uint32_t id, uint32_t *parent, uint64_t *ip)
{
	if (id == 0 || id > trie->count)
		return -EINVAL;
	*parent = trie->parents[id];
	*ip = trie->ips[id];
	return 0;
}

uint32_t stack_trie_count(const struct stack_trie *trie)
{
	return trie->count;
}
