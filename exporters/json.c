/* json.c - the "json" exporter: the capture's summary, every analyzer's
 * tables and findings, the stacks those tables name and the timeline, as
 * one JSON document.  The layout is versioned and documented key by key in
 * docs/json-schema.md; bump JSON_SCHEMA_VERSION on any change a reader of
 * the previous layout would misread.
 *
 * A sampled capture's document says so in a "sampling" object (its
 * counts and bytes are then estimates), and a capture with the backend's
 * tracking counters carries them in a "tracking" object; both keys are
 * left out when there is nothing to say.  So is "tasks": present only when
 * the capture has tasks, one line per task with what its blocks did and
 * what it leaked, by stack.  Every figure says how exact it is: the
 * summary's in its "accuracy" object, a task's and each of its leaks' in
 * an "accuracy" key, a table row's in the analyzers' "accuracy" column.
 *
 * The output is a function of the input alone (no export time, no
 * addresses of our own, stack ids sorted, numbers formatted in the C
 * locale), so a golden-file test can compare bytes.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include <memscope/plugin.h>

#include "exporter_common.h"

#define JSON_SCHEMA_NAME "memscope-report"
#define JSON_SCHEMA_VERSION 1

/* Nesting of the document is fixed and shallow: top, results, result,
 * tables, table, rows, row (tasks: top, tasks, task, leaks, leak). */
#define WRITER_MAX_DEPTH 16

/* ---- a small streaming writer ---------------------------------------- */

struct writer {
	FILE *out;
	int depth;
	/* Per open container: nothing written in it yet, and whether its
	 * members go on one line ("[1, 2]") or one per line. */
	bool empty[WRITER_MAX_DEPTH];
	bool one_line[WRITER_MAX_DEPTH];
	/* A key was just written: the next value follows it on its line. */
	bool after_key;
	int error;
};

static void put(struct writer *writer, const char *text)
{
	fputs(text, writer->out);
}

static void indent(struct writer *writer)
{
	fputc('\n', writer->out);
	for (int i = 0; i < writer->depth; i++)
		fputs("  ", writer->out);
}

/* Whatever goes before the next member of the open container. */
static void separate(struct writer *writer)
{
	if (writer->after_key) {
		writer->after_key = false;
		return;
	}
	if (writer->depth == 0)
		return;
	int top = writer->depth - 1;
	if (!writer->empty[top])
		fputc(',', writer->out);
	if (writer->one_line[top]) {
		if (!writer->empty[top])
			fputc(' ', writer->out);
	} else {
		indent(writer);
	}
	writer->empty[top] = false;
}

static void open_container(struct writer *writer, char bracket, bool one_line)
{
	separate(writer);
	if (writer->depth >= WRITER_MAX_DEPTH) {
		writer->error = -EOVERFLOW;
		return;
	}
	fputc(bracket, writer->out);
	/* A container inside a one-line container stays on that line. */
	bool inherited = writer->depth > 0 && writer->one_line[writer->depth - 1];
	writer->empty[writer->depth] = true;
	writer->one_line[writer->depth] = one_line || inherited;
	writer->depth++;
}

static void close_container(struct writer *writer, char bracket)
{
	if (writer->depth == 0) {
		writer->error = -EINVAL;
		return;
	}
	writer->depth--;
	if (!writer->empty[writer->depth] && !writer->one_line[writer->depth])
		indent(writer);
	fputc(bracket, writer->out);
}

static void write_key(struct writer *writer, const char *key)
{
	separate(writer);
	exporter_json_string(writer->out, key, EXPORTER_JSON_DOCUMENT);
	put(writer, ": ");
	writer->after_key = true;
}

static void write_string(struct writer *writer, const char *text)
{
	separate(writer);
	exporter_json_string(writer->out, text, EXPORTER_JSON_DOCUMENT);
}

static void write_unsigned(struct writer *writer, uint64_t value)
{
	separate(writer);
	fprintf(writer->out, "%" PRIu64, value);
}

