/* results.h - what an analyzer reports: named tables of typed rows, and
 * findings (sentences with a severity).  The analyzer writes them through
 * the host table (memscope_host.table_begin, table_row, finding); exporters
 * read them back through it.  Everything given is copied, so a plugin may
 * pass stack buffers.  Errors are negative errno values.
 */
#ifndef MEMSCOPE_PLUGINS_RESULTS_H
#define MEMSCOPE_PLUGINS_RESULTS_H

#include <stddef.h>

#include <memscope/plugin.h>

/* Empty results of the analyzer named analyzer (copied).  Returns 0 or
 * -ENOMEM. */
int results_create(const char *analyzer, struct memscope_results **out);

/* NULL is a no-op. */
void results_destroy(struct memscope_results *results);

/* ---- writing: the host table's slots ----------------------------------- */

/* NULL when out of memory, or when an argument is NULL, column_count is 0
 * or a column has an unknown type (a plugin's mistake must not become a
 * crash in an exporter). */
memscope_table *results_table_begin(memscope_results *results, const char *name,
                                    const char *title, const memscope_column *columns,
                                    size_t column_count);

/* Returns 0, -EINVAL (NULL table or values) or -ENOMEM. */
int results_table_row(memscope_table *table, const memscope_value *values);

/* Returns 0, -EINVAL (NULL results or text, unknown severity) or -ENOMEM. */
int results_finding(memscope_results *results, memscope_severity severity, const char *text);

/* ---- reading ----------------------------------------------------------- */

size_t results_table_count(const memscope_results *results);
const memscope_table *results_table_at(const memscope_results *results, size_t index);
const char *results_table_name(const memscope_table *table);
const char *results_table_title(const memscope_table *table);
const memscope_column *results_table_columns(const memscope_table *table, size_t *count);
size_t results_table_row_count(const memscope_table *table);
const memscope_value *results_table_row_at(const memscope_table *table, size_t row);
size_t results_finding_count(const memscope_results *results);
const char *results_finding_at(const memscope_results *results, size_t index,
                               memscope_severity *severity);
const char *results_analyzer(const memscope_results *results);

#endif
