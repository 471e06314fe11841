/* test_lockfree.c - the lockfree backend's parts, driven directly: the
 * sampler's statistics, the sampled set, the backend with several threads
 * through the event store, and the store's policy when nobody drains it.
 *
 * Built twice: as is, and with ThreadSanitizer (test_lockfree_tsan), which
 * must find no race in any of it. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend.h"
#include "capture.h"
#include "event_store.h"
#include "guard.h"
#include "sampled_set.h"
#include "sampler.h"
#include "sampling.h"

/* ---- the sampler ----------------------------------------------------- */

/* With a fixed seed the picks are the same every run, so these bounds are
 * not about flakiness; they are 5 standard deviations of a true Poisson
 * sampler, which the implementation must be to pass. */
START_TEST(picks_follow_the_poisson_probability)
{
	const uint64_t interval = 4096, calls = 4000000;
	const size_t sizes[] = {0, 1, 64, 1000, 4096, 40000};
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		sampler_start(interval, 12345 + k, 0);
		uint64_t picked = 0;
		for (uint64_t i = 0; i < calls; i++)
			picked += sampler_pick(sizes[k]);
		/* A block counts for its size plus one byte. */
		double p = -expm1(-((double)sizes[k] + 1.0) / (double)interval);
		double expected = p * (double)calls;
		double spread = sqrt((double)calls * p * (1 - p));
		ck_assert_msg(fabs((double)picked - expected) <= 5 * spread + 1,
		              "size %zu: %llu picked, %.0f expected (sd %.0f)", sizes[k],
		              (unsigned long long)picked, expected, spread);
		/* The weights make the count unbiased. */
		double weight = sample_weight(sizes[k], interval, SAMPLING_COUNT_PLUS_ONE);
		double estimate = (double)picked * weight;
		ck_assert_msg(fabs(estimate - (double)calls) <= 5 * spread * weight + 1,
		              "size %zu: %.0f estimated of %llu", sizes[k], estimate,
		              (unsigned long long)calls);
		sampler_stop();
	}
}
END_TEST

START_TEST(interval_one_picks_every_allocation)
{
	sampler_start(1, 7, 0);
	for (int i = 0; i < 100000; i++)
		ck_assert(sampler_pick((size_t)(i % 5)));
	for (int counting = SAMPLING_COUNT_AT_LEAST_ONE; counting <= SAMPLING_COUNT_PLUS_ONE; counting++) {
		ck_assert(sample_weight(0, 1, counting) == 1.0 && sample_weight(12345, 1, counting) == 1.0);
		ck_assert(sample_weight(100, 0, counting) == 1.0);
	}
	sampler_stop();
}
END_TEST

static uint64_t pick_pattern(uint64_t seed)
{
	sampler_start(512, seed, 0);
	uint64_t pattern = 0;
	for (int i = 0; i < 64 * 8; i++)
		if (sampler_pick(64))
			pattern = pattern * 31 + (uint64_t)i;
	sampler_stop();
	return pattern;
}

START_TEST(a_seed_repeats_its_picks)
{
	ck_assert_uint_eq(pick_pattern(99), pick_pattern(99));
	ck_assert_uint_ne(pick_pattern(99), pick_pattern(100));
}
END_TEST

/* A new start voids the countdowns drawn before: interval 1 right after a
 * long interval still picks the very next allocation. */
START_TEST(a_new_start_voids_old_countdowns)
{
	sampler_start(UINT64_C(1) << 40, 5, 0);
	ck_assert(!sampler_pick(8));
	sampler_start(1, 5, 0);
	ck_assert(sampler_pick(8));
	sampler_stop();
}
END_TEST

/* The hybrid backend's threshold: every allocation at or above it is
 * picked, and leaves the countdown alone, so the small ones are picked
 * exactly as they would be without the large ones in between. */
