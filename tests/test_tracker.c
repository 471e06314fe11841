/* test_tracker.c - the in-process tracker API (memscope.h), in a program
 * linked with libmemscope and jemalloc, as a user would: exact totals for
 * known allocations, tagging, the capture written and read back. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memscope/memscope.h"
#include "memscope/task.h"

#include "capture.h"

static void *volatile sink;

/* Check's assertions allocate (they record where they are), so each test
 * takes its snapshots first and asserts once the tracker is gone. */
/* Not ck_assert: its bookkeeping would be recorded too. */
#define require_tracker(tracker)                                      \
	do {                                                          \
		if ((tracker) == NULL)                                \
			ck_abort_msg("memscope_tracker_new failed");  \
	} while (0)

static memscope_stats stats_of(memscope_tracker *tracker)
{
	memscope_stats stats = {.version = MEMSCOPE_STATS_VERSION};
	if (memscope_tracker_get_stats(tracker, &stats) != 0)
		stats.version = 0;
	return stats;
}

/* Creates the file path names (a mkstemp template, XXXXXX replaced). */
static void make_temporary(char *path)
{
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

START_TEST(counts_every_allocation_exactly)
{
	memscope_stats after_mallocs, after_frees, after_more, at_stop;
	memscope_tracker *tracker = memscope_tracker_new(MEMSCOPE_BACKEND_EXACT);
	require_tracker(tracker);

	char *buffers[10];
	for (int i = 0; i < 10; i++)
		buffers[i] = malloc(1000);
	after_mallocs = stats_of(tracker);
	for (int i = 0; i < 4; i++)
		free(buffers[i]);
	after_frees = stats_of(tracker);
	void *aligned = NULL;
	int aligned_result = posix_memalign(&aligned, 256, 300);
	char *zeroed = calloc(7, 9);
	sink = zeroed;
	after_more = stats_of(tracker);
	free(aligned);
	free(zeroed);
	for (int i = 4; i < 10; i++)
		free(buffers[i]);
	int stop_result = memscope_tracker_stop(tracker);
	at_stop = stats_of(tracker);
	memscope_tracker_destroy(tracker);

	ck_assert_int_eq(after_mallocs.version, MEMSCOPE_STATS_VERSION);
	ck_assert_uint_eq(after_mallocs.total_allocations, 10);
	ck_assert_uint_eq(after_mallocs.active_allocations, 10);
	ck_assert_uint_eq(after_mallocs.total_bytes, 10000);
	ck_assert_uint_eq(after_mallocs.active_bytes, 10000);
	ck_assert_uint_eq(after_mallocs.active_usable_bytes, 10 * 1024);

	ck_assert_uint_eq(after_frees.total_frees, 4);
	ck_assert_uint_eq(after_frees.active_allocations, 6);
	ck_assert_uint_eq(after_frees.active_bytes, 6000);
	ck_assert_uint_eq(after_frees.peak_bytes, 10000);

	ck_assert_int_eq(aligned_result, 0);
	ck_assert_uint_eq(after_more.total_allocations, 12);
	ck_assert_uint_eq(after_more.active_bytes, 6000 + 300 + 63);

	ck_assert_int_eq(stop_result, 0);
	ck_assert_uint_eq(at_stop.total_frees, 12);
	ck_assert_uint_eq(at_stop.active_allocations, 0);
	ck_assert_uint_eq(at_stop.active_usable_bytes, 0);
	ck_assert_uint_eq(at_stop.leaked_allocations, 0);
	ck_assert_uint_eq(at_stop.peak_bytes, 10000);
}
END_TEST

START_TEST(leaks_are_counted_at_stop)
{
	memscope_tracker *tracker = memscope_tracker_new(MEMSCOPE_BACKEND_EXACT);
	require_tracker(tracker);
	void *leaked = malloc(4096);
	sink = leaked;
	int stop_result = memscope_tracker_stop(tracker);
	memscope_stats stats = stats_of(tracker);
	memscope_tracker_destroy(tracker);
	free(leaked);

	ck_assert_int_eq(stop_result, 0);
	ck_assert_uint_eq(stats.leaked_allocations, 1);
	ck_assert_uint_eq(stats.leaked_bytes, 4096);
}
END_TEST

static void *allocate_on_thread(void *argument)
{
	for (int i = 0; i < 1000; i++) {
		void *volatile block = malloc(16);
		free(block);
	}
	return malloc(128);
}

START_TEST(threads_are_counted)
{
	memscope_tracker *tracker = memscope_tracker_new(MEMSCOPE_BACKEND_EXACT);
	require_tracker(tracker);
	pthread_t threads[3];
	void *results[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&threads[i], NULL, allocate_on_thread, NULL);
	for (int i = 0; i < 3; i++)
		pthread_join(threads[i], &results[i]);
	memscope_stats joined = stats_of(tracker);
	for (int i = 0; i < 3; i++)
		free(results[i]);
	memscope_stats freed = stats_of(tracker);
	memscope_tracker_destroy(tracker);

	/* pthread_create allocates too (a thread's TLS vector): count only the
	 * threads' own blocks by size. */
	ck_assert_uint_eq(joined.total_frees, 3000);
	ck_assert_uint_eq(joined.total_allocations - 3, 3003);
	ck_assert_uint_eq(joined.active_allocations, 3 + 3);
	ck_assert_uint_eq(freed.active_allocations, 3);
	ck_assert_uint_eq(joined.active_bytes - freed.active_bytes, 3 * 128);
}
END_TEST

START_TEST(tag_and_capture_round_trip)
{
	char path[] = "/tmp/memscope-test-tracker-XXXXXX";
	make_temporary(path);

	memscope_tracker *tracker = memscope_tracker_new(MEMSCOPE_BACKEND_EXACT);
	require_tracker(tracker);
	char *buf = malloc(4096);
	int tagged_buf = MEMSCOPE_TRACK(tracker, buf);
	double *values = malloc(10 * sizeof *values);
	int tagged_values = MEMSCOPE_TRACK_TYPED(tracker, values, double);
	int written = memscope_tracker_write_capture(tracker, path);
	memscope_tracker_destroy(tracker);

	ck_assert_int_eq(tagged_buf, 0);
	ck_assert_int_eq(tagged_values, 0);
	ck_assert_int_eq(written, 0);
	struct capture_reader *reader;
	ck_assert_int_eq(capture_reader_open(path, &reader, NULL), 0);
	struct capture_record record;
	int allocations = 0, tags = 0, trailers = 0, result;
	while ((result = capture_reader_next(reader, &record)) == 1) {
		if (record.type == CAPTURE_RECORD_ALLOC)
			allocations++;
		if (record.type == CAPTURE_RECORD_TRAILER) {
			trailers++;
			ck_assert_uint_eq(record.u.trailer.live_blocks, 2);
			ck_assert_uint_eq(record.u.trailer.live_bytes, 4096 + 80);
		}
		if (record.type == CAPTURE_RECORD_TAG) {
			tags++;
			if (strcmp(record.u.tag.name, "buf") == 0) {
				ck_assert_uint_eq(record.u.tag.address, (uintptr_t)buf);
				ck_assert_str_eq(record.u.tag.type_name, "");
				ck_assert_ptr_nonnull(strstr(record.u.tag.file, "test_tracker.c"));
			} else {
				ck_assert_str_eq(record.u.tag.name, "values");
				ck_assert_str_eq(record.u.tag.type_name, "double");
				ck_assert_uint_eq(record.u.tag.address, (uintptr_t)values);
			}
		}
	}
	ck_assert_int_eq(result, 0);
	ck_assert_int_eq(allocations, 2);
	ck_assert_int_eq(tags, 2);
	ck_assert_int_eq(trailers, 1);
	capture_reader_destroy(reader);
	unlink(path);
	free(buf);
	free(values);
}
END_TEST

/* The lockfree backend in process (jemalloc's hooks): interval 1 counts
 * exactly, like the exact backend; the default interval estimates, and
 * the tracking figures say every picked event was recorded. */
static memscope_tracker *lockfree_tracker(uint64_t interval, uint64_t seed)
{
	memscope_config config;
	memscope_config_init(&config);
	config.backend = MEMSCOPE_BACKEND_LOCKFREE;
	config.sample_interval = interval;
	config.sample_seed = seed;
	memscope_tracker *tracker = NULL;
	ck_assert_int_eq(memscope_tracker_create(&config, &tracker), 0);
	/* Check's asserts allocate even when they pass: none while tracking. */
	if (memscope_tracker_start(tracker) != 0)
		ck_abort_msg("cannot start a lockfree tracker");
	return tracker;
}

static memscope_tracking_stats tracking_of(memscope_tracker *tracker)
{
	memscope_tracking_stats tracking = {.version = MEMSCOPE_TRACKING_STATS_VERSION};
	if (memscope_tracker_get_tracking_stats(tracker, &tracking) != 0)
		ck_abort_msg("no tracking figures");
	return tracking;
}

START_TEST(lockfree_interval_one_counts_exactly)
{
	memscope_tracker *tracker = lockfree_tracker(1, 3);
	char *buffers[10];
	for (int i = 0; i < 10; i++)
		buffers[i] = malloc(1000);
	memscope_stats live = stats_of(tracker);
	for (int i = 0; i < 10; i++)
		free(buffers[i]);
	memscope_stats freed = stats_of(tracker);
	memscope_tracking_stats tracking = tracking_of(tracker);
	memscope_tracker_destroy(tracker);

	ck_assert_uint_eq(live.total_allocations, 10);
	ck_assert_uint_eq(live.active_bytes, 10000);
	ck_assert_uint_eq(freed.total_frees, 10);
	ck_assert_uint_eq(freed.active_bytes, 0);
	ck_assert_uint_eq(freed.peak_bytes, 10000);
	ck_assert_uint_eq(tracking.sample_interval, 1);
	ck_assert_uint_eq(tracking.attempts, 20);
	ck_assert_uint_eq(tracking.successes, 20);
	ck_assert_uint_eq(tracking.misses, 0);
	ck_assert(tracking.completeness == 1.0 && tracking.drop_rate == 0.0);
}
END_TEST

START_TEST(lockfree_default_interval_estimates)
{
	/* 64 MiB in 16 KiB blocks, live at once: about 128 samples, so the
	 * estimate of the live bytes spreads by 9%; a fixed seed makes the
	 * result the same every run, the bound (30%) is over 3 deviations. */
	enum { BLOCKS = 4096, SIZE = 16384 };
	static void *blocks[BLOCKS];
	memscope_tracker *tracker = lockfree_tracker(0, 11);
	for (int i = 0; i < BLOCKS; i++)
		blocks[i] = malloc(SIZE);
	memscope_stats live = stats_of(tracker);
	for (int i = 0; i < BLOCKS; i++)
		free(blocks[i]);
	memscope_stats freed = stats_of(tracker);
	memscope_tracking_stats tracking = tracking_of(tracker);
	memscope_tracker_destroy(tracker);

	double truth = (double)BLOCKS * SIZE;
	ck_assert_msg(fabs((double)live.active_bytes - truth) < 0.3 * truth, "%llu live estimated",
	              (unsigned long long)live.active_bytes);
	ck_assert_uint_eq(freed.active_bytes, 0);
	ck_assert_uint_eq(freed.active_allocations, 0);
	ck_assert_uint_eq(tracking.sample_interval, 512 * 1024);
	/* Picked blocks and their frees only: far fewer than 8,192 events. */
	ck_assert_msg(tracking.attempts > 100 && tracking.attempts < 600, "%llu attempts",
	              (unsigned long long)tracking.attempts);
	ck_assert_uint_eq(tracking.attempts % 2, 0);
	ck_assert_uint_eq(tracking.successes, tracking.attempts);
	ck_assert(tracking.completeness == 1.0);
}
END_TEST

START_TEST(a_version_1_config_gets_the_sampling_defaults)
{
	/* What a program built against the first header passes. */
	struct {
		uint32_t version;
		memscope_backend_kind backend;
		uint32_t stack_depth;
		uint32_t timeline_interval_ms;
		const char *output_path;
		const char *program_name;
		memscope_capture_kind capture;
	} old = {1, MEMSCOPE_BACKEND_LOCKFREE, 16, 0, NULL, NULL, MEMSCOPE_CAPTURE_DEFAULT};
	memscope_tracker *tracker = NULL;
	ck_assert_int_eq(memscope_tracker_create((const memscope_config *)&old, &tracker), 0);
	if (memscope_tracker_start(tracker) != 0)
		ck_abort_msg("cannot start a tracker from a version 1 config");
	memscope_tracking_stats tracking = tracking_of(tracker);
	memscope_tracker_destroy(tracker);
	ck_assert_uint_eq(tracking.sample_interval, 512 * 1024);
}
END_TEST

/* The async backend in process: what a task.h annotation encloses is the
 * task's, what follows its leave is the thread's root task's again. */
START_TEST(async_charges_annotated_tasks)
{
	char path[] = "/tmp/memscope-test-tracker-XXXXXX";
	make_temporary(path);
	/* Found before tracking: the first lookup is not the program's work. */
	ck_assert_ptr_nonnull(memscope_task_interface_get());

	memscope_tracker *tracker = memscope_tracker_new(MEMSCOPE_BACKEND_ASYNC);
	require_tracker(tracker);
	memscope_task_begin(7, "job", 0);
	memscope_task_enter(7);
	void *volatile first = malloc(111);
	void *volatile second = malloc(111);
	memscope_task_leave(7);
	void *volatile outside = malloc(5);
	memscope_task_end(7);
	int written = memscope_tracker_write_capture(tracker, path);
	memscope_tracker_destroy(tracker);
	ck_assert_int_eq(written, 0);

	struct capture_reader *reader;
	ck_assert_int_eq(capture_reader_open(path, &reader, NULL), 0);
	struct capture_record record;
	uint32_t job = 0, current = 0, root = 0, ended = 0;
	int job_allocations = 0, root_allocations = 0, result;
	while ((result = capture_reader_next(reader, &record)) == 1) {
		if (record.type == CAPTURE_RECORD_TASK && strcmp(record.u.task.name, "job") == 0) {
			job = record.u.task.id;
			ck_assert_uint_eq(record.u.task.key, 7);
			ck_assert_uint_eq(record.u.task.origin, CAPTURE_TASK_ANNOTATION);
			ck_assert_uint_eq(record.u.task.parent, root);
		} else if (record.type == CAPTURE_RECORD_TASK) {
			ck_assert_uint_eq(record.u.task.origin, CAPTURE_TASK_THREAD);
			root = current = record.u.task.id;
		} else if (record.type == CAPTURE_RECORD_TASK_SWITCH) {
			current = record.u.task_switch.task;
		} else if (record.type == CAPTURE_RECORD_TASK_END) {
			ended = record.u.task_end.id;
		} else if (record.type == CAPTURE_RECORD_ALLOC && record.u.alloc.size == 111) {
			job_allocations += current == job;
		} else if (record.type == CAPTURE_RECORD_ALLOC && record.u.alloc.size == 5) {
			root_allocations += current == root;
		}
	}
	ck_assert_int_eq(result, 0);
	ck_assert_uint_ne(job, 0);
	ck_assert_uint_eq(ended, job);
	ck_assert_int_eq(job_allocations, 2);
	ck_assert_int_eq(root_allocations, 1);
	capture_reader_destroy(reader);
	unlink(path);
	free(first);
	free(second);
	free(outside);
}
END_TEST

/* A running tracker of backend at a sampling interval of 1 GiB (the small
 * blocks are then almost never picked), with a temporary file for its
 * capture in path (64 bytes).  exact_above 0: the default. */
static memscope_tracker *start_rare_sampler(memscope_backend_kind backend, uint64_t exact_above,
                                            char *path)
{
	strcpy(path, "/tmp/memscope-test-tracker-XXXXXX");
	make_temporary(path);
	memscope_config config;
	memscope_config_init(&config);
	config.backend = backend;
	config.sample_interval = UINT64_C(1) << 30;
	config.exact_above = exact_above;
	memscope_tracker *tracker = NULL;
	ck_assert_int_eq(memscope_tracker_create(&config, &tracker), 0);
	/* Check's asserts allocate even when they pass: none while tracking. */
	if (memscope_tracker_start(tracker) != 0)
		ck_abort_msg("cannot start the tracker");
	return tracker;
}

/* In process, the hybrid backend: blocks from exact_above on are all
 * recorded; at an interval of 1 GiB the small ones almost never are (p =
 * 100 / 2^30 each); the capture names the threshold and has tasks. */
START_TEST(hybrid_records_every_large_block)
{
	char path[64];
	memscope_tracker *tracker = start_rare_sampler(MEMSCOPE_BACKEND_HYBRID, 1000, path);
	for (int i = 0; i < 3; i++) {
		void *volatile block = malloc(5000);
		free(block);
	}
	void *volatile kept = malloc(1000);
	for (int i = 0; i < 50; i++) {
		void *volatile block = malloc(100);
		free(block);
	}
	int written = memscope_tracker_write_capture(tracker, path);
	memscope_tracker_destroy(tracker);
	ck_assert_int_eq(written, 0);
	free(kept);

	struct capture_reader *reader;
	ck_assert_int_eq(capture_reader_open(path, &reader, NULL), 0);
	struct capture_record record;
	int large = 0, at = 0, roots = 0, sampling = 0, result;
	while ((result = capture_reader_next(reader, &record)) == 1) {
		if (record.type == CAPTURE_RECORD_SAMPLING) {
			sampling++;
			ck_assert_uint_eq(record.u.sampling.exact_above, 1000);
			ck_assert_uint_eq(record.u.sampling.interval, UINT64_C(1) << 30);
		} else if (record.type == CAPTURE_RECORD_ALLOC) {
			large += record.u.alloc.size == 5000;
			at += record.u.alloc.size == 1000;
		} else if (record.type == CAPTURE_RECORD_TASK) {
			roots += record.u.task.origin == CAPTURE_TASK_THREAD;
		}
	}
	ck_assert_int_eq(result, 0);
	capture_reader_destroy(reader);
	unlink(path);
	ck_assert_int_eq(sampling, 1);
	ck_assert_int_eq(large, 3);
	ck_assert_int_eq(at, 1);
	ck_assert_int_ge(roots, 1);
}
END_TEST

/* A block named before it is allocated (memscope_tracker_tag_next) is
 * recorded by a sampling backend whatever its size, weighing 1, and its
 * tag follows it: at an interval of 1 GiB none of the other small blocks
 * is (p = 200 / 2^30 each), so the live estimate is that block alone. */
static void check_tag_next(memscope_backend_kind backend)
{
	char path[64];
	memscope_tracker *tracker = start_rare_sampler(backend, 0, path);
	for (int i = 0; i < 50; i++) {
		void *volatile block = malloc(200);
		free(block);
	}
	int named = MEMSCOPE_TRACK_NEXT_TYPED(tracker, "frame", struct frame);
	char *volatile frame = malloc(300);
	for (int i = 0; i < 50; i++) {
		void *volatile block = malloc(200);
		free(block);
	}
	memscope_stats live = stats_of(tracker);
	int written = memscope_tracker_write_capture(tracker, path);
	memscope_tracker_destroy(tracker);
	ck_assert_int_eq(named, 0);
	ck_assert_int_eq(written, 0);
	ck_assert_uint_eq(live.version, MEMSCOPE_STATS_VERSION);
	ck_assert_uint_eq(live.active_allocations, 1);
	ck_assert_uint_eq(live.active_bytes, 300);

	struct capture_reader *reader;
	ck_assert_int_eq(capture_reader_open(path, &reader, NULL), 0);
	struct capture_record record;
	int frames = 0, tags = 0, exact_intervals = 0, result;
	while ((result = capture_reader_next(reader, &record)) == 1) {
		if (record.type == CAPTURE_RECORD_ALLOC && record.u.alloc.size == 300) {
			frames++;
			ck_assert_uint_eq(record.u.alloc.address, (uintptr_t)frame);
		} else if (record.type == CAPTURE_RECORD_THREAD_SAMPLING) {
			exact_intervals += record.u.thread_sampling.interval == 1;
		} else if (record.type == CAPTURE_RECORD_TAG) {
			tags++;
			ck_assert_uint_eq(record.u.tag.address, (uintptr_t)frame);
			ck_assert_str_eq(record.u.tag.name, "frame");
			ck_assert_str_eq(record.u.tag.type_name, "struct frame");
			ck_assert_ptr_nonnull(strstr(record.u.tag.file, "test_tracker.c"));
		}
	}
	ck_assert_int_eq(result, 0);
	capture_reader_destroy(reader);
	unlink(path);
	free(frame);
	ck_assert_int_eq(frames, 1);
	ck_assert_int_eq(tags, 1);
	ck_assert_int_eq(exact_intervals, 1);
}

START_TEST(tag_next_is_exact_under_hybrid)
{
	check_tag_next(MEMSCOPE_BACKEND_HYBRID);
}
END_TEST

START_TEST(tag_next_is_exact_under_lockfree)
{
	check_tag_next(MEMSCOPE_BACKEND_LOCKFREE);
}
END_TEST

START_TEST(refuses_what_it_cannot_do)
{
	memscope_tracker *tracker = NULL;
	memscope_config config;
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

/* ---- a program that dies of a signal ------------------------------------ */

enum death {
	DEATH_SEGV,       /* a write through NULL */
	DEATH_ABORT,      /* abort() */
	DEATH_TERM,       /* SIGTERM from the process itself */
	DEATH_PIPE,       /* a write to a pipe nobody reads */
	DEATH_FPE,        /* an integer division by zero */
	DEATH_COUNT,
};

static const int death_signals[DEATH_COUNT] = {SIGSEGV, SIGABRT, SIGTERM, SIGPIPE, SIGFPE};

static volatile int divisor;

static void die(enum death death)
{
	switch (death) {
	case DEATH_SEGV:
		*(volatile int *)sink = 1;
		break;
	case DEATH_ABORT:
		abort();
	case DEATH_TERM:
		raise(SIGTERM);
		break;
	case DEATH_PIPE: {
		int ends[2];
		if (pipe(ends) == 0) {
			close(ends[0]);
			(void)!write(ends[1], "x", 1);
		}
		break;
	}
	case DEATH_FPE:
		divisor = 7 / divisor;
		break;
	case DEATH_COUNT:
		break;
	}
	_exit(99);
}

/* In a forked child: a tracker made from config and started, or the
 * child exits 98. */
static memscope_tracker *start_in_child(const memscope_config *config)
{
	memscope_tracker *tracker = NULL;
	if (memscope_tracker_create(config, &tracker) != 0 || memscope_tracker_start(tracker) != 0)
		_exit(98);
	return tracker;
}

/* In a child: a tracker writing path keeps 50 blocks of 1,000 bytes and
 * the child dies at once, before any flush.  The capture must hold the 50
 * blocks and say how the child died; the child dies of its signal. */
static void run_dying_child(memscope_backend_kind backend, enum death death, const char *path,
                            int *status)
{
	pid_t child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		/* A program as it starts, without the handlers Check installs. */
		for (int d = 0; d < DEATH_COUNT; d++)
			signal(death_signals[d], SIG_DFL);
		memscope_config config;
		memscope_config_init(&config);
		config.backend = backend;
		config.sample_interval = 1;
		config.output_path = path;
		start_in_child(&config);
		for (int i = 0; i < 50; i++)
			sink = malloc(1000);
		sink = NULL;
		die(death);
	}
	ck_assert_int_eq(waitpid(child, status, 0), child);
}

struct death_record {
	uint64_t kept;          /* blocks of 1,000 bytes never freed */
	char death[128];        /* INFO "death", "" if none */
	bool ended;             /* the file has its end block */
};

static struct death_record read_death(const char *path)
{
	struct death_record found = {0};
	struct capture_reader *reader;
	ck_assert_int_eq(capture_reader_open(path, &reader, NULL), 0);
	struct capture_record record;
	int result;
	while ((result = capture_reader_next(reader, &record)) == 1) {
		if (record.type == CAPTURE_RECORD_ALLOC && record.u.alloc.size == 1000)
			found.kept++;
		if (record.type == CAPTURE_RECORD_INFO && strcmp(record.u.info.key, "death") == 0)
			snprintf(found.death, sizeof found.death, "%s", record.u.info.value);
	}
	found.ended = result == 0;
	capture_reader_destroy(reader);
	return found;
}

/* Every death, under each backend: nothing the program recorded is lost
 * and it still dies of its own signal. */
START_TEST(a_program_killed_by_a_signal_keeps_every_event)
{
	static const memscope_backend_kind backends[] = {
		MEMSCOPE_BACKEND_EXACT, MEMSCOPE_BACKEND_LOCKFREE, MEMSCOPE_BACKEND_HYBRID,
	};
	char directory[] = "/tmp/test_tracker.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(directory));
	for (size_t b = 0; b < sizeof backends / sizeof backends[0]; b++) {
		for (int d = 0; d < DEATH_COUNT; d++) {
			char path[128];
			snprintf(path, sizeof path, "%s/dies-%zu-%d.memscope", directory, b, d);
			int status;
			run_dying_child(backends[b], d, path, &status);
			ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == death_signals[d],
			              "backend %zu, death %d: status %#x", b, d, status);
			struct death_record found = read_death(path);
			char expected[128];
			snprintf(expected, sizeof expected, "killed by signal %d (%s)", death_signals[d],
			         sigdescr_np(death_signals[d]));
			ck_assert_msg(found.kept == 50, "backend %zu, death %d: %llu blocks", b, d,
			              (unsigned long long)found.kept);
			ck_assert_str_eq(found.death, expected);
			ck_assert(found.ended);
			unlink(path);
		}
	}
	rmdir(directory);
}
END_TEST

