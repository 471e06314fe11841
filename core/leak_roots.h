/* leak_roots.h - where a leak scan (leak_scan.h) starts in this process:
 * the memory the program itself keeps pointers in, from /proc/self/maps.
 * The roots LeakSanitizer takes, and the ones valgrind's memcheck takes
 * but its anonymous mappings:
 *   - the writable segments of every loaded module (a private, writable
 *     mapping of a file, and the anonymous one right after it that holds
 *     the rest of its .bss): globals and statics, the program's and its
 *     libraries';
 *   - each thread's stack, from its stack pointer up only, so that a
 *     pointer left below it, in a frame that has returned, keeps nothing
 *     alive; above it, a thread's static thread-local storage;
 *   - the mapping that holds each thread's thread pointer, when it is none
 *     of those: the main thread's static thread-local storage;
 *   - the caller's registers, which it passes as ranges of its own.
 * Never a root: a mapping that holds a live block (the heap: its free
 * chunks keep stale pointers), the segments of the module that holds
 * own_address (memscope's library), the ranges the caller names as its
 * own, shared mappings and devices (reading past a file's end there
 * faults), and any other anonymous mapping (memscope's rings and tables
 * are among those, and a program rarely keeps its only pointer to a block
 * in one; memcheck would scan it).
 *
 * Reads /proc/self/maps with read(2) into a buffer on the stack: no
 * allocation, no lock, so it can run at exit in the traced process.
 */
#ifndef MEMSCOPE_LEAK_ROOTS_H
#define MEMSCOPE_LEAK_ROOTS_H

#include <stddef.h>
#include <stdint.h>

#include "leak_scan.h"

/* A thread whose stack and thread-local storage are roots. */
struct leak_thread {
	uintptr_t stack_pointer;
	uintptr_t thread_pointer;  /* 0: not known */
};

/* Fills roots (room for capacity ranges) and sets *count.  blocks are the
 * live blocks, sorted by start (leak_blocks_sort); threads, those whose
 * stacks are cut at their stack pointers (a stack of no thread named, the
 * main one's "[stack]" too, is scanned whole); own_address, an address in
 * the module whose segments are never roots (0: none); own, ranges never
 * scanned.  Returns 0, -E2BIG when more ranges were found than capacity
 * holds (*count ranges are filled then), or -errno of reading
 * /proc/self/maps. */
int leak_roots_collect(const struct leak_block *blocks, size_t block_count,
                       const struct leak_thread *threads, size_t thread_count,
                       uintptr_t own_address, const struct leak_range *own, size_t own_count,
                       struct leak_range *roots, size_t capacity, size_t *count);

#endif
