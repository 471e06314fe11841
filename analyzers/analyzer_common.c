/* analyzer_common.c - what the analyzer plugins share; see the header. */
#include "analyzer_common.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- numbers as people read them ------------------------------------- */

void analyzer_grouped(char *out, size_t size, uint64_t value)
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

struct analyzer_number_text analyzer_counted(uint64_t count, const char *singular,
                                             const char *plural)
{
	struct analyzer_number_text result;
	char digits[32];
	analyzer_grouped(digits, sizeof(digits), count);
	snprintf(result.text, sizeof(result.text), "%s %s", digits, count == 1 ? singular : plural);
	return result;
}

struct analyzer_number_text analyzer_time_text(uint64_t time_ns)
{
	struct analyzer_number_text result;
	snprintf(result.text, sizeof(result.text), "%" PRIu64 ".%03" PRIu64 " s",
	         time_ns / 1000000000, time_ns / 1000000 % 1000);
	return result;
}

struct analyzer_number_text analyzer_bytes_text(uint64_t bytes)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
	struct analyzer_number_text result;
	char digits[32];
	analyzer_grouped(digits, sizeof(digits), bytes);
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

/* ---- the keyed set ------------------------------------------------------ */

static size_t slot_of(uint64_t key, size_t slot_count)
{
	/* Fibonacci hashing: keys such as stack ids are small and dense, so
	 * spread them. */
	return (size_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & (slot_count - 1);
}

static void *item_at(const struct analyzer_set *set, size_t index)
{
	return (char *)set->items + index * set->item_size;
}

static int grow_index(struct analyzer_set *set)
{
	size_t slot_count = set->slot_count ? set->slot_count * 2 : 64;
	size_t *slots = calloc(slot_count, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < set->count; i++) {
		size_t slot = slot_of(set->key_of(item_at(set, i)), slot_count);
		while (slots[slot])
			slot = (slot + 1) & (slot_count - 1);
		slots[slot] = i + 1;
	}
	free(set->slots);
	set->slots = slots;
	set->slot_count = slot_count;
	return 0;
}

void analyzer_set_init(struct analyzer_set *set, size_t item_size,
                       uint64_t (*key_of)(const void *item))
{
	*set = (struct analyzer_set){.item_size = item_size, .key_of = key_of};
}

void *analyzer_set_item(struct analyzer_set *set, uint64_t key, const void *blank)
{
	if ((set->count + 1) * 2 > set->slot_count && grow_index(set) < 0)
		return NULL;
	size_t slot = slot_of(key, set->slot_count);
	while (set->slots[slot]) {
		void *item = item_at(set, set->slots[slot] - 1);
		if (set->key_of(item) == key)
			return item;
		slot = (slot + 1) & (set->slot_count - 1);
	}
	if (set->count == set->capacity) {
		size_t capacity = set->capacity ? set->capacity * 2 : 64;
		void *items = realloc(set->items, capacity * set->item_size);
		if (!items)
			return NULL;
		set->items = items;
		set->capacity = capacity;
	}
	void *item = item_at(set, set->count);
	memcpy(item, blank, set->item_size);
	set->slots[slot] = ++set->count;
	return item;
}

void analyzer_set_finish(struct analyzer_set *set)
{
	free(set->items);
	free(set->slots);
}

/* ---- the host -------------------------------------------------------------- */

bool analyzer_host_usable(const memscope_host *host)
{
	return host && host->version >= 1 && host->for_each_block && host->table_begin &&
	       host->table_row && host->finding;
}

/* ---- sampled captures ---------------------------------------------------- */

bool analyzer_estimated(const memscope_host *host, memscope_capture *capture)
{
	const memscope_summary *summary = host->summary ? host->summary(capture) : NULL;
	return summary && memscope_summary_estimated(summary);
}

void analyzer_sampling_note(const memscope_summary *summary, char *out, size_t size)
{
	out[0] = '\0';
	if (!memscope_summary_estimated(summary))
		return;
	snprintf(out, size,
	         "estimated from a sampled capture (one point every %s allocated on average)",
	         analyzer_bytes_text(memscope_summary_sample_interval(summary)).text);
}

const char *analyzer_accuracy(const memscope_tally *tally)
{
	return memscope_accuracy_name(memscope_tally_accuracy(tally));
}

const char *analyzer_mark(const memscope_tally *tally)
{
	return memscope_tally_accuracy(tally) == MEMSCOPE_ACCURACY_EXACT ? "" : "~";
}

#define COLUMN_TITLE_MAX 160

memscope_table *analyzer_table_begin(const memscope_host *host, memscope_results *results,
                                     const char *name, const char *title,
                                     const memscope_column *columns, size_t column_count,
                                     uint32_t estimated_columns, bool estimated)
{
	if (!estimated)
		return host->table_begin(results, name, title, columns, column_count);
	/* The host copies the columns and their titles: these need only last
	 * the call. */
	memscope_column *marked = malloc(column_count * sizeof(*marked));
	char (*titles)[COLUMN_TITLE_MAX] = malloc(column_count * sizeof(*titles));
	char table_title[256];
	memscope_table *table = NULL;
	if (!marked || !titles)
		goto out;
	for (size_t i = 0; i < column_count; i++) {
		marked[i] = columns[i];
		if (i < 32 && (estimated_columns >> i & 1u) && columns[i].title) {
			snprintf(titles[i], COLUMN_TITLE_MAX, "%s (est.)", columns[i].title);
			marked[i].title = titles[i];
		}
	}
	snprintf(table_title, sizeof(table_title), "%s (estimated)", title);
	table = host->table_begin(results, name, table_title, marked, column_count);
out:
	free(marked);
	free(titles);
	return table;
}

int analyzer_tracking_finding(const memscope_host *host, memscope_results *results,
                              const memscope_summary *summary, const char *consequence)
{
	double completeness = memscope_summary_completeness(summary);
	if (completeness >= MEMSCOPE_COMPLETENESS_WARNING)
		return 0;
	char dropped[32], attempts[32], text[512];
	analyzer_grouped(dropped, sizeof(dropped), summary->misses);
	analyzer_grouped(attempts, sizeof(attempts), summary->attempts);
	/* Cut, not rounded: 94.96% is not shown as the 95% that passes. */
	snprintf(text, sizeof(text),
	         "only %.1f%% of the events the backend saw were recorded (%s of %s were "
	         "dropped): %s",
	         (double)(uint64_t)(completeness * 1000.0) / 10.0, dropped, attempts, consequence);
	return host->finding(results, MEMSCOPE_SEVERITY_WARNING, text);
}
