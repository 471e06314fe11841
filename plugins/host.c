/* host.c - the host table plugins call, and the one place the host calls
 * into a plugin's analyzers and exporters.  See host.h.
 */
#include "host.h"

#include <errno.h>

#include "capture_view.h"
#include "results.h"

/* Plugins index into this table by offset: a slot moved breaks every
 * plugin built before, so the layout of version 1 is pinned. */
_Static_assert(offsetof(memscope_host, version) == 0, "the host table starts with its version");
_Static_assert(offsetof(memscope_host, summary) == sizeof(void *),
               "the host table's first slot follows its version");
/* Plugins built before a struct grew read it by the old layout: fields
 * added in a later version only ever follow the ones before. */
_Static_assert(offsetof(memscope_summary, sample_interval) > offsetof(memscope_summary, truncated),
               "the summary's version 2 fields follow version 1's");
_Static_assert(offsetof(memscope_block, weight) > offsetof(memscope_block, tag_type),
               "a block's weight follows its version 1 fields");
_Static_assert(offsetof(memscope_event, weight) > offsetof(memscope_event, stack),
               "an event's weight follows its version 1 fields");
_Static_assert(offsetof(memscope_summary, tasks) > offsetof(memscope_summary, growths),
               "the summary's version 3 fields follow version 2's");
_Static_assert(offsetof(memscope_block, freed_by_task) > offsetof(memscope_block, weight),
               "a block's version 3 fields follow version 2's");
_Static_assert(offsetof(memscope_event, task) > offsetof(memscope_event, weight),
               "an event's tasks follow its version 2 fields");
_Static_assert(offsetof(memscope_block, allocated_event) > offsetof(memscope_block, freed_by_task),
               "a block's version 4 fields follow version 3's");
_Static_assert(offsetof(memscope_summary, peak_event) > offsetof(memscope_summary, live_accuracy),
               "the summary's version 6 field follows version 5's");
_Static_assert(offsetof(memscope_host, for_each_task) > offsetof(memscope_host, for_each_event),
               "the host's version 2 slots follow version 1's");

static const memscope_host host = {
	.version = MEMSCOPE_HOST_VERSION,
	.summary = capture_view_summary,
	.for_each_block = capture_view_for_each_block,
	.for_each_sample = capture_view_for_each_sample,
	.stack_frames = capture_view_stack_frames,
	.thread_name = capture_view_thread_name,
	.kind_name = capture_view_kind_name,
	.option = capture_view_option,
	.table_begin = results_table_begin,
	.table_row = results_table_row,
	.finding = results_finding,
	.table_count = results_table_count,
	.table_at = results_table_at,
	.table_name = results_table_name,
	.table_title = results_table_title,
	.table_columns = results_table_columns,
	.table_row_count = results_table_row_count,
	.table_row_at = results_table_row_at,
	.finding_count = results_finding_count,
	.finding_at = results_finding_at,
	.results_analyzer = results_analyzer,
	.for_each_event = capture_view_for_each_event,
	.for_each_task = capture_view_for_each_task,
	.task = capture_view_task,
};

const memscope_host *plugin_host(void)
{
	return &host;
}

/* run exists in every version of the analyzer descriptor; the check is
 * for a descriptor that claims none or left the slot empty. */
static int call_run(const memscope_analyzer *analyzer, struct memscope_capture *capture,
                    struct memscope_results *results)
{
	if (analyzer->version < 1 || !analyzer->run)
		return -ENOTSUP;
	return analyzer->run(&host, capture, results);
}

static int call_write(const memscope_exporter *exporter, struct memscope_capture *capture,
                      const struct memscope_results *const *results, size_t count, FILE *out)
{
	if (exporter->version < 1 || !exporter->write)
		return -ENOTSUP;
	return exporter->write(&host, capture, results, count, out);
}

int plugin_run_analyzer(const memscope_analyzer *analyzer, struct memscope_capture *capture,
                        struct memscope_results **out)
{
	if (!analyzer || !capture || !out)
		return -EINVAL;
	struct memscope_results *results;
	int error = results_create(analyzer->name, &results);
	if (error < 0)
		return error;
	*out = results;
	return call_run(analyzer, capture, results);
}

int plugin_run_exporter(const memscope_exporter *exporter, struct memscope_capture *capture,
                        const struct memscope_results *const *results, size_t count, FILE *out)
{
	if (!exporter || !capture || !out || (count > 0 && !results))
		return -EINVAL;
	return call_write(exporter, capture, results, count, out);
}
