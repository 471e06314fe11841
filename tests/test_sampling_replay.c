/* test_sampling_replay.c - sampled captures and tracking counters as the
 * core reads them: the replay's weighted estimates (totals, peak, per
 * stack, per thread, per block), the walk's weights, the text report's and
 * the run summary's wording, the reader's fast path to the trailer and the
 * last TRACKING record, and a trailer of format minor 0 (without
 * sample_interval).  Captures are written by hand (sampled_fixture.h), and
 * every expected figure is computed here from the weight formula.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "replay.h"
#include "sampling.h"
#include "report.h"
#include "sampled_fixture.h"
#include "varint.h"

#define MS BUILDER_MS

/* ---- helpers ------------------------------------------------------------ */

/* The fixture's estimates, computed from the formula, are the figures the
 * texts below spell out (grouped as people read them). */
static void assert_fixture_figures(const struct fixture_expected *expected)
{
	ck_assert_uint_eq(expected->allocations, 1017);
	ck_assert_uint_eq(expected->frees, 12);
	ck_assert_uint_eq(expected->allocated_bytes, 9555);
	ck_assert_uint_eq(expected->peak_bytes, 7347);
	ck_assert_uint_eq(expected->peak_blocks, 1003);
	ck_assert_uint_eq(expected->live_blocks, 1006);
	ck_assert_uint_eq(expected->live_bytes, 3471);
	ck_assert_uint_eq(expected->stack2_live_blocks, 5);
	ck_assert_uint_eq(expected->stack2_live_bytes, 3471);
}

static void assert_contains(const char *text, const char *wanted)
{
	ck_assert_msg(strstr(text, wanted) != NULL, "no \"%s\" in:\n%s", wanted, text);
}

static struct replay *replay_of(const char *path)
{
	struct replay *replay = NULL;
	const char *message = NULL;
	int error = replay_create(path, &replay, &message);
	ck_assert_msg(error == 0, "replay_create: %d %s", error, message ? message : "");
	return replay;
}

/* The fixture, with a trailer and a TRACKING record of successes of 10. */
static void write_fixture(struct capture_builder *builder, uint64_t successes)
{
	const struct fixture_options options = {
		.successes = successes, .tracking = true, .trailer = true,
	};
	fixture_write(builder, &options);
}

/* What the report of path prints, NUL-terminated; the caller frees. */
static char *report_text(const char *path, struct report **out)
{
	struct report *report = NULL;
	const char *message = NULL;
	ck_assert_int_eq(report_build(path, NULL, &report, &message), 0);
	char *text = NULL;
	size_t size = 0;
	FILE *stream = open_memstream(&text, &size);
	ck_assert_ptr_nonnull(stream);
	ck_assert_int_eq(report_write_text(report, stream), 0);
	fclose(stream);
	if (out)
		*out = report;
	else
		report_destroy(report);
	return text;
}

/* What report_print_summary prints for path; the caller frees. */
static char *summary_text(const char *path)
{
	char *text = NULL;
	size_t size = 0;
	FILE *stream = open_memstream(&text, &size);
	ck_assert_ptr_nonnull(stream);
	ck_assert_int_eq(report_print_summary(path, NULL, stream), 0);
	fclose(stream);
	return text;
}

/* ---- the replay ---------------------------------------------------------- */

