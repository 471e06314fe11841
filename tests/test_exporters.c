/* test_exporters.c - the json and svg exporter plugins, loaded from their
 * built .so files (directory in argv[1]) and driven by a fake host over
 * arrays (exporters_fake_host.h): the exact JSON document for a small
 * capture, escaping, determinism, the tasks section and their leaks,
 * validity by python3's json module and xmllint when they are installed,
 * and the SVG's elements and the live bytes of its stacked sites.
 *
 * For tests/meson.build (the exporters are in exporters/meson.build as
 * json_exporter and svg_exporter):
 *
 *   test_exporters = executable('test_exporters',
 *     'test_exporters.c', 'exporters_fake_host.c',
 *     include_directories: root_include,
 *     c_args: sanitize_args,
 *     link_args: sanitize_args,
 *     dependencies: [check_dep, dl_dep])
 *   test('exporters', test_exporters,
 *     args: [meson.project_build_root() / 'exporters'],
 *     depends: [json_exporter, svg_exporter],
 *     suite: 'unit', timeout: 120)
 */
#include <check.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exporters_fake_host.h"

static const char *exporters_directory = "build/exporters";

#define COUNT_OF(array) (sizeof(array) / sizeof((array)[0]))
#define MS(value) ((uint64_t)(value) * 1000000u)

/* Everything JSON strings must escape, and bytes that are not UTF-8: a
 * stray 0xff, an overlong "/" (c0 af), a UTF-16 surrogate (ed a0 80). */
#define NASTY "q\"b\\n\nt\tc\001d\177 \xc3\xa9\xe2\x98\x83\xf0\x9f\x98\x80 " \
              "x\xff\xc0\xafs\xed\xa0\x80l\xe2\x80\xa8</script>"
#define NASTY_JSON "\"q\\\"b\\\\n\\nt\\tc\\u0001d\\u007f \xc3\xa9\xe2\x98\x83\xf0\x9f\x98\x80 " \
                   "x\\ufffd\\ufffd\\ufffds\\ufffd\\ufffd\\ufffdl\\u2028</script>\""

/* ---- the capture ----------------------------------------------------------- */

static const memscope_frame stack_3[] = {
	{ MEMSCOPE_FRAME_VERSION, "make_buffer", "src/buffer.c", 42, false, "/usr/bin/demo", 0x1234 },
	{ MEMSCOPE_FRAME_VERSION, "main", "src/main.c", 7, false, "/usr/bin/demo", 0x1000 },
};
/* Prints like stack 3: another return address on the same line. */
static const memscope_frame stack_8[] = {
	{ MEMSCOPE_FRAME_VERSION, "make_buffer", "src/buffer.c", 42, false, "/usr/bin/demo", 0x1234 },
	{ MEMSCOPE_FRAME_VERSION, "main", "src/main.c", 7, false, "/usr/bin/demo", 0x1000 },
};
static const memscope_frame stack_7[] = {
	{ MEMSCOPE_FRAME_VERSION, NULL, NULL, 0, false, "/lib/libc.so.6", 0x2a0 },
	{ MEMSCOPE_FRAME_VERSION, "helper", "src/h.h", 3, true, "/usr/bin/demo", 0x1500 },
	{ MEMSCOPE_FRAME_VERSION, "main", "src/main.c", 9, false, "/usr/bin/demo", 0x1010 },
};
static const memscope_frame stack_12[] = {
	{ MEMSCOPE_FRAME_VERSION, "worker", "src/w.c", 10, false, "/usr/bin/demo", 0x2000 },
};
static const memscope_frame stack_5[] = {
	{ MEMSCOPE_FRAME_VERSION, "elsewhere", "src/e.c", 1, false, "/usr/bin/demo", 0x3000 },
};

static const struct fake_stack stacks[] = {
	{ 3, stack_3, COUNT_OF(stack_3) },
	{ 5, stack_5, COUNT_OF(stack_5) },
	{ 7, stack_7, COUNT_OF(stack_7) },
	{ 8, stack_8, COUNT_OF(stack_8) },
	{ 12, stack_12, COUNT_OF(stack_12) },
};

#define BLOCK(stack_id, bytes, from_ms, until_ms, was_freed)                                   \
	{ .version = MEMSCOPE_BLOCK_VERSION, .stack = (stack_id), .address = 0x1000 * (stack_id), \
	  .size = (bytes), .usable = (bytes), .allocated_ns = MS(from_ms),                        \
	  .freed_ns = MS(until_ms), .freed = (was_freed) }

/* Live per sample (0, 10, 20, 30, 40 ms), by site:
 *   stack 3 and 8 (one site):  0, 2048, 3072, 1024, 0
 *   stack 12:               1024, 1024, 1024, 1024, 1024
 *   stack 7:                   0,    0,    0,  512,  512
 * and stack 5 is in no site. */
static const memscope_block blocks[] = {
	BLOCK(3, 2048, 5, 25, true),
	BLOCK(8, 1024, 15, 35, true),
	BLOCK(5, 4096, 0, 40, true),
	BLOCK(12, 1024, 0, 40, false),
	BLOCK(7, 512, 30, 40, false),
};

#define SAMPLE(ms, heap, rss, active, resident)                                                \
	{ .version = MEMSCOPE_SAMPLE_VERSION, .time_ns = MS(ms), .heap_live_bytes = (heap),     \
	  .heap_live_blocks = (heap) / 512, .rss_bytes = (rss), .jemalloc_allocated = (heap),   \
	  .jemalloc_active = (active), .jemalloc_resident = (resident),                        \
	  .jemalloc_mapped = 65536, .jemalloc_retained = 4096, .cpu_user_ns = MS(ms) / 2,       \
	  .cpu_system_ns = MS(ms) / 4, .threads = 2 }

static const memscope_sample samples[] = {
	SAMPLE(0, 5120, 4096, 2048, 3072),
	SAMPLE(10, 7168, 6144, 4096, 5120),
	SAMPLE(20, 8192, 8192, 6144, 7168),
	SAMPLE(30, 6656, 10240, 6144, 8192),
	SAMPLE(40, 5632, 9216, 4096, 8192),
};

static const char *const thread_names[] = { "main", "worker \"1\"" };

static memscope_capture make_capture(void)
{
	return (memscope_capture){
		.summary = {
			.version = MEMSCOPE_SUMMARY_VERSION,
			.path = "/tmp/demo.memscope",
			.program = "./demo",
			.backend = "exact",
			.duration_ns = MS(40),
			.allocations = 5,
			.reallocations = 1,
			.frees = 3,
			.allocated_bytes = 8704,
			.peak_bytes = 8192,
			.peak_time_ns = MS(20),
			.peak_blocks = 16,
			.live_blocks = 2,
			.live_bytes = 1536,
			.threads = 2,
			.ended_cleanly = true,
			.truncated = false,
		},
		.blocks = blocks,
		.block_count = COUNT_OF(blocks),
		.samples = samples,
		.sample_count = COUNT_OF(samples),
		.stacks = stacks,
		.stack_count = COUNT_OF(stacks),
		.thread_names = thread_names,
		.thread_count = COUNT_OF(thread_names),
	};
}

