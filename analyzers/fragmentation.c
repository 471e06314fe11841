/* fragmentation.c - the "fragmentation" analyzer: memory the allocator
 * holds beyond what the program asked for.
 *
 * Inside blocks: table "waste_by_size_class", every block of the capture
 * grouped by its usable size, with the padding beyond the requested bytes
 * (most waste first).  Between blocks, from the timeline: table "timeline"
 * (the samples; evenly picked when there are more than TIMELINE_ROWS) and
 * table "worst_moments" (the samples where jemalloc's active pages exceed
 * the live heap most).  Findings: the total padding, and a verdict on
 * jemalloc's resident memory at the heap's peak with what to do about it.
 * In a sampled capture each block counts as its weight, so the size
 * classes' figures are estimates, and their table and finding say so, and
 * each class's "accuracy" whether its blocks were samples, recorded for
 * sure, or both; the timeline comes from jemalloc and the system, whatever
 * the sampling.
 *
 * A plugin of its own, built against <memscope/plugin.h> alone, with
 * analyzer_common.c compiled in.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <memscope/plugin.h>

#include "analyzer_common.h"

/* Most rows of the timeline table: enough for a chart, small for a report. */
#define TIMELINE_ROWS 500
#define WORST_MOMENTS 5
/* Resident bytes per allocated byte at the peak above which memory is
 * called fragmented. */
#define FRAGMENTED_RATIO 1.5
/* Below this much resident memory beyond the allocated bytes, a high ratio
 * is a small heap beside jemalloc's own fixed costs, nothing to act on. */
#define NEGLIGIBLE_EXCESS (UINT64_C(4) << 20)

/* The blocks of one usable size, weighted. */
struct size_class {
	uint64_t usable_size;
	double blocks;
	double requested;
	double usable;
	double waste;
	memscope_tally tally;
};

/* A sample, with how far jemalloc's active pages exceed the live heap. */
struct moment {
	memscope_sample sample;
	uint64_t excess;
};

/* What the first walk over the samples finds. */
struct sample_scan {
	uint64_t count;
	struct moment worst[WORST_MOMENTS];
	size_t worst_count;
	memscope_sample peak;      /* the one with the most jemalloc_allocated */
	bool has_peak;
};

/* The second walk: the rows picked for the timeline table. */
struct sample_pick {
	const memscope_host *host;
	memscope_table *table;
	uint64_t count;            /* samples in all */
	uint64_t index;            /* of the next sample */
	uint64_t picked;           /* rows written */
};

/* ---- numbers as people read them ------------------------------------- */

static uint64_t saturating_difference(uint64_t larger, uint64_t smaller)
{
	return larger > smaller ? larger - smaller : 0;
}

/* ---- size classes -------------------------------------------------------- */

static uint64_t usable_size_of(const void *class)
{
	return ((const struct size_class *)class)->usable_size;
}

/* The class of usable_size, added empty if new; NULL when out of memory. */
static struct size_class *class_for(struct analyzer_set *set, uint64_t usable_size)
{
	const struct size_class blank = {.usable_size = usable_size};
	return analyzer_set_item(set, usable_size, &blank);
}

static int count_block(void *context, const memscope_block *block)
{
	struct size_class *class = class_for(context, block->usable);
	if (!class)
		return -ENOMEM;
	double weight = memscope_block_weight(block);
	memscope_tally_add(&class->tally, weight);
	class->blocks += weight;
	class->requested += weight * (double)block->size;
	class->usable += weight * (double)block->usable;
	/* A usable size below the requested one is a damaged record, not
	 * negative waste. */
	class->waste += weight * (double)saturating_difference(block->usable, block->size);
	return 0;
}

static int by_waste(const void *left_pointer, const void *right_pointer)
{
	const struct size_class *left = left_pointer, *right = right_pointer;
	if (left->waste != right->waste)
		return left->waste > right->waste ? -1 : 1;
	return (left->usable_size > right->usable_size) - (left->usable_size < right->usable_size);
}

