/* test_tracker_plugins.c - memscope_tracker_export and _analyze (memscope.h):
 * a tracker's capture handed to the json exporter and the leaks analyzer
 * from inside a program linked with libmemscope and jemalloc, as a user
 * would.  Arguments: the build's analyzers and exporters directories, put
 * on MEMSCOPE_PLUGIN_PATH.
 *
 * meson (tests/meson.build), for the lead:
 *
 *   # memscope_tracker_export and _analyze: plugins run from libmemscope.
 *   test_tracker_plugins = executable('test_tracker_plugins',
 *     'test_tracker_plugins.c',
 *     include_directories: root_include,
 *     dependencies: [libmemscope_dep, check_dep])
 *   test('tracker_plugins', test_tracker_plugins,
 *     args: [meson.project_build_root() / 'analyzers',
 *            meson.project_build_root() / 'exporters'],
 *     depends: [analyzer_modules, json_exporter],
 *     suite: 'api', timeout: 120)
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memscope/memscope.h"

#define LEAKED_BLOCKS 3
#define LEAKED_SIZE 777
#define FREED_BLOCKS 2

static void *volatile sink;
static void *leaked[LEAKED_BLOCKS];

/* Not inlined: the leaks analyzer names this function. */
__attribute__((noinline)) static void leak_three_blocks(void)
{
	for (int i = 0; i < LEAKED_BLOCKS; i++)
		leaked[i] = malloc(LEAKED_SIZE);
}

/* Known allocations: FREED_BLOCKS come and go, LEAKED_BLOCKS stay. */
static void allocate_known_blocks(void)
{
	for (int i = 0; i < FREED_BLOCKS; i++) {
		sink = malloc(64);
		free(sink);
	}
	leak_three_blocks();
}

static void free_leaked(void)
{
	for (int i = 0; i < LEAKED_BLOCKS; i++)
		free(leaked[i]);
}

/* Check's assertions allocate: each test calls the API with the tracker
 * running, stops it, then asserts. */
#define require_tracker(tracker)                                     \
	do {                                                         \
		if ((tracker) == NULL)                               \
			ck_abort_msg("memscope_tracker_new failed"); \
	} while (0)

/* The capture.allocations of a JSON report, through python3's parser when
 * there is one (the file must parse), else read from the text; -1 if none. */
static long json_allocations(const char *path)
{
	char command[512];
	if (access("/usr/bin/python3", X_OK) == 0) {
		snprintf(command, sizeof command,
		         "/usr/bin/python3 -I -c 'import json, sys; "
		         "print(json.load(open(sys.argv[1]))[\"capture\"][\"allocations\"])' '%s'",
		         path);
	} else {
		snprintf(command, sizeof command,
		         "sed -n 's/^ *\"allocations\": \\([0-9]*\\),$/\\1/p' '%s' | head -1", path);
	}
	FILE *pipe = popen(command, "r");
	ck_assert_ptr_nonnull(pipe);
	long value = -1;
	if (fscanf(pipe, "%ld", &value) != 1)
		value = -1;
	pclose(pipe);
	return value;
}

START_TEST(exports_json)
{
	char path[] = "/tmp/memscope-test-export-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);

	memscope_tracker *tracker = memscope_tracker_new(MEMSCOPE_BACKEND_EXACT);
	require_tracker(tracker);
	allocate_known_blocks();
	int exported = memscope_tracker_export(tracker, "json", path);
	/* The export's own work was not recorded: still the same blocks. */
	memscope_stats stats = {.version = MEMSCOPE_STATS_VERSION};
	int got_stats = memscope_tracker_get_stats(tracker, &stats);
	int unknown = memscope_tracker_export(tracker, "no-such-format", path);
	memscope_tracker_destroy(tracker);
	free_leaked();

	ck_assert_int_eq(exported, 0);
	ck_assert_int_eq(unknown, -ENOENT);
	ck_assert_int_eq(got_stats, 0);
	ck_assert_uint_eq(stats.total_allocations, FREED_BLOCKS + LEAKED_BLOCKS);
	ck_assert_int_eq(json_allocations(path), FREED_BLOCKS + LEAKED_BLOCKS);
	unlink(path);
}
END_TEST

START_TEST(analyzes_leaks)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	ck_assert_ptr_nonnull(out);

	memscope_tracker *tracker = memscope_tracker_new(MEMSCOPE_BACKEND_EXACT);
	require_tracker(tracker);
	allocate_known_blocks();
	int analyzed = memscope_tracker_analyze(tracker, "leaks", out);
	int unknown = memscope_tracker_analyze(tracker, "no-such-analyzer", out);
	int null_name = memscope_tracker_analyze(tracker, NULL, out);
	memscope_tracker_destroy(tracker);
	free_leaked();
	ck_assert_int_eq(fclose(out), 0);

	ck_assert_int_eq(analyzed, 0);
	ck_assert_int_eq(unknown, -ENOENT);
	ck_assert_int_eq(null_name, -EINVAL);
	ck_assert_msg(strstr(text, "leak_three_blocks") != NULL, "no leak named in:\n%s", text);
	ck_assert_msg(strstr(text, "2,331") != NULL || strstr(text, "2331") != NULL,
	              "not the 3 x 777 bytes leaked in:\n%s", text);
	free(text);
}
END_TEST

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s ANALYZERS_DIRECTORY EXPORTERS_DIRECTORY\n", argv[0]);
		return 2;
	}
	char plugin_path[4096];
	snprintf(plugin_path, sizeof plugin_path, "%s:%s", argv[1], argv[2]);
	setenv("MEMSCOPE_PLUGIN_PATH", plugin_path, 1);

	Suite *suite = suite_create("tracker_plugins");
	TCase *tcase = tcase_create("plugins");
	tcase_set_timeout(tcase, 60);
	tcase_add_test(tcase, exports_json);
	tcase_add_test(tcase, analyzes_leaks);
	suite_add_tcase(suite, tcase);
	SRunner *runner = srunner_create(suite);
	/* The tracker must run in this process, under its jemalloc. */
	srunner_set_fork_status(runner, CK_NOFORK);
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
