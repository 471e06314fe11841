/* hotspots.c - the "hotspots" analyzer: where a program allocates most.
 *
 * Top-down, by whole stack: table "sites" (most allocations first) and
 * table "sites_by_bytes" (most bytes first), with each site's bytes live at
 * the capture's peak and its temporary blocks.  Bottom-up: table
 * "functions", the sites merged by their innermost frame's function.
 * Option "top" (default 20, 0 for all) limits the rows of each table.
 *
 * Two rules, both forced by the capture's clock, whose ticks are about a
 * millisecond apart so that many events can share one time:
 *  - Peak: a block counts toward its site's peak_bytes when it was live
 *    at the capture's peak (memscope_block_live_at_peak): by the events'
 *    exact order from a host of ABI 1.5 on, so that the sites add up to
 *    the peak; from an older host by clock ticks, where a block freed in
 *    the peak's tick cannot be ordered against it and is left out.  A
 *    resized block counts with its last size.  When the sites do not add
 *    up to the capture's peak, a finding says by how much and why.
 *  - Temporary: a freed block whose thread allocated nothing between its
 *    allocation and its free.  From a host of ABI 1.5 on, the events'
 *    positions decide, exactly.  From an older one, times: a same-thread
 *    allocation at a time strictly between the two disqualifies it; so
 *    does one in the tick of the free when the walk order (blocks come in
 *    order of their end) shows that block was both allocated and freed
 *    before this one's free.  Any other same-tick allocation cannot be
 *    ordered, and the block counts as temporary: the count is then an
 *    upper bound, and the column and the finding say so.
 *
 * In a sampled capture every block counts as its weight: the tables' counts
 * and bytes are estimates, and their titles and the findings say so; each
 * row's "accuracy" says whether the blocks summed into it (every block of
 * the site, or of the function) were all samples, all recorded for sure,
 * or both.
 *
 * A plugin of its own, built against <memscope/plugin.h> alone, with
 * analyzer_common.c compiled in.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <memscope/plugin.h>

#include "analyzer_common.h"

#define DEFAULT_TOP 20

/* The blocks allocated from one stack, weighted. */
struct site {
	uint32_t stack;
	double allocations;
	double bytes;
	double peak_bytes;
	double temporary;
	memscope_tally tally;      /* every block of the site */
	const char *function;      /* innermost frame's; the capture owns it */
};

/* One allocation of a thread: when, and where its block came in the walk. */
struct allocation {
	uint64_t time_ns;
	uint64_t order;
};

/* A thread's allocations, sorted by time, then order, after the first walk. */
struct thread_allocations {
	struct allocation *allocations;
	size_t count;
	size_t capacity;
};

struct walk {
	struct analyzer_set sites;     /* of struct site, by stack */
	struct thread_allocations *threads;
	size_t thread_count;
	const memscope_summary *summary;
	bool ordered;              /* by the events' positions (memscope_summary_peak_ordered) */
	uint64_t order;            /* of the next block in the walk */
};

/* ---- the sites, by stack ------------------------------------------------ */

static uint64_t stack_of(const void *site)
{
	return ((const struct site *)site)->stack;
}

/* The site of stack, added empty if new; NULL when out of memory. */
static struct site *site_for(struct analyzer_set *set, uint32_t stack)
{
	const struct site blank = {.stack = stack};
	return analyzer_set_item(set, stack, &blank);
}

/* ---- per-thread allocation order ---------------------------------------- */

static int record_allocation(struct walk *walk, uint32_t thread, uint64_t time_ns, uint64_t order)
{
	if (thread >= walk->thread_count) {
		size_t count = (size_t)thread + 1;
		struct thread_allocations *threads = realloc(walk->threads, count * sizeof(*threads));
		if (!threads)
			return -ENOMEM;
		memset(&threads[walk->thread_count], 0,
		       (count - walk->thread_count) * sizeof(*threads));
		walk->threads = threads;
		walk->thread_count = count;
	}
	struct thread_allocations *list = &walk->threads[thread];
	if (list->count == list->capacity) {
		size_t capacity = list->capacity ? list->capacity * 2 : 256;
		struct allocation *allocations =
		    realloc(list->allocations, capacity * sizeof(*allocations));
		if (!allocations)
			return -ENOMEM;
		list->allocations = allocations;
		list->capacity = capacity;
	}
	list->allocations[list->count++] = (struct allocation){time_ns, order};
	return 0;
}

