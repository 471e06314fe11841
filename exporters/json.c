/* json.c - the "json" exporter: the capture's summary, every analyzer's
 * tables and findings, the stacks those tables name and the timeline, as
 * one JSON document.  The layout is versioned and documented key by key in
 * docs/json-schema.md; bump JSON_SCHEMA_VERSION on any change a reader of
 * the previous layout would misread.
 *
 * The output is a function of the input alone (no export time, no
 * addresses of our own, stack ids sorted, numbers formatted in the C
 * locale), so a golden-file test can compare bytes.
 */
#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <memscope/plugin.h>

#define JSON_SCHEMA_NAME "memscope-report"
#define JSON_SCHEMA_VERSION 1

/* Nesting of the document is fixed and shallow: top, results, result,
 * tables, table, rows, row. */
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

/* Length of the well-formed UTF-8 sequence at text, or 0 when the byte
 * there does not start one (stray continuation, overlong form, surrogate,
 * beyond U+10FFFF, cut short).  Bounds as in Unicode's table 3-7. */
static size_t utf8_sequence_length(const unsigned char *text)
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

/* A JSON string: quotes and backslashes escaped, control characters (and
 * DEL) as \uXXXX or their short escape, U+2028 and U+2029 escaped so the
 * document is also a valid JavaScript literal, other well-formed UTF-8
 * passed through, and each byte that is not part of well-formed UTF-8
 * replaced by \ufffd.  NULL is null. */
static void write_string_raw(FILE *out, const char *text)
{
	if (!text) {
		fputs("null", out);
		return;
	}
	const unsigned char *cursor = (const unsigned char *)text;
	fputc('"', out);
	while (*cursor) {
		unsigned char c = *cursor;
		switch (c) {
		case '"': fputs("\\\"", out); cursor++; continue;
		case '\\': fputs("\\\\", out); cursor++; continue;
		case '\b': fputs("\\b", out); cursor++; continue;
		case '\f': fputs("\\f", out); cursor++; continue;
		case '\n': fputs("\\n", out); cursor++; continue;
		case '\r': fputs("\\r", out); cursor++; continue;
		case '\t': fputs("\\t", out); cursor++; continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f) {
			fprintf(out, "\\u%04x", c);
			cursor++;
			continue;
		}
		size_t length = utf8_sequence_length(cursor);
		if (length == 0) {
			fputs("\\ufffd", out);
			cursor++;
		} else if (length == 3 && c == 0xe2 && cursor[1] == 0x80 &&
		           (cursor[2] == 0xa8 || cursor[2] == 0xa9)) {
			fprintf(out, "\\u%04x", cursor[2] == 0xa8 ? 0x2028 : 0x2029);
			cursor += 3;
		} else {
			fwrite(cursor, 1, length, out);
			cursor += length;
		}
	}
	fputc('"', out);
}

static void write_key(struct writer *writer, const char *key)
{
	separate(writer);
	write_string_raw(writer->out, key);
	put(writer, ": ");
	writer->after_key = true;
}

static void write_string(struct writer *writer, const char *text)
{
	separate(writer);
	write_string_raw(writer->out, text);
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

/* ---- the stacks the tables name --------------------------------------- */

struct stack_set {
	uint32_t *ids;
	size_t count;
	size_t capacity;
};

static int stack_set_add(struct stack_set *set, uint32_t id)
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

/* Sorted, each id once. */
static void stack_set_settle(struct stack_set *set)
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

/* ---- the document ------------------------------------------------------ */

struct export {
	const memscope_host *host;
	memscope_capture *capture;
	struct writer writer;
	struct stack_set stacks;
};

static const char *type_name(memscope_column_type type)
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

static const char *severity_name(memscope_severity severity)
{
	switch (severity) {
	case MEMSCOPE_SEVERITY_INFO: return "info";
	case MEMSCOPE_SEVERITY_WARNING: return "warning";
	case MEMSCOPE_SEVERITY_PROBLEM: return "problem";
	}
	return "unknown";
}

static void write_summary(struct export *export)
{
	struct writer *writer = &export->writer;
	const memscope_summary *summary = export->host->summary(export->capture);
	static const memscope_summary nothing = { .version = MEMSCOPE_SUMMARY_VERSION };
	if (!summary)
		summary = &nothing;

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
	write_key_unsigned(writer, "live_blocks", summary->live_blocks);
	write_key_unsigned(writer, "live_bytes", summary->live_bytes);
	write_key_unsigned(writer, "threads", summary->threads);
	write_key_bool(writer, "ended_cleanly", summary->ended_cleanly);
	write_key_bool(writer, "truncated", summary->truncated);
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
		return stack_set_add(&export->stacks, value->stack);
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
		write_key_string(writer, "type", type_name(columns[i].type));
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
			write_key_string(writer, "severity", severity_name(severity));
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
	stack_set_settle(&export->stacks);

	write_key(writer, "stacks");
	open_container(writer, '{', false);
	for (size_t i = 0; i < export->stacks.count; i++) {
		uint32_t id = export->stacks.ids[i];
		char key[16];
		snprintf(key, sizeof(key), "%" PRIu32, id);
		const memscope_frame *frames = NULL;
		size_t frame_count = 0;
		if (export->host->stack_frames(export->capture, id, &frames, &frame_count) < 0 ||
		    !frames)
			frame_count = 0;

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
	const memscope_summary *summary = export->host->summary(export->capture);
	uint32_t threads = summary ? summary->threads : 0;

	write_key(writer, "threads");
	open_container(writer, '{', false);
	for (uint32_t thread = 0; thread < threads; thread++) {
		char key[16];
		snprintf(key, sizeof(key), "%" PRIu32, thread);
		write_key_string(writer, key, export->host->thread_name(export->capture, thread));
	}
	close_container(writer, '}');
}

static int write_sample(void *context, const memscope_sample *sample)
{
	struct writer *writer = context;
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
	close_container(writer, '}');
	return 0;
}

static int write_timeline(struct export *export)
{
	struct writer *writer = &export->writer;
	write_key(writer, "timeline");
	open_container(writer, '[', false);
	int error = export->host->for_each_sample(export->capture, write_sample, writer);
	close_container(writer, ']');
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
	int error = write_results(export, results, count);
	if (error < 0)
		return error;
	write_stacks(export);
	write_threads(export);
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
	locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (!c_locale)
		return -ENOMEM;
	locale_t previous = uselocale(c_locale);

	struct export export = {
		.host = host,
		.capture = capture,
		.writer = { .out = out },
	};
	int error = write_document(&export, results, count);

	uselocale(previous);
	freelocale(c_locale);
	free(export.stacks.ids);
	if (error < 0)
		return error;
	if (fflush(out) != 0 || ferror(out))
		return -EIO;
	return 0;
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
