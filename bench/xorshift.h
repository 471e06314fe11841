/* xorshift.h - the xorshift64* generator bench/ring.c and
 * bench/interleaved.c draw their slots and sizes from, so that both run
 * the same pattern. */
#ifndef MEMSCOPE_BENCH_XORSHIFT_H
#define MEMSCOPE_BENCH_XORSHIFT_H

#include <stdint.h>

static inline uint64_t xorshift_next(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1du;
}

#endif