START_TEST(test_replay_estimates)
{
	struct capture_builder builder;
	write_fixture(&builder, FIXTURE_ATTEMPTS);
	struct fixture_expected expected;
	fixture_expected(&expected);
	struct replay *replay = replay_of(builder.path);

	ck_assert(replay->sampled);
	ck_assert_uint_eq(replay->sample_interval, FIXTURE_INTERVAL);
	ck_assert_uint_eq(replay->sample_interval_min, FIXTURE_INTERVAL);
	ck_assert_uint_eq(replay->sample_interval_max, FIXTURE_INTERVAL);

	const struct replay_totals *totals = &replay->totals;
	ck_assert_uint_eq(totals->allocations, expected.allocations);
	ck_assert_uint_eq(totals->frees, expected.frees);
	ck_assert_uint_eq(totals->allocated_bytes, expected.allocated_bytes);
	ck_assert_uint_eq(totals->peak_bytes, expected.peak_bytes);
	ck_assert_uint_eq(totals->peak_blocks, expected.peak_blocks);
	ck_assert_uint_eq(totals->peak_time_ns, expected.peak_time_ns);
	ck_assert_uint_eq(totals->live_blocks, expected.live_blocks);
	ck_assert_uint_eq(totals->live_bytes, expected.live_bytes);
	/* Records stay true counts. */
	ck_assert_uint_eq(totals->events, 7);
	ck_assert_uint_eq(totals->alloc_records, 5);
	ck_assert_uint_eq(totals->free_records, 2);
	ck_assert_uint_eq(totals->frees_untracked, 0);

	ck_assert_uint_eq(replay->stacks[2].live_blocks, expected.stack2_live_blocks);
	ck_assert_uint_eq(replay->stacks[2].live_bytes, expected.stack2_live_bytes);
	ck_assert_uint_eq(replay->stacks[1].live_blocks, expected.stack1_live_blocks);
	ck_assert_uint_eq(replay->stacks[1].live_bytes, 0);
	ck_assert_uint_eq(replay->stacks[3].live_blocks, 0);
	ck_assert_uint_eq(replay->stacks[3].allocations,
	                  (uint64_t)llround(fixture_block_weight(BLOCK_D)));
	/* At the peak, stack 2 held B alone. */
	ck_assert_uint_eq(replay->stacks[2].peak_bytes,
	                  (uint64_t)llround(fixture_block_weight(BLOCK_B) * 2000));
	ck_assert_uint_eq(replay->threads[0].allocations, expected.thread0_allocations);
	ck_assert_uint_eq(replay->threads[0].allocated_bytes, expected.thread0_bytes);
	ck_assert_uint_eq(replay->threads[1].allocations, expected.thread1_allocations);
	ck_assert_uint_eq(replay->threads[1].allocated_bytes, expected.thread1_bytes);

	const struct replay_block *b = replay_find_live(replay, fixture_blocks[BLOCK_B].address);
	ck_assert_ptr_nonnull(b);
	fixture_assert_weight(b->weight, fixture_block_weight(BLOCK_B));
	const struct replay_block *c = replay_find_live(replay, fixture_blocks[BLOCK_C].address);
	ck_assert_ptr_nonnull(c);
	fixture_assert_weight(c->weight, fixture_weight(1, FIXTURE_INTERVAL));

	ck_assert(replay->has_tracking);
	ck_assert_uint_eq(replay->tracking.attempts, FIXTURE_ATTEMPTS);
	ck_assert_uint_eq(replay->tracking.successes, FIXTURE_ATTEMPTS);
	ck_assert_uint_eq(replay->tracking.waits, 1);
	ck_assert_uint_eq(replay->tracking.growths, 2);
	ck_assert(replay->has_trailer);
	ck_assert_uint_eq(replay->trailer.sample_interval, FIXTURE_INTERVAL);

	replay_destroy(replay);
	unlink(builder.path);
}
END_TEST

struct walked {
	int blocks;
	int events;
};

static int walk_block(void *context, const struct replay_block_life *life)
{
	struct walked *walked = context;
	enum fixture_block block = fixture_block_at(life->address);
	fixture_assert_weight(life->weight, fixture_block_weight(block));
	ck_assert(life->freed == (fixture_blocks[block].freed_ns != 0));
	walked->blocks++;
	return 0;
}

static int walk_event(void *context, const struct replay_event *event)
{
	struct walked *walked = context;
	fixture_assert_weight(event->weight, fixture_block_weight(fixture_block_at(event->address)));
	walked->events++;
	return 0;
}

START_TEST(test_walk_weights)
{
	struct capture_builder builder;
	write_fixture(&builder, FIXTURE_ATTEMPTS);
	struct walked walked = {0};
	struct replay_walker walker = {.block = walk_block, .event = walk_event, .context = &walked};
	ck_assert_int_eq(replay_walk(builder.path, &walker, NULL), 0);
	ck_assert_int_eq(walked.blocks, FIXTURE_BLOCKS);
	ck_assert_int_eq(walked.events, 7);
	unlink(builder.path);
}
END_TEST

/* F is allocated at interval 1000, then the interval becomes 4000: G is
 * allocated and freed at it, and F, resized in place to 4000 bytes, takes
 * the weight of its new size at the new interval. */
