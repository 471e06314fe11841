/* test_html.c - the html exporter plugin, loaded from its built .so
 * (directory in argv[1]) and driven by the fake host of
 * exporters_fake_host.h: the page is one self-contained file with a
 * Content-Security-Policy and no network address, its JSON island parses
 * and its sums match the blocks (python3, when installed), a capture with
 * 100k stacks makes a bounded page, and, when chromium is installed (path
 * in argv[2]), the page draws itself headless, passes its own #selftest
 * without a console message, and is screenshotted.
 *
 * For tests/meson.build (the exporter is in exporters/meson.build as
 * html_exporter):
 *
 *   test_html = executable('test_html',
 *     'test_html.c', 'exporters_fake_host.c',
 *     include_directories: root_include,
 *     c_args: sanitize_args,
 *     link_args: sanitize_args,
 *     dependencies: [check_dep, dl_dep])
 *   test('html', test_html,
 *     args: [meson.project_build_root() / 'exporters', '/usr/bin/chromium'],
 *     depends: [html_exporter],
 *     suite: 'unit', timeout: 240)
 *
 * HTML_TEST_KEEP=1 in the environment keeps the pages and screenshots in
 * their temporary directory (the path is printed).
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exporters_fake_host.h"

static const char *exporters_directory = "build/exporters";
static const char *chromium_path = "/usr/bin/chromium";

#define COUNT_OF(array) (sizeof(array) / sizeof((array)[0]))
#define MS(value) ((uint64_t)(value) * 1000000u)

#define CSP "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; " \
            "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">"
#define SVG_NAMESPACE "http://www.w3.org/2000/svg"
/* Text that would end the data island or the page's script if it were not
 * escaped, and bytes that are not UTF-8. */
#define HOSTILE "</script><script>alert(1)</script><!-- \xff & \xe2\x80\xa8"

/* ---- a small capture --------------------------------------------------------- */

static const memscope_frame stack_1[] = {
	{ MEMSCOPE_FRAME_VERSION, "make_buffer", "src/buffer.c", 42, false, "/usr/bin/demo", 0x1234 },
	{ MEMSCOPE_FRAME_VERSION, "main", "src/main.c", 7, false, "/usr/bin/demo", 0x1000 },
};
static const memscope_frame stack_2[] = {
	{ MEMSCOPE_FRAME_VERSION, NULL, NULL, 0, false, "/lib/libc.so.6", 0x2a0 },
	{ MEMSCOPE_FRAME_VERSION, "helper", "src/h.h", 3, true, "/usr/bin/demo", 0x1500 },
	{ MEMSCOPE_FRAME_VERSION, "main", "src/main.c", 9, false, "/usr/bin/demo", 0x1010 },
};
static const memscope_frame stack_3[] = {
	{ MEMSCOPE_FRAME_VERSION, "worker", "src/w.c", 10, false, "/usr/bin/demo", 0x2000 },
	{ MEMSCOPE_FRAME_VERSION, HOSTILE, "src/" HOSTILE ".c", 1, false, "/usr/bin/demo", 0x2100 },
};

static const struct fake_stack stacks[] = {
	{ 1, stack_1, COUNT_OF(stack_1) },
	{ 2, stack_2, COUNT_OF(stack_2) },
	{ 3, stack_3, COUNT_OF(stack_3) },
};

#define BLOCK(stack_id, bytes, on_thread, from_ms, until_ms, was_freed)                       \
	{ .version = MEMSCOPE_BLOCK_VERSION, .stack = (stack_id), .address = 0x1000 * (stack_id), \
	  .size = (bytes), .usable = (bytes), .thread = (on_thread),                             \
	  .allocated_ns = MS(from_ms), .freed_ns = MS(until_ms), .freed = (was_freed) }

/* Peak at 30 ms: 1000 + 300 + 64 + 4000 = 5364 bytes live (the block of
 * stack 2 freed at 30 ms is gone by then).  Leaked: 1000 + 64 = 1064. */
static const memscope_block blocks[] = {
	BLOCK(2, 500, 0, 5, 30, true),
	BLOCK(1, 300, 0, 10, 40, true),
	BLOCK(3, 4000, 1, 30, 45, true),
	BLOCK(1, 1000, 0, 1, 50, false),
	BLOCK(3, 64, 1, 20, 50, false),
};

static const memscope_sample samples[] = {
	{ .version = MEMSCOPE_SAMPLE_VERSION, .time_ns = MS(10), .heap_live_bytes = 1864,
	  .rss_bytes = 4u << 20, .jemalloc_active = 1u << 20, .jemalloc_resident = 3u << 20 },
	{ .version = MEMSCOPE_SAMPLE_VERSION, .time_ns = MS(30), .heap_live_bytes = 5364,
	  .rss_bytes = 5u << 20, .jemalloc_active = 2u << 20, .jemalloc_resident = 3u << 20 },
	{ .version = MEMSCOPE_SAMPLE_VERSION, .time_ns = MS(50), .heap_live_bytes = 1064,
	  .rss_bytes = 5u << 20, .jemalloc_active = 1u << 20, .jemalloc_resident = 3u << 20 },
};

static const char *const thread_names[] = { "main", "worker-1" };

