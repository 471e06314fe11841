/* test_capture_format.c - the .memscope file format (core/capture.h,
 * docs/capture-format.md): every record type round-trips field for field,
 * order is kept across many blocks, a file cut at any byte or with any byte
 * changed reads exactly its intact blocks and then says what went wrong,
 * unknown blocks and records are skipped, unknown majors are refused, and
 * a full disk is reported, never crashed on. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "sampling.h"
#include "varint.h"

/* ck_assert reports every passing check to the runner with a system call;
 * loops over thousands of records check with this instead. */
#define REQUIRE(condition)                                                        \
	do {                                                                      \
		if (!(condition))                                                 \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #condition); \
	} while (0)

/* ---- files ----------------------------------------------------------- */

static int temp_file(char *path, size_t size)
{
	snprintf(path, size, "/tmp/memscope-test-XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	return fd;
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	size_t done = 0;
	while (done < size) {
		ssize_t written = write(fd, data + done, size - done);
		ck_assert_int_gt(written, 0);
		done += (size_t)written;
	}
	close(fd);
}

static uint8_t *read_file(const char *path, size_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	uint8_t *data = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(data);
	ck_assert_int_eq(pread(fd, data, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	*size = (size_t)st.st_size;
	return data;
}

/* ---- records --------------------------------------------------------- */

static bool same_string(const char *got, const char *want)
{
	return got && strcmp(got, want ? want : "") == 0;
}

/* Every field of two records of the same type is equal. */
static bool records_equal(const struct capture_record *got, const struct capture_record *want)
{
	if (got->type != want->type)
		return false;
	const struct capture_record *a = got, *b = want;
	switch (want->type) {
	case CAPTURE_RECORD_INFO:
		return same_string(a->u.info.key, b->u.info.key) &&
		       same_string(a->u.info.value, b->u.info.value);
	case CAPTURE_RECORD_MODULE:
		if (a->u.module.id != b->u.module.id || a->u.module.unloaded != b->u.module.unloaded ||
		    a->u.module.time_ns != b->u.module.time_ns ||
		    !same_string(a->u.module.path, b->u.module.path) ||
		    a->u.module.base != b->u.module.base ||
		    a->u.module.build_id_size != b->u.module.build_id_size ||
		    memcmp(a->u.module.build_id, b->u.module.build_id, b->u.module.build_id_size) ||
		    a->u.module.segment_count != b->u.module.segment_count)
			return false;
		for (uint32_t i = 0; i < b->u.module.segment_count; i++)
			if (a->u.module.segments[i].start != b->u.module.segments[i].start ||
			    a->u.module.segments[i].end != b->u.module.segments[i].end)
				return false;
		return true;
	case CAPTURE_RECORD_THREAD:
		return a->u.thread.index == b->u.thread.index && a->u.thread.tid == b->u.thread.tid &&
		       same_string(a->u.thread.name, b->u.thread.name);
	case CAPTURE_RECORD_STACK_NODE:
		return a->u.stack_node.id == b->u.stack_node.id &&
		       a->u.stack_node.parent == b->u.stack_node.parent &&
		       a->u.stack_node.ip == b->u.stack_node.ip;
	case CAPTURE_RECORD_ALLOC:
		return a->u.alloc.time_ns == b->u.alloc.time_ns && a->u.alloc.thread == b->u.alloc.thread &&
		       a->u.alloc.kind == b->u.alloc.kind && a->u.alloc.address == b->u.alloc.address &&
		       a->u.alloc.size == b->u.alloc.size && a->u.alloc.usable == b->u.alloc.usable &&
		       a->u.alloc.stack == b->u.alloc.stack;
	case CAPTURE_RECORD_FREE:
		return a->u.free.time_ns == b->u.free.time_ns && a->u.free.thread == b->u.free.thread &&
		       a->u.free.kind == b->u.free.kind && a->u.free.address == b->u.free.address;
	case CAPTURE_RECORD_EXPAND:
		return a->u.expand.time_ns == b->u.expand.time_ns &&
		       a->u.expand.thread == b->u.expand.thread && a->u.expand.kind == b->u.expand.kind &&
		       a->u.expand.address == b->u.expand.address && a->u.expand.size == b->u.expand.size &&
		       a->u.expand.old_usable == b->u.expand.old_usable &&
		       a->u.expand.usable == b->u.expand.usable && a->u.expand.stack == b->u.expand.stack;
	case CAPTURE_RECORD_TAG:
		return a->u.tag.time_ns == b->u.tag.time_ns && a->u.tag.thread == b->u.tag.thread &&
		       a->u.tag.address == b->u.tag.address && same_string(a->u.tag.name, b->u.tag.name) &&
		       same_string(a->u.tag.type_name, b->u.tag.type_name) &&
		       same_string(a->u.tag.file, b->u.tag.file) && a->u.tag.line == b->u.tag.line;
	case CAPTURE_RECORD_SAMPLE:
		return a->u.sample.time_ns == b->u.sample.time_ns &&
		       a->u.sample.heap_live_bytes == b->u.sample.heap_live_bytes &&
		       a->u.sample.heap_live_blocks == b->u.sample.heap_live_blocks &&
		       a->u.sample.rss_bytes == b->u.sample.rss_bytes &&
		       a->u.sample.jemalloc_allocated == b->u.sample.jemalloc_allocated &&
		       a->u.sample.jemalloc_active == b->u.sample.jemalloc_active &&
		       a->u.sample.jemalloc_resident == b->u.sample.jemalloc_resident &&
		       a->u.sample.jemalloc_mapped == b->u.sample.jemalloc_mapped &&
		       a->u.sample.jemalloc_retained == b->u.sample.jemalloc_retained &&
		       a->u.sample.cpu_user_ns == b->u.sample.cpu_user_ns &&
		       a->u.sample.cpu_system_ns == b->u.sample.cpu_system_ns &&
		       a->u.sample.threads == b->u.sample.threads &&
		       a->u.sample.io_read_bytes == b->u.sample.io_read_bytes &&
		       a->u.sample.io_write_bytes == b->u.sample.io_write_bytes;
	case CAPTURE_RECORD_TRAILER:
		return a->u.trailer.time_ns == b->u.trailer.time_ns &&
		       a->u.trailer.allocations == b->u.trailer.allocations &&
		       a->u.trailer.frees == b->u.trailer.frees &&
		       a->u.trailer.allocated_bytes == b->u.trailer.allocated_bytes &&
		       a->u.trailer.peak_bytes == b->u.trailer.peak_bytes &&
		       a->u.trailer.peak_time_ns == b->u.trailer.peak_time_ns &&
		       a->u.trailer.live_blocks == b->u.trailer.live_blocks &&
		       a->u.trailer.live_bytes == b->u.trailer.live_bytes &&
		       a->u.trailer.events == b->u.trailer.events &&
		       a->u.trailer.lost_events == b->u.trailer.lost_events &&
		       a->u.trailer.sample_interval == b->u.trailer.sample_interval;
	case CAPTURE_RECORD_SAMPLING:
		return a->u.sampling.time_ns == b->u.sampling.time_ns &&
		       a->u.sampling.interval == b->u.sampling.interval &&
		       a->u.sampling.seed == b->u.sampling.seed &&
		       a->u.sampling.exact_above == b->u.sampling.exact_above &&
		       a->u.sampling.counting == b->u.sampling.counting;
	case CAPTURE_RECORD_THREAD_SAMPLING:
		return a->u.thread_sampling.time_ns == b->u.thread_sampling.time_ns &&
		       a->u.thread_sampling.thread == b->u.thread_sampling.thread &&
		       a->u.thread_sampling.interval == b->u.thread_sampling.interval;
	case CAPTURE_RECORD_TRACKING:
		return a->u.tracking.time_ns == b->u.tracking.time_ns &&
		       a->u.tracking.attempts == b->u.tracking.attempts &&
		       a->u.tracking.successes == b->u.tracking.successes &&
		       a->u.tracking.misses == b->u.tracking.misses &&
		       a->u.tracking.waits == b->u.tracking.waits &&
		       a->u.tracking.growths == b->u.tracking.growths &&
		       a->u.tracking.task_changes == b->u.tracking.task_changes;
	case CAPTURE_RECORD_TASK:
		return a->u.task.time_ns == b->u.task.time_ns && a->u.task.id == b->u.task.id &&
		       a->u.task.parent == b->u.task.parent && a->u.task.thread == b->u.task.thread &&
		       a->u.task.origin == b->u.task.origin && a->u.task.key == b->u.task.key &&
		       same_string(a->u.task.name, b->u.task.name);
	case CAPTURE_RECORD_TASK_END:
		return a->u.task_end.time_ns == b->u.task_end.time_ns &&
		       a->u.task_end.id == b->u.task_end.id &&
		       a->u.task_end.thread == b->u.task_end.thread;
	case CAPTURE_RECORD_TASK_SWITCH:
		return a->u.task_switch.time_ns == b->u.task_switch.time_ns &&
		       a->u.task_switch.thread == b->u.task_switch.thread &&
		       a->u.task_switch.task == b->u.task_switch.task;
	}
	return false;
}

/* Writes records to path; flush_after[i] ends a block after record i.
 * block_ends (if not NULL) gets the file size after each such flush. */
static void write_capture(const char *path, const struct capture_record *records, size_t count,
                          const bool *flush_after, uint64_t *block_ends)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	struct capture_writer *writer = NULL;
	size_t blocks = 0;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(capture_writer_create(fd, &writer), 0);
	ck_assert_uint_eq(capture_writer_bytes(writer), CAPTURE_HEADER_SIZE);
	for (size_t i = 0; i < count; i++) {
		ck_assert_int_eq(capture_writer_add(writer, &records[i]), 0);
		if (flush_after && flush_after[i]) {
			ck_assert_int_eq(capture_writer_flush(writer), 0);
			if (block_ends)
				block_ends[blocks++] = capture_writer_bytes(writer);
		}
	}
	ck_assert_int_eq(capture_writer_destroy(writer), 0);
	close(fd);
}

/* Reads path to the end, checking each record against expected in order.
 * Returns the open error, or the last capture_reader_next result; *count
 * gets the records read and warning a copy of the warning ("" if none). */
static int read_expecting(const char *path, const struct capture_record *expected,
                          size_t expected_count, size_t *count, char *warning,
                          size_t warning_size)
{
	struct capture_reader *reader = NULL;
	struct capture_record record;
	const char *message = NULL;
	int result;

	*count = 0;
	warning[0] = '\0';
	result = capture_reader_open(path, &reader, &message);
	if (result < 0) {
		REQUIRE(message != NULL);
		snprintf(warning, warning_size, "%s", message);
		return result;
	}
	while ((result = capture_reader_next(reader, &record)) == 1) {
		REQUIRE(*count < expected_count);
		REQUIRE(records_equal(&record, &expected[*count]));
		(*count)++;
	}
	const char *text = capture_reader_warning(reader);
	if (text)
		snprintf(warning, warning_size, "%s", text);
	/* A failed stream stays failed, an ended one ended. */
	REQUIRE(capture_reader_next(reader, &record) == result);
	capture_reader_destroy(reader);
	return result;
}

/* One of each record type, with values at the edges of their encodings:
 * zeros, maxima, deltas that go backwards, empty and long strings. */
static const struct capture_record every_type[] = {
	{ .type = CAPTURE_RECORD_INFO, .u.info = { .key = "command", .value = "./app --flag x" } },
	{ .type = CAPTURE_RECORD_INFO, .u.info = { .key = "", .value = "" } },
	{ .type = CAPTURE_RECORD_MODULE,
	  .u.module = { .id = 0, .unloaded = false, .time_ns = 12, .path = "/usr/bin/app",
	                .base = 0x555555554000u, .build_id_size = 20,
	                .build_id = { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
	                              11, 12, 13, 14, 15, 0xff },
	                .segment_count = 2,
	                .segments = { { 0x555555554000u, 0x555555556000u },
	                              { 0x555555756000u, 0x555555758000u } } } },
	{ .type = CAPTURE_RECORD_MODULE,
	  .u.module = { .id = UINT32_MAX, .unloaded = true, .time_ns = UINT64_MAX,
	                .path = "/lib/x86_64-linux-gnu/libc.so.6", .base = UINT64_MAX,
	                .build_id_size = CAPTURE_MAX_BUILD_ID,
	                .build_id = { [0] = 1, [31] = 0x80, [63] = 0xff },
	                .segment_count = CAPTURE_MAX_SEGMENTS,
	                .segments = { [0] = { 0, UINT64_MAX }, [1] = { UINT64_MAX, 0 },
	                              [15] = { 0x1000, 0x2000 } } } },
	{ .type = CAPTURE_RECORD_THREAD, .u.thread = { .index = 0, .tid = 4242, .name = "main" } },
	{ .type = CAPTURE_RECORD_THREAD,
	  .u.thread = { .index = UINT32_MAX, .tid = UINT32_MAX, .name = "" } },
	{ .type = CAPTURE_RECORD_STACK_NODE,
	  .u.stack_node = { .id = 1, .parent = 0, .ip = 0x555555555123u } },
	{ .type = CAPTURE_RECORD_STACK_NODE,
	  .u.stack_node = { .id = 2, .parent = 1, .ip = 0x7ffff7a00000u } },
	{ .type = CAPTURE_RECORD_STACK_NODE,
	  .u.stack_node = { .id = UINT32_MAX, .parent = UINT32_MAX - 1, .ip = UINT64_MAX } },
	{ .type = CAPTURE_RECORD_STACK_NODE, .u.stack_node = { .id = 3, .parent = 0, .ip = 0 } },
	{ .type = CAPTURE_RECORD_ALLOC,
	  .u.alloc = { .time_ns = 1000, .thread = 0, .kind = CAPTURE_KIND_MALLOC,
	               .address = 0x7ffff0000010u, .size = 24, .usable = 32, .stack = 2 } },
	{ .type = CAPTURE_RECORD_ALLOC,
	  .u.alloc = { .time_ns = 900, .thread = 3, .kind = CAPTURE_KIND_CALLOC,
	               .address = 0x10, .size = 0, .usable = 0, .stack = 0 } },
	{ .type = CAPTURE_RECORD_ALLOC,
	  .u.alloc = { .time_ns = UINT64_MAX, .thread = UINT32_MAX, .kind = CAPTURE_KIND_XALLOCX,
	               .address = UINT64_MAX, .size = UINT64_MAX, .usable = 1,
	               .stack = UINT32_MAX } },
	{ .type = CAPTURE_RECORD_ALLOC,
	  .u.alloc = { .time_ns = 0, .thread = 1, .kind = CAPTURE_KIND_POSIX_MEMALIGN,
	               .address = 0, .size = 1, .usable = UINT64_MAX, .stack = 1 } },
	{ .type = CAPTURE_RECORD_FREE,
	  .u.free = { .time_ns = 2000, .thread = 0, .kind = CAPTURE_KIND_FREE,
	              .address = 0x7ffff0000010u } },
	{ .type = CAPTURE_RECORD_FREE,
	  .u.free = { .time_ns = 1999, .thread = 7, .kind = CAPTURE_KIND_SDALLOCX,
	              .address = 0x7ffff0000000u } },
	{ .type = CAPTURE_RECORD_EXPAND,
	  .u.expand = { .time_ns = 3000, .thread = 2, .kind = CAPTURE_KIND_REALLOC,
	                .address = 0x7ffff0001000u, .size = 100, .old_usable = 64, .usable = 112,
	                .stack = 2 } },
	{ .type = CAPTURE_RECORD_EXPAND,
	  .u.expand = { .time_ns = 5, .thread = 0, .kind = CAPTURE_KIND_XALLOCX,
	                .address = 1, .size = UINT64_MAX, .old_usable = 0,
	                .usable = UINT64_MAX, .stack = UINT32_MAX } },
	{ .type = CAPTURE_RECORD_TAG,
	  .u.tag = { .time_ns = 4000, .thread = 1, .address = 0x7ffff0001000u,
	             .name = "session_cache", .type_name = "struct cache", .file = "cache.c",
	             .line = 88 } },
	{ .type = CAPTURE_RECORD_TAG,
	  .u.tag = { .time_ns = 0, .thread = UINT32_MAX, .address = UINT64_MAX, .name = "",
	             .type_name = "", .file = "", .line = UINT32_MAX } },
	{ .type = CAPTURE_RECORD_SAMPLE,
	  .u.sample = { .time_ns = 10000000, .heap_live_bytes = 1 << 20, .heap_live_blocks = 300,
	                .rss_bytes = 8 << 20, .jemalloc_allocated = 1100000,
	                .jemalloc_active = 1200000, .jemalloc_resident = 3000000,
	                .jemalloc_mapped = 4000000, .jemalloc_retained = 500000,
	                .cpu_user_ns = 9000000, .cpu_system_ns = 1000000, .threads = 4,
	                .io_read_bytes = 4096, .io_write_bytes = UINT64_MAX } },
	{ .type = CAPTURE_RECORD_TASK,
	  .u.task = { .time_ns = 5, .id = 1, .parent = 0, .thread = 0,
	              .origin = CAPTURE_TASK_THREAD, .key = 4242, .name = "main" } },
	{ .type = CAPTURE_RECORD_TASK,
	  .u.task = { .time_ns = UINT64_MAX, .id = UINT32_MAX, .parent = UINT32_MAX - 1,
	              .thread = UINT32_MAX, .origin = CAPTURE_TASK_UCONTEXT, .key = UINT64_MAX,
	              .name = "" } },
	{ .type = CAPTURE_RECORD_TASK_SWITCH,
	  .u.task_switch = { .time_ns = 6, .thread = 0, .task = UINT32_MAX } },
	{ .type = CAPTURE_RECORD_TASK_SWITCH,
	  .u.task_switch = { .time_ns = 7, .thread = UINT32_MAX, .task = 0 } },
	{ .type = CAPTURE_RECORD_TASK_END,
	  .u.task_end = { .time_ns = 0, .id = UINT32_MAX, .thread = 3 } },
	{ .type = CAPTURE_RECORD_SAMPLING,
	  .u.sampling = { .time_ns = 17000000, .interval = 524288, .seed = 99,
	                  .exact_above = 2411724, .counting = SAMPLING_COUNT_PLUS_ONE } },
	{ .type = CAPTURE_RECORD_SAMPLING,
	  .u.sampling = { .time_ns = UINT64_MAX, .interval = UINT64_MAX, .seed = UINT64_MAX,
	                  .exact_above = UINT64_MAX, .counting = UINT64_MAX } },
	{ .type = CAPTURE_RECORD_THREAD_SAMPLING,
	  .u.thread_sampling = { .time_ns = 18000000, .thread = UINT32_MAX, .interval = UINT64_MAX } },
	{ .type = CAPTURE_RECORD_THREAD_SAMPLING,
	  .u.thread_sampling = { .time_ns = 0, .thread = 0, .interval = 65536 } },
	{ .type = CAPTURE_RECORD_TRACKING,
	  .u.tracking = { .time_ns = 19000000, .attempts = UINT64_MAX, .successes = 7,
	                  .misses = UINT64_MAX - 7, .waits = 3, .growths = 1,
	                  .task_changes = UINT64_MAX } },
	{ .type = CAPTURE_RECORD_TRAILER,
	  .u.trailer = { .time_ns = 20000000, .allocations = 4, .frees = 2,
	                 .allocated_bytes = 125, .peak_bytes = 124, .peak_time_ns = 3000,
	                 .live_blocks = 2, .live_bytes = 101, .events = 8,
	                 .lost_events = UINT64_MAX } },
};
#define EVERY_TYPE_COUNT (sizeof(every_type) / sizeof(every_type[0]))

START_TEST(test_round_trip_every_type)
{
	char path[64], warning[512];
	size_t count;
	close(temp_file(path, sizeof(path)));

	write_capture(path, every_type, EVERY_TYPE_COUNT, NULL, NULL);
	ck_assert_int_eq(read_expecting(path, every_type, EVERY_TYPE_COUNT, &count, warning,
	                                sizeof(warning)),
	                 0);
	ck_assert_uint_eq(count, EVERY_TYPE_COUNT);
	ck_assert_str_eq(warning, "");

	/* Spot-check by field, not only through records_equal. */
	struct capture_reader *reader = NULL;
	struct capture_record record;
	ck_assert_int_eq(capture_reader_open(path, &reader, NULL), 0);
	uint32_t major = 0, minor = 99;
	capture_reader_version(reader, &major, &minor);
	ck_assert_uint_eq(major, CAPTURE_FORMAT_MAJOR);
	ck_assert_uint_eq(minor, CAPTURE_FORMAT_MINOR);
	for (size_t i = 0; i < EVERY_TYPE_COUNT; i++) {
		ck_assert_int_eq(capture_reader_next(reader, &record), 1);
		if (i == 3) {
			ck_assert_int_eq(record.type, CAPTURE_RECORD_MODULE);
			ck_assert_uint_eq(record.u.module.id, UINT32_MAX);
			ck_assert(record.u.module.unloaded);
			ck_assert_str_eq(record.u.module.path, "/lib/x86_64-linux-gnu/libc.so.6");
			ck_assert_uint_eq(record.u.module.build_id[63], 0xff);
			ck_assert_uint_eq(record.u.module.segments[1].start, UINT64_MAX);
			ck_assert_uint_eq(record.u.module.segments[1].end, 0);
		}
		if (i == 12) {
			ck_assert_int_eq(record.type, CAPTURE_RECORD_ALLOC);
			ck_assert_uint_eq(record.u.alloc.time_ns, UINT64_MAX);
			ck_assert_uint_eq(record.u.alloc.thread, UINT32_MAX);
			ck_assert_uint_eq(record.u.alloc.kind, CAPTURE_KIND_XALLOCX);
			ck_assert_uint_eq(record.u.alloc.usable, 1);
			ck_assert_uint_eq(record.u.alloc.stack, UINT32_MAX);
		}
	}
	ck_assert_int_eq(capture_reader_next(reader, &record), 0);
	ck_assert_ptr_null(capture_reader_warning(reader));

	/* A second pass reads the same. */
	ck_assert_int_eq(capture_reader_rewind(reader), 0);
	for (size_t i = 0; i < EVERY_TYPE_COUNT; i++) {
		ck_assert_int_eq(capture_reader_next(reader, &record), 1);
		ck_assert(records_equal(&record, &every_type[i]));
	}
	ck_assert_int_eq(capture_reader_next(reader, &record), 0);
	capture_reader_destroy(reader);
	capture_reader_destroy(NULL);
	unlink(path);
}
END_TEST

/* The exact bytes of a tiny capture, as docs/capture-format.md describes
 * them: what a third-party writer must produce. */
START_TEST(test_exact_bytes)
{
	char path[64];
	size_t size;
	const struct capture_record records[] = {
		{ .type = CAPTURE_RECORD_STACK_NODE,
		  .u.stack_node = { .id = 1, .parent = 0, .ip = 0x401000 } },
		{ .type = CAPTURE_RECORD_ALLOC,
		  .u.alloc = { .time_ns = 1000, .thread = 2, .kind = CAPTURE_KIND_CALLOC,
		               .address = 0x1000, .size = 24, .usable = 32, .stack = 7 } },
		{ .type = CAPTURE_RECORD_FREE,
		  .u.free = { .time_ns = 1500, .thread = 0, .kind = CAPTURE_KIND_FREE,
		              .address = 0xff0 } },
		{ .type = CAPTURE_RECORD_THREAD, .u.thread = { .index = 1, .tid = 300, .name = "io" } },
	};
	const uint8_t payload[] = {
		0x04, 0x02, 0x01, 0x80, 0xc0, 0x80, 0x04,       /* node 1 <- 0, ip 0x401000 */
		0x05, 0xd0, 0x0f, 0x41, 0x80, 0x40, 0x18, 0x10, 0x0e, /* alloc */
		0x06, 0xe8, 0x07, 0x09, 0x1f,                   /* free: time +500, addr -16 */
		0x03, 0x06, 0x01, 0xac, 0x02, 0x02, 'i', 'o',   /* thread, body of 6 bytes */
	};
	close(temp_file(path, sizeof(path)));
	write_capture(path, records, 4, NULL, NULL);
	uint8_t *data = read_file(path, &size);

	/* A payload this small is not worth compressing. */
	const uint8_t header[16] = { 'M', 'E', 'M', 'S', 'C', 'O', 'P', 'E', 1, 0, 4, 0, 0, 0, 0, 0 };
	ck_assert_uint_eq(size, 16 + 5 + sizeof(payload) + 4 + 9);
	ck_assert_mem_eq(data, header, 16);
	ck_assert_uint_eq(data[16], CAPTURE_BLOCK_RECORDS);
	ck_assert_uint_eq(le32_get(data + 17), sizeof(payload));
	ck_assert_mem_eq(data + 21, payload, sizeof(payload));
	uint32_t crc = capture_crc32(0, data + 16, 5 + sizeof(payload));
	ck_assert_uint_eq(le32_get(data + 21 + sizeof(payload)), crc);
	const uint8_t *end = data + 21 + sizeof(payload) + 4;
	ck_assert_uint_eq(end[0], CAPTURE_BLOCK_END);
	ck_assert_uint_eq(le32_get(end + 1), 0);
	ck_assert_uint_eq(le32_get(end + 5), capture_crc32(0, end, 5));
	free(data);
	unlink(path);
}
END_TEST

/* ---- many events ----------------------------------------------------- */

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15u;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
	return x ^ (x >> 31);
}

/* Record i of a long, varied stream: events of every kind on a few threads
 * with times that mostly rise, now and then a new stack node, thread, tag
 * or sample.  Strings go into scratch. */
static void generated_record(size_t i, struct capture_record *record, char *scratch,
                             size_t scratch_size)
{
	uint64_t h = mix(i);
	uint64_t time = (uint64_t)i * 150 + (h & 0xff);
	uint64_t address = 0x7f0000000000u + ((h >> 8) & 0xfffff) * 16;
	uint32_t thread = (uint32_t)((h >> 40) & 7);
	uint32_t stack = (uint32_t)(i / 10);

	memset(record, 0, sizeof(*record));
	if (i % 1000 == 500) {
		snprintf(scratch, scratch_size, "worker-%zu", i);
		record->type = CAPTURE_RECORD_THREAD;
		record->u.thread = (struct capture_thread){ (uint32_t)(i / 1000), (uint32_t)h, scratch };
		return;
	}
	if (i % 997 == 13) {
		record->type = CAPTURE_RECORD_SAMPLE;
		record->u.sample.time_ns = time;
		record->u.sample.heap_live_bytes = h;
		record->u.sample.threads = (uint32_t)i;
		record->u.sample.io_write_bytes = h >> 3;
		return;
	}
	if (i % 1499 == 7) {
		snprintf(scratch, scratch_size, "object-%zu", i);
		record->type = CAPTURE_RECORD_TAG;
		record->u.tag = (struct capture_tag){ time, thread, address, scratch, "", "gen.c",
			                              (uint32_t)i };
		return;
	}
	switch (i % 10) {
	case 0:
		record->type = CAPTURE_RECORD_STACK_NODE;
		record->u.stack_node.id = (uint32_t)(i / 10 + 1);
		record->u.stack_node.parent = (uint32_t)(h % (i / 10 + 1));
		record->u.stack_node.ip = 0x555555554000u + ((h >> 20) & 0xffff);
		break;
	case 6:
	case 7:
		record->type = CAPTURE_RECORD_FREE;
		record->u.free = (struct capture_free){ time, thread, CAPTURE_KIND_FREE, address };
		break;
	case 8:
		record->type = CAPTURE_RECORD_EXPAND;
		record->u.expand = (struct capture_expand){ time, thread, CAPTURE_KIND_XALLOCX,
			                                    address, h & 0xffff, 64,
			                                    (h & 0xffff) + (h >> 60), stack };
		break;
	default:
		record->type = CAPTURE_RECORD_ALLOC;
		record->u.alloc = (struct capture_alloc){ time, thread,
			                                  (uint32_t)(h % CAPTURE_KIND_COUNT),
			                                  address, h & 0xfff,
			                                  (h & 0xfff) + ((h >> 50) & 15),
			                                  (uint32_t)(h % (stack + 1)) };
		break;
	}
}

START_TEST(test_many_events)
{
	enum { COUNT = 250000 };
	char path[64], scratch[64];
	struct capture_record want, got;
	struct capture_writer *writer = NULL;
	struct capture_reader *reader = NULL;
	size_t allocs = 0;
	int fd = temp_file(path, sizeof(path));

	ck_assert_int_eq(capture_writer_create(fd, &writer), 0);
	for (size_t i = 0; i < COUNT; i++) {
		generated_record(i, &want, scratch, sizeof(scratch));
		allocs += want.type == CAPTURE_RECORD_ALLOC;
		REQUIRE(capture_writer_add(writer, &want) == 0);
	}
	ck_assert_uint_ge(allocs, 100000);
	ck_assert_int_eq(capture_writer_destroy(writer), 0);
	close(fd);

	/* Walk the framing by hand: several full-size blocks, compressed, then
	 * the end. */
	size_t size, blocks = 0, offset = CAPTURE_HEADER_SIZE;
	uint64_t records_bytes = 0;
	uint8_t *data = read_file(path, &size);
	for (;;) {
		ck_assert_uint_le(offset + 9, size);
		uint32_t payload = le32_get(data + offset + 1);
		ck_assert_uint_le(payload, 64 * 1024);
		ck_assert_uint_eq(le32_get(data + offset + 5 + payload),
		                  capture_crc32(0, data + offset, 5 + payload));
		if (data[offset] == CAPTURE_BLOCK_END)
			break;
		/* Generated records are as repetitive as real ones: zstd pays. */
		ck_assert_uint_eq(data[offset], CAPTURE_BLOCK_RECORDS_ZSTD);
		const uint8_t *cursor = data + offset + 5;
		uint64_t unpacked;
		ck_assert_int_eq(varint_decode(&cursor, cursor + payload, &unpacked), 0);
		ck_assert_uint_lt(payload, unpacked);
		ck_assert_uint_le(unpacked, 64 * 1024 + 64);
		if (offset + 5 + payload + 4 + 9 < size)
			ck_assert_uint_ge(unpacked, 60 * 1024); /* all but the last are full */
		records_bytes += unpacked;
		blocks++;
		offset += 5 + payload + 4;
	}
	ck_assert_uint_lt(size, records_bytes);
	ck_assert_uint_eq(offset + 9, size);
	ck_assert_uint_ge(blocks, 10);
	free(data);

	ck_assert_int_eq(capture_reader_open(path, &reader, NULL), 0);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < COUNT; i++) {
			generated_record(i, &want, scratch, sizeof(scratch));
			REQUIRE(capture_reader_next(reader, &got) == 1);
			if (!records_equal(&got, &want))
				ck_abort_msg("record %zu (type %d) differs", i, want.type);
		}
		ck_assert_int_eq(capture_reader_next(reader, &got), 0);
		ck_assert_ptr_null(capture_reader_warning(reader));
		ck_assert_int_eq(capture_reader_rewind(reader), 0);
	}
	capture_reader_destroy(reader);
	unlink(path);
}
END_TEST

