/* test_binary_exporter.c - the "binary" exporter (exporters/binary.c),
 * dlopen'd and run through a host of the test's own: a capture written with
 * the capture writer comes back record for record, and cut to a window it
 * holds exactly the events inside with a trailer of theirs.
 *
 * meson (tests/meson.build), for the lead:
 *
 *   # The binary exporter: a capture re-packed and cut to a window, read back.
 *   test_binary_exporter = executable('test_binary_exporter',
 *     'test_binary_exporter.c', format_sources,
 *     include_directories: root_include,
 *     c_args: sanitize_args,
 *     link_args: sanitize_args,
 *     dependencies: [check_dep, dl_dep, zstd_dep])
 *   test('binary_exporter', test_binary_exporter,
 *     args: [meson.project_build_root() / 'exporters'],
 *     depends: [binary_exporter],
 *     suite: 'unit', timeout: 120)
 */
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memscope/plugin.h>

#include "capture.h"

#define MS UINT64_C(1000000)
#define MAX_RECORDS 256
#define DESCRIPTION_SIZE 512
/* Enough stack nodes that the writer's block is worth compressing. */
#define STACK_NODES 64

static const char *exporter_directory;

/* ---- a host of our own: the summary's path and options ----------------- */

struct memscope_capture {
	memscope_summary summary;
	const char *from_ms;
	const char *to_ms;
};

static const memscope_summary *fake_summary(memscope_capture *capture)
{
	return &capture->summary;
}

static const char *fake_option(memscope_capture *capture, const char *key)
{
	if (strcmp(key, "from_ms") == 0)
		return capture->from_ms;
	if (strcmp(key, "to_ms") == 0)
		return capture->to_ms;
	return NULL;
}

static const memscope_host fake_host = {
	.version = MEMSCOPE_HOST_VERSION,
	.summary = fake_summary,
	.option = fake_option,
};

/* ---- the source capture ------------------------------------------------ */

/* Blocks a (100 B), b (200), c (300, then 500), d (1000), e (50) on the
 * one thread, over 15 ms:
 *   1 ms alloc a   2 ms alloc b   2.5 ms sample   4 ms alloc c
 *   4.5 ms tag c   4.6 ms tag b   5 ms free a     6 ms expand c to 500
 *   7 ms alloc d   8 ms sample    9 ms free c     12 ms alloc e
 *   13 ms free d   15 ms trailer */
enum { A = 0x1000, B = 0x2000, C = 0x3000, D = 0x4000, E = 0x5000 };

static struct capture_record alloc_at(uint64_t time_ns, uint64_t address, uint64_t size)
{
	return (struct capture_record){
		.type = CAPTURE_RECORD_ALLOC,
		.u.alloc = {.time_ns = time_ns, .thread = 0, .kind = CAPTURE_KIND_MALLOC,
		            .address = address, .size = size, .usable = size, .stack = 2},
	};
}

static struct capture_record free_at(uint64_t time_ns, uint64_t address)
{
	return (struct capture_record){
		.type = CAPTURE_RECORD_FREE,
		.u.free = {.time_ns = time_ns, .thread = 0, .kind = CAPTURE_KIND_FREE,
		           .address = address},
	};
}

static struct capture_record tag_at(uint64_t time_ns, uint64_t address, const char *name)
{
	return (struct capture_record){
		.type = CAPTURE_RECORD_TAG,
		.u.tag = {.time_ns = time_ns, .thread = 0, .address = address, .name = name,
		          .type_name = "struct thing", .file = "thing.c", .line = 42},
	};
}

static struct capture_record sample_at(uint64_t time_ns, uint64_t live)
{
	return (struct capture_record){
		.type = CAPTURE_RECORD_SAMPLE,
		.u.sample = {.time_ns = time_ns, .heap_live_bytes = live, .heap_live_blocks = 1,
		             .rss_bytes = 1 << 20, .threads = 1},
	};
}

