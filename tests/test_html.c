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

/* Runs python3 on the page with a script that reads the island as d; the
 * script asserts.  Returns its exit status. */
static int check_island(const char *page_path, const char *assertions)
{
	char command[8192];
	snprintf(command, sizeof(command),
	         "python3 -I -c '\n"
	         "import json, re, sys\n"
	         "page = open(sys.argv[1], encoding=\"utf-8\").read()\n"
	         "m = re.search(r\"<script type=\\\"application/json\\\" id=\\\"memscope-data\\\">(.*?)</script>\", page, re.S)\n"
	         "d = json.loads(m.group(1))\n"
	         "%s\n"
	         "' '%s'",
	         assertions, page_path);
	return system(command);
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
	size_t length = 0;
	char *page = export_page(&capture, all_results, COUNT_OF(all_results), &length);
	char *directory = make_temporary_directory();
	char path[4200];
	snprintf(path, sizeof(path), "%s/page.html", directory);
	write_file(path, page, length);
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
	        "assert d[\"threads\"] == [[0, \"main\", 3, 1800, 1300, 1, 1000], [1, \"worker-1\", 2, 4064, 4064, 1, 64]], d[\"threads\"]\n"
	        "assert [r[\"analyzer\"] for r in d[\"results\"]] == [\"leaks\", \"hotspots\", \"fragmentation\"]\n"
	        "assert d[\"results\"][1][\"tables\"][0][\"rows\"] == [[3, 2, 4064], [1, 2, 1300], [2, 1, 500]]\n"
	        "assert d[\"results\"][2][\"tables\"][0][\"rows\"][0] == [4096, 96, 0.0234375]\n"
	        "assert sorted(d[\"stacks\"]) == [\"1\", \"2\", \"3\"], d[\"stacks\"].keys()\n"
	        "assert d[\"stacks\"][\"2\"][0][0] is None and d[\"stacks\"][\"2\"][1][5] is True\n"
	        "assert len(d[\"timeline\"]) == 3 and d[\"timeline\"][1] == [30000000, 5364, 5 << 20, 2 << 20, 3 << 20]\n");
	ck_assert_int_eq(status, 0);
	remove_temporary_directory(directory);
	free(page);
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
		        "assert max(p[1] for p in d[\"timeline\"]) == max((i * 7919) % 100000 for i in range(360000))\n");
		ck_assert_int_eq(status, 0);
		remove_temporary_directory(directory);
	}
	free(page);
	many_destroy(&many);
}
END_TEST

/* ---- in a browser ---------------------------------------------------------------- */

#define CHROMIUM_FLAGS "--headless --no-sandbox --disable-gpu --disable-background-networking " \
                       "--disable-component-update --disable-sync --no-first-run "          \
                       "--enable-logging=stderr --v=0 --virtual-time-budget=5000"

/* Loads directory/name#selftest headless; asserts the page passed its own
 * test and printed nothing to the console (our page logs nothing, so any
 * CONSOLE line is an uncaught error or a CSP violation), then takes a
 * screenshot beside the page. */
static void browse(const char *directory, const char *name)
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
	         "--hide-scrollbars --screenshot='%s/%s.png' --window-size=1280,1600 "
	         "'file://%s/%s.html' >/dev/null 2>&1",
	         directory, chromium_path, directory, directory, name, directory, name);
	ck_assert_int_eq(system(command), 0);
	snprintf(path, sizeof(path), "%s/%s.png", directory, name);
	ck_assert_int_eq(access(path, R_OK), 0);
	fprintf(stderr, "test_html: screenshot %s\n", path);
}

START_TEST(test_browser_small)
{
	if (!have_chromium()) {
		fprintf(stderr, "test_html: %s not found, browser test skipped\n", chromium_path);
		return;
	}
	memscope_capture capture = small_capture();
	size_t length = 0;
	char *page = export_page(&capture, all_results, COUNT_OF(all_results), &length);
	char *directory = make_temporary_directory();
	char path[4200];
	snprintf(path, sizeof(path), "%s/small.html", directory);
	write_file(path, page, length);
	browse(directory, "small");
	remove_temporary_directory(directory);
	free(page);
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
	browse(directory, "many");
	remove_temporary_directory(directory);
	free(page);
	many_destroy(&many);
}
END_TEST

static Suite *html_suite(void)
{
	Suite *suite = suite_create("html");
	TCase *page = tcase_create("page");
	tcase_add_test(page, test_page_is_self_contained);
	tcase_add_test(page, test_island_parses_and_adds_up);
	tcase_add_test(page, test_many_stacks_stay_small);
	tcase_set_timeout(page, 120);
	suite_add_tcase(suite, page);
	TCase *browser = tcase_create("browser");
	tcase_add_test(browser, test_browser_small);
	tcase_add_test(browser, test_browser_many_stacks);
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
