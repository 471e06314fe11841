/* sampled_fixture.h - one sampled capture whose every estimate is known:
 * what the sampling tests of the replay, the report and the plugins read.
 *
 * Interval 1000 bytes.  Thread 0 "main", thread 1 "worker"; stacks 1, 2
 * and 3 of one frame each.  In time order:
 *
 *    1 ms  SAMPLING interval 1000
 *    2 ms  alloc A  100 bytes  stack 1  main
 *    3 ms  alloc B 2000 bytes  stack 2  worker
 *    4 ms  alloc C    0 bytes  stack 1  main      (counts as 1 byte)
 *    5 ms  free A
 *    6 ms  alloc D 5000 bytes  stack 3  worker    -> the peak: B, C, D live
 *    7 ms  free D
 *    8 ms  alloc E  300 bytes  stack 2  main
 *    9 ms  TRACKING (attempts 10, successes as asked)
 *   10 ms  TRAILER (the estimates, as a sampling backend writes them)
 *
 * Left at the end: B and E (stack 2), C (stack 1).  Each block weighs
 * 1 / (1 - exp(-max(size, 1) / 1000)), computed here from the formula, not
 * with the code under test.
 */
#ifndef MEMSCOPE_TESTS_SAMPLED_FIXTURE_H
#define MEMSCOPE_TESTS_SAMPLED_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "capture_builder.h"

#define FIXTURE_INTERVAL 1000
#define FIXTURE_ATTEMPTS 10

enum fixture_block { BLOCK_A, BLOCK_B, BLOCK_C, BLOCK_D, BLOCK_E, FIXTURE_BLOCKS };

struct fixture_block_info {
	uint64_t address;
	uint64_t size;
	uint32_t stack;
	uint32_t thread;
	uint64_t allocated_ns;
	uint64_t freed_ns;         /* 0: never freed */
};

extern const struct fixture_block_info fixture_blocks[FIXTURE_BLOCKS];

/* The figures a reader must find, rounded to the nearest whole number. */
struct fixture_expected {
	uint64_t allocations;
	uint64_t frees;
	uint64_t allocated_bytes;
	uint64_t peak_bytes;
	uint64_t peak_blocks;
	uint64_t peak_time_ns;
	uint64_t live_blocks;
	uint64_t live_bytes;
	uint64_t stack2_live_blocks; /* B and E */
	uint64_t stack2_live_bytes;
	uint64_t stack1_live_blocks; /* C */
	uint64_t thread0_allocations; /* A, C, E */
	uint64_t thread0_bytes;
	uint64_t thread1_allocations; /* B, D */
	uint64_t thread1_bytes;
};

/* What the capture is to hold besides its events. */
struct fixture_options {
	uint64_t attempts;         /* 0: FIXTURE_ATTEMPTS */
	uint64_t successes;        /* of the attempts: 10 of 10 is complete, 9 is below 95% */
	bool tracking;             /* write the TRACKING record */
	bool trailer;              /* write the TRAILER; without it, a reader must replay
	                              the events to know the totals */
	bool tracking_alone;       /* end the block after TRACKING: the trailer in the next */
};

/* 1 / (1 - exp(-max(size, 1) / interval)): sampling.h's weight, from its formula. */
double fixture_weight(uint64_t size, uint64_t interval);

/* The weight of one block of the fixture. */
double fixture_block_weight(enum fixture_block block);

void fixture_expected(struct fixture_expected *out);

/* The block at address (a test failure if none). */
enum fixture_block fixture_block_at(uint64_t address);

/* got is wanted, to the last few digits a double holds. */
void fixture_assert_weight(double got, double wanted);

/* Writes the fixture into a new temporary file: builder->path. */
void fixture_write(struct capture_builder *builder, const struct fixture_options *options);

#endif
