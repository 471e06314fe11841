/* test_sampling_plugins.c - sampled captures and tracking counters as
 * plugins see them, through the real host: the summary's version 2 fields,
 * every block's and event's weight, the ABI's helpers on version 1 structs,
 * the leaks, hotspots and fragmentation analyzers' estimates and wording,
 * the json exporter's "sampling" and "tracking" objects, the html page
 * (its data, and its self-test in Chromium when there is one), the svg
 * title, and the binary exporter, whose re-packed capture and time window
 * keep the weights.  The capture is sampled_fixture.h's, but for a hybrid
 * one written here, whose exact, estimated and mixed figures the report,
 * the analyzers, the json and the html exporters must all tell alike.
 *
 * usage: test_sampling_plugins ANALYZERS_DIR EXPORTERS_DIR [CHROMIUM]
 */
#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "plugins/capture_view.h"
#include "plugins/host.h"
#include "plugins/registry.h"
#include "plugins/results.h"
#include "replay.h"
#include "report.h"
#include "sampled_fixture.h"

static const char *analyzers_directory;
static const char *exporters_directory;
static const char *chromium;

/* ---- the fixture, opened as plugins see it ------------------------------- */

struct opened {
	struct capture_builder builder;
	struct memscope_capture *view;
	struct plugin_registry *registry;
	struct fixture_expected expected;
};

/* The fixture with its trailer, and a TRACKING record of successes of 10. */
static void open_fixture(struct opened *opened, uint64_t successes)
{
	const struct fixture_options options = {
		.successes = successes, .tracking = true, .trailer = true,
	};
	fixture_write(&opened->builder, &options);
	fixture_expected(&opened->expected);
	const char *message = NULL;
	ck_assert_int_eq(capture_view_open(opened->builder.path, &opened->view, &message), 0);
	ck_assert_int_eq(plugin_registry_create(&opened->registry), 0);
	ck_assert_int_eq(plugin_registry_load_directory(opened->registry, analyzers_directory), 0);
	ck_assert_int_eq(plugin_registry_load_directory(opened->registry, exporters_directory), 0);
}

static void close_fixture(struct opened *opened)
{
	capture_view_close(opened->view);
	plugin_registry_destroy(opened->registry);
	unlink(opened->builder.path);
}

static void assert_contains(const char *text, const char *wanted)
{
	ck_assert_msg(strstr(text, wanted) != NULL, "no \"%s\" in:\n%s", wanted, text);
}

/* ---- what the host hands plugins --------------------------------------------- */

START_TEST(test_summary_version_2)
{
	struct opened opened;
	open_fixture(&opened, FIXTURE_ATTEMPTS - 1);
	const memscope_summary *summary = plugin_host()->summary(opened.view);
	ck_assert_uint_eq(summary->version, MEMSCOPE_SUMMARY_VERSION);
	ck_assert_uint_eq(memscope_summary_tasks(summary), 0);
	ck_assert_uint_eq(summary->sample_interval, FIXTURE_INTERVAL);
	ck_assert(memscope_summary_estimated(summary));
	ck_assert(summary->has_tracking);
	ck_assert_uint_eq(summary->attempts, FIXTURE_ATTEMPTS);
	ck_assert_uint_eq(summary->successes, FIXTURE_ATTEMPTS - 1);
	ck_assert_uint_eq(summary->misses, 1);
	ck_assert_uint_eq(summary->waits, 1);
	ck_assert_uint_eq(summary->growths, 2);
	ck_assert_double_eq_tol(memscope_summary_completeness(summary), 0.9, 1e-12);
	ck_assert_uint_eq(summary->allocations, opened.expected.allocations);
	ck_assert_uint_eq(summary->frees, opened.expected.frees);
	ck_assert_uint_eq(summary->allocated_bytes, opened.expected.allocated_bytes);
	ck_assert_uint_eq(summary->peak_bytes, opened.expected.peak_bytes);
	ck_assert_uint_eq(summary->live_blocks, opened.expected.live_blocks);
	ck_assert_uint_eq(summary->live_bytes, opened.expected.live_bytes);
	close_fixture(&opened);
}
END_TEST

static int visit_block(void *context, const memscope_block *block)
{
	int *count = context;
	ck_assert_uint_eq(block->version, MEMSCOPE_BLOCK_VERSION);
	fixture_assert_weight(memscope_block_weight(block), fixture_block_weight(fixture_block_at(block->address)));
	(*count)++;
	return 0;
}

