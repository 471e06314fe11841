/* stack_trie.h - interns call stacks as a trie of (parent node, ip) edges.
 *
 * A stack is the id of its innermost node; following parents leads outwards
 * to the root, id 0, the empty stack.  Ids are dense, from 1, in order of
 * creation, so a capture stores each edge once and an event one number.  The
 * writer interns every stack it sees; readers rebuild the same trie from the
 * STACK_NODE records.  Not thread-safe: one owner.  Errors are negative errno.
 */
#ifndef MEMSCOPE_STACK_TRIE_H
#define MEMSCOPE_STACK_TRIE_H

#include <stdbool.h>
#include <stdint.h>

struct stack_trie;

/* Returns 0 or -ENOMEM. */
int stack_trie_create(struct stack_trie **out);

/* NULL is a no-op. */
void stack_trie_destroy(struct stack_trie *trie);

/* The node for ip under parent, created if new (then *created is true).
 * Returns 0, -EINVAL (parent is not a node), -ENOMEM, or -EOVERFLOW (2^32-1 nodes). */
int stack_trie_intern(struct stack_trie *trie, uint32_t parent, uint64_t ip,
                      uint32_t *id, bool *created);

/* The parent and ip of node id.  Returns 0 or -EINVAL (no such node, or 0). */
int stack_trie_node(const struct stack_trie *trie, uint32_t id, uint32_t *parent, uint64_t *ip);

/* Nodes created so far, not counting the root. */
uint32_t stack_trie_count(const struct stack_trie *trie);

#endif