/* The records of the source, in order; returns how many. */
static size_t source_records(struct capture_record *records)
{
	size_t n = 0;
	records[n++] = (struct capture_record){.type = CAPTURE_RECORD_INFO,
	                                       .u.info = {.key = "program", .value = "toy"}};
	records[n++] = (struct capture_record){.type = CAPTURE_RECORD_THREAD,
	                                       .u.thread = {.index = 0, .tid = 77, .name = "main"}};
	struct capture_record module = {.type = CAPTURE_RECORD_MODULE};
	module.u.module.id = 0;
	module.u.module.path = "/usr/bin/toy";
	module.u.module.base = 0x400000;
	module.u.module.segment_count = 1;
	module.u.module.segments[0] = (struct capture_segment){0x400000, 0x401000};
	records[n++] = module;
	for (uint32_t id = 1; id <= STACK_NODES; id++)
		records[n++] = (struct capture_record){
			.type = CAPTURE_RECORD_STACK_NODE,
			.u.stack_node = {.id = id, .parent = id - 1, .ip = 0x400100 + id * 16}};
	records[n++] = alloc_at(1 * MS, A, 100);
	records[n++] = alloc_at(2 * MS, B, 200);
	records[n++] = sample_at(2 * MS + MS / 2, 300);
	records[n++] = alloc_at(4 * MS, C, 300);
	records[n++] = tag_at(4 * MS + MS / 2, C, "c");
	records[n++] = tag_at(4 * MS + 6 * MS / 10, B, "b");
	records[n++] = free_at(5 * MS, A);
	records[n++] = (struct capture_record){
		.type = CAPTURE_RECORD_EXPAND,
		.u.expand = {.time_ns = 6 * MS, .thread = 0, .kind = CAPTURE_KIND_REALLOC,
		             .address = C, .size = 500, .old_usable = 320, .usable = 512, .stack = 1}};
	records[n++] = alloc_at(7 * MS, D, 1000);
	records[n++] = sample_at(8 * MS, 1700);
	records[n++] = free_at(9 * MS, C);
	records[n++] = alloc_at(12 * MS, E, 50);
	records[n++] = free_at(13 * MS, D);
	records[n++] = (struct capture_record){
		.type = CAPTURE_RECORD_TRAILER,
		.u.trailer = {.time_ns = 15 * MS, .allocations = 5, .frees = 3,
		              .allocated_bytes = 1650, .peak_bytes = 1700, .peak_time_ns = 7 * MS,
		              .live_blocks = 2, .live_bytes = 250, .events = 9, .lost_events = 3}};
	return n;
}

/* The source's records; without its trailer (the last), as a capture of
 * a program that died, when trailer is false. */
static void write_source_with(const char *path, bool trailer)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	struct capture_writer *writer;
	ck_assert_int_eq(capture_writer_create(fd, &writer), 0);
	static struct capture_record records[MAX_RECORDS];
	size_t count = source_records(records) - (trailer ? 0 : 1);
	for (size_t i = 0; i < count; i++)
		ck_assert_int_eq(capture_writer_add(writer, &records[i]), 0);
	ck_assert_int_eq(capture_writer_destroy(writer), 0);
	close(fd);
}

static void write_source(const char *path)
{
	write_source_with(path, true);
}

