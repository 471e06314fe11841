/* leaks.c - the "leaks" analyzer: the blocks still allocated when the
 * capture ended, grouped by the stack that allocated them.
 *
 * Table "leaks", one row per stack, most bytes first.  It is titled "Live
 * at the end" when the program did not end cleanly: a block live at a crash
 * or a kill is not necessarily a leak.  Findings say how much leaked, and
 * what the capture cannot tell: whether a leaked block is still reachable.
 *
 * A plugin of its own, built against <memscope/plugin.h> alone.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <memscope/plugin.h>

/* The blocks of one stack that were never freed. */
struct leak {
	uint32_t stack;
	uint64_t blocks;
	uint64_t bytes;
	uint64_t first_allocated_ns;
	uint64_t last_allocated_ns;
	char **tags;               /* distinct tag names, copied */
	size_t tag_count;
	size_t tag_capacity;
};

/* Leaks by stack: an array, and an open-addressing index over it. */
struct leak_set {
	struct leak *leaks;
	size_t count;
	size_t capacity;
	size_t *slots;             /* index + 1 into leaks; 0 is empty */
	size_t slot_count;         /* a power of two, at least twice count */
};

/* ---- numbers as people read them ------------------------------------- */

struct number_text {
	char text[96];
};

/* "1,024": digits grouped by three. */
static void grouped(char *out, size_t size, uint64_t value)
{
	char digits[24];
	int length = snprintf(digits, sizeof(digits), "%" PRIu64, value);
	size_t used = 0;
	for (int i = 0; i < length && used + 2 < size; i++) {
		if (i > 0 && (length - i) % 3 == 0)
			out[used++] = ',';
		out[used++] = digits[i];
	}
	out[used] = '\0';
}

/* "3 blocks", "1 place": the noun follows the number. */
static struct number_text counted(uint64_t count, const char *singular, const char *plural)
{
	struct number_text result;
	char digits[32];
	grouped(digits, sizeof(digits), count);
	snprintf(result.text, sizeof(result.text), "%s %s", digits, count == 1 ? singular : plural);
	return result;
}

/* "96 bytes", "2,048 bytes (2.0 KiB)": exact first, the unit for the eye. */
static struct number_text bytes_text(uint64_t bytes)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
	struct number_text result;
	char digits[32];
	grouped(digits, sizeof(digits), bytes);
	if (bytes < 1024) {
		snprintf(result.text, sizeof(result.text), "%s byte%s", digits, bytes == 1 ? "" : "s");
		return result;
	}
	double scaled = (double)bytes / 1024.0;
	size_t unit = 0;
	while (scaled >= 1024.0 && unit + 1 < sizeof(units) / sizeof(units[0])) {
		scaled /= 1024.0;
		unit++;
	}
	snprintf(result.text, sizeof(result.text), "%s bytes (%.1f %s)", digits, scaled, units[unit]);
	return result;
}

/* ---- the leak set ------------------------------------------------------ */