static const memscope_column class_columns[] = {
	{"usable_size", "Usable size", MEMSCOPE_COLUMN_COUNT},
	{"blocks", "Blocks", MEMSCOPE_COLUMN_COUNT},
	{"requested", "Requested", MEMSCOPE_COLUMN_BYTES},
	{"usable", "Usable", MEMSCOPE_COLUMN_BYTES},
	{"waste", "Padding", MEMSCOPE_COLUMN_BYTES},
	{"waste_ratio", "Padding of usable", MEMSCOPE_COLUMN_RATIO},
	ANALYZER_ACCURACY_COLUMN,
};

static int write_size_classes(const memscope_host *host, memscope_results *results,
                              struct analyzer_set *set, const memscope_summary *summary)
{
	memscope_table *table = analyzer_table_begin(
	    host, results, "waste_by_size_class",
	    "Padding inside blocks, by usable size (all blocks of the capture)", class_columns,
	    sizeof(class_columns) / sizeof(class_columns[0]), 1u << 1 | 1u << 2 | 1u << 3 | 1u << 4,
	    memscope_summary_estimated(summary));
	if (!table)
		return -ENOMEM;
	/* qsort's array must not be NULL, even when empty. */
	struct size_class *classes = set->items;
	if (set->count > 1)
		qsort(classes, set->count, sizeof(*classes), by_waste);
	for (size_t i = 0; i < set->count; i++) {
		const struct size_class *class = &classes[i];
		memscope_value row[] = {
			{.count = class->usable_size},
			{.count = memscope_weighted_count(class->blocks)},
			{.count = memscope_weighted_count(class->requested)},
			{.count = memscope_weighted_count(class->usable)},
			{.count = memscope_weighted_count(class->waste)},
			{.real = class->usable > 0 ? class->waste / class->usable : 0.0},
			{.text = analyzer_accuracy(&class->tally)},
		};
		int error = host->table_row(table, row);
		if (error < 0)
			return error;
	}

	double waste = 0, usable = 0;
	memscope_tally tally = {0};
	for (size_t i = 0; i < set->count; i++) {
		waste += classes[i].waste;
		usable += classes[i].usable;
		memscope_tally_merge(&tally, &classes[i].tally);
	}
	if (!(usable > 0))
		return host->finding(results, MEMSCOPE_SEVERITY_INFO,
		                     "the capture holds no blocks, so there is no padding to measure");
	char text[512], note[256];
	analyzer_sampling_note(summary, note, sizeof(note));
	snprintf(text, sizeof(text),
	         "%s%s (%.1f%%) of the usable bytes of all blocks are padding beyond what was "
	         "requested%s%s",
	         analyzer_mark(&tally), analyzer_bytes_text(memscope_weighted_count(waste)).text,
	         100.0 * waste / usable, note[0] ? "; " : "", note);
	return host->finding(results, MEMSCOPE_SEVERITY_INFO, text);
}

/* ---- the timeline ---------------------------------------------------------- */

static int scan_sample(void *context, const memscope_sample *sample)
{
	struct sample_scan *scan = context;
	scan->count++;
	if (!scan->has_peak || sample->jemalloc_allocated > scan->peak.jemalloc_allocated) {
		scan->peak = *sample;
		scan->has_peak = true;
	}
	/* Insert into the worst moments, kept most excess first; an earlier
	 * sample stays ahead of a later one with the same excess. */
	struct moment moment = {*sample,
	                        saturating_difference(sample->jemalloc_active,
	                                              sample->heap_live_bytes)};
	size_t at = scan->worst_count;
	while (at > 0 && scan->worst[at - 1].excess < moment.excess)
		at--;
	if (at >= WORST_MOMENTS)
		return 0;
	size_t kept = scan->worst_count < WORST_MOMENTS ? scan->worst_count : WORST_MOMENTS - 1;
	memmove(&scan->worst[at + 1], &scan->worst[at], (kept - at) * sizeof(scan->worst[0]));
	scan->worst[at] = moment;
	if (scan->worst_count < WORST_MOMENTS)
		scan->worst_count++;
	return 0;
}

/* Picks sample k * (count - 1) / (TIMELINE_ROWS - 1) for every k: the
 * first and the last samples and evenly spaced ones between.  A short spike
 * can fall between picks; worst_moments does not miss it. */
