/* leak_roots.h - where a leak scan (leak_scan.h) starts in this process:
 * the memory the program itself holds pointers in, from /proc/self/maps.
 *
 * A root is a private mapping that is readable and writable, except:
 *   - a mapping that holds a live block is the heap (brk's, an arena's, a
 *     large block's own), whose free chunks would keep stale pointers
 *     alive: its blocks are scanned only once they are reached;
 *   - a stack whose thread's stack pointer is given is scanned from that
 *     pointer up only, so that a pointer left below it, in a frame that has
 *     returned, keeps nothing alive;
 *   - the ranges the caller names as memscope's own (its modules' data, its
 *     rings) are cut out;
 *   - shared mappings and devices are left out: reading past a file's end
 *     there faults, and a program rarely keeps its only pointer to a heap
 *     block in one.
 * The writable segments of the modules (globals, statics of libraries),
 * thread stacks and the static thread-local storage beside them, and
 * anonymous mappings of the program's are all roots this way.
 *
 * Reads /proc/self/maps with read(2) into a buffer on the stack: no
 * allocation, no lock, so it can run at exit in the traced process.
 */
#ifndef MEMSCOPE_LEAK_ROOTS_H
#define MEMSCOPE_LEAK_ROOTS_H

#include <stddef.h>
#include <stdint.h>

#include "leak_scan.h"

/* Fills roots (room for capacity ranges) and sets *count.  blocks are the
 * live blocks, sorted by start (as leak_scan leaves them, or sorted by the
 * caller); stack_pointers, one per thread whose stack is to be cut at it;
 * own, ranges never scanned.  Returns 0, -E2BIG when more ranges were
 * found than capacity holds (*count ranges are filled then), or -errno of
 * reading /proc/self/maps. */
int leak_roots_collect(const struct leak_block *blocks, size_t block_count,
                       const uintptr_t *stack_pointers, size_t thread_count,
                       const struct leak_range *own, size_t own_count,
                       struct leak_range *roots, size_t capacity, size_t *count);

#endif