static int visit_event(void *context, const memscope_event *event)
{
	int *count = context;
	ck_assert_uint_eq(event->version, MEMSCOPE_EVENT_VERSION);
	fixture_assert_weight(memscope_event_weight(event), fixture_block_weight(fixture_block_at(event->address)));
	(*count)++;
	return 0;
}

START_TEST(test_blocks_and_events_weigh)
{
	struct opened opened;
	open_fixture(&opened, FIXTURE_ATTEMPTS);
	int blocks = 0, events = 0;
	ck_assert_int_eq(plugin_host()->for_each_block(opened.view, visit_block, &blocks), 0);
	ck_assert_int_eq(plugin_host()->for_each_event(opened.view, visit_event, &events), 0);
	ck_assert_int_eq(blocks, FIXTURE_BLOCKS);
	ck_assert_int_eq(events, 7);
	close_fixture(&opened);
}
END_TEST

/* A plugin built for ABI 1.1 reading what a 1.0 host gives: the helpers
 * answer as that host means, whatever lies past the old fields. */
START_TEST(test_helpers_on_version_1)
{
	memscope_block block = {.version = 1, .weight = 123.0};
	ck_assert(memscope_block_weight(&block) == 1.0);
	block.version = 2;
	ck_assert(memscope_block_weight(&block) == 123.0);
	block.weight = 0.0; /* a host that left it unset */
	ck_assert(memscope_block_weight(&block) == 1.0);
	memscope_event event = {.version = 1, .weight = 7.0};
	ck_assert(memscope_event_weight(&event) == 1.0);
	memscope_summary summary = {
		.version = 1, .sample_interval = 512, .has_tracking = true, .attempts = 10,
		.successes = 1,
	};
	ck_assert_uint_eq(memscope_summary_sample_interval(&summary), 0);
	ck_assert(!memscope_summary_estimated(&summary));
	ck_assert(!memscope_summary_has_tracking(&summary));
	ck_assert(memscope_summary_completeness(&summary) == 1.0);
	summary.version = 2;
	ck_assert(memscope_summary_estimated(&summary));
	ck_assert(memscope_summary_completeness(&summary) == 0.1);
	summary.sample_interval = 1;
	ck_assert(!memscope_summary_estimated(&summary));

	ck_assert_uint_eq(memscope_weighted_count(0.5), 1);
	ck_assert_uint_eq(memscope_weighted_count(2.49), 2);
	ck_assert_uint_eq(memscope_weighted_count(1017.03), 1017);
	ck_assert_uint_eq(memscope_weighted_count(-3.0), 0);
	ck_assert_uint_eq(memscope_weighted_count(NAN), 0);
	ck_assert_uint_eq(memscope_weighted_count(1e30), UINT64_MAX);
}
END_TEST

/* ---- the analyzers --------------------------------------------------------------- */

static struct memscope_results *run_analyzer(struct opened *opened, const char *name)
{
	const memscope_analyzer *analyzer = plugin_registry_analyzer(opened->registry, name);
	ck_assert_msg(analyzer != NULL, "no analyzer %s in %s", name, analyzers_directory);
	struct memscope_results *results = NULL;
	ck_assert_int_eq(plugin_run_analyzer(analyzer, opened->view, &results), 0);
	return results;
}

static const memscope_table *table_named(const struct memscope_results *results,
                                         const char *name)
{
	for (size_t i = 0; i < results_table_count(results); i++)
		if (strcmp(results_table_name(results_table_at(results, i)), name) == 0)
			return results_table_at(results, i);
	ck_abort_msg("no table %s", name);
	return NULL;
}

/* Every finding, one a line. */
static char *findings_text(const struct memscope_results *results)
{
	char *text = NULL;
	size_t size = 0;
	FILE *stream = open_memstream(&text, &size);
	for (size_t i = 0; i < results_finding_count(results); i++) {
		memscope_severity severity;
		fprintf(stream, "%s\n", results_finding_at(results, i, &severity));
	}
	fclose(stream);
	return text;
}

/* The row of table whose column 0 is stack. */
static const memscope_value *row_of_stack(const memscope_table *table, uint32_t stack)
{
	for (size_t row = 0; row < results_table_row_count(table); row++)
		if (results_table_row_at(table, row)[0].stack == stack)
			return results_table_row_at(table, row);
	ck_abort_msg("no row for stack %" PRIu32, stack);
	return NULL;
}

