/* test_tracker.c - the in-process tracker API (memscope.h), in a program
 * linked with libmemscope and jemalloc, as a user would: exact totals for
 * known allocations, tagging, the capture written and read back. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memscope/memscope.h"

#include "capture.h"

static void *volatile sink;

static memscope_stats stats_of(memscope_tracker *tracker)
{
	memscope_stats stats = {.version = MEMSCOPE_STATS_VERSION};
	ck_assert_int_eq(memscope_tracker_get_stats(tracker, &stats), 0);
	return stats;
}

START_TEST(counts_every_allocation_exactly)
{
	memscope_tracker *tracker = memscope_tracker_new(MEMSCOPE_BACKEND_EXACT);
	ck_assert_ptr_nonnull(tracker);

	char *buffers[10];
	for (int i = 0; i < 10; i++)
		buffers[i] = malloc(1000);
	memscope_stats stats = stats_of(tracker);
	ck_assert_uint_eq(stats.total_allocations, 10);
	ck_assert_uint_eq(stats.active_allocations, 10);
	ck_assert_uint_eq(stats.total_bytes, 10000);
	ck_assert_uint_eq(stats.active_bytes, 10000);
	ck_assert_uint_ge(stats.active_usable_bytes, 10000);

	for (int i = 0; i < 4; i++)
		free(buffers[i]);
	stats = stats_of(tracker);
	ck_assert_uint_eq(stats.total_frees, 4);
	ck_assert_uint_eq(stats.active_allocations, 6);
	ck_assert_uint_eq(stats.active_bytes, 6000);
	ck_assert_uint_eq(stats.peak_bytes, 10000);

	void *aligned = NULL;
	ck_assert_int_eq(posix_memalign(&aligned, 256, 300), 0);
	char *zeroed = calloc(7, 9);
	stats = stats_of(tracker);
	ck_assert_uint_eq(stats.total_allocations, 12);
	ck_assert_uint_eq(stats.active_bytes, 6000 + 300 + 63);

	free(aligned);
	free(zeroed);
	for (int i = 4; i < 10; i++)
		free(buffers[i]);
	ck_assert_int_eq(memscope_tracker_stop(tracker), 0);
	stats = stats_of(tracker);
	ck_assert_uint_eq(stats.active_allocations, 0);
	ck_assert_uint_eq(stats.leaked_allocations, 0);
	ck_assert_uint_eq(stats.peak_bytes, 10000);
	memscope_tracker_destroy(tracker);
}
END_TEST

START_TEST(leaks_are_counted_at_stop)
{
	memscope_tracker *tracker = memscope_tracker_new(MEMSCOPE_BACKEND_EXACT);
	ck_assert_ptr_nonnull(tracker);
	void *leaked = malloc(4096);
	sink = leaked;
	ck_assert_int_eq(memscope_tracker_stop(tracker), 0);
	memscope_stats stats = stats_of(tracker);
	ck_assert_uint_eq(stats.leaked_allocations, 1);
	ck_assert_uint_eq(stats.leaked_bytes, 4096);
	memscope_tracker_destroy(tracker);
	free(leaked);
}
END_TEST

static void *allocate_on_thread(void *argument)
{
	for (int i = 0; i < 1000; i++)
		free(malloc(16));
	return malloc(128);
}

START_TEST(threads_are_counted)
{
	memscope_tracker *tracker = memscope_tracker_new(MEMSCOPE_BACKEND_EXACT);
	ck_assert_ptr_nonnull(tracker);
	pthread_t threads[3];
	void *results[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&threads[i], NULL, allocate_on_thread, NULL);
	for (int i = 0; i < 3; i++)
		pthread_join(threads[i], &results[i]);
	memscope_stats stats = stats_of(tracker);
	ck_assert_uint_eq(stats.active_allocations, 3);
	ck_assert_uint_eq(stats.active_bytes, 3 * 128);
	ck_assert_uint_eq(stats.total_frees, 3000);
	for (int i = 0; i < 3; i++)
		free(results[i]);
	stats = stats_of(tracker);
	ck_assert_uint_eq(stats.active_allocations, 0);
	memscope_tracker_destroy(tracker);
}
END_TEST

START_TEST(tag_and_capture_round_trip)
{
	char path[] = "/tmp/memscope-test-tracker-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);

	memscope_tracker *tracker = memscope_tracker_new(MEMSCOPE_BACKEND_EXACT);
	ck_assert_ptr_nonnull(tracker);
	char *buf = malloc(4096);
	ck_assert_int_eq(MEMSCOPE_TRACK(tracker, buf), 0);
	double *values = malloc(10 * sizeof *values);
	ck_assert_int_eq(MEMSCOPE_TRACK_TYPED(tracker, values, double), 0);
	ck_assert_int_eq(memscope_tracker_write_capture(tracker, path), 0);

	struct capture_reader *reader;
	ck_assert_int_eq(capture_reader_open(path, &reader, NULL), 0);
	struct capture_record record;
	int allocations = 0, tags = 0, result;
	while ((result = capture_reader_next(reader, &record)) == 1) {
		if (record.type == CAPTURE_RECORD_ALLOC)
			allocations++;
		if (record.type == CAPTURE_RECORD_TAG) {
			tags++;
			if (strcmp(record.u.tag.name, "buf") == 0) {
				ck_assert_uint_eq(record.u.tag.address, (uintptr_t)buf);
				ck_assert_str_eq(record.u.tag.type_name, "");
				ck_assert_ptr_nonnull(strstr(record.u.tag.file, "test_tracker.c"));
			} else {
				ck_assert_str_eq(record.u.tag.name, "values");
				ck_assert_str_eq(record.u.tag.type_name, "double");
			}
		}
	}
	ck_assert_int_eq(result, 0);
	ck_assert_int_eq(allocations, 2);
	ck_assert_int_eq(tags, 2);
	capture_reader_destroy(reader);
	unlink(path);

	free(buf);
	free(values);
	memscope_tracker_destroy(tracker);
}
END_TEST

START_TEST(refuses_what_it_cannot_do)
{
	memscope_tracker *tracker = NULL;
	memscope_config config;
	memscope_config_init(&config);
	config.backend = MEMSCOPE_BACKEND_HYBRID;
	ck_assert_int_eq(memscope_tracker_create(&config, &tracker), -ENOTSUP);
	ck_assert_ptr_null(tracker);

	memscope_config_init(&config);
	config.stack_depth = 0;
	ck_assert_int_eq(memscope_tracker_create(&config, &tracker), -EINVAL);

	memscope_config_init(&config);
	config.output_path = "/nonexistent-directory/capture.memscope";
	ck_assert_int_eq(memscope_tracker_create(&config, &tracker), -ENOENT);

	memscope_tracker *first = memscope_tracker_new(MEMSCOPE_BACKEND_EXACT);
	ck_assert_ptr_nonnull(first);
	memscope_config_init(&config);
	memscope_tracker *second = NULL;
	int error = memscope_tracker_create(&config, &second);
	if (error == 0)
		error = memscope_tracker_start(second);
	ck_assert_int_eq(error, -EBUSY);
	memscope_tracker_destroy(second);
	memscope_tracker_destroy(first);
	memscope_tracker_destroy(NULL);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("tracker");
	TCase *tcase = tcase_create("api");
	tcase_set_timeout(tcase, 60);
	tcase_add_test(tcase, counts_every_allocation_exactly);
	tcase_add_test(tcase, leaks_are_counted_at_stop);
	tcase_add_test(tcase, threads_are_counted);
	tcase_add_test(tcase, tag_and_capture_round_trip);
	tcase_add_test(tcase, refuses_what_it_cannot_do);
	suite_add_tcase(suite, tcase);
	SRunner *runner = srunner_create(suite);
	/* One process: a tracker watches the process it runs in. */
	srunner_set_fork_status(runner, CK_NOFORK);
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
