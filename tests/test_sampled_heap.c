/* test_sampled_heap.c - the heap of sampled blocks (backends/sampled_heap.h):
 * slots of the right class and alignment, reuse, zeroing, full classes,
 * the usable sizes it reports for the C library, and many threads at once
 * (built again under ThreadSanitizer). */
#include <check.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sampled_heap.h"

static void reserve(void)
{
	ck_assert_int_eq(sampled_heap_reserve(), 0);
}

START_TEST(range_is_aligned_and_holds_its_blocks)
{
	reserve();
	uintptr_t start;
	ck_assert(sampled_heap_start(&start));
	ck_assert_uint_eq(start % ((uintptr_t)1 << 33), 0);
	void *block = sampled_heap_allocate(100, 0, false);
	ck_assert_ptr_nonnull(block);
	ck_assert(sampled_heap_contains(block));
	ck_assert_uint_ge((uintptr_t)block, start);
	ck_assert_uint_lt((uintptr_t)block, start + SAMPLED_HEAP_SPAN);
	ck_assert(!sampled_heap_contains((void *)(start - 16)));
	ck_assert(!sampled_heap_contains((void *)(start + SAMPLED_HEAP_SPAN)));
	ck_assert(!sampled_heap_contains(&start));
	sampled_heap_release(block);
}
END_TEST

START_TEST(slots_are_the_next_power_of_two)
{
	reserve();
	static const struct {
		size_t size, alignment, usable;
	} cases[] = {
		{0, 0, 16},        {1, 0, 16},          {16, 0, 16},         {17, 0, 32},
		{100, 0, 128},     {4096, 0, 4096},     {4097, 0, 8192},     {100, 4096, 4096},
		{3 << 20, 0, 4 << 20}, {10, 1 << 21, 1 << 21},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		void *block = sampled_heap_allocate(cases[i].size, cases[i].alignment, false);
		ck_assert_ptr_nonnull(block);
		ck_assert_uint_eq(sampled_heap_usable(block), cases[i].usable);
		ck_assert_uint_eq(sampled_heap_requested(block), cases[i].size);
		ck_assert_uint_eq((uintptr_t)block % cases[i].usable, 0);
		memset(block, 0x5a, cases[i].usable);
		sampled_heap_release(block);
	}
}
END_TEST

START_TEST(a_freed_slot_is_reused_and_zeroed_when_asked)
{
	reserve();
	unsigned char *first = sampled_heap_allocate(200, 0, false);
	memset(first, 0xff, 256);
	sampled_heap_release(first);
	unsigned char *again = sampled_heap_allocate(150, 0, true);
	ck_assert_ptr_eq(again, first);
	for (int i = 0; i < 150; i++)
		ck_assert_uint_eq(again[i], 0);
	sampled_heap_release(again);

	/* From 64 KiB on, a freed slot gives its pages back: zero again. */
	unsigned char *large = sampled_heap_allocate(100000, 0, false);
	memset(large, 0xff, 100000);
	sampled_heap_release(large);
	unsigned char *reused = sampled_heap_allocate(100000, 0, false);
	ck_assert_ptr_eq(reused, large);
	ck_assert_uint_eq(reused[0], 0);
	ck_assert_uint_eq(reused[99999], 0);
	sampled_heap_release(reused);
}
END_TEST

START_TEST(resizing_in_place_stays_in_the_class)
{
	reserve();
	void *block = sampled_heap_allocate(300, 0, false);
	ck_assert(sampled_heap_resize_in_place(block, 500));
	ck_assert_uint_eq(sampled_heap_requested(block), 500);
	ck_assert(!sampled_heap_resize_in_place(block, 513));
	ck_assert(!sampled_heap_resize_in_place(block, 256));
	ck_assert_uint_eq(sampled_heap_requested(block), 500);
	sampled_heap_release(block);
}
END_TEST

/* The largest class (16 GiB) has four slots; nothing is larger.  Untouched
 * slots cost no memory. */
START_TEST(the_largest_class_fills_up)
{
	reserve();
	const size_t largest = (size_t)16 << 30;
	void *slots[4];
	for (int i = 0; i < 4; i++) {
		slots[i] = sampled_heap_allocate(largest, 0, false);
		ck_assert_ptr_nonnull(slots[i]);
		ck_assert_uint_eq((uintptr_t)slots[i] % largest, 0);
	}
	ck_assert_ptr_null(sampled_heap_allocate(largest, 0, false));
	ck_assert_ptr_null(sampled_heap_allocate(largest + 1, 0, false));
	sampled_heap_release(slots[2]);
	ck_assert_ptr_eq(sampled_heap_allocate(largest - 1, 0, false), slots[2]);
	for (int i = 0; i < 4; i++)
		sampled_heap_release(slots[i]);
}
END_TEST

