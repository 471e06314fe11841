/* test_analyzers.c - the leaks, hotspots and fragmentation analyzer plugins,
 * loaded as a host loads them (dlopen, the entry symbol) and run on
 * captures made up in this file, whose every number is known: the exact
 * rows, their order, and the exact text of the findings.
 *
 * The host here is a fake: memscope_host over arrays of blocks, samples and
 * stacks, and a results store, so the plugins are tested against the
 * header alone, as they are built.  argv[1] is the directory holding the
 * built leaks.so, hotspots.so and fragmentation.so.
 *
 * tests/meson.build:
 *
 *   test_analyzers = executable('test_analyzers', 'test_analyzers.c',
 *     include_directories: include_directories('../include'),
 *     c_args: sanitize_args,
 *     link_args: sanitize_args,
 *     dependencies: [check_dep, dl_dep])
 *   test('analyzers', test_analyzers,
 *     args: [meson.project_build_root() / 'analyzers'],
 *     depends: analyzer_modules,
 *     suite: 'unit')
 */
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memscope/plugin.h>

#define MS UINT64_C(1000000)
#define MIB (UINT64_C(1) << 20)
#define MAX_TABLES 8
#define MAX_FINDINGS 16
#define MAX_OPTIONS 4

static const char *plugin_dir;

/* ---- the fake capture ------------------------------------------------------ */

struct fake_stack {
	uint32_t id;
	const memscope_frame *frames;
	size_t frame_count;
};

struct memscope_capture {
	memscope_summary summary;
	const memscope_block *blocks;  /* in order of their end, as a host gives them */
	size_t block_count;
	const memscope_sample *samples;
	size_t sample_count;
	const struct fake_stack *stacks;
	size_t stack_count;
	const char *options[MAX_OPTIONS][2];
};

struct memscope_table {
	memscope_results *owner;
	char *name;
	char *title;
	memscope_column *columns;
	size_t column_count;
	memscope_value *values;    /* rows one after another; texts copied */
	size_t row_count;
};

struct memscope_results {
	struct memscope_table tables[MAX_TABLES];
	size_t table_count;
	memscope_severity severities[MAX_FINDINGS];
	char *findings[MAX_FINDINGS];
	size_t finding_count;
	size_t rows_before_failure;  /* table_row fails after this many; 0: never */
	size_t rows_written;
};

static const memscope_summary *fake_summary(memscope_capture *capture)
{
	return &capture->summary;
}

static int fake_for_each_block(memscope_capture *capture, memscope_block_visitor visit,
                               void *context)
{
	for (size_t i = 0; i < capture->block_count; i++) {
		int result = visit(context, &capture->blocks[i]);
		if (result)
			return result;
	}
	return 0;
}

static int fake_for_each_sample(memscope_capture *capture, memscope_sample_visitor visit,
                                void *context)
{
	for (size_t i = 0; i < capture->sample_count; i++) {
		int result = visit(context, &capture->samples[i]);
		if (result)
			return result;
	}
	return 0;
}

static int fake_stack_frames(memscope_capture *capture, uint32_t stack,
                             const memscope_frame **frames, size_t *count)
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

static const char *fake_thread_name(memscope_capture *capture, uint32_t thread)
{
	(void)capture;
	return thread == 0 ? "main" : "?";
}

static const char *fake_kind_name(uint32_t kind)
{
	return kind == 0 ? "malloc" : "?";
}

static const char *fake_option(memscope_capture *capture, const char *key)
{
	for (size_t i = 0; i < MAX_OPTIONS && capture->options[i][0]; i++)
		if (strcmp(capture->options[i][0], key) == 0)
			return capture->options[i][1];
	return NULL;
}

static memscope_table *fake_table_begin(memscope_results *results, const char *name,
                                        const char *title, const memscope_column *columns,
                                        size_t column_count)
{
	ck_assert_uint_lt(results->table_count, MAX_TABLES);
	struct memscope_table *table = &results->tables[results->table_count++];
	table->owner = results;
	table->name = strdup(name);
	table->title = strdup(title);
	table->columns = malloc(column_count * sizeof(*columns));
	ck_assert(table->name && table->title && table->columns);
	/* Deep copies: the plugin may be unloaded before the results are read. */
	for (size_t i = 0; i < column_count; i++) {
		table->columns[i].name = strdup(columns[i].name);
		table->columns[i].title = strdup(columns[i].title);
		table->columns[i].type = columns[i].type;
		ck_assert(table->columns[i].name && table->columns[i].title);
	}
	table->column_count = column_count;
	return table;
}

static int fake_table_row(memscope_table *table, const memscope_value *values)
{
	memscope_results *results = table->owner;
	if (results->rows_before_failure && results->rows_written == results->rows_before_failure)
		return -ENOMEM;
	results->rows_written++;
	size_t width = table->column_count;
	table->values = realloc(table->values, (table->row_count + 1) * width * sizeof(*values));
	ck_assert_ptr_nonnull(table->values);
	memscope_value *row = &table->values[table->row_count++ * width];
	memcpy(row, values, width * sizeof(*values));
	for (size_t i = 0; i < width; i++) {
		if (table->columns[i].type == MEMSCOPE_COLUMN_TEXT) {
			row[i].text = strdup(values[i].text);
			ck_assert_ptr_nonnull(row[i].text);
		}
	}
	return 0;
}

static int fake_finding(memscope_results *results, memscope_severity severity, const char *text)
{
	ck_assert_uint_lt(results->finding_count, MAX_FINDINGS);
	results->severities[results->finding_count] = severity;
	results->findings[results->finding_count] = strdup(text);
	ck_assert_ptr_nonnull(results->findings[results->finding_count]);
	results->finding_count++;
	return 0;
}

static const memscope_host fake_host = {
	.version = MEMSCOPE_HOST_VERSION,
	.summary = fake_summary,
	.for_each_block = fake_for_each_block,
	.for_each_sample = fake_for_each_sample,
	.stack_frames = fake_stack_frames,
	.thread_name = fake_thread_name,
	.kind_name = fake_kind_name,
	.option = fake_option,
	.table_begin = fake_table_begin,
	.table_row = fake_table_row,
	.finding = fake_finding,
};

static void results_finish(memscope_results *results)
{
	for (size_t t = 0; t < results->table_count; t++) {
		struct memscope_table *table = &results->tables[t];
		for (size_t r = 0; r < table->row_count; r++)
			for (size_t c = 0; c < table->column_count; c++)
				if (table->columns[c].type == MEMSCOPE_COLUMN_TEXT)
					free((char *)table->values[r * table->column_count + c].text);
		free(table->values);
		for (size_t c = 0; c < table->column_count; c++) {
			free((char *)table->columns[c].name);
			free((char *)table->columns[c].title);
		}
		free(table->columns);
		free(table->name);
		free(table->title);
	}
	for (size_t i = 0; i < results->finding_count; i++)
		free(results->findings[i]);
	memset(results, 0, sizeof(*results));
}

/* ---- loading a plugin ------------------------------------------------------ */

struct loaded {
	void *handle;
	const memscope_analyzer *analyzer;
};