START_TEST(test_interval_change_and_resize)
{
	enum { F = 0xf000, G = 0x9000 };
	struct capture_builder builder;
	builder_start(&builder);
	builder_thread(&builder, 0, "main");
	builder_stack(&builder, 1, 0x401000);
	builder_stack(&builder, 2, 0x402000);
	builder_sampling(&builder, 1 * MS, 1000);
	builder_alloc(&builder, 2 * MS, 0, F, 100, 1);
	builder_sampling(&builder, 3 * MS, 4000);
	builder_alloc(&builder, 4 * MS, 0, G, 100, 1);
	builder_expand(&builder, 5 * MS, 0, F, 4000, 2);
	builder_free(&builder, 6 * MS, 0, G);
	builder_finish(&builder);

	double f = fixture_weight(100, 1000), g = fixture_weight(100, 4000);
	double resized = fixture_weight(4000, 4000);
	struct replay *replay = replay_of(builder.path);
	const struct replay_totals *totals = &replay->totals;
	ck_assert(replay->sampled);
	ck_assert_uint_eq(replay->sample_interval, 4000);
	ck_assert_uint_eq(replay->sample_interval_min, 1000);
	ck_assert_uint_eq(replay->sample_interval_max, 4000);
	ck_assert_uint_eq(totals->allocations, (uint64_t)llround(f + g));
	ck_assert_uint_eq(totals->allocated_bytes, (uint64_t)llround(100 * f + 100 * g));
	ck_assert_uint_eq(totals->expands, (uint64_t)llround(resized));
	ck_assert_uint_eq(totals->frees, (uint64_t)llround(g));
	ck_assert_uint_eq(totals->live_blocks, (uint64_t)llround(resized));
	ck_assert_uint_eq(totals->live_bytes, (uint64_t)llround(4000 * resized));
	double peak = fmax(100 * f + 100 * g, 4000 * resized + 100 * g);
	ck_assert_uint_eq(totals->peak_bytes, (uint64_t)llround(peak));
	ck_assert_uint_eq(replay->stacks[2].expands, (uint64_t)llround(resized));
	ck_assert_uint_eq(replay->stacks[2].live_bytes, (uint64_t)llround(4000 * resized));
	ck_assert_uint_eq(replay->stacks[1].live_blocks, 0);
	fixture_assert_weight(replay_find_live(replay, F)->weight, resized);
	replay_destroy(replay);

	char *text = report_text(builder.path, NULL);
	assert_contains(text, "SAMPLED  one point every 1,000 bytes to 4,000 bytes (3.9 KiB) "
	                      "allocated on average (Poisson; the backend changed its interval");
	free(text);
	unlink(builder.path);
}
END_TEST

/* A capture of thread 0 "main" and stack 1, sampled as sampling says. */
static void start_sampled(struct capture_builder *builder, struct capture_sampling sampling)
{
	builder_start(builder);
	builder_thread(builder, 0, "main");
	builder_stack(builder, 1, 0x401000);
	builder_add(builder, &(struct capture_record){ .type = CAPTURE_RECORD_SAMPLING,
	                                               .u.sampling = sampling });
}

/* A capture of this version's samplers says they counted each block as
 * its size plus one byte: the reader weighs each by that rule (an older
 * capture, as the fixture, by max(size, 1)). */
START_TEST(test_counted_plus_one)
{
	enum { P = 0x1000, Q = 0x2000, R = 0x3000 };
	struct capture_builder builder;
	start_sampled(&builder, (struct capture_sampling){ .time_ns = 1 * MS, .interval = 1000,
	                                                   .seed = 3,
	                                                   .counting = SAMPLING_COUNT_PLUS_ONE });
	builder_alloc(&builder, 2 * MS, 0, P, 0, 1);
	builder_alloc(&builder, 3 * MS, 0, Q, 99, 1);
	builder_alloc(&builder, 4 * MS, 0, R, 999, 1);
	builder_finish(&builder);

	/* From the formula: 1 / (1 - exp(-(size + 1) / 1000)). */
	double p = 1.0 / -expm1(-1.0 / 1000), q = 1.0 / -expm1(-100.0 / 1000),
	       r = 1.0 / -expm1(-1000.0 / 1000);
	struct replay *replay = replay_of(builder.path);
	fixture_assert_weight(replay_find_live(replay, P)->weight, p);
	fixture_assert_weight(replay_find_live(replay, Q)->weight, q);
	fixture_assert_weight(replay_find_live(replay, R)->weight, r);
	/* 1,000.5 + 10.508 + 1.582 blocks, 99 x 10.508 + 999 x 1.582 bytes. */
	ck_assert_uint_eq(replay->totals.allocations, 1013);
	ck_assert_uint_eq(replay->totals.allocated_bytes, 2621);
	ck_assert_uint_eq(replay->totals.live_blocks, 1013);
	ck_assert_uint_eq(replay->totals.live_bytes, 2621);
	replay_destroy(replay);
	unlink(builder.path);
}
END_TEST

/* The hybrid backend's rule: blocks at or above exact_above weigh 1, the
 * others their weight at the interval, in the first pass, the peak's
 * second pass and the walk alike; a resize across the threshold moves a
 * block from one population to the other. */
struct weights_seen {
	double alloc_weights[4];
	int allocs;
};

static int see_weights(void *context, const struct replay_event *event)
{
	struct weights_seen *seen = context;
	if (event->type == CAPTURE_RECORD_ALLOC && seen->allocs < 4)
		seen->alloc_weights[seen->allocs++] = event->weight;
	return 0;
}