/* ---- the results ----------------------------------------------------------- */

static const memscope_column site_columns[] = {
	{ "stack", "Stack", MEMSCOPE_COLUMN_STACK },
	{ "function", "Function", MEMSCOPE_COLUMN_TEXT },
	{ "calls", "Calls", MEMSCOPE_COLUMN_COUNT },
	{ "bytes", "Bytes", MEMSCOPE_COLUMN_BYTES },
	{ "share", "Share", MEMSCOPE_COLUMN_RATIO },
	{ "first", "First \"seen\"", MEMSCOPE_COLUMN_TIME },
};

static memscope_value site_values[3 * COUNT_OF(site_columns)];

static const memscope_column leak_columns[] = {
	{ "stack", "Stack", MEMSCOPE_COLUMN_STACK },
	{ "bytes", "Bytes", MEMSCOPE_COLUMN_BYTES },
};

/* Stack 99 is unknown to the host; stack 3 appears twice in the results. */
static const memscope_value leak_values[] = {
	{ .stack = 99 }, { .count = 2048 },
	{ .stack = 3 }, { .count = 0 },
};

static memscope_table hotspot_tables[1];
static const struct fake_finding hotspot_findings[] = {
	{ MEMSCOPE_SEVERITY_WARNING, "make_buffer allocated 59% of the bytes" },
};
static const memscope_table leak_tables[] = {
	{ "leaks", NULL, leak_columns, COUNT_OF(leak_columns), leak_values, 2 },
};
static const struct fake_finding leak_findings[] = {
	{ MEMSCOPE_SEVERITY_PROBLEM, NASTY },
	{ MEMSCOPE_SEVERITY_INFO, "plain" },
};

static memscope_results hotspots, leaks, empty;

/* Doubles cannot be constant initialisers of a union member everywhere
 * the way the rows want them, so the rows are filled here. */
static void make_results(void)
{
	const memscope_value rows[] = {
		{ .stack = 3 }, { .text = "make_buffer" }, { .count = 3 }, { .count = 5120 },
		{ .real = 0.1 }, { .count = MS(5) },
		{ .stack = 12 }, { .text = NASTY }, { .count = 1 }, { .count = 1024 },
		{ .real = 1.0 / 3.0 }, { .count = 0 },
		{ .stack = 7 }, { .text = NULL }, { .count = 1 }, { .count = 512 },
		{ .real = NAN }, { .count = 10 },
	};
	memcpy(site_values, rows, sizeof(rows));
	hotspot_tables[0] = (memscope_table){ "sites", "Allocation sites", site_columns,
		                              COUNT_OF(site_columns), site_values, 3 };
	hotspots = (memscope_results){ "hotspots", hotspot_tables, 1, hotspot_findings,
		                       COUNT_OF(hotspot_findings) };
	leaks = (memscope_results){ "leaks", leak_tables, 1, leak_findings,
		                    COUNT_OF(leak_findings) };
	empty = (memscope_results){ "empty", NULL, 0, NULL, 0 };
}

/* ---- helpers --------------------------------------------------------------- */

/* With EXPORTERS_TEST_DUMP=directory, each document is also written there
 * as dump_as, to look at (or render) by hand. */
static void dump(const char *dump_as, const char *text)
{
	const char *directory = getenv("EXPORTERS_TEST_DUMP");
	if (!directory)
		return;
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", directory, dump_as);
	FILE *file = fopen(path, "w");
	ck_assert_msg(file != NULL, "cannot write %s", path);
	fputs(text, file);
	fclose(file);
}

static char *export_text(const char *file_name, const char *name, memscope_capture *capture,
                         const memscope_results *const *results, size_t count,
                         const char *dump_as)
{
	struct fake_plugin plugin;
	ck_assert_int_eq(fake_plugin_load(&plugin, exporters_directory, file_name, name), 0);
	char *text = NULL;
	size_t length = 0;
	int result = fake_export(&plugin, capture, results, count, &text, &length);
	ck_assert_int_eq(result, 0);
	ck_assert_uint_eq(strlen(text), length); /* no NUL inside */
	fake_plugin_unload(&plugin);
	dump(dump_as, text);
	return text;
}

static char *export_json(memscope_capture *capture, const memscope_results *const *results,
                         size_t count, const char *dump_as)
{
	return export_text("json.so", "json", capture, results, count, dump_as);
}

static char *export_svg(memscope_capture *capture, const memscope_results *const *results,
                        size_t count, const char *dump_as)
{
	return export_text("svg.so", "svg", capture, results, count, dump_as);
}

/* Feeds text to a command's stdin; its exit status, or -1 when the
 * command is not installed (the check is then skipped, with a note). */