START_TEST(exact_above_picks_all_and_leaves_the_countdown)
{
	uint64_t alone[64] = {0}, mixed[64] = {0};
	sampler_start(4096, 77, 0);
	for (int i = 0; i < 64 * 64; i++)
		alone[i / 64] = alone[i / 64] * 2 + sampler_pick(100);
	sampler_stop();
	sampler_start(4096, 77, 10000);
	for (int i = 0; i < 64 * 64; i++) {
		ck_assert(sampler_pick(10000));
		ck_assert(sampler_pick(1 << 20));
		mixed[i / 64] = mixed[i / 64] * 2 + sampler_pick(100);
		if (i % 7 == 0)
			ck_assert(sampler_pick(10001));
	}
	sampler_stop();
	ck_assert_mem_eq(alone, mixed, sizeof(alone));
	/* 9,999 bytes is below it: sampled (picked with p = 1 - e^-2.4). */
	sampler_start(4096, 78, 10000);
	int picked = 0;
	for (int i = 0; i < 10000; i++)
		picked += sampler_pick(9999);
	sampler_stop();
	ck_assert_int_lt(picked, 10000);
	ck_assert_int_gt(picked, 8500);
}
END_TEST

/* This version's rule, size + 1, and the one of captures written before
 * format minor 4, max(size, 1), which readers keep using for those. */
START_TEST(weights_match_the_formula)
{
	const enum sampling_count now = SAMPLING_COUNT_PLUS_ONE, old = SAMPLING_COUNT_AT_LEAST_ONE;
	ck_assert(fabs(sample_weight(512 * 1024 - 1, 512 * 1024, now) - 1.0 / (1.0 - exp(-1.0))) < 1e-12);
	ck_assert(fabs(sample_weight(512 * 1024, 512 * 1024, old) - 1.0 / (1.0 - exp(-1.0))) < 1e-12);
	/* Small blocks stand for about interval / (size + 1) of their kind:
	 * 524288 / 17 + 1/2 + (17 / 524288) / 12. */
	ck_assert(fabs(sample_weight(16, 524288, now) - 30840.970591) < 1e-6);
	ck_assert(fabs(sample_weight(0, 524288, now) - 524288.5) < 1e-6);
	ck_assert(fabs(sample_weight(16, 524288, old) - 32768.5) < 0.01);
	ck_assert(fabs(sample_weight(0, 524288, old) - sample_weight(1, 524288, old)) < 1e-9);
	/* Blocks far above the interval are (nearly) always picked. */
	ck_assert(fabs(sample_weight(64 << 20, 524288, now) - 1.0) < 1e-12);
	ck_assert(fabs(sample_weight(64 << 20, 524288, old) - 1.0) < 1e-12);
}
END_TEST

/* ---- the sampled set ------------------------------------------------- */

START_TEST(set_adds_finds_and_removes)
{
	ck_assert_int_eq(sampled_set_reset(1), 0);
	ck_assert(!sampled_set_may_contain(0x1000));
	ck_assert(sampled_set_add(0x1000));
	ck_assert(sampled_set_may_contain(0x1000));
	ck_assert_int_eq(sampled_set_remove(0x2000), SAMPLED_ABSENT);
	ck_assert_int_eq(sampled_set_remove(0x1000), SAMPLED_RECORDED);
	ck_assert_int_eq(sampled_set_remove(0x1000), SAMPLED_ABSENT);
	ck_assert(!sampled_set_may_contain(0x1000));
	/* A block whose allocation was dropped: its free says so. */
	ck_assert(sampled_set_add(0x1000));
	sampled_set_mark_dropped(0x1000);
	ck_assert(sampled_set_may_contain(0x1000));
	ck_assert_int_eq(sampled_set_remove(0x1000), SAMPLED_DROPPED);
	ck_assert_int_eq(sampled_set_remove(0x1000), SAMPLED_ABSENT);
	/* A cell of one block knows which it is: a neighbour in its 256
	 * bytes is answered "not sampled" without the set.  Once two blocks
	 * have shared the cell, it answers "maybe" until it empties. */
	ck_assert(sampled_set_add(0x5000));
	ck_assert(sampled_set_may_contain(0x5000));
	ck_assert_uint_ne(sampled_set_fingerprint(0x5010), sampled_set_fingerprint(0x5000));
	ck_assert(!sampled_set_may_contain(0x5010));
	ck_assert(sampled_set_add(0x5040));
	ck_assert(sampled_set_may_contain(0x5010));
	ck_assert_int_eq(sampled_set_remove(0x5000), SAMPLED_RECORDED);
	ck_assert(sampled_set_may_contain(0x5040));
	ck_assert(sampled_set_may_contain(0x5010));
	ck_assert_int_eq(sampled_set_remove(0x5040), SAMPLED_RECORDED);
	ck_assert(!sampled_set_may_contain(0x5010));
	ck_assert(!sampled_set_may_contain(0x5040));
	/* A reset forgets everything. */
	ck_assert(sampled_set_add(0x3000));
	ck_assert_int_eq(sampled_set_reset(1), 0);
	ck_assert(!sampled_set_may_contain(0x3000));
	ck_assert_int_eq(sampled_set_remove(0x3000), SAMPLED_ABSENT);
}
END_TEST