START_TEST(test_exact_above_weighs_one)
{
	enum { SMALL = 0x1000, AT = 0x2000, LARGE = 0x3000, GROWN = 0x4000 };
	struct capture_builder builder;
	start_sampled(&builder, (struct capture_sampling){ .time_ns = 1 * MS, .interval = 1000,
	                                                   .seed = 7, .exact_above = 4600 });
	builder_alloc(&builder, 2 * MS, 0, SMALL, 4599, 1);
	builder_alloc(&builder, 3 * MS, 0, AT, 4600, 1);
	builder_alloc(&builder, 4 * MS, 0, LARGE, 100000, 1);
	builder_alloc(&builder, 5 * MS, 0, GROWN, 100, 1);
	builder_expand(&builder, 6 * MS, 0, GROWN, 5000, 1);
	builder_free(&builder, 7 * MS, 0, LARGE);
	builder_finish(&builder);

	double small = fixture_weight(4599, 1000), grown_before = fixture_weight(100, 1000);
	struct replay *replay = replay_of(builder.path);
	ck_assert_uint_eq(replay->exact_above, 4600);
	const struct replay_totals *totals = &replay->totals;
	ck_assert_uint_eq(totals->allocations, (uint64_t)llround(small + 1 + 1 + grown_before));
	ck_assert_uint_eq(totals->allocated_bytes,
	                  (uint64_t)llround(4599 * small + 4600 + 100000 + 100 * grown_before));
	ck_assert_uint_eq(totals->frees, 1);
	fixture_assert_weight(replay_find_live(replay, SMALL)->weight, small);
	fixture_assert_weight(replay_find_live(replay, AT)->weight, 1.0);
	fixture_assert_weight(replay_find_live(replay, GROWN)->weight, 1.0);
	/* Live: the small one's estimate, the one at the threshold, the grown one. */
	ck_assert_uint_eq(totals->live_bytes, (uint64_t)llround(4599 * small + 4600 + 5000));
	/* The peak: after the resize, before the large block's free. */
	ck_assert_uint_eq(totals->peak_bytes, (uint64_t)llround(4599 * small + 4600 + 100000 + 5000));
	replay_destroy(replay);

	struct weights_seen seen = {0};
	struct replay_walker walker = {.event = see_weights, .context = &seen};
	ck_assert_int_eq(replay_walk(builder.path, &walker, NULL), 0);
	ck_assert_int_eq(seen.allocs, 4);
	fixture_assert_weight(seen.alloc_weights[0], small);
	fixture_assert_weight(seen.alloc_weights[1], 1.0);
	fixture_assert_weight(seen.alloc_weights[2], 1.0);
	fixture_assert_weight(seen.alloc_weights[3], grown_before);
	unlink(builder.path);
}
END_TEST

/* A thread's interval moves (THREAD_SAMPLING): its blocks from there on
 * weigh by the new interval, the other thread's and its own earlier ones
 * keep theirs, in the replay and the walk alike; frees take away what the
 * allocations added. */
START_TEST(test_thread_interval_moves)
{
	enum { A = 0x1000, B = 0x2000, C = 0x3000, D = 0x4000 };
	struct capture_builder builder;
	builder_start(&builder);
	builder_thread(&builder, 0, "main");
	builder_thread(&builder, 1, "worker");
	builder_stack(&builder, 1, 0x401000);
	builder_sampling(&builder, 1 * MS, 1000);
	builder_alloc(&builder, 2 * MS, 1, A, 100, 1);
	struct capture_record moved = {
		.type = CAPTURE_RECORD_THREAD_SAMPLING,
		.u.thread_sampling = {.time_ns = 3 * MS, .thread = 1, .interval = 8000},
	};
	builder_add(&builder, &moved);
	builder_alloc(&builder, 4 * MS, 1, B, 100, 1);
	builder_alloc(&builder, 5 * MS, 0, C, 100, 1);
	builder_free(&builder, 6 * MS, 0, A);
	builder_alloc(&builder, 7 * MS, 1, D, 300, 1);
	builder_free(&builder, 8 * MS, 1, D);
	builder_finish(&builder);

	double a = fixture_weight(100, 1000), b = fixture_weight(100, 8000);
	double c = fixture_weight(100, 1000), d = fixture_weight(300, 8000);
	struct replay *replay = replay_of(builder.path);
	ck_assert_uint_eq(replay->interval_changes, 1);
	ck_assert_uint_eq(replay->sample_interval_min, 1000);
	ck_assert_uint_eq(replay->sample_interval_max, 8000);
	const struct replay_totals *totals = &replay->totals;
	ck_assert_uint_eq(totals->allocations, (uint64_t)llround(a + b + c + d));
	ck_assert_uint_eq(totals->frees, (uint64_t)llround(a + d));
	ck_assert_uint_eq(totals->live_bytes, (uint64_t)llround(100 * b + 100 * c));
	fixture_assert_weight(replay_find_live(replay, B)->weight, b);
	fixture_assert_weight(replay_find_live(replay, C)->weight, c);
	replay_destroy(replay);

	struct weights_seen seen = {0};
	struct replay_walker walker = {.event = see_weights, .context = &seen};
	ck_assert_int_eq(replay_walk(builder.path, &walker, NULL), 0);
	ck_assert_int_eq(seen.allocs, 4);
	fixture_assert_weight(seen.alloc_weights[0], a);
	fixture_assert_weight(seen.alloc_weights[1], b);
	fixture_assert_weight(seen.alloc_weights[2], c);
	fixture_assert_weight(seen.alloc_weights[3], d);
	unlink(builder.path);
}
END_TEST