static struct loaded load(const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s.so", plugin_dir, name);
	struct loaded loaded = {.handle = dlopen(path, RTLD_NOW | RTLD_LOCAL)};
	ck_assert_msg(loaded.handle, "dlopen %s: %s", path, dlerror());
	memscope_plugin_entry_fn entry;
	*(void **)&entry = dlsym(loaded.handle, MEMSCOPE_PLUGIN_ENTRY_NAME);
	ck_assert_msg(entry, "%s has no %s", path, MEMSCOPE_PLUGIN_ENTRY_NAME);
	const memscope_plugin_info *info = entry(&fake_host);
	ck_assert_ptr_nonnull(info);
	ck_assert_uint_eq(info->version, MEMSCOPE_PLUGIN_INFO_VERSION);
	ck_assert_uint_eq(info->abi_major, MEMSCOPE_PLUGIN_ABI_MAJOR);
	ck_assert_str_eq(info->name, name);
	ck_assert_ptr_null(info->exporters);
	ck_assert_ptr_nonnull(info->analyzers);
	ck_assert_ptr_nonnull(info->analyzers[0]);
	ck_assert_ptr_null(info->analyzers[1]);
	loaded.analyzer = info->analyzers[0];
	ck_assert_uint_eq(loaded.analyzer->version, MEMSCOPE_ANALYZER_VERSION);
	ck_assert_str_eq(loaded.analyzer->name, name);
	ck_assert_ptr_nonnull(loaded.analyzer->run);
	return loaded;
}

/* Loads the analyzer name, runs it on capture into results. */
static int run_analyzer(const char *name, memscope_capture *capture, memscope_results *results)
{
	struct loaded loaded = load(name);
	int error = loaded.analyzer->run(&fake_host, capture, results);
	dlclose(loaded.handle);
	return error;
}

static const struct memscope_table *table_named(const memscope_results *results,
                                                const char *name)
{
	for (size_t i = 0; i < results->table_count; i++)
		if (strcmp(results->tables[i].name, name) == 0)
			return &results->tables[i];
	ck_abort_msg("no table %s", name);
	return NULL;
}

static const memscope_value *row_at(const struct memscope_table *table, size_t row)
{
	ck_assert_uint_lt(row, table->row_count);
	return &table->values[row * table->column_count];
}

/* Checks a table's column names and types, in order. */
static void assert_columns(const struct memscope_table *table, const memscope_column *expected,
                           size_t count)
{
	ck_assert_uint_eq(table->column_count, count);
	for (size_t i = 0; i < count; i++) {
		ck_assert_str_eq(table->columns[i].name, expected[i].name);
		ck_assert_int_eq(table->columns[i].type, expected[i].type);
		ck_assert_ptr_nonnull(table->columns[i].title);
	}
}

static void assert_finding(const memscope_results *results, size_t index,
                           memscope_severity severity, const char *text)
{
	ck_assert_uint_lt(index, results->finding_count);
	ck_assert_int_eq(results->severities[index], severity);
	ck_assert_str_eq(results->findings[index], text);
}

static memscope_block block(uint32_t stack, uint32_t thread, uint64_t size, uint64_t usable,
                            uint64_t allocated_ns, uint64_t freed_ns, bool freed,
                            const char *tag_name)
{
	return (memscope_block){
		.version = MEMSCOPE_BLOCK_VERSION,
		.stack = stack,
		.address = 0x10000 + allocated_ns,
		.size = size,
		.usable = usable,
		.thread = thread,
		.allocated_ns = allocated_ns,
		.freed_ns = freed_ns,
		.freed = freed,
		.tag_name = tag_name,
		.tag_type = tag_name ? "struct thing" : NULL,
	};
}

static memscope_capture capture_of(const memscope_block *blocks, size_t block_count)
{
	return (memscope_capture){
		.summary = {.version = MEMSCOPE_SUMMARY_VERSION, .path = "fake.memscope",
		            .program = "fake", .backend = "exact", .duration_ns = 100 * MS,
		            .ended_cleanly = true},
		.blocks = blocks,
		.block_count = block_count,
	};
}

/* ---- leaks ----------------------------------------------------------------- */

#define END (100 * MS)

/* Stack 9: 3 blocks, 600 bytes; stack 3: 1 block, 150 bytes; stack 7: 3
 * tagged blocks, 150 bytes (a tie with stack 3, broken by stack id); stacks
 * 3 and 5 also freed blocks, which are not leaks. */
static const memscope_block *leaky_blocks(size_t *count)
{
	static memscope_block blocks[10];
	blocks[0] = block(3, 0, 4000, 4096, 1 * MS, 2 * MS, true, "freed");
	blocks[1] = block(5, 0, 64, 64, 2 * MS, 3 * MS, true, NULL);
	blocks[2] = block(9, 0, 200, 224, 500, END, false, NULL);
	blocks[3] = block(7, 1, 100, 112, 1000, END, false, "cache");
	blocks[4] = block(3, 0, 150, 160, 2000, END, false, NULL);
	blocks[5] = block(9, 1, 200, 224, 4000, END, false, NULL);
	blocks[6] = block(7, 0, 30, 32, 3000, END, false, "buffer");
	blocks[7] = block(9, 0, 200, 224, 2500, END, false, NULL);
	blocks[8] = block(7, 0, 20, 32, 1500, END, false, "cache");
	*count = 9;
	return blocks;
}

static const memscope_column leak_columns[] = {
	{"stack", NULL, MEMSCOPE_COLUMN_STACK},
	{"blocks", NULL, MEMSCOPE_COLUMN_COUNT},
	{"bytes", NULL, MEMSCOPE_COLUMN_BYTES},
	{"first_allocated", NULL, MEMSCOPE_COLUMN_TIME},
	{"last_allocated", NULL, MEMSCOPE_COLUMN_TIME},
	{"tags", NULL, MEMSCOPE_COLUMN_TEXT},
	{"accuracy", NULL, MEMSCOPE_COLUMN_TEXT},
};

static void assert_leak(const struct memscope_table *table, size_t index, uint32_t stack,
                        uint64_t blocks, uint64_t bytes, uint64_t first, uint64_t last,
                        const char *tags)
{
	const memscope_value *row = row_at(table, index);
	ck_assert_uint_eq(row[0].stack, stack);
	ck_assert_uint_eq(row[1].count, blocks);
	ck_assert_uint_eq(row[2].count, bytes);
	ck_assert_uint_eq(row[3].count, first);
	ck_assert_uint_eq(row[4].count, last);
	ck_assert_str_eq(row[5].text, tags);
	/* Every block of these captures weighs 1. */
	ck_assert_str_eq(row[6].text, "exact");
}

static const char reachability[] = "whether leaked blocks are still reachable from globals is "
                                   "not recorded in this capture; all are listed";

START_TEST(leaks_grouped_by_stack)
{
	size_t count;
	const memscope_block *blocks = leaky_blocks(&count);
	memscope_capture capture = capture_of(blocks, count);
	memscope_results results = {0};
	ck_assert_int_eq(run_analyzer("leaks", &capture, &results), 0);

	ck_assert_uint_eq(results.table_count, 1);
	const struct memscope_table *table = table_named(&results, "leaks");
	ck_assert_str_eq(table->title, "Leaks: blocks never freed");
	assert_columns(table, leak_columns, 7);
	ck_assert_uint_eq(table->row_count, 3);
	assert_leak(table, 0, 9, 3, 600, 500, 4000, "");
	assert_leak(table, 1, 3, 1, 150, 2000, 2000, "");
	assert_leak(table, 2, 7, 3, 150, 1000, 3000, "buffer, cache");

	ck_assert_uint_eq(results.finding_count, 2);
	assert_finding(&results, 0, MEMSCOPE_SEVERITY_PROBLEM, "7 blocks, 900 bytes leaked in 3 places");
	assert_finding(&results, 1, MEMSCOPE_SEVERITY_INFO, reachability);
	results_finish(&results);
}
END_TEST