START_TEST(set_refuses_when_both_buckets_are_full)
{
	ck_assert_int_eq(sampled_set_reset(1), 0);
	/* Adds until the first refusal: the hashes are fixed, so the load
	 * reached is the same every run. */
	uint64_t added = 0, refused = 0;
	for (uintptr_t a = 0x10; a < (uintptr_t)1 << 40 && refused == 0; a += 0x10) {
		if (sampled_set_add(a))
			added++;
		else
			refused++;
	}
	ck_assert_uint_eq(refused, 1);
	/* A million slots; two buckets of eight for each address fill most of
	 * them before any address finds both full. */
	ck_assert_msg(added > 700000 && added <= (1u << 20), "%llu added", (unsigned long long)added);
}
END_TEST

/* From 64 KiB on, an address's first bucket is its 64 KiB region's.  The
 * set still answers for each address alone.  Blocks spaced a power of two
 * apart (large blocks, mapped 1 MiB apart) fill 190,683 of the 2^18 slots
 * of the quarter table it then uses before the first refusal (97,221 when
 * the first bucket was the address's own hash).  Blocks packed 16 bytes
 * apart, which sampling at such an interval does not pick (it picks one
 * per 64 KiB allocated or fewer), crowd their region's bucket: they fill
 * 48,698 (228,736 before). */
START_TEST(set_at_large_intervals_groups_by_region)
{
	ck_assert_int_eq(sampled_set_reset(524288), 0);
	ck_assert(sampled_set_add(0x7f0000001000));
	ck_assert(sampled_set_add(0x7f0000001040));
	ck_assert(!sampled_set_may_contain(0x7f0000002000));
	ck_assert_int_eq(sampled_set_remove(0x7f0000001000), SAMPLED_RECORDED);
	ck_assert(sampled_set_may_contain(0x7f0000001040));
	sampled_set_mark_dropped(0x7f0000001040);
	ck_assert_int_eq(sampled_set_remove(0x7f0000001040), SAMPLED_DROPPED);
	ck_assert_int_eq(sampled_set_remove(0x7f0000001040), SAMPLED_ABSENT);

	uint64_t added = 0;
	for (uintptr_t a = 0x10000000; sampled_set_add(a); a += (uintptr_t)1 << 20)
		added++;
	ck_assert_msg(added > 150000 && added < (1u << 18), "%llu added 1 MiB apart",
	              (unsigned long long)added);

	ck_assert_int_eq(sampled_set_reset(524288), 0);
	added = 0;
	for (uintptr_t a = 0x10000000; sampled_set_add(a); a += 0x10)
		added++;
	ck_assert_msg(added > 40000 && added < (1u << 18), "%llu added 16 bytes apart",
	              (unsigned long long)added);
}
END_TEST