static const char *const sampling_note =
	"estimated from a sampled capture (one point every 1,000 bytes allocated on average)";

START_TEST(test_leaks_estimated)
{
	struct opened opened;
	open_fixture(&opened, FIXTURE_ATTEMPTS - 1);
	struct memscope_results *results = run_analyzer(&opened, "leaks");
	const memscope_table *table = table_named(results, "leaks");
	ck_assert_str_eq(results_table_title(table), "Leaks: blocks never freed (estimated)");
	size_t columns;
	const memscope_column *column = results_table_columns(table, &columns);
	ck_assert_str_eq(column[1].title, "Blocks (est.)");
	ck_assert_str_eq(column[2].title, "Bytes (est.)");
	ck_assert_str_eq(column[3].title, "First allocated");
	ck_assert_uint_eq(results_table_row_count(table), 2);
	const memscope_value *row = row_of_stack(table, 2);
	ck_assert_uint_eq(row[1].count, opened.expected.stack2_live_blocks);
	ck_assert_uint_eq(row[2].count, opened.expected.stack2_live_bytes);
	row = row_of_stack(table, 1);
	ck_assert_uint_eq(row[1].count, opened.expected.stack1_live_blocks);
	ck_assert_uint_eq(row[2].count, 0);

	char *text = findings_text(results);
	/* The estimates the finding states, grouped as people read them. */
	ck_assert_uint_eq(opened.expected.live_blocks, 1006);
	ck_assert_uint_eq(opened.expected.live_bytes, 3471);
	assert_contains(text, "~1,006 blocks, ~3,471 bytes (3.4 KiB) leaked in 2 places");
	assert_contains(text, sampling_note);
	assert_contains(text, "only 90.0% of the events the backend saw were recorded (1 of 10 were "
	                      "dropped): leaks may include blocks whose free was dropped");
	free(text);
	results_destroy(results);
	close_fixture(&opened);
}
END_TEST

START_TEST(test_hotspots_and_fragmentation_estimated)
{
	struct opened opened;
	open_fixture(&opened, FIXTURE_ATTEMPTS);
	double a = fixture_block_weight(BLOCK_A), c = fixture_block_weight(BLOCK_C);
	struct memscope_results *results = run_analyzer(&opened, "hotspots");
	const memscope_table *sites = table_named(results, "sites");
	assert_contains(results_table_title(sites), "(estimated)");
	const memscope_value *row = row_of_stack(sites, 1);
	ck_assert_uint_eq(row[1].count, (uint64_t)llround(a + c));
	ck_assert_uint_eq(row[2].count, (uint64_t)llround(100 * a));
	row = row_of_stack(sites, 3);
	ck_assert_uint_eq(row[3].count, (uint64_t)llround(5000 * fixture_block_weight(BLOCK_D)));
	const memscope_table *functions = table_named(results, "functions");
	ck_assert_uint_eq(results_table_row_at(functions, 0)[1].count, opened.expected.allocations);
	char *text = findings_text(results);
	ck_assert_uint_eq(opened.expected.allocations, 1017);
	ck_assert_uint_eq(opened.expected.allocated_bytes, 9555);
	assert_contains(text, "~1,017 allocations, ~9,555 bytes (9.3 KiB) from 3 sites");
	assert_contains(text, sampling_note);
	/* The sites add up to the capture's peak: no finding says otherwise. */
	ck_assert_ptr_null(strstr(text, "not the capture's peak"));
	ck_assert_ptr_null(strstr(text, "only"));
	free(text);
	results_destroy(results);

	results = run_analyzer(&opened, "fragmentation");
	const memscope_table *classes = table_named(results, "waste_by_size_class");
	assert_contains(results_table_title(classes), "(estimated)");
	/* C asked for 0 bytes and got 16: its class holds it alone. */
	bool found = false;
	for (size_t i = 0; i < results_table_row_count(classes); i++) {
		const memscope_value *values = results_table_row_at(classes, i);
		if (values[0].count != 16)
			continue;
		ck_assert_uint_eq(values[1].count, (uint64_t)llround(c));
		ck_assert_uint_eq(values[4].count, (uint64_t)llround(16 * c));
		found = true;
	}
	ck_assert(found);
	text = findings_text(results);
	assert_contains(text, sampling_note);
	free(text);
	results_destroy(results);
	close_fixture(&opened);
}
END_TEST

/* ---- the exporters ------------------------------------------------------------------- */