START_TEST(leaks_after_an_unclean_end)
{
	size_t count;
	const memscope_block *blocks = leaky_blocks(&count);
	memscope_capture capture = capture_of(blocks, count);
	capture.summary.ended_cleanly = false;
	memscope_results results = {0};
	ck_assert_int_eq(run_analyzer("leaks", &capture, &results), 0);

	const struct memscope_table *table = table_named(&results, "leaks");
	ck_assert_str_eq(table->title, "Live at the end");
	ck_assert_uint_eq(table->row_count, 3);
	assert_leak(table, 0, 9, 3, 600, 500, 4000, "");
	ck_assert_uint_eq(results.finding_count, 2);
	assert_finding(&results, 0, MEMSCOPE_SEVERITY_WARNING,
	               "the program did not end cleanly (the capture has no trailer), so the 7 "
	               "blocks, 900 bytes live at the end in 3 places are not all leaks");
	assert_finding(&results, 1, MEMSCOPE_SEVERITY_INFO, reachability);
	results_finish(&results);

	capture.summary.truncated = true;
	ck_assert_int_eq(run_analyzer("leaks", &capture, &results), 0);
	assert_finding(&results, 0, MEMSCOPE_SEVERITY_WARNING,
	               "the program did not end cleanly (the capture is cut short), so the 7 "
	               "blocks, 900 bytes live at the end in 3 places are not all leaks");
	results_finish(&results);
}
END_TEST

START_TEST(no_leaks)
{
	memscope_block blocks[] = {
		block(1, 0, 10, 16, 1 * MS, 2 * MS, true, NULL),
		block(2, 0, 20, 32, 1 * MS, 3 * MS, true, "tagged"),
	};
	memscope_capture capture = capture_of(blocks, 2);
	memscope_results results = {0};
	ck_assert_int_eq(run_analyzer("leaks", &capture, &results), 0);
	ck_assert_uint_eq(table_named(&results, "leaks")->row_count, 0);
	ck_assert_uint_eq(results.finding_count, 1);
	assert_finding(&results, 0, MEMSCOPE_SEVERITY_INFO, "no leaks: every block allocated was freed");
	results_finish(&results);
}
END_TEST

/* With no leak among the blocks, a sampled capture says no leaked block
 * was sampled, and one without a trailer that nothing was live when it
 * ends: neither may say that every block was freed. */
START_TEST(no_leaks_said_only_when_seen)
{
	memscope_block blocks[] = {
		block(1, 0, 10, 16, 1 * MS, 2 * MS, true, NULL),
		block(2, 0, 20, 32, 1 * MS, 3 * MS, true, NULL),
	};
	memscope_capture capture = capture_of(blocks, 2);
	capture.summary.sample_interval = 1000;
	memscope_results results = {0};
	ck_assert_int_eq(run_analyzer("leaks", &capture, &results), 0);
	ck_assert_uint_eq(results.finding_count, 1);
	assert_finding(&results, 0, MEMSCOPE_SEVERITY_INFO,
	               "no leaked block was sampled; leaks smaller than the sampling interval may "
	               "be missed");
	results_finish(&results);

	capture = capture_of(blocks, 2);
	capture.summary.ended_cleanly = false;
	results = (memscope_results){0};
	ck_assert_int_eq(run_analyzer("leaks", &capture, &results), 0);
	ck_assert_uint_ge(results.finding_count, 1);
	assert_finding(&results, 0, MEMSCOPE_SEVERITY_WARNING,
	               "the program did not end cleanly (the capture has no trailer): no block was "
	               "live when the capture ends, but blocks it held when it stopped may not have "
	               "been recorded");
	results_finish(&results);
}
END_TEST

START_TEST(one_big_leak_in_words)
{
	memscope_block blocks[] = {block(4, 0, 3 * MIB / 2, 3 * MIB / 2, 7, END, false, NULL)};
	memscope_capture capture = capture_of(blocks, 1);
	memscope_results results = {0};
	ck_assert_int_eq(run_analyzer("leaks", &capture, &results), 0);
	assert_leak(table_named(&results, "leaks"), 0, 4, 1, 3 * MIB / 2, 7, 7, "");
	assert_finding(&results, 0, MEMSCOPE_SEVERITY_PROBLEM,
	               "1 block, 1,572,864 bytes (1.5 MiB) leaked in 1 place");
	results_finish(&results);
}
END_TEST

START_TEST(leaks_many_stacks)
{
	/* Enough stacks to grow the index several times; each stack s leaks
	 * s + 1 blocks of 8 bytes, so the order is by stack, descending. */
	enum { STACKS = 300 };
	size_t count = STACKS * (STACKS + 1) / 2;
	memscope_block *blocks = calloc(count, sizeof(*blocks));
	ck_assert_ptr_nonnull(blocks);
	size_t at = 0;
	for (uint32_t round = 0; round < STACKS; round++)
		for (uint32_t stack = round; stack < STACKS; stack++)
			blocks[at++] = block(stack, 0, 8, 8, round, END, false, NULL);
	ck_assert_uint_eq(at, count);
	memscope_capture capture = capture_of(blocks, count);
	memscope_results results = {0};
	ck_assert_int_eq(run_analyzer("leaks", &capture, &results), 0);
	const struct memscope_table *table = table_named(&results, "leaks");
	ck_assert_uint_eq(table->row_count, STACKS);
	for (size_t i = 0; i < STACKS; i++) {
		uint32_t stack = STACKS - 1 - (uint32_t)i;
		assert_leak(table, i, stack, stack + 1, 8 * (stack + 1), 0, stack, "");
	}
	assert_finding(&results, 0, MEMSCOPE_SEVERITY_PROBLEM,
	               "45,150 blocks, 361,200 bytes (352.7 KiB) leaked in 300 places");
	results_finish(&results);
	free(blocks);
}
END_TEST

START_TEST(leaks_out_of_memory_is_reported)
{
	size_t count;
	const memscope_block *blocks = leaky_blocks(&count);
	memscope_capture capture = capture_of(blocks, count);
	memscope_results results = {.rows_before_failure = 1};
	ck_assert_int_eq(run_analyzer("leaks", &capture, &results), -ENOMEM);
	ck_assert_uint_eq(table_named(&results, "leaks")->row_count, 1);
	results_finish(&results);
}
END_TEST

START_TEST(host_without_results_is_refused)
{
	size_t count;
	const memscope_block *blocks = leaky_blocks(&count);
	memscope_capture capture = capture_of(blocks, count);
	memscope_host host = fake_host;
	host.table_begin = NULL;
	static const char *const names[] = {"leaks", "hotspots", "fragmentation"};
	for (size_t i = 0; i < 3; i++) {
		struct loaded loaded = load(names[i]);
		memscope_results results = {0};
		ck_assert_int_eq(loaded.analyzer->run(&host, &capture, &results), -ENOTSUP);
		ck_assert_uint_eq(results.finding_count, 0);
		dlclose(loaded.handle);
	}
}
END_TEST

/* ---- hotspots -------------------------------------------------------------- */

/* Thread 0: a (stack 1, 1-2 ms) then b (stack 1, from 2 ms, never freed):
 * a's free and b's allocation share a tick and cannot be ordered, so a is
 * temporary.  c (stack 2, 3-6 ms) holds d (stack 2, 4-5 ms): c is not
 * temporary, d is.  e (stack 3, 7-8 ms) and f (stack 3, 8-8 ms): f ended
 * first, so it was allocated and freed inside e's life: e is not
 * temporary; f is.  Thread 1: g (stack 1, 3-3 ms) and h (stack 4, 4-9 ms)
 * are temporary: thread 1 allocates nothing else.
 *
 * Peak at 5 ms: b (100, stack 1), c (1000, stack 2) and h (5000, stack 4)
 * are live; d, freed in the peak's tick, is not counted; 6100 bytes. */