static void write_bool(struct writer *writer, bool value)
{
	separate(writer);
	put(writer, value ? "true" : "false");
}

static void write_null(struct writer *writer)
{
	separate(writer);
	put(writer, "null");
}

/* The shortest of %.15g, %.16g, %.17g that reads back as the same double,
 * so 0.1 prints as 0.1 and every value survives a round trip.  The caller
 * has switched to the C locale.  NaN and infinities have no JSON form and
 * print as null. */
static void write_real(struct writer *writer, double value)
{
	if (!isfinite(value)) {
		write_null(writer);
		return;
	}
	char text[40];
	for (int precision = 15; precision <= 17; precision++) {
		snprintf(text, sizeof(text), "%.*g", precision, value);
		if (strtod(text, NULL) == value)
			break;
	}
	separate(writer);
	put(writer, text);
}

static void write_key_string(struct writer *writer, const char *key, const char *text)
{
	write_key(writer, key);
	write_string(writer, text);
}

static void write_key_unsigned(struct writer *writer, const char *key, uint64_t value)
{
	write_key(writer, key);
	write_unsigned(writer, value);
}

static void write_key_bool(struct writer *writer, const char *key, bool value)
{
	write_key(writer, key);
	write_bool(writer, value);
}

/* An object another module writes, as the value of key: spaced as
 * this document is, on one line. */
static void write_key_summary_object(struct writer *writer, const char *key,
                                     void (*object)(FILE *, const memscope_summary *, bool),
                                     const memscope_summary *summary)
{
	write_key(writer, key);
	separate(writer);
	object(writer->out, summary, true);
}

/* ---- the document ------------------------------------------------------ */

struct export {
	const memscope_host *host;
	memscope_capture *capture;
	struct writer writer;
	struct exporter_stack_ids stacks;
	struct exporter_task_leaks leaks; /* collected before the stacks are written */
};

static void write_summary(struct export *export)
{
	struct writer *writer = &export->writer;
	const memscope_summary *summary = exporter_summary(export->host, export->capture);

	write_key(writer, "capture");
	open_container(writer, '{', false);
	write_key_string(writer, "path", summary->path);
	write_key_string(writer, "program", summary->program);
	write_key_string(writer, "backend", summary->backend);
	write_key_unsigned(writer, "duration_ns", summary->duration_ns);
	write_key_unsigned(writer, "allocations", summary->allocations);
	write_key_unsigned(writer, "reallocations", summary->reallocations);
	write_key_unsigned(writer, "frees", summary->frees);
	write_key_unsigned(writer, "allocated_bytes", summary->allocated_bytes);
	write_key_unsigned(writer, "peak_bytes", summary->peak_bytes);
	write_key_unsigned(writer, "peak_time_ns", summary->peak_time_ns);
	write_key_unsigned(writer, "peak_blocks", summary->version >= 7 ? summary->peak_blocks : 0);
	write_key_unsigned(writer, "live_blocks", summary->live_blocks);
	write_key_unsigned(writer, "live_bytes", summary->live_bytes);
	write_key_summary_object(writer, "accuracy", exporter_accuracy_object, summary);
	write_key_unsigned(writer, "threads", summary->threads);
	write_key_bool(writer, "ended_cleanly", summary->ended_cleanly);
	write_key_string(writer, "death", summary->version >= 7 ? summary->death : NULL);
	write_key_bool(writer, "truncated", summary->truncated);
	close_container(writer, '}');
}

static void write_key_real(struct writer *writer, const char *key, double value)
{
	write_key(writer, key);
	write_real(writer, value);
}

/* "sampling": how the capture's blocks were picked, when a sampling
 * backend wrote it; "tracking": the backend's counters, when recorded. */
