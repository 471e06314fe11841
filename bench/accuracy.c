/* accuracy.c - a program whose heap totals are known exactly, for
 * bench/accuracy.sh to hold a sampling backend's estimates against.
 *
 * Three phases, one thread, malloc and free only:
 *   churn        2,000,000 allocations, most of 16 to 4096 bytes, one in
 *                1024 of 64 KiB to 2.06 MiB (sizes around the sampling
 *                interval, where a block's weight is near 1), each freed a
 *                little later (a working set of 64 blocks): 6.4 GiB.
 *   ramp         blocks of 64 bytes to 16 KiB allocated until 512 MiB are
 *                live (the peak), then freed, oldest first.
 *   leak_64_mib  16,384 blocks of 4 KiB, never freed.
 * The program counts what it asks for and prints the true totals on stdout:
 * allocations, bytes requested, the peak of live bytes and the leak.  It
 * prints with write(2), not stdio, whose buffer would be one more block. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHURN_ALLOCATIONS 2000000u
#define CHURN_WORKING_SET 64u
#define RAMP_PEAK (512ull << 20)
#define RAMP_MAX_BLOCKS (1u << 20)
#define LEAK_BLOCKS 16384u
#define LEAK_BLOCK_SIZE 4096u

struct totals {
	uint64_t allocations;
	uint64_t bytes;
	uint64_t live;
	uint64_t peak;
	uint64_t leaked_blocks;
	uint64_t leaked_bytes;
};

static struct totals totals;
static void *ramp_blocks[RAMP_MAX_BLOCKS];
static size_t ramp_sizes[RAMP_MAX_BLOCKS];

static void *allocate(size_t size)
{
	char *block = malloc(size);
	if (block == NULL) {
		static const char message[] = "accuracy: out of memory\n";
		(void)!write(STDERR_FILENO, message, sizeof message - 1);
		exit(1);
	}
	block[0] = 1; /* used, so the compiler keeps the allocation */
	totals.allocations++;
	totals.bytes += size;
	totals.live += size;
	if (totals.live > totals.peak)
		totals.peak = totals.live;
	return block;
}

static void release(void *block, size_t size)
{
	free(block);
	totals.live -= size;
}

__attribute__((noinline)) static void churn(void)
{
	void *slots[CHURN_WORKING_SET] = {0};
	size_t sizes[CHURN_WORKING_SET] = {0};
	for (uint64_t i = 0; i < CHURN_ALLOCATIONS; i++) {
		unsigned slot = (unsigned)(i * 2654435761u) % CHURN_WORKING_SET;
		size_t size = i % 1024 == 1023 ? (64u << 10) + (i * 104729) % (2u << 20)
		                               : 16 + (i * 7919) % 4081;
		if (slots[slot] != NULL)
			release(slots[slot], sizes[slot]);
		slots[slot] = allocate(size);
		sizes[slot] = size;
	}
	for (unsigned slot = 0; slot < CHURN_WORKING_SET; slot++)
		if (slots[slot] != NULL)
			release(slots[slot], sizes[slot]);
}

__attribute__((noinline)) static void ramp(void)
{
	uint64_t live = 0;
	size_t count = 0;
	while (live < RAMP_PEAK && count < RAMP_MAX_BLOCKS) {
		size_t size = 64 + (count * 7919) % (16384 - 63);
		ramp_blocks[count] = allocate(size);
		ramp_sizes[count] = size;
		live += size;
		count++;
	}
	for (size_t i = 0; i < count; i++)
		release(ramp_blocks[i], ramp_sizes[i]);
}

__attribute__((noinline)) static void leak_64_mib(void)
{
	for (unsigned i = 0; i < LEAK_BLOCKS; i++) {
		void *block = allocate(LEAK_BLOCK_SIZE);
		/* Reachable from nowhere once this loop moves on: a leak. */
		__asm__ volatile("" : : "r"(block) : "memory");
		totals.leaked_blocks++;
		totals.leaked_bytes += LEAK_BLOCK_SIZE;
	}
}

int main(void)
{
	churn();
	ramp();
	leak_64_mib();

	char text[512];
	int length = snprintf(text, sizeof text,
	                      "allocations %llu\nbytes %llu\npeak_bytes %llu\n"
	                      "leaked_blocks %llu\nleaked_bytes %llu\n",
	                      (unsigned long long)totals.allocations,
	                      (unsigned long long)totals.bytes, (unsigned long long)totals.peak,
	                      (unsigned long long)totals.leaked_blocks,
	                      (unsigned long long)totals.leaked_bytes);
	if (length < 0 || (size_t)length >= sizeof text ||
	    write(STDOUT_FILENO, text, (size_t)length) != length)
		return 1;
	return 0;
}