/* A capture without SAMPLING records weighs every block 1: nothing is
 * called an estimate. */
START_TEST(test_exact_capture_is_not_estimated)
{
	struct capture_builder builder;
	builder_start(&builder);
	builder_stack(&builder, 1, 0x401000);
	builder_alloc(&builder, 1 * MS, 0, 0xa000, 100, 1);
	builder_alloc(&builder, 2 * MS, 0, 0xb000, 200, 1);
	builder_free(&builder, 3 * MS, 0, 0xa000);
	builder_finish(&builder);
	struct replay *replay = replay_of(builder.path);
	ck_assert(!replay->sampled);
	ck_assert_uint_eq(replay->sample_interval, 0);
	ck_assert(!replay->has_tracking);
	ck_assert_uint_eq(replay->totals.allocations, 2);
	ck_assert_uint_eq(replay->totals.allocated_bytes, 300);
	ck_assert_uint_eq(replay->totals.peak_bytes, 300);
	ck_assert_uint_eq(replay->totals.live_bytes, 200);
	fixture_assert_weight(replay_find_live(replay, 0xb000)->weight, 1.0);
	replay_destroy(replay);
	char *text = report_text(builder.path, NULL);
	ck_assert_ptr_null(strstr(text, "SAMPLED"));
	ck_assert_ptr_null(strstr(text, "TRACKING"));
	ck_assert_ptr_null(strchr(text, '~'));
	assert_contains(text, "TOTALS   2 allocations (1 freed), 300 bytes requested in all");
	free(text);
	unlink(builder.path);
}
END_TEST

/* ---- the text report -------------------------------------------------------- */

START_TEST(test_report_says_estimated)
{
	struct capture_builder builder;
	write_fixture(&builder, FIXTURE_ATTEMPTS);
	struct fixture_expected expected;
	fixture_expected(&expected);
	assert_fixture_figures(&expected);
	struct report *report = NULL;
	char *text = report_text(builder.path, &report);

	/* Once, at the top, before any figure. */
	const char *sampled = strstr(text, "\nSAMPLED  one point every 1,000 bytes allocated on "
	                                   "average (Poisson); counts and bytes are estimates, "
	                                   "marked ~ (from 5 allocations and 2 frees recorded)\n");
	ck_assert_msg(sampled != NULL, "no SAMPLED line in:\n%s", text);
	ck_assert_ptr_null(strstr(sampled + 2, "SAMPLED"));
	ck_assert(sampled < strstr(text, "TOTALS"));
	assert_contains(text, "\nTRACKING 10 events attempted, 10 recorded, 0 dropped: 100.0% "
	                      "complete; drop rate 0.00%, contention rate 10.00% (1 wait, 2 buffer "
	                      "growths)\n");
	ck_assert_ptr_null(strstr(text, "WARNING  only"));
	ck_assert_uint_eq(report->warning_count, 0);

	assert_contains(text, "\nTOTALS   ~1,017 allocations (~12 freed), ~9,555 bytes (9.3 KiB) "
	                      "requested in all\n");
	assert_contains(text, "\nCALLS    ~1,017 allocation calls (~1,017 new blocks + 0 resized "
	                      "in place)\n");
	assert_contains(text, "\nPEAK     ~7,347 bytes (7.2 KiB) live in ~1,003 blocks at 6 ms\n");
	assert_contains(text, "\nLEAKS    ~1,006 blocks, ~3,471 bytes (3.4 KiB) in 2 places\n");
	/* The leak groups: stack 2 (B and E), then stack 1 (C, 0 bytes). */
	ck_assert_uint_eq(report->leak_count, 2);
	ck_assert_uint_eq(report->leaks[0].stack.id, 2);
	ck_assert_uint_eq(report->leaks[0].blocks, expected.stack2_live_blocks);
	ck_assert_uint_eq(report->leaks[0].bytes, expected.stack2_live_bytes);
	ck_assert_uint_eq(report->leaks[1].stack.id, 1);
	ck_assert_uint_eq(report->leaks[1].blocks, expected.stack1_live_blocks);
	ck_assert_uint_eq(report->leaks[1].bytes, 0);
	assert_contains(text, "\n  ~3,471 bytes (3.4 KiB) in ~5 blocks  allocated by ");
	free(text);
	report_destroy(report);
	unlink(builder.path);
}
END_TEST