/* Every field of a record as one line, so records compare as text. */
static void describe(const struct capture_record *record, char *out, size_t size)
{
	switch (record->type) {
	case CAPTURE_RECORD_INFO:
		snprintf(out, size, "info %s=%s", record->u.info.key, record->u.info.value);
		break;
	case CAPTURE_RECORD_MODULE: {
		const struct capture_module *m = &record->u.module;
		snprintf(out, size, "module %" PRIu32 " %d %" PRIu64 " %s %" PRIx64 " %" PRIu32
		         " %" PRIx64 "-%" PRIx64, m->id, m->unloaded, m->time_ns, m->path, m->base,
		         m->segment_count, m->segments[0].start, m->segments[0].end);
		break;
	}
	case CAPTURE_RECORD_THREAD:
		snprintf(out, size, "thread %" PRIu32 " %" PRIu32 " %s", record->u.thread.index,
		         record->u.thread.tid, record->u.thread.name);
		break;
	case CAPTURE_RECORD_STACK_NODE:
		snprintf(out, size, "node %" PRIu32 " %" PRIu32 " %" PRIx64, record->u.stack_node.id,
		         record->u.stack_node.parent, record->u.stack_node.ip);
		break;
	case CAPTURE_RECORD_ALLOC: {
		const struct capture_alloc *a = &record->u.alloc;
		snprintf(out, size, "alloc %" PRIu64 " %" PRIu32 " %" PRIu32 " %" PRIx64 " %" PRIu64
		         " %" PRIu64 " %" PRIu32, a->time_ns, a->thread, a->kind, a->address, a->size,
		         a->usable, a->stack);
		break;
	}
	case CAPTURE_RECORD_FREE: {
		const struct capture_free *f = &record->u.free;
		snprintf(out, size, "free %" PRIu64 " %" PRIu32 " %" PRIu32 " %" PRIx64, f->time_ns,
		         f->thread, f->kind, f->address);
		break;
	}
	case CAPTURE_RECORD_EXPAND: {
		const struct capture_expand *e = &record->u.expand;
		snprintf(out, size, "expand %" PRIu64 " %" PRIu32 " %" PRIu32 " %" PRIx64 " %" PRIu64
		         " %" PRIu64 " %" PRIu64 " %" PRIu32, e->time_ns, e->thread, e->kind, e->address,
		         e->size, e->old_usable, e->usable, e->stack);
		break;
	}
	case CAPTURE_RECORD_TAG: {
		const struct capture_tag *t = &record->u.tag;
		snprintf(out, size, "tag %" PRIu64 " %" PRIu32 " %" PRIx64 " %s %s %s %" PRIu32,
		         t->time_ns, t->thread, t->address, t->name, t->type_name, t->file, t->line);
		break;
	}
	case CAPTURE_RECORD_SAMPLE: {
		const struct capture_sample *s = &record->u.sample;
		snprintf(out, size, "sample %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu32,
		         s->time_ns, s->heap_live_bytes, s->heap_live_blocks, s->rss_bytes, s->threads);
		break;
	}
	case CAPTURE_RECORD_TRAILER: {
		const struct capture_trailer *t = &record->u.trailer;
		snprintf(out, size, "trailer time %" PRIu64 " allocations %" PRIu64 " frees %" PRIu64
		         " bytes %" PRIu64 " peak %" PRIu64 " at %" PRIu64 " live %" PRIu64 " blocks %"
		         PRIu64 " bytes events %" PRIu64 " lost %" PRIu64, t->time_ns, t->allocations,
		         t->frees, t->allocated_bytes, t->peak_bytes, t->peak_time_ns, t->live_blocks,
		         t->live_bytes, t->events, t->lost_events);
		break;
	}
	default:
		snprintf(out, size, "type %d", (int)record->type);
	}
}

/* The records of the capture at path, described; returns how many.  The
 * capture must end cleanly. */
static size_t read_back(const char *path, char (*lines)[DESCRIPTION_SIZE])
{
	struct capture_reader *reader;
	const char *message = NULL;
	ck_assert_msg(capture_reader_open(path, &reader, &message) == 0, "%s: %s", path,
	              message ? message : "cannot open");
	struct capture_record record;
	size_t n = 0;
	int more;
	while ((more = capture_reader_next(reader, &record)) == 1) {
		ck_assert_uint_lt(n, MAX_RECORDS);
		describe(&record, lines[n++], DESCRIPTION_SIZE);
	}
	ck_assert_msg(more == 0, "%s: %s", path, capture_reader_warning(reader));
	capture_reader_destroy(reader);
	return n;
}

/* ---- running the exporter ---------------------------------------------- */

struct loaded {
	void *handle;
	const memscope_exporter *exporter;
};

static struct loaded load_binary(void)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/binary.so", exporter_directory);
	struct loaded loaded = {.handle = dlopen(path, RTLD_NOW | RTLD_LOCAL)};
	ck_assert_msg(loaded.handle != NULL, "%s", dlerror());
	memscope_plugin_entry_fn entry =
	    (memscope_plugin_entry_fn)dlsym(loaded.handle, MEMSCOPE_PLUGIN_ENTRY_NAME);
	ck_assert_ptr_nonnull(entry);
	const memscope_plugin_info *info = entry(&fake_host);
	ck_assert_uint_eq(info->abi_major, MEMSCOPE_PLUGIN_ABI_MAJOR);
	ck_assert_ptr_nonnull(info->exporters);
	loaded.exporter = info->exporters[0];
	ck_assert_str_eq(loaded.exporter->name, "binary");
	ck_assert_str_eq(loaded.exporter->extension, "memscope");
	return loaded;
}

