/* leaks.c - the "leaks" analyzer: the blocks still allocated when the
 * capture ended, grouped by the stack that allocated them.
 *
 * Table "leaks", one row per stack, most bytes first.  It is titled "Live
 * at the end" when the program did not end cleanly: a block live at a crash
 * or a kill is not necessarily a leak.  Findings say how much leaked, and
 * what the capture cannot tell: whether a leaked block is still reachable.
 * In a sampled capture each block counts as its weight, and the table and
 * findings say their figures are estimates, and each row's "accuracy"
 * says whether its blocks were all samples, all recorded for sure, or
 * both (the hybrid backend); when the backend dropped events, a finding
 * says that some "leaks" may be blocks whose free was dropped.
 *
 * A plugin of its own, built against <memscope/plugin.h> alone, with
 * analyzer_common.c compiled in.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <memscope/plugin.h>

#include "analyzer_common.h"

/* The blocks of one stack that were never freed, weighted. */
struct leak {
	uint32_t stack;
	double blocks;
	double bytes;
	memscope_tally tally;
	uint64_t first_allocated_ns;
	uint64_t last_allocated_ns;
	char **tags;               /* distinct tag names, copied */
	size_t tag_count;
	size_t tag_capacity;
};

/* ---- the leaks, by stack ------------------------------------------------ */

static uint64_t stack_of(const void *leak)
{
	return ((const struct leak *)leak)->stack;
}

/* The leak of stack, added empty if new; NULL when out of memory. */
static struct leak *leak_for(struct analyzer_set *set, uint32_t stack)
{
	const struct leak blank = {.stack = stack, .first_allocated_ns = UINT64_MAX};
	return analyzer_set_item(set, stack, &blank);
}

static int add_tag(struct leak *leak, const char *name)
{
	for (size_t i = 0; i < leak->tag_count; i++)
		if (strcmp(leak->tags[i], name) == 0)
			return 0;
	if (leak->tag_count == leak->tag_capacity) {
		size_t capacity = leak->tag_capacity ? leak->tag_capacity * 2 : 4;
		char **tags = realloc(leak->tags, capacity * sizeof(*tags));
		if (!tags)
			return -ENOMEM;
		leak->tags = tags;
		leak->tag_capacity = capacity;
	}
	char *copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	leak->tags[leak->tag_count++] = copy;
	return 0;
}

static void leaks_finish(struct analyzer_set *set)
{
	struct leak *leaks = set->items;
	for (size_t i = 0; i < set->count; i++) {
		for (size_t j = 0; j < leaks[i].tag_count; j++)
			free(leaks[i].tags[j]);
		free(leaks[i].tags);
	}
	analyzer_set_finish(set);
}

static int visit_block(void *context, const memscope_block *block)
{
	if (block->freed)
		return 0;
	struct leak *leak = leak_for(context, block->stack);
	if (!leak)
		return -ENOMEM;
	double weight = memscope_block_weight(block);
	memscope_tally_add(&leak->tally, weight);
	leak->blocks += weight;
	leak->bytes += weight * (double)block->size;
	if (block->allocated_ns < leak->first_allocated_ns)
		leak->first_allocated_ns = block->allocated_ns;
	if (block->allocated_ns > leak->last_allocated_ns)
		leak->last_allocated_ns = block->allocated_ns;
	if (block->tag_name && block->tag_name[0])
		return add_tag(leak, block->tag_name);
	return 0;
}

/* ---- the table ---------------------------------------------------------- */

static int by_bytes(const void *left_pointer, const void *right_pointer)
{
	const struct leak *left = left_pointer, *right = right_pointer;
	if (left->bytes != right->bytes)
		return left->bytes > right->bytes ? -1 : 1;
	return (left->stack > right->stack) - (left->stack < right->stack);
}

static int by_name(const void *left, const void *right)
{
	return strcmp(*(char *const *)left, *(char *const *)right);
}

/* The tag names of leak, sorted, joined by ", "; "" if none.  Returns NULL
 * when out of memory; the caller frees. */