#define SET_THREADS 4
#define SET_ROUNDS 200000

static void *churn_set(void *argument)
{
	uintptr_t base = (uintptr_t)argument;
	for (uintptr_t i = 0; i < SET_ROUNDS; i++) {
		uintptr_t address = base + (i % 64) * 16;
		ck_assert(sampled_set_add(address));
		ck_assert(sampled_set_may_contain(address));
		ck_assert_int_eq(sampled_set_remove(address), SAMPLED_RECORDED);
	}
	return NULL;
}

START_TEST(set_is_safe_from_many_threads)
{
	ck_assert_int_eq(sampled_set_reset(1), 0);
	pthread_t threads[SET_THREADS];
	for (uintptr_t t = 0; t < SET_THREADS; t++)
		pthread_create(&threads[t], NULL, churn_set, (void *)((t + 1) << 32));
	for (int t = 0; t < SET_THREADS; t++)
		pthread_join(threads[t], NULL);
	for (uintptr_t t = 0; t < SET_THREADS; t++)
		for (uintptr_t i = 0; i < 64; i++)
			ck_assert(!sampled_set_may_contain(((t + 1) << 32) + i * 16));
}
END_TEST

/* ---- the backend, through the event store ---------------------------- */

static struct event_store *open_store(int *fd)
{
	*fd = memfd_create("test-capture", 0);
	ck_assert_int_ge(*fd, 0);
	struct event_store *store;
	ck_assert_int_eq(event_store_create(*fd, &store), 0);
	return store;
}

#define BACKEND_THREADS 4
#define BACKEND_BLOCKS 100000

struct worker {
	struct backend *backend;
	uintptr_t base;
	/* Not NULL: halfway through the allocations, the workers wait for
	 * each other there, and one moves the interval to change_to. */
	pthread_barrier_t *halfway;
	uint64_t change_to;
};

static void *allocate_and_free(void *argument)
{
	struct worker *worker = argument;
	for (uintptr_t i = 0; i < BACKEND_BLOCKS; i++) {
		if (worker->halfway && i == BACKEND_BLOCKS / 2) {
			if (pthread_barrier_wait(worker->halfway) == PTHREAD_BARRIER_SERIAL_THREAD)
				sampler_set_interval(worker->change_to);
			pthread_barrier_wait(worker->halfway);
		}
		size_t size = 16 + (i * 37) % 2000;
		struct heap_event event = {.type = HEAP_EVENT_ALLOC, .address = worker->base + i * 16,
		                           .size = size, .usable = size};
		/* What a capture source does: the sampler decides. */
		if (sampler_pick(size))
			worker->backend->ops->on_alloc(worker->backend, &event);
	}
	for (uintptr_t i = 0; i < BACKEND_BLOCKS; i++) {
		struct heap_event event = {.type = HEAP_EVENT_FREE, .address = worker->base + i * 16};
		if (sampled_set_may_contain(event.address))
			worker->backend->ops->on_free(worker->backend, &event);
	}
	return NULL;
}

struct drainer {
	struct event_store *store;
	atomic_bool stop;
};

static void *drain_until_stopped(void *argument)
{
	struct drainer *drainer = argument;
	while (!atomic_load(&drainer->stop)) {
		event_store_drain(drainer->store);
		usleep(200);
	}
	return NULL;
}

/* Opens a backend of kind on a new store (interval 2,048, seed), runs
 * BACKEND_THREADS threads of allocate_and_free on it (moving the interval
 * to change_to halfway, unless 0) while a consumer drains, and closes the
 * store.  Returns the backend, still open. */