static volatile sig_atomic_t terms_seen;

static void count_term(int signal)
{
	(void)signal;
	terms_seen++;
}

/* The program's own handler, there before the tracker, decides: the
 * program lives on and its capture ends as usual; an ignored signal stays
 * ignored; once stopped, the tracker leaves the dispositions as it found
 * them. */
START_TEST(the_programs_own_signal_handling_is_kept)
{
	char path[] = "/tmp/test_tracker_handled.XXXXXX";
	make_temporary(path);
	pid_t child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		signal(SIGTERM, count_term);
		signal(SIGPIPE, SIG_IGN);
		memscope_config config;
		memscope_config_init(&config);
		config.output_path = path;
		memscope_tracker *tracker = start_in_child(&config);
		struct sigaction during;
		sigaction(SIGPIPE, NULL, &during);
		if (during.sa_handler != SIG_IGN)
			_exit(97);
		for (int i = 0; i < 50; i++)
			sink = malloc(1000);
		raise(SIGTERM);
		int ends[2];
		if (pipe(ends) != 0)
			_exit(95);
		close(ends[0]);
		if (write(ends[1], "x", 1) != -1 || errno != EPIPE)
			_exit(94);
		memscope_tracker_destroy(tracker);
		struct sigaction after;
		sigaction(SIGTERM, NULL, &after);
		_exit(terms_seen == 1 && after.sa_handler == count_term ? 0 : 96);
	}
	int status;
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
	struct death_record found = read_death(path);
	ck_assert_uint_eq(found.kept, 50);
	ck_assert_str_eq(found.death, "");
	unlink(path);
}
END_TEST

