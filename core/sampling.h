/* sampling.h - what one sampled block stands for.
 *
 * A sampling backend picks allocations with a Poisson process over
 * allocated bytes: a point falls, on average, every `interval` bytes, and
 * an allocation is recorded when at least one point falls inside it.  An
 * allocation of size bytes is then picked with probability
 * 1 - exp(-size / interval), and counting each picked one as
 * 1 / (1 - exp(-size / interval)) blocks (its weight) makes every sum over
 * sampled blocks (allocations, bytes, bytes live at any moment, per stack)
 * an unbiased estimate of the true sum.  An interval of 0 or 1 means every
 * allocation is recorded: weight 1.
 *
 * What "size" is here is the bytes a block counts for in the sampler's
 * countdown, which must be above 0 for a block of 0 bytes to be picked at
 * all.  This version's samplers count size + 1 (SAMPLING_COUNT_PLUS_ONE):
 * malloc's fast path then adds with one instruction where max(size, 1)
 * took three, and the three were 1.3 points of the ring's overhead
 * (docs/overhead.md).  Captures written before minor 4 counted max(size,
 * 1): the capture's SAMPLING record says which, and a reader weighs by it.
 */
#ifndef MEMSCOPE_SAMPLING_H
#define MEMSCOPE_SAMPLING_H

#include <math.h>
#include <stdint.h>

#define SAMPLING_DEFAULT_INTERVAL (512u * 1024u)

enum sampling_count {
	SAMPLING_COUNT_AT_LEAST_ONE = 0, /* max(size, 1): writers before minor 4 */
	SAMPLING_COUNT_PLUS_ONE = 1,     /* size + 1: this version's samplers */
};

/* A SAMPLING record's counting field as a rule: any value but 1 is the
 * older one. */
static inline enum sampling_count sampling_count_of(uint64_t field)
{
	return field == SAMPLING_COUNT_PLUS_ONE ? SAMPLING_COUNT_PLUS_ONE
	                                        : SAMPLING_COUNT_AT_LEAST_ONE;
}

/* The weight of a picked block of size bytes, counted as counting says. */
static inline double sample_weight(uint64_t size, uint64_t interval, enum sampling_count counting)
{
	if (interval <= 1)
		return 1.0;
	double bytes = counting == SAMPLING_COUNT_PLUS_ONE ? (double)size + 1.0
	               : size != 0                         ? (double)size
	                                                   : 1.0;
	double x = bytes / (double)interval;
	if (x < 0x1p-7) {
		/* 1 / (1 - exp(-x)) = 1/x + 1/2 + x/12 - x^3/720 + x^5/30240
		 * - ...: below 2^-7 the next term is under 2^-53 of the sum.
		 * These four come within 3e-16 of the true weight (expm1 within
		 * 2e-16), at a fraction of expm1's cost: the drain of a sampled
		 * malloc/free loop spent more time in expm1 than in encoding
		 * the events. */
		return (double)interval / bytes + 0.5 + x * (1.0 / 12.0) -
		       x * x * x * (1.0 / 720.0);
	}
	/* -expm1(-x) is 1 - exp(-x) without losing the small x's digits. */
	return 1.0 / -expm1(-x);
}

/* What a capture's last SAMPLING record said: the interval small blocks
 * were picked at and, for the hybrid backend, the size from which every
 * block is recorded. */
struct sampling_rule {
	uint64_t interval;         /* 0 or 1: every allocation */
	uint64_t exact_above;      /* 0: none */
	enum sampling_count counting;
};

/* What a recorded block of size bytes stands for under rule. */
static inline double sampling_rule_weight(const struct sampling_rule *rule, uint64_t size)
{
	if (rule->exact_above != 0 && size >= rule->exact_above)
		return 1.0;
	return sample_weight(size, rule->interval, rule->counting);
}

/* A sum of weights as a whole count, for the figures readers show:
 * rounded to the nearest (half away from zero), 0 for anything not above
 * 0 (what rounding error leaves of an empty set), UINT64_MAX past the
 * range.  With every weight 1 the sum is already whole: the exact count. */
static inline uint64_t sample_count(double weighted)
{
	if (!(weighted > 0.0))
		return 0;
	/* 2^64: the first double past UINT64_MAX. */
	if (weighted >= 18446744073709551616.0)
		return UINT64_MAX;
	return (uint64_t)round(weighted);
}

/* The blocks behind one figure, by what they weigh: 1 (recorded for sure,
 * so the figure counts them exactly) or more (samples standing for others,
 * so the figure estimates).  A figure with both is mixed: the hybrid
 * backend's totals, or a site with blocks on both sides of its threshold.
 * Counted in records: a block resized in place counts again at its new
 * weight, as the figures it changes do. */
struct sample_tally {
	uint64_t exact;            /* records of weight 1 */
	uint64_t exact_bytes;      /* their requested bytes */
	uint64_t sampled;          /* records of weight above 1 */
};

static inline void sample_tally_add(struct sample_tally *tally, double weight, uint64_t size)
{
	if (weight > 1.0) {
		tally->sampled++;
	} else {
		tally->exact++;
		tally->exact_bytes += size;
	}
}

/* Takes one block's record back out (a block freed, while a tally of the
 * live ones follows them). */
static inline void sample_tally_remove(struct sample_tally *tally, double weight, uint64_t size)
{
	if (weight > 1.0) {
		tally->sampled--;
	} else {
		tally->exact--;
		tally->exact_bytes -= size;
	}
}

static inline void sample_tally_merge(struct sample_tally *into, const struct sample_tally *from)
{
	into->exact += from->exact;
	into->exact_bytes += from->exact_bytes;
	into->sampled += from->sampled;
}

#endif