START_TEST(test_report_warns_below_completeness)
{
	struct capture_builder builder;
	write_fixture(&builder, FIXTURE_ATTEMPTS - 1);
	struct report *report = NULL;
	char *text = report_text(builder.path, &report);
	assert_contains(text, "\nTRACKING 10 events attempted, 9 recorded, 1 dropped: 90.0% "
	                      "complete; drop rate 10.00%, contention rate 10.00%");
	assert_contains(text, "\nWARNING  only 90.0% of the events the backend saw were recorded "
	                      "(1 of 10 were dropped): counts and bytes are low, and a block whose "
	                      "free was dropped shows as live at the end, so leaks may include "
	                      "blocks that were freed\n");
	ck_assert_uint_eq(report->warning_count, 1);
	ck_assert_ptr_nonnull(strstr(report->warnings[0], "only 90.0%"));
	free(text);
	report_destroy(report);
	unlink(builder.path);
}
END_TEST

/* 19 of 20 is exactly the threshold: no warning; 189 of 200 is 94.5%,
 * shown as such, not rounded up to 95%. */
START_TEST(test_completeness_threshold)
{
	struct capture_builder builder;
	struct fixture_options options = {
		.attempts = 20, .successes = 19, .tracking = true, .trailer = true,
	};
	fixture_write(&builder, &options);
	char *text = report_text(builder.path, NULL);
	assert_contains(text, "19 recorded, 1 dropped: 95.0% complete");
	ck_assert_ptr_null(strstr(text, "WARNING"));
	free(text);
	unlink(builder.path);

	options = (struct fixture_options){
		.attempts = 20000, .successes = 18999, .tracking = true, .trailer = true,
	};
	fixture_write(&builder, &options);
	text = report_text(builder.path, NULL);
	assert_contains(text, "18,999 recorded, 1,001 dropped: 94.9% complete");
	assert_contains(text, "WARNING  only 94.9% of the events");
	free(text);
	unlink(builder.path);
}
END_TEST

/* ---- the summary after a run ----------------------------------------------------- */

START_TEST(test_summary_from_trailer)
{
	struct capture_builder builder;
	write_fixture(&builder, FIXTURE_ATTEMPTS - 1);
	struct fixture_expected expected;
	fixture_expected(&expected);
	assert_fixture_figures(&expected);
	char *text = summary_text(builder.path);
	ck_assert_str_eq(text,
	        "memscope: sampled: one point every 1,000 bytes allocated on average (Poisson); "
	        "counts and bytes are estimates (~)\n"
	        "memscope: ~1,017 allocations, ~12 frees, ~9,555 bytes (9.3 KiB) requested\n"
	        "memscope: peak ~7,347 bytes (7.2 KiB) live at 6 ms\n"
	        "memscope: leaked ~1,006 blocks, ~3,471 bytes (3.4 KiB)\n"
	        "memscope: tracking: 10 events attempted, 9 recorded, 1 dropped: 90.0% complete; "
	        "drop rate 10.00%, contention rate 10.00% (1 wait, 2 buffer growths)\n"
	        "memscope: warning: only 90.0% of the events the backend saw were recorded (1 of 10 "
	        "were dropped): counts and bytes are low, and a block whose free was dropped shows "
	        "as live at the end, so leaks may include blocks that were freed\n");
	free(text);
	unlink(builder.path);
}
END_TEST