/* MEMSCOPE_CONFIG_KEEP_SIGNALS: no handler, and so the events of the
 * last moments are not promised. */
START_TEST(keep_signals_leaves_the_dispositions_alone)
{
	memscope_config config;
	memscope_config_init(&config);
	config.output_path = "/dev/null";
	config.flags = MEMSCOPE_CONFIG_KEEP_SIGNALS;
	memscope_tracker *tracker = NULL;
	int created = memscope_tracker_create(&config, &tracker);
	int started = created == 0 ? memscope_tracker_start(tracker) : -1;
	struct sigaction during;
	sigaction(SIGSEGV, NULL, &during);
	memscope_tracker_destroy(tracker);
	config.flags = 2;
	int refused = memscope_tracker_create(&config, &tracker);

	ck_assert_int_eq(created, 0);
	ck_assert_int_eq(started, 0);
	ck_assert(!(during.sa_flags & SA_SIGINFO) && during.sa_handler == SIG_DFL);
	ck_assert_int_eq(refused, -EINVAL);
}
END_TEST

/* A program that closes every descriptor but 0-2 (closefrom) and opens its own files
 * while a tracker writes its capture: the tracker never writes into the
 * program's file, finds its own again, and the capture is whole. */
START_TEST(the_programs_descriptors_are_never_written)
{
	char path[] = "/tmp/test_tracker_fds.XXXXXX";
	make_temporary(path);
	char own[sizeof path + 8];
	snprintf(own, sizeof own, "%s.own", path);
	pid_t child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		memscope_config config;
		memscope_config_init(&config);
		config.output_path = path;
		config.flags = MEMSCOPE_CONFIG_KEEP_SIGNALS;
		memscope_tracker *tracker = start_in_child(&config);
		for (int i = 0; i < 20; i++)
			sink = malloc(1000);
		closefrom(3);
		int mine = open(own, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		for (int i = 0; i < 30; i++)
			sink = malloc(1000);
		/* Every block written out while the program's file is open. */
		memscope_stats stats = {.version = MEMSCOPE_STATS_VERSION};
		memscope_tracker_get_stats(tracker, &stats);
		if (memscope_tracker_write_capture(tracker, "/dev/null") != 0)
			_exit(97);
		if (write(mine, "the program's own line\n", 23) != 23)
			_exit(96);
		close(mine);
		memscope_tracker_destroy(tracker);
		_exit(0);
	}
	int status;
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
	FILE *file = fopen(own, "re");
	ck_assert_ptr_nonnull(file);
	char line[64] = "";
	ck_assert_ptr_nonnull(fgets(line, sizeof line, file));
	ck_assert_str_eq(line, "the program's own line\n");
	ck_assert_int_eq(fgetc(file), EOF);
	fclose(file);
	struct death_record found = read_death(path);
	ck_assert_uint_eq(found.kept, 50);
	ck_assert(found.ended);
	unlink(path);
	unlink(own);
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
	tcase_add_test(tcase, async_charges_annotated_tasks);
	tcase_add_test(tcase, hybrid_records_every_large_block);
	tcase_add_test(tcase, tag_next_is_exact_under_hybrid);
	tcase_add_test(tcase, tag_next_is_exact_under_lockfree);
	tcase_add_test(tcase, lockfree_interval_one_counts_exactly);
	tcase_add_test(tcase, lockfree_default_interval_estimates);
	tcase_add_test(tcase, a_version_1_config_gets_the_sampling_defaults);
	tcase_add_test(tcase, a_program_killed_by_a_signal_keeps_every_event);
	tcase_add_test(tcase, the_programs_own_signal_handling_is_kept);
	tcase_add_test(tcase, keep_signals_leaves_the_dispositions_alone);
	tcase_add_test(tcase, the_programs_descriptors_are_never_written);
	suite_add_tcase(suite, tcase);
	SRunner *runner = srunner_create(suite);
	/* One process: a tracker watches the process it runs in. */
	srunner_set_fork_status(runner, CK_NOFORK);
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
