/* exporter_common.c - what the exporter plugins share; see
 * exporter_common.h. */
#include "exporter_common.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

size_t exporter_utf8_sequence_length(const unsigned char *text)
{
	unsigned char lead = text[0];
	size_t length;
	unsigned char low = 0x80, high = 0xbf;
	if (lead < 0x80)
		return 1;
	if (lead >= 0xc2 && lead <= 0xdf) {
		length = 2;
	} else if (lead >= 0xe0 && lead <= 0xef) {
		length = 3;
		if (lead == 0xe0)
			low = 0xa0;
		else if (lead == 0xed)
			high = 0x9f;
	} else if (lead >= 0xf0 && lead <= 0xf4) {
		length = 4;
		if (lead == 0xf0)
			low = 0x90;
		else if (lead == 0xf4)
			high = 0x8f;
	} else {
		return 0;
	}
	if (text[1] < low || text[1] > high)
		return 0;
	for (size_t i = 2; i < length; i++)
		if (text[i] < 0x80 || text[i] > 0xbf)
			return 0;
	return length;
}

/* The short escape of c in this context, or NULL for none. */
static const char *short_escape(unsigned char c, enum exporter_json_context context)
{
	switch (c) {
	case '"': return "\\\"";
	case '\\': return "\\\\";
	case '\n': return "\\n";
	case '\t': return "\\t";
	default: break;
	}
	if (context == EXPORTER_JSON_IN_SCRIPT)
		return NULL;
	switch (c) {
	case '\b': return "\\b";
	case '\f': return "\\f";
	case '\r': return "\\r";
	default: return NULL;
	}
}

void exporter_json_string(FILE *out, const char *text, enum exporter_json_context context)
{
	if (!text) {
		fputs("null", out);
		return;
	}
	bool in_script = context == EXPORTER_JSON_IN_SCRIPT;
	const unsigned char *cursor = (const unsigned char *)text;
	fputc('"', out);
	while (*cursor) {
		unsigned char c = *cursor;
		const char *escape = short_escape(c, context);
		if (escape) {
			fputs(escape, out);
			cursor++;
			continue;
		}
		if (c < 0x20 || c == 0x7f || (in_script && (c == '<' || c == '>' || c == '&'))) {
			fprintf(out, "\\u%04x", c);
			cursor++;
			continue;
		}
		size_t length = exporter_utf8_sequence_length(cursor);
		if (length == 0) {
			fputs("\\ufffd", out);
			cursor++;
		} else if (length == 3 && c == 0xe2 && cursor[1] == 0x80 &&
		           (cursor[2] == 0xa8 || cursor[2] == 0xa9)) {
			fputs(cursor[2] == 0xa8 ? "\\u2028" : "\\u2029", out);
			cursor += 3;
		} else {
			fwrite(cursor, 1, length, out);
			cursor += length;
		}
	}
	fputc('"', out);
}

int exporter_locale_enter(struct exporter_locale *locale)
{
	locale->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (!locale->c_locale)
		return -ENOMEM;
	locale->previous = uselocale(locale->c_locale);
	return 0;
}

void exporter_locale_leave(struct exporter_locale *locale)
{
	uselocale(locale->previous);
	freelocale(locale->c_locale);
}

int exporter_finish_output(FILE *out, int error)
{
	if (error < 0)
		return error;
	if (fflush(out) != 0 || ferror(out))
		return -EIO;
	return 0;
}

const memscope_summary *exporter_summary(const memscope_host *host, memscope_capture *capture)
{
	static const memscope_summary nothing = { .version = MEMSCOPE_SUMMARY_VERSION };
	const memscope_summary *summary = host->summary(capture);
	return summary ? summary : &nothing;
}

