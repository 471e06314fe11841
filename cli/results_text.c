/* results_text.c - see results_text.h.  Columns are laid out to the width
 * of their widest cell; numbers right-aligned with thousands separators. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "results_text.h"

#define CELL 160
#define STACK_FRAMES_SHOWN 3

static void grouped(char *out, size_t size, uint64_t value)
{
	char digits[32];
	int length = snprintf(digits, sizeof digits, "%" PRIu64, value);
	size_t at = 0;
	for (int i = 0; i < length && at + 1 < size; i++) {
		if (i > 0 && (length - i) % 3 == 0 && at + 2 < size)
			out[at++] = ',';
		out[at++] = digits[i];
	}
	out[at] = '\0';
}

static void stack_text(const memscope_host *host, memscope_capture *capture, uint32_t stack,
                       char *out, size_t size)
{
	const memscope_frame *frames = NULL;
	size_t count = 0;
	out[0] = '\0';
	if (host->stack_frames(capture, stack, &frames, &count) < 0 || count == 0) {
		snprintf(out, size, "(no stack)");
		return;
	}
	size_t used = 0;
	for (size_t i = 0; i < count && i < STACK_FRAMES_SHOWN && used < size; i++) {
		const memscope_frame *frame = &frames[i];
		int written;
		if (frame->function && frame->file)
			written = snprintf(out + used, size - used, "%s%s (%s:%u)", i ? " <- " : "",
			                   frame->function, strrchr(frame->file, '/') ? strrchr(frame->file, '/') + 1
			                                                            : frame->file,
			                   frame->line);
		else if (frame->function)
			written = snprintf(out + used, size - used, "%s%s", i ? " <- " : "", frame->function);
		else
			written = snprintf(out + used, size - used, "%s??", i ? " <- " : "");
		if (written < 0)
			break;
		used += (size_t)written;
	}
	if (count > STACK_FRAMES_SHOWN && used + 8 < size)
		snprintf(out + used, size - used, " <- ...");
}

static void cell_text(const memscope_host *host, memscope_capture *capture,
                      const memscope_column *column, const memscope_value *value, char *out,
                      size_t size)
{
	switch (column->type) {
	case MEMSCOPE_COLUMN_TEXT:
		snprintf(out, size, "%s", value->text ? value->text : "");
		break;
	case MEMSCOPE_COLUMN_COUNT:
		grouped(out, size, value->count);
		break;
	case MEMSCOPE_COLUMN_BYTES: {
		char number[32];
		grouped(number, sizeof number, value->count);
		snprintf(out, size, "%s B", number);
		break;
	}
	case MEMSCOPE_COLUMN_TIME:
		snprintf(out, size, "%.0f ms", (double)value->count / 1e6);
		break;
	case MEMSCOPE_COLUMN_RATIO:
		snprintf(out, size, "%.1f%%", value->real * 100.0);
		break;
	case MEMSCOPE_COLUMN_STACK:
		stack_text(host, capture, value->stack, out, size);
		break;
	default:
		snprintf(out, size, "?");
	}
}

static bool right_aligned(const memscope_column *column)
{
	return column->type != MEMSCOPE_COLUMN_TEXT && column->type != MEMSCOPE_COLUMN_STACK;
}

static int print_table(const memscope_host *host, memscope_capture *capture,
                       const memscope_table *table, size_t max_rows, FILE *out)
{
	size_t columns = 0;
	const memscope_column *column = host->table_columns(table, &columns);
	size_t rows = host->table_row_count(table);
	size_t shown = max_rows != 0 && max_rows < rows ? max_rows : rows;
	size_t *widths = calloc(columns ? columns : 1, sizeof *widths);
	char (*cells)[CELL] = calloc((shown + 1) * (columns ? columns : 1), CELL);
	if (widths == NULL || cells == NULL) {
		free(widths);
		free(cells);
		return -ENOMEM;
	}
	for (size_t c = 0; c < columns; c++) {
		snprintf(cells[c], CELL, "%s", column[c].title ? column[c].title : column[c].name);
		widths[c] = strlen(cells[c]);
	}
	for (size_t r = 0; r < shown; r++) {
		const memscope_value *values = host->table_row_at(table, r);
		for (size_t c = 0; c < columns; c++) {
			char *cell = cells[(r + 1) * columns + c];
			cell_text(host, capture, &column[c], &values[c], cell, CELL);
			if (strlen(cell) > widths[c])
				widths[c] = strlen(cell);
		}
	}
	fprintf(out, "%s\n", host->table_title(table));
	for (size_t r = 0; r <= shown; r++) {
		fputs("  ", out);
		for (size_t c = 0; c < columns; c++) {
			const char *cell = cells[r * columns + c];
			bool last = c + 1 == columns;
			if (right_aligned(&column[c]))
				fprintf(out, "%*s%s", (int)widths[c], cell, last ? "" : "  ");
			else
				fprintf(out, "%-*s%s", last ? 0 : (int)widths[c], cell, last ? "" : "  ");
		}
		fputc('\n', out);
	}
	if (shown < rows)
		fprintf(out, "  ... %zu more rows (--top shows more)\n", rows - shown);
	free(widths);
	free(cells);
	return 0;
}

int results_print_text(const memscope_host *host, memscope_capture *capture,
                       const memscope_results *results, size_t max_rows, FILE *out)
{
	static const char *const severities[] = {
		[MEMSCOPE_SEVERITY_INFO] = "note",
		[MEMSCOPE_SEVERITY_WARNING] = "WARNING",
		[MEMSCOPE_SEVERITY_PROBLEM] = "PROBLEM",
	};
	fprintf(out, "== %s ==\n", host->results_analyzer(results));
	for (size_t i = 0; i < host->finding_count(results); i++) {
		memscope_severity severity = MEMSCOPE_SEVERITY_INFO;
		const char *text = host->finding_at(results, i, &severity);
		const char *label = (unsigned)severity <= MEMSCOPE_SEVERITY_PROBLEM && severity > 0
		                        ? severities[severity]
		                        : "note";
		fprintf(out, "%-8s %s\n", label, text);
	}
	for (size_t i = 0; i < host->table_count(results); i++) {
		int error = print_table(host, capture, host->table_at(results, i), max_rows, out);
		if (error < 0)
			return error;
	}
	return ferror(out) ? -EIO : 0;
}