/* What exporter name writes for the capture with results; the caller frees. */
static char *export_text(struct opened *opened, const char *name,
                         struct memscope_results *const *results, size_t count, size_t *length)
{
	const memscope_exporter *exporter = plugin_registry_exporter(opened->registry, name);
	ck_assert_msg(exporter != NULL, "no exporter %s in %s", name, exporters_directory);
	char *text = NULL;
	size_t size = 0;
	FILE *stream = open_memstream(&text, &size);
	ck_assert_int_eq(plugin_run_exporter(exporter, opened->view,
	                                     (const struct memscope_results *const *)results, count,
	                                     stream),
	                 0);
	fclose(stream);
	if (length)
		*length = size;
	return text;
}

START_TEST(test_json_sampling_and_tracking)
{
	struct opened opened;
	open_fixture(&opened, FIXTURE_ATTEMPTS - 1);
	char *text = export_text(&opened, "json", NULL, 0, NULL);
	assert_contains(text, "    \"truncated\": false\n"
	                      "  },\n"
	                      "  \"sampling\": {\"interval\": 1000, \"estimated\": true, "
	                      "\"interval_min\": 1000, \"interval_max\": 1000, "
	                      "\"interval_changes\": 0, \"exact_above\": 0},\n"
	                      "  \"tracking\": {\n"
	                      "    \"attempts\": 10,\n"
	                      "    \"successes\": 9,\n"
	                      "    \"misses\": 1,\n"
	                      "    \"waits\": 1,\n"
	                      "    \"growths\": 2,\n"
	                      "    \"task_changes\": 0,\n"
	                      "    \"completeness\": 0.9,\n"
	                      "    \"drop_rate\": 0.1,\n"
	                      "    \"contention_rate\": 0.1,\n"
	                      "    \"complete_enough\": false\n"
	                      "  },\n"
	                      "  \"results\": [");
	char wanted[96];
	snprintf(wanted, sizeof(wanted), "\"allocations\": %" PRIu64 ",",
	         opened.expected.allocations);
	assert_contains(text, wanted);
	free(text);
	close_fixture(&opened);

	open_fixture(&opened, FIXTURE_ATTEMPTS);
	text = export_text(&opened, "json", NULL, 0, NULL);
	assert_contains(text, "\"complete_enough\": true");
	free(text);
	close_fixture(&opened);
}
END_TEST

/* Loads the page headless with #selftest; true when it passed. */
static bool page_passes_selftest(const char *page, size_t length)
{
	char directory[] = "/tmp/memscope-page.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(directory));
	char path[256], command[2048];
	snprintf(path, sizeof(path), "%s/page.html", directory);
	FILE *file = fopen(path, "w");
	ck_assert_uint_eq(fwrite(page, 1, length, file), length);
	fclose(file);
	snprintf(command, sizeof(command),
	         "timeout 120 '%s' --headless --no-sandbox --disable-gpu "
	         "--disable-background-networking --disable-component-update --disable-sync "
	         "--no-first-run --virtual-time-budget=5000 --user-data-dir='%s/profile' "
	         "--dump-dom 'file://%s#selftest' 2>/dev/null | grep -q 'data-selftest=\"pass\"'",
	         chromium, directory, path);
	bool passed = system(command) == 0;
	if (!passed) {
		snprintf(command, sizeof(command),
		         "timeout 120 '%s' --headless --no-sandbox --disable-gpu --no-first-run "
		         "--virtual-time-budget=5000 --user-data-dir='%s/profile' "
		         "--dump-dom 'file://%s#selftest' 2>/dev/null | grep -o 'data-selftest=\"[^\"]*\"' >&2",
		         chromium, directory, path);
		(void)system(command);
	}
	snprintf(command, sizeof(command), "rm -rf '%s'", directory);
	(void)system(command);
	return passed;
}

/* The page passes its self-test in Chromium, when there is one. */
static void assert_page_draws(const char *page, size_t length, const char *what)
{
	if (access(chromium, X_OK) == 0)
		ck_assert_msg(page_passes_selftest(page, length), "the %s page fails its self-test",
		              what);
	else
		fprintf(stderr, "test_sampling_plugins: %s not found, page not drawn\n", chromium);
}