static const memscope_block *hot_blocks(size_t *count)
{
	static memscope_block blocks[8];
	blocks[0] = block(1, 0, 100, 112, 1 * MS, 2 * MS, true, NULL);   /* a */
	blocks[1] = block(1, 1, 100, 112, 3 * MS, 3 * MS, true, NULL);   /* g */
	blocks[2] = block(2, 0, 10, 16, 4 * MS, 5 * MS, true, NULL);     /* d */
	blocks[3] = block(2, 0, 1000, 1024, 3 * MS, 6 * MS, true, NULL); /* c */
	blocks[4] = block(3, 0, 50, 64, 8 * MS, 8 * MS, true, NULL);     /* f */
	blocks[5] = block(3, 0, 50, 64, 7 * MS, 8 * MS, true, NULL);     /* e */
	blocks[6] = block(4, 1, 5000, 5120, 4 * MS, 9 * MS, true, NULL); /* h */
	blocks[7] = block(1, 0, 100, 112, 2 * MS, END, false, NULL);     /* b */
	*count = 8;
	return blocks;
}

static const memscope_frame make_node_frames[] = {
	{.version = MEMSCOPE_FRAME_VERSION, .function = "make_node", .file = "tree.c", .line = 12},
	{.version = MEMSCOPE_FRAME_VERSION, .function = "main", .file = "main.c", .line = 3},
};
static const memscope_frame read_file_frames[] = {
	{.version = MEMSCOPE_FRAME_VERSION, .function = "read_file", .file = "io.c", .line = 40},
};
static const memscope_frame make_node_inlined_frames[] = {
	{.version = MEMSCOPE_FRAME_VERSION, .function = "make_node", .inlined = true},
	{.version = MEMSCOPE_FRAME_VERSION, .function = "build_tree"},
};
static const memscope_frame unknown_frames[] = {
	{.version = MEMSCOPE_FRAME_VERSION, .function = NULL, .module = "libfoo.so"},
};

static const struct fake_stack hot_stacks[] = {
	{1, make_node_frames, 2},
	{2, read_file_frames, 1},
	{3, make_node_inlined_frames, 2},
	{4, unknown_frames, 1},
};

static memscope_capture hot_capture(void)
{
	size_t count;
	const memscope_block *blocks = hot_blocks(&count);
	memscope_capture capture = capture_of(blocks, count);
	capture.summary.peak_time_ns = 5 * MS;
	capture.summary.peak_bytes = 6100;
	capture.stacks = hot_stacks;
	capture.stack_count = 4;
	return capture;
}

static const memscope_column site_columns[] = {
	{"stack", NULL, MEMSCOPE_COLUMN_STACK},
	{"allocations", NULL, MEMSCOPE_COLUMN_COUNT},
	{"bytes", NULL, MEMSCOPE_COLUMN_BYTES},
	{"peak_bytes", NULL, MEMSCOPE_COLUMN_BYTES},
	{"temporary", NULL, MEMSCOPE_COLUMN_COUNT},
	{"accuracy", NULL, MEMSCOPE_COLUMN_TEXT},
};

static const memscope_column function_columns[] = {
	{"function", NULL, MEMSCOPE_COLUMN_TEXT},
	{"allocations", NULL, MEMSCOPE_COLUMN_COUNT},
	{"bytes", NULL, MEMSCOPE_COLUMN_BYTES},
	{"accuracy", NULL, MEMSCOPE_COLUMN_TEXT},
};

static void assert_site(const struct memscope_table *table, size_t index, uint32_t stack,
                        uint64_t allocations, uint64_t bytes, uint64_t peak_bytes,
                        uint64_t temporary)
{
	const memscope_value *row = row_at(table, index);
	ck_assert_uint_eq(row[0].stack, stack);
	ck_assert_uint_eq(row[1].count, allocations);
	ck_assert_uint_eq(row[2].count, bytes);
	ck_assert_uint_eq(row[3].count, peak_bytes);
	ck_assert_uint_eq(row[4].count, temporary);
	ck_assert_str_eq(row[5].text, "exact");
}

static void assert_function(const struct memscope_table *table, size_t index,
                            const char *function, uint64_t allocations, uint64_t bytes)
{
	const memscope_value *row = row_at(table, index);
	ck_assert_str_eq(row[0].text, function);
	ck_assert_uint_eq(row[1].count, allocations);
	ck_assert_uint_eq(row[2].count, bytes);
	ck_assert_str_eq(row[3].text, "exact");
}

static const char hot_summary[] =
    "8 allocations, 6,410 bytes (6.3 KiB) from 4 sites; at most 5 of them (62.5%) were "
    "temporary";

START_TEST(hotspots_sites_peak_and_temporary)
{
	memscope_capture capture = hot_capture();
	memscope_results results = {0};
	ck_assert_int_eq(run_analyzer("hotspots", &capture, &results), 0);
	ck_assert_uint_eq(results.table_count, 3);

	const struct memscope_table *sites = table_named(&results, "sites");
	assert_columns(sites, site_columns, 6);
	ck_assert_uint_eq(sites->row_count, 4);
	assert_site(sites, 0, 1, 3, 300, 100, 2);
	assert_site(sites, 1, 2, 2, 1010, 1000, 1);
	assert_site(sites, 2, 3, 2, 100, 0, 1);
	assert_site(sites, 3, 4, 1, 5000, 5000, 1);

	const struct memscope_table *by_bytes = table_named(&results, "sites_by_bytes");
	assert_columns(by_bytes, site_columns, 6);
	ck_assert_uint_eq(by_bytes->row_count, 4);
	assert_site(by_bytes, 0, 4, 1, 5000, 5000, 1);
	assert_site(by_bytes, 1, 2, 2, 1010, 1000, 1);
	assert_site(by_bytes, 2, 1, 3, 300, 100, 2);
	assert_site(by_bytes, 3, 3, 2, 100, 0, 1);

	const struct memscope_table *functions = table_named(&results, "functions");
	assert_columns(functions, function_columns, 4);
	ck_assert_uint_eq(functions->row_count, 3);
	assert_function(functions, 0, "make_node", 5, 400);
	assert_function(functions, 1, "read_file", 2, 1010);
	assert_function(functions, 2, "??", 1, 5000);

	/* The sites' peak bytes add up to the capture's peak: no caveat. */
	ck_assert_uint_eq(results.finding_count, 1);
	assert_finding(&results, 0, MEMSCOPE_SEVERITY_INFO, hot_summary);
	results_finish(&results);
}
END_TEST

START_TEST(hotspots_peak_that_does_not_add_up)
{
	memscope_capture capture = hot_capture();
	capture.summary.peak_bytes = 6110;
	memscope_results results = {0};
	ck_assert_int_eq(run_analyzer("hotspots", &capture, &results), 0);
	ck_assert_uint_eq(results.finding_count, 2);
	assert_finding(&results, 1, MEMSCOPE_SEVERITY_INFO,
	               "the sites' bytes live at the peak add up to 6,100 bytes (6.0 KiB), not the "
	               "capture's peak of 6,110 bytes (6.0 KiB): blocks allocated or freed in the "
	               "peak's clock tick cannot be ordered against it, and a resized block counts "
	               "with its last size");
	results_finish(&results);
}
END_TEST

