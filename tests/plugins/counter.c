/* counter.c - the well-formed test plugin: an analyzer, "test_counter",
 * that counts the blocks still live per stack into one table and says how
 * many in one finding; and an exporter, "test_lines", that prints results
 * plainly so a test can compare them byte for byte.  Built against
 * plugin.h alone, as an out-of-tree plugin would be.
 */
#include <inttypes.h>
#include <stdio.h>

#include <memscope/plugin.h>

#define MAX_STACKS 64

struct live_stack {
	uint32_t stack;
	uint64_t blocks;
	uint64_t bytes;
};

struct tally {
	struct live_stack stacks[MAX_STACKS];
	size_t stack_count;
	uint64_t live_blocks;
	uint64_t live_bytes;
};

static int count_block(void *context, const memscope_block *block)
{
	struct tally *tally = context;
	if (block->freed)
		return 0;
	tally->live_blocks++;
	tally->live_bytes += block->size;
	size_t i = 0;
	while (i < tally->stack_count && tally->stacks[i].stack != block->stack)
		i++;
	if (i == tally->stack_count) {
		if (i == MAX_STACKS)
			return -1;
		tally->stacks[tally->stack_count++] = (struct live_stack){ block->stack, 0, 0 };
	}
	tally->stacks[i].blocks++;
	tally->stacks[i].bytes += block->size;
	return 0;
}

static int run(const memscope_host *host, memscope_capture *capture, memscope_results *results)
{
	struct tally tally = { .stack_count = 0 };
	int error = host->for_each_block(capture, count_block, &tally);
	if (error != 0)
		return error < 0 ? error : -1;

	static const memscope_column columns[] = {
		{ "function", "Function", MEMSCOPE_COLUMN_TEXT },
		{ "blocks", "Blocks", MEMSCOPE_COLUMN_COUNT },
		{ "bytes", "Bytes", MEMSCOPE_COLUMN_BYTES },
		{ "stack", "Stack", MEMSCOPE_COLUMN_STACK },
	};
	memscope_table *table = host->table_begin(results, "live_by_stack", "Live blocks by stack",
	                                          columns, 4);
	if (!table)
		return -12;
	for (size_t i = 0; i < tally.stack_count; i++) {
		const memscope_frame *frames;
		size_t frame_count;
		const char *function = "?";
		/* The text goes through a stack buffer: the host must copy it. */
		char text[128];
		if (host->stack_frames(capture, tally.stacks[i].stack, &frames, &frame_count) == 0 &&
		    frame_count > 0 && frames[0].function)
			function = frames[0].function;
		snprintf(text, sizeof(text), "%s", function);
		memscope_value row[4];
		row[0].text = text;
		row[1].count = tally.stacks[i].blocks;
		row[2].count = tally.stacks[i].bytes;
		row[3].stack = tally.stacks[i].stack;
		error = host->table_row(table, row);
		if (error < 0)
			return error;
	}

	const char *label = host->option(capture, "label");
	const memscope_summary *summary = host->summary(capture);
	char finding[256];
	snprintf(finding, sizeof(finding),
	         "%s: %" PRIu64 " of %" PRIu64 " blocks (%" PRIu64 " bytes) are still live",
	         label ? label : "test_counter", tally.live_blocks, summary->allocations,
	         tally.live_bytes);
	return host->finding(results, MEMSCOPE_SEVERITY_WARNING, finding);
}

static const char *severity_name(memscope_severity severity)
{
	switch (severity) {
	case MEMSCOPE_SEVERITY_INFO:
		return "info";
	case MEMSCOPE_SEVERITY_WARNING:
		return "warning";
	case MEMSCOPE_SEVERITY_PROBLEM:
		return "problem";
	}
	return "?";
}

static void write_value(FILE *out, memscope_column_type type, memscope_value value)
{
	switch (type) {
	case MEMSCOPE_COLUMN_TEXT:
		fputs(value.text ? value.text : "", out);
		break;
	case MEMSCOPE_COLUMN_COUNT:
	case MEMSCOPE_COLUMN_BYTES:
	case MEMSCOPE_COLUMN_TIME:
		fprintf(out, "%" PRIu64, value.count);
		break;
	case MEMSCOPE_COLUMN_RATIO:
		fprintf(out, "%.2f", value.real);
		break;
	case MEMSCOPE_COLUMN_STACK:
		fprintf(out, "#%" PRIu32, value.stack);
		break;
	}
}

static int write(const memscope_host *host, memscope_capture *capture,
                 const memscope_results *const *results, size_t count, FILE *out)
{
	fprintf(out, "%s\n", host->summary(capture)->program);
	for (size_t r = 0; r < count; r++) {
		size_t tables = host->table_count(results[r]);
		size_t findings = host->finding_count(results[r]);
		fprintf(out, "results of %s: %zu tables, %zu findings\n",
		        host->results_analyzer(results[r]), tables, findings);
		for (size_t t = 0; t < tables; t++) {
			const memscope_table *table = host->table_at(results[r], t);
			size_t column_count;
			const memscope_column *columns = host->table_columns(table, &column_count);
			fprintf(out, "%s (%s):", host->table_name(table), host->table_title(table));
			for (size_t c = 0; c < column_count; c++)
				fprintf(out, " %s", columns[c].name);
			fputc('\n', out);
			for (size_t row = 0; row < host->table_row_count(table); row++) {
				const memscope_value *values = host->table_row_at(table, row);
				for (size_t c = 0; c < column_count; c++) {
					fputs(c ? "," : "  ", out);
					write_value(out, columns[c].type, values[c]);
				}
				fputc('\n', out);
			}
		}
		for (size_t f = 0; f < findings; f++) {
			memscope_severity severity;
			const char *text = host->finding_at(results[r], f, &severity);
			fprintf(out, "%s: %s\n", severity_name(severity), text);
		}
	}
	return ferror(out) ? -5 : 0;
}

static const memscope_analyzer counter = {
	.version = MEMSCOPE_ANALYZER_VERSION,
	.name = "test_counter",
	.description = "Counts the blocks still live, per stack",
	.run = run,
};

static const memscope_exporter lines = {
	.version = MEMSCOPE_EXPORTER_VERSION,
	.name = "test_lines",
	.extension = "txt",
	.description = "Results as plain lines",
	.write = write,
};

static const memscope_analyzer *const analyzers[] = { &counter, NULL };
static const memscope_exporter *const exporters[] = { &lines, NULL };

MEMSCOPE_PLUGIN_DESCRIBE("test-counter", "1.2", analyzers, exporters)