/* Without a trailer the summary replays the capture: the same estimates. */
START_TEST(test_summary_from_replay)
{
	struct capture_builder builder;
	const struct fixture_options options = {
		.successes = FIXTURE_ATTEMPTS, .tracking = true, .trailer = false,
	};
	fixture_write(&builder, &options);
	struct fixture_expected expected;
	fixture_expected(&expected);
	assert_fixture_figures(&expected);
	char *text = summary_text(builder.path);
	assert_contains(text, "memscope: sampled: one point every 1,000 bytes allocated on average "
	                      "(Poisson); counts and bytes are estimates (~)\n"
	                      "memscope: ~1,017 allocations, ~12 frees, ~9,555 bytes (9.3 KiB) "
	                      "requested\n");
	assert_contains(text, "memscope: still live at the end: ~1,006 blocks, ~3,471 bytes "
	                      "(3.4 KiB)\n");
	assert_contains(text, "memscope: tracking: 10 events attempted, 10 recorded, 0 dropped: "
	                      "100.0% complete");
	assert_contains(text, "memscope: warning: the capture has no trailer");
	ck_assert_ptr_null(strstr(text, "warning: only"));
	free(text);
	unlink(builder.path);
}
END_TEST

/* ---- the reader's fast path ------------------------------------------------------ */

static int find_ending(const char *path, struct capture_ending *ending)
{
	struct capture_reader *reader = NULL;
	ck_assert_int_eq(capture_reader_open(path, &reader, NULL), 0);
	int error = capture_reader_find_ending(reader, ending);
	/* It rewinds: the first record comes next. */
	struct capture_record record;
	ck_assert_int_eq(capture_reader_next(reader, &record), 1);
	ck_assert_int_eq(record.type, CAPTURE_RECORD_THREAD);
	capture_reader_destroy(reader);
	return error;
}

START_TEST(test_find_ending)
{
	struct fixture_expected expected;
	fixture_expected(&expected);
	struct capture_builder builder;
	struct capture_ending ending;

	/* TRACKING and TRAILER in the last block. */
	write_fixture(&builder, FIXTURE_ATTEMPTS - 1);
	ck_assert_int_eq(find_ending(builder.path, &ending), 0);
	ck_assert(ending.has_tracking);
	ck_assert_uint_eq(ending.tracking.attempts, FIXTURE_ATTEMPTS);
	ck_assert_uint_eq(ending.tracking.successes, FIXTURE_ATTEMPTS - 1);
	ck_assert_uint_eq(ending.tracking.misses, 1);
	ck_assert_uint_eq(ending.trailer.sample_interval, FIXTURE_INTERVAL);
	ck_assert_uint_eq(ending.trailer.allocations, expected.allocations);
	struct capture_reader *reader = NULL;
	struct capture_trailer trailer;
	ck_assert_int_eq(capture_reader_open(builder.path, &reader, NULL), 0);
	ck_assert_int_eq(capture_reader_find_trailer(reader, &trailer), 0);
	ck_assert_uint_eq(trailer.sample_interval, FIXTURE_INTERVAL);
	ck_assert_uint_eq(trailer.live_bytes, expected.live_bytes);
	capture_reader_destroy(reader);
	unlink(builder.path);

	/* A block boundary between them: found in the block before. */
	struct fixture_options options = {
		.successes = 7, .tracking = true, .trailer = true, .tracking_alone = true,
	};
	fixture_write(&builder, &options);
	ck_assert_int_eq(find_ending(builder.path, &ending), 0);
	ck_assert(ending.has_tracking);
	ck_assert_uint_eq(ending.tracking.successes, 7);
	ck_assert_uint_eq(ending.trailer.sample_interval, FIXTURE_INTERVAL);
	char *text = summary_text(builder.path);
	assert_contains(text, "memscope: tracking: 10 events attempted, 7 recorded, 3 dropped");
	free(text);
	unlink(builder.path);

	/* No TRACKING record at all. */
	options = (struct fixture_options){.trailer = true};
	fixture_write(&builder, &options);
	ck_assert_int_eq(find_ending(builder.path, &ending), 0);
	ck_assert(!ending.has_tracking);
	text = summary_text(builder.path);
	ck_assert_ptr_null(strstr(text, "tracking"));
	free(text);
	unlink(builder.path);

	/* No trailer: nothing to go by. */
	options = (struct fixture_options){.successes = 10, .tracking = true};
	fixture_write(&builder, &options);
	ck_assert_int_eq(find_ending(builder.path, &ending), -ENOENT);
	unlink(builder.path);
}
END_TEST

/* ---- format minor 0 ---------------------------------------------------------------- */

/* Appends a block of type and payload to file. */
static void write_block(FILE *file, uint8_t type, const uint8_t *payload, size_t size)
{
	uint8_t header[CAPTURE_BLOCK_HEADER_SIZE], crc[CAPTURE_BLOCK_CRC_SIZE];
	header[0] = type;
	le32_put(header + 1, (uint32_t)size);
	le32_put(crc, capture_crc32(capture_crc32(0, header, sizeof(header)), payload, size));
	ck_assert_uint_eq(fwrite(header, 1, sizeof(header), file), sizeof(header));
	ck_assert_uint_eq(fwrite(payload, 1, size, file), size);
	ck_assert_uint_eq(fwrite(crc, 1, sizeof(crc), file), sizeof(crc));
}