/* ---- damaged files --------------------------------------------------- */

/* A small capture of five blocks: which records each holds is known. */
static const struct capture_record small_records[] = {
	{ .type = CAPTURE_RECORD_INFO, .u.info = { .key = "command", .value = "./app" } },
	{ .type = CAPTURE_RECORD_THREAD, .u.thread = { .index = 0, .tid = 100, .name = "main" } },
	{ .type = CAPTURE_RECORD_MODULE,
	  .u.module = { .id = 0, .path = "/bin/app", .base = 0x400000, .build_id_size = 4,
	                .build_id = { 1, 2, 3, 4 }, .segment_count = 1,
	                .segments = { { 0x400000, 0x401000 } } } },
	/* block 2 */
	{ .type = CAPTURE_RECORD_STACK_NODE, .u.stack_node = { .id = 1, .parent = 0, .ip = 0x400100 } },
	{ .type = CAPTURE_RECORD_STACK_NODE, .u.stack_node = { .id = 2, .parent = 1, .ip = 0x400200 } },
	{ .type = CAPTURE_RECORD_ALLOC,
	  .u.alloc = { .time_ns = 10, .kind = CAPTURE_KIND_MALLOC, .address = 0x10000, .size = 10,
	               .usable = 16, .stack = 2 } },
	{ .type = CAPTURE_RECORD_ALLOC,
	  .u.alloc = { .time_ns = 20, .kind = CAPTURE_KIND_MALLOC, .address = 0x10020, .size = 20,
	               .usable = 32, .stack = 2 } },
	{ .type = CAPTURE_RECORD_FREE,
	  .u.free = { .time_ns = 30, .kind = CAPTURE_KIND_FREE, .address = 0x10000 } },
	/* block 3 */
	{ .type = CAPTURE_RECORD_EXPAND,
	  .u.expand = { .time_ns = 40, .kind = CAPTURE_KIND_REALLOC, .address = 0x10020, .size = 40,
	                .old_usable = 32, .usable = 48, .stack = 2 } },
	{ .type = CAPTURE_RECORD_TAG,
	  .u.tag = { .time_ns = 41, .address = 0x10020, .name = "buffer", .file = "app.c",
	             .line = 12 } },
	/* block 4 */
	{ .type = CAPTURE_RECORD_SAMPLE, .u.sample = { .time_ns = 50, .heap_live_bytes = 40 } },
	{ .type = CAPTURE_RECORD_ALLOC,
	  .u.alloc = { .time_ns = 60, .thread = 0, .kind = CAPTURE_KIND_CALLOC, .address = 0x20000,
	               .size = 8, .usable = 8, .stack = 1 } },
	/* block 5 */
	{ .type = CAPTURE_RECORD_TRAILER,
	  .u.trailer = { .time_ns = 70, .allocations = 3, .frees = 1, .live_blocks = 2,
	                 .live_bytes = 48, .events = 5 } },
};
#define SMALL_COUNT (sizeof(small_records) / sizeof(small_records[0]))
#define SMALL_BLOCKS 5
static const bool small_flush[SMALL_COUNT] = { [2] = true, [7] = true, [9] = true,
	                                       [11] = true, [12] = true };
