/* test_leak_scan.c - the leak kinds of core/leak_scan.h on blocks and roots
 * laid out by hand: every kind, and each rule that decides between them.
 *
 * every_kind's layout, built by a program whose globals are the roots and
 * run under valgrind 3.19's memcheck (--leak-check=full
 * --show-leak-kinds=all), gave the totals asserted here: definitely lost
 * 144 bytes in 5 blocks, indirectly lost 96 in 3, possibly lost 88 in 2,
 * still reachable 4 blocks (113 bytes there: its block Z had 1 byte). */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "leak_roots.h"
#include "leak_scan.h"
#include "thread_stop.h"

enum { A, B, C, D, E, F, G, H, I, M, Q, X, Y, Z, BLOCKS };

static const uint64_t sizes[BLOCKS] = {
	[A] = 32, [B] = 64, [C] = 48, [D] = 24, [E] = 40, [F] = 56, [G] = 16, [H] = 16,
	[I] = 32, [M] = 32, [Q] = 32, [X] = 24, [Y] = 24, [Z] = 0,
};

static uintptr_t roots[6];
static unsigned char misaligned_root[16];

static uintptr_t *words(void *block)
{
	return block;
}

/* The kind and the group of the block that starts at start. */
static const struct leak_block *find(const struct leak_block *blocks, size_t count,
                                     uintptr_t start)
{
	for (size_t i = 0; i < count; i++)
		if (blocks[i].start == start)
			return &blocks[i];
	ck_abort_msg("no block at %#lx", (unsigned long)start);
	return NULL;
}