START_TEST(hotspots_top_option)
{
	memscope_capture capture = hot_capture();
	capture.options[0][0] = "top";
	capture.options[0][1] = "2";
	memscope_results results = {0};
	ck_assert_int_eq(run_analyzer("hotspots", &capture, &results), 0);
	const struct memscope_table *sites = table_named(&results, "sites");
	ck_assert_uint_eq(sites->row_count, 2);
	assert_site(sites, 0, 1, 3, 300, 100, 2);
	assert_site(sites, 1, 2, 2, 1010, 1000, 1);
	const struct memscope_table *by_bytes = table_named(&results, "sites_by_bytes");
	ck_assert_uint_eq(by_bytes->row_count, 2);
	assert_site(by_bytes, 0, 4, 1, 5000, 5000, 1);
	ck_assert_uint_eq(table_named(&results, "functions")->row_count, 2);
	/* Totals are over every site, not the rows shown. */
	assert_finding(&results, 0, MEMSCOPE_SEVERITY_INFO, hot_summary);
	results_finish(&results);

	capture.options[0][1] = "0";
	ck_assert_int_eq(run_analyzer("hotspots", &capture, &results), 0);
	ck_assert_uint_eq(table_named(&results, "sites")->row_count, 4);
	results_finish(&results);

	capture.options[0][1] = "ten";
	ck_assert_int_eq(run_analyzer("hotspots", &capture, &results), 0);
	ck_assert_uint_eq(table_named(&results, "sites")->row_count, 4);
	assert_finding(&results, 0, MEMSCOPE_SEVERITY_WARNING,
	               "option top=\"ten\" is not a whole number; showing the top 20 (give "
	               "--option top=N, or top=0 for every row)");
	assert_finding(&results, 1, MEMSCOPE_SEVERITY_INFO, hot_summary);
	results_finish(&results);

	capture.options[0][1] = "-3";
	ck_assert_int_eq(run_analyzer("hotspots", &capture, &results), 0);
	ck_assert_int_eq(results.severities[0], MEMSCOPE_SEVERITY_WARNING);
	results_finish(&results);
}
END_TEST

START_TEST(hotspots_default_top_is_twenty)
{
	enum { STACKS = 25 };
	memscope_block blocks[STACKS];
	for (uint32_t i = 0; i < STACKS; i++)
		blocks[i] = block(i, 0, 16 * (i + 1), 16 * (i + 1), i * MS, END, false, NULL);
	memscope_capture capture = capture_of(blocks, STACKS);
	memscope_results results = {0};
	ck_assert_int_eq(run_analyzer("hotspots", &capture, &results), 0);
	const struct memscope_table *sites = table_named(&results, "sites");
	ck_assert_uint_eq(sites->row_count, 20);
	/* One allocation each: more bytes first, as the tie-break. */
	assert_site(sites, 0, 24, 1, 400, 0, 0);
	assert_site(sites, 19, 5, 1, 96, 0, 0);
	/* No frames for any stack: they all merge under "??". */
	const struct memscope_table *functions = table_named(&results, "functions");
	ck_assert_uint_eq(functions->row_count, 1);
	assert_function(functions, 0, "??", 25, 16 * 25 * 26 / 2);
	results_finish(&results);
}
END_TEST

START_TEST(hotspots_empty_capture)
{
	memscope_capture capture = capture_of(NULL, 0);
	memscope_results results = {0};
	ck_assert_int_eq(run_analyzer("hotspots", &capture, &results), 0);
	ck_assert_uint_eq(table_named(&results, "sites")->row_count, 0);
	ck_assert_uint_eq(table_named(&results, "functions")->row_count, 0);
	ck_assert_uint_eq(results.finding_count, 1);
	assert_finding(&results, 0, MEMSCOPE_SEVERITY_INFO, "the capture holds no allocations");
	results_finish(&results);
}
END_TEST

/* ---- fragmentation ----------------------------------------------------------- */

static const memscope_block *padded_blocks(size_t *count)
{
	static memscope_block blocks[7];
	blocks[0] = block(1, 0, 10, 16, 1 * MS, 2 * MS, true, NULL);
	blocks[1] = block(1, 0, 100, 112, 1 * MS, 3 * MS, true, NULL);
	blocks[2] = block(2, 0, 16, 16, 2 * MS, 4 * MS, true, NULL);
	blocks[3] = block(3, 0, 4000, 4096, 2 * MS, END, false, NULL);
	blocks[4] = block(1, 0, 97, 112, 3 * MS, END, false, NULL);
	blocks[5] = block(1, 0, 10, 16, 3 * MS, END, false, NULL);
	/* Usable below requested: a damaged record, counted as no padding. */
	blocks[6] = block(4, 0, 50, 48, 4 * MS, END, false, NULL);
	*count = 7;
	return blocks;
}

static memscope_sample sample(uint64_t time_ns, uint64_t live, uint64_t allocated,
                              uint64_t active, uint64_t resident)
{
	return (memscope_sample){
		.version = MEMSCOPE_SAMPLE_VERSION,
		.time_ns = time_ns,
		.heap_live_bytes = live,
		.rss_bytes = resident + 3 * MIB,
		.jemalloc_allocated = allocated,
		.jemalloc_active = active,
		.jemalloc_resident = resident,
		.jemalloc_mapped = resident + MIB,
	};
}

static const memscope_column class_columns[] = {
	{"usable_size", NULL, MEMSCOPE_COLUMN_COUNT},
	{"blocks", NULL, MEMSCOPE_COLUMN_COUNT},
	{"requested", NULL, MEMSCOPE_COLUMN_BYTES},
	{"usable", NULL, MEMSCOPE_COLUMN_BYTES},
	{"waste", NULL, MEMSCOPE_COLUMN_BYTES},
	{"waste_ratio", NULL, MEMSCOPE_COLUMN_RATIO},
	{"accuracy", NULL, MEMSCOPE_COLUMN_TEXT},
};

static const memscope_column timeline_columns[] = {
	{"time", NULL, MEMSCOPE_COLUMN_TIME},
	{"heap_live", NULL, MEMSCOPE_COLUMN_BYTES},
	{"jemalloc_allocated", NULL, MEMSCOPE_COLUMN_BYTES},
	{"jemalloc_active", NULL, MEMSCOPE_COLUMN_BYTES},
	{"jemalloc_resident", NULL, MEMSCOPE_COLUMN_BYTES},
	{"jemalloc_mapped", NULL, MEMSCOPE_COLUMN_BYTES},
	{"rss", NULL, MEMSCOPE_COLUMN_BYTES},
};

static const memscope_column moment_columns[] = {
	{"time", NULL, MEMSCOPE_COLUMN_TIME},
	{"heap_live", NULL, MEMSCOPE_COLUMN_BYTES},
	{"jemalloc_active", NULL, MEMSCOPE_COLUMN_BYTES},
	{"active_beyond_live", NULL, MEMSCOPE_COLUMN_BYTES},
};

static void assert_class(const struct memscope_table *table, size_t index, uint64_t usable_size,
                         uint64_t blocks, uint64_t requested, uint64_t usable, uint64_t waste)
{
	const memscope_value *row = row_at(table, index);
	ck_assert_uint_eq(row[0].count, usable_size);
	ck_assert_uint_eq(row[1].count, blocks);
	ck_assert_uint_eq(row[2].count, requested);
	ck_assert_uint_eq(row[3].count, usable);
	ck_assert_uint_eq(row[4].count, waste);
	ck_assert_double_eq_tol(row[5].real, (double)waste / (double)usable, 1e-12);
	ck_assert_str_eq(row[6].text, "exact");
}