static int by_time_then_order(const void *left_pointer, const void *right_pointer)
{
	const struct allocation *left = left_pointer, *right = right_pointer;
	if (left->time_ns != right->time_ns)
		return left->time_ns < right->time_ns ? -1 : 1;
	return (left->order > right->order) - (left->order < right->order);
}

/* The first allocation of list at or after time_ns (strictly after, when
 * after is set); list->count if none. */
static size_t first_from(const struct thread_allocations *list, uint64_t time_ns, bool after)
{
	size_t low = 0, high = list->count;
	while (low < high) {
		size_t middle = low + (high - low) / 2;
		uint64_t time = list->allocations[middle].time_ns;
		if (time < time_ns || (after && time == time_ns))
			low = middle + 1;
		else
			high = middle;
	}
	return low;
}

/* The temporary rule of the file's top comment. */
static bool is_temporary(const struct walk *walk, const memscope_block *block, uint64_t order)
{
	if (!block->freed || block->thread >= walk->thread_count)
		return false;
	const struct thread_allocations *list = &walk->threads[block->thread];
	if (walk->ordered) {
		/* The list holds positions, which no two events share. */
		return first_from(list, block->allocated_event, true) ==
		       first_from(list, block->freed_event, false);
	}
	uint64_t allocated = block->allocated_ns;
	uint64_t freed = block->freed_ns > allocated ? block->freed_ns : allocated;
	if (freed == allocated)
		return true;
	size_t after_allocation = first_from(list, allocated, true);
	size_t at_free = first_from(list, freed, false);
	if (at_free > after_allocation)
		return false;
	/* Sorted by order within a time: the first one in the free's tick ended
	 * earliest. */
	return at_free == list->count || list->allocations[at_free].time_ns != freed ||
	       list->allocations[at_free].order > order;
}

static void walk_finish(struct walk *walk)
{
	for (size_t i = 0; i < walk->thread_count; i++)
		free(walk->threads[i].allocations);
	free(walk->threads);
	analyzer_set_finish(&walk->sites);
}

static int count_block(void *context, const memscope_block *block)
{
	struct walk *walk = context;
	struct site *site = site_for(&walk->sites, block->stack);
	if (!site)
		return -ENOMEM;
	double weight = memscope_block_weight(block);
	memscope_tally_add(&site->tally, weight);
	site->allocations += weight;
	site->bytes += weight * (double)block->size;
	if (memscope_block_live_at_peak(walk->summary, block))
		site->peak_bytes += weight * (double)block->size;
	return record_allocation(walk, block->thread,
	                         walk->ordered ? block->allocated_event : block->allocated_ns,
	                         walk->order++);
}

static int count_temporary(void *context, const memscope_block *block)
{
	struct walk *walk = context;
	uint64_t order = walk->order++;
	if (!is_temporary(walk, block, order))
		return 0;
	struct site *site = site_for(&walk->sites, block->stack);
	if (!site)
		return -ENOMEM;
	site->temporary += memscope_block_weight(block);
	return 0;
}

/* ---- tables --------------------------------------------------------------- */

static int by_allocations(const void *left_pointer, const void *right_pointer)
{
	const struct site *left = left_pointer, *right = right_pointer;
	if (left->allocations != right->allocations)
		return left->allocations > right->allocations ? -1 : 1;
	if (left->bytes != right->bytes)
		return left->bytes > right->bytes ? -1 : 1;
	return (left->stack > right->stack) - (left->stack < right->stack);
}

static int by_bytes(const void *left_pointer, const void *right_pointer)
{
	const struct site *left = left_pointer, *right = right_pointer;
	if (left->bytes != right->bytes)
		return left->bytes > right->bytes ? -1 : 1;
	if (left->allocations != right->allocations)
		return left->allocations > right->allocations ? -1 : 1;
	return (left->stack > right->stack) - (left->stack < right->stack);
}

