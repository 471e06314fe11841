/* exporter_common.h - code every exporter plugin needs the same way: UTF-8
 * checks, JSON strings, the C numeric locale, the capture's summary and
 * stack frames, the summary's "sampling" and "accuracy" objects, the
 * stack ids a report names, and the names of column types and
 * severities.
 *
 * Plugins link nothing of memscope's, so each shared_module compiles
 * exporter_common.c into itself; -fvisibility=hidden keeps these
 * functions out of the plugin's exported symbols.
 */
#ifndef MEMSCOPE_EXPORTER_COMMON_H
#define MEMSCOPE_EXPORTER_COMMON_H

#include <locale.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <memscope/plugin.h>

/* Length of the well-formed UTF-8 sequence at text, or 0 when the byte
 * there does not start one (stray continuation, overlong form, surrogate,
 * beyond U+10FFFF, cut short).  Bounds as in Unicode's table 3-7. */
size_t exporter_utf8_sequence_length(const unsigned char *text);

enum exporter_json_context {
	/* A JSON document: \b \f \n \r \t short escapes, '<' '>' '&' as is. */
	EXPORTER_JSON_DOCUMENT,
	/* Inside an HTML <script> element: '<' '>' '&' are \u-escaped so
	 * neither "</script>" nor "<!--" can appear; only \n and \t have
	 * short escapes. */
	EXPORTER_JSON_IN_SCRIPT,
};

/* Writes text as a JSON string: quotes and backslashes escaped, other
 * control characters and DEL as escapes, U+2028 and U+2029 escaped so the
 * result is also a JavaScript literal, well-formed UTF-8 passed through
 * and each byte that is not part of it replaced by \ufffd.  NULL is
 * written as null. */
void exporter_json_string(FILE *out, const char *text, enum exporter_json_context context);

/* Numbers printed between _enter and _leave use the C locale, whatever
 * the host set: "0.5", never "0,5".  Only the calling thread switches. */
struct exporter_locale {
	locale_t c_locale;
	locale_t previous;
};

/* Returns 0, or -ENOMEM when the C locale cannot be made. */
int exporter_locale_enter(struct exporter_locale *locale);
void exporter_locale_leave(struct exporter_locale *locale);

/* The end of an exporter's write slot: error when it is negative,
 * otherwise -EIO when out cannot be flushed or has failed, otherwise 0. */
int exporter_finish_output(FILE *out, int error);

/* The host's summary of the capture, or an all-zero one when the host
 * has none, so callers never test for NULL. */
const memscope_summary *exporter_summary(const memscope_host *host, memscope_capture *capture);

/* The live heap's line: the host's samples (every 10 ms by default) and
 * the summary's peak as one more point in time order, so the line passes
 * through the peak every report gives, which samples 10 ms apart miss
 * when it comes and goes between two of them.  The added point's heap
 * figures are the summary's; RSS, jemalloc's gauges, CPU and threads were
 * not measured at that moment and repeat the sample before it (after it,
 * when none is before).  A sample that already is the peak (same time,
 * same bytes) is not repeated; a capture without samples gets no point. */
struct exporter_timeline {
	memscope_sample *samples;
	size_t count;
	size_t capacity;
	size_t peak;               /* index of the point at the peak; count: no peak */
};

/* Fills timeline (zeroed by the caller).  Returns 0 or a negative errno
 * (what the host's walk returned, or -ENOMEM). */
int exporter_timeline_collect(struct exporter_timeline *timeline, const memscope_host *host,
                              memscope_capture *capture, const memscope_summary *summary);
void exporter_timeline_finish(struct exporter_timeline *timeline);

/* The summary's "sampling" object, {"interval": ..., "estimated": ...,
 * "interval_min": ..., "interval_max": ..., "interval_changes": ...,
 * "exact_above": ...}, the same in every file that carries one; spaced
 * as a document (", " and ": "), or not, as a page's data island. */
void exporter_sampling_object(FILE *out, const memscope_summary *summary, bool spaced);

/* The summary's "accuracy" object: {"allocations": "mixed", ...}, each
 * figure of the summary (allocations, reallocations, frees, peak, live)
 * named by memscope_summary_accuracy(); spaced as above. */
void exporter_accuracy_object(FILE *out, const memscope_summary *summary, bool spaced);

/* The frames of a stack, innermost first, in *frames; returns their
 * count, 0 (and *frames NULL) when the host has none for this id. */
size_t exporter_stack_frames(const memscope_host *host, memscope_capture *capture,
                             uint32_t stack, const memscope_frame **frames);

/* The stack ids a report's tables name, collected while the tables are
 * written so their frames can follow.  Zero-initialise to start. */
struct exporter_stack_ids {
	uint32_t *ids;
	size_t count;
	size_t capacity;
};

/* Returns 0 or -ENOMEM. */
int exporter_stack_ids_add(struct exporter_stack_ids *set, uint32_t id);
/* Sorts the ids ascending and keeps each once. */
void exporter_stack_ids_settle(struct exporter_stack_ids *set);
void exporter_stack_ids_finish(struct exporter_stack_ids *set);

/* "text", "count", ..., "unknown" for a type from a newer ABI. */
const char *exporter_column_type_name(memscope_column_type type);
/* "info", "warning", "problem", or unknown for a severity from a newer
 * ABI. */
const char *exporter_severity_name(memscope_severity severity, const char *unknown);

/* What a task leaked from one stack: its blocks still live at the end. */
struct exporter_task_leak {
	uint64_t task;             /* 0: an empty slot of the table */
	uint32_t stack;
	uint64_t blocks;           /* the sums of weights below, rounded (exact unless sampled) */
	uint64_t bytes;
	double weighted_blocks;
	double weighted_bytes;
	memscope_tally tally;      /* the blocks, by weight: what makes the figures exact */
};

/* Every task's leaks, one entry per (task, stack), so memory follows the
 * distinct pairs rather than the blocks.  Once collected, the first count
 * entries are sorted by task, then bytes descending, then stack. */
struct exporter_task_leaks {
	struct exporter_task_leak *entries;
	size_t count;
	size_t capacity;           /* a power of two, or 0 */
};

/* Fills leaks (zeroed by the caller) in one walk of the capture's blocks.
 * Returns 0 or a negative errno (what the walk returned, or -ENOMEM). */
int exporter_task_leaks_collect(struct exporter_task_leaks *leaks, const memscope_host *host,
                                memscope_capture *capture);

/* The collected leaks of task: *count entries from the one returned
 * (bytes descending); NULL with *count 0 when it leaked nothing.  Tasks
 * come from the host in any order. */
const struct exporter_task_leak *exporter_task_leaks_of(const struct exporter_task_leaks *leaks,
                                                         uint64_t task, size_t *count);

/* Frees the entries.  Zeroed leaks are a no-op. */
void exporter_task_leaks_finish(struct exporter_task_leaks *leaks);

#endif