START_TEST(an_address_no_slot_starts_at_aborts)
{
	reserve();
	char *block = sampled_heap_allocate(64, 0, false);
	sampled_heap_release(block + 16);
}
END_TEST

/* What a sampled block reports as usable is what this process's own
 * malloc (the C library's: nothing here links jemalloc) gives a block of
 * that size, or 16 bytes less: a block that uses up a free chunk gets the
 * rest of it when that is too small to split off, which no rule from the
 * size alone can foresee.  Most blocks here come from fresh memory (they
 * stay live to the end) and get exactly the rule's. */
START_TEST(reported_usable_sizes_are_the_c_librarys)
{
	static void *blocks[3000];
	size_t count = 0, exact = 0;
	for (size_t size = 0; size <= 600000; size += size < 2048 ? 1 : size < 70000 ? 997 : 40961) {
		void *block = malloc(size);
		size_t usable = malloc_usable_size(block);
		size_t rule = sampled_heap_libc_usable(size);
		ck_assert_msg(usable == rule || (size < 128 * 1024 && usable == rule + 16),
		              "%zu bytes: usable %zu, the rule says %zu", size, usable, rule);
		exact += usable == rule;
		blocks[count++] = block;
	}
	ck_assert_uint_ge(exact * 10, count * 9);
	while (count > 0)
		free(blocks[--count]);
}
END_TEST

/* Threads allocate and free blocks of every class up to 1 MiB, each block
 * filled with its owner's mark and checked before it goes: a slot handed
 * to two owners at once would show the other's mark. */
#define THREADS 4
#define LIVE 64
#define ROUNDS 50000

static void *churn(void *argument)
{
	uint8_t mark = (uint8_t)(uintptr_t)argument;
	uint64_t state = 0x9e3779b97f4a7c15u * (mark + 1);
	struct {
		uint8_t *block;
		size_t size;
	} live[LIVE] = {{0}};
	int failures = 0;
	for (int round = 0; round < ROUNDS; round++) {
		state ^= state << 13;
		state ^= state >> 7;
		state ^= state << 17;
		unsigned slot = (unsigned)(state % LIVE);
		if (live[slot].block != NULL) {
			for (size_t i = 0; i < live[slot].size; i += 61)
				failures += live[slot].block[i] != mark;
			sampled_heap_release(live[slot].block);
		}
		size_t size = (size_t)1 + (size_t)((state >> 20) % (1u << (4 + (state >> 50) % 17)));
		live[slot].block = sampled_heap_allocate(size, 0, (state >> 8) & 1);
		live[slot].size = size;
		if (live[slot].block == NULL)
			return (void *)1;
		memset(live[slot].block, mark, size);
	}
	for (unsigned slot = 0; slot < LIVE; slot++)
		sampled_heap_release(live[slot].block);
	return failures ? (void *)1 : NULL;
}

START_TEST(threads_never_share_a_slot)
{
	reserve();
	pthread_t threads[THREADS];
	for (uintptr_t i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&threads[i], NULL, churn, (void *)(i + 1)), 0);
	for (int i = 0; i < THREADS; i++) {
		void *failed;
		ck_assert_int_eq(pthread_join(threads[i], &failed), 0);
		ck_assert_ptr_null(failed);
	}
}
END_TEST

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
static const bool sanitized = true;
#else
static const bool sanitized = false;
#endif

int main(void)
{
	Suite *suite = suite_create("sampled_heap");
	TCase *unit = tcase_create("sampled_heap");
	tcase_set_timeout(unit, 120);
	tcase_add_test(unit, range_is_aligned_and_holds_its_blocks);
	tcase_add_test(unit, slots_are_the_next_power_of_two);
	tcase_add_test(unit, a_freed_slot_is_reused_and_zeroed_when_asked);
	tcase_add_test(unit, resizing_in_place_stays_in_the_class);
	tcase_add_test(unit, the_largest_class_fills_up);
	/* A sanitizer's malloc is not the C library's. */
	if (!sanitized)
		tcase_add_test(unit, reported_usable_sizes_are_the_c_librarys);
	tcase_add_test(unit, threads_never_share_a_slot);
	/* Without fork (the ThreadSanitizer build) an abort ends the run. */
	const char *fork_mode = getenv("CK_FORK");
	if (fork_mode == NULL || strcmp(fork_mode, "no") != 0)
		tcase_add_test_raise_signal(unit, an_address_no_slot_starts_at_aborts, SIGABRT);
	suite_add_tcase(suite, unit);
	SRunner *runner = srunner_create(suite);
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? 0 : 1;
}