static void assert_moment(const struct memscope_table *table, size_t index, uint64_t time_ns,
                          uint64_t live, uint64_t active, uint64_t excess)
{
	const memscope_value *row = row_at(table, index);
	ck_assert_uint_eq(row[0].count, time_ns);
	ck_assert_uint_eq(row[1].count, live);
	ck_assert_uint_eq(row[2].count, active);
	ck_assert_uint_eq(row[3].count, excess);
}

static const char padding_finding[] = "135 bytes (3.1%) of the usable bytes of all blocks are "
                                      "padding beyond what was requested";

START_TEST(fragmentation_size_classes_timeline_and_worst_moments)
{
	size_t count;
	const memscope_block *blocks = padded_blocks(&count);
	/* The peak sample (most allocated) is s2: 20 MiB resident for 8 MiB
	 * allocated, all of it freed pages kept (active == allocated). */
	memscope_sample samples[] = {
		sample(0, 0, 0, 0, 0),
		sample(10 * MS, 1 * MIB, 1 * MIB, 5 * MIB, 6 * MIB),
		sample(20 * MS, 2 * MIB, 8 * MIB, 8 * MIB, 20 * MIB),
		sample(30 * MS, 3 * MIB, 3 * MIB, 7 * MIB, 8 * MIB),
		sample(40 * MS, 1 * MIB, 1 * MIB, 10 * MIB, 10 * MIB),
		sample(50 * MS, 5 * MIB, 5 * MIB, 5 * MIB, 6 * MIB),
		sample(60 * MS, 6 * MIB, 6 * MIB, 5 * MIB, 7 * MIB),
	};
	memscope_capture capture = capture_of(blocks, count);
	capture.samples = samples;
	capture.sample_count = 7;
	memscope_results results = {0};
	ck_assert_int_eq(run_analyzer("fragmentation", &capture, &results), 0);
	ck_assert_uint_eq(results.table_count, 3);

	const struct memscope_table *classes = table_named(&results, "waste_by_size_class");
	assert_columns(classes, class_columns, 7);
	ck_assert_uint_eq(classes->row_count, 4);
	assert_class(classes, 0, 4096, 1, 4000, 4096, 96);
	assert_class(classes, 1, 112, 2, 197, 224, 27);
	assert_class(classes, 2, 16, 3, 36, 48, 12);
	assert_class(classes, 3, 48, 1, 50, 48, 0);

	const struct memscope_table *timeline = table_named(&results, "timeline");
	assert_columns(timeline, timeline_columns, 7);
	ck_assert_str_eq(timeline->title, "Timeline");
	ck_assert_uint_eq(timeline->row_count, 7);
	for (size_t i = 0; i < 7; i++) {
		const memscope_value *row = row_at(timeline, i);
		ck_assert_uint_eq(row[0].count, samples[i].time_ns);
		ck_assert_uint_eq(row[1].count, samples[i].heap_live_bytes);
		ck_assert_uint_eq(row[2].count, samples[i].jemalloc_allocated);
		ck_assert_uint_eq(row[3].count, samples[i].jemalloc_active);
		ck_assert_uint_eq(row[4].count, samples[i].jemalloc_resident);
		ck_assert_uint_eq(row[5].count, samples[i].jemalloc_mapped);
		ck_assert_uint_eq(row[6].count, samples[i].rss_bytes);
	}

	/* Ties (s1 and s3, 4 MiB; s0, s5 and s6, none) keep time order; s6's
	 * active below its live heap counts as none, not as a huge number. */
	const struct memscope_table *worst = table_named(&results, "worst_moments");
	assert_columns(worst, moment_columns, 4);
	ck_assert_uint_eq(worst->row_count, 5);
	assert_moment(worst, 0, 40 * MS, 1 * MIB, 10 * MIB, 9 * MIB);
	assert_moment(worst, 1, 20 * MS, 2 * MIB, 8 * MIB, 6 * MIB);
	assert_moment(worst, 2, 10 * MS, 1 * MIB, 5 * MIB, 4 * MIB);
	assert_moment(worst, 3, 30 * MS, 3 * MIB, 7 * MIB, 4 * MIB);
	assert_moment(worst, 4, 0, 0, 0, 0);

	ck_assert_uint_eq(results.finding_count, 2);
	assert_finding(&results, 0, MEMSCOPE_SEVERITY_INFO, padding_finding);
	assert_finding(&results, 1, MEMSCOPE_SEVERITY_WARNING,
	               "at its peak (0.020 s), jemalloc held 20,971,520 bytes (20.0 MiB) resident "
	               "for 8,388,608 bytes (8.0 MiB) in use (2.50 times): memory is fragmented; "
	               "12,582,912 bytes (12.0 MiB) are freed pages jemalloc keeps for reuse: "
	               "consider returning them sooner (MALLOC_CONF=dirty_decay_ms:1000, or "
	               "mallctl(\"arena.<i>.purge\") after large frees)");
	results_finish(&results);
}
END_TEST

/* Runs fragmentation over the padded blocks and samples; returns the
 * verdict, the last finding (the caller frees results). */
static const char *verdict(const memscope_sample *samples, size_t sample_count,
                           memscope_results *results, memscope_severity *severity)
{
	size_t count;
	const memscope_block *blocks = padded_blocks(&count);
	memscope_capture capture = capture_of(blocks, count);
	capture.samples = samples;
	capture.sample_count = sample_count;
	ck_assert_int_eq(run_analyzer("fragmentation", &capture, results), 0);
	ck_assert_uint_eq(results->finding_count, 2);
	assert_finding(results, 0, MEMSCOPE_SEVERITY_INFO, padding_finding);
	*severity = results->severities[1];
	return results->findings[1];
}