static const size_t small_records_before_block_end[SMALL_BLOCKS] = { 3, 8, 10, 12, 13 };

struct small_capture {
	char path[64];
	uint8_t *data;
	size_t size;
	uint64_t block_ends[SMALL_BLOCKS];
};

static void small_capture_create(struct small_capture *capture)
{
	close(temp_file(capture->path, sizeof(capture->path)));
	write_capture(capture->path, small_records, SMALL_COUNT, small_flush, capture->block_ends);
	capture->data = read_file(capture->path, &capture->size);
	ck_assert_uint_eq(capture->size, capture->block_ends[SMALL_BLOCKS - 1] + 9);
}

static void small_capture_destroy(struct small_capture *capture)
{
	free(capture->data);
	unlink(capture->path);
}

/* Records in the blocks that end at or before byte length. */
static size_t records_within(const struct small_capture *capture, uint64_t length)
{
	size_t count = 0;

	for (size_t block = 0; block < SMALL_BLOCKS; block++)
		if (capture->block_ends[block] <= length)
			count = small_records_before_block_end[block];
	return count;
}

START_TEST(test_every_truncation)
{
	struct small_capture capture;
	char path[64], warning[512];
	size_t count;

	small_capture_create(&capture);
	close(temp_file(path, sizeof(path)));
	for (size_t length = 0; length < capture.size; length++) {
		write_file(path, capture.data, length);
		int result = read_expecting(path, small_records, SMALL_COUNT, &count, warning,
		                            sizeof(warning));
		if (length < CAPTURE_HEADER_SIZE) {
			if (result != -EPROTO || count != 0 || !warning[0])
				ck_abort_msg("length %zu: open gave %d", length, result);
			continue;
		}
		if (result != -EBADMSG || count != records_within(&capture, length) ||
		    !strstr(warning, "cut short"))
			ck_abort_msg("length %zu: result %d, %zu records, warning \"%s\"", length,
			             result, count, warning);
	}
	/* The whole file reads cleanly. */
	write_file(path, capture.data, capture.size);
	ck_assert_int_eq(read_expecting(path, small_records, SMALL_COUNT, &count, warning,
	                                sizeof(warning)),
	                 0);
	ck_assert_uint_eq(count, SMALL_COUNT);
	ck_assert_str_eq(warning, "");

	/* The warning says where, in the words users will see. */
	size_t cut = (size_t)capture.block_ends[1] + 7;
	write_file(path, capture.data, cut);
	ck_assert_int_eq(read_expecting(path, small_records, SMALL_COUNT, &count, warning,
	                                sizeof(warning)),
	                 -EBADMSG);
	ck_assert_uint_eq(count, 8);
	char expected[300];
	snprintf(expected, sizeof(expected), "capture is cut short at byte %zu (in a block of %u bytes starting at byte %u)",
	         cut, le32_get(capture.data + capture.block_ends[1] + 1),
	         (unsigned)capture.block_ends[1]);
	ck_assert_msg(strncmp(warning, expected, strlen(expected)) == 0, "warning: %s", warning);
	ck_assert_ptr_nonnull(strstr(warning, "everything before"));

	unlink(path);
	small_capture_destroy(&capture);
}
END_TEST