static struct backend *run_threads(memscope_backend_kind kind, uint64_t seed, uint64_t exact_above,
                                   uint64_t change_to, struct event_store **store, int *fd)
{
	*store = open_store(fd);
	struct backend *backend;
	ck_assert_int_eq(backend_create(kind, &backend, &(const char *){NULL}), 0);
	memscope_config config = {.version = MEMSCOPE_CONFIG_VERSION, .stack_depth = 16,
	                          .sample_interval = 2048, .sample_seed = seed,
	                          .exact_above = exact_above};
	ck_assert_int_eq(backend->ops->open(backend, &config, *store), 0);
	event_store_open(*store);
	struct drainer drainer = {.store = *store};
	pthread_t consumer;
	pthread_create(&consumer, NULL, drain_until_stopped, &drainer);
	pthread_barrier_t halfway;
	pthread_barrier_init(&halfway, NULL, BACKEND_THREADS);
	struct worker workers[BACKEND_THREADS];
	pthread_t threads[BACKEND_THREADS];
	for (int t = 0; t < BACKEND_THREADS; t++) {
		workers[t] = (struct worker){.backend = backend, .base = (uintptr_t)(t + 1) << 36,
		                             .halfway = change_to ? &halfway : NULL,
		                             .change_to = change_to};
		pthread_create(&threads[t], NULL, allocate_and_free, &workers[t]);
	}
	for (int t = 0; t < BACKEND_THREADS; t++)
		pthread_join(threads[t], NULL);
	pthread_barrier_destroy(&halfway);
	atomic_store(&drainer.stop, true);
	pthread_join(consumer, NULL);
	event_store_close(*store);
	return backend;
}

/* Four threads allocate 100,000 blocks each (16 to 2,015 bytes) and free
 * them, through a sampling backend with a consumer draining meanwhile:
 * every sampled block's free is matched, nothing is dropped, and the count
 * is estimated within 5%.  Under the hybrid backend (exact_above not 0)
 * every block from the threshold on is in the capture, exactly. */
static void run_sampling_backend(memscope_backend_kind kind, uint64_t exact_above)
{
	int fd;
	struct event_store *store;
	struct backend *backend = run_threads(kind, 42, exact_above, 0, &store, &fd);

	struct store_totals totals;
	event_store_totals(store, &totals);
	ck_assert_uint_eq(totals.sample_interval, 2048);
	ck_assert_uint_eq(totals.dropped_events, 0);
	ck_assert_uint_eq(totals.lost_events, 0);
	ck_assert_uint_eq(totals.untracked_frees, 0);
	/* Every sampled block was freed, and only sampled blocks were. */
	ck_assert_uint_eq(totals.live_blocks, 0);
	ck_assert_uint_eq(totals.live_bytes, 0);
	ck_assert_uint_eq(totals.frees, totals.allocations);
	ck_assert_uint_eq(totals.events % 2, 0);
	/* About one block in 2048 / 1000 bytes: the estimate of the count. */
	double blocks = BACKEND_THREADS * (double)BACKEND_BLOCKS;
	ck_assert_msg(fabs((double)totals.allocations - blocks) < 0.05 * blocks,
	              "%llu blocks estimated of %.0f", (unsigned long long)totals.allocations, blocks);
	struct backend_stats stats;
	ck_assert_int_eq(backend_stats(backend, &stats), 0);
	ck_assert_uint_eq(stats.attempts, totals.events);
	ck_assert_uint_eq(stats.successes, totals.events);
	ck_assert_uint_eq(stats.misses, 0);
	ck_assert_uint_eq(stats.waits, 0);
	backend_destroy(backend);
	event_store_destroy(store);

	if (exact_above != 0) {
		uint64_t expected = 0, recorded = 0;
		for (uintptr_t i = 0; i < BACKEND_BLOCKS; i++)
			expected += 16 + (i * 37) % 2000 >= exact_above;
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		struct capture_reader *reader;
		ck_assert_int_eq(capture_reader_open(path, &reader, NULL), 0);
		struct capture_record record;
		while (capture_reader_next(reader, &record) == 1)
			recorded += record.type == CAPTURE_RECORD_ALLOC &&
			            record.u.alloc.size >= exact_above;
		capture_reader_destroy(reader);
		ck_assert_uint_eq(recorded, BACKEND_THREADS * expected);
	}
	close(fd);
}