START_TEST(every_kind)
{
	void *at[BLOCKS];
	for (int i = 0; i < BLOCKS; i++) {
		at[i] = calloc(1, sizes[i] != 0 ? sizes[i] : 1);
		ck_assert_ptr_nonnull(at[i]);
	}
	/* From the roots: A and Z by their starts, B and Q by their middles
	 * (Q first, so it is possible before it is found reachable), I only
	 * one past its end, M only at a misaligned address. */
	roots[0] = (uintptr_t)at[Q] + 8;
	roots[1] = (uintptr_t)at[A];
	roots[2] = (uintptr_t)at[B] + 8;
	roots[3] = (uintptr_t)at[Z];
	roots[4] = (uintptr_t)at[I] + sizes[I];
	uintptr_t m = (uintptr_t)at[M];
	memcpy(misaligned_root + 3, &m, sizeof(m));
	/* A -> C (reachable), C -> Q's start (reachable after all). */
	words(at[A])[0] = (uintptr_t)at[C];
	words(at[C])[1] = (uintptr_t)at[Q];
	/* B -> D's start: D is possible, as B is. */
	words(at[B])[0] = (uintptr_t)at[D];
	/* E, lost, -> F's middle: F indirectly lost. */
	words(at[E])[2] = (uintptr_t)at[F] + 4;
	/* G <-> H: one lost group, the lower one leading it. */
	words(at[G])[0] = (uintptr_t)at[H];
	words(at[H])[1] = (uintptr_t)at[G];
	/* The higher of X and Y points to the lower, which leads a group of
	 * its own first and is then claimed by the higher one's. */
	void *lower = at[X] < at[Y] ? at[X] : at[Y], *higher = at[X] < at[Y] ? at[Y] : at[X];
	words(higher)[0] = (uintptr_t)lower;

	struct leak_block blocks[BLOCKS];
	for (int i = 0; i < BLOCKS; i++) {
		blocks[i] = (struct leak_block){ .start = (uintptr_t)at[i], .size = sizes[i] };
		/* I's end must lie in no block, or the test says nothing. */
		uintptr_t end_of_i = (uintptr_t)at[I] + sizes[I];
		ck_assert(end_of_i < blocks[i].start || end_of_i >= blocks[i].start + sizes[i] ||
		          i == I);
	}
	const struct leak_range ranges[] = {
		{ (uintptr_t)roots, (uintptr_t)(roots + 6) },
		{ (uintptr_t)misaligned_root, (uintptr_t)(misaligned_root + sizeof(misaligned_root)) },
	};
	struct leak_totals totals;
	ck_assert_int_eq(leak_scan(blocks, BLOCKS, ranges, 2, &totals), 0);

	for (int i = 1; i < BLOCKS; i++)
		ck_assert(blocks[i - 1].start < blocks[i].start);
	const uint32_t want[BLOCKS] = {
		[A] = LEAK_REACHABLE, [C] = LEAK_REACHABLE, [Q] = LEAK_REACHABLE, [Z] = LEAK_REACHABLE,
		[B] = LEAK_POSSIBLE, [D] = LEAK_POSSIBLE,
		[E] = LEAK_DEFINITE, [F] = LEAK_INDIRECT, [I] = LEAK_DEFINITE, [M] = LEAK_DEFINITE,
	};
	for (int i = 0; i < BLOCKS; i++) {
		if (i == G || i == H || i == X || i == Y)
			continue;
		const struct leak_block *block = find(blocks, BLOCKS, (uintptr_t)at[i]);
		ck_assert_msg(block->kind == want[i], "block %d: %s, not %s", i,
		              leak_kind_name(block->kind), leak_kind_name(want[i]));
	}
	const struct leak_block *g = find(blocks, BLOCKS, (uintptr_t)at[G]);
	const struct leak_block *h = find(blocks, BLOCKS, (uintptr_t)at[H]);
	const struct leak_block *first = g->start < h->start ? g : h, *second = g->start < h->start ? h : g;
	ck_assert_uint_eq(first->kind, LEAK_DEFINITE);
	ck_assert_uint_eq(second->kind, LEAK_INDIRECT);
	ck_assert_uint_eq(second->clique, (uint32_t)(first - blocks));
	const struct leak_block *e = find(blocks, BLOCKS, (uintptr_t)at[E]);
	ck_assert_uint_eq(find(blocks, BLOCKS, (uintptr_t)at[F])->clique, (uint32_t)(e - blocks));
	const struct leak_block *low = find(blocks, BLOCKS, (uintptr_t)lower);
	const struct leak_block *high = find(blocks, BLOCKS, (uintptr_t)higher);
	ck_assert_uint_eq(low->kind, LEAK_INDIRECT);
	ck_assert_uint_eq(high->kind, LEAK_DEFINITE);
	ck_assert_uint_eq(low->clique, (uint32_t)(high - blocks));

	/* A, C, Q, Z; B, D; F, the second of G and H, the lower of X and Y;
	 * E, the first of G and H, I, M, the higher of X and Y. */
	ck_assert_uint_eq(totals.blocks[LEAK_REACHABLE], 4);
	ck_assert_uint_eq(totals.bytes[LEAK_REACHABLE], 32 + 48 + 32 + 0);
	ck_assert_uint_eq(totals.blocks[LEAK_POSSIBLE], 2);
	ck_assert_uint_eq(totals.bytes[LEAK_POSSIBLE], 64 + 24);
	ck_assert_uint_eq(totals.blocks[LEAK_INDIRECT], 3);
	ck_assert_uint_eq(totals.bytes[LEAK_INDIRECT], 56 + 16 + 24);
	ck_assert_uint_eq(totals.blocks[LEAK_DEFINITE], 5);
	ck_assert_uint_eq(totals.bytes[LEAK_DEFINITE], 40 + 16 + 32 + 32 + 24);

	for (int i = 0; i < BLOCKS; i++)
		free(at[i]);
}
END_TEST

/* A list whose head only a root's middle pointer reaches is possibly lost
 * all along: what a possibly lost block points to is possibly lost too,
 * start pointers or not.  The same list with no root at all: the head
 * definitely lost, the rest indirectly. */