static const memscope_column site_columns[] = {
	{"stack", "Allocated at", MEMSCOPE_COLUMN_STACK},
	{"allocations", "Allocations", MEMSCOPE_COLUMN_COUNT},
	{"bytes", "Bytes", MEMSCOPE_COLUMN_BYTES},
	{"peak_bytes", "Live at the peak", MEMSCOPE_COLUMN_BYTES},
	{"temporary", "Temporary (at most: allocations in one clock tick cannot be ordered)",
	 MEMSCOPE_COLUMN_COUNT},
	ANALYZER_ACCURACY_COLUMN,
};

#define SITE_COLUMNS (sizeof(site_columns) / sizeof(site_columns[0]))
#define TEMPORARY_COLUMN 4

/* Writes the first top sites of set, sorted by compare, as table name;
 * ordered: the temporary blocks were told by the events' order. */
static int write_sites(const memscope_host *host, memscope_results *results, const char *name,
                       const char *title, struct analyzer_set *set, size_t top,
                       int (*compare)(const void *, const void *), bool estimated, bool ordered)
{
	memscope_column columns[SITE_COLUMNS];
	memcpy(columns, site_columns, sizeof(columns));
	if (ordered)
		columns[TEMPORARY_COLUMN].title = "Temporary (freed before its thread's next allocation)";
	memscope_table *table = analyzer_table_begin(
	    host, results, name, title, columns, SITE_COLUMNS,
	    1u << 1 | 1u << 2 | 1u << 3 | 1u << 4, estimated);
	if (!table)
		return -ENOMEM;
	/* qsort's array must not be NULL, even when empty. */
	struct site *sites = set->items;
	if (set->count > 1)
		qsort(sites, set->count, sizeof(*sites), compare);
	for (size_t i = 0; i < set->count && i < top; i++) {
		const struct site *site = &sites[i];
		memscope_value row[] = {
			{.stack = site->stack},
			{.count = memscope_weighted_count(site->allocations)},
			{.count = memscope_weighted_count(site->bytes)},
			{.count = memscope_weighted_count(site->peak_bytes)},
			{.count = memscope_weighted_count(site->temporary)},
			{.text = analyzer_accuracy(&site->tally)},
		};
		int error = host->table_row(table, row);
		if (error < 0)
			return error;
	}
	return 0;
}

static int by_function(const void *left_pointer, const void *right_pointer)
{
	const struct site *left = left_pointer, *right = right_pointer;
	return strcmp(left->function, right->function);
}

static int by_function_allocations(const void *left_pointer, const void *right_pointer)
{
	const struct site *left = left_pointer, *right = right_pointer;
	if (left->allocations != right->allocations)
		return left->allocations > right->allocations ? -1 : 1;
	if (left->bytes != right->bytes)
		return left->bytes > right->bytes ? -1 : 1;
	return strcmp(left->function, right->function);
}

static const char *innermost_function(const memscope_host *host, memscope_capture *capture,
                                      uint32_t stack)
{
	const memscope_frame *frames = NULL;
	size_t count = 0;
	if (!host->stack_frames || host->stack_frames(capture, stack, &frames, &count) < 0 ||
	    count == 0 || !frames || !frames[0].function)
		return "??";
	return frames[0].function;
}

static const memscope_column function_columns[] = {
	{"function", "Function (innermost frame)", MEMSCOPE_COLUMN_TEXT},
	{"allocations", "Allocations", MEMSCOPE_COLUMN_COUNT},
	{"bytes", "Bytes", MEMSCOPE_COLUMN_BYTES},
	ANALYZER_ACCURACY_COLUMN,
};

/* Merges the sites by the function of their innermost frame: the sites'
 * array is reordered and the merged entries are written over its start. */
