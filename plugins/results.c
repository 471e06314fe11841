/* results.c - an analyzer's tables and findings, copied in and handed out
 * again to exporters.  See results.h for the contract.
 */
#include "results.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"

struct memscope_table {
	char *name;
	char *title;
	memscope_column *columns;  /* names and titles owned */
	size_t column_count;
	memscope_value *values;    /* row after row, column_count each; texts owned */
	size_t row_count;
	size_t row_capacity;
};

struct finding {
	memscope_severity severity;
	char *text;
};

struct memscope_results {
	char *analyzer;
	struct memscope_table **tables;
	size_t table_count;
	size_t table_capacity;
	struct finding *findings;
	size_t finding_count;
	size_t finding_capacity;
};

/* NULL stays NULL: a text cell or title a plugin left out. */
static int copy_text(const char *text, char **out)
{
	*out = NULL;
	if (!text)
		return 0;
	*out = strdup(text);
	return *out ? 0 : -ENOMEM;
}

static void table_destroy(struct memscope_table *table)
{
	if (!table)
		return;
	for (size_t row = 0; row < table->row_count; row++)
		for (size_t column = 0; column < table->column_count; column++)
			if (table->columns[column].type == MEMSCOPE_COLUMN_TEXT)
				free((char *)table->values[row * table->column_count + column].text);
	free(table->values);
	for (size_t column = 0; column < table->column_count; column++) {
		free((char *)table->columns[column].name);
		free((char *)table->columns[column].title);
	}
	free(table->columns);
	free(table->name);
	free(table->title);
	free(table);
}

int results_create(const char *analyzer, struct memscope_results **out)
{
	struct memscope_results *results = calloc(1, sizeof(*results));
	if (!results || copy_text(analyzer ? analyzer : "", &results->analyzer) < 0) {
		free(results);
		return -ENOMEM;
	}
	*out = results;
	return 0;
}

void results_destroy(struct memscope_results *results)
{
	if (!results)
		return;
	for (size_t i = 0; i < results->table_count; i++)
		table_destroy(results->tables[i]);
	free(results->tables);
	for (size_t i = 0; i < results->finding_count; i++)
		free(results->findings[i].text);
	free(results->findings);
	free(results->analyzer);
	free(results);
}

/* ---- writing ----------------------------------------------------------- */

static bool known_column_type(memscope_column_type type)
{
	return type >= MEMSCOPE_COLUMN_TEXT && type <= MEMSCOPE_COLUMN_STACK;
}

memscope_table *results_table_begin(memscope_results *results, const char *name,
                                    const char *title, const memscope_column *columns,
                                    size_t column_count)
{
	if (!results || !name || !columns || column_count == 0)
		return NULL;
	for (size_t i = 0; i < column_count; i++)
		if (!columns[i].name || !known_column_type(columns[i].type))
			return NULL;
	if (array_make_room((void **)&results->tables, &results->table_capacity, results->table_count,
	              sizeof(*results->tables)) < 0)
		return NULL;

	struct memscope_table *table = calloc(1, sizeof(*table));
	if (!table)
		return NULL;
	table->columns = calloc(column_count, sizeof(*table->columns));
	if (!table->columns)
		goto fail;
	/* Counted as they are filled, so a failure frees exactly what was copied. */
	for (size_t i = 0; i < column_count; i++) {
		memscope_column *column = &table->columns[i];
		table->column_count++;
		column->type = columns[i].type;
		if (copy_text(columns[i].name, (char **)&column->name) < 0 ||
		    copy_text(columns[i].title ? columns[i].title : columns[i].name,
		              (char **)&column->title) < 0)
			goto fail;
	}
	if (copy_text(name, &table->name) < 0 || copy_text(title ? title : name, &table->title) < 0)
		goto fail;
	results->tables[results->table_count++] = table;
	return table;
fail:
	table_destroy(table);
	return NULL;
}

int results_table_row(memscope_table *table, const memscope_value *values)
{
	if (!table || !values)
		return -EINVAL;
	if (table->row_count == table->row_capacity) {
		size_t wanted = table->row_capacity ? table->row_capacity * 2 : 16;
		memscope_value *grown =
		    realloc(table->values, wanted * table->column_count * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		table->values = grown;
		table->row_capacity = wanted;
	}
	memscope_value *row = &table->values[table->row_count * table->column_count];
	for (size_t column = 0; column < table->column_count; column++) {
		if (table->columns[column].type != MEMSCOPE_COLUMN_TEXT) {
			row[column] = values[column];
			continue;
		}
		char *text;
		if (copy_text(values[column].text, &text) < 0) {
			for (size_t done = 0; done < column; done++)
				if (table->columns[done].type == MEMSCOPE_COLUMN_TEXT)
					free((char *)row[done].text);
			return -ENOMEM;
		}
		row[column].text = text;
	}
	table->row_count++;
	return 0;
}

int results_finding(memscope_results *results, memscope_severity severity, const char *text)
{
	if (!results || !text || severity < MEMSCOPE_SEVERITY_INFO ||
	    severity > MEMSCOPE_SEVERITY_PROBLEM)
		return -EINVAL;
	if (array_make_room((void **)&results->findings, &results->finding_capacity,
	              results->finding_count, sizeof(*results->findings)) < 0)
		return -ENOMEM;
	char *copy;
	if (copy_text(text, &copy) < 0)
		return -ENOMEM;
	results->findings[results->finding_count++] = (struct finding){ severity, copy };
	return 0;
}

/* ---- reading ----------------------------------------------------------- */

size_t results_table_count(const memscope_results *results)
{
	return results ? results->table_count : 0;
}

const memscope_table *results_table_at(const memscope_results *results, size_t index)
{
	if (!results || index >= results->table_count)
		return NULL;
	return results->tables[index];
}

const char *results_table_name(const memscope_table *table)
{
	return table ? table->name : NULL;
}

const char *results_table_title(const memscope_table *table)
{
	return table ? table->title : NULL;
}

const memscope_column *results_table_columns(const memscope_table *table, size_t *count)
{
	if (count)
		*count = table ? table->column_count : 0;
	return table ? table->columns : NULL;
}

size_t results_table_row_count(const memscope_table *table)
{
	return table ? table->row_count : 0;
}

const memscope_value *results_table_row_at(const memscope_table *table, size_t row)
{
	if (!table || row >= table->row_count)
		return NULL;
	return &table->values[row * table->column_count];
}

size_t results_finding_count(const memscope_results *results)
{
	return results ? results->finding_count : 0;
}

const char *results_finding_at(const memscope_results *results, size_t index,
                               memscope_severity *severity)
{
	if (!results || index >= results->finding_count)
		return NULL;
	if (severity)
		*severity = results->findings[index].severity;
	return results->findings[index].text;
}

const char *results_analyzer(const memscope_results *results)
{
	return results ? results->analyzer : NULL;
}