START_TEST(fragmentation_verdicts)
{
	memscope_results results = {0};
	memscope_severity severity;

	/* Pages partly filled by live blocks: 8 MiB of the 10 beyond use. */
	memscope_sample partly[] = {sample(1500 * MS, 9 * MIB, 10 * MIB, 18 * MIB, 20 * MIB)};
	ck_assert_str_eq(verdict(partly, 1, &results, &severity),
	                 "at its peak (1.500 s), jemalloc held 20,971,520 bytes (20.0 MiB) resident "
	                 "for 10,485,760 bytes (10.0 MiB) in use (2.00 times): memory is "
	                 "fragmented; 8,388,608 bytes (8.0 MiB) sit in pages partly filled by live "
	                 "blocks, which happens when long-lived blocks are scattered among "
	                 "short-lived ones: consider allocating long-lived data together (a pool, or "
	                 "its own jemalloc arena) or freeing in batches");
	ck_assert_int_eq(severity, MEMSCOPE_SEVERITY_WARNING);
	results_finish(&results);

	/* Exactly 1.5 is not above the line. */
	memscope_sample low[] = {
		sample(0, 1 * MIB, 2 * MIB, 2 * MIB, 3 * MIB),
		sample(2 * MS, 10 * MIB, 10 * MIB, 11 * MIB, 15 * MIB),
		sample(4 * MS, 1 * MIB, 1 * MIB, 10 * MIB, 15 * MIB),
	};
	ck_assert_str_eq(verdict(low, 3, &results, &severity),
	                 "fragmentation is low: at its peak (0.002 s), jemalloc held 15,728,640 bytes "
	                 "(15.0 MiB) resident for 10,485,760 bytes (10.0 MiB) in use");
	ck_assert_int_eq(severity, MEMSCOPE_SEVERITY_INFO);
	results_finish(&results);

	/* A high ratio on a small heap: 3 MiB beyond use is nothing to act on. */
	memscope_sample small[] = {sample(0, 1 * MIB, 1 * MIB, 2 * MIB, 4 * MIB)};
	ck_assert_str_eq(verdict(small, 1, &results, &severity),
	                 "fragmentation is low: at its peak (0.000 s), jemalloc held 4,194,304 bytes "
	                 "(4.0 MiB) resident for 1,048,576 bytes (1.0 MiB) in use");
	ck_assert_int_eq(severity, MEMSCOPE_SEVERITY_INFO);
	results_finish(&results);

	ck_assert_str_eq(verdict(NULL, 0, &results, &severity),
	                 "the capture has no timeline samples, so fragmentation of jemalloc's pages "
	                 "cannot be judged");
	ck_assert_uint_eq(table_named(&results, "timeline")->row_count, 0);
	ck_assert_uint_eq(table_named(&results, "worst_moments")->row_count, 0);
	results_finish(&results);

	memscope_sample no_jemalloc[] = {sample(0, 1 * MIB, 0, 0, 0), sample(MS, 2 * MIB, 0, 0, 0)};
	ck_assert_str_eq(verdict(no_jemalloc, 2, &results, &severity),
	                 "the timeline has no jemalloc statistics, so fragmentation of jemalloc's "
	                 "pages cannot be judged");
	ck_assert_uint_eq(table_named(&results, "timeline")->row_count, 2);
	ck_assert_uint_eq(table_named(&results, "worst_moments")->row_count, 2);
	results_finish(&results);
}
END_TEST

START_TEST(fragmentation_long_timeline_is_picked_evenly)
{
	enum { SAMPLES = 1234, ROWS = 500 };
	memscope_sample *samples = calloc(SAMPLES, sizeof(*samples));
	ck_assert_ptr_nonnull(samples);
	for (uint64_t i = 0; i < SAMPLES; i++)
		samples[i] = sample(i * 10 * MS, i * 1000, MIB, MIB + i, 2 * MIB);
	memscope_capture capture = capture_of(NULL, 0);
	capture.samples = samples;
	capture.sample_count = SAMPLES;
	memscope_results results = {0};
	ck_assert_int_eq(run_analyzer("fragmentation", &capture, &results), 0);
	assert_finding(&results, 0, MEMSCOPE_SEVERITY_INFO,
	               "the capture holds no blocks, so there is no padding to measure");
	ck_assert_uint_eq(table_named(&results, "waste_by_size_class")->row_count, 0);

	const struct memscope_table *timeline = table_named(&results, "timeline");
	ck_assert_str_eq(timeline->title, "Timeline (500 of 1234 samples, evenly spaced)");
	ck_assert_uint_eq(timeline->row_count, ROWS);
	for (uint64_t k = 0; k < ROWS; k++) {
		uint64_t index = k * (SAMPLES - 1) / (ROWS - 1);
		ck_assert_uint_eq(row_at(timeline, k)[0].count, index * 10 * MS);
	}
	ck_assert_uint_eq(row_at(timeline, ROWS - 1)[0].count, (SAMPLES - 1) * 10 * MS);

	/* Active beyond live is MIB - 999 i here: the first samples are worst. */
	const struct memscope_table *worst = table_named(&results, "worst_moments");
	ck_assert_uint_eq(worst->row_count, 5);
	for (uint64_t i = 0; i < 5; i++)
		assert_moment(worst, i, i * 10 * MS, i * 1000, MIB + i, MIB - 999 * i);
	results_finish(&results);
	free(samples);
}
END_TEST

START_TEST(fragmentation_many_size_classes)
{
	/* Large blocks of page multiples: one class each, more than the
	 * index's first size. */
	enum { CLASSES = 200 };
	memscope_block blocks[CLASSES];
	for (uint64_t i = 0; i < CLASSES; i++)
		blocks[i] = block(1, 0, (i + 1) * 4096 - i, (i + 1) * 4096, i, END, false, NULL);
	memscope_capture capture = capture_of(blocks, CLASSES);
	memscope_results results = {0};
	ck_assert_int_eq(run_analyzer("fragmentation", &capture, &results), 0);
	const struct memscope_table *classes = table_named(&results, "waste_by_size_class");
	ck_assert_uint_eq(classes->row_count, CLASSES);
	for (uint64_t k = 0; k < CLASSES; k++) {
		uint64_t i = CLASSES - 1 - k;
		assert_class(classes, k, (i + 1) * 4096, 1, (i + 1) * 4096 - i, (i + 1) * 4096, i);
	}
	results_finish(&results);
}
END_TEST

/* ---- exact, estimated, mixed ------------------------------------------------ */

/* A hybrid capture made up: blocks of 5,000 bytes or more weigh 1 (all
 * recorded), smaller ones are samples (weights 10 and 5).  Stack 1 holds
 * only large blocks, stack 2 only small ones, stack 3 one of each; stacks 2
 * and 3 share their innermost function. */
static const memscope_block *hybrid_blocks(size_t *count)
{
	static memscope_block blocks[6];
	blocks[0] = block(1, 0, 6000, 6144, 1 * MS, 2 * MS, true, NULL);
	blocks[1] = block(2, 0, 100, 112, 3 * MS, END, false, NULL);
	blocks[2] = block(2, 0, 100, 112, 4 * MS, END, false, NULL);
	blocks[3] = block(1, 0, 6000, 6144, 5 * MS, END, false, NULL);
	blocks[4] = block(3, 0, 8000, 8192, 6 * MS, END, false, NULL);
	blocks[5] = block(3, 0, 200, 8192, 7 * MS, END, false, NULL);
	static const double weights[] = {1.0, 10.0, 10.0, 1.0, 1.0, 5.0};
	for (size_t i = 0; i < 6; i++)
		blocks[i].weight = weights[i];
	*count = 6;
	return blocks;
}

static const memscope_frame large_frames[] = {
	{.version = MEMSCOPE_FRAME_VERSION, .function = "large_only", .file = "h.c", .line = 1},
};
static const memscope_frame small_frames[] = {
	{.version = MEMSCOPE_FRAME_VERSION, .function = "both_sides", .file = "h.c", .line = 2},
};
static const memscope_frame both_frames[] = {
	{.version = MEMSCOPE_FRAME_VERSION, .function = "both_sides", .file = "h.c", .line = 3},
};

static const struct fake_stack hybrid_stacks[] = {
	{1, large_frames, 1},
	{2, small_frames, 1},
	{3, both_frames, 1},
};

static memscope_capture hybrid_capture(void)
{
	size_t count;
	const memscope_block *blocks = hybrid_blocks(&count);
	memscope_capture capture = capture_of(blocks, count);
	capture.summary.backend = "hybrid";
	capture.summary.sample_interval = 1000;
	capture.summary.exact_above = 5000;
	capture.summary.peak_time_ns = 7 * MS;
	capture.summary.peak_bytes = 17000;
	capture.stacks = hybrid_stacks;
	capture.stack_count = 3;
	return capture;
}

/* The row of table whose column 0 is stack (or, for count, the value). */
static const memscope_value *row_where(const struct memscope_table *table, uint64_t key)
{
	for (size_t i = 0; i < table->row_count; i++) {
		const memscope_value *row = row_at(table, i);
		uint64_t first = table->columns[0].type == MEMSCOPE_COLUMN_STACK ? row[0].stack
		                                                                 : row[0].count;
		if (first == key)
			return row;
	}
	ck_abort_msg("table %s has no row %llu", table->name, (unsigned long long)key);
	return NULL;
}

