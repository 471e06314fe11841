/* exporters_fake_host.h - a memscope_host over plain arrays, for testing
 * exporter plugins without the real host or a capture file: the test
 * fills a fake capture and fake results, loads an exporter from its .so
 * and writes into memory.
 *
 * The plugin ABI keeps memscope_capture, memscope_results and
 * memscope_table opaque; this fake gives them bodies of its own.
 */
#ifndef EXPORTERS_FAKE_HOST_H
#define EXPORTERS_FAKE_HOST_H

#include <memscope/plugin.h>

struct fake_stack {
	uint32_t id;
	const memscope_frame *frames;
	size_t frame_count;
};

struct memscope_capture {
	memscope_summary summary;
	const memscope_block *blocks;       /* in order of their end */
	size_t block_count;
	const memscope_sample *samples;     /* in time order */
	size_t sample_count;
	const struct fake_stack *stacks;
	size_t stack_count;
	const char *const *thread_names;
	size_t thread_count;
	const memscope_task *tasks;         /* in order of id; none: no tasks */
	size_t task_count;
	const memscope_event *events;       /* in the order the program made them */
	size_t event_count;
};

struct memscope_table {
	const char *name;
	const char *title;
	const memscope_column *columns;
	size_t column_count;
	const memscope_value *values;       /* row after row, column_count each */
	size_t row_count;
};

struct fake_finding {
	memscope_severity severity;
	const char *text;
};

struct memscope_results {
	const char *analyzer;
	const memscope_table *tables;
	size_t table_count;
	const struct fake_finding *findings;
	size_t finding_count;
};

/* The host table: reading slots only (exporters never emit results). */
const memscope_host *fake_host(void);

/* A loaded exporter plugin. */
struct fake_plugin {
	void *handle;
	const memscope_plugin_info *info;
	const memscope_exporter *exporter;
};

/* Loads directory/file_name and finds the exporter called name in it.
 * Returns 0, or -ENOENT (no such file or exporter) or -EPROTO (no entry
 * symbol, another ABI major); the reason is printed to stderr. */
int fake_plugin_load(struct fake_plugin *plugin, const char *directory, const char *file_name,
                     const char *name);

/* dlcloses the plugin; a plugin never loaded is a no-op. */
void fake_plugin_unload(struct fake_plugin *plugin);

/* Runs the exporter into memory: *text is a NUL-terminated malloc'd copy
 * of everything written (free it), *length its bytes.  Returns what write
 * returned, or -ENOMEM. */
int fake_export(const struct fake_plugin *plugin, memscope_capture *capture,
                const memscope_results *const *results, size_t count, char **text,
                size_t *length);

#endif