START_TEST(test_every_changed_byte)
{
	struct small_capture capture;
	char path[64], warning[512];
	size_t count;

	small_capture_create(&capture);
	close(temp_file(path, sizeof(path)));
	uint8_t *copy = malloc(capture.size);
	ck_assert_ptr_nonnull(copy);
	for (size_t at = CAPTURE_HEADER_SIZE; at < capture.size; at++) {
		for (int flip = 0; flip < 2; flip++) {
			memcpy(copy, capture.data, capture.size);
			copy[at] ^= flip ? 0xff : 0x01;
			write_file(path, copy, capture.size);
			int result = read_expecting(path, small_records, SMALL_COUNT, &count,
			                            warning, sizeof(warning));
			/* Everything in the blocks before the damaged one, then
			 * a warning. */
			size_t before = records_within(&capture, at);
			if (result != -EBADMSG || count != before || !warning[0])
				ck_abort_msg("byte %zu: result %d, %zu records (want %zu), \"%s\"", at,
				             result, count, before, warning);
		}
	}

	/* A payload byte of block 2 is the checksum's to catch. */
	size_t at = (size_t)capture.block_ends[0] + 5 + 3;
	memcpy(copy, capture.data, capture.size);
	copy[at] ^= 0x40;
	write_file(path, copy, capture.size);
	ck_assert_int_eq(read_expecting(path, small_records, SMALL_COUNT, &count, warning,
	                                sizeof(warning)),
	                 -EBADMSG);
	ck_assert_uint_eq(count, 3);
	char expected[200];
	snprintf(expected, sizeof(expected), "block at byte %u is corrupt (checksum mismatch)",
	         (unsigned)capture.block_ends[0]);
	ck_assert_msg(strncmp(warning, expected, strlen(expected)) == 0, "warning: %s", warning);

	/* Zeros where the end block should be, as a crash can leave. */
	memcpy(copy, capture.data, capture.size);
	memset(copy + capture.block_ends[SMALL_BLOCKS - 1], 0, 9);
	write_file(path, copy, capture.size);
	ck_assert_int_eq(read_expecting(path, small_records, SMALL_COUNT, &count, warning,
	                                sizeof(warning)),
	                 -EBADMSG);
	ck_assert_uint_eq(count, SMALL_COUNT);
	ck_assert_ptr_nonnull(strstr(warning, "corrupt"));

	/* A length beyond what any block may hold. */
	memcpy(copy, capture.data, capture.size);
	le32_put(copy + capture.block_ends[0] + 1, CAPTURE_MAX_PAYLOAD + 1);
	write_file(path, copy, capture.size);
	ck_assert_int_eq(read_expecting(path, small_records, SMALL_COUNT, &count, warning,
	                                sizeof(warning)),
	                 -EBADMSG);
	ck_assert_uint_eq(count, 3);
	ck_assert_ptr_nonnull(strstr(warning, "corrupt"));

	free(copy);
	unlink(path);
	small_capture_destroy(&capture);
}
END_TEST