static void write_sampling_and_tracking(struct export *export)
{
	struct writer *writer = &export->writer;
	const memscope_summary *summary = exporter_summary(export->host, export->capture);
	uint64_t interval = memscope_summary_sample_interval(summary);
	if (interval != 0)
		write_key_summary_object(writer, "sampling", exporter_sampling_object, summary);
	if (!memscope_summary_has_tracking(summary))
		return;
	double attempts = summary->attempts ? (double)summary->attempts : 1.0;
	write_key(writer, "tracking");
	open_container(writer, '{', false);
	write_key_unsigned(writer, "attempts", summary->attempts);
	write_key_unsigned(writer, "successes", summary->successes);
	write_key_unsigned(writer, "misses", summary->misses);
	write_key_unsigned(writer, "waits", summary->waits);
	write_key_unsigned(writer, "growths", summary->growths);
	write_key_unsigned(writer, "task_changes", summary->version >= 4 ? summary->task_changes : 0);
	write_key_real(writer, "completeness", memscope_summary_completeness(summary));
	write_key_real(writer, "drop_rate", (double)summary->misses / attempts);
	write_key_real(writer, "contention_rate", memscope_summary_contention_rate(summary));
	write_key_bool(writer, "complete_enough",
	               memscope_summary_completeness(summary) >= MEMSCOPE_COMPLETENESS_WARNING);
	close_container(writer, '}');
}

static int write_value(struct export *export, memscope_column_type type,
                       const memscope_value *value)
{
	struct writer *writer = &export->writer;
	switch (type) {
	case MEMSCOPE_COLUMN_TEXT:
		write_string(writer, value->text);
		return 0;
	case MEMSCOPE_COLUMN_COUNT:
	case MEMSCOPE_COLUMN_BYTES:
	case MEMSCOPE_COLUMN_TIME:
		write_unsigned(writer, value->count);
		return 0;
	case MEMSCOPE_COLUMN_RATIO:
		write_real(writer, value->real);
		return 0;
	case MEMSCOPE_COLUMN_STACK:
		write_unsigned(writer, value->stack);
		return exporter_stack_ids_add(&export->stacks, value->stack);
	}
	/* A type from a newer ABI: its union member is unknown. */
	write_null(writer);
	return 0;
}

static int write_table(struct export *export, const memscope_table *table)
{
	const memscope_host *host = export->host;
	struct writer *writer = &export->writer;
	size_t column_count = 0;
	const memscope_column *columns = host->table_columns(table, &column_count);
	if (!columns)
		column_count = 0;

	open_container(writer, '{', false);
	write_key_string(writer, "name", host->table_name(table));
	write_key_string(writer, "title", host->table_title(table));

	write_key(writer, "columns");
	open_container(writer, '[', false);
	for (size_t i = 0; i < column_count; i++) {
		open_container(writer, '{', true);
		write_key_string(writer, "name", columns[i].name);
		write_key_string(writer, "title", columns[i].title);
		write_key_string(writer, "type", exporter_column_type_name(columns[i].type));
		close_container(writer, '}');
	}
	close_container(writer, ']');

	write_key(writer, "rows");
	open_container(writer, '[', false);
	size_t row_count = host->table_row_count(table);
	for (size_t row = 0; row < row_count; row++) {
		const memscope_value *values = host->table_row_at(table, row);
		if (!values)
			continue;
		open_container(writer, '[', true);
		for (size_t i = 0; i < column_count; i++) {
			int error = write_value(export, columns[i].type, &values[i]);
			if (error < 0)
				return error;
		}
		close_container(writer, ']');
	}
	close_container(writer, ']');
	close_container(writer, '}');
	return 0;
}