static int write_functions(const memscope_host *host, memscope_capture *capture,
                           memscope_results *results, struct analyzer_set *set, size_t top,
                           bool estimated)
{
	memscope_table *table = analyzer_table_begin(
	    host, results, "functions", "Allocating functions (bottom-up)", function_columns,
	    sizeof(function_columns) / sizeof(function_columns[0]), 1u << 1 | 1u << 2, estimated);
	if (!table)
		return -ENOMEM;
	struct site *sites = set->items;
	for (size_t i = 0; i < set->count; i++)
		sites[i].function = innermost_function(host, capture, sites[i].stack);
	if (set->count > 1)
		qsort(sites, set->count, sizeof(*sites), by_function);
	size_t merged = 0;
	for (size_t i = 0; i < set->count; i++) {
		struct site *site = &sites[i];
		if (merged > 0 && strcmp(sites[merged - 1].function, site->function) == 0) {
			sites[merged - 1].allocations += site->allocations;
			sites[merged - 1].bytes += site->bytes;
			memscope_tally_merge(&sites[merged - 1].tally, &site->tally);
		} else {
			sites[merged++] = *site;
		}
	}
	if (merged > 1)
		qsort(sites, merged, sizeof(*sites), by_function_allocations);
	for (size_t i = 0; i < merged && i < top; i++) {
		const struct site *function = &sites[i];
		memscope_value row[] = {
			{.text = function->function},
			{.count = memscope_weighted_count(function->allocations)},
			{.count = memscope_weighted_count(function->bytes)},
			{.text = analyzer_accuracy(&function->tally)},
		};
		int error = host->table_row(table, row);
		if (error < 0)
			return error;
	}
	set->count = merged;
	return 0;
}

/* ---- findings ------------------------------------------------------------ */

static int write_summary(const memscope_host *host, memscope_results *results,
                         const struct analyzer_set *set, const memscope_summary *summary)
{
	const struct site *sites = set->items;
	double weighted_allocations = 0, weighted_bytes = 0, weighted_temporary = 0;
	double weighted_peak = 0;
	memscope_tally tally = {0};
	for (size_t i = 0; i < set->count; i++) {
		memscope_tally_merge(&tally, &sites[i].tally);
		weighted_allocations += sites[i].allocations;
		weighted_bytes += sites[i].bytes;
		weighted_temporary += sites[i].temporary;
		weighted_peak += sites[i].peak_bytes;
	}
	uint64_t allocations = memscope_weighted_count(weighted_allocations);
	uint64_t bytes = memscope_weighted_count(weighted_bytes);
	uint64_t temporary = memscope_weighted_count(weighted_temporary);
	uint64_t peak = memscope_weighted_count(weighted_peak);
	char text[768];
	if (set->count == 0)
		return host->finding(results, MEMSCOPE_SEVERITY_INFO,
		                     "the capture holds no allocations");
	bool estimated = memscope_summary_estimated(summary);
	const char *mark = analyzer_mark(&tally);
	char allocation_text[96], temporary_text[32];
	snprintf(allocation_text, sizeof(allocation_text), "%s",
	         analyzer_counted(allocations, "allocation", "allocations").text);
	analyzer_grouped(temporary_text, sizeof(temporary_text), temporary);
	/* By clock ticks alone, the count of temporary blocks is a bound. */
	const char *bound = memscope_summary_peak_ordered(summary) ? "" : "at most ";
	snprintf(text, sizeof(text), "%s%s, %s%s from %s; %s%s%s of them (%.1f%%) were temporary",
	         mark, allocation_text, mark, analyzer_bytes_text(bytes).text,
	         analyzer_counted(set->count, "site", "sites").text, bound, mark, temporary_text,
	         100.0 * weighted_temporary / weighted_allocations);
	int error = host->finding(results, MEMSCOPE_SEVERITY_INFO, text);
	char note[256];
	analyzer_sampling_note(summary, note, sizeof(note));
	if (error == 0 && note[0]) {
		snprintf(text, sizeof(text), "the sites' allocations and bytes are %s", note);
		error = host->finding(results, MEMSCOPE_SEVERITY_INFO, text);
	}
	if (error == 0)
		error = analyzer_tracking_finding(host, results, summary,
		                                  "the sites' allocations and bytes may be low");
	/* Two estimates of one peak, summed in another order, may round a
	 * byte apart. */
	bool peak_agrees = peak == summary->peak_bytes ||
	                   (estimated && (peak + 1 == summary->peak_bytes ||
	                                  peak == summary->peak_bytes + 1));
	if (error < 0 || peak_agrees)
		return error;
	char peak_text[96];
	snprintf(peak_text, sizeof(peak_text), "%s", analyzer_bytes_text(peak).text);
	const char *why = memscope_summary_peak_ordered(summary)
	                      ? "a block resized in place counts with its last size"
	                      : "blocks allocated or freed in the peak's clock tick cannot be ordered "
	                        "against it, and a resized block counts with its last size";
	snprintf(text, sizeof(text),
	         "the sites' bytes live at the peak add up to %s, not the capture's peak of %s: %s",
	         peak_text, analyzer_bytes_text(summary->peak_bytes).text, why);
	return host->finding(results, MEMSCOPE_SEVERITY_INFO, text);
}

