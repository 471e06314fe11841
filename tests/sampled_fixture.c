/* sampled_fixture.c - see sampled_fixture.h. */
#include "sampled_fixture.h"

#include <check.h>
#include <inttypes.h>
#include <math.h>

#define MS BUILDER_MS

const struct fixture_block_info fixture_blocks[FIXTURE_BLOCKS] = {
	[BLOCK_A] = {0xa000, 100, 1, 0, 2 * MS, 5 * MS},
	[BLOCK_B] = {0xb000, 2000, 2, 1, 3 * MS, 0},
	[BLOCK_C] = {0xc000, 0, 1, 0, 4 * MS, 0},
	[BLOCK_D] = {0xd000, 5000, 3, 1, 6 * MS, 7 * MS},
	[BLOCK_E] = {0xe000, 300, 2, 0, 8 * MS, 0},
};

double fixture_weight(uint64_t size, uint64_t interval)
{
	double bytes = size > 0 ? (double)size : 1.0;
	return 1.0 / (1.0 - exp(-bytes / (double)interval));
}

double fixture_block_weight(enum fixture_block block)
{
	return fixture_weight(fixture_blocks[block].size, FIXTURE_INTERVAL);
}

/* weight * size of a block. */
static double bytes_of(enum fixture_block block)
{
	return fixture_block_weight(block) * (double)fixture_blocks[block].size;
}

void fixture_expected(struct fixture_expected *out)
{
	double allocations = 0, allocated_bytes = 0;
	for (int i = 0; i < FIXTURE_BLOCKS; i++) {
		allocations += fixture_block_weight(i);
		allocated_bytes += bytes_of(i);
	}
	*out = (struct fixture_expected){
		.allocations = (uint64_t)llround(allocations),
		.frees = (uint64_t)llround(fixture_block_weight(BLOCK_A) +
		                           fixture_block_weight(BLOCK_D)),
		.allocated_bytes = (uint64_t)llround(allocated_bytes),
		/* When D is allocated, B, C and D are live: more bytes than at
		 * any other moment. */
		.peak_bytes = (uint64_t)llround(bytes_of(BLOCK_B) + bytes_of(BLOCK_C) +
		                                bytes_of(BLOCK_D)),
		.peak_blocks = (uint64_t)llround(fixture_block_weight(BLOCK_B) +
		                                 fixture_block_weight(BLOCK_C) +
		                                 fixture_block_weight(BLOCK_D)),
		.peak_time_ns = fixture_blocks[BLOCK_D].allocated_ns,
		.live_blocks = (uint64_t)llround(fixture_block_weight(BLOCK_B) +
		                                 fixture_block_weight(BLOCK_C) +
		                                 fixture_block_weight(BLOCK_E)),
		.live_bytes = (uint64_t)llround(bytes_of(BLOCK_B) + bytes_of(BLOCK_C) +
		                                bytes_of(BLOCK_E)),
		.stack2_live_blocks = (uint64_t)llround(fixture_block_weight(BLOCK_B) +
		                                        fixture_block_weight(BLOCK_E)),
		.stack2_live_bytes = (uint64_t)llround(bytes_of(BLOCK_B) + bytes_of(BLOCK_E)),
		.stack1_live_blocks = (uint64_t)llround(fixture_block_weight(BLOCK_C)),
		.thread0_allocations = (uint64_t)llround(fixture_block_weight(BLOCK_A) +
		                                         fixture_block_weight(BLOCK_C) +
		                                         fixture_block_weight(BLOCK_E)),
		.thread0_bytes = (uint64_t)llround(bytes_of(BLOCK_A) + bytes_of(BLOCK_C) +
		                                   bytes_of(BLOCK_E)),
		.thread1_allocations = (uint64_t)llround(fixture_block_weight(BLOCK_B) +
		                                         fixture_block_weight(BLOCK_D)),
		.thread1_bytes = (uint64_t)llround(bytes_of(BLOCK_B) + bytes_of(BLOCK_D)),
	};
}

enum fixture_block fixture_block_at(uint64_t address)
{
	for (int i = 0; i < FIXTURE_BLOCKS; i++)
		if (fixture_blocks[i].address == address)
			return (enum fixture_block)i;
	ck_abort_msg("no block at 0x%" PRIx64, address);
	return FIXTURE_BLOCKS;
}

void fixture_assert_weight(double got, double wanted)
{
	ck_assert_msg(fabs(got - wanted) <= 1e-9 * wanted, "weight %.12g, wanted %.12g", got, wanted);
}

static void alloc_block(struct capture_builder *builder, enum fixture_block block)
{
	const struct fixture_block_info *info = &fixture_blocks[block];
	builder_alloc(builder, info->allocated_ns, info->thread, info->address, info->size,
	              info->stack);
}

static void free_block(struct capture_builder *builder, enum fixture_block block)
{
	const struct fixture_block_info *info = &fixture_blocks[block];
	builder_free(builder, info->freed_ns, info->thread, info->address);
}

void fixture_write(struct capture_builder *builder, const struct fixture_options *options)
{
	builder_start(builder);
	builder_thread(builder, 0, "main");
	builder_thread(builder, 1, "worker");
	builder_stack(builder, 1, 0x401000);
	builder_stack(builder, 2, 0x402000);
	builder_stack(builder, 3, 0x403000);
	builder_sampling(builder, 1 * MS, FIXTURE_INTERVAL);
	alloc_block(builder, BLOCK_A);
	alloc_block(builder, BLOCK_B);
	alloc_block(builder, BLOCK_C);
	free_block(builder, BLOCK_A);
	alloc_block(builder, BLOCK_D);
	free_block(builder, BLOCK_D);
	alloc_block(builder, BLOCK_E);
	if (options->tracking)
		builder_tracking(builder, 9 * MS,
		                 options->attempts ? options->attempts : FIXTURE_ATTEMPTS,
		                 options->successes, 1, 2);
	if (options->tracking_alone)
		builder_flush(builder);
	if (options->trailer) {
		struct fixture_expected expected;
		fixture_expected(&expected);
		struct capture_trailer trailer = {
			.time_ns = 10 * MS,
			.allocations = expected.allocations,
			.frees = expected.frees,
			.allocated_bytes = expected.allocated_bytes,
			.peak_bytes = expected.peak_bytes,
			.peak_time_ns = expected.peak_time_ns,
			.live_blocks = expected.live_blocks,
			.live_bytes = expected.live_bytes,
			.events = 7,
			.sample_interval = FIXTURE_INTERVAL,
		};
		builder_trailer(builder, &trailer);
	}
	builder_finish(builder);
}
