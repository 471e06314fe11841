/* analyzer_common.h - what the analyzer plugins share: numbers written as
 * people read them, a keyed set of records, and the host check.
 *
 * Each plugin compiles analyzer_common.c into itself: a plugin links no
 * memscope library.  The names here are hidden by -fvisibility=hidden, so a
 * plugin still exports only its entry symbol.
 */
#ifndef MEMSCOPE_ANALYZER_COMMON_H
#define MEMSCOPE_ANALYZER_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <memscope/plugin.h>

/* A number as text, returned by value so that several fit in one printf. */
struct analyzer_number_text {
	char text[96];
};

/* Records with a 64-bit key each, in an array (in the order they were
 * added, free to sort once no more are looked up) and an open-addressing
 * index over it. */
struct analyzer_set {
	void *items;
	size_t count;
	size_t capacity;
	size_t item_size;
	uint64_t (*key_of)(const void *item);
	size_t *slots;             /* index + 1 into items; 0 is empty */
	size_t slot_count;         /* a power of two, at least twice count */
};

/* "1,024": value's digits grouped by three into out, cut to fit size. */
void analyzer_grouped(char *out, size_t size, uint64_t value);

/* "3 blocks", "1 place": the noun follows the number. */
struct analyzer_number_text analyzer_counted(uint64_t count, const char *singular,
                                             const char *plural);

/* "96 bytes", "2,048 bytes (2.0 KiB)": exact first, the unit for the eye. */
struct analyzer_number_text analyzer_bytes_text(uint64_t bytes);

/* "2.345 s" since the capture started. */
struct analyzer_number_text analyzer_time_text(uint64_t time_ns);

/* An empty set of items of item_size bytes, keyed by key_of(item). */
void analyzer_set_init(struct analyzer_set *set, size_t item_size,
                       uint64_t (*key_of)(const void *item));

/* The item of key, added as a copy of blank (whose key must be key) if new;
 * NULL when out of memory.  The pointer is good until the next call. */
void *analyzer_set_item(struct analyzer_set *set, uint64_t key, const void *blank);

/* Frees the array and the index, not what items point to. */
void analyzer_set_finish(struct analyzer_set *set);

/* Whether host is a version-1 host with the slots every analyzer calls:
 * for_each_block, table_begin, table_row and finding. */
bool analyzer_host_usable(const memscope_host *host);

/* ---- sampled captures ---------------------------------------------------- */

/* Whether the capture's blocks and bytes are estimates: a sampled capture,
 * whose blocks the analyzers count by their weight. */
bool analyzer_estimated(const memscope_host *host, memscope_capture *capture);

/* "estimated from a sampled capture (one point every 524,288 bytes (512.0
 * KiB) allocated on average)" into out; "" when summary is not sampled. */
void analyzer_sampling_note(const memscope_summary *summary, char *out, size_t size);

/* The last column of every table of weighted figures: what the blocks
 * summed into the row make of its figures, "exact", "estimated" or
 * "mixed" (analyzer_accuracy).  Last, so that the columns before keep
 * their indices. */
#define ANALYZER_ACCURACY_COLUMN {"accuracy", "Accuracy", MEMSCOPE_COLUMN_TEXT}

/* The accuracy column's value for a row whose blocks are tally. */
const char *analyzer_accuracy(const memscope_tally *tally);

/* What a finding puts before a figure of the blocks of tally: "~" for an
 * estimate (mixed ones too), "" for an exact figure. */
const char *analyzer_mark(const memscope_tally *tally);

/* host->table_begin, with " (estimated)" after the title and " (est.)"
 * after the title of each column whose bit (1 << index) is set in
 * estimated_columns when estimated is set: no one reads an estimate from a
 * sampled capture as a count. */
memscope_table *analyzer_table_begin(const memscope_host *host, memscope_results *results,
                                     const char *name, const char *title,
                                     const memscope_column *columns, size_t column_count,
                                     uint32_t estimated_columns, bool estimated);

/* A warning finding when the backend recorded less than
 * MEMSCOPE_COMPLETENESS_WARNING of the events, saying how many were
 * dropped and, in consequence, what that does to this analyzer's figures.
 * Returns 0 (nothing to say, or said) or -ENOMEM. */
int analyzer_tracking_finding(const memscope_host *host, memscope_results *results,
                              const memscope_summary *summary, const char *consequence);

#endif