/* Exports source to a new file (its path into output) with the window
 * given (NULL: no bound); returns what write returned. */
static int export_window(const char *source, const char *from_ms, const char *to_ms,
                         char *output, size_t size)
{
	snprintf(output, size, "%s.out", source);
	struct memscope_capture capture = {
		.summary = {.version = MEMSCOPE_SUMMARY_VERSION, .path = source},
		.from_ms = from_ms,
		.to_ms = to_ms,
	};
	struct loaded loaded = load_binary();
	FILE *out = fopen(output, "we");
	ck_assert_ptr_nonnull(out);
	int result = loaded.exporter->write(&fake_host, &capture, NULL, 0, out);
	ck_assert_int_eq(fclose(out), 0);
	dlclose(loaded.handle);
	return result;
}

static void make_source(char *path, size_t size)
{
	snprintf(path, size, "/tmp/memscope-binary-XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	write_source(path);
}

static char source_lines[MAX_RECORDS][DESCRIPTION_SIZE];
static char output_lines[MAX_RECORDS][DESCRIPTION_SIZE];

START_TEST(copies_every_record_without_a_window)
{
	char source[64], output[80];
	make_source(source, sizeof source);
	ck_assert_int_eq(export_window(source, NULL, NULL, output, sizeof output), 0);

	size_t expected = read_back(source, source_lines);
	size_t got = read_back(output, output_lines);
	ck_assert_uint_eq(got, expected);
	/* The trailer too: recomputed, it equals the source's. */
	for (size_t i = 0; i < got; i++)
		ck_assert_str_eq(output_lines[i], source_lines[i]);

	/* Re-packed in compressed blocks: the first one after the header. */
	FILE *file = fopen(output, "re");
	ck_assert_ptr_nonnull(file);
	ck_assert_int_eq(fseek(file, CAPTURE_HEADER_SIZE, SEEK_SET), 0);
	ck_assert_int_eq(fgetc(file), CAPTURE_BLOCK_RECORDS_ZSTD);
	fclose(file);
	unlink(source);
	unlink(output);
}
END_TEST

START_TEST(keeps_exactly_the_window)
{
	char source[64], output[80];
	make_source(source, sizeof source);
	ck_assert_int_eq(export_window(source, "3", "10", output, sizeof output), 0);
	size_t got = read_back(output, output_lines);

	/* The run's description, all of it; then the events of [3 ms, 10 ms)
	 * about blocks allocated in it: b's tag and a's free are not. */
	static struct capture_record expected[MAX_RECORDS];
	size_t n = 0;
	struct capture_record all[MAX_RECORDS];
	size_t all_count = source_records(all);
	for (size_t i = 0; i < all_count; i++)
		if (all[i].type <= CAPTURE_RECORD_STACK_NODE)
			expected[n++] = all[i];
	expected[n++] = alloc_at(4 * MS, C, 300);
	expected[n++] = tag_at(4 * MS + MS / 2, C, "c");
	expected[n++] = (struct capture_record){
		.type = CAPTURE_RECORD_EXPAND,
		.u.expand = {.time_ns = 6 * MS, .thread = 0, .kind = CAPTURE_KIND_REALLOC,
		             .address = C, .size = 500, .old_usable = 320, .usable = 512, .stack = 1}};
	expected[n++] = alloc_at(7 * MS, D, 1000);
	expected[n++] = sample_at(8 * MS, 1700);
	expected[n++] = free_at(9 * MS, C);
	/* c lived 300 then 500 bytes, d 1000: peak 1500 at 7 ms; d is still
	 * live at the window's end; 4 events; the source's 3 lost ones. */
	expected[n++] = (struct capture_record){
		.type = CAPTURE_RECORD_TRAILER,
		.u.trailer = {.time_ns = 10 * MS, .allocations = 2, .frees = 1,
		              .allocated_bytes = 1300, .peak_bytes = 1500, .peak_time_ns = 7 * MS,
		              .live_blocks = 1, .live_bytes = 1000, .events = 4, .lost_events = 3}};

	ck_assert_uint_eq(got, n);
	char line[DESCRIPTION_SIZE];
	for (size_t i = 0; i < n; i++) {
		describe(&expected[i], line, sizeof line);
		ck_assert_str_eq(output_lines[i], line);
	}
	unlink(source);
	unlink(output);
}
END_TEST

START_TEST(an_open_ended_window_ends_with_the_capture)
{
	char source[64], output[80];
	make_source(source, sizeof source);
	ck_assert_int_eq(export_window(source, "12", NULL, output, sizeof output), 0);
	size_t got = read_back(output, output_lines);
	/* e alone; d's free belongs to a block from before. */
	ck_assert_str_eq(output_lines[got - 2], "alloc 12000000 0 0 5000 50 50 2");
	ck_assert_str_eq(output_lines[got - 1],
	                 "trailer time 15000000 allocations 1 frees 0 bytes 50 peak 50 at 12000000 "
	                 "live 1 blocks 50 bytes events 1 lost 3");
	unlink(source);
	unlink(output);
}
END_TEST

START_TEST(refuses_a_bad_window)
{
	char source[64], output[80];
	make_source(source, sizeof source);
	ck_assert_int_eq(export_window(source, "10", "3", output, sizeof output), -EINVAL);
	ck_assert_int_eq(export_window(source, "-1", NULL, output, sizeof output), -EINVAL);
	ck_assert_int_eq(export_window(source, NULL, "5ms", output, sizeof output), -EINVAL);
	unlink(source);
	unlink(output);
}
END_TEST

/* How a re-packed copy ended: whether it has a trailer, and its INFO
 * "cut_short" (empty if none).  The copy itself is always whole. */
static void ending_of(const char *path, bool *trailer, char *cut, size_t size)
{
	struct capture_reader *reader;
	ck_assert_int_eq(capture_reader_open(path, &reader, NULL), 0);
	struct capture_record record;
	int more;
	*trailer = false;
	cut[0] = '\0';
	while ((more = capture_reader_next(reader, &record)) == 1) {
		*trailer |= record.type == CAPTURE_RECORD_TRAILER;
		if (record.type == CAPTURE_RECORD_INFO && strcmp(record.u.info.key, "cut_short") == 0)
			snprintf(cut, size, "%s", record.u.info.value);
	}
	ck_assert_int_eq(more, 0);
	capture_reader_destroy(reader);
}

/* A capture without a trailer (its program died) is copied without one,
 * so its live blocks are still not called leaks; one cut short says so in
 * its copy. */
START_TEST(a_copy_keeps_how_the_source_ended)
{
	char source[64], output[80], cut[256];
	bool trailer;
	make_source(source, sizeof source);
	write_source_with(source, false);
	ck_assert_int_eq(export_window(source, NULL, NULL, output, sizeof output), 0);
	ending_of(output, &trailer, cut, sizeof cut);
	ck_assert(!trailer);
	ck_assert_str_eq(cut, "");
	unlink(output);

	/* Without its end block: cut short. */
	struct stat st;
	ck_assert_int_eq(stat(source, &st), 0);
	ck_assert_int_eq(truncate(source, st.st_size - 1), 0);
	ck_assert_int_eq(export_window(source, NULL, NULL, output, sizeof output), 0);
	ending_of(output, &trailer, cut, sizeof cut);
	ck_assert(!trailer);
	ck_assert_msg(strstr(cut, "cut short") != NULL, "cut_short: '%s'", cut);
	unlink(source);
	unlink(output);
}
END_TEST

static Suite *binary_exporter_suite(void)
{
	Suite *suite = suite_create("binary_exporter");
	TCase *tcase = tcase_create("repack");
	tcase_add_test(tcase, copies_every_record_without_a_window);
	tcase_add_test(tcase, keeps_exactly_the_window);
	tcase_add_test(tcase, an_open_ended_window_ends_with_the_capture);
	tcase_add_test(tcase, refuses_a_bad_window);
	tcase_add_test(tcase, a_copy_keeps_how_the_source_ended);
	suite_add_tcase(suite, tcase);
	return suite;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s EXPORTER_DIRECTORY\n", argv[0]);
		return 2;
	}
	exporter_directory = argv[1];
	SRunner *runner = srunner_create(binary_exporter_suite());
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