START_TEST(test_html_says_estimated)
{
	struct opened opened;
	open_fixture(&opened, FIXTURE_ATTEMPTS - 1);
	struct memscope_results *results[] = {
		run_analyzer(&opened, "leaks"), run_analyzer(&opened, "hotspots"),
	};
	size_t length = 0;
	char *page = export_text(&opened, "html", results, 2, &length);
	assert_contains(page, "\"sampling\":{\"interval\":1000,\"estimated\":true,"
	                      "\"interval_min\":1000,\"interval_max\":1000,\"interval_changes\":0,"
	                      "\"exact_above\":0}");
	assert_contains(page, "\"tracking\":{\"attempts\":10,\"successes\":9,\"misses\":1,"
	                      "\"waits\":1,\"growths\":2,\"completeness\":0.90000000000000002,"
	                      "\"contention_rate\":0.10000000000000001,"
	                      "\"warning_below\":0.94999999999999996}");
	/* The flame graph's root sums every block's weight: the summary's
	 * estimates (rounded once each, so they may differ by one). */
	const char *root = strstr(page, "\"flame\":[\n[-1,0,\"all\",null,0,");
	ck_assert_ptr_nonnull(root);
	unsigned long long bytes, count, peak, leaked;
	ck_assert_int_eq(sscanf(root + strlen("\"flame\":[\n[-1,0,\"all\",null,0,"),
	                        "%llu,%llu,%llu,%llu", &bytes, &count, &peak, &leaked),
	                 4);
	ck_assert(llabs((long long)bytes - (long long)opened.expected.allocated_bytes) <= 1);
	ck_assert(llabs((long long)count - (long long)opened.expected.allocations) <= 1);
	ck_assert(llabs((long long)peak - (long long)opened.expected.peak_bytes) <= 1);
	ck_assert(llabs((long long)leaked - (long long)opened.expected.live_bytes) <= 1);
	assert_page_draws(page, length, "sampled");
	free(page);
	results_destroy(results[0]);
	results_destroy(results[1]);
	close_fixture(&opened);
}
END_TEST

START_TEST(test_svg_title_says_estimated)
{
	struct opened opened;
	open_fixture(&opened, FIXTURE_ATTEMPTS);
	char *text = export_text(&opened, "svg", NULL, 0, NULL);
	char wanted[256];
	snprintf(wanted, sizeof(wanted), " \xe2\x80\x94 peak ~7.2 KiB at 6.0 ms (estimated: sampled)</title>");
	assert_contains(text, wanted);
	assert_contains(text, "figures are estimates");
	free(text);
	close_fixture(&opened);
}
END_TEST

/* ---- the binary exporter ------------------------------------------------------------ */