static int write_results(struct export *export, const memscope_results *const *results,
                         size_t count)
{
	const memscope_host *host = export->host;
	struct writer *writer = &export->writer;

	write_key(writer, "results");
	open_container(writer, '[', false);
	for (size_t r = 0; r < count; r++) {
		if (!results[r])
			continue;
		open_container(writer, '{', false);
		write_key_string(writer, "analyzer", host->results_analyzer(results[r]));

		write_key(writer, "tables");
		open_container(writer, '[', false);
		size_t table_count = host->table_count(results[r]);
		for (size_t t = 0; t < table_count; t++) {
			const memscope_table *table = host->table_at(results[r], t);
			if (!table)
				continue;
			int error = write_table(export, table);
			if (error < 0)
				return error;
		}
		close_container(writer, ']');

		write_key(writer, "findings");
		open_container(writer, '[', false);
		size_t finding_count = host->finding_count(results[r]);
		for (size_t f = 0; f < finding_count; f++) {
			memscope_severity severity = MEMSCOPE_SEVERITY_INFO;
			const char *text = host->finding_at(results[r], f, &severity);
			open_container(writer, '{', true);
			write_key_string(writer, "severity", exporter_severity_name(severity, "unknown"));
			write_key_string(writer, "text", text);
			close_container(writer, '}');
		}
		close_container(writer, ']');
		close_container(writer, '}');
	}
	close_container(writer, ']');
	return 0;
}

static void write_stacks(struct export *export)
{
	struct writer *writer = &export->writer;
	exporter_stack_ids_settle(&export->stacks);

	write_key(writer, "stacks");
	open_container(writer, '{', false);
	for (size_t i = 0; i < export->stacks.count; i++) {
		uint32_t id = export->stacks.ids[i];
		char key[16];
		snprintf(key, sizeof(key), "%" PRIu32, id);
		const memscope_frame *frames;
		size_t frame_count = exporter_stack_frames(export->host, export->capture, id, &frames);

		write_key(writer, key);
		open_container(writer, '[', false);
		for (size_t f = 0; f < frame_count; f++) {
			const memscope_frame *frame = &frames[f];
			open_container(writer, '{', true);
			write_key_string(writer, "function", frame->function);
			write_key_string(writer, "file", frame->file);
			write_key_unsigned(writer, "line", frame->line);
			write_key_bool(writer, "inlined", frame->inlined);
			write_key_string(writer, "module", frame->module);
			write_key_unsigned(writer, "offset", frame->module_offset);
			close_container(writer, '}');
		}
		close_container(writer, ']');
	}
	close_container(writer, '}');
}

static void write_threads(struct export *export)
{
	struct writer *writer = &export->writer;
	uint32_t threads = exporter_summary(export->host, export->capture)->threads;

	write_key(writer, "threads");
	open_container(writer, '{', false);
	for (uint32_t thread = 0; thread < threads; thread++) {
		char key[16];
		snprintf(key, sizeof(key), "%" PRIu32, thread);
		write_key_string(writer, key, export->host->thread_name(export->capture, thread));
	}
	close_container(writer, '}');
}

/* ---- tasks ------------------------------------------------------------ */

/* Whether the document has a "tasks" section: the capture says it has
 * tasks (0 from a host before ABI 1.2). */
static bool has_tasks(struct export *export)
{
	return memscope_summary_tasks(exporter_summary(export->host, export->capture)) > 0;
}

/* Groups the live blocks by task and stack in one walk, and names their
 * stacks for the stacks section.  Returns 0 or a negative errno. */
static int collect_task_leaks(struct export *export)
{
	struct exporter_task_leaks *leaks = &export->leaks;
	int error = exporter_task_leaks_collect(leaks, export->host, export->capture);
	if (error < 0)
		return error;
	for (size_t i = 0; i < leaks->count; i++) {
		error = exporter_stack_ids_add(&export->stacks, leaks->entries[i].stack);
		if (error < 0)
			return error;
	}
	return 0;
}

