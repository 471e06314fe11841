/* sampling.h - what one sampled block stands for.
 *
 * A sampling backend picks allocations with a Poisson process over
 * allocated bytes: a point falls, on average, every `interval` bytes, and
 * an allocation is recorded when at least one point falls inside it.  An
 * allocation of size bytes is then picked with probability
 * 1 - exp(-size / interval), and counting each picked one as
 * 1 / (1 - exp(-size / interval)) blocks (its weight) makes every sum over
 * sampled blocks (allocations, bytes, bytes live at any moment, per stack)
 * an unbiased estimate of the true sum.  A block of 0 bytes counts as 1
 * byte, as the samplers count it.  An interval of 0 or 1 means every
 * allocation is recorded: weight 1.
 */
#ifndef MEMSCOPE_SAMPLING_H
#define MEMSCOPE_SAMPLING_H

#include <math.h>
#include <stdint.h>

#define SAMPLING_DEFAULT_INTERVAL (512u * 1024u)

static inline double sample_weight(uint64_t size, uint64_t interval)
{
	if (interval <= 1)
		return 1.0;
	double bytes = size != 0 ? (double)size : 1.0;
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
};

/* What a recorded block of size bytes stands for under rule. */
static inline double sampling_rule_weight(const struct sampling_rule *rule, uint64_t size)
{
	if (rule->exact_above != 0 && size >= rule->exact_above)
		return 1.0;
	return sample_weight(size, rule->interval);
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
