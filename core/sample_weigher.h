/* sample_weigher.h - what a recorded block of a sampled capture stands for,
 * from the SAMPLING and THREAD_SAMPLING records read so far
 * (docs/capture-format.md, 3.3): the interval and threshold of the SAMPLING
 * record in force, and for a thread whose interval moved (the hybrid
 * backend's event budget) the interval its last THREAD_SAMPLING named.
 * Zeroed, it weighs every block 1.  Errors are negative errno values.
 */
#ifndef MEMSCOPE_SAMPLE_WEIGHER_H
#define MEMSCOPE_SAMPLE_WEIGHER_H

#include <stdint.h>

#include "capture.h"
#include "sampling.h"

struct sample_weigher {
	struct sampling_rule rule;     /* the SAMPLING record in force */
	uint64_t *intervals;           /* [count], by thread index; 0: the rule's */
	uint32_t count;
};

/* Takes in a SAMPLING record. */
void sample_weigher_sampling(struct sample_weigher *weigher, const struct capture_sampling *record);

/* Takes in a THREAD_SAMPLING record.  Returns 0 or -ENOMEM. */
int sample_weigher_thread(struct sample_weigher *weigher,
                          const struct capture_thread_sampling *record);

/* The interval a block of size bytes, of thread's, was picked at: 1 from
 * the threshold on (all recorded), 0 when nothing was sampled. */
uint64_t sample_weigher_interval(const struct sample_weigher *weigher, uint32_t thread,
                                 uint64_t size);

/* What that block stands for: sample_weight() at that interval, counted as
 * the SAMPLING record says. */
double sample_weigher_weight(const struct sample_weigher *weigher, uint32_t thread, uint64_t size);

/* Frees the table and zeroes the weigher. */
void sample_weigher_finish(struct sample_weigher *weigher);

#endif