static char *joined_tags(struct leak *leak)
{
	size_t length = 1;
	for (size_t i = 0; i < leak->tag_count; i++)
		length += strlen(leak->tags[i]) + 2;
	char *text = malloc(length);
	if (!text)
		return NULL;
	if (leak->tag_count > 1)
		qsort(leak->tags, leak->tag_count, sizeof(*leak->tags), by_name);
	char *cursor = text;
	for (size_t i = 0; i < leak->tag_count; i++) {
		if (i > 0) {
			memcpy(cursor, ", ", 2);
			cursor += 2;
		}
		size_t name_length = strlen(leak->tags[i]);
		memcpy(cursor, leak->tags[i], name_length);
		cursor += name_length;
	}
	*cursor = '\0';
	return text;
}

static const memscope_column leak_columns[] = {
	{"stack", "Allocated at", MEMSCOPE_COLUMN_STACK},
	{"blocks", "Blocks", MEMSCOPE_COLUMN_COUNT},
	{"bytes", "Bytes", MEMSCOPE_COLUMN_BYTES},
	{"first_allocated", "First allocated", MEMSCOPE_COLUMN_TIME},
	{"last_allocated", "Last allocated", MEMSCOPE_COLUMN_TIME},
	{"tags", "Tags", MEMSCOPE_COLUMN_TEXT},
	ANALYZER_ACCURACY_COLUMN,
};

static int write_table(const memscope_host *host, memscope_results *results,
                       struct analyzer_set *set, const memscope_summary *summary)
{
	memscope_table *table = analyzer_table_begin(
	    host, results, "leaks",
	    summary->ended_cleanly                  ? "Leaks: blocks never freed"
	    : summary->version >= 7 && summary->death ? "Live when the program died"
	                                              : "Live at the end",
	    leak_columns,
	    sizeof(leak_columns) / sizeof(leak_columns[0]), 1u << 1 | 1u << 2,
	    memscope_summary_estimated(summary));
	if (!table)
		return -ENOMEM;
	/* qsort's array must not be NULL, even when empty. */
	struct leak *leaks = set->items;
	if (set->count > 1)
		qsort(leaks, set->count, sizeof(*leaks), by_bytes);
	for (size_t i = 0; i < set->count; i++) {
		struct leak *leak = &leaks[i];
		char *tags = joined_tags(leak);
		if (!tags)
			return -ENOMEM;
		memscope_value row[] = {
			{.stack = leak->stack},
			{.count = memscope_weighted_count(leak->blocks)},
			{.count = memscope_weighted_count(leak->bytes)},
			{.count = leak->first_allocated_ns},
			{.count = leak->last_allocated_ns},
			{.text = tags},
			{.text = analyzer_accuracy(&leak->tally)},
		};
		int error = host->table_row(table, row);
		free(tags);
		if (error < 0)
			return error;
	}
	return 0;
}

/* ---- findings ------------------------------------------------------------ */