static int pick_sample(void *context, const memscope_sample *sample)
{
	struct sample_pick *pick = context;
	uint64_t index = pick->index++;
	if (pick->count > TIMELINE_ROWS) {
		if (pick->picked >= TIMELINE_ROWS ||
		    index != pick->picked * (pick->count - 1) / (TIMELINE_ROWS - 1))
			return 0;
	}
	pick->picked++;
	memscope_value row[] = {
		{.count = sample->time_ns},
		{.count = sample->heap_live_bytes},
		{.count = sample->jemalloc_allocated},
		{.count = sample->jemalloc_active},
		{.count = sample->jemalloc_resident},
		{.count = sample->jemalloc_mapped},
		{.count = sample->rss_bytes},
	};
	return pick->host->table_row(pick->table, row);
}

static const memscope_column timeline_columns[] = {
	{"time", "Time", MEMSCOPE_COLUMN_TIME},
	{"heap_live", "Live heap (requested)", MEMSCOPE_COLUMN_BYTES},
	{"jemalloc_allocated", "jemalloc allocated", MEMSCOPE_COLUMN_BYTES},
	{"jemalloc_active", "jemalloc active", MEMSCOPE_COLUMN_BYTES},
	{"jemalloc_resident", "jemalloc resident", MEMSCOPE_COLUMN_BYTES},
	{"jemalloc_mapped", "jemalloc mapped", MEMSCOPE_COLUMN_BYTES},
	{"rss", "Resident set", MEMSCOPE_COLUMN_BYTES},
};

static const memscope_column moment_columns[] = {
	{"time", "Time", MEMSCOPE_COLUMN_TIME},
	{"heap_live", "Live heap (requested)", MEMSCOPE_COLUMN_BYTES},
	{"jemalloc_active", "jemalloc active", MEMSCOPE_COLUMN_BYTES},
	{"active_beyond_live", "Active beyond the live heap", MEMSCOPE_COLUMN_BYTES},
};

static int write_timeline(const memscope_host *host, memscope_capture *capture,
                          memscope_results *results, const struct sample_scan *scan)
{
	char title[128];
	if (scan->count > TIMELINE_ROWS)
		snprintf(title, sizeof(title), "Timeline (%d of %" PRIu64 " samples, evenly spaced)",
		         TIMELINE_ROWS, scan->count);
	else
		snprintf(title, sizeof(title), "Timeline");
	struct sample_pick pick = {
		.host = host,
		.table = host->table_begin(results, "timeline", title, timeline_columns,
		                           sizeof(timeline_columns) / sizeof(timeline_columns[0])),
		.count = scan->count,
	};
	if (!pick.table)
		return -ENOMEM;
	int error = host->for_each_sample(capture, pick_sample, &pick);
	if (error < 0)
		return error;

	memscope_table *table =
	    host->table_begin(results, "worst_moments",
	                      "Where jemalloc's active pages exceed the live heap most",
	                      moment_columns, sizeof(moment_columns) / sizeof(moment_columns[0]));
	if (!table)
		return -ENOMEM;
	for (size_t i = 0; i < scan->worst_count; i++) {
		const struct moment *moment = &scan->worst[i];
		memscope_value row[] = {
			{.count = moment->sample.time_ns},
			{.count = moment->sample.heap_live_bytes},
			{.count = moment->sample.jemalloc_active},
			{.count = moment->excess},
		};
		error = host->table_row(table, row);
		if (error < 0)
			return error;
	}
	return 0;
}

/* The verdict on jemalloc's pages at the sample where it had the most bytes
 * allocated: the ratio there is what the program costs at its largest,
 * unlike the ratio early in a run, when any heap is small beside jemalloc's
 * fixed costs. */