static int timeline_grow(struct exporter_timeline *timeline)
{
	if (timeline->count < timeline->capacity)
		return 0;
	size_t capacity = timeline->capacity ? timeline->capacity * 2 : 256;
	memscope_sample *grown = realloc(timeline->samples, capacity * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	timeline->samples = grown;
	timeline->capacity = capacity;
	return 0;
}

static int timeline_add(void *context, const memscope_sample *sample)
{
	struct exporter_timeline *timeline = context;
	int error = timeline_grow(timeline);
	if (error < 0)
		return error;
	timeline->samples[timeline->count++] = *sample;
	return 0;
}

int exporter_timeline_collect(struct exporter_timeline *timeline, const memscope_host *host,
                              memscope_capture *capture, const memscope_summary *summary)
{
	int error = host->for_each_sample(capture, timeline_add, timeline);
	timeline->peak = timeline->count;
	/* No samples, no line to put the peak on. */
	if (error < 0 || summary->peak_bytes == 0 || timeline->count == 0)
		return error < 0 ? error : 0;
	/* After every sample taken at or before the peak's time. */
	size_t at = 0;
	while (at < timeline->count && timeline->samples[at].time_ns <= summary->peak_time_ns)
		at++;
	if (at > 0 && timeline->samples[at - 1].time_ns == summary->peak_time_ns &&
	    timeline->samples[at - 1].heap_live_bytes == summary->peak_bytes) {
		timeline->peak = at - 1;
		return 0;
	}
	if ((error = timeline_grow(timeline)) < 0)
		return error;
	memscope_sample point = timeline->samples[at > 0 ? at - 1 : at];
	point.time_ns = summary->peak_time_ns;
	point.heap_live_bytes = summary->peak_bytes;
	if (summary->version >= 7)
		point.heap_live_blocks = summary->peak_blocks;
	memmove(&timeline->samples[at + 1], &timeline->samples[at],
	        (timeline->count - at) * sizeof(*timeline->samples));
	timeline->samples[at] = point;
	timeline->count++;
	timeline->peak = at;
	return 0;
}

void exporter_timeline_finish(struct exporter_timeline *timeline)
{
	free(timeline->samples);
	*timeline = (struct exporter_timeline){ 0 };
}

/* The key of an object's next member, after the separator unless first. */
static void member(FILE *out, bool spaced, bool first, const char *key)
{
	if (!first)
		fputs(spaced ? ", " : ",", out);
	fprintf(out, "\"%s\":%s", key, spaced ? " " : "");
}

void exporter_sampling_object(FILE *out, const memscope_summary *summary, bool spaced)
{
	uint64_t low, high, changes;
	memscope_summary_interval_range(summary, &low, &high, &changes);
	fputc('{', out);
	member(out, spaced, true, "interval");
	fprintf(out, "%" PRIu64, memscope_summary_sample_interval(summary));
	member(out, spaced, false, "estimated");
	fputs(memscope_summary_estimated(summary) ? "true" : "false", out);
	member(out, spaced, false, "interval_min");
	fprintf(out, "%" PRIu64, low);
	member(out, spaced, false, "interval_max");
	fprintf(out, "%" PRIu64, high);
	member(out, spaced, false, "interval_changes");
	fprintf(out, "%" PRIu64, changes);
	member(out, spaced, false, "exact_above");
	fprintf(out, "%" PRIu64, memscope_summary_exact_above(summary));
	fputc('}', out);
}

void exporter_accuracy_object(FILE *out, const memscope_summary *summary, bool spaced)
{
	static const struct {
		const char *key;
		memscope_figure figure;
	} figures[] = {
		{"allocations", MEMSCOPE_FIGURE_ALLOCATIONS},
		{"reallocations", MEMSCOPE_FIGURE_REALLOCATIONS},
		{"frees", MEMSCOPE_FIGURE_FREES},
		{"peak", MEMSCOPE_FIGURE_PEAK},
		{"live", MEMSCOPE_FIGURE_LIVE},
	};
	fputc('{', out);
	for (size_t i = 0; i < sizeof(figures) / sizeof(figures[0]); i++) {
		member(out, spaced, i == 0, figures[i].key);
		memscope_accuracy accuracy = memscope_summary_accuracy(summary, figures[i].figure);
		fprintf(out, "\"%s\"", memscope_accuracy_name(accuracy));
	}
	fputc('}', out);
}

size_t exporter_stack_frames(const memscope_host *host, memscope_capture *capture,
                             uint32_t stack, const memscope_frame **frames)
{
	size_t count = 0;
	*frames = NULL;
	if (host->stack_frames(capture, stack, frames, &count) < 0 || !*frames) {
		*frames = NULL;
		return 0;
	}
	return count;
}

int exporter_stack_ids_add(struct exporter_stack_ids *set, uint32_t id)
{
	if (set->count == set->capacity) {
		size_t capacity = set->capacity ? set->capacity * 2 : 64;
		uint32_t *ids = realloc(set->ids, capacity * sizeof(*ids));
		if (!ids)
			return -ENOMEM;
		set->ids = ids;
		set->capacity = capacity;
	}
	set->ids[set->count++] = id;
	return 0;
}

static int compare_ids(const void *left, const void *right)
{
	uint32_t a = *(const uint32_t *)left, b = *(const uint32_t *)right;
	return (a > b) - (a < b);
}

void exporter_stack_ids_settle(struct exporter_stack_ids *set)
{
	if (set->count == 0)
		return;
	qsort(set->ids, set->count, sizeof(*set->ids), compare_ids);
	size_t kept = 1;
	for (size_t i = 1; i < set->count; i++)
		if (set->ids[i] != set->ids[kept - 1])
			set->ids[kept++] = set->ids[i];
	set->count = kept;
}

void exporter_stack_ids_finish(struct exporter_stack_ids *set)
{
	free(set->ids);
	*set = (struct exporter_stack_ids){ 0 };
}

const char *exporter_column_type_name(memscope_column_type type)
{
	switch (type) {
	case MEMSCOPE_COLUMN_TEXT: return "text";
	case MEMSCOPE_COLUMN_COUNT: return "count";
	case MEMSCOPE_COLUMN_BYTES: return "bytes";
	case MEMSCOPE_COLUMN_TIME: return "time";
	case MEMSCOPE_COLUMN_RATIO: return "ratio";
	case MEMSCOPE_COLUMN_STACK: return "stack";
	}
	return "unknown";
}

const char *exporter_severity_name(memscope_severity severity, const char *unknown)
{
	switch (severity) {
	case MEMSCOPE_SEVERITY_INFO: return "info";
	case MEMSCOPE_SEVERITY_WARNING: return "warning";
	case MEMSCOPE_SEVERITY_PROBLEM: return "problem";
	}
	return unknown;
}

/* ---- tasks' leaks ------------------------------------------------------ */

/* Where (task, stack) is in the table, or the empty slot it would take. */
static size_t leak_slot(const struct exporter_task_leak *entries, size_t capacity, uint64_t task,
                        uint32_t stack)
{
	uint64_t hash = (task * UINT64_C(0x9e3779b97f4a7c15)) ^ stack;
	hash ^= hash >> 29;
	hash *= UINT64_C(0xbf58476d1ce4e5b9);
	hash ^= hash >> 32;
	size_t mask = capacity - 1;
	for (size_t slot = (size_t)hash & mask;; slot = (slot + 1) & mask) {
		const struct exporter_task_leak *entry = &entries[slot];
		if (entry->task == 0 || (entry->task == task && entry->stack == stack))
			return slot;
	}
}

/* Keeps the table at most half full.  Returns 0 or -ENOMEM. */
static int leaks_make_room(struct exporter_task_leaks *leaks)
{
	if (2 * (leaks->count + 1) <= leaks->capacity)
		return 0;
	size_t capacity = leaks->capacity ? 2 * leaks->capacity : 256;
	struct exporter_task_leak *entries = calloc(capacity, sizeof(*entries));
	if (!entries)
		return -ENOMEM;
	for (size_t i = 0; i < leaks->capacity; i++) {
		const struct exporter_task_leak *entry = &leaks->entries[i];
		if (entry->task != 0)
			entries[leak_slot(entries, capacity, entry->task, entry->stack)] = *entry;
	}
	free(leaks->entries);
	leaks->entries = entries;
	leaks->capacity = capacity;
	return 0;
}

static int count_leak(void *context, const memscope_block *block)
{
	struct exporter_task_leaks *leaks = context;
	/* The task that allocated a block: 0 from a host before ABI 1.2. */
	uint64_t task = block->version >= 3 ? block->task : 0;
	if (block->freed || task == 0)
		return 0;
	if (leaks_make_room(leaks) < 0)
		return -ENOMEM;
	struct exporter_task_leak *entry =
	    &leaks->entries[leak_slot(leaks->entries, leaks->capacity, task, block->stack)];
	if (entry->task == 0) {
		*entry = (struct exporter_task_leak){ .task = task, .stack = block->stack };
		leaks->count++;
	}
	double weight = memscope_block_weight(block);
	entry->weighted_blocks += weight;
	entry->weighted_bytes += weight * (double)block->size;
	memscope_tally_add(&entry->tally, weight);
	return 0;
}

static int compare_leaks(const void *left, const void *right)
{
	const struct exporter_task_leak *a = left, *b = right;
	if (a->task != b->task)
		return a->task < b->task ? -1 : 1;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	return (a->stack > b->stack) - (a->stack < b->stack);
}

int exporter_task_leaks_collect(struct exporter_task_leaks *leaks, const memscope_host *host,
                                memscope_capture *capture)
{
	int error = host->for_each_block(capture, count_leak, leaks);
	if (error < 0)
		return error;
	/* The used slots to the front, in the order they are written. */
	size_t kept = 0;
	for (size_t i = 0; i < leaks->capacity; i++) {
		struct exporter_task_leak *entry = &leaks->entries[i];
		if (entry->task == 0)
			continue;
		entry->blocks = memscope_weighted_count(entry->weighted_blocks);
		entry->bytes = memscope_weighted_count(entry->weighted_bytes);
		leaks->entries[kept++] = *entry;
	}
	if (kept > 1)
		qsort(leaks->entries, kept, sizeof(*leaks->entries), compare_leaks);
	return 0;
}

const struct exporter_task_leak *exporter_task_leaks_of(const struct exporter_task_leaks *leaks,
                                                         uint64_t task, size_t *count)
{
	size_t low = 0, high = leaks->count;
	while (low < high) {
		size_t middle = low + (high - low) / 2;
		if (leaks->entries[middle].task < task)
			low = middle + 1;
		else
			high = middle;
	}
	size_t end = low;
	while (end < leaks->count && leaks->entries[end].task == task)
		end++;
	*count = end - low;
	return *count ? &leaks->entries[low] : NULL;
}

void exporter_task_leaks_finish(struct exporter_task_leaks *leaks)
{
	free(leaks->entries);
	*leaks = (struct exporter_task_leaks){0};
}