static int write_findings(const memscope_host *host, memscope_results *results,
                          const struct analyzer_set *set, const memscope_summary *summary)
{
	const struct leak *leaks = set->items;
	double weighted_blocks = 0, weighted_bytes = 0;
	memscope_tally tally = {0};
	for (size_t i = 0; i < set->count; i++) {
		weighted_blocks += leaks[i].blocks;
		weighted_bytes += leaks[i].bytes;
		memscope_tally_merge(&tally, &leaks[i].tally);
	}
	uint64_t blocks = memscope_weighted_count(weighted_blocks);
	uint64_t bytes = memscope_weighted_count(weighted_bytes);
	char text[768], note[256];
	/* Estimates are marked where they are said, as in the text report. */
	const char *mark = analyzer_mark(&tally);
	const char *unclean = summary->truncated ? "the capture is cut short"
	                                         : "the capture has no trailer";
	int error;
	const char *death = summary->version >= 7 ? summary->death : NULL;
	if (!summary->ended_cleanly && death != NULL) {
		/* memscope wrote the capture from the program's buffers: every
		 * event it recorded is here, up to its death. */
		snprintf(text, sizeof(text),
		         "the program ended before finishing its capture: %s, at %s or a little "
		         "later; live when it died: %s%s, %s%s in %s (not all leaks)",
		         death, analyzer_time_text(summary->duration_ns).text, mark,
		         analyzer_counted(blocks, "block", "blocks").text, mark,
		         analyzer_bytes_text(bytes).text,
		         analyzer_counted(set->count, "place", "places").text);
		error = host->finding(results, MEMSCOPE_SEVERITY_WARNING, text);
	} else if (!summary->ended_cleanly && set->count == 0) {
		snprintf(text, sizeof(text),
		         "the program did not end cleanly (%s): no block was live when the capture "
		         "ends, but blocks it held when it stopped may not have been recorded",
		         unclean);
		error = host->finding(results, MEMSCOPE_SEVERITY_WARNING, text);
	} else if (!summary->ended_cleanly) {
		snprintf(text, sizeof(text),
		         "the program did not end cleanly (%s), so the %s%s, %s%s live at the end in %s "
		         "are not all leaks",
		         unclean, mark, analyzer_counted(blocks, "block", "blocks").text, mark,
		         analyzer_bytes_text(bytes).text,
		         analyzer_counted(set->count, "place", "places").text);
		error = host->finding(results, MEMSCOPE_SEVERITY_WARNING, text);
	} else if (set->count > 0) {
		snprintf(text, sizeof(text), "%s%s, %s%s leaked in %s", mark,
		         analyzer_counted(blocks, "block", "blocks").text, mark,
		         analyzer_bytes_text(bytes).text,
		         analyzer_counted(set->count, "place", "places").text);
		error = host->finding(results, MEMSCOPE_SEVERITY_PROBLEM, text);
	} else if (memscope_summary_estimated(summary)) {
		error = host->finding(results, MEMSCOPE_SEVERITY_INFO,
		                      "no leaked block was sampled; leaks smaller than the sampling "
		                      "interval may be missed");
	} else {
		error = host->finding(results, MEMSCOPE_SEVERITY_INFO,
		                      "no leaks: every block allocated was freed");
	}
	analyzer_sampling_note(summary, note, sizeof(note));
	if (error == 0 && note[0] && set->count > 0) {
		snprintf(text, sizeof(text), "the leaked blocks and bytes are %s", note);
		error = host->finding(results, MEMSCOPE_SEVERITY_INFO, text);
	}
	if (error == 0)
		error = analyzer_tracking_finding(host, results, summary,
		                                  "leaks may include blocks whose free was dropped, "
		                                  "and the figures may be low");
	if (error < 0 || set->count == 0)
		return error;
	/* Captures hold no record of the program's globals or of pointers
	 * inside blocks, so reachability cannot be worked out: say so rather
	 * than guess. */
	return host->finding(results, MEMSCOPE_SEVERITY_INFO,
	                     "whether leaked blocks are still reachable from globals is not "
	                     "recorded in this capture; all are listed");
}

/* ---- the analyzer -------------------------------------------------------- */

static int run(const memscope_host *host, memscope_capture *capture, memscope_results *results)
{
	if (!analyzer_host_usable(host) || !host->summary)
		return -ENOTSUP;
	const memscope_summary *summary = host->summary(capture);
	if (!summary)
		return -EINVAL;
	struct analyzer_set set;
	analyzer_set_init(&set, sizeof(struct leak), stack_of);
	int error = host->for_each_block(capture, visit_block, &set);
	if (error == 0)
		error = write_table(host, results, &set, summary);
	if (error == 0)
		error = write_findings(host, results, &set, summary);
	leaks_finish(&set);
	return error < 0 ? error : 0;
}

static const memscope_analyzer leaks = {
	.version = MEMSCOPE_ANALYZER_VERSION,
	.name = "leaks",
	.description = "blocks never freed, grouped by the stack that allocated them",
	.run = run,
};

static const memscope_analyzer *const analyzers[] = {&leaks, NULL};

MEMSCOPE_PLUGIN_DESCRIBE("leaks", "1.0", analyzers, NULL)