/* Appends a block with a correct checksum to out. */
static size_t put_block(uint8_t *out, uint8_t type, const uint8_t *payload, uint32_t size)
{
	out[0] = type;
	le32_put(out + 1, size);
	if (size > 0)
		memcpy(out + 5, payload, size);
	le32_put(out + 5 + size, capture_crc32(0, out, 5 + size));
	return 5 + size + 4;
}

START_TEST(test_unknown_block_is_skipped)
{
	struct small_capture capture;
	char path[64], warning[512];
	size_t count;

	small_capture_create(&capture);
	close(temp_file(path, sizeof(path)));
	uint8_t *file = malloc(capture.size + 200);
	ck_assert_ptr_nonnull(file);

	/* Between blocks 2 and 3: a block of a type from the future, and
	 * an empty records block. */
	size_t split = (size_t)capture.block_ends[1];
	size_t length = 0;
	memcpy(file, capture.data, split);
	length = split;
	const uint8_t future[] = "a block from minor 7";
	length += put_block(file + length, 0x7f, future, sizeof(future));
	length += put_block(file + length, CAPTURE_BLOCK_RECORDS, NULL, 0);
	memcpy(file + length, capture.data + split, capture.size - split);
	length += capture.size - split;
	file[10] = 7; /* minor 7 */
	write_file(path, file, length);

	ck_assert_int_eq(read_expecting(path, small_records, SMALL_COUNT, &count, warning,
	                                sizeof(warning)),
	                 0);
	ck_assert_uint_eq(count, SMALL_COUNT);
	ck_assert_str_eq(warning, "");

	struct capture_reader *reader = NULL;
	uint32_t major, minor;
	ck_assert_int_eq(capture_reader_open(path, &reader, NULL), 0);
	capture_reader_version(reader, &major, &minor);
	ck_assert_uint_eq(major, 1);
	ck_assert_uint_eq(minor, 7);
	capture_reader_destroy(reader);

	free(file);
	unlink(path);
	small_capture_destroy(&capture);
}
END_TEST

