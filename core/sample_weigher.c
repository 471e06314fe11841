/* sample_weigher.c - see sample_weigher.h. */
#include "sample_weigher.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Thread indices are dense: one far beyond is corrupt input, weighed by
 * the rule rather than given gigabytes. */
#define MAX_THREADS (1u << 20)

void sample_weigher_sampling(struct sample_weigher *weigher, const struct capture_sampling *record)
{
	weigher->rule = (struct sampling_rule){ record->interval, record->exact_above,
	                                        sampling_count_of(record->counting) };
}

int sample_weigher_thread(struct sample_weigher *weigher,
                          const struct capture_thread_sampling *record)
{
	if (record->thread >= MAX_THREADS)
		return 0;
	if (record->thread >= weigher->count) {
		uint32_t count = record->thread + 1;
		uint64_t *grown = realloc(weigher->intervals, count * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		memset(grown + weigher->count, 0, (count - weigher->count) * sizeof(*grown));
		weigher->intervals = grown;
		weigher->count = count;
	}
	weigher->intervals[record->thread] = record->interval;
	return 0;
}

uint64_t sample_weigher_interval(const struct sample_weigher *weigher, uint32_t thread,
                                 uint64_t size)
{
	if (weigher->rule.exact_above != 0 && size >= weigher->rule.exact_above)
		return 1;
	if (thread < weigher->count && weigher->intervals[thread] != 0)
		return weigher->intervals[thread];
	return weigher->rule.interval;
}

double sample_weigher_weight(const struct sample_weigher *weigher, uint32_t thread, uint64_t size)
{
	return sample_weight(size, sample_weigher_interval(weigher, thread, size), weigher->rule.counting);
}

void sample_weigher_finish(struct sample_weigher *weigher)
{
	free(weigher->intervals);
	*weigher = (struct sample_weigher){ 0 };
}