static size_t slot_of(uint32_t stack, size_t slot_count)
{
	/* Fibonacci hashing: stack ids are small and dense, so spread them. */
	return (size_t)(((uint64_t)stack * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & (slot_count - 1);
}

static int grow_index(struct leak_set *set)
{
	size_t slot_count = set->slot_count ? set->slot_count * 2 : 64;
	size_t *slots = calloc(slot_count, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < set->count; i++) {
		size_t slot = slot_of(set->leaks[i].stack, slot_count);
		while (slots[slot])
			slot = (slot + 1) & (slot_count - 1);
		slots[slot] = i + 1;
	}
	free(set->slots);
	set->slots = slots;
	set->slot_count = slot_count;
	return 0;
}

/* The leak of stack, added empty if new; NULL when out of memory. */
static struct leak *leak_for(struct leak_set *set, uint32_t stack)
{
	if ((set->count + 1) * 2 > set->slot_count && grow_index(set) < 0)
		return NULL;
	size_t slot = slot_of(stack, set->slot_count);
	while (set->slots[slot]) {
		struct leak *leak = &set->leaks[set->slots[slot] - 1];
		if (leak->stack == stack)
			return leak;
		slot = (slot + 1) & (set->slot_count - 1);
	}
	if (set->count == set->capacity) {
		size_t capacity = set->capacity ? set->capacity * 2 : 64;
		struct leak *leaks = realloc(set->leaks, capacity * sizeof(*leaks));
		if (!leaks)
			return NULL;
		set->leaks = leaks;
		set->capacity = capacity;
	}
	struct leak *leak = &set->leaks[set->count];
	*leak = (struct leak){.stack = stack, .first_allocated_ns = UINT64_MAX};
	set->slots[slot] = ++set->count;
	return leak;
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

static void leak_set_finish(struct leak_set *set)
{
	for (size_t i = 0; i < set->count; i++) {
		for (size_t j = 0; j < set->leaks[i].tag_count; j++)
			free(set->leaks[i].tags[j]);
		free(set->leaks[i].tags);
	}
	free(set->leaks);
	free(set->slots);
}

static int visit_block(void *context, const memscope_block *block)
{
	struct leak_set *set = context;
	if (block->freed)
		return 0;
	struct leak *leak = leak_for(set, block->stack);
	if (!leak)
		return -ENOMEM;
	leak->blocks++;
	leak->bytes += block->size;
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
};

static int write_table(const memscope_host *host, memscope_results *results,
                       struct leak_set *set, bool ended_cleanly)
{
	memscope_table *table = host->table_begin(
	    results, "leaks", ended_cleanly ? "Leaks: blocks never freed" : "Live at the end",
	    leak_columns, sizeof(leak_columns) / sizeof(leak_columns[0]));
	if (!table)
		return -ENOMEM;
	/* qsort's array must not be NULL, even when empty. */
	if (set->count > 1)
		qsort(set->leaks, set->count, sizeof(*set->leaks), by_bytes);
	for (size_t i = 0; i < set->count; i++) {
		struct leak *leak = &set->leaks[i];
		char *tags = joined_tags(leak);
		if (!tags)
			return -ENOMEM;
		memscope_value row[] = {
			{.stack = leak->stack},
			{.count = leak->blocks},
			{.count = leak->bytes},
			{.count = leak->first_allocated_ns},
			{.count = leak->last_allocated_ns},
			{.text = tags},
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
                          const struct leak_set *set, const memscope_summary *summary)
{
	uint64_t blocks = 0, bytes = 0;
	for (size_t i = 0; i < set->count; i++) {
		blocks += set->leaks[i].blocks;
		bytes += set->leaks[i].bytes;
	}
	char text[512];
	int error;
	if (!summary->ended_cleanly) {
		snprintf(text, sizeof(text),
		         "the program did not end cleanly (%s), so the %s, %s live at the end in %s "
		         "are not all leaks",
		         summary->truncated ? "the capture is cut short" : "the capture has no trailer",
		         counted(blocks, "block", "blocks").text, bytes_text(bytes).text,
		         counted(set->count, "place", "places").text);
		error = host->finding(results, MEMSCOPE_SEVERITY_WARNING, text);
	} else if (set->count > 0) {
		snprintf(text, sizeof(text), "%s, %s leaked in %s",
		         counted(blocks, "block", "blocks").text, bytes_text(bytes).text,
		         counted(set->count, "place", "places").text);
		error = host->finding(results, MEMSCOPE_SEVERITY_PROBLEM, text);
	} else {
		error = host->finding(results, MEMSCOPE_SEVERITY_INFO,
		                      "no leaks: every block allocated was freed");
	}
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

static bool host_usable(const memscope_host *host)
{
	return host && host->version >= 1 && host->summary && host->for_each_block &&
	       host->table_begin && host->table_row && host->finding;
}

static int run(const memscope_host *host, memscope_capture *capture, memscope_results *results)
{
	if (!host_usable(host))
		return -ENOTSUP;
	const memscope_summary *summary = host->summary(capture);
	if (!summary)
		return -EINVAL;
	struct leak_set set = {0};
	int error = host->for_each_block(capture, visit_block, &set);
	if (error == 0)
		error = write_table(host, results, &set, summary->ended_cleanly);
	if (error == 0)
		error = write_findings(host, results, &set, summary);
	leak_set_finish(&set);
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