/* A capture as memscope 1.0 wrote it: header minor 0, and a trailer that
 * ends after lost_events. */
START_TEST(test_minor_zero_trailer)
{
	static const uint64_t fields[] = {
		5 * MS, /* time_ns */ 3, /* allocations */ 1, /* frees */ 300, /* allocated_bytes */
		250, /* peak_bytes */ 2 * MS, /* peak_time_ns */ 2, /* live_blocks */ 200, /* live_bytes */
		4, /* events */ 0, /* lost_events */
	};
	uint8_t body[sizeof(fields) / sizeof(fields[0]) * VARINT_MAX_BYTES];
	size_t body_size = 0;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		body_size += varint_encode(body + body_size, fields[i]);
	uint8_t payload[2 + sizeof(body)];
	size_t payload_size = 0;
	payload[payload_size++] = CAPTURE_RECORD_TRAILER;
	payload[payload_size++] = (uint8_t)body_size;
	memcpy(payload + payload_size, body, body_size);
	payload_size += body_size;

	char path[] = "/tmp/memscope-minor0.XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	FILE *file = fdopen(fd, "wb");
	uint8_t header[CAPTURE_HEADER_SIZE] = {0};
	memcpy(header, CAPTURE_MAGIC, 8);
	le16_put(header + 8, 1);
	le16_put(header + 10, 0);
	ck_assert_uint_eq(fwrite(header, 1, sizeof(header), file), sizeof(header));
	write_block(file, CAPTURE_BLOCK_RECORDS, payload, payload_size);
	static const uint8_t nothing[1];
	write_block(file, CAPTURE_BLOCK_END, nothing, 0);
	fclose(file);

	struct capture_reader *reader = NULL;
	ck_assert_int_eq(capture_reader_open(path, &reader, NULL), 0);
	uint32_t major, minor;
	capture_reader_version(reader, &major, &minor);
	ck_assert_uint_eq(minor, 0);
	struct capture_record record;
	ck_assert_int_eq(capture_reader_next(reader, &record), 1);
	ck_assert_int_eq(record.type, CAPTURE_RECORD_TRAILER);
	ck_assert_uint_eq(record.u.trailer.allocations, 3);
	ck_assert_uint_eq(record.u.trailer.lost_events, 0);
	ck_assert_uint_eq(record.u.trailer.sample_interval, 0);
	ck_assert_int_eq(capture_reader_next(reader, &record), 0);
	struct capture_ending ending;
	ck_assert_int_eq(capture_reader_find_ending(reader, &ending), 0);
	ck_assert_uint_eq(ending.trailer.live_bytes, 200);
	ck_assert_uint_eq(ending.trailer.sample_interval, 0);
	ck_assert(!ending.has_tracking);
	capture_reader_destroy(reader);

	struct replay *replay = replay_of(path);
	ck_assert(replay->has_trailer);
	ck_assert(!replay->sampled);
	ck_assert_uint_eq(replay->trailer.peak_bytes, 250);
	replay_destroy(replay);

	char *text = summary_text(path);
	ck_assert_str_eq(text, "memscope: 3 allocations, 1 free, 300 bytes requested\n"
	                       "memscope: peak 250 bytes live at 2 ms\n"
	                       "memscope: leaked 2 blocks, 200 bytes\n");
	free(text);
	unlink(path);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("sampling_replay");
	TCase *replay = tcase_create("replay");
	tcase_add_test(replay, test_replay_estimates);
	tcase_add_test(replay, test_walk_weights);
	tcase_add_test(replay, test_interval_change_and_resize);
	tcase_add_test(replay, test_counted_plus_one);
	tcase_add_test(replay, test_exact_above_weighs_one);
	tcase_add_test(replay, test_thread_interval_moves);
	tcase_add_test(replay, test_exact_capture_is_not_estimated);
	suite_add_tcase(suite, replay);
	TCase *report = tcase_create("report");
	tcase_add_test(report, test_report_says_estimated);
	tcase_add_test(report, test_report_warns_below_completeness);
	tcase_add_test(report, test_completeness_threshold);
	suite_add_tcase(suite, report);
	TCase *summary = tcase_create("summary");
	tcase_add_test(summary, test_summary_from_trailer);
	tcase_add_test(summary, test_summary_from_replay);
	tcase_add_test(summary, test_find_ending);
	tcase_add_test(summary, test_minor_zero_trailer);
	suite_add_tcase(suite, summary);

	SRunner *runner = srunner_create(suite);
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