static int write_verdict(const memscope_host *host, memscope_results *results,
                         const struct sample_scan *scan)
{
	if (scan->count == 0)
		return host->finding(results, MEMSCOPE_SEVERITY_INFO,
		                     "the capture has no timeline samples, so fragmentation of "
		                     "jemalloc's pages cannot be judged");
	const memscope_sample *peak = &scan->peak;
	if (peak->jemalloc_allocated == 0 || peak->jemalloc_resident == 0)
		return host->finding(results, MEMSCOPE_SEVERITY_INFO,
		                     "the timeline has no jemalloc statistics, so fragmentation of "
		                     "jemalloc's pages cannot be judged");

	char resident[96], allocated[96], when[96], text[768];
	snprintf(resident, sizeof(resident), "%s", analyzer_bytes_text(peak->jemalloc_resident).text);
	snprintf(allocated, sizeof(allocated), "%s", analyzer_bytes_text(peak->jemalloc_allocated).text);
	snprintf(when, sizeof(when), "%s", analyzer_time_text(peak->time_ns).text);
	uint64_t excess = saturating_difference(peak->jemalloc_resident, peak->jemalloc_allocated);
	double ratio = (double)peak->jemalloc_resident / (double)peak->jemalloc_allocated;
	if (ratio <= FRAGMENTED_RATIO || excess < NEGLIGIBLE_EXCESS) {
		snprintf(text, sizeof(text),
		         "fragmentation is low: at its peak (%s), jemalloc held %s resident for %s "
		         "in use",
		         when, resident, allocated);
		return host->finding(results, MEMSCOPE_SEVERITY_INFO, text);
	}

	/* Resident beyond allocated is pages partly used by live blocks
	 * (active - allocated) plus freed pages jemalloc keeps and its metadata
	 * (resident - active): the remedies differ, so name the larger. */
	uint64_t partly_used = saturating_difference(peak->jemalloc_active, peak->jemalloc_allocated);
	uint64_t kept = saturating_difference(peak->jemalloc_resident, peak->jemalloc_active);
	char advice[384];
	if (partly_used >= kept)
		snprintf(advice, sizeof(advice),
		         "%s sit in pages partly filled by live blocks, which happens when "
		         "long-lived blocks are scattered among short-lived ones: consider allocating "
		         "long-lived data together (a pool, or its own jemalloc arena) or freeing in "
		         "batches",
		         analyzer_bytes_text(partly_used).text);
	else
		snprintf(advice, sizeof(advice),
		         "%s are freed pages jemalloc keeps for reuse: consider returning them "
		         "sooner (MALLOC_CONF=dirty_decay_ms:1000, or "
		         "mallctl(\"arena.<i>.purge\") after large frees)",
		         analyzer_bytes_text(kept).text);
	snprintf(text, sizeof(text),
	         "at its peak (%s), jemalloc held %s resident for %s in use (%.2f times): memory "
	         "is fragmented; %s",
	         when, resident, allocated, ratio, advice);
	return host->finding(results, MEMSCOPE_SEVERITY_WARNING, text);
}

/* ---- the analyzer -------------------------------------------------------- */

static int run(const memscope_host *host, memscope_capture *capture, memscope_results *results)
{
	if (!analyzer_host_usable(host) || !host->for_each_sample)
		return -ENOTSUP;
	/* Without a summary there is no sampling to know of: counts are counts. */
	static const memscope_summary unsampled = {.version = MEMSCOPE_SUMMARY_VERSION};
	const memscope_summary *summary = host->summary ? host->summary(capture) : NULL;
	if (!summary)
		summary = &unsampled;
	struct analyzer_set classes;
	analyzer_set_init(&classes, sizeof(struct size_class), usable_size_of);
	int error = host->for_each_block(capture, count_block, &classes);
	if (error == 0)
		error = write_size_classes(host, results, &classes, summary);
	analyzer_set_finish(&classes);
	if (error < 0)
		return error;

	struct sample_scan scan = {0};
	error = host->for_each_sample(capture, scan_sample, &scan);
	if (error == 0)
		error = write_timeline(host, capture, results, &scan);
	if (error == 0)
		error = write_verdict(host, results, &scan);
	return error < 0 ? error : 0;
}

static const memscope_analyzer fragmentation = {
	.version = MEMSCOPE_ANALYZER_VERSION,
	.name = "fragmentation",
	.description = "padding inside blocks by size class, and jemalloc's resident memory "
	               "beyond the live heap over time",
	.run = run,
};

static const memscope_analyzer *const analyzers[] = {&fragmentation, NULL};

MEMSCOPE_PLUGIN_DESCRIBE("fragmentation", "1.0", analyzers, NULL)