/* A SAMPLING record as older writers wrote it: three fields (minor 1), four
 * (minor 3), then this version's five.  A field an older writer did not
 * write reads as 0: no threshold, and a block counted as max(size, 1). */
START_TEST(test_older_sampling_records)
{
	static const uint8_t payload[] = {
		0x0b, 0x05, 0x00, 0x80, 0x80, 0x20, 0x07,             /* minor 1: 524288, seed 7 */
		0x0b, 0x08, 0x01, 0x80, 0x80, 0x20, 0x07, 0x80, 0x80, 0x10, /* minor 3: exact_above 262144 */
		0x0b, 0x06, 0x02, 0x80, 0x40, 0x07, 0x00, 0x01,       /* minor 4: 8192, counting 1 */
	};
	uint8_t file[128];
	const uint8_t header[16] = { 'M', 'E', 'M', 'S', 'C', 'O', 'P', 'E', 1, 0, 4, 0, 0, 0, 0, 0 };
	memcpy(file, header, sizeof(header));
	size_t length = sizeof(header);
	length += put_block(file + length, CAPTURE_BLOCK_RECORDS, payload, sizeof(payload));
	length += put_block(file + length, CAPTURE_BLOCK_END, NULL, 0);
	char path[64];
	close(temp_file(path, sizeof(path)));
	write_file(path, file, length);

	const struct capture_record want[] = {
		{ .type = CAPTURE_RECORD_SAMPLING,
		  .u.sampling = { .time_ns = 0, .interval = 524288, .seed = 7 } },
		{ .type = CAPTURE_RECORD_SAMPLING,
		  .u.sampling = { .time_ns = 1, .interval = 524288, .seed = 7, .exact_above = 262144 } },
		{ .type = CAPTURE_RECORD_SAMPLING,
		  .u.sampling = { .time_ns = 2, .interval = 8192, .seed = 7,
		                  .counting = SAMPLING_COUNT_PLUS_ONE } },
	};
	size_t count;
	char warning[512];
	ck_assert_int_eq(read_expecting(path, want, 3, &count, warning, sizeof(warning)), 0);
	ck_assert_uint_eq(count, 3);
	ck_assert_str_eq(warning, "");
	unlink(path);
}
END_TEST

/* Records a newer minor could add, inside a records block: an unknown
 * record type (framed by its length) and a known one with extra fields. */
START_TEST(test_unknown_records_are_skipped)
{
	char path[64], warning[512];
	size_t count;
	const uint8_t payload[] = {
		0x40, 0x03, 'a', 'b', 'c',                       /* type 64, 3 bytes */
		0x05, 0xd0, 0x0f, 0x41, 0x80, 0x40, 0x18, 0x10, 0x0e, /* alloc */
		0x03, 0x08, 0x01, 0xac, 0x02, 0x02, 'i', 'o', 0x85, 0x01, /* thread + 1 field */
		0x00, 0x00,                                      /* type 0, empty */
		0x05, 0xe8, 0x07, 0x00, 0x1f, 0x08, 0x00, 0x00,  /* alloc, deltas */
		0x0c, 0x06, 0x01, 0x0a, 0x09, 0x01, 0x02, 0x00,  /* minor 1's tracking: no task_changes */
	};
	const struct capture_record expected[] = {
		{ .type = CAPTURE_RECORD_ALLOC,
		  .u.alloc = { .time_ns = 1000, .thread = 2, .kind = CAPTURE_KIND_CALLOC,
		               .address = 0x1000, .size = 24, .usable = 32, .stack = 7 } },
		{ .type = CAPTURE_RECORD_THREAD, .u.thread = { .index = 1, .tid = 300, .name = "io" } },
		{ .type = CAPTURE_RECORD_ALLOC,
		  .u.alloc = { .time_ns = 1500, .thread = 0, .kind = CAPTURE_KIND_MALLOC,
		               .address = 0xff0, .size = 8, .usable = 8, .stack = 7 } },
		{ .type = CAPTURE_RECORD_TRACKING,
		  .u.tracking = { .time_ns = 1, .attempts = 10, .successes = 9, .misses = 1,
		                  .waits = 2, .growths = 0, .task_changes = 0 } },
	};
	uint8_t file[256];
	size_t length = 0;

	memcpy(file, "MEMSCOPE\x01\x00\x00\x00\x00\x00\x00\x00", 16);
	length = 16;
	length += put_block(file + length, CAPTURE_BLOCK_RECORDS, payload, sizeof(payload));
	length += put_block(file + length, CAPTURE_BLOCK_END, NULL, 0);
	close(temp_file(path, sizeof(path)));
	write_file(path, file, length);
	ck_assert_int_eq(read_expecting(path, expected, 4, &count, warning, sizeof(warning)), 0);
	ck_assert_uint_eq(count, 4);
	ck_assert_str_eq(warning, "");

	/* Anything after the end block is not part of the capture. */
	length += put_block(file + length, CAPTURE_BLOCK_RECORDS, payload, sizeof(payload));
	write_file(path, file, length);
	ck_assert_int_eq(read_expecting(path, expected, 4, &count, warning, sizeof(warning)), 0);
	ck_assert_uint_eq(count, 4);
	unlink(path);
}
END_TEST

/* Blocks that pass their checksum but hold values no writer produces. */
START_TEST(test_malformed_records)
{
	static const struct {
		const char *what;
		uint8_t payload[24];
		uint32_t size;
	} cases[] = {
		{ "kind 13", { 0x05, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x00 }, 7 },
		{ "thread over 32 bits",
		  { 0x06, 0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00 }, 10 },
		{ "stack below 0", { 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01 }, 7 },
		{ "event cut short", { 0x05, 0x00, 0x00, 0x00 }, 4 },
		{ "node id 0", { 0x04, 0x00, 0x01, 0x00 }, 4 },
		{ "node parent not below", { 0x04, 0x02, 0x02, 0x00 }, 4 },
		{ "node parent distance 0", { 0x04, 0x02, 0x00, 0x00 }, 4 },
		{ "body past block", { 0x01, 0x09, 0x00, 0x00 }, 4 },
		{ "string past body", { 0x01, 0x02, 0x05, 'a' }, 4 },
		{ "NUL in string", { 0x01, 0x04, 0x02, 'a', 0x00, 0x00 }, 6 },
		{ "build id 65", { 0x02, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x41 }, 8 },
		{ "17 segments", { 0x02, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11 }, 9 },
		{ "varint over 10 bytes",
		  { 0x05, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, 12 },
		{ "thread tid over 32 bits",
		  { 0x03, 0x08, 0x00, 0x80, 0x80, 0x80, 0x80, 0x10, 0x00, 0x00 }, 10 },
		{ "task id 0", { 0x0d, 0x07, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00 }, 9 },
		{ "task parent not before it",
		  { 0x0d, 0x07, 0x00, 0x02, 0x02, 0x00, 0x01, 0x00, 0x00 }, 9 },
		{ "task end of task 0", { 0x0e, 0x03, 0x00, 0x00, 0x00 }, 5 },
		{ "task switch thread over 32 bits",
		  { 0x0f, 0x08, 0x00, 0x80, 0x80, 0x80, 0x80, 0x10, 0x00, 0x00 }, 10 },
	};
	char path[64], warning[512];
	size_t count;
	uint8_t file[128];

	close(temp_file(path, sizeof(path)));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t length = 16;
		memcpy(file, "MEMSCOPE\x01\x00\x00\x00\x00\x00\x00\x00", 16);
		length += put_block(file + length, CAPTURE_BLOCK_RECORDS, cases[i].payload,
		                    cases[i].size);
		length += put_block(file + length, CAPTURE_BLOCK_END, NULL, 0);
		write_file(path, file, length);
		int result = read_expecting(path, NULL, 0, &count, warning, sizeof(warning));
		ck_assert_msg(result == -EBADMSG && count == 0 && strstr(warning, "malformed"),
		              "%s: result %d, warning \"%s\"", cases[i].what, result, warning);
	}
	unlink(path);
}
END_TEST