static int run_with_input(const char *program, const char *command, const char *text)
{
	if (access(program, X_OK) != 0) {
		fprintf(stderr, "note: %s is not installed, skipping that check\n", program);
		return -1;
	}
	FILE *pipe = popen(command, "w");
	ck_assert_ptr_nonnull(pipe);
	fputs(text, pipe);
	int status = pclose(pipe);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Runs program, python3 source that exits 3 when the document on its
 * stdin is wrong, on text (skipped without python3). */
static void assert_python(const char *program, const char *text)
{
	char command[2048];
	snprintf(command, sizeof(command), "/usr/bin/python3 -I -c '%s'", program);
	int status = run_with_input("/usr/bin/python3", command, text);
	if (status >= 0)
		ck_assert_int_eq(status, 0);
}

static size_t occurrences(const char *text, const char *needle)
{
	size_t count = 0;
	for (const char *at = strstr(text, needle); at; at = strstr(at + 1, needle))
		count++;
	return count;
}

/* ---- json ------------------------------------------------------------------ */

static const char expected_json[] =
	"{\n"
	"  \"schema\": \"memscope-report\",\n"
	"  \"schema_version\": 1,\n"
	"  \"capture\": {\n"
	"    \"path\": \"/tmp/demo.memscope\",\n"
	"    \"program\": \"./demo\",\n"
	"    \"backend\": \"exact\",\n"
	"    \"duration_ns\": 40000000,\n"
	"    \"allocations\": 5,\n"
	"    \"reallocations\": 1,\n"
	"    \"frees\": 3,\n"
	"    \"allocated_bytes\": 8704,\n"
	"    \"peak_bytes\": 8192,\n"
	"    \"peak_time_ns\": 20000000,\n"
	"    \"peak_blocks\": 16,\n"
	"    \"live_blocks\": 2,\n"
	"    \"live_bytes\": 1536,\n"
	"    \"accuracy\": {\"allocations\": \"exact\", \"reallocations\": \"exact\", "
	"\"frees\": \"exact\", \"peak\": \"exact\", \"live\": \"exact\"},\n"
	"    \"threads\": 2,\n"
	"    \"ended_cleanly\": true,\n"
	"    \"death\": null,\n"
	"    \"truncated\": false\n"
	"  },\n"
	"  \"results\": [\n"
	"    {\n"
	"      \"analyzer\": \"hotspots\",\n"
	"      \"tables\": [\n"
	"        {\n"
	"          \"name\": \"sites\",\n"
	"          \"title\": \"Allocation sites\",\n"
	"          \"columns\": [\n"
	"            {\"name\": \"stack\", \"title\": \"Stack\", \"type\": \"stack\"},\n"
	"            {\"name\": \"function\", \"title\": \"Function\", \"type\": \"text\"},\n"
	"            {\"name\": \"calls\", \"title\": \"Calls\", \"type\": \"count\"},\n"
	"            {\"name\": \"bytes\", \"title\": \"Bytes\", \"type\": \"bytes\"},\n"
	"            {\"name\": \"share\", \"title\": \"Share\", \"type\": \"ratio\"},\n"
	"            {\"name\": \"first\", \"title\": \"First \\\"seen\\\"\", \"type\": \"time\"}\n"
	"          ],\n"
	"          \"rows\": [\n"
	"            [3, \"make_buffer\", 3, 5120, 0.1, 5000000],\n"
	"            [12, " NASTY_JSON ", 1, 1024, 0.3333333333333333, 0],\n"
	"            [7, null, 1, 512, null, 10]\n"
	"          ]\n"
	"        }\n"
	"      ],\n"
	"      \"findings\": [\n"
	"        {\"severity\": \"warning\", \"text\": \"make_buffer allocated 59% of the bytes\"}\n"
	"      ]\n"
	"    },\n"
	"    {\n"
	"      \"analyzer\": \"leaks\",\n"
	"      \"tables\": [\n"
	"        {\n"
	"          \"name\": \"leaks\",\n"
	"          \"title\": null,\n"
	"          \"columns\": [\n"
	"            {\"name\": \"stack\", \"title\": \"Stack\", \"type\": \"stack\"},\n"
	"            {\"name\": \"bytes\", \"title\": \"Bytes\", \"type\": \"bytes\"}\n"
	"          ],\n"
	"          \"rows\": [\n"
	"            [99, 2048],\n"
	"            [3, 0]\n"
	"          ]\n"
	"        }\n"
	"      ],\n"
	"      \"findings\": [\n"
	"        {\"severity\": \"problem\", \"text\": " NASTY_JSON "},\n"
	"        {\"severity\": \"info\", \"text\": \"plain\"}\n"
	"      ]\n"
	"    },\n"
	"    {\n"
	"      \"analyzer\": \"empty\",\n"
	"      \"tables\": [],\n"
	"      \"findings\": []\n"
	"    }\n"
	"  ],\n"
	"  \"stacks\": {\n"
	"    \"3\": [\n"
	"      {\"function\": \"make_buffer\", \"file\": \"src/buffer.c\", \"line\": 42, "
	"\"inlined\": false, \"module\": \"/usr/bin/demo\", \"offset\": 4660},\n"
	"      {\"function\": \"main\", \"file\": \"src/main.c\", \"line\": 7, "
	"\"inlined\": false, \"module\": \"/usr/bin/demo\", \"offset\": 4096}\n"
	"    ],\n"
	"    \"7\": [\n"
	"      {\"function\": null, \"file\": null, \"line\": 0, "
	"\"inlined\": false, \"module\": \"/lib/libc.so.6\", \"offset\": 672},\n"
	"      {\"function\": \"helper\", \"file\": \"src/h.h\", \"line\": 3, "
	"\"inlined\": true, \"module\": \"/usr/bin/demo\", \"offset\": 5376},\n"
	"      {\"function\": \"main\", \"file\": \"src/main.c\", \"line\": 9, "
	"\"inlined\": false, \"module\": \"/usr/bin/demo\", \"offset\": 4112}\n"
	"    ],\n"
	"    \"12\": [\n"
	"      {\"function\": \"worker\", \"file\": \"src/w.c\", \"line\": 10, "
	"\"inlined\": false, \"module\": \"/usr/bin/demo\", \"offset\": 8192}\n"
	"    ],\n"
	"    \"99\": []\n"
	"  },\n"
	"  \"threads\": {\n"
	"    \"0\": \"main\",\n"
	"    \"1\": \"worker \\\"1\\\"\"\n"
	"  },\n"
	"  \"timeline\": [\n"
	"    {\"time_ns\": 0, \"heap_live_bytes\": 5120, \"heap_live_blocks\": 10, "
	"\"rss_bytes\": 4096, \"jemalloc_allocated\": 5120, \"jemalloc_active\": 2048, "
	"\"jemalloc_resident\": 3072, \"jemalloc_mapped\": 65536, \"jemalloc_retained\": 4096, "
	"\"cpu_user_ns\": 0, \"cpu_system_ns\": 0, \"threads\": 2},\n"
	"    {\"time_ns\": 10000000, \"heap_live_bytes\": 7168, \"heap_live_blocks\": 14, "
	"\"rss_bytes\": 6144, \"jemalloc_allocated\": 7168, \"jemalloc_active\": 4096, "
	"\"jemalloc_resident\": 5120, \"jemalloc_mapped\": 65536, \"jemalloc_retained\": 4096, "
	"\"cpu_user_ns\": 5000000, \"cpu_system_ns\": 2500000, \"threads\": 2},\n"
	"    {\"time_ns\": 20000000, \"heap_live_bytes\": 8192, \"heap_live_blocks\": 16, "
	"\"rss_bytes\": 8192, \"jemalloc_allocated\": 8192, \"jemalloc_active\": 6144, "
	"\"jemalloc_resident\": 7168, \"jemalloc_mapped\": 65536, \"jemalloc_retained\": 4096, "
	"\"cpu_user_ns\": 10000000, \"cpu_system_ns\": 5000000, \"threads\": 2, \"at_peak\": true},\n"
	"    {\"time_ns\": 30000000, \"heap_live_bytes\": 6656, \"heap_live_blocks\": 13, "
	"\"rss_bytes\": 10240, \"jemalloc_allocated\": 6656, \"jemalloc_active\": 6144, "
	"\"jemalloc_resident\": 8192, \"jemalloc_mapped\": 65536, \"jemalloc_retained\": 4096, "
	"\"cpu_user_ns\": 15000000, \"cpu_system_ns\": 7500000, \"threads\": 2},\n"
	"    {\"time_ns\": 40000000, \"heap_live_bytes\": 5632, \"heap_live_blocks\": 11, "
	"\"rss_bytes\": 9216, \"jemalloc_allocated\": 5632, \"jemalloc_active\": 4096, "
	"\"jemalloc_resident\": 8192, \"jemalloc_mapped\": 65536, \"jemalloc_retained\": 4096, "
	"\"cpu_user_ns\": 20000000, \"cpu_system_ns\": 10000000, \"threads\": 2}\n"
	"  ]\n"
	"}\n";

static const char expected_empty_json[] =
	"{\n"
	"  \"schema\": \"memscope-report\",\n"
	"  \"schema_version\": 1,\n"
	"  \"capture\": {\n"
	"    \"path\": null,\n"
	"    \"program\": \"\",\n"
	"    \"backend\": null,\n"
	"    \"duration_ns\": 0,\n"
	"    \"allocations\": 0,\n"
	"    \"reallocations\": 0,\n"
	"    \"frees\": 0,\n"
	"    \"allocated_bytes\": 0,\n"
	"    \"peak_bytes\": 0,\n"
	"    \"peak_time_ns\": 0,\n"
	"    \"peak_blocks\": 0,\n"
	"    \"live_blocks\": 0,\n"
	"    \"live_bytes\": 0,\n"
	"    \"accuracy\": {\"allocations\": \"exact\", \"reallocations\": \"exact\", "
	"\"frees\": \"exact\", \"peak\": \"exact\", \"live\": \"exact\"},\n"
	"    \"threads\": 0,\n"
	"    \"ended_cleanly\": false,\n"
	"    \"death\": null,\n"
	"    \"truncated\": true\n"
	"  },\n"
	"  \"results\": [],\n"
	"  \"stacks\": {},\n"
	"  \"threads\": {},\n"
	"  \"timeline\": []\n"
	"}\n";

static const memscope_results *const all_results[] = { &hotspots, &leaks, &empty };

START_TEST(test_json_plugin_describes_itself)
{
	struct fake_plugin plugin;
	ck_assert_int_eq(fake_plugin_load(&plugin, exporters_directory, "json.so", "json"), 0);
	ck_assert_uint_eq(plugin.info->version, MEMSCOPE_PLUGIN_INFO_VERSION);
	ck_assert_uint_eq(plugin.info->abi_major, MEMSCOPE_PLUGIN_ABI_MAJOR);
	ck_assert_ptr_null(plugin.info->analyzers);
	ck_assert_uint_eq(plugin.exporter->version, MEMSCOPE_EXPORTER_VERSION);
	ck_assert_str_eq(plugin.exporter->extension, "json");
	ck_assert_ptr_nonnull(plugin.exporter->description);
	ck_assert_ptr_null(plugin.info->exporters[1]);
	fake_plugin_unload(&plugin);
}
END_TEST

START_TEST(test_json_golden)
{
	memscope_capture capture = make_capture();
	make_results();
	char *text = export_json(&capture, all_results, COUNT_OF(all_results), "golden.json");
	ck_assert_str_eq(text, expected_json);
	free(text);
}
END_TEST

START_TEST(test_json_is_deterministic)
{
	memscope_capture capture = make_capture();
	make_results();
	char *first = export_json(&capture, all_results, COUNT_OF(all_results), "first.json");
	char *second = export_json(&capture, all_results, COUNT_OF(all_results), "second.json");
	ck_assert_str_eq(first, second);
	free(first);
	free(second);
}
END_TEST

/* A host that switched to a locale with a decimal comma must not get
 * "0,1" in the document.  Skipped where no such locale is installed. */
START_TEST(test_json_ignores_the_host_locale)
{
	static const char *const comma_locales[] = { "de_DE.UTF-8", "fr_FR.UTF-8", "de_DE.utf8",
		                                     "fr_FR.utf8", "de_DE", "fr_FR" };
	const char *found = NULL;
	for (size_t i = 0; i < COUNT_OF(comma_locales) && !found; i++)
		if (setlocale(LC_ALL, comma_locales[i]))
			found = comma_locales[i];
	if (!found) {
		fprintf(stderr, "note: no locale with a decimal comma installed, skipping\n");
		return;
	}
	memscope_capture capture = make_capture();
	make_results();
	char *text = export_json(&capture, all_results, COUNT_OF(all_results), "locale.json");
	setlocale(LC_ALL, "C");
	ck_assert_str_eq(text, expected_json);
	free(text);
}
END_TEST

START_TEST(test_json_empty_capture)
{
	memscope_capture capture = {
		.summary = { .version = MEMSCOPE_SUMMARY_VERSION, .program = "", .truncated = true },
	};
	char *text = export_json(&capture, NULL, 0, "empty.json");
	ck_assert_str_eq(text, expected_empty_json);
	free(text);
}
END_TEST

START_TEST(test_json_parses)
{
	memscope_capture capture = make_capture();
	make_results();
	char *text = export_json(&capture, all_results, COUNT_OF(all_results), "parses.json");
	/* Valid JSON, and the nasty string decodes to what was given, its
	 * invalid bytes each replaced by U+FFFD. */
	int status = run_with_input(
	    "/usr/bin/python3",
	    "/usr/bin/python3 -I -c 'import json, sys\n"
	    "d = json.load(sys.stdin)\n"
	    "t = d[\"results\"][1][\"findings\"][0][\"text\"]\n"
	    "want = \"q\\\"b\\\\n\\nt\\tc\\x01d\\x7f \\u00e9\\u2603\\U0001f600 x\\ufffd\\ufffd\\ufffds"
	    "\\ufffd\\ufffd\\ufffdl\\u2028</script>\"\n"
	    "sys.exit(0 if t == want and d[\"schema_version\"] == 1 else 3)'",
	    text);
	if (status >= 0)
		ck_assert_int_eq(status, 0);
	free(text);
}
END_TEST

START_TEST(test_json_rejects_an_old_host)
{
	struct fake_plugin plugin;
	ck_assert_int_eq(fake_plugin_load(&plugin, exporters_directory, "json.so", "json"), 0);
	memscope_host old = *fake_host();
	old.version = 0;
	memscope_capture capture = make_capture();
	FILE *out = tmpfile();
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(plugin.exporter->write(&old, &capture, NULL, 0, out), -ENOTSUP);
	old = *fake_host();
	old.finding_at = NULL;
	ck_assert_int_eq(plugin.exporter->write(&old, &capture, NULL, 0, out), -ENOTSUP);
	ck_assert_int_eq(plugin.exporter->write(fake_host(), &capture, NULL, 0, NULL), -EINVAL);
	fclose(out);
	fake_plugin_unload(&plugin);
}
END_TEST

/* ---- json: tasks ---------------------------------------------------------- */

#define TASK_BLOCK(stack_id, bytes, from_ms, until_ms, was_freed, owner, freer)               \
	{ .version = MEMSCOPE_BLOCK_VERSION, .stack = (stack_id), .address = 0x1000 * (stack_id), \
	  .size = (bytes), .usable = (bytes), .thread = (owner) == 3 ? 1 : 0,                     \
	  .allocated_ns = MS(from_ms), .freed_ns = MS(until_ms), .freed = (was_freed),           \
	  .task = (owner), .freed_by_task = (freer) }

/* The main thread's root task (1) frees its one block itself; the request
 * (2) allocates three, of which the coroutine (3) frees the first and two
 * stay live, from stacks 12 and 7: its leaks, the bigger first.  A block
 * of no task (stack 8) is nobody's leak, and stack 5 is freed, so neither
 * is among the stacks. */
static const memscope_block task_blocks[] = {
	TASK_BLOCK(3, 2048, 5, 25, true, 2, 3),
	TASK_BLOCK(5, 4096, 0, 40, true, 1, 1),
	TASK_BLOCK(8, 64, 1, 40, false, 0, 0),
	TASK_BLOCK(12, 1024, 10, 40, false, 2, 0),
	TASK_BLOCK(7, 512, 20, 40, false, 2, 0),
};

static const uint32_t main_threads[] = { 0 };
static const uint32_t request_threads[] = { 0, 1 };
static const uint32_t coroutine_threads[] = { 1 };

static const memscope_task tasks[] = {
	{ .version = MEMSCOPE_TASK_VERSION, .id = 1, .parent = 0, .began_on = 0,
	  .origin = "thread", .name = "main", .key = 1000, .begin_ns = 0, .end_ns = MS(40),
	  .ended = false, .children = 1, .threads = main_threads,
	  .thread_count = COUNT_OF(main_threads), .allocations = 1, .allocated_bytes = 4096,
	  .frees = 1, .freed_bytes = 4096, .peak_bytes = 4096, .peak_time_ns = 0 },
	{ .version = MEMSCOPE_TASK_VERSION, .id = 2, .parent = 1, .began_on = 0,
	  .origin = "annotation", .name = "request \"42\"", .key = 42, .begin_ns = MS(5),
	  .end_ns = MS(30), .ended = true, .children = 1, .threads = request_threads,
	  .thread_count = COUNT_OF(request_threads), .allocations = 3, .allocated_bytes = 3584,
	  .frees = 1, .freed_bytes = 2048, .freed_by_others = 1, .freed_by_others_bytes = 2048,
	  .live_blocks = 2, .live_bytes = 1536, .peak_bytes = 3584, .peak_time_ns = MS(20),
	  .end_live_blocks = 2, .end_live_bytes = 1536 },
	{ .version = MEMSCOPE_TASK_VERSION, .id = 3, .parent = 2, .began_on = 1,
	  .origin = "ucontext", .name = "", .key = 0x7ffd1000, .begin_ns = MS(15),
	  .end_ns = MS(35), .ended = true, .children = 0, .threads = coroutine_threads,
	  .thread_count = COUNT_OF(coroutine_threads), .freed_of_others = 1,
	  .freed_of_others_bytes = 2048 },
};

static memscope_capture make_task_capture(void)
{
	memscope_capture capture = make_capture();
	capture.summary.backend = "async";
	capture.summary.tasks = COUNT_OF(tasks);
	capture.blocks = task_blocks;
	capture.block_count = COUNT_OF(task_blocks);
	capture.tasks = tasks;
	capture.task_count = COUNT_OF(tasks);
	return capture;
}

/* From the stacks to the timeline: the stacks are the leaks' alone (no
 * results name any), the tasks follow the threads. */
static const char expected_task_sections[] =
	"  \"stacks\": {\n"
	"    \"7\": [\n"
	"      {\"function\": null, \"file\": null, \"line\": 0, "
	"\"inlined\": false, \"module\": \"/lib/libc.so.6\", \"offset\": 672},\n"
	"      {\"function\": \"helper\", \"file\": \"src/h.h\", \"line\": 3, "
	"\"inlined\": true, \"module\": \"/usr/bin/demo\", \"offset\": 5376},\n"
	"      {\"function\": \"main\", \"file\": \"src/main.c\", \"line\": 9, "
	"\"inlined\": false, \"module\": \"/usr/bin/demo\", \"offset\": 4112}\n"
	"    ],\n"
	"    \"12\": [\n"
	"      {\"function\": \"worker\", \"file\": \"src/w.c\", \"line\": 10, "
	"\"inlined\": false, \"module\": \"/usr/bin/demo\", \"offset\": 8192}\n"
	"    ]\n"
	"  },\n"
	"  \"threads\": {\n"
	"    \"0\": \"main\",\n"
	"    \"1\": \"worker \\\"1\\\"\"\n"
	"  },\n"
	"  \"tasks\": [\n"
	"    {\"id\": 1, \"parent\": 0, \"name\": \"main\", \"origin\": \"thread\", "
	"\"key\": 1000, \"began_on\": 0, \"threads\": [0], \"begin_ns\": 0, "
	"\"end_ns\": 40000000, \"ended\": false, \"children\": 1, \"allocations\": 1, "
	"\"allocated_bytes\": 4096, \"frees\": 1, \"freed_bytes\": 4096, "
	"\"freed_by_others\": 0, \"freed_by_others_bytes\": 0, \"freed_of_others\": 0, "
	"\"freed_of_others_bytes\": 0, \"peak_bytes\": 4096, \"peak_time_ns\": 0, "
	"\"live_at_end_blocks\": 0, \"live_at_end_bytes\": 0, \"leaked_blocks\": 0, "
	"\"leaked_bytes\": 0, \"accuracy\": \"exact\", \"leaks\": []},\n"
	"    {\"id\": 2, \"parent\": 1, \"name\": \"request \\\"42\\\"\", "
	"\"origin\": \"annotation\", \"key\": 42, \"began_on\": 0, \"threads\": [0, 1], "
	"\"begin_ns\": 5000000, \"end_ns\": 30000000, \"ended\": true, \"children\": 1, "
	"\"allocations\": 3, \"allocated_bytes\": 3584, \"frees\": 1, \"freed_bytes\": 2048, "
	"\"freed_by_others\": 1, \"freed_by_others_bytes\": 2048, \"freed_of_others\": 0, "
	"\"freed_of_others_bytes\": 0, \"peak_bytes\": 3584, \"peak_time_ns\": 20000000, "
	"\"live_at_end_blocks\": 2, \"live_at_end_bytes\": 1536, \"leaked_blocks\": 2, "
	"\"leaked_bytes\": 1536, \"accuracy\": \"exact\", \"leaks\": [{\"stack\": 12, "
	"\"blocks\": 1, \"bytes\": 1024, \"accuracy\": \"exact\"}, {\"stack\": 7, \"blocks\": 1, "
	"\"bytes\": 512, \"accuracy\": \"exact\"}]},\n"
	"    {\"id\": 3, \"parent\": 2, \"name\": \"\", \"origin\": \"ucontext\", "
	"\"key\": 2147291136, \"began_on\": 1, \"threads\": [1], \"begin_ns\": 15000000, "
	"\"end_ns\": 35000000, \"ended\": true, \"children\": 0, \"allocations\": 0, "
	"\"allocated_bytes\": 0, \"frees\": 0, \"freed_bytes\": 0, \"freed_by_others\": 0, "
	"\"freed_by_others_bytes\": 0, \"freed_of_others\": 1, \"freed_of_others_bytes\": 2048, "
	"\"peak_bytes\": 0, \"peak_time_ns\": 0, \"live_at_end_blocks\": 0, "
	"\"live_at_end_bytes\": 0, \"leaked_blocks\": 0, \"leaked_bytes\": 0, "
	"\"accuracy\": \"exact\", \"leaks\": []}\n"
	"  ],\n"
	"  \"timeline\": [\n";

START_TEST(test_json_tasks)
{
	memscope_capture capture = make_task_capture();
	char *text = export_json(&capture, NULL, 0, "tasks.json");
	const char *sections = strstr(text, "  \"stacks\": {\n");
	ck_assert_ptr_nonnull(sections);
	ck_assert(strncmp(sections, expected_task_sections, strlen(expected_task_sections)) == 0);
	ck_assert_uint_eq(occurrences(text, "\"tasks\""), 1);

	assert_python("import json, sys\n"
	              "d = json.load(sys.stdin)\n"
	              "t = d[\"tasks\"]\n"
	              "ok = [x[\"id\"] for x in t] == [1, 2, 3] and "
	              "all(str(l[\"stack\"]) in d[\"stacks\"] for x in t for l in x[\"leaks\"])\n"
	              "sys.exit(0 if ok else 3)",
	              text);
	free(text);
}
END_TEST

/* A stack named by both the results and a task's leaks is listed once. */
START_TEST(test_json_tasks_share_stacks_with_results)
{
	memscope_capture capture = make_task_capture();
	make_results();
	char *text = export_json(&capture, all_results, COUNT_OF(all_results), "tasks-all.json");
	ck_assert_uint_eq(occurrences(text, "    \"7\": [\n"), 1);
	ck_assert_uint_eq(occurrences(text, "    \"12\": [\n"), 1);
	ck_assert_ptr_nonnull(strstr(text, "\"leaks\": [{\"stack\": 12, \"blocks\": 1, "
	                                   "\"bytes\": 1024, \"accuracy\": \"exact\"}, "
	                                   "{\"stack\": 7, \"blocks\": 1, \"bytes\": 512, "
	                                   "\"accuracy\": \"exact\"}]},\n"));
	free(text);
}
END_TEST

/* No tasks, no key: neither in a capture without them, nor from a host
 * before ABI 1.2, whose summary cannot count them. */
START_TEST(test_json_without_tasks)
{
	memscope_capture capture = make_capture();
	char *text = export_json(&capture, NULL, 0, "no-tasks.json");
	ck_assert_ptr_null(strstr(text, "\"tasks\""));
	free(text);

	capture = make_task_capture();
	capture.summary.version = 2;
	text = export_json(&capture, NULL, 0, "old-summary.json");
	ck_assert_ptr_null(strstr(text, "\"tasks\""));
	ck_assert_ptr_nonnull(strstr(text, "  \"stacks\": {},\n"));
	free(text);
}
END_TEST

/* 100,000 tasks, each leaking from two stacks (one shared by all): one walk
 * of the blocks, grouped by task and stack, and the leaks of the last task
 * are in their place. */
START_TEST(test_json_many_tasks)
{
	enum { TASK_COUNT = 100000 };
	memscope_task *many = calloc(TASK_COUNT, sizeof(*many));
	memscope_block *leaked = calloc(3 * (size_t)TASK_COUNT, sizeof(*leaked));
	ck_assert_ptr_nonnull(many);
	ck_assert_ptr_nonnull(leaked);
	for (uint32_t i = 0; i < TASK_COUNT; i++) {
		uint32_t id = i + 1;
		many[i] = (memscope_task){ .version = MEMSCOPE_TASK_VERSION, .id = id,
			                   .parent = id > 1 ? 1 : 0, .origin = "annotation",
			                   .name = "", .key = id, .threads = main_threads,
			                   .thread_count = 1, .allocations = 3,
			                   .allocated_bytes = 3 * 16, .live_blocks = 3,
			                   .live_bytes = 3 * 16 };
		for (size_t b = 0; b < 3; b++)
			leaked[3 * i + b] = (memscope_block){ .version = MEMSCOPE_BLOCK_VERSION,
				                              .stack = b == 0 ? 3 : 1000 + i,
				                              .size = 16, .task = id };
	}
	memscope_capture capture = make_capture();
	capture.summary.tasks = TASK_COUNT;
	capture.tasks = many;
	capture.task_count = TASK_COUNT;
	capture.blocks = leaked;
	capture.block_count = 3 * (size_t)TASK_COUNT;
	capture.sample_count = 0;
	char *text = export_json(&capture, NULL, 0, "many-tasks.json");
	ck_assert_ptr_nonnull(strstr(text, "{\"id\": 100000, \"parent\": 1,"));
	ck_assert_ptr_nonnull(strstr(text, "\"leaks\": [{\"stack\": 100999, \"blocks\": 2, "
	                                   "\"bytes\": 32, \"accuracy\": \"exact\"}, "
	                                   "{\"stack\": 3, \"blocks\": 1, \"bytes\": 16, "
	                                   "\"accuracy\": \"exact\"}]}\n  ],\n"));
	ck_assert_ptr_nonnull(strstr(text, "    \"100999\": []\n  },\n"));
	free(text);
	free(leaked);
	free(many);
}
END_TEST

/* ---- json: exact, estimated, mixed ---------------------------------------- */

/* A hybrid capture: one task whose leaks are a large block recorded for
 * sure (stack 12), samples (stack 7), and one of each (stack 3). */
#define WEIGHED_BLOCK(stack_id, bytes, address_of, block_weight)                              \
	{ .version = MEMSCOPE_BLOCK_VERSION, .stack = (stack_id), .address = (address_of),      \
	  .size = (bytes), .usable = (bytes), .allocated_ns = MS(1), .freed_ns = MS(40),         \
	  .task = 1, .weight = (block_weight) }

static const memscope_block weighed_blocks[] = {
	WEIGHED_BLOCK(12, 8192, 0x1000, 1.0),
	WEIGHED_BLOCK(7, 100, 0x2000, 10.0),
	WEIGHED_BLOCK(3, 8192, 0x3000, 1.0),
	WEIGHED_BLOCK(3, 200, 0x4000, 5.0),
};

static const memscope_task weighed_task = {
	.version = MEMSCOPE_TASK_VERSION, .id = 1, .origin = "thread", .name = "main",
	.threads = main_threads, .thread_count = 1, .allocations = 17,
	.allocated_bytes = 18384, .live_blocks = 17, .live_bytes = 18384,
	.accuracy = MEMSCOPE_ACCURACY_MIXED,
};

static const memscope_column weighed_columns[] = {
	{ "stack", "Stack", MEMSCOPE_COLUMN_STACK },
	{ "blocks", "Blocks", MEMSCOPE_COLUMN_COUNT },
	{ "accuracy", "Accuracy", MEMSCOPE_COLUMN_TEXT },
};

static const memscope_value weighed_values[] = {
	{ .stack = 12 }, { .count = 1 }, { .text = "exact" },
	{ .stack = 7 }, { .count = 10 }, { .text = "estimated" },
	{ .stack = 3 }, { .count = 6 }, { .text = "mixed" },
};

static const memscope_table weighed_tables[] = {
	{ "leaks", "Leaks", weighed_columns, COUNT_OF(weighed_columns), weighed_values, 3 },
};

static memscope_capture make_weighed_capture(void)
{
	memscope_capture capture = make_capture();
	capture.summary.backend = "hybrid";
	capture.summary.sample_interval = 1000;
	capture.summary.sample_interval_min = 1000;
	capture.summary.sample_interval_max = 1000;
	capture.summary.exact_above = 5000;
	capture.summary.tasks = 1;
	capture.summary.allocations_accuracy = MEMSCOPE_ACCURACY_MIXED;
	capture.summary.reallocations_accuracy = MEMSCOPE_ACCURACY_EXACT;
	capture.summary.frees_accuracy = MEMSCOPE_ACCURACY_ESTIMATED;
	capture.summary.peak_accuracy = MEMSCOPE_ACCURACY_MIXED;
	capture.summary.live_accuracy = MEMSCOPE_ACCURACY_EXACT;
	capture.blocks = weighed_blocks;
	capture.block_count = COUNT_OF(weighed_blocks);
	capture.tasks = &weighed_task;
	capture.task_count = 1;
	return capture;
}

START_TEST(test_json_accuracy)
{
	memscope_capture capture = make_weighed_capture();
	const memscope_results weighed = { "leaks", weighed_tables, 1, NULL, 0 };
	const memscope_results *const results[] = { &weighed };
	char *text = export_json(&capture, results, 1, "accuracy.json");
	ck_assert_ptr_nonnull(strstr(text, "    \"live_bytes\": 1536,\n"
	                                   "    \"accuracy\": {\"allocations\": \"mixed\", "
	                                   "\"reallocations\": \"exact\", \"frees\": \"estimated\", "
	                                   "\"peak\": \"mixed\", \"live\": \"exact\"},\n"
	                                   "    \"threads\": 2,\n"));
	/* The analyzer's column goes through as any text column. */
	ck_assert_ptr_nonnull(strstr(text, "{\"name\": \"accuracy\", \"title\": \"Accuracy\", "
	                                   "\"type\": \"text\"}\n"));
	ck_assert_ptr_nonnull(strstr(text, "            [12, 1, \"exact\"],\n"
	                                   "            [7, 10, \"estimated\"],\n"
	                                   "            [3, 6, \"mixed\"]\n"));
	/* The task's, from the host; its leaks', from their blocks. */
	ck_assert_ptr_nonnull(strstr(text, "\"leaked_bytes\": 18384, \"accuracy\": \"mixed\", "
	                                   "\"leaks\": [{\"stack\": 3, \"blocks\": 6, "
	                                   "\"bytes\": 9192, \"accuracy\": \"mixed\"}, "
	                                   "{\"stack\": 12, \"blocks\": 1, \"bytes\": 8192, "
	                                   "\"accuracy\": \"exact\"}, {\"stack\": 7, "
	                                   "\"blocks\": 10, \"bytes\": 1000, "
	                                   "\"accuracy\": \"estimated\"}]}\n"));
	assert_python("import json, sys\n"
	              "d = json.load(sys.stdin)\n"
	              "a = d[\"capture\"][\"accuracy\"]\n"
	              "t = d[\"tasks\"][0]\n"
	              "ok = a[\"frees\"] == \"estimated\" and t[\"accuracy\"] == \"mixed\" and "
	              "[l[\"accuracy\"] for l in t[\"leaks\"]] == "
	              "[\"mixed\", \"exact\", \"estimated\"]\n"
	              "sys.exit(0 if ok else 3)",
	              text);
	free(text);
}
END_TEST

/* A host before ABI 1.4 says nothing of accuracy: a sampled capture's
 * figures are then all estimates, as the sampling says. */
START_TEST(test_json_accuracy_from_an_old_host)
{
	memscope_capture capture = make_weighed_capture();
	capture.summary.version = 4;
	memscope_task task = weighed_task;
	task.version = 1;
	capture.tasks = &task;
	char *text = export_json(&capture, NULL, 0, "accuracy-old.json");
	ck_assert_ptr_nonnull(strstr(text, "\"accuracy\": {\"allocations\": \"estimated\", "
	                                   "\"reallocations\": \"estimated\", "
	                                   "\"frees\": \"estimated\", \"peak\": \"estimated\", "
	                                   "\"live\": \"estimated\"},\n"));
	ck_assert_ptr_nonnull(strstr(text, "\"leaked_bytes\": 18384, \"accuracy\": \"estimated\", "));
	free(text);
}
END_TEST

/* ---- svg ------------------------------------------------------------------- */

static void assert_valid_xml(const char *text)
{
	int status = run_with_input("/usr/bin/xmllint", "/usr/bin/xmllint --noout -", text);
	if (status >= 0)
		ck_assert_int_eq(status, 0);
}

START_TEST(test_svg_plugin_describes_itself)
{
	struct fake_plugin plugin;
	ck_assert_int_eq(fake_plugin_load(&plugin, exporters_directory, "svg.so", "svg"), 0);
	ck_assert_uint_eq(plugin.info->abi_major, MEMSCOPE_PLUGIN_ABI_MAJOR);
	ck_assert_str_eq(plugin.exporter->extension, "svg");
	fake_plugin_unload(&plugin);
}
END_TEST

START_TEST(test_svg_chart)
{
	memscope_capture capture = make_capture();
	capture.summary.program = "./demo <&> \xff";
	make_results();
	char *text = export_svg(&capture, all_results, COUNT_OF(all_results), "chart.svg");
	assert_valid_xml(text);

	ck_assert(strncmp(text, "<?xml version=\"1.0\" encoding=\"UTF-8\"", 36) == 0);
	ck_assert_ptr_nonnull(strstr(text, "width=\"960\" height=\"540\""));
	ck_assert_ptr_nonnull(strstr(text, "<title>memscope: ./demo &lt;&amp;&gt; &#xFFFD; "
	                                   "\xe2\x80\x94 peak 8.0 KiB at 20.0 ms</title>"));
	ck_assert_ptr_null(strstr(text, "<script"));
	/* Four lines, their legend, the axes' units. */
	ck_assert_uint_eq(occurrences(text, "<polyline"), 4);
	ck_assert_ptr_nonnull(strstr(text, ">live heap (requested)</text>"));
	ck_assert_ptr_nonnull(strstr(text, ">RSS</text>"));
	ck_assert_ptr_nonnull(strstr(text, ">jemalloc active</text>"));
	ck_assert_ptr_nonnull(strstr(text, ">jemalloc resident</text>"));
	ck_assert_ptr_nonnull(strstr(text, ">0 KiB</text>"));
	ck_assert_ptr_nonnull(strstr(text, ">10 KiB</text>"));
	ck_assert_ptr_nonnull(strstr(text, ">40 ms</text>"));
	/* Three sites (the table has three rows), named by their innermost
	 * frame, stacked in the table's order. */
	ck_assert_uint_eq(occurrences(text, "<polygon"), 3);
	ck_assert_ptr_nonnull(strstr(text, ">make_buffer</text>"));
	ck_assert_ptr_nonnull(strstr(text, ">worker</text>"));
	ck_assert_ptr_nonnull(strstr(text, ">libc.so.6+0x2a0</text>"));

	/* The plot is 84..724 by 64..470; the axes end at 40 ms and 10 KiB.
	 * make_buffer's site (stacks 3 and 8): 0, 2048, 3072, 1024, 0 bytes. */
	ck_assert_ptr_nonnull(strstr(text, "points=\" 84.0,470.0 244.0,388.8 404.0,348.2 "
	                                   "564.0,429.4 724.0,470.0 724.0,470.0 564.0,470.0 "
	                                   "404.0,470.0 244.0,470.0 84.0,470.0\""));
	/* The third site on top of the other two: 1024, 3072, 4096, 2560, 1536
	 * over 1024, 3072, 4096, 2048, 1024. */
	ck_assert_ptr_nonnull(strstr(text, "points=\" 84.0,429.4 244.0,348.2 404.0,307.6 "
	                                   "564.0,368.5 724.0,409.1 724.0,429.4 564.0,388.8 "
	                                   "404.0,307.6 244.0,348.2 84.0,429.4\""));
	/* The heap line, drawn through every sample. */
	ck_assert_ptr_nonnull(strstr(text, "points=\" 84.0,267.0 244.0,185.8 404.0,145.2 "
	                                   "564.0,206.1 724.0,246.7\""));
	free(text);
}
END_TEST

START_TEST(test_svg_without_sites_or_samples)
{
	memscope_capture capture = make_capture();
	make_results();
	const memscope_results *const only_leaks[] = { &leaks };
	char *text = export_svg(&capture, only_leaks, 1, "no-sites.svg");
	assert_valid_xml(text);
	ck_assert_uint_eq(occurrences(text, "<polyline"), 4);
	ck_assert_uint_eq(occurrences(text, "<polygon"), 0);
	ck_assert_ptr_null(strstr(text, "top sites"));
	free(text);

	capture.sample_count = 0;
	capture.summary.program = "";
	text = export_svg(&capture, all_results, COUNT_OF(all_results), "no-samples.svg");
	assert_valid_xml(text);
	ck_assert_uint_eq(occurrences(text, "<polyline"), 0);
	ck_assert_ptr_nonnull(strstr(text, "no timeline samples"));
	ck_assert_ptr_nonnull(strstr(text, "<title>memscope: /tmp/demo.memscope"));
	free(text);
}
END_TEST

/* An hour of 10 ms samples draws at most two points per pixel column. */
START_TEST(test_svg_thins_long_timelines)
{
	enum { SAMPLE_COUNT = 360000 };
	memscope_sample *many = calloc(SAMPLE_COUNT, sizeof(*many));
	ck_assert_ptr_nonnull(many);
	for (size_t i = 0; i < SAMPLE_COUNT; i++) {
		uint64_t wave = (i * 7919) % 1000;
		many[i] = (memscope_sample){ .version = MEMSCOPE_SAMPLE_VERSION,
			                     .time_ns = MS(10 * i),
			                     .heap_live_bytes = (uint64_t)1 << 20 | wave << 10,
			                     .rss_bytes = (uint64_t)3 << 20,
			                     .jemalloc_active = (uint64_t)2 << 20,
			                     .jemalloc_resident = (uint64_t)5 << 19 };
	}
	memscope_capture capture = make_capture();
	capture.samples = many;
	capture.sample_count = SAMPLE_COUNT;
	capture.summary.duration_ns = MS(10 * (uint64_t)SAMPLE_COUNT);
	make_results();
	char *text = export_svg(&capture, all_results, COUNT_OF(all_results), "long.svg");
	ck_assert_uint_lt(strlen(text), 200000);
	ck_assert_ptr_nonnull(strstr(text, ">4000 s</text>"));
	assert_valid_xml(text);
	free(text);
	free(many);
}
END_TEST

static Suite *exporters_suite(void)
{
	Suite *suite = suite_create("exporters");
	TCase *json = tcase_create("json");
	/* 100,000 tasks under the sanitizers, on a loaded machine. */
	tcase_set_timeout(json, 60);
	tcase_add_test(json, test_json_plugin_describes_itself);
	tcase_add_test(json, test_json_golden);
	tcase_add_test(json, test_json_is_deterministic);
	tcase_add_test(json, test_json_ignores_the_host_locale);
	tcase_add_test(json, test_json_empty_capture);
	tcase_add_test(json, test_json_parses);
	tcase_add_test(json, test_json_rejects_an_old_host);
	tcase_add_test(json, test_json_tasks);
	tcase_add_test(json, test_json_tasks_share_stacks_with_results);
	tcase_add_test(json, test_json_without_tasks);
	tcase_add_test(json, test_json_many_tasks);
	tcase_add_test(json, test_json_accuracy);
	tcase_add_test(json, test_json_accuracy_from_an_old_host);
	suite_add_tcase(suite, json);

	TCase *svg = tcase_create("svg");
	tcase_set_timeout(svg, 60);
	tcase_add_test(svg, test_svg_plugin_describes_itself);
	tcase_add_test(svg, test_svg_chart);
	tcase_add_test(svg, test_svg_without_sites_or_samples);
	tcase_add_test(svg, test_svg_thins_long_timelines);
	suite_add_tcase(suite, svg);
	return suite;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		exporters_directory = argv[1];
	SRunner *runner = srunner_create(exporters_suite());
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