START_TEST(backend_matches_every_sampled_free_across_threads)
{
	run_sampling_backend(MEMSCOPE_BACKEND_LOCKFREE, 0);
}
END_TEST

START_TEST(hybrid_records_every_large_block_across_threads)
{
	run_sampling_backend(MEMSCOPE_BACKEND_HYBRID, 1500);
}
END_TEST

/* The interval moves while four threads allocate (2,048 bytes, then 8,192
 * from halfway): each thread tells the store before its first pick at the
 * new interval, so every block keeps the weight it was picked with.  The
 * estimate of the count stays within 5%, the live set is back to nothing
 * once all is freed (frees take away what the allocations added), and the
 * capture has one THREAD_SAMPLING record a thread. */
START_TEST(blocks_keep_the_interval_they_were_picked_at)
{
	int fd;
	struct event_store *store;
	struct backend *backend = run_threads(MEMSCOPE_BACKEND_HYBRID, 43, 1 << 20, 8192, &store,
	                                      &fd);

	struct store_totals totals;
	event_store_totals(store, &totals);
	ck_assert_uint_eq(totals.dropped_events, 0);
	ck_assert_uint_eq(totals.live_blocks, 0);
	ck_assert_uint_eq(totals.live_bytes, 0);
	double blocks = BACKEND_THREADS * (double)BACKEND_BLOCKS;
	ck_assert_msg(fabs((double)totals.allocations - blocks) < 0.05 * blocks,
	              "%llu blocks estimated of %.0f", (unsigned long long)totals.allocations, blocks);
	ck_assert_uint_eq(totals.frees, totals.allocations);
	backend_destroy(backend);
	event_store_destroy(store);

	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct capture_reader *reader;
	ck_assert_int_eq(capture_reader_open(path, &reader, NULL), 0);
	struct capture_record record;
	int changes = 0;
	while (capture_reader_next(reader, &record) == 1)
		if (record.type == CAPTURE_RECORD_THREAD_SAMPLING) {
			ck_assert_uint_eq(record.u.thread_sampling.interval, 8192);
			changes++;
		}
	capture_reader_destroy(reader);
	ck_assert_int_eq(changes, BACKEND_THREADS);
	close(fd);
}
END_TEST

/* Nobody drains: the thread's ring doubles four times (512 KiB to 8 MiB),
 * then events are dropped and counted; the call never waits. */
START_TEST(full_rings_grow_then_drop_without_waiting)
{
	int fd;
	struct event_store *store = open_store(&fd);
	event_store_open(store);
	const uint64_t events = 500000;
	uint64_t recorded = 0;
	for (uint64_t i = 0; i < events; i++) {
		struct heap_event event = {.type = HEAP_EVENT_FREE, .address = 0x10000 + i * 16};
		recorded += event_store_try_record(store, &event, NULL, 0);
	}
	struct store_totals totals;
	event_store_totals(store, &totals);
	ck_assert_uint_eq(totals.ring_growths, 4);
	ck_assert_uint_eq(totals.producer_waits, 0);
	ck_assert_uint_eq(totals.dropped_events, events - recorded);
	/* 5 words a free; rings of 2^16 .. 2^20 words, less the padding. */
	ck_assert_msg(recorded > 400000 && recorded < 410000, "%llu recorded",
	              (unsigned long long)recorded);
	event_store_close(store);
	event_store_totals(store, &totals);
	ck_assert_uint_eq(totals.untracked_frees, recorded);
	event_store_destroy(store);
	close(fd);
}
END_TEST

/* Interval 1, nobody draining while the program allocates: the rings grow,
 * then allocations are dropped.  Their frees are misses too, so the
 * tracking figures count every event the program made. */