/* ---- the analyzer -------------------------------------------------------- */

/* Option "top": *top is the rows of each table, SIZE_MAX for "0" (all).
 * Returns false if the value is not a whole number. */
static bool top_option(const memscope_host *host, memscope_capture *capture, size_t *top,
                       const char **value)
{
	*top = DEFAULT_TOP;
	*value = host->option ? host->option(capture, "top") : NULL;
	if (!*value)
		return true;
	char *end;
	errno = 0;
	unsigned long long number = strtoull(*value, &end, 10);
	if (errno || end == *value || *end || (*value)[0] == '-')
		return false;
	*top = number == 0 || number > SIZE_MAX ? SIZE_MAX : (size_t)number;
	return true;
}

static int run(const memscope_host *host, memscope_capture *capture, memscope_results *results)
{
	if (!analyzer_host_usable(host) || !host->summary)
		return -ENOTSUP;
	const memscope_summary *summary = host->summary(capture);
	if (!summary)
		return -EINVAL;
	int error = 0;
	size_t top;
	const char *top_text;
	if (!top_option(host, capture, &top, &top_text)) {
		char text[256];
		snprintf(text, sizeof(text),
		         "option top=\"%.64s\" is not a whole number; showing the top %d (give "
		         "--option top=N, or top=0 for every row)",
		         top_text, DEFAULT_TOP);
		error = host->finding(results, MEMSCOPE_SEVERITY_WARNING, text);
		if (error < 0)
			return error;
	}

	bool estimated = memscope_summary_estimated(summary);
	struct walk walk = {.summary = summary, .ordered = memscope_summary_peak_ordered(summary)};
	analyzer_set_init(&walk.sites, sizeof(struct site), stack_of);
	error = host->for_each_block(capture, count_block, &walk);
	if (error == 0) {
		for (size_t i = 0; i < walk.thread_count; i++)
			if (walk.threads[i].count > 1)
				qsort(walk.threads[i].allocations, walk.threads[i].count,
				      sizeof(struct allocation), by_time_then_order);
		walk.order = 0;
		error = host->for_each_block(capture, count_temporary, &walk);
	}
	if (error == 0)
		error = write_sites(host, results, "sites",
		                    "Allocation sites by allocations (top-down: whole stacks)",
		                    &walk.sites, top, by_allocations, estimated, walk.ordered);
	if (error == 0)
		error = write_sites(host, results, "sites_by_bytes", "Allocation sites by bytes",
		                    &walk.sites, top, by_bytes, estimated, walk.ordered);
	if (error == 0)
		error = write_summary(host, results, &walk.sites, summary);
	/* Last: it merges the sites in place. */
	if (error == 0)
		error = write_functions(host, capture, results, &walk.sites, top, estimated);
	walk_finish(&walk);
	return error < 0 ? error : 0;
}

static const memscope_analyzer hotspots = {
	.version = MEMSCOPE_ANALYZER_VERSION,
	.name = "hotspots",
	.description = "allocation sites by allocations and bytes, top-down and bottom-up "
	               "(option top=N, 0 for all)",
	.run = run,
};

static const memscope_analyzer *const analyzers[] = {&hotspots, NULL};

MEMSCOPE_PLUGIN_DESCRIBE("hotspots", "1.0", analyzers, NULL)