static memscope_capture small_capture(void)
{
	memscope_capture capture = {
		.summary = {
			.version = MEMSCOPE_SUMMARY_VERSION,
			.path = "/tmp/demo.memscope",
			.program = "/usr/bin/demo " HOSTILE,
			.backend = "exact",
			.duration_ns = MS(50),
			.allocations = 5,
			.frees = 3,
			.allocated_bytes = 5864,
			.peak_bytes = 5364,
			.peak_time_ns = MS(30),
			.live_blocks = 2,
			.live_bytes = 1064,
			.threads = 2,
			.ended_cleanly = true,
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
	return capture;
}

/* ---- results like the real analyzers' ------------------------------------------- */

static const memscope_column site_columns[] = {
	{ "stack", "Allocated at", MEMSCOPE_COLUMN_STACK },
	{ "allocations", "Allocations", MEMSCOPE_COLUMN_COUNT },
	{ "bytes", "Bytes", MEMSCOPE_COLUMN_BYTES },
};
static const memscope_value site_values[] = {
	{ .stack = 3 }, { .count = 2 }, { .count = 4064 },
	{ .stack = 1 }, { .count = 2 }, { .count = 1300 },
	{ .stack = 2 }, { .count = 1 }, { .count = 500 },
};
static const memscope_table hotspot_tables[] = {
	{ "sites", "Allocation sites", site_columns, COUNT_OF(site_columns), site_values, 3 },
};
static const struct fake_finding hotspot_findings[] = {
	{ MEMSCOPE_SEVERITY_INFO, "5 allocations from 3 sites " HOSTILE },
};

static const memscope_column leak_columns[] = {
	{ "stack", "Allocated at", MEMSCOPE_COLUMN_STACK },
	{ "blocks", "Blocks", MEMSCOPE_COLUMN_COUNT },
	{ "bytes", "Bytes", MEMSCOPE_COLUMN_BYTES },
	{ "first_allocated", "First allocated", MEMSCOPE_COLUMN_TIME },
	{ "tags", "Tags", MEMSCOPE_COLUMN_TEXT },
};
static const memscope_value leak_values[] = {
	{ .stack = 1 }, { .count = 1 }, { .count = 1000 }, { .count = MS(1) }, { .text = "" },
	{ .stack = 3 }, { .count = 1 }, { .count = 64 }, { .count = MS(20) }, { .text = HOSTILE },
};
static const memscope_table leak_tables[] = {
	{ "leaks", "Leaks: blocks never freed", leak_columns, COUNT_OF(leak_columns), leak_values, 2 },
};
static const struct fake_finding leak_findings[] = {
	{ MEMSCOPE_SEVERITY_PROBLEM, "2 blocks, 1,064 bytes leaked in 2 places" },
	{ MEMSCOPE_SEVERITY_WARNING, "a warning to show its colour" },
};

static const memscope_column waste_columns[] = {
	{ "usable_size", "Usable size", MEMSCOPE_COLUMN_COUNT },
	{ "waste", "Waste", MEMSCOPE_COLUMN_BYTES },
	{ "waste_ratio", "Waste ratio", MEMSCOPE_COLUMN_RATIO },
};
static const memscope_value waste_values[] = {
	{ .count = 4096 }, { .count = 96 }, { .real = 0.0234375 },
	{ .count = 64 }, { .count = 0 }, { .real = 0.0 },
};
static const memscope_table fragmentation_tables[] = {
	{ "waste_by_size_class", "Padding inside blocks", waste_columns, COUNT_OF(waste_columns),
	  waste_values, 2 },
};

static const memscope_results results_list[] = {
	{ "leaks", leak_tables, COUNT_OF(leak_tables), leak_findings, COUNT_OF(leak_findings) },
	{ "hotspots", hotspot_tables, COUNT_OF(hotspot_tables), hotspot_findings,
	  COUNT_OF(hotspot_findings) },
	{ "fragmentation", fragmentation_tables, COUNT_OF(fragmentation_tables), NULL, 0 },
};

static const memscope_results *const all_results[] = {
	&results_list[0], &results_list[1], &results_list[2],
};

/* ---- helpers -------------------------------------------------------------------- */

static char *export_page(memscope_capture *capture, const memscope_results *const *results,
                         size_t count, size_t *length)
{
	struct fake_plugin plugin;
	ck_assert_int_eq(fake_plugin_load(&plugin, exporters_directory, "html.so", "html"), 0);
	ck_assert_str_eq(plugin.exporter->extension, "html");
	char *page = NULL;
	ck_assert_int_eq(fake_export(&plugin, capture, results, count, &page, length), 0);
	fake_plugin_unload(&plugin);
	ck_assert_ptr_nonnull(page);
	return page;
}

static size_t count_of(const char *text, const char *needle)
{
	size_t count = 0;
	for (const char *at = strstr(text, needle); at; at = strstr(at + 1, needle))
		count++;
	return count;
}

static void write_file(const char *path, const char *text, size_t length)
{
	FILE *file = fopen(path, "w");
	ck_assert_ptr_nonnull(file);
	ck_assert_uint_eq(fwrite(text, 1, length, file), length);
	ck_assert_int_eq(fclose(file), 0);
}

static char *read_file(const char *path)
{
	FILE *file = fopen(path, "r");
	if (!file)
		return strdup("");
	char *text = NULL;
	size_t size = 0;
	ssize_t got = getdelim(&text, &size, '\0', file);
	fclose(file);
	if (got < 0) {
		free(text);
		return strdup("");
	}
	return text;
}

static bool have_python(void)
{
	return system("command -v python3 >/dev/null 2>&1") == 0;
}

static bool have_chromium(void)
{
	return chromium_path && access(chromium_path, X_OK) == 0;
}

static char *make_temporary_directory(void)
{
	char *directory = strdup("/tmp/memscope-html-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(directory));
	return directory;
}

static void remove_temporary_directory(char *directory)
{
	const char *keep = getenv("HTML_TEST_KEEP");
	if (keep && *keep && strcmp(keep, "0") != 0) {
		fprintf(stderr, "test_html: kept %s\n", directory);
	} else {
		char command[4200];
		snprintf(command, sizeof(command), "rm -rf '%s'", directory);
		ck_assert_int_eq(system(command), 0);
	}
	free(directory);
}

/* Everything outside the data island, and the island itself, checked for
 * the things a self-contained, offline page must and must not have. */
static void assert_self_contained(const char *page)
{
	ck_assert_ptr_nonnull(strstr(page, "<!DOCTYPE html>"));
	ck_assert_ptr_nonnull(strstr(page, CSP));
	/* The policy comes before any script or style. */
	ck_assert(strstr(page, CSP) < strstr(page, "<style>"));
	ck_assert(strstr(page, CSP) < strstr(page, "<script"));
	/* No address but the SVG namespace's name (never fetched). */
	size_t namespaces = count_of(page, SVG_NAMESPACE);
	ck_assert_uint_eq(count_of(page, "http://"), namespaces);
	ck_assert_uint_eq(count_of(page, "https://"), 0);
	/* Hostile text cannot close a script: exactly the island's and the
	 * page script's end tags. */
	ck_assert_uint_eq(count_of(page, "</script"), 2);
	ck_assert_uint_eq(count_of(page, "<script"), 2);
	ck_assert_uint_eq(count_of(page, "<!--"), 0);
	ck_assert_ptr_nonnull(strstr(page, "<script type=\"application/json\" id=\"memscope-data\">"));
	/* Nothing loaded from outside: no src or href attributes at all. */
	ck_assert_ptr_null(strstr(page, " src="));
	ck_assert_ptr_null(strstr(page, " href="));
}

/* Runs python3 on the page with a script that reads the island as d (and,
 * when other_path is not NULL, that JSON document as j); the script
 * asserts.  Returns its exit status. */
static int check_pages(const char *page_path, const char *other_path, const char *assertions)
{
	size_t size = strlen(assertions) + 2 * 4200 + 1024;
	char *command = malloc(size);
	ck_assert_ptr_nonnull(command);
	snprintf(command, size,
	         "python3 -I -c '\n"
	         "import json, re, sys\n"
	         "page = open(sys.argv[1], encoding=\"utf-8\").read()\n"
	         "m = re.search(r\"<script type=\\\"application/json\\\" id=\\\"memscope-data\\\">(.*?)</script>\", page, re.S)\n"
	         "d = json.loads(m.group(1))\n"
	         "j = json.load(open(sys.argv[2], encoding=\"utf-8\")) if len(sys.argv) > 2 else None\n"
	         "%s\n"
	         "' '%s' %s%s%s",
	         assertions, page_path, other_path ? "'" : "", other_path ? other_path : "",
	         other_path ? "'" : "");
	int status = system(command);
	free(command);
	return status;
}

static int check_island(const char *page_path, const char *assertions)
{
	return check_pages(page_path, NULL, assertions);
}

/* Writes the page of capture with results as name.html in a new temporary
 * directory, which it returns for the caller to remove; the page's path
 * goes into path. */
static char *write_page(memscope_capture *capture, const memscope_results *const *results,
                        size_t count, const char *name, char *path, size_t size)
{
	size_t length = 0;
	char *page = export_page(capture, results, count, &length);
	char *directory = make_temporary_directory();
	snprintf(path, size, "%s/%s.html", directory, name);
	write_file(path, page, length);
	free(page);
	return directory;
}

/* ---- the tests ------------------------------------------------------------------ */

START_TEST(test_page_is_self_contained)
{
	memscope_capture capture = small_capture();
	size_t length = 0;
	char *page = export_page(&capture, all_results, COUNT_OF(all_results), &length);
	ck_assert_uint_eq(strlen(page), length);
	assert_self_contained(page);
	/* The program's name is escaped in the title. */
	ck_assert_ptr_nonnull(strstr(page, "<title>memscope: /usr/bin/demo &lt;/script&gt;"));
	free(page);
}
END_TEST

START_TEST(test_island_parses_and_adds_up)
{
	if (!have_python()) {
		fprintf(stderr, "test_html: python3 not found, island not parsed\n");
		return;
	}
	memscope_capture capture = small_capture();
	char path[4200];
	char *directory = write_page(&capture, all_results, COUNT_OF(all_results), "page", path,
	                             sizeof(path));
	/* Flame root: bytes, count, live at peak, leaked of all blocks; the
	 * summary as given; the hostile text back intact (U+FFFD for \xff);
	 * threads summed from blocks; every table row; the named stacks. */
	int status = check_island(path,
	        "s = d[\"summary\"]\n"
	        "assert s[\"allocations\"] == 5 and s[\"peak_bytes\"] == 5364, s\n"
	        "assert s[\"program\"] == \"/usr/bin/demo </script><script>alert(1)</script><!-- \\ufffd & \\u2028\", s[\"program\"]\n"
	        "root = d[\"flame\"][0]\n"
	        "assert root[0] == -1 and root[5:9] == [5864, 5, 5364, 1064], root\n"
	        "names = [n[2] for n in d[\"flame\"]]\n"
	        "assert \"make_buffer\" in names and \"libc.so.6\" in names, names\n"
	        "assert d[\"threads\"] == [[0, \"main\", 3, 1800, 1300, 1, 1000, \"exact\"], [1, \"worker-1\", 2, 4064, 4064, 1, 64, \"exact\"]], d[\"threads\"]\n"
	        "assert [r[\"analyzer\"] for r in d[\"results\"]] == [\"leaks\", \"hotspots\", \"fragmentation\"]\n"
	        "assert d[\"results\"][1][\"tables\"][0][\"rows\"] == [[3, 2, 4064], [1, 2, 1300], [2, 1, 500]]\n"
	        "assert d[\"results\"][2][\"tables\"][0][\"rows\"][0] == [4096, 96, 0.0234375]\n"
	        "assert sorted(d[\"stacks\"]) == [\"1\", \"2\", \"3\"], d[\"stacks\"].keys()\n"
	        "assert d[\"stacks\"][\"2\"][0][0] is None and d[\"stacks\"][\"2\"][1][5] is True\n"
	        "assert len(d[\"timeline\"]) == 3 and d[\"timeline\"][1] == [30000000, 5364, 5 << 20, 2 << 20, 3 << 20]\n");
	ck_assert_int_eq(status, 0);
	remove_temporary_directory(directory);
}
END_TEST

/* ---- 100k stacks --------------------------------------------------------------- */

#define MANY_STACKS 100000
#define MANY_DEPTH 8

struct many {
	memscope_capture capture;
	memscope_frame *frames;
	struct fake_stack *stacks;
	memscope_block *blocks;
	char (*names)[24];
	memscope_sample *samples;
};

/* 100k distinct stacks under a few hundred functions: main at the bottom,
 * then a fan-out that makes every stack unique.  One block per stack,
 * every third one leaked, and an hour of 10 ms samples. */
static void many_create(struct many *many)
{
	memset(many, 0, sizeof(*many));
	enum { FUNCTIONS = 400, SAMPLES = 360000 };
	many->names = calloc(FUNCTIONS, sizeof(*many->names));
	many->frames = calloc((size_t)MANY_STACKS * MANY_DEPTH, sizeof(*many->frames));
	many->stacks = calloc(MANY_STACKS, sizeof(*many->stacks));
	many->blocks = calloc(MANY_STACKS, sizeof(*many->blocks));
	many->samples = calloc(SAMPLES, sizeof(*many->samples));
	ck_assert(many->names && many->frames && many->stacks && many->blocks && many->samples);
	for (int f = 0; f < FUNCTIONS; f++)
		snprintf(many->names[f], sizeof(many->names[f]), "function_%d", f);
	uint64_t peak = 0, bytes = 0;
	for (uint32_t s = 0; s < MANY_STACKS; s++) {
		memscope_frame *frames = &many->frames[(size_t)s * MANY_DEPTH];
		uint32_t digits = s;
		for (int depth = 0; depth < MANY_DEPTH; depth++) {
			/* Innermost first; the outermost is always function_0. */
			int level = MANY_DEPTH - 1 - depth;
			int function = level == 0 ? 0 : 1 + (int)(digits % 10) + 10 * level;
			if (level > 0)
				digits /= 10;
			frames[depth] = (memscope_frame){ .version = MEMSCOPE_FRAME_VERSION,
				.function = many->names[function], .file = "many.c",
				.line = (uint32_t)level, .module = "/usr/bin/many" };
		}
		many->stacks[s] = (struct fake_stack){ s + 1, frames, MANY_DEPTH };
		bool leaked = s % 3 == 0;
		many->blocks[s] = (memscope_block){ .version = MEMSCOPE_BLOCK_VERSION, .stack = s + 1,
			.size = 16 + s % 1000, .usable = 16 + s % 1000, .thread = s % 4,
			.allocated_ns = s, .freed_ns = leaked ? MS(3600000) : s + 1, .freed = !leaked };
		bytes += 16 + s % 1000;
		if (leaked)
			peak += 16 + s % 1000;
	}
	for (uint32_t i = 0; i < SAMPLES; i++)
		many->samples[i] = (memscope_sample){ .version = MEMSCOPE_SAMPLE_VERSION,
			.time_ns = MS(10) * i, .heap_live_bytes = (i * 7919u) % 100000,
			.rss_bytes = 50u << 20, .jemalloc_active = 20u << 20,
			.jemalloc_resident = 30u << 20 };
	many->capture = (memscope_capture){
		.summary = { .version = MEMSCOPE_SUMMARY_VERSION, .path = "many.memscope",
			.program = "many", .backend = "exact", .duration_ns = MS(3600000),
			.allocations = MANY_STACKS, .frees = MANY_STACKS - (MANY_STACKS + 2) / 3,
			.allocated_bytes = bytes, .peak_bytes = peak, .peak_time_ns = MS(3600000) - 1,
			.live_blocks = (MANY_STACKS + 2) / 3, .live_bytes = peak,
			.threads = 4, .ended_cleanly = true },
		.blocks = many->blocks,
		.block_count = MANY_STACKS,
		.samples = many->samples,
		.sample_count = SAMPLES,
		.stacks = many->stacks,
		.stack_count = MANY_STACKS,
		.thread_names = thread_names,
		.thread_count = COUNT_OF(thread_names),
	};
}

static void many_destroy(struct many *many)
{
	free(many->names);
	free(many->frames);
	free(many->stacks);
	free(many->blocks);
	free(many->samples);
}

/* The fake host looks stacks up one by one, which 100k stacks make
 * quadratic; this host is the fake's with a lookup by index (the ids here
 * are 1..MANY_STACKS). */
static int many_stack_frames(memscope_capture *capture, uint32_t stack,
                             const memscope_frame **frames, size_t *count)
{
	if (stack == 0 || stack > capture->stack_count)
		return -ENOENT;
	*frames = capture->stacks[stack - 1].frames;
	*count = capture->stacks[stack - 1].frame_count;
	return 0;
}

/* Writes the page for the many-stacks capture with hotspot-like results
 * naming its first 1000 stacks. */
static char *export_many(struct many *many, size_t *length)
{
	static memscope_value values[1000 * 3];
	for (size_t row = 0; row < 1000; row++) {
		values[row * 3].stack = (uint32_t)row + 1;
		values[row * 3 + 1].count = 1;
		values[row * 3 + 2].count = 16 + row % 1000;
	}
	static const memscope_table tables[] = {
		{ "sites", "Allocation sites", site_columns, COUNT_OF(site_columns), values, 1000 },
	};
	static const memscope_results hotspots = { "hotspots", tables, 1, NULL, 0 };
	static const memscope_results *const results[] = { &hotspots };

	struct fake_plugin plugin;
	ck_assert_int_eq(fake_plugin_load(&plugin, exporters_directory, "html.so", "html"), 0);
	memscope_host host = *fake_host();
	host.stack_frames = many_stack_frames;
	char *page = NULL;
	FILE *out = open_memstream(&page, length);
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(plugin.exporter->write(&host, &many->capture, results, 1, out), 0);
	ck_assert_int_eq(fclose(out), 0);
	fake_plugin_unload(&plugin);
	return page;
}

START_TEST(test_many_stacks_stay_small)
{
	struct many many;
	many_create(&many);
	size_t length = 0;
	char *page = export_many(&many, &length);
	assert_self_contained(page);
	fprintf(stderr, "test_html: 100k stacks, 360k samples: a page of %zu bytes\n", length);
	/* Per-stack sums and a folded flame tree, not per-block data. */
	ck_assert_uint_lt(length, 4u << 20);
	if (have_python()) {
		char *directory = make_temporary_directory();
		char path[4200];
		snprintf(path, sizeof(path), "%s/many.html", directory);
		write_file(path, page, length);
		int status = check_island(path,
		        "f = d[\"flame\"]\n"
		        "assert d[\"stack_count\"] == 100000\n"
		        "assert f[0][6] == 100000, f[0]\n"
		        "assert f[0][5] == sum(16 + s % 1000 for s in range(100000)) == d[\"summary\"][\"allocated_bytes\"]\n"
		        "assert f[0][7] == f[0][8] == d[\"summary\"][\"peak_bytes\"] == sum(16 + s % 1000 for s in range(0, 100000, 3))\n"
		        "assert len(f) < 35000, len(f)\n"
		        "assert any(n[1] == 2 for n in f), \"no other node\"\n"
		        "assert len(d[\"timeline\"]) <= 6000, len(d[\"timeline\"])\n"
		        "at = [p for p in d[\"timeline\"] if p[0] == d[\"summary\"][\"peak_time_ns\"]]\n"
		        "assert len(at) == 1 and at[0][1] == d[\"summary\"][\"peak_bytes\"], at\n"
		        "assert max(p[1] for p in d[\"timeline\"] if p is not at[0]) == max((i * 7919) % 100000 for i in range(360000))\n");
		ck_assert_int_eq(status, 0);
		remove_temporary_directory(directory);
	}
	free(page);
	many_destroy(&many);
}
END_TEST

/* ---- tasks --------------------------------------------------------------------- */

/* Three tasks: main (a thread's root task) began request 7, which began
 * the coroutine fetch_page on the worker thread.  The coroutine frees a
 * block of the request's (freed of others / freed by others) and main
 * frees the coroutine's resized block after the coroutine ended.  Every
 * figure below follows from the events:
 *
 *   task 1 main:       +100 @1, -100 @35, +50 @45       peak 100 @1,   leaks 50
 *   task 2 request 7:  +1000 @3, +400 @4, +200 @12, -400 @20
 *                                                        peak 1600 @12, leaks 1000 + 200
 *   task 3 fetch_page: +64 @6, +2000 @8, resized to 3000 @10, -3000 @25
 *                                                        peak 3064 @10, leaks 64 */
static const uint32_t on_main[] = { 0 };
static const uint32_t on_both[] = { 0, 1 };
static const uint32_t on_worker[] = { 1 };

static const memscope_task three_tasks[] = {
	{ .version = MEMSCOPE_TASK_VERSION, .id = 1, .parent = 0, .began_on = 0, .origin = "thread",
	  .name = "main", .key = 4242, .begin_ns = 0, .end_ns = MS(50), .ended = false,
	  .children = 1, .threads = on_main, .thread_count = 1, .allocations = 2, .allocated_bytes = 150,
	  .frees = 1, .freed_bytes = 100, .freed_of_others = 1, .freed_of_others_bytes = 3000,
	  .live_blocks = 1, .live_bytes = 50, .peak_bytes = 100, .peak_time_ns = MS(1) },
	{ .version = MEMSCOPE_TASK_VERSION, .id = 2, .parent = 1, .began_on = 0,
	  .origin = "annotation", .name = "request 7", .key = 7, .begin_ns = MS(2), .end_ns = MS(30), .ended = true,
	  .children = 1, .threads = on_both, .thread_count = 2, .allocations = 3,
	  .allocated_bytes = 1600, .frees = 1, .freed_bytes = 400, .freed_by_others = 1,
	  .freed_by_others_bytes = 400, .live_blocks = 2, .live_bytes = 1200, .peak_bytes = 1600,
	  .peak_time_ns = MS(12), .end_live_blocks = 2, .end_live_bytes = 1200 },
	{ .version = MEMSCOPE_TASK_VERSION, .id = 3, .parent = 2, .began_on = 1,
	  .origin = "ucontext", .name = "fetch_page", .key = 0x7f0000001000u, .begin_ns = MS(5), .end_ns = MS(22),
	  .ended = true, .threads = on_worker, .thread_count = 1, .allocations = 2,
	  .allocated_bytes = 2064, .frees = 1, .freed_bytes = 3000, .freed_by_others = 1,
	  .freed_by_others_bytes = 3000, .freed_of_others = 1, .freed_of_others_bytes = 400,
	  .live_blocks = 1, .live_bytes = 64, .peak_bytes = 3064, .peak_time_ns = MS(10),
	  .end_live_blocks = 2, .end_live_bytes = 3064 },
};

#define EVENT(what, at_ms, on_thread, at, bytes, stack_id, by_task, owner)                 \
	{ .version = MEMSCOPE_EVENT_VERSION, .type = MEMSCOPE_EVENT_##what,                 \
	  .time_ns = MS(at_ms), .thread = (on_thread), .address = (at), .size = (bytes),     \
	  .usable = (bytes), .stack = (stack_id), .weight = 1.0, .task = (by_task),          \
	  .owner_task = (owner) }

static const memscope_event task_events[] = {
	EVENT(ALLOC, 1, 0, 0x100, 100, 1, 1, 1),
	EVENT(ALLOC, 3, 0, 0x200, 1000, 1, 2, 2),
	EVENT(ALLOC, 4, 0, 0x300, 400, 2, 2, 2),
	EVENT(ALLOC, 6, 1, 0x400, 64, 3, 3, 3),
	EVENT(ALLOC, 8, 1, 0x500, 2000, 3, 3, 3),
	EVENT(RESIZE, 10, 1, 0x500, 3000, 3, 3, 3),
	EVENT(ALLOC, 12, 1, 0x600, 200, 2, 2, 2),
	EVENT(FREE, 20, 1, 0x300, 400, 2, 3, 2),
	EVENT(FREE, 25, 0, 0x500, 3000, 3, 1, 3),
	EVENT(FREE, 35, 0, 0x100, 100, 1, 1, 1),
	EVENT(ALLOC, 45, 0, 0x700, 50, 1, 1, 1),
};

#define TASK_BLOCK(at, stack_id, bytes, on_thread, from_ms, until_ms, was_freed, owner, freer) \
	{ .version = MEMSCOPE_BLOCK_VERSION, .stack = (stack_id), .address = (at),                \
	  .size = (bytes), .usable = (bytes), .thread = (on_thread), .task = (owner),             \
	  .allocated_ns = MS(from_ms), .freed_ns = MS(until_ms), .freed = (was_freed),            \
	  .weight = 1.0, .freed_by_task = (freer) }

/* In order of their end. */
static const memscope_block task_blocks[] = {
	TASK_BLOCK(0x300, 2, 400, 0, 4, 20, true, 2, 3),
	TASK_BLOCK(0x500, 3, 3000, 1, 8, 25, true, 3, 1),
	TASK_BLOCK(0x100, 1, 100, 0, 1, 35, true, 1, 1),
	TASK_BLOCK(0x200, 1, 1000, 0, 3, 50, false, 2, 0),
	TASK_BLOCK(0x400, 3, 64, 1, 6, 50, false, 3, 0),
	TASK_BLOCK(0x600, 2, 200, 1, 12, 50, false, 2, 0),
	TASK_BLOCK(0x700, 1, 50, 0, 45, 50, false, 1, 0),
};

static const memscope_sample task_samples[] = {
	{ .version = MEMSCOPE_SAMPLE_VERSION, .time_ns = MS(10), .heap_live_bytes = 4564,
	  .rss_bytes = 4u << 20, .jemalloc_active = 1u << 20, .jemalloc_resident = 3u << 20 },
	{ .version = MEMSCOPE_SAMPLE_VERSION, .time_ns = MS(20), .heap_live_bytes = 4364,
	  .rss_bytes = 5u << 20, .jemalloc_active = 2u << 20, .jemalloc_resident = 3u << 20 },
	{ .version = MEMSCOPE_SAMPLE_VERSION, .time_ns = MS(50), .heap_live_bytes = 1314,
	  .rss_bytes = 5u << 20, .jemalloc_active = 1u << 20, .jemalloc_resident = 3u << 20 },
};

static memscope_capture tasks_capture(void)
{
	memscope_capture capture = {
		.summary = {
			.version = MEMSCOPE_SUMMARY_VERSION,
			.path = "/tmp/tasks.memscope",
			.program = "/usr/bin/served",
			.backend = "async",
			.duration_ns = MS(50),
			.allocations = 7,
			.reallocations = 1,
			.frees = 3,
			.allocated_bytes = 3814,
			.peak_bytes = 4764,
			.peak_time_ns = MS(12),
			.live_blocks = 4,
			.live_bytes = 1314,
			.threads = 2,
			.ended_cleanly = true,
			.tasks = COUNT_OF(three_tasks),
		},
		.blocks = task_blocks,
		.block_count = COUNT_OF(task_blocks),
		.samples = task_samples,
		.sample_count = COUNT_OF(task_samples),
		.stacks = stacks,
		.stack_count = COUNT_OF(stacks),
		.thread_names = thread_names,
		.thread_count = COUNT_OF(thread_names),
		.tasks = three_tasks,
		.task_count = COUNT_OF(three_tasks),
		.events = task_events,
		.event_count = COUNT_OF(task_events),
	};
	return capture;
}

/* The fake tasks as a Python list of rows in the island's column order,
 * leaks left out (they come from the blocks, not the task records). */
static char *tasks_as_python(const memscope_task *tasks, size_t count)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	ck_assert_ptr_nonnull(out);
	fputs("[", out);
	for (size_t i = 0; i < count; i++) {
		const memscope_task *task = &tasks[i];
		fprintf(out, "%s[%u, %u, \"%s\", \"%s\", %" PRIu64 ", %u, [", i ? ", " : "",
		        task->id, task->parent, task->name, task->origin, task->key, task->began_on);
		for (size_t t = 0; t < task->thread_count; t++)
			fprintf(out, "%s%u", t ? ", " : "", task->threads[t]);
		fprintf(out, "], %" PRIu64 ", %" PRIu64 ", %s, %u", task->begin_ns, task->end_ns,
		        task->ended ? "True" : "False", task->children);
		const uint64_t figures[] = {
			task->allocations, task->allocated_bytes, task->frees, task->freed_bytes,
			task->freed_by_others, task->freed_by_others_bytes, task->freed_of_others,
			task->freed_of_others_bytes, task->peak_bytes, task->peak_time_ns,
			task->end_live_blocks, task->end_live_bytes, task->live_blocks,
			task->live_bytes,
		};
		for (size_t f = 0; f < COUNT_OF(figures); f++)
			fprintf(out, ", %" PRIu64, figures[f]);
		/* These tasks' captures record every event. */
		fputs(", \"exact\"]", out);
	}
	fputs("]", out);
	ck_assert_int_eq(fclose(out), 0);
	return text;
}

/* The island of a page: from its opening tag to its </script>. */
static char *island_of(const char *page)
{
	static const char open_tag[] = "<script type=\"application/json\" id=\"memscope-data\">";
	const char *start = strstr(page, open_tag);
	ck_assert_ptr_nonnull(start);
	start += strlen(open_tag);
	const char *end = strstr(start, "</script>");
	ck_assert_ptr_nonnull(end);
	return strndup(start, (size_t)(end - start));
}

/* What every island with tasks must hold whatever the capture: one row
 * per task with the columns' fields, series for the highest peaks only,
 * each at most series_points buckets, whose highest value is the task's
 * peak and whose last is what it leaked (the events replay its blocks). */
#define TASK_ISLAND_INVARIANTS                                                                   \
	"t = d[\"tasks\"]\n"                                                                      \
	"c = {name: i for i, name in enumerate(t[\"columns\"])}\n"                                \
	"rows = {r[c[\"id\"]]: r for r in t[\"rows\"]}\n"                                          \
	"assert t[\"series_limit\"] == 50 and t[\"series_points\"] == 400, t\n"                    \
	"best = sorted(t[\"rows\"], key=lambda r: (-r[c[\"peak_bytes\"]], r[c[\"id\"]]))[:50]\n"  \
	"assert [s[0] for s in t[\"series\"]] == [r[c[\"id\"]] for r in best]\n"                   \
	"for task, origin, width, flat in t[\"series\"]:\n"                                       \
	"    r = rows[task]\n"                                                                    \
	"    assert origin == r[c[\"begin_ns\"]] and width >= 1, (task, origin, width)\n"        \
	"    buckets = flat[0::3]\n"                                                              \
	"    assert len(buckets) <= 400 and buckets == sorted(set(buckets)), (task, buckets)\n"   \
	"    assert all(0 <= b < 400 for b in buckets), (task, buckets)\n"                         \
	"    assert max(flat[1::3], default=0) == r[c[\"peak_bytes\"]], (task, flat)\n"            \
	"    assert (flat[-1] if flat else 0) == r[c[\"leaked_bytes\"]], (task, flat)\n"           \
	"for r in t[\"rows\"]:\n"                                                                 \
	"    leaks = r[c[\"leaks\"]]\n"                                                           \
	"    assert sum(l[2] for l in leaks) == r[c[\"leaked_bytes\"]], r\n"                      \
	"    assert sum(l[1] for l in leaks) == r[c[\"leaked_blocks\"]], r\n"                      \
	"    assert all(str(l[0]) in d[\"stacks\"] for l in leaks), (r, sorted(d[\"stacks\"]))\n"

START_TEST(test_tasks_island)
{
	if (!have_python()) {
		fprintf(stderr, "test_html: python3 not found, island not parsed\n");
		return;
	}
	memscope_capture capture = tasks_capture();
	size_t length = 0;
	char *page = export_page(&capture, all_results, COUNT_OF(all_results), &length);
	assert_self_contained(page);
	char *directory = make_temporary_directory();
	char path[4200], json_path[4200];
	snprintf(path, sizeof(path), "%s/tasks.html", directory);
	write_file(path, page, length);

	/* The json exporter's tasks section, from the same fake host. */
	struct fake_plugin json;
	bool have_json = fake_plugin_load(&json, exporters_directory, "json.so", "json") == 0;
	if (have_json) {
		char *document = NULL;
		size_t document_length = 0;
		ck_assert_int_eq(fake_export(&json, &capture, all_results, COUNT_OF(all_results),
		                             &document, &document_length), 0);
		fake_plugin_unload(&json);
		snprintf(json_path, sizeof(json_path), "%s/tasks.json", directory);
		write_file(json_path, document, document_length);
		free(document);
	} else {
		fprintf(stderr, "test_html: no json exporter in %s, tasks not compared with it\n",
		        exporters_directory);
	}

	char *expected = tasks_as_python(three_tasks, COUNT_OF(three_tasks));
	size_t size = strlen(expected) + 8192;
	char *assertions = malloc(size);
	ck_assert_ptr_nonnull(assertions);
	snprintf(assertions, size,
	        TASK_ISLAND_INVARIANTS
	        "assert t[\"columns\"] == [\"id\", \"parent\", \"name\", \"origin\", \"key\", \"began_on\", \"threads\", \"begin_ns\", \"end_ns\", \"ended\", \"children\", \"allocations\", \"allocated_bytes\", \"frees\", \"freed_bytes\", \"freed_by_others\", \"freed_by_others_bytes\", \"freed_of_others\", \"freed_of_others_bytes\", \"peak_bytes\", \"peak_time_ns\", \"live_at_end_blocks\", \"live_at_end_bytes\", \"leaked_blocks\", \"leaked_bytes\", \"accuracy\", \"leaks\"], t[\"columns\"]\n"
	        "expected = %s\n"
	        "assert [r[:-1] for r in t[\"rows\"]] == expected, (t[\"rows\"], expected)\n"
	        /* Leaks by stack from the blocks, biggest first. */
	        "assert [r[-1] for r in t[\"rows\"]] == [[[1, 1, 50, \"exact\"]], [[1, 1, 1000, \"exact\"], [2, 1, 200, \"exact\"]], [[3, 1, 64, \"exact\"]]], t[\"rows\"]\n"
	        /* Replayed from the events, bucket by bucket: fetch_page's last
	         * event falls past its 400 buckets, which then merge in pairs. */
	        "assert t[\"series\"] == [\n"
	        "    [3, 5000000, 85002, [11, 64, 64, 35, 2064, 2064, 58, 3064, 3064, 235, 64, 64]],\n"
	        "    [2, 2000000, 70001, [14, 1000, 1000, 28, 1400, 1400, 142, 1600, 1600, 257, 1200, 1200]],\n"
	        "    [1, 0, 125001, [7, 100, 100, 279, 0, 0, 359, 50, 50]]], t[\"series\"]\n"
	        "assert sorted(d[\"stacks\"]) == [\"1\", \"2\", \"3\"]\n"
	        /* The same numbers as the json exporter's, key for key. */
	        "if j is not None:\n"
	        "    assert [x[\"id\"] for x in j[\"tasks\"]] == [1, 2, 3], j[\"tasks\"]\n"
	        "    for x in j[\"tasks\"]:\n"
	        "        r = rows[x[\"id\"]]\n"
	        "        for name, i in c.items():\n"
	        "            want = [[l[\"stack\"], l[\"blocks\"], l[\"bytes\"], l[\"accuracy\"]] for l in x[\"leaks\"]] if name == \"leaks\" else x[name]\n"
	        "            assert r[i] == want, (x[\"id\"], name, r[i], want)\n",
	        expected);
	int status = check_pages(path, have_json ? json_path : NULL, assertions);
	ck_assert_int_eq(status, 0);
	free(assertions);
	free(expected);
	remove_temporary_directory(directory);
	free(page);
}
END_TEST

/* Tasks only add their key at the end of the island: the same capture
 * without tasks makes the island before it byte for byte, and so does a
 * host that counts tasks but cannot list them. */
START_TEST(test_tasks_only_add_their_key)
{
	memscope_capture with = tasks_capture();
	memscope_capture without = tasks_capture();
	without.summary.tasks = 0;
	without.tasks = NULL;
	without.task_count = 0;
	size_t length = 0;
	char *page_with = export_page(&with, all_results, COUNT_OF(all_results), &length);
	char *page_without = export_page(&without, all_results, COUNT_OF(all_results), &length);
	char *island_with = island_of(page_with);
	char *island_without = island_of(page_without);
	ck_assert_ptr_null(strstr(island_without, "\"tasks\""));
	size_t common = strlen(island_without) - 1; /* all but its closing brace */
	ck_assert_uint_gt(strlen(island_with), common);
	ck_assert_int_eq(strncmp(island_with, island_without, common), 0);
	ck_assert_int_eq(strncmp(island_with + common, ",\n\"tasks\":{\"columns\":[", 22), 0);

	/* A capture from before tasks has none either. */
	memscope_capture small = small_capture();
	char *page_small = export_page(&small, all_results, COUNT_OF(all_results), &length);
	char *island_small = island_of(page_small);
	ck_assert_ptr_null(strstr(island_small, "\"tasks\""));

	/* A host that counts tasks but cannot list them: no tasks key. */
	struct fake_plugin plugin;
	ck_assert_int_eq(fake_plugin_load(&plugin, exporters_directory, "html.so", "html"), 0);
	memscope_host old_host = *fake_host();
	old_host.version = 1;
	char *page_old = NULL;
	FILE *out = open_memstream(&page_old, &length);
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(plugin.exporter->write(&old_host, &with, all_results,
	                                        COUNT_OF(all_results), out), 0);
	ck_assert_int_eq(fclose(out), 0);
	fake_plugin_unload(&plugin);
	char *island_old = island_of(page_old);
	ck_assert_str_eq(island_old, island_without);

	/* A host without events: the tasks, and "series" null. */
	memscope_capture no_events = tasks_capture();
	no_events.events = NULL;
	no_events.event_count = 0;
	ck_assert_int_eq(fake_plugin_load(&plugin, exporters_directory, "html.so", "html"), 0);
	memscope_host eventless = *fake_host();
	eventless.for_each_event = NULL;
	char *page_eventless = NULL;
	out = open_memstream(&page_eventless, &length);
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(plugin.exporter->write(&eventless, &no_events, all_results,
	                                        COUNT_OF(all_results), out), 0);
	ck_assert_int_eq(fclose(out), 0);
	fake_plugin_unload(&plugin);
	ck_assert_ptr_nonnull(strstr(page_eventless, "\"series\":null}"));

	free(island_old);
	free(page_old);
	free(page_eventless);
	free(island_small);
	free(page_small);
	free(island_with);
	free(island_without);
	free(page_with);
	free(page_without);
}
END_TEST

/* ---- 100k tasks ------------------------------------------------------------------- */

#define MANY_TASKS 100000
/* The root task's own blocks: the first 6000 allocated, then 4000 of
 * them freed, 2000 leaked. */
#define ROOT_ALLOCATIONS 6000
#define ROOT_FREES 4000

struct many_tasks {
	memscope_capture capture;
	memscope_task *tasks;
	char (*names)[24];
	memscope_event *events;
	memscope_block *blocks;
	size_t event_count;
	size_t block_count;
};

static const uint32_t thread_indices[] = { 0, 1, 2, 3 };
static const char *const four_thread_names[] = { "main", "worker-1", "worker-2", "worker-3" };

static int compare_events_by_time(const void *left, const void *right)
{
	const memscope_event *a = left, *b = right;
	if (a->time_ns != b->time_ns)
		return a->time_ns < b->time_ns ? -1 : 1;
	/* The same instant: an allocation before a free, by address. */
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return (a->address > b->address) - (a->address < b->address);
}

static int compare_blocks_by_end(const void *left, const void *right)
{
	const memscope_block *a = left, *b = right;
	if (a->freed_ns != b->freed_ns)
		return a->freed_ns < b->freed_ns ? -1 : 1;
	return (a->address > b->address) - (a->address < b->address);
}

/* Adds an event and keeps its owner's figures, as the host would. */
static void many_tasks_event(struct many_tasks *many, memscope_event_type type, uint64_t time_ns,
                             uint64_t address, uint64_t size, uint32_t by, uint32_t owner,
                             int64_t *live)
{
	memscope_event *event = &many->events[many->event_count++];
	*event = (memscope_event){ .version = MEMSCOPE_EVENT_VERSION, .type = type,
		.time_ns = time_ns, .thread = (owner - 1) % 4, .address = address, .size = size,
		.usable = size, .stack = owner % 3 + 1, .weight = 1.0, .task = by,
		.owner_task = owner };
	memscope_task *task = &many->tasks[owner - 1];
	if (type == MEMSCOPE_EVENT_ALLOC) {
		task->allocations++;
		task->allocated_bytes += size;
		live[owner - 1] += (int64_t)size;
		if ((uint64_t)live[owner - 1] > task->peak_bytes) {
			task->peak_bytes = (uint64_t)live[owner - 1];
			task->peak_time_ns = time_ns;
		}
	} else {
		task->frees++;
		task->freed_bytes += size;
		live[owner - 1] -= (int64_t)size;
		if (by != owner) {
			task->freed_by_others++;
			task->freed_by_others_bytes += size;
			many->tasks[by - 1].freed_of_others++;
			many->tasks[by - 1].freed_of_others_bytes += size;
		}
	}
}

/* 100k tasks a millisecond apart, each allocating one block: every third
 * leaks it, every fifth (of the others) has the next task free it after
 * it ended; the root task allocates 6000 blocks of its own over the whole
 * capture and frees 4000.  The figures are counted from the events. */
static void many_tasks_create(struct many_tasks *many)
{
	memset(many, 0, sizeof(*many));
	size_t events = 2 * MANY_TASKS + ROOT_ALLOCATIONS + ROOT_FREES;
	many->tasks = calloc(MANY_TASKS, sizeof(*many->tasks));
	many->names = calloc(MANY_TASKS, sizeof(*many->names));
	many->events = calloc(events, sizeof(*many->events));
	many->blocks = calloc(MANY_TASKS + ROOT_ALLOCATIONS, sizeof(*many->blocks));
	int64_t *live = calloc(MANY_TASKS, sizeof(*live));
	ck_assert(many->tasks && many->names && many->events && many->blocks && live);
	const uint64_t duration = (uint64_t)(MANY_TASKS + 10) * MS(1);
	static const char *const origins[] = { "annotation", "ucontext", "annotation" };
	for (uint32_t i = 1; i <= MANY_TASKS; i++) {
		memscope_task *task = &many->tasks[i - 1];
		if (i == 1)
			snprintf(many->names[0], sizeof(many->names[0]), "main");
		else
			snprintf(many->names[i - 1], sizeof(many->names[i - 1]), "%s %u",
			         i % 3 == 1 ? "fetch" : "request", i);
		*task = (memscope_task){ .version = MEMSCOPE_TASK_VERSION, .id = i,
			.parent = i == 1 ? 0 : i / 2, .began_on = (i - 1) % 4,
			.origin = i == 1 ? "thread" : origins[i % 3], .name = many->names[i - 1],
			.key = i, .begin_ns = i == 1 ? 0 : (uint64_t)i * MS(1),
			.end_ns = i == 1 ? duration : (uint64_t)i * MS(1) + 800000, .ended = i != 1,
			.children = (i * 2 <= MANY_TASKS) + (i * 2 + 1 <= MANY_TASKS),
			.threads = &thread_indices[(i - 1) % 4], .thread_count = 1 };
	}
	for (uint32_t i = 2; i <= MANY_TASKS; i++) {
		uint64_t begin = (uint64_t)i * MS(1);
		uint64_t address = 0x100000u + (uint64_t)i * 0x100;
		uint64_t size = 16 + i % 1000;
		many_tasks_event(many, MEMSCOPE_EVENT_ALLOC, begin + 100000, address, size, i, i,
		                 live);
		if (i % 3 == 0)
			continue;
		if (i % 5 == 0 && i < MANY_TASKS)
			many_tasks_event(many, MEMSCOPE_EVENT_FREE, begin + 1200000, address, size,
			                 i + 1, i, live);
		else
			many_tasks_event(many, MEMSCOPE_EVENT_FREE, begin + 500000, address, size,
			                 i, i, live);
	}
	for (uint32_t j = 0; j < ROOT_ALLOCATIONS + ROOT_FREES; j++) {
		uint64_t time_ns = (uint64_t)j * 10000000u + 50000;
		if (j < ROOT_ALLOCATIONS)
			many_tasks_event(many, MEMSCOPE_EVENT_ALLOC, time_ns, 0x40000000u + j * 0x40,
			                 1000, 1, 1, live);
		else
			many_tasks_event(many, MEMSCOPE_EVENT_FREE, time_ns,
			                 0x40000000u + (j - ROOT_ALLOCATIONS) * 0x40, 1000, 1, 1, live);
	}
	free(live);
	qsort(many->events, many->event_count, sizeof(*many->events), compare_events_by_time);

	/* The blocks and the summary from the events in time order.  Each
	 * address is used once: its block's index is kept by address. */
	size_t *block_of = calloc(MANY_TASKS + ROOT_ALLOCATIONS, sizeof(*block_of));
	ck_assert_ptr_nonnull(block_of);
	uint64_t live_bytes = 0, peak = 0, peak_time = 0, allocated = 0, frees = 0;
	for (size_t e = 0; e < many->event_count; e++) {
		const memscope_event *event = &many->events[e];
		size_t slot = event->address >= 0x40000000u ?
		                  MANY_TASKS + (size_t)(event->address - 0x40000000u) / 0x40 :
		                  (size_t)(event->address - 0x100000u) / 0x100;
		if (event->type == MEMSCOPE_EVENT_ALLOC) {
			block_of[slot] = many->block_count;
			many->blocks[many->block_count++] = (memscope_block){
				.version = MEMSCOPE_BLOCK_VERSION, .stack = event->stack,
				.address = event->address, .size = event->size, .usable = event->size,
				.thread = event->thread, .task = event->owner_task,
				.allocated_ns = event->time_ns, .freed_ns = duration, .weight = 1.0 };
			allocated += event->size;
			live_bytes += event->size;
			if (live_bytes > peak) {
				peak = live_bytes;
				peak_time = event->time_ns;
			}
		} else {
			memscope_block *block = &many->blocks[block_of[slot]];
			ck_assert_uint_eq(block->address, event->address);
			block->freed = true;
			block->freed_ns = event->time_ns;
			block->freed_by_task = event->task;
			live_bytes -= event->size;
			frees++;
		}
	}
	for (size_t b = 0; b < many->block_count; b++) {
		const memscope_block *block = &many->blocks[b];
		memscope_task *task = &many->tasks[block->task - 1];
		if (!block->freed) {
			task->live_blocks++;
			task->live_bytes += block->size;
		}
		if (task->ended && block->allocated_ns <= task->end_ns &&
		    (!block->freed || block->freed_ns > task->end_ns)) {
			task->end_live_blocks++;
			task->end_live_bytes += block->size;
		}
	}
	free(block_of);
	qsort(many->blocks, many->block_count, sizeof(*many->blocks), compare_blocks_by_end);
	many->capture = (memscope_capture){
		.summary = { .version = MEMSCOPE_SUMMARY_VERSION, .path = "tasks.memscope",
			.program = "many-tasks", .backend = "async", .duration_ns = duration,
			.allocations = many->block_count, .frees = frees, .allocated_bytes = allocated,
			.peak_bytes = peak, .peak_time_ns = peak_time,
			.live_blocks = many->block_count - frees, .live_bytes = live_bytes,
			.threads = 4, .ended_cleanly = true, .tasks = MANY_TASKS },
		.blocks = many->blocks,
		.block_count = many->block_count,
		.stacks = stacks,
		.stack_count = COUNT_OF(stacks),
		.thread_names = four_thread_names,
		.thread_count = COUNT_OF(four_thread_names),
		.tasks = many->tasks,
		.task_count = MANY_TASKS,
		.events = many->events,
		.event_count = many->event_count,
	};
}

static void many_tasks_destroy(struct many_tasks *many)
{
	free(many->tasks);
	free(many->names);
	free(many->events);
	free(many->blocks);
}

START_TEST(test_many_tasks_stay_bounded)
{
	struct many_tasks many;
	many_tasks_create(&many);
	size_t length = 0;
	char *page = export_page(&many.capture, all_results, COUNT_OF(all_results), &length);
	assert_self_contained(page);
	fprintf(stderr, "test_html: 100k tasks, %zu events: a page of %zu bytes\n",
	        many.event_count, length);
	/* One compact row per task, and 50 series of at most 400 points. */
	ck_assert_uint_lt(length, 16u << 20);
	if (have_python()) {
		char *directory = make_temporary_directory();
		char path[4200];
		snprintf(path, sizeof(path), "%s/tasks.html", directory);
		write_file(path, page, length);
		char *expected = tasks_as_python(many.tasks, 5);
		size_t size = strlen(expected) + 4096;
		char *assertions = malloc(size);
		ck_assert_ptr_nonnull(assertions);
		snprintf(assertions, size,
		        TASK_ISLAND_INVARIANTS
		        "assert len(t[\"rows\"]) == 100000 and [r[0] for r in t[\"rows\"]] == list(range(1, 100001))\n"
		        "assert [r[:-1] for r in t[\"rows\"][:5]] == %s\n"
		        "assert len(t[\"series\"]) == 50 and t[\"series\"][0][0] == 1, t[\"series\"][0][:3]\n"
		        /* The root task's 10,000 events over the whole capture fill
		         * its buckets without ever merging them. */
		        "assert len(t[\"series\"][0][3]) // 3 >= 390, len(t[\"series\"][0][3])\n"
		        "assert rows[1][c[\"leaks\"]] == [[2, 2000, 2000000, \"exact\"]], rows[1][c[\"leaks\"]]\n",
		        expected);
		ck_assert_int_eq(check_island(path, assertions), 0);
		free(assertions);
		free(expected);
		remove_temporary_directory(directory);
	}
	free(page);
	many_tasks_destroy(&many);
}
END_TEST

/* ---- exact, estimated, mixed ---------------------------------------------------- */

/* A hybrid capture: blocks of 5,000 bytes or more recorded for sure
 * (weight 1), smaller ones sampled.  Stack 1: a large block alone (exact);
 * stack 2: a large block and a sample (mixed); stack 3: samples alone
 * (estimated), one of them freed.  All of it is task 1's, and thread 0 has
 * the large blocks, thread 1 the samples. */
#define WEIGHED(stack_id, bytes, on_thread, from_ms, until_ms, was_freed, block_weight)        \
	{ .version = MEMSCOPE_BLOCK_VERSION, .stack = (stack_id),                                 \
	  .address = 0x10000 * (stack_id) + MS(from_ms) / 1000, .size = (bytes),                  \
	  .usable = (bytes) > 4096 ? 8192 : 112, .thread = (on_thread),                           \
	  .allocated_ns = MS(from_ms), .freed_ns = MS(until_ms), .freed = (was_freed), .task = 1, \
	  .weight = (block_weight) }

static const memscope_block hybrid_blocks[] = {
	WEIGHED(3, 100, 1, 5, 6, true, 10.0),
	WEIGHED(1, 6000, 0, 1, 50, false, 1.0),
	WEIGHED(2, 8000, 0, 2, 50, false, 1.0),
	WEIGHED(2, 200, 1, 3, 50, false, 5.0),
	WEIGHED(3, 100, 1, 4, 50, false, 10.0),
};

static const memscope_task hybrid_task = {
	.version = MEMSCOPE_TASK_VERSION, .id = 1, .origin = "thread", .name = "main", .key = 99,
	.end_ns = MS(50), .threads = on_both, .thread_count = 2, .allocations = 27,
	.allocated_bytes = 17000, .frees = 10, .freed_bytes = 1000, .live_blocks = 17,
	.live_bytes = 16000, .peak_bytes = 17000, .peak_time_ns = MS(5),
	.accuracy = MEMSCOPE_ACCURACY_MIXED,
};

static const memscope_column weighed_leak_columns[] = {
	{ "stack", "Allocated at", MEMSCOPE_COLUMN_STACK },
	{ "blocks", "Blocks (est.)", MEMSCOPE_COLUMN_COUNT },
	{ "bytes", "Bytes (est.)", MEMSCOPE_COLUMN_BYTES },
	{ "first_allocated", "First allocated", MEMSCOPE_COLUMN_TIME },
	{ "accuracy", "Accuracy", MEMSCOPE_COLUMN_TEXT },
};

static const memscope_value weighed_leak_values[] = {
	{ .stack = 2 }, { .count = 6 }, { .count = 9000 }, { .count = MS(2) }, { .text = "mixed" },
	{ .stack = 1 }, { .count = 1 }, { .count = 6000 }, { .count = MS(1) }, { .text = "exact" },
	{ .stack = 3 }, { .count = 10 }, { .count = 1000 }, { .count = MS(4) },
	{ .text = "estimated" },
};

/* A size class's usable size is a count but no figure: left unmarked. */
static const memscope_column weighed_class_columns[] = {
	{ "usable_size", "Usable size", MEMSCOPE_COLUMN_COUNT },
	{ "blocks", "Blocks (est.)", MEMSCOPE_COLUMN_COUNT },
	{ "accuracy", "Accuracy", MEMSCOPE_COLUMN_TEXT },
};

static const memscope_value weighed_class_values[] = {
	{ .count = 8192 }, { .count = 7 }, { .text = "mixed" },
	{ .count = 112 }, { .count = 20 }, { .text = "estimated" },
};

static const memscope_table weighed_tables[] = {
	{ "leaks", "Leaks (estimated)", weighed_leak_columns, COUNT_OF(weighed_leak_columns),
	  weighed_leak_values, 3 },
};

static const memscope_table weighed_class_tables[] = {
	{ "waste_by_size_class", "Padding (estimated)", weighed_class_columns,
	  COUNT_OF(weighed_class_columns), weighed_class_values, 2 },
};

static const memscope_results weighed_results_list[] = {
	{ "leaks", weighed_tables, 1, NULL, 0 },
	{ "fragmentation", weighed_class_tables, 1, NULL, 0 },
};

static const memscope_results *const weighed_results[] = {
	&weighed_results_list[0], &weighed_results_list[1],
};

static memscope_capture hybrid_capture(void)
{
	memscope_capture capture = {
		.summary = {
			.version = MEMSCOPE_SUMMARY_VERSION, .path = "/tmp/hybrid.memscope",
			.program = "/usr/bin/mixed", .backend = "hybrid", .duration_ns = MS(50),
			.allocations = 27, .frees = 10, .allocated_bytes = 17000, .peak_bytes = 17000,
			.peak_time_ns = MS(5), .live_blocks = 17, .live_bytes = 16000, .threads = 2,
			.ended_cleanly = true, .sample_interval = 1000, .sample_interval_min = 1000,
			.sample_interval_max = 1000, .exact_above = 5000, .tasks = 1,
			.allocations_accuracy = MEMSCOPE_ACCURACY_MIXED,
			.reallocations_accuracy = MEMSCOPE_ACCURACY_EXACT,
			.frees_accuracy = MEMSCOPE_ACCURACY_ESTIMATED,
			.peak_accuracy = MEMSCOPE_ACCURACY_MIXED,
			.live_accuracy = MEMSCOPE_ACCURACY_MIXED,
		},
		.blocks = hybrid_blocks,
		.block_count = COUNT_OF(hybrid_blocks),
		.samples = samples,
		.sample_count = COUNT_OF(samples),
		.stacks = stacks,
		.stack_count = COUNT_OF(stacks),
		.thread_names = thread_names,
		.thread_count = COUNT_OF(thread_names),
		.tasks = &hybrid_task,
		.task_count = 1,
	};
	return capture;
}

START_TEST(test_island_says_how_exact)
{
	if (!have_python()) {
		fprintf(stderr, "test_html: python3 not found, island not parsed\n");
		return;
	}
	memscope_capture capture = hybrid_capture();
	char path[4200];
	char *directory = write_page(&capture, weighed_results, COUNT_OF(weighed_results), "hybrid",
	                             path, sizeof(path));
	int status = check_island(path,
	        "s = d[\"summary\"]\n"
	        "assert s[\"accuracy\"] == {\"allocations\": \"mixed\", \"reallocations\": \"exact\", "
	        "\"frees\": \"estimated\", \"peak\": \"mixed\", \"live\": \"mixed\"}, s\n"
	        "assert d[\"sampling\"][\"exact_above\"] == 5000, d[\"sampling\"]\n"
	        /* Threads from their blocks: 0 has the large ones, 1 the samples. */
	        "assert d[\"threads\"] == [[0, \"main\", 2, 14000, 14000, 2, 14000, \"exact\"], "
	        "[1, \"worker-1\", 25, 3000, 3000, 15, 2000, \"estimated\"]], d[\"threads\"]\n"
	        "t = d[\"tasks\"]\n"
	        "c = {name: i for i, name in enumerate(t[\"columns\"])}\n"
	        "r = t[\"rows\"][0]\n"
	        "assert r[c[\"accuracy\"]] == \"mixed\", r\n"
	        "assert r[c[\"leaks\"]] == [[2, 6, 9000, \"mixed\"], [1, 1, 6000, \"exact\"], "
	        "[3, 10, 1000, \"estimated\"]], r\n");
	ck_assert_int_eq(status, 0);
	remove_temporary_directory(directory);
}
END_TEST

/* ---- in a browser ---------------------------------------------------------------- */

#define CHROMIUM_FLAGS "--headless --no-sandbox --disable-gpu --disable-background-networking " \
                       "--disable-component-update --disable-sync --no-first-run "          \
                       "--enable-logging=stderr --v=0 --virtual-time-budget=5000"

/* Loads directory/name#selftest headless; asserts the page passed its own
 * test and printed nothing to the console (our page logs nothing, so any
 * CONSOLE line is an uncaught error or a CSP violation), then takes a
 * screenshot beside the page, opened at hash ("" for none) in a window of
 * height pixels: headless screenshots show the top of the page whatever
 * the page scrolls to, so a panel far down needs a tall window. */
static void browse(const char *directory, const char *name, const char *hash, int height)
{
	char command[8192];
	snprintf(command, sizeof(command),
	         "cd '%s' && timeout 120 '%s' " CHROMIUM_FLAGS " --user-data-dir='%s/profile' "
	         "--dump-dom 'file://%s/%s.html#selftest' >'%s.dom' 2>'%s.log'",
	         directory, chromium_path, directory, directory, name, name, name);
	ck_assert_int_eq(system(command), 0);

	char path[4200];
	snprintf(path, sizeof(path), "%s/%s.dom", directory, name);
	char *dom = read_file(path);
	snprintf(path, sizeof(path), "%s/%s.log", directory, name);
	char *log = read_file(path);
	const char *verdict = strstr(dom, "data-selftest=\"");
	if (!verdict || strncmp(verdict, "data-selftest=\"pass\"", 20) != 0) {
		fprintf(stderr, "test_html: %s: %.200s\n", name, verdict ? verdict : "no verdict");
		ck_abort_msg("the page's self-test did not pass");
	}
	for (const char *line = log; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t line_length = end ? (size_t)(end - line) : strlen(line);
		if (memmem(line, line_length, "CONSOLE", 7) || memmem(line, line_length, "Refused to", 10) ||
		    memmem(line, line_length, "Content Security Policy", 23)) {
			fprintf(stderr, "test_html: %s: %.*s\n", name, (int)line_length, line);
			ck_abort_msg("the browser reported a console message");
		}
		line = end ? end + 1 : NULL;
	}
	free(dom);
	free(log);

	snprintf(command, sizeof(command),
	         "cd '%s' && timeout 120 '%s' " CHROMIUM_FLAGS " --user-data-dir='%s/profile' "
	         "--hide-scrollbars --screenshot='%s/%s.png' --window-size=1280,%d "
	         "'file://%s/%s.html%s' >/dev/null 2>&1",
	         directory, chromium_path, directory, directory, name, height, directory, name, hash);
	ck_assert_int_eq(system(command), 0);
	snprintf(path, sizeof(path), "%s/%s.png", directory, name);
	ck_assert_int_eq(access(path, R_OK), 0);
	fprintf(stderr, "test_html: screenshot %s\n", path);
}

/* The page of capture with results, browsed as name (browse()) in a new
 * temporary directory, which the caller removes; NULL, and a note, when
 * there is no browser. */
static char *browse_capture(memscope_capture *capture, const memscope_results *const *results,
                            size_t count, const char *name, const char *hash, int height)
{
	if (!have_chromium()) {
		fprintf(stderr, "test_html: %s not found, browser test skipped\n", chromium_path);
		return NULL;
	}
	char path[4200];
	char *directory = write_page(capture, results, count, name, path, sizeof(path));
	browse(directory, name, hash, height);
	return directory;
}

START_TEST(test_browser_small)
{
	memscope_capture capture = small_capture();
	char *directory = browse_capture(&capture, all_results, COUNT_OF(all_results), "small", "",
	                                 1600);
	if (directory)
		remove_temporary_directory(directory);
}
END_TEST

/* The marks as drawn: "~" before estimates, a "mixed" badge on mixed
 * figures, nothing on exact ones; the page's own self-test checks every
 * row, this the words themselves. */
START_TEST(test_browser_marks_accuracy)
{
	memscope_capture capture = hybrid_capture();
	char *directory = browse_capture(&capture, weighed_results, COUNT_OF(weighed_results),
	                                 "hybrid", "#task-1", 3200);
	if (!directory)
		return;
	char path[4200];
	snprintf(path, sizeof(path), "%s/hybrid.dom", directory);
	char *dom = read_file(path);
	static const char *const marks[] = {
		/* Summary: peak mixed, frees estimated. */
		"<div class=\"label\">Peak <span class=\"badge mixed\" title=\"mixed: part exact, part "
		"estimated\">mixed</span></div><div class=\"value\">~16.6 KiB</div>",
		"<div class=\"label\">Frees</div><div class=\"value\" data-field=\"frees\">~10</div>",
		/* Leaks: the mixed row, the exact row, the estimated row. */
		"<td class=\"num mixed\" title=\"6 (mixed: part exact, part estimated)\">~6</td>",
		"<td class=\"num\" title=\"6,000 bytes\">5.9 KiB</td>",
		"<td class=\"num\" title=\"1,000 bytes\">~1,000 bytes</td>",
		"<td class=\"accuracy\">estimated</td>",
		/* A size class's usable size stays unmarked; its blocks do not. */
		"<td class=\"num\">8,192</td><td class=\"num mixed\"",
		/* Threads: the large blocks' thread exact, the other estimated. */
		"<td class=\"num\" title=\"14,000 bytes\">13.7 KiB</td>",
		"<td class=\"num\">~25</td>",
	};
	for (size_t i = 0; i < COUNT_OF(marks); i++)
		ck_assert_msg(strstr(dom, marks[i]) != NULL, "no %s in the page", marks[i]);
	free(dom);
	remove_temporary_directory(directory);
}
END_TEST

START_TEST(test_browser_many_stacks)
{
	if (!have_chromium()) {
		fprintf(stderr, "test_html: %s not found, browser test skipped\n", chromium_path);
		return;
	}
	struct many many;
	many_create(&many);
	size_t length = 0;
	char *page = export_many(&many, &length);
	char *directory = make_temporary_directory();
	char path[4200];
	snprintf(path, sizeof(path), "%s/many.html", directory);
	write_file(path, page, length);
	browse(directory, "many", "", 1600);
	remove_temporary_directory(directory);
	free(page);
	many_destroy(&many);
}
END_TEST

START_TEST(test_browser_tasks)
{
	memscope_capture capture = tasks_capture();
	/* The screenshot opens the coroutine's panel, below the other
	 * sections: its figures, its chart and its leak. */
	char *directory = browse_capture(&capture, all_results, COUNT_OF(all_results), "tasks",
	                                 "#task-3", 3200);
	if (directory)
		remove_temporary_directory(directory);
}
END_TEST

START_TEST(test_browser_many_tasks)
{
	struct many_tasks many;
	many_tasks_create(&many);
	char *directory = browse_capture(&many.capture, all_results, COUNT_OF(all_results),
	                                 "many-tasks", "#task-1", 3200);
	if (directory)
		remove_temporary_directory(directory);
	many_tasks_destroy(&many);
}
END_TEST

static Suite *html_suite(void)
{
	Suite *suite = suite_create("html");
	TCase *page = tcase_create("page");
	tcase_add_test(page, test_page_is_self_contained);
	tcase_add_test(page, test_island_parses_and_adds_up);
	tcase_add_test(page, test_many_stacks_stay_small);
	tcase_add_test(page, test_tasks_island);
	tcase_add_test(page, test_tasks_only_add_their_key);
	tcase_add_test(page, test_many_tasks_stay_bounded);
	tcase_add_test(page, test_island_says_how_exact);
	tcase_set_timeout(page, 120);
	suite_add_tcase(suite, page);
	TCase *browser = tcase_create("browser");
	tcase_add_test(browser, test_browser_small);
	tcase_add_test(browser, test_browser_marks_accuracy);
	tcase_add_test(browser, test_browser_many_stacks);
	tcase_add_test(browser, test_browser_tasks);
	tcase_add_test(browser, test_browser_many_tasks);
	tcase_set_timeout(browser, 200);
	suite_add_tcase(suite, browser);
	return suite;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		exporters_directory = argv[1];
	if (argc > 2)
		chromium_path = argv[2];
	SRunner *runner = srunner_create(html_suite());
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