START_TEST(test_headers_refused)
{
	char path[64], warning[512];
	size_t count;
	uint8_t header[16] = { 'M', 'E', 'M', 'S', 'C', 'O', 'P', 'E', 2, 0, 0, 0, 0, 0, 0, 0 };

	close(temp_file(path, sizeof(path)));
	write_file(path, header, sizeof(header));
	ck_assert_int_eq(read_expecting(path, NULL, 0, &count, warning, sizeof(warning)),
	                 -EPROTONOSUPPORT);
	ck_assert_ptr_nonnull(strstr(warning, "newer"));

	header[8] = 0;
	write_file(path, header, sizeof(header));
	ck_assert_int_eq(read_expecting(path, NULL, 0, &count, warning, sizeof(warning)),
	                 -EPROTONOSUPPORT);

	header[8] = 1;
	header[9] = 1; /* major 257 */
	write_file(path, header, sizeof(header));
	ck_assert_int_eq(read_expecting(path, NULL, 0, &count, warning, sizeof(warning)),
	                 -EPROTONOSUPPORT);

	header[9] = 0;
	header[0] = 'm';
	write_file(path, header, sizeof(header));
	ck_assert_int_eq(read_expecting(path, NULL, 0, &count, warning, sizeof(warning)), -EPROTO);
	ck_assert_ptr_nonnull(strstr(warning, "not a memscope capture"));

	write_file(path, (const uint8_t *)"#!/bin/sh\necho hello\n", 21);
	ck_assert_int_eq(read_expecting(path, NULL, 0, &count, warning, sizeof(warning)), -EPROTO);

	/* A header alone: no end block, so the capture is cut. */
	header[0] = 'M';
	write_file(path, header, sizeof(header));
	ck_assert_int_eq(read_expecting(path, NULL, 0, &count, warning, sizeof(warning)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(warning, "cut short at byte 16"));

	unlink(path);
	ck_assert_int_eq(read_expecting(path, NULL, 0, &count, warning, sizeof(warning)), -ENOENT);
	ck_assert_int_eq(read_expecting("/tmp", NULL, 0, &count, warning, sizeof(warning)), -EISDIR);
}
END_TEST

/* ---- the writer ------------------------------------------------------ */

START_TEST(test_full_disk)
{
	struct capture_writer *writer = NULL;
	struct capture_record record = { .type = CAPTURE_RECORD_ALLOC,
		                         .u.alloc = { .size = 16, .usable = 16 } };
	int full = open("/dev/full", O_WRONLY);

	if (full < 0)
		return; /* no /dev/full here: nothing to test */
	ck_assert_int_eq(capture_writer_create(full, &writer), -ENOSPC);
	ck_assert_ptr_null(writer); /* nothing handed out */

	/* A disk that fills after the capture started. */
	char path[64];
	int fd = temp_file(path, sizeof(path));
	ck_assert_int_eq(capture_writer_create(fd, &writer), 0);
	ck_assert_int_ge(dup2(full, fd), 0);
	int result = 0;
	size_t added = 0;
	for (size_t i = 0; i < 100000 && result == 0; i++) {
		record.u.alloc.address = 0x1000 + i * 16;
		result = capture_writer_add(writer, &record);
		added += result == 0;
	}
	ck_assert_int_eq(result, -ENOSPC);
	ck_assert_uint_gt(added, 1000); /* the first block filled, then failed */
	ck_assert_uint_eq(capture_writer_bytes(writer), CAPTURE_HEADER_SIZE);
	ck_assert_int_eq(capture_writer_add(writer, &record), -ENOSPC);
	ck_assert_int_eq(capture_writer_add(writer, &every_type[0]), -ENOSPC);
	ck_assert_int_eq(capture_writer_flush(writer), -ENOSPC);
	ck_assert_int_eq(capture_writer_destroy(writer), -ENOSPC);

	/* A flush with records pending fails the same way. */
	int fd2 = open(path, O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd2, 0);
	ck_assert_int_eq(capture_writer_create(fd2, &writer), 0);
	ck_assert_int_eq(capture_writer_add(writer, &record), 0);
	ck_assert_int_ge(dup2(full, fd2), 0);
	ck_assert_int_eq(capture_writer_flush(writer), -ENOSPC);
	ck_assert_int_eq(capture_writer_add(writer, &record), -ENOSPC);
	ck_assert_int_eq(capture_writer_destroy(writer), -ENOSPC);

	/* A closed descriptor is an error like any other. */
	close(fd2);
	int fd3 = open(path, O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd3, 0);
	ck_assert_int_eq(capture_writer_create(fd3, &writer), 0);
	close(fd3);
	ck_assert_int_eq(capture_writer_add(writer, &record), 0);
	ck_assert_int_eq(capture_writer_flush(writer), -EBADF);
	ck_assert_int_eq(capture_writer_destroy(writer), -EBADF);

	close(fd);
	close(full);
	unlink(path);
}
END_TEST

START_TEST(test_writer_rejects)
{
	char path[64], warning[512];
	size_t count;
	int fd = temp_file(path, sizeof(path));
	struct capture_writer *writer = NULL;
	struct capture_record bad;

	ck_assert_int_eq(capture_writer_create(fd, &writer), 0);
	ck_assert_int_eq(capture_writer_add(NULL, &every_type[0]), -EINVAL);
	ck_assert_int_eq(capture_writer_add(writer, NULL), -EINVAL);

	bad = (struct capture_record){ .type = (enum capture_record_type)0 };
	ck_assert_int_eq(capture_writer_add(writer, &bad), -EINVAL);
	bad.type = (enum capture_record_type)(CAPTURE_RECORD_TRACKING + 1);
	ck_assert_int_eq(capture_writer_add(writer, &bad), -EINVAL);

	bad = (struct capture_record){ .type = CAPTURE_RECORD_ALLOC,
		                       .u.alloc.kind = CAPTURE_KIND_COUNT };
	ck_assert_int_eq(capture_writer_add(writer, &bad), -EINVAL);
	bad = (struct capture_record){ .type = CAPTURE_RECORD_FREE, .u.free.kind = 1000 };
	ck_assert_int_eq(capture_writer_add(writer, &bad), -EINVAL);
	bad = (struct capture_record){ .type = CAPTURE_RECORD_EXPAND,
		                       .u.expand.kind = UINT32_MAX };
	ck_assert_int_eq(capture_writer_add(writer, &bad), -EINVAL);

	bad = (struct capture_record){ .type = CAPTURE_RECORD_STACK_NODE,
		                       .u.stack_node = { .id = 0, .parent = 0 } };
	ck_assert_int_eq(capture_writer_add(writer, &bad), -EINVAL);
	bad.u.stack_node = (struct capture_stack_node){ .id = 5, .parent = 5 };
	ck_assert_int_eq(capture_writer_add(writer, &bad), -EINVAL);
	bad.u.stack_node = (struct capture_stack_node){ .id = 5, .parent = 9 };
	ck_assert_int_eq(capture_writer_add(writer, &bad), -EINVAL);

	bad = every_type[2];
	bad.u.module.build_id_size = CAPTURE_MAX_BUILD_ID + 1;
	ck_assert_int_eq(capture_writer_add(writer, &bad), -EINVAL);
	bad = every_type[2];
	bad.u.module.segment_count = CAPTURE_MAX_SEGMENTS + 1;
	ck_assert_int_eq(capture_writer_add(writer, &bad), -EINVAL);

	char *long_string = malloc(CAPTURE_MAX_STRING + 2);
	ck_assert_ptr_nonnull(long_string);
	memset(long_string, 'x', CAPTURE_MAX_STRING + 1);
	long_string[CAPTURE_MAX_STRING + 1] = '\0';
	bad = (struct capture_record){ .type = CAPTURE_RECORD_INFO,
		                       .u.info = { .key = "k", .value = long_string } };
	ck_assert_int_eq(capture_writer_add(writer, &bad), -EINVAL);

	/* Rejections leave nothing behind; a string at the limit is fine,
	 * in a block of its own size. */
	long_string[CAPTURE_MAX_STRING] = '\0';
	const struct capture_record good[] = {
		every_type[0],
		{ .type = CAPTURE_RECORD_INFO, .u.info = { .key = "big", .value = long_string } },
		{ .type = CAPTURE_RECORD_TAG,
		  .u.tag = { .name = long_string, .type_name = long_string, .file = long_string } },
		every_type[10],
	};
	for (size_t i = 0; i < 4; i++)
		ck_assert_int_eq(capture_writer_add(writer, &good[i]), 0);
	/* NULL strings are written as empty ones. */
	const struct capture_record nulls = { .type = CAPTURE_RECORD_TAG,
		                              .u.tag = { .name = NULL, .file = NULL } };
	ck_assert_int_eq(capture_writer_add(writer, &nulls), 0);
	ck_assert_int_eq(capture_writer_destroy(writer), 0);
	close(fd);

	const struct capture_record expected[] = { good[0], good[1], good[2], good[3],
		                                   { .type = CAPTURE_RECORD_TAG,
		                                     .u.tag = { .name = "", .type_name = "",
		                                                .file = "" } } };
	ck_assert_int_eq(read_expecting(path, expected, 5, &count, warning, sizeof(warning)), 0);
	ck_assert_uint_eq(count, 5);
	free(long_string);
	unlink(path);
	ck_assert_int_eq(capture_writer_destroy(NULL), 0);
	ck_assert_int_eq(capture_writer_flush(NULL), -EINVAL);
}
END_TEST

START_TEST(test_main_program_path)
{
	char path[64], executable[4096];
	int fd = temp_file(path, sizeof(path));
	struct capture_writer *writer = NULL;
	struct capture_reader *reader = NULL;
	struct capture_record record = { .type = CAPTURE_RECORD_MODULE,
		                         .u.module = { .id = 0, .path = "", .base = 0x1000 } };

	ssize_t length = readlink("/proc/self/exe", executable, sizeof(executable) - 1);
	ck_assert_int_gt(length, 0);
	executable[length] = '\0';

	ck_assert_int_eq(capture_writer_create(fd, &writer), 0);
	ck_assert_int_eq(capture_writer_add(writer, &record), 0);
	ck_assert_int_eq(capture_writer_destroy(writer), 0);
	close(fd);
	ck_assert_int_eq(capture_reader_open(path, &reader, NULL), 0);
	ck_assert_int_eq(capture_reader_next(reader, &record), 1);
	ck_assert_int_eq(record.type, CAPTURE_RECORD_MODULE);
	ck_assert_str_eq(record.u.module.path, executable);
	ck_assert_uint_eq(record.u.module.base, 0x1000);
	ck_assert_int_eq(capture_reader_next(reader, &record), 0);
	capture_reader_destroy(reader);
	unlink(path);
}
END_TEST

/* A copy of a capture still being written (whole blocks, no end block)
 * finished by a second writer: one capture, every record in order. */
START_TEST(test_continuing_writer)
{
	char path[64], warning[512];
	size_t count, size;
	int fd = temp_file(path, sizeof(path));
	struct capture_writer *writer = NULL;

	ck_assert_int_eq(capture_writer_create(fd, &writer), 0);
	for (size_t i = 0; i < 8; i++)
		ck_assert_int_eq(capture_writer_add(writer, &small_records[i]), 0);
	ck_assert_int_eq(capture_writer_flush(writer), 0);
	uint64_t checkpoint = capture_writer_bytes(writer);
	ck_assert_int_eq(capture_writer_destroy(writer), 0);
	close(fd);

	uint8_t *data = read_file(path, &size);
	write_file(path, data, (size_t)checkpoint);
	free(data);
	fd = open(path, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(capture_writer_create_continuing(fd, &writer), 0);
	ck_assert_uint_eq(capture_writer_bytes(writer), 0);
	for (size_t i = 8; i < SMALL_COUNT; i++)
		ck_assert_int_eq(capture_writer_add(writer, &small_records[i]), 0);
	ck_assert_int_eq(capture_writer_destroy(writer), 0);
	close(fd);

	ck_assert_int_eq(read_expecting(path, small_records, SMALL_COUNT, &count, warning,
	                                sizeof(warning)),
	                 0);
	ck_assert_uint_eq(count, SMALL_COUNT);
	ck_assert_str_eq(warning, "");
	unlink(path);
}
END_TEST

START_TEST(test_kind_names)
{
	ck_assert_str_eq(capture_alloc_kind_name(CAPTURE_KIND_MALLOC), "malloc");
	ck_assert_str_eq(capture_alloc_kind_name(CAPTURE_KIND_CALLOC), "calloc");
	ck_assert_str_eq(capture_alloc_kind_name(CAPTURE_KIND_REALLOC), "realloc");
	ck_assert_str_eq(capture_alloc_kind_name(CAPTURE_KIND_POSIX_MEMALIGN), "posix_memalign");
	ck_assert_str_eq(capture_alloc_kind_name(CAPTURE_KIND_ALIGNED_ALLOC), "aligned_alloc");
	ck_assert_str_eq(capture_alloc_kind_name(CAPTURE_KIND_MEMALIGN), "memalign");
	ck_assert_str_eq(capture_alloc_kind_name(CAPTURE_KIND_VALLOC), "valloc");
	ck_assert_str_eq(capture_alloc_kind_name(CAPTURE_KIND_MALLOCX), "mallocx");
	ck_assert_str_eq(capture_alloc_kind_name(CAPTURE_KIND_RALLOCX), "rallocx");
	ck_assert_str_eq(capture_alloc_kind_name(CAPTURE_KIND_FREE), "free");
	ck_assert_str_eq(capture_alloc_kind_name(CAPTURE_KIND_DALLOCX), "dallocx");
	ck_assert_str_eq(capture_alloc_kind_name(CAPTURE_KIND_SDALLOCX), "sdallocx");
	ck_assert_str_eq(capture_alloc_kind_name(CAPTURE_KIND_XALLOCX), "xallocx");
	ck_assert_str_eq(capture_alloc_kind_name(CAPTURE_KIND_COUNT), "?");
	ck_assert_str_eq(capture_alloc_kind_name(UINT32_MAX), "?");
}
END_TEST

/* A compressed block whose checksum holds but whose zstd frame does not
 * decode (a faulty writer): the blocks before it are read, then -EBADMSG
 * with a warning naming the block. */
START_TEST(test_bad_compressed_frame)
{
	char path[64];
	close(temp_file(path, sizeof(path)));
	struct capture_record records[4000];
	char scratch[4000][64];
	bool flush_after[4000] = {false};
	for (size_t i = 0; i < 4000; i++)
		generated_record(i, &records[i], scratch[i], sizeof(scratch[i]));
	flush_after[1999] = true;
	write_capture(path, records, 4000, flush_after, NULL);

	size_t size;
	uint8_t *data = read_file(path, &size);
	size_t first = CAPTURE_HEADER_SIZE;
	ck_assert_uint_eq(data[first], CAPTURE_BLOCK_RECORDS_ZSTD);
	size_t second = first + 5 + le32_get(data + first + 1) + 4;
	ck_assert_uint_eq(data[second], CAPTURE_BLOCK_RECORDS_ZSTD);
	uint32_t payload = le32_get(data + second + 1);
	/* Damage the frame's middle, then make the checksum agree. */
	data[second + 5 + payload / 2] ^= 0x5a;
	le32_put(data + second + 5 + payload, capture_crc32(0, data + second, 5 + payload));
	write_file(path, data, size);
	free(data);

	struct capture_reader *reader;
	ck_assert_int_eq(capture_reader_open(path, &reader, NULL), 0);
	struct capture_record got;
	size_t read = 0;
	int result;
	while ((result = capture_reader_next(reader, &got)) == 1) {
		ck_assert_msg(records_equal(&got, &records[read]), "record %zu differs", read);
		read++;
	}
	ck_assert_int_eq(result, -EBADMSG);
	ck_assert_uint_eq(read, 2000);
	char expected[80];
	snprintf(expected, sizeof(expected), "compressed block at byte %zu is corrupt", second);
	ck_assert_ptr_nonnull(strstr(capture_reader_warning(reader), expected));
	capture_reader_destroy(reader);
	unlink(path);
}
END_TEST

static Suite *capture_format_suite(void)
{
	Suite *suite = suite_create("capture_format");
	TCase *tc = tcase_create("format");

	tcase_set_timeout(tc, 100);
	tcase_add_test(tc, test_round_trip_every_type);
	tcase_add_test(tc, test_exact_bytes);
	tcase_add_test(tc, test_older_sampling_records);
	tcase_add_test(tc, test_many_events);
	tcase_add_test(tc, test_every_truncation);
	tcase_add_test(tc, test_every_changed_byte);
	tcase_add_test(tc, test_unknown_block_is_skipped);
	tcase_add_test(tc, test_unknown_records_are_skipped);
	tcase_add_test(tc, test_malformed_records);
	tcase_add_test(tc, test_headers_refused);
	tcase_add_test(tc, test_full_disk);
	tcase_add_test(tc, test_writer_rejects);
	tcase_add_test(tc, test_main_program_path);
	tcase_add_test(tc, test_continuing_writer);
	tcase_add_test(tc, test_kind_names);
	tcase_add_test(tc, test_bad_compressed_frame);
	suite_add_tcase(suite, tc);
	return suite;
}

int main(void)
{
	SRunner *runner = srunner_create(capture_format_suite());

	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