START_TEST(a_list_follows_its_head)
{
	enum { LENGTH = 100 };
	void *nodes[LENGTH];
	struct leak_block blocks[LENGTH];
	for (int i = LENGTH - 1; i >= 0; i--) {
		nodes[i] = calloc(1, 32);
		ck_assert_ptr_nonnull(nodes[i]);
		words(nodes[i])[0] = i + 1 < LENGTH ? (uintptr_t)nodes[i + 1] : 0;
	}
	uintptr_t middle = (uintptr_t)nodes[0] + 16;
	const struct leak_range root = { (uintptr_t)&middle, (uintptr_t)(&middle + 1) };
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < LENGTH; i++)
			blocks[i] = (struct leak_block){ .start = (uintptr_t)nodes[i], .size = 32 };
		struct leak_totals totals;
		ck_assert_int_eq(leak_scan(blocks, LENGTH, &root, pass == 0 ? 1 : 0, &totals), 0);
		if (pass == 0) {
			ck_assert_uint_eq(totals.blocks[LEAK_POSSIBLE], LENGTH);
			ck_assert_uint_eq(totals.bytes[LEAK_POSSIBLE], LENGTH * 32);
		} else {
			ck_assert_uint_eq(totals.blocks[LEAK_POSSIBLE], 0);
			/* Allocated from the tail: the head may lie anywhere; whichever
			 * block leads, the head is definitely lost only if it is the
			 * leader, and exactly one block is. */
			ck_assert_uint_eq(totals.blocks[LEAK_DEFINITE], 1);
			ck_assert_uint_eq(totals.blocks[LEAK_INDIRECT], LENGTH - 1);
			ck_assert_uint_eq(find(blocks, LENGTH, (uintptr_t)nodes[0])->kind, LEAK_DEFINITE);
		}
		ck_assert_uint_eq(totals.blocks[LEAK_REACHABLE], 0);
	}
	for (int i = 0; i < LENGTH; i++)
		free(nodes[i]);
}
END_TEST

/* ---- roots from /proc/self/maps ---------------------------------------- */

/* Block addresses the test holds, masked so that no word of its own memory
 * points at a block. */
#define MASK ((uintptr_t)0x5a5a5a5a5a5a5a5a)

/* Not static: a static only written would be optimized away. */
void *volatile kept_by_a_global;

/* A block whose one pointer is left 32 KiB down a frame that has returned:
 * deeper than the frames of the collection and the scan reach. */
static __attribute__((noinline)) uintptr_t leave_on_a_dead_stack(void)
{
	volatile uintptr_t frame[8192];
	void *block = calloc(1, 64);
	ck_assert_ptr_nonnull(block);
	for (int i = 0; i < 16; i++)
		frame[i] = (uintptr_t)block;
	frame[8191] = 0;
	(void)frame[8191];
	return (uintptr_t)block ^ MASK;
}

/* The blocks, in memory of the test's own that it names as such. */
static __attribute__((noinline)) void fill(struct leak_block *blocks, const uintptr_t *masked,
                                           size_t count)
{
	for (size_t i = 0; i < count; i++)
		blocks[i] = (struct leak_block){ .start = masked[i] ^ MASK, .size = 64 };
	leak_blocks_sort(blocks, count);
}

/* Whether one of the ranges holds address. */
static bool holds(const struct leak_range *ranges, size_t count, uintptr_t address)
{
	for (size_t i = 0; i < count; i++)
		if (address >= ranges[i].start && address < ranges[i].end)
			return true;
	return false;
}

static enum leak_kind kind_of(const struct leak_block *blocks, size_t count, uintptr_t masked)
{
	return find(blocks, count, masked ^ MASK)->kind;
}