/* The capture the binary exporter writes, in a new temporary file. */
static void export_binary(struct opened *opened, char *path, size_t size)
{
	snprintf(path, size, "/tmp/memscope-repacked.XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	FILE *out = fdopen(fd, "wb");
	const memscope_exporter *exporter = plugin_registry_exporter(opened->registry, "binary");
	ck_assert_ptr_nonnull(exporter);
	ck_assert_int_eq(plugin_run_exporter(exporter, opened->view, NULL, 0, out), 0);
	fclose(out);
}

static void read_ending(const char *path, struct capture_ending *ending)
{
	struct capture_reader *reader = NULL;
	ck_assert_int_eq(capture_reader_open(path, &reader, NULL), 0);
	ck_assert_int_eq(capture_reader_find_ending(reader, ending), 0);
	capture_reader_destroy(reader);
}

START_TEST(test_binary_keeps_weights)
{
	struct opened opened;
	open_fixture(&opened, FIXTURE_ATTEMPTS - 1);
	char path[64];
	export_binary(&opened, path, sizeof(path));

	struct capture_ending ending;
	read_ending(path, &ending);
	ck_assert(ending.has_tracking);
	ck_assert_uint_eq(ending.tracking.attempts, FIXTURE_ATTEMPTS);
	ck_assert_uint_eq(ending.tracking.successes, FIXTURE_ATTEMPTS - 1);
	const struct capture_trailer *trailer = &ending.trailer;
	ck_assert_uint_eq(trailer->sample_interval, FIXTURE_INTERVAL);
	ck_assert_uint_eq(trailer->allocations, opened.expected.allocations);
	ck_assert_uint_eq(trailer->frees, opened.expected.frees);
	ck_assert_uint_eq(trailer->allocated_bytes, opened.expected.allocated_bytes);
	ck_assert_uint_eq(trailer->peak_bytes, opened.expected.peak_bytes);
	ck_assert_uint_eq(trailer->peak_time_ns, opened.expected.peak_time_ns);
	ck_assert_uint_eq(trailer->live_blocks, opened.expected.live_blocks);
	ck_assert_uint_eq(trailer->live_bytes, opened.expected.live_bytes);
	ck_assert_uint_eq(trailer->events, 7);

	struct replay *replay = NULL;
	ck_assert_int_eq(replay_create(path, &replay, NULL), 0);
	ck_assert(replay->sampled);
	ck_assert_uint_eq(replay->sample_interval, FIXTURE_INTERVAL);
	ck_assert_uint_eq(replay->totals.allocations, opened.expected.allocations);
	ck_assert_uint_eq(replay->totals.peak_bytes, opened.expected.peak_bytes);
	ck_assert_uint_eq(replay->totals.live_bytes, opened.expected.live_bytes);
	ck_assert_uint_eq(replay->stacks[2].live_blocks, opened.expected.stack2_live_blocks);
	ck_assert(replay->has_tracking);
	ck_assert_uint_eq(replay->tracking.successes, FIXTURE_ATTEMPTS - 1);
	replay_destroy(replay);
	unlink(path);
	close_fixture(&opened);
}
END_TEST

/* [5 ms, 9 ms): A's free goes with A (allocated before); D and its free,
 * and E, stay.  The SAMPLING record of 1 ms is kept, so D and E weigh as
 * before; the TRACKING record of 9 ms, the run's last, is kept too. */
START_TEST(test_binary_window_keeps_weights)
{
	struct opened opened;
	open_fixture(&opened, FIXTURE_ATTEMPTS);
	ck_assert_int_eq(capture_view_set_option(opened.view, "from_ms", "5"), 0);
	ck_assert_int_eq(capture_view_set_option(opened.view, "to_ms", "9"), 0);
	char path[64];
	export_binary(&opened, path, sizeof(path));

	double d = fixture_block_weight(BLOCK_D), e = fixture_block_weight(BLOCK_E);
	struct capture_ending ending;
	read_ending(path, &ending);
	const struct capture_trailer *trailer = &ending.trailer;
	ck_assert_uint_eq(trailer->sample_interval, FIXTURE_INTERVAL);
	ck_assert_uint_eq(trailer->allocations, (uint64_t)llround(d + e));
	ck_assert_uint_eq(trailer->frees, (uint64_t)llround(d));
	ck_assert_uint_eq(trailer->allocated_bytes, (uint64_t)llround(5000 * d + 300 * e));
	ck_assert_uint_eq(trailer->peak_bytes, (uint64_t)llround(5000 * d));
	ck_assert_uint_eq(trailer->live_blocks, (uint64_t)llround(e));
	ck_assert_uint_eq(trailer->live_bytes, (uint64_t)llround(300 * e));
	ck_assert_uint_eq(trailer->events, 3);
	ck_assert_uint_eq(trailer->time_ns, 9 * BUILDER_MS);
	ck_assert(ending.has_tracking);
	ck_assert_uint_eq(ending.tracking.attempts, FIXTURE_ATTEMPTS);

	struct replay *replay = NULL;
	ck_assert_int_eq(replay_create(path, &replay, NULL), 0);
	ck_assert(replay->sampled);
	ck_assert_uint_eq(replay->totals.allocations, trailer->allocations);
	ck_assert_uint_eq(replay->totals.allocated_bytes, trailer->allocated_bytes);
	ck_assert_uint_eq(replay->totals.peak_bytes, trailer->peak_bytes);
	ck_assert_uint_eq(replay->totals.live_bytes, trailer->live_bytes);
	const struct replay_block *kept = replay_find_live(replay, fixture_blocks[BLOCK_E].address);
	ck_assert_ptr_nonnull(kept);
	fixture_assert_weight(kept->weight, e);
	replay_destroy(replay);
	unlink(path);
	close_fixture(&opened);
}
END_TEST

/* ---- exact, estimated, mixed: a hybrid capture ---------------------------------- */

/* Interval 1000, every block of 5,000 bytes or more recorded (weight 1):
 * stack 1 holds a large block alone (exact), stack 2 small ones alone
 * (estimated), stack 3 one of each (mixed).  The peak is at 5 ms, before
 * stack 2's first block is freed: the only free, of a sample. */
static void open_hybrid(struct opened *opened)
{
	struct capture_builder *builder = &opened->builder;
	builder_start(builder);
	builder_thread(builder, 0, "main");
	builder_stack(builder, 1, 0x401000);
	builder_stack(builder, 2, 0x402000);
	builder_stack(builder, 3, 0x403000);
	builder_sampling_threshold(builder, 1 * BUILDER_MS, 1000, 5000);
	builder_alloc(builder, 2 * BUILDER_MS, 0, 0xa000, 6000, 1);
	builder_alloc(builder, 3 * BUILDER_MS, 0, 0xb000, 100, 2);
	builder_alloc(builder, 4 * BUILDER_MS, 0, 0xc000, 7000, 3);
	builder_alloc(builder, 5 * BUILDER_MS, 0, 0xd000, 200, 3);
	builder_free(builder, 6 * BUILDER_MS, 0, 0xb000);
	builder_alloc(builder, 7 * BUILDER_MS, 0, 0xe000, 300, 2);
	builder_trailer(builder, &(struct capture_trailer){ .time_ns = 8 * BUILDER_MS });
	builder_finish(builder);
	const char *message = NULL;
	ck_assert_int_eq(capture_view_open(builder->path, &opened->view, &message), 0);
	ck_assert_int_eq(plugin_registry_create(&opened->registry), 0);
	ck_assert_int_eq(plugin_registry_load_directory(opened->registry, analyzers_directory), 0);
	ck_assert_int_eq(plugin_registry_load_directory(opened->registry, exporters_directory), 0);
}

static const char *const hybrid_kinds[] = { [1] = "exact", [2] = "estimated", [3] = "mixed" };
static const enum report_accuracy hybrid_accuracies[] = {
	[1] = REPORT_EXACT, [2] = REPORT_ESTIMATED, [3] = REPORT_MIXED,
};

START_TEST(test_hybrid_summary_says_how_exact)
{
	struct opened opened;
	open_hybrid(&opened);
	const memscope_summary *summary = plugin_host()->summary(opened.view);
	ck_assert_uint_eq(summary->version, 7);
	ck_assert_uint_eq(memscope_summary_exact_above(summary), 5000);
	static const struct {
		memscope_figure figure;
		memscope_accuracy accuracy;
	} figures[] = {
		{MEMSCOPE_FIGURE_ALLOCATIONS, MEMSCOPE_ACCURACY_MIXED},
		{MEMSCOPE_FIGURE_REALLOCATIONS, MEMSCOPE_ACCURACY_EXACT},
		{MEMSCOPE_FIGURE_FREES, MEMSCOPE_ACCURACY_ESTIMATED},
		{MEMSCOPE_FIGURE_PEAK, MEMSCOPE_ACCURACY_MIXED},
		{MEMSCOPE_FIGURE_LIVE, MEMSCOPE_ACCURACY_MIXED},
	};
	for (size_t i = 0; i < sizeof(figures) / sizeof(figures[0]); i++)
		ck_assert_int_eq(memscope_summary_accuracy(summary, figures[i].figure),
		                 figures[i].accuracy);
	/* What an older host meant by saying nothing: the sampling's word. */
	memscope_summary old = *summary;
	old.version = 4;
	ck_assert_int_eq(memscope_summary_accuracy(&old, MEMSCOPE_FIGURE_REALLOCATIONS),
	                 MEMSCOPE_ACCURACY_ESTIMATED);
	close_fixture(&opened);
}
END_TEST

/* A report row of stack is as accurate as the fixture says, and so is
 * the analyzer table's row of it, in column. */
static void assert_rows_agree(enum report_accuracy accuracy, const memscope_table *table,
                              uint32_t stack, size_t column)
{
	ck_assert_int_eq(accuracy, hybrid_accuracies[stack]);
	ck_assert_str_eq(row_of_stack(table, stack)[column].text, hybrid_kinds[stack]);
}

/* The leaks and hotspots rows say what the report's rows of the same
 * stacks say. */
START_TEST(test_hybrid_rows_agree_with_the_report)
{
	struct opened opened;
	open_hybrid(&opened);
	const struct report *report = capture_view_report(opened.view);
	struct memscope_results *leaks = run_analyzer(&opened, "leaks");
	const memscope_table *table = table_named(leaks, "leaks");
	size_t columns;
	const memscope_column *column = results_table_columns(table, &columns);
	ck_assert_uint_eq(columns, 7);
	ck_assert_str_eq(column[6].name, "accuracy");
	ck_assert_uint_eq(report->leak_count, 3);
	for (size_t i = 0; i < report->leak_count; i++)
		assert_rows_agree(report->leaks[i].accuracy, table, report->leaks[i].stack.id, 6);
	results_destroy(leaks);

	struct memscope_results *hotspots = run_analyzer(&opened, "hotspots");
	table = table_named(hotspots, "sites");
	ck_assert_uint_eq(report->sites_by_calls_count, 3);
	for (size_t i = 0; i < report->sites_by_calls_count; i++)
		assert_rows_agree(report->sites_by_calls[i].accuracy, table,
		                  report->sites_by_calls[i].stack.id, 5);
	results_destroy(hotspots);
	close_fixture(&opened);
}
END_TEST

START_TEST(test_hybrid_json_and_html_say_how_exact)
{
	struct opened opened;
	open_hybrid(&opened);
	struct memscope_results *results[] = { run_analyzer(&opened, "leaks") };
	char *text = export_text(&opened, "json", results, 1, NULL);
	static const char accuracy[] = "{\"allocations\": \"mixed\", \"reallocations\": \"exact\", "
	                               "\"frees\": \"estimated\", \"peak\": \"mixed\", "
	                               "\"live\": \"mixed\"}";
	char wanted[256];
	snprintf(wanted, sizeof(wanted), "    \"accuracy\": %s,\n", accuracy);
	assert_contains(text, wanted);
	assert_contains(text, "\"sampling\": {\"interval\": 1000, \"estimated\": true, "
	                      "\"interval_min\": 1000, \"interval_max\": 1000, "
	                      "\"interval_changes\": 0, \"exact_above\": 5000},\n");
	/* Leak rows, most bytes first: stack 3 (7,000 + a sample), 1, 2. */
	assert_contains(text, "\"exact\"],\n");
	assert_contains(text, "\"estimated\"]\n");
	const char *mixed = strstr(text, "\"mixed\"],\n");
	ck_assert_ptr_nonnull(mixed);
	ck_assert(mixed < strstr(text, "\"exact\"],\n"));
	free(text);

	size_t length = 0;
	char *page = export_text(&opened, "html", results, 1, &length);
	snprintf(wanted, sizeof(wanted), "\"accuracy\":{\"allocations\":\"mixed\","
	         "\"reallocations\":\"exact\",\"frees\":\"estimated\",\"peak\":\"mixed\","
	         "\"live\":\"mixed\"}");
	assert_contains(page, wanted);
	assert_contains(page, "\"exact_above\":5000}");
	/* One thread: the blocks of all three kinds. */
	assert_contains(page, "\"mixed\"]]");
	assert_page_draws(page, length, "hybrid");
	free(page);
	results_destroy(results[0]);
	close_fixture(&opened);
}
END_TEST

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s ANALYZERS_DIR EXPORTERS_DIR [CHROMIUM]\n", argv[0]);
		return 2;
	}
	analyzers_directory = argv[1];
	exporters_directory = argv[2];
	chromium = argc > 3 ? argv[3] : "/usr/bin/chromium";

	Suite *suite = suite_create("sampling_plugins");
	TCase *host = tcase_create("host");
	tcase_add_test(host, test_summary_version_2);
	tcase_add_test(host, test_blocks_and_events_weigh);
	tcase_add_test(host, test_helpers_on_version_1);
	suite_add_tcase(suite, host);
	TCase *analyzers = tcase_create("analyzers");
	tcase_add_test(analyzers, test_leaks_estimated);
	tcase_add_test(analyzers, test_hotspots_and_fragmentation_estimated);
	suite_add_tcase(suite, analyzers);
	TCase *exporters = tcase_create("exporters");
	tcase_set_timeout(exporters, 180);
	tcase_add_test(exporters, test_json_sampling_and_tracking);
	tcase_add_test(exporters, test_html_says_estimated);
	tcase_add_test(exporters, test_svg_title_says_estimated);
	tcase_add_test(exporters, test_binary_keeps_weights);
	tcase_add_test(exporters, test_binary_window_keeps_weights);
	suite_add_tcase(suite, exporters);
	TCase *accuracy = tcase_create("accuracy");
	tcase_set_timeout(accuracy, 180);
	tcase_add_test(accuracy, test_hybrid_summary_says_how_exact);
	tcase_add_test(accuracy, test_hybrid_rows_agree_with_the_report);
	tcase_add_test(accuracy, test_hybrid_json_and_html_say_how_exact);
	suite_add_tcase(suite, accuracy);

	SRunner *runner = srunner_create(suite);
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