static int write_task(void *context, const memscope_task *task)
{
	struct export *export = context;
	struct writer *writer = &export->writer;
	const struct exporter_task_leaks *leaks = &export->leaks;

	open_container(writer, '{', true);
	write_key_unsigned(writer, "id", task->id);
	write_key_unsigned(writer, "parent", task->parent);
	write_key_string(writer, "name", task->name);
	write_key_string(writer, "origin", task->origin);
	write_key_unsigned(writer, "key", task->key);
	write_key_unsigned(writer, "began_on", task->began_on);
	write_key(writer, "threads");
	open_container(writer, '[', true);
	for (size_t i = 0; task->threads && i < task->thread_count; i++)
		write_unsigned(writer, task->threads[i]);
	close_container(writer, ']');
	write_key_unsigned(writer, "begin_ns", task->begin_ns);
	write_key_unsigned(writer, "end_ns", task->end_ns);
	write_key_bool(writer, "ended", task->ended);
	write_key_unsigned(writer, "children", task->children);
	write_key_unsigned(writer, "allocations", task->allocations);
	write_key_unsigned(writer, "allocated_bytes", task->allocated_bytes);
	write_key_unsigned(writer, "frees", task->frees);
	write_key_unsigned(writer, "freed_bytes", task->freed_bytes);
	write_key_unsigned(writer, "freed_by_others", task->freed_by_others);
	write_key_unsigned(writer, "freed_by_others_bytes", task->freed_by_others_bytes);
	write_key_unsigned(writer, "freed_of_others", task->freed_of_others);
	write_key_unsigned(writer, "freed_of_others_bytes", task->freed_of_others_bytes);
	write_key_unsigned(writer, "peak_bytes", task->peak_bytes);
	write_key_unsigned(writer, "peak_time_ns", task->peak_time_ns);
	write_key_unsigned(writer, "live_at_end_blocks", task->end_live_blocks);
	write_key_unsigned(writer, "live_at_end_bytes", task->end_live_bytes);
	write_key_unsigned(writer, "leaked_blocks", task->live_blocks);
	write_key_unsigned(writer, "leaked_bytes", task->live_bytes);
	const memscope_summary *summary = exporter_summary(export->host, export->capture);
	write_key_string(writer, "accuracy",
	                 memscope_accuracy_name(memscope_task_accuracy(task, summary)));

	/* Leaks of an id the host does not list are skipped. */
	size_t count;
	const struct exporter_task_leak *found = exporter_task_leaks_of(leaks, task->id, &count);
	write_key(writer, "leaks");
	open_container(writer, '[', true);
	for (size_t i = 0; i < count; i++) {
		const struct exporter_task_leak *leak = &found[i];
		open_container(writer, '{', true);
		write_key_unsigned(writer, "stack", leak->stack);
		write_key_unsigned(writer, "blocks", leak->blocks);
		write_key_unsigned(writer, "bytes", leak->bytes);
		write_key_string(writer, "accuracy",
		                 memscope_accuracy_name(memscope_tally_accuracy(&leak->tally)));
		close_container(writer, '}');
	}
	close_container(writer, ']');
	close_container(writer, '}');
	return 0;
}

/* "tasks": one object per task, in the order the host tells them (as
 * they finish), each on one line. */
static int write_tasks(struct export *export)
{
	struct writer *writer = &export->writer;
	write_key(writer, "tasks");
	open_container(writer, '[', false);
	int error = memscope_host_for_each_task(export->host, export->capture, write_task, export);
	close_container(writer, ']');
	/* A host that counts tasks but cannot list them: the section is empty. */
	return error < 0 && error != -ENOTSUP ? error : 0;
}

static void write_sample(struct writer *writer, const memscope_sample *sample, bool at_peak)
{
	open_container(writer, '{', true);
	write_key_unsigned(writer, "time_ns", sample->time_ns);
	write_key_unsigned(writer, "heap_live_bytes", sample->heap_live_bytes);
	write_key_unsigned(writer, "heap_live_blocks", sample->heap_live_blocks);
	write_key_unsigned(writer, "rss_bytes", sample->rss_bytes);
	write_key_unsigned(writer, "jemalloc_allocated", sample->jemalloc_allocated);
	write_key_unsigned(writer, "jemalloc_active", sample->jemalloc_active);
	write_key_unsigned(writer, "jemalloc_resident", sample->jemalloc_resident);
	write_key_unsigned(writer, "jemalloc_mapped", sample->jemalloc_mapped);
	write_key_unsigned(writer, "jemalloc_retained", sample->jemalloc_retained);
	write_key_unsigned(writer, "cpu_user_ns", sample->cpu_user_ns);
	write_key_unsigned(writer, "cpu_system_ns", sample->cpu_system_ns);
	write_key_unsigned(writer, "threads", sample->threads);
	if (at_peak)
		write_key_bool(writer, "at_peak", true);
	close_container(writer, '}');
}