/* The row of key has blocks (column 1), bytes (column 2) and accuracy
 * (the last column). */
static void assert_weighed(const struct memscope_table *table, uint64_t key, uint64_t blocks,
                           uint64_t bytes, const char *accuracy)
{
	const memscope_value *row = row_where(table, key);
	ck_assert_uint_eq(row[1].count, blocks);
	ck_assert_uint_eq(row[2].count, bytes);
	ck_assert_str_eq(table->columns[table->column_count - 1].name, "accuracy");
	ck_assert_str_eq(row[table->column_count - 1].text, accuracy);
}

/* Runs analyzer name on the hybrid capture into results; its table
 * table_name, with columns. */
static const struct memscope_table *run_on_hybrid(const char *name, memscope_results *results,
                                                  const char *table_name,
                                                  const memscope_column *columns,
                                                  size_t column_count)
{
	memscope_capture capture = hybrid_capture();
	ck_assert_int_eq(run_analyzer(name, &capture, results), 0);
	const struct memscope_table *table = table_named(results, table_name);
	assert_columns(table, columns, column_count);
	ck_assert_uint_eq(table->row_count, 3);
	return table;
}

START_TEST(leaks_rows_say_how_exact)
{
	memscope_results results = {0};
	const struct memscope_table *table = run_on_hybrid("leaks", &results, "leaks",
	                                                   leak_columns, 7);
	/* Most bytes first: stack 3 (8,000 + 5 x 200), 1, then 2 (20 x 100). */
	ck_assert_uint_eq(row_at(table, 0)[0].stack, 3);
	ck_assert_uint_eq(row_at(table, 1)[0].stack, 1);
	ck_assert_uint_eq(row_at(table, 2)[0].stack, 2);
	assert_weighed(table, 3, 6, 9000, "mixed");
	assert_weighed(table, 1, 1, 6000, "exact");
	assert_weighed(table, 2, 20, 2000, "estimated");
	assert_finding(&results, 0, MEMSCOPE_SEVERITY_PROBLEM,
	               "~27 blocks, ~17,000 bytes (16.6 KiB) leaked in 3 places");
	results_finish(&results);

	/* The large blocks alone leaked: an exact figure, said without ~. */
	memscope_capture capture = hybrid_capture();
	size_t count;
	const memscope_block *blocks = hybrid_blocks(&count);
	memscope_block large[] = {blocks[0], blocks[3]};
	capture.blocks = large;
	capture.block_count = 2;
	ck_assert_int_eq(run_analyzer("leaks", &capture, &results), 0);
	ck_assert_str_eq(row_at(table_named(&results, "leaks"), 0)[6].text, "exact");
	assert_finding(&results, 0, MEMSCOPE_SEVERITY_PROBLEM,
	               "1 block, 6,000 bytes (5.9 KiB) leaked in 1 place");
	results_finish(&results);
}
END_TEST

START_TEST(hotspots_rows_say_how_exact)
{
	memscope_results results = {0};
	run_on_hybrid("hotspots", &results, "sites", site_columns, 6);
	static const char *const site_tables[] = {"sites", "sites_by_bytes"};
	for (size_t t = 0; t < 2; t++) {
		const struct memscope_table *sites = table_named(&results, site_tables[t]);
		assert_weighed(sites, 1, 2, 12000, "exact");
		assert_weighed(sites, 2, 20, 2000, "estimated");
		assert_weighed(sites, 3, 6, 9000, "mixed");
	}
	/* Stacks 2 and 3 merge into one function: samples and a large block. */
	const struct memscope_table *functions = table_named(&results, "functions");
	assert_columns(functions, function_columns, 4);
	ck_assert_uint_eq(functions->row_count, 2);
	const memscope_value *row = row_at(functions, 0);
	ck_assert_str_eq(row[0].text, "both_sides");
	ck_assert_uint_eq(row[1].count, 26);
	ck_assert_uint_eq(row[2].count, 11000);
	ck_assert_str_eq(row[3].text, "mixed");
	row = row_at(functions, 1);
	ck_assert_str_eq(row[0].text, "large_only");
	ck_assert_uint_eq(row[1].count, 2);
	ck_assert_str_eq(row[3].text, "exact");
	ck_assert_ptr_nonnull(strstr(results.findings[0],
	                             "~28 allocations, ~23,000 bytes (22.5 KiB) from 3 sites"));
	results_finish(&results);
}
END_TEST

START_TEST(fragmentation_rows_say_how_exact)
{
	memscope_results results = {0};
	const struct memscope_table *classes = run_on_hybrid(
	    "fragmentation", &results, "waste_by_size_class", class_columns, 7);
	/* 8,192: the 8,000-byte block and five of 200 bytes. */
	assert_weighed(classes, 8192, 6, 9000, "mixed");
	ck_assert_uint_eq(row_where(classes, 8192)[4].count, 192 + 5 * 7992);
	assert_weighed(classes, 6144, 2, 12000, "exact");
	assert_weighed(classes, 112, 20, 2000, "estimated");
	ck_assert_int_eq(results.findings[0][0], '~');
	results_finish(&results);
}
END_TEST

static Suite *analyzers_suite(void)
{
	Suite *suite = suite_create("analyzers");
	TCase *leaks = tcase_create("leaks");
	tcase_add_test(leaks, leaks_grouped_by_stack);
	tcase_add_test(leaks, leaks_after_an_unclean_end);
	tcase_add_test(leaks, no_leaks);
	tcase_add_test(leaks, no_leaks_said_only_when_seen);
	tcase_add_test(leaks, one_big_leak_in_words);
	tcase_add_test(leaks, leaks_many_stacks);
	tcase_add_test(leaks, leaks_out_of_memory_is_reported);
	tcase_add_test(leaks, host_without_results_is_refused);
	suite_add_tcase(suite, leaks);

	TCase *hotspots = tcase_create("hotspots");
	tcase_add_test(hotspots, hotspots_sites_peak_and_temporary);
	tcase_add_test(hotspots, hotspots_peak_that_does_not_add_up);
	tcase_add_test(hotspots, hotspots_top_option);
	tcase_add_test(hotspots, hotspots_default_top_is_twenty);
	tcase_add_test(hotspots, hotspots_empty_capture);
	suite_add_tcase(suite, hotspots);

	TCase *fragmentation = tcase_create("fragmentation");
	tcase_add_test(fragmentation, fragmentation_size_classes_timeline_and_worst_moments);
	tcase_add_test(fragmentation, fragmentation_verdicts);
	tcase_add_test(fragmentation, fragmentation_long_timeline_is_picked_evenly);
	tcase_add_test(fragmentation, fragmentation_many_size_classes);
	suite_add_tcase(suite, fragmentation);

	TCase *accuracy = tcase_create("accuracy");
	tcase_add_test(accuracy, leaks_rows_say_how_exact);
	tcase_add_test(accuracy, hotspots_rows_say_how_exact);
	tcase_add_test(accuracy, fragmentation_rows_say_how_exact);
	suite_add_tcase(suite, accuracy);
	return suite;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s ANALYZERS_BUILD_DIRECTORY\n", argv[0]);
		return EXIT_FAILURE;
	}
	plugin_dir = argv[1];
	SRunner *runner = srunner_create(analyzers_suite());
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