START_TEST(roots_are_globals_and_the_live_stack)
{
	uintptr_t masked[3];
	kept_by_a_global = calloc(1, 64);
	masked[0] = (uintptr_t)kept_by_a_global ^ MASK;
	masked[1] = leave_on_a_dead_stack();
	void *unreferenced = calloc(1, 64);
	masked[2] = (uintptr_t)unreferenced ^ MASK;
	unreferenced = NULL;

	/* In an anonymous mapping: never a root. */
	const size_t page = 4096;
	struct leak_block *blocks = mmap(NULL, page, PROT_READ | PROT_WRITE,
	                                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(blocks != MAP_FAILED);
	const struct leak_range own = { (uintptr_t)blocks, (uintptr_t)blocks + page };
	const struct leak_thread self = { (uintptr_t)__builtin_frame_address(0), 0 };
	static struct leak_range found[4096];
	for (int cut = 0; cut < 2; cut++) {
		fill(blocks, masked, 3);
		size_t count;
		ck_assert_int_eq(leak_roots_collect(blocks, 3, &self, cut ? 1 : 0, 0, NULL, 0, found,
		                                    4096, &count),
		                 0);
		ck_assert_uint_gt(count, 0);
		for (size_t r = 0; r < count; r++) {
			/* Neither the heap nor the test's own page is a root. */
			ck_assert(found[r].end <= own.start || found[r].start >= own.end);
			for (int b = 0; b < 3; b++)
				ck_assert(blocks[b].start < found[r].start || blocks[b].start >= found[r].end);
		}
		struct leak_totals totals;
		ck_assert_int_eq(leak_scan(blocks, 3, found, count, &totals), 0);
		ck_assert_uint_eq(kind_of(blocks, 3, masked[0]), LEAK_REACHABLE);
		/* The whole stack scanned, the dead frame keeps its block (and
		 * calloc's frames may keep the other); cut at the stack pointer,
		 * neither does. */
		ck_assert_uint_eq(kind_of(blocks, 3, masked[1]), cut ? LEAK_DEFINITE : LEAK_REACHABLE);
		if (cut)
			ck_assert_uint_eq(kind_of(blocks, 3, masked[2]), LEAK_DEFINITE);
	}
	munmap(blocks, page);
}
END_TEST

START_TEST(roots_overflow_and_own_ranges)
{
	struct leak_range one;
	size_t count;
	ck_assert_int_eq(leak_roots_collect(NULL, 0, NULL, 0, 0, NULL, 0, &one, 1, &count), -E2BIG);
	ck_assert_uint_eq(count, 1);
	/* An own range splits the root it lies in. */
	static struct leak_range all[4096], less[4096];
	size_t all_count, less_count;
	ck_assert_int_eq(leak_roots_collect(NULL, 0, NULL, 0, 0, NULL, 0, all, 4096, &all_count), 0);
	const struct leak_range *widest = &all[0];
	for (size_t r = 0; r < all_count; r++)
		if (all[r].end - all[r].start > widest->end - widest->start)
			widest = &all[r];
	ck_assert_uint_ge(widest->end - widest->start, 3 * 4096);
	const struct leak_range hole = { widest->start + 4096, widest->start + 8192 };
	const struct leak_range kept = *widest;
	ck_assert_int_eq(leak_roots_collect(NULL, 0, NULL, 0, 0, &hole, 1, less, 4096, &less_count),
	                 0);
	bool before = false, after = false;
	for (size_t r = 0; r < less_count; r++) {
		ck_assert(less[r].end <= hole.start || less[r].start >= hole.end);
		before |= less[r].start == kept.start && less[r].end == hole.start;
		after |= less[r].start == hole.end && less[r].end == kept.end;
	}
	ck_assert(before && after);

	/* The C library's data is a root, but not when it is the own module. */
	uintptr_t in_libc_data = (uintptr_t)stdout;
	ck_assert(holds(all, all_count, in_libc_data));
	ck_assert_int_eq(leak_roots_collect(NULL, 0, NULL, 0, (uintptr_t)&fopen, NULL, 0, less, 4096,
	                                    &less_count),
	                 0);
	ck_assert(!holds(less, less_count, in_libc_data));
	ck_assert(holds(less, less_count, (uintptr_t)&kept_by_a_global));
}
END_TEST

/* The main thread's static thread-local storage, beside its thread pointer. */
static __thread void *kept_by_tls;

START_TEST(thread_local_storage_is_a_root)
{
	kept_by_tls = calloc(1, 64);
	uintptr_t masked = (uintptr_t)kept_by_tls ^ MASK;
	struct leak_block block;
	fill(&block, &masked, 1);
	const struct leak_thread self = { (uintptr_t)__builtin_frame_address(0),
	                                  (uintptr_t)__builtin_thread_pointer() };
	static struct leak_range found[4096];
	size_t count;
	ck_assert_int_eq(leak_roots_collect(&block, 1, &self, 1, 0, NULL, 0, found, 4096, &count), 0);
	ck_assert(holds(found, count, (uintptr_t)&kept_by_tls));
	struct leak_totals totals;
	ck_assert_int_eq(leak_scan(&block, 1, found, count, &totals), 0);
	ck_assert_uint_eq(block.kind, LEAK_REACHABLE);
	free(kept_by_tls);
}
END_TEST

/* ---- other threads, stopped ------------------------------------------- */

enum { HOLDERS = 4 };

static uintptr_t held[HOLDERS];      /* each holder's block, masked */
static _Atomic int holders_ready;
static _Atomic int holders_done;

/* Holder 0: its block's pointer on its stack, live. */
static __attribute__((noinline)) void hold_on_stack(void)
{
	volatile uintptr_t kept = (uintptr_t)calloc(1, 64);
	held[0] = kept ^ MASK;
	atomic_fetch_add(&holders_ready, 1);
	while (atomic_load(&holders_done) == 0)
		usleep(1000);
	free((void *)kept);
}

/* Holder 1: its pointer left in a frame that returned. */
static void hold_on_a_dead_stack(void)
{
	held[1] = leave_on_a_dead_stack();
	atomic_fetch_add(&holders_ready, 1);
	while (atomic_load(&holders_done) == 0)
		usleep(1000);
}

/* Holder 2: its pointer in r12 alone, spinning until done. */
static void hold_in_a_register(void)
{
	uintptr_t masked = (uintptr_t)calloc(1, 64) ^ MASK;
	held[2] = masked;
	atomic_fetch_add(&holders_ready, 1);
	__asm__ volatile("movq %1, %%r12\n\t"
	                 "xorq %2, %%r12\n\t"
	                 "1: pause\n\t"
	                 "cmpl $0, %0\n\t"
	                 "je 1b\n\t"
	                 "xorq %%r12, %%r12"
	                 : : "m"(holders_done), "r"(masked), "r"(MASK) : "r12", "cc", "memory");
}

#define STOP_SIGNAL (SIGRTMAX - 3)

/* Holder 3: the stop signal blocked; never stops. */
static void hold_with_the_signal_blocked(void)
{
	sigset_t blocked;
	sigemptyset(&blocked);
	sigaddset(&blocked, STOP_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &blocked, NULL);
	held[3] = (uintptr_t)calloc(1, 64) ^ MASK;
	atomic_fetch_add(&holders_ready, 1);
	while (atomic_load(&holders_done) == 0)
		usleep(1000);
}

static void *holder(void *which)
{
	switch ((intptr_t)which) {
	case 0: hold_on_stack(); break;
	case 1: hold_on_a_dead_stack(); break;
	case 2: hold_in_a_register(); break;
	default: hold_with_the_signal_blocked(); break;
	}
	return NULL;
}

START_TEST(stopped_threads_stacks_and_registers)
{
	pthread_t threads[HOLDERS];
	for (intptr_t i = 0; i < HOLDERS; i++)
		ck_assert_int_eq(pthread_create(&threads[i], NULL, holder, (void *)i), 0);
	while (atomic_load(&holders_ready) < HOLDERS)
		usleep(1000);

	size_t count;
	const struct stopped_thread *stopped = thread_stop_all(STOP_SIGNAL, 200, &count);
	ck_assert_ptr_nonnull(stopped);
	ck_assert_uint_eq(count, HOLDERS);
	size_t answered = 0;
	struct leak_thread known[HOLDERS + 1];
	struct leak_range registers[HOLDERS];
	for (size_t i = 0; i < count; i++) {
		if (!stopped[i].stopped)
			continue;
		known[answered] = (struct leak_thread){ stopped[i].stack_pointer,
		                                        stopped[i].thread_pointer };
		registers[answered] = (struct leak_range){
			(uintptr_t)stopped[i].registers,
			(uintptr_t)(stopped[i].registers + THREAD_STOP_REGISTERS) };
		answered++;
	}
	ck_assert_uint_eq(answered, HOLDERS - 1);
	known[answered] = (struct leak_thread){ (uintptr_t)__builtin_frame_address(0),
	                                        (uintptr_t)__builtin_thread_pointer() };

	struct leak_block blocks[HOLDERS];
	fill(blocks, held, HOLDERS);
	/* The table of stopped threads is in this executable's data, as it
	 * will be in memscope's: left out, so that the registers count only
	 * when named. */
	const struct leak_range table_range = { (uintptr_t)stopped,
	                                        (uintptr_t)(stopped + THREAD_STOP_MAX) };
	static struct leak_range found[4096 + HOLDERS];
	size_t root_count;
	ck_assert_int_eq(leak_roots_collect(blocks, HOLDERS, known, answered + 1, 0, &table_range, 1,
	                                    found, 4096, &root_count),
	                 0);
	memcpy(found + root_count, registers, answered * sizeof registers[0]);
	/* Without the registers, then with them. */
	for (int with_registers = 0; with_registers < 2; with_registers++) {
		struct leak_totals totals;
		ck_assert_int_eq(leak_scan(blocks, HOLDERS, found,
		                           root_count + (with_registers ? answered : 0), &totals),
		                 0);
		ck_assert_uint_eq(kind_of(blocks, HOLDERS, held[0]), LEAK_REACHABLE);
		ck_assert_uint_eq(kind_of(blocks, HOLDERS, held[1]), LEAK_DEFINITE);
		ck_assert_uint_eq(kind_of(blocks, HOLDERS, held[2]),
		                  with_registers ? LEAK_REACHABLE : LEAK_DEFINITE);
	}
	thread_stop_resume();
	atomic_store(&holders_done, 1);
	for (int i = 0; i < HOLDERS; i++)
		ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
}
END_TEST

/* A program's own handler for the signal: the threads are not stopped. */
static void programs_handler(int signal_number)
{
	(void)signal_number;
}

START_TEST(a_signal_the_program_uses_is_refused)
{
	signal(STOP_SIGNAL, programs_handler);
	size_t count = 99;
	ck_assert_ptr_null(thread_stop_all(STOP_SIGNAL, 100, &count));
	ck_assert_uint_eq(count, 0);
	thread_stop_resume();
	struct sigaction now;
	sigaction(STOP_SIGNAL, NULL, &now);
	ck_assert(now.sa_handler == programs_handler);
}
END_TEST

START_TEST(nothing_to_scan)
{
	struct leak_totals totals;
	ck_assert_int_eq(leak_scan(NULL, 0, NULL, 0, &totals), 0);
	for (int k = 0; k < LEAK_KINDS; k++)
		ck_assert_uint_eq(totals.blocks[k] + totals.bytes[k], 0);
	ck_assert_str_eq(leak_kind_name(LEAK_DEFINITE), "definitely lost");
	ck_assert_str_eq(leak_kind_name(LEAK_INDIRECT), "indirectly lost");
	ck_assert_str_eq(leak_kind_name(LEAK_POSSIBLE), "possibly lost");
	ck_assert_str_eq(leak_kind_name(LEAK_REACHABLE), "still reachable");
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("leak_scan");
	TCase *tc = tcase_create("kinds");
	tcase_add_test(tc, every_kind);
	tcase_add_test(tc, a_list_follows_its_head);
	tcase_add_test(tc, nothing_to_scan);
	tcase_add_test(tc, roots_are_globals_and_the_live_stack);
	tcase_add_test(tc, roots_overflow_and_own_ranges);
	tcase_add_test(tc, thread_local_storage_is_a_root);
	tcase_add_test(tc, stopped_threads_stacks_and_registers);
	tcase_add_test(tc, a_signal_the_program_uses_is_refused);
	suite_add_tcase(suite, tc);
	SRunner *runner = srunner_create(suite);
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