/* The samples and the peak as a point of its own where no sample is it
 * (exporter_timeline_collect). */
static int write_timeline(struct export *export)
{
	struct writer *writer = &export->writer;
	struct exporter_timeline timeline = { 0 };
	int error = exporter_timeline_collect(&timeline, export->host, export->capture,
	                                      exporter_summary(export->host, export->capture));
	write_key(writer, "timeline");
	open_container(writer, '[', false);
	for (size_t i = 0; error >= 0 && i < timeline.count; i++)
		write_sample(writer, &timeline.samples[i], i == timeline.peak);
	close_container(writer, ']');
	exporter_timeline_finish(&timeline);
	return error < 0 ? error : 0;
}

/* Every slot the exporter calls, present in a host of version 1. */
static bool host_usable(const memscope_host *host)
{
	return host && host->version >= 1 && host->summary && host->for_each_sample &&
	       host->stack_frames && host->thread_name && host->table_count && host->table_at &&
	       host->table_name && host->table_title && host->table_columns &&
	       host->table_row_count && host->table_row_at && host->finding_count &&
	       host->finding_at && host->results_analyzer;
}

static int write_document(struct export *export, const memscope_results *const *results,
                          size_t count)
{
	struct writer *writer = &export->writer;
	open_container(writer, '{', false);
	write_key_string(writer, "schema", JSON_SCHEMA_NAME);
	write_key_unsigned(writer, "schema_version", JSON_SCHEMA_VERSION);
	write_summary(export);
	write_sampling_and_tracking(export);
	int error = write_results(export, results, count);
	if (error < 0)
		return error;
	bool tasks = has_tasks(export);
	if (tasks) {
		error = collect_task_leaks(export);
		if (error < 0)
			return error;
	}
	write_stacks(export);
	write_threads(export);
	if (tasks) {
		error = write_tasks(export);
		if (error < 0)
			return error;
	}
	error = write_timeline(export);
	if (error < 0)
		return error;
	close_container(writer, '}');
	put(writer, "\n");
	return writer->error;
}

static int write_json(const memscope_host *host, memscope_capture *capture,
                      const memscope_results *const *results, size_t count, FILE *out)
{
	if (!out || (count > 0 && !results))
		return -EINVAL;
	if (!host_usable(host))
		return -ENOTSUP;

	/* Numbers in the C locale whatever the host set: "0.5", never "0,5". */
	struct exporter_locale locale;
	if (exporter_locale_enter(&locale) < 0)
		return -ENOMEM;

	struct export export = {
		.host = host,
		.capture = capture,
		.writer = { .out = out },
	};
	int error = write_document(&export, results, count);

	exporter_locale_leave(&locale);
	exporter_stack_ids_finish(&export.stacks);
	exporter_task_leaks_finish(&export.leaks);
	return exporter_finish_output(out, error);
}

static const memscope_exporter json_exporter = {
	.version = MEMSCOPE_EXPORTER_VERSION,
	.name = "json",
	.extension = "json",
	.description = "the summary, analyzer results, their stacks and the timeline as JSON "
	               "(docs/json-schema.md)",
	.write = write_json,
};

static const memscope_exporter *const exporters[] = { &json_exporter, NULL };

MEMSCOPE_PLUGIN_DESCRIBE("json", "1.0", NULL, exporters)
