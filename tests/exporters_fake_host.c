/* exporters_fake_host.c - the fake host of exporters_fake_host.h. */
#include "exporters_fake_host.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const memscope_summary *summary(memscope_capture *capture)
{
	return &capture->summary;
}

static int for_each_block(memscope_capture *capture, memscope_block_visitor visit, void *context)
{
	for (size_t i = 0; i < capture->block_count; i++) {
		int result = visit(context, &capture->blocks[i]);
		if (result != 0)
			return result;
	}
	return 0;
}

static int for_each_sample(memscope_capture *capture, memscope_sample_visitor visit,
                           void *context)
{
	for (size_t i = 0; i < capture->sample_count; i++) {
		int result = visit(context, &capture->samples[i]);
		if (result != 0)
			return result;
	}
	return 0;
}

static int stack_frames(memscope_capture *capture, uint32_t stack, const memscope_frame **frames,
                        size_t *count)
{
	for (size_t i = 0; i < capture->stack_count; i++) {
		if (capture->stacks[i].id == stack) {
			*frames = capture->stacks[i].frames;
			*count = capture->stacks[i].frame_count;
			return 0;
		}
	}
	return -ENOENT;
}

static const char *thread_name(memscope_capture *capture, uint32_t thread)
{
	return thread < capture->thread_count ? capture->thread_names[thread] : "?";
}

static int for_each_event(memscope_capture *capture, memscope_event_visitor visit, void *context)
{
	for (size_t i = 0; i < capture->event_count; i++) {
		int result = visit(context, &capture->events[i]);
		if (result != 0)
			return result;
	}
	return 0;
}

static int for_each_task(memscope_capture *capture, memscope_task_visitor visit, void *context)
{
	for (size_t i = 0; i < capture->task_count; i++) {
		int result = visit(context, &capture->tasks[i]);
		if (result != 0)
			return result;
	}
	return 0;
}

static const memscope_task *task(memscope_capture *capture, uint64_t id)
{
	for (size_t i = 0; i < capture->task_count; i++)
		if (capture->tasks[i].id == id)
			return &capture->tasks[i];
	return NULL;
}

static const char *kind_name(uint32_t kind)
{
	static const char *const names[] = { "malloc", "calloc", "realloc" };
	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

static const char *option(memscope_capture *capture, const char *key)
{
	(void)capture;
	(void)key;
	return NULL;
}

static size_t table_count(const memscope_results *results)
{
	return results->table_count;
}

static const memscope_table *table_at(const memscope_results *results, size_t index)
{
	return index < results->table_count ? &results->tables[index] : NULL;
}

static const char *table_name(const memscope_table *table)
{
	return table->name;
}

static const char *table_title(const memscope_table *table)
{
	return table->title;
}

static const memscope_column *table_columns(const memscope_table *table, size_t *count)
{
	*count = table->column_count;
	return table->columns;
}

static size_t table_row_count(const memscope_table *table)
{
	return table->row_count;
}

static const memscope_value *table_row_at(const memscope_table *table, size_t row)
{
	return row < table->row_count ? &table->values[row * table->column_count] : NULL;
}

static size_t finding_count(const memscope_results *results)
{
	return results->finding_count;
}

static const char *finding_at(const memscope_results *results, size_t index,
                              memscope_severity *severity)
{
	if (index >= results->finding_count)
		return NULL;
	*severity = results->findings[index].severity;
	return results->findings[index].text;
}

static const char *results_analyzer(const memscope_results *results)
{
	return results->analyzer;
}

static const memscope_host host = {
	.version = MEMSCOPE_HOST_VERSION,
	.summary = summary,
	.for_each_block = for_each_block,
	.for_each_sample = for_each_sample,
	.stack_frames = stack_frames,
	.thread_name = thread_name,
	.kind_name = kind_name,
	.option = option,
	.table_count = table_count,
	.table_at = table_at,
	.table_name = table_name,
	.table_title = table_title,
	.table_columns = table_columns,
	.table_row_count = table_row_count,
	.table_row_at = table_row_at,
	.finding_count = finding_count,
	.finding_at = finding_at,
	.results_analyzer = results_analyzer,
	.for_each_event = for_each_event,
	.for_each_task = for_each_task,
	.task = task,
};

const memscope_host *fake_host(void)
{
	return &host;
}

int fake_plugin_load(struct fake_plugin *plugin, const char *directory, const char *file_name,
                     const char *name)
{
	memset(plugin, 0, sizeof(*plugin));
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", directory, file_name);
	plugin->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!plugin->handle) {
		fprintf(stderr, "%s: %s\n", path, dlerror());
		return -ENOENT;
	}
	memscope_plugin_entry_fn entry;
	/* The only way from dlsym's void * to a function pointer ISO C allows. */
	void *symbol = dlsym(plugin->handle, MEMSCOPE_PLUGIN_ENTRY_NAME);
	memcpy(&entry, &symbol, sizeof(entry));
	if (!entry) {
		fprintf(stderr, "%s: no %s symbol\n", path, MEMSCOPE_PLUGIN_ENTRY_NAME);
		fake_plugin_unload(plugin);
		return -EPROTO;
	}
	plugin->info = entry(&host);
	if (!plugin->info || plugin->info->abi_major != MEMSCOPE_PLUGIN_ABI_MAJOR) {
		fprintf(stderr, "%s: not plugin ABI %d\n", path, MEMSCOPE_PLUGIN_ABI_MAJOR);
		fake_plugin_unload(plugin);
		return -EPROTO;
	}
	for (const memscope_exporter *const *exporter = plugin->info->exporters;
	     exporter && *exporter; exporter++) {
		if (strcmp((*exporter)->name, name) == 0) {
			plugin->exporter = *exporter;
			return 0;
		}
	}
	fprintf(stderr, "%s: no exporter named %s\n", path, name);
	fake_plugin_unload(plugin);
	return -ENOENT;
}

void fake_plugin_unload(struct fake_plugin *plugin)
{
	if (plugin->handle)
		dlclose(plugin->handle);
	memset(plugin, 0, sizeof(*plugin));
}

int fake_export(const struct fake_plugin *plugin, memscope_capture *capture,
                const memscope_results *const *results, size_t count, char **text,
                size_t *length)
{
	*text = NULL;
	*length = 0;
	FILE *out = open_memstream(text, length);
	if (!out)
		return -ENOMEM;
	int result = plugin->exporter->write(&host, capture, results, count, out);
	if (fclose(out) != 0 && result == 0)
		result = -EIO;
	return result;
}