START_TEST(a_dropped_allocation_makes_its_free_a_miss)
{
	int fd;
	struct event_store *store = open_store(&fd);
	struct backend *backend;
	ck_assert_int_eq(backend_create(MEMSCOPE_BACKEND_LOCKFREE, &backend, &(const char *){NULL}), 0);
	memscope_config config = {.version = MEMSCOPE_CONFIG_VERSION, .stack_depth = 16,
	                          .sample_interval = 1, .sample_seed = 1};
	ck_assert_int_eq(backend->ops->open(backend, &config, store), 0);
	event_store_open(store);
	const uintptr_t blocks = 600000;
	for (uintptr_t i = 0; i < blocks; i++) {
		struct heap_event event = {.type = HEAP_EVENT_ALLOC, .address = 0x100000 + i * 16,
		                           .size = 32, .usable = 32};
		if (sampler_pick(event.size))
			backend->ops->on_alloc(backend, &event);
	}
	struct store_totals totals;
	event_store_totals(store, &totals);
	uint64_t dropped = totals.dropped_events;
	ck_assert_msg(dropped > 100000 && dropped < blocks, "%llu dropped", (unsigned long long)dropped);
	for (uintptr_t i = 0; i < blocks; i++) {
		if (i % 10000 == 0)
			event_store_drain(store);
		struct heap_event event = {.type = HEAP_EVENT_FREE, .address = 0x100000 + i * 16,
		                           .usable = 32};
		if (sampled_set_may_contain(event.address))
			backend->ops->on_free(backend, &event);
	}
	event_store_close(store);
	event_store_totals(store, &totals);
	struct backend_stats stats;
	ck_assert_int_eq(backend_stats(backend, &stats), 0);
	ck_assert_uint_eq(totals.dropped_events, dropped);
	ck_assert_uint_eq(stats.attempts, 2 * blocks);
	ck_assert_uint_eq(stats.misses, 2 * dropped);
	ck_assert_uint_eq(stats.successes, 2 * (blocks - dropped));
	/* Every recorded block was freed, and no free matched nothing. */
	ck_assert_uint_eq(totals.live_blocks, 0);
	ck_assert_uint_eq(totals.untracked_frees, 0);
	backend_destroy(backend);
	event_store_destroy(store);
	close(fd);
}
END_TEST

static Suite *lockfree_suite(void)
{
	Suite *suite = suite_create("lockfree");
	TCase *sampler = tcase_create("sampler");
	tcase_set_timeout(sampler, 120);
	tcase_add_test(sampler, picks_follow_the_poisson_probability);
	tcase_add_test(sampler, interval_one_picks_every_allocation);
	tcase_add_test(sampler, a_seed_repeats_its_picks);
	tcase_add_test(sampler, a_new_start_voids_old_countdowns);
	tcase_add_test(sampler, exact_above_picks_all_and_leaves_the_countdown);
	tcase_add_test(sampler, weights_match_the_formula);
	suite_add_tcase(suite, sampler);
	TCase *set = tcase_create("sampled_set");
	tcase_set_timeout(set, 120);
	tcase_add_test(set, set_adds_finds_and_removes);
	tcase_add_test(set, set_refuses_when_both_buckets_are_full);
	tcase_add_test(set, set_at_large_intervals_groups_by_region);
	tcase_add_test(set, set_is_safe_from_many_threads);
	suite_add_tcase(suite, set);
	TCase *backend = tcase_create("backend");
	tcase_set_timeout(backend, 120);
	tcase_add_test(backend, backend_matches_every_sampled_free_across_threads);
	tcase_add_test(backend, hybrid_records_every_large_block_across_threads);
	tcase_add_test(backend, blocks_keep_the_interval_they_were_picked_at);
	tcase_add_test(backend, full_rings_grow_then_drop_without_waiting);
	tcase_add_test(backend, a_dropped_allocation_makes_its_free_a_miss);
	suite_add_tcase(suite, backend);
	return suite;
}

int main(void)
{
	SRunner *runner = srunner_create(lockfree_suite());
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
