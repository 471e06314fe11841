/* test_export_split.c - `memscope report --format json --split DIR`
 * (cli/export_split.c) on a capture written with the capture writer, whose
 * blocks' lifetimes and threads are known: the five files of the layout,
 * lifetime.json and threads.json byte for byte, the three report files
 * each with its one analyzer; tasks.json byte for byte for a capture with
 * tasks, and their objects in the report files; a hybrid capture's
 * sampling object and exact, estimated and mixed figures; and the usage
 * errors.
 * Argument: the memscope executable (run from the build tree, it finds the
 * build's plugins).
 *
 * meson (tests/meson.build), for the lead:
 *
 *   # memscope report --format json --split DIR: the categorized files.
 *   test_export_split = executable('test_export_split',
 *     'test_export_split.c', format_sources,
 *     include_directories: root_include,
 *     c_args: sanitize_args,
 *     link_args: sanitize_args,
 *     dependencies: [check_dep, zstd_dep])
 *   test('export_split', test_export_split,
 *     args: [memscope_exe],
 *     depends: [analyzer_modules, json_exporter],
 *     suite: 'e2e', timeout: 120)
 */
#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture.h"

#define MS UINT64_C(1000000)

static const char *memscope;

static void add(struct capture_writer *writer, struct capture_record record)
{
	ck_assert_int_eq(capture_writer_add(writer, &record), 0);
}

static void add_alloc_from(struct capture_writer *writer, uint64_t time_ns, uint32_t thread,
                           uint64_t address, uint64_t size, uint32_t stack)
{
	add(writer, (struct capture_record){
		.type = CAPTURE_RECORD_ALLOC,
		.u.alloc = {.time_ns = time_ns, .thread = thread, .kind = CAPTURE_KIND_MALLOC,
		            .address = address, .size = size, .usable = size, .stack = stack}});
}

static void add_alloc(struct capture_writer *writer, uint64_t time_ns, uint32_t thread,
                      uint64_t address, uint64_t size)
{
	add_alloc_from(writer, time_ns, thread, address, size, 1);
}

static void add_free(struct capture_writer *writer, uint64_t time_ns, uint32_t thread,
                     uint64_t address)
{
	add(writer, (struct capture_record){
		.type = CAPTURE_RECORD_FREE,
		.u.free = {.time_ns = time_ns, .thread = thread, .kind = CAPTURE_KIND_FREE,
		           .address = address}});
}

/* A capture of program under backend in a new file at path: its threads
 * main (0) and worker (1), and stack 1.  *fd is for finish_capture(). */
static struct capture_writer *start_capture(const char *path, const char *program,
                                            const char *backend, int *fd)
{
	*fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(*fd, 0);
	struct capture_writer *writer;
	ck_assert_int_eq(capture_writer_create(*fd, &writer), 0);
	add(writer, (struct capture_record){.type = CAPTURE_RECORD_INFO,
	                                    .u.info = {"program", program}});
	add(writer, (struct capture_record){.type = CAPTURE_RECORD_INFO,
	                                    .u.info = {"backend", backend}});
	add(writer, (struct capture_record){.type = CAPTURE_RECORD_THREAD,
	                                    .u.thread = {.index = 0, .tid = 10, .name = "main"}});
	add(writer, (struct capture_record){.type = CAPTURE_RECORD_THREAD,
	                                    .u.thread = {.index = 1, .tid = 11, .name = "worker"}});
	add(writer, (struct capture_record){.type = CAPTURE_RECORD_STACK_NODE,
	                                    .u.stack_node = {.id = 1, .parent = 0, .ip = 0x1234}});
	return writer;
}

static void finish_capture(struct capture_writer *writer, int fd)
{
	ck_assert_int_eq(capture_writer_destroy(writer), 0);
	close(fd);
}

/* Blocks of 100..600 bytes living 0.5 ms, 5 ms, 50 ms, 500 ms, 2 s and
 * forever: one in each lifetime bucket.  The first three are main's, the
 * others the worker's. */
static void write_capture(const char *path)
{
	int fd;
	struct capture_writer *writer = start_capture(path, "./lifetimes", "exact", &fd);
	add_alloc(writer, 0, 0, 0xa000, 100);
	add_free(writer, MS / 2, 0, 0xa000);
	add_alloc(writer, 1 * MS, 0, 0xb000, 200);
	add_alloc(writer, 2 * MS, 0, 0xc000, 300);
	add_alloc(writer, 3 * MS, 1, 0xd000, 400);
	add_alloc(writer, 4 * MS, 1, 0xe000, 500);
	add_alloc(writer, 5 * MS, 1, 0xf000, 600);
	add_free(writer, 6 * MS, 0, 0xb000);
	add_free(writer, 52 * MS, 1, 0xc000);
	add_free(writer, 503 * MS, 0, 0xd000);
	add_free(writer, 2004 * MS, 0, 0xe000);
	add(writer, (struct capture_record){
		.type = CAPTURE_RECORD_TRAILER,
		.u.trailer = {.time_ns = 2100 * MS, .allocations = 6, .frees = 5,
		              .allocated_bytes = 2100, .peak_bytes = 2000, .peak_time_ns = 5 * MS,
		              .live_blocks = 1, .live_bytes = 600, .events = 11}});
	finish_capture(writer, fd);
}

static void add_task(struct capture_writer *writer, uint64_t time_ns, uint32_t id,
                     uint32_t parent, uint32_t thread, enum capture_task_origin origin,
                     uint64_t key, const char *name)
{
	add(writer, (struct capture_record){
		.type = CAPTURE_RECORD_TASK,
		.u.task = {.time_ns = time_ns, .id = id, .parent = parent, .thread = thread,
		           .origin = origin, .key = key, .name = name}});
}

static void add_task_end(struct capture_writer *writer, uint64_t time_ns, uint32_t id,
                         uint32_t thread)
{
	add(writer, (struct capture_record){
		.type = CAPTURE_RECORD_TASK_END,
		.u.task_end = {.time_ns = time_ns, .id = id, .thread = thread}});
}

/* From here on, thread runs task (0: its root task). */
static void add_task_switch(struct capture_writer *writer, uint64_t time_ns, uint32_t thread,
                            uint32_t task)
{
	add(writer, (struct capture_record){
		.type = CAPTURE_RECORD_TASK_SWITCH,
		.u.task_switch = {.time_ns = time_ns, .thread = thread, .task = task}});
}

/* Three tasks: main's root (1), a request (2) on main that allocates three
 * blocks from two stacks, and a coroutine (3) on the worker that frees the
 * request's third block.  The request's first two blocks stay live: its
 * leaks.  Back in its root task, main allocates and frees one more.  Each
 * task is named, so the reports call it by the capture's name. */
static void write_task_capture(const char *path)
{
	int fd;
	struct capture_writer *writer = start_capture(path, "./tasks", "async", &fd);
	add(writer, (struct capture_record){.type = CAPTURE_RECORD_STACK_NODE,
	                                    .u.stack_node = {.id = 2, .parent = 1, .ip = 0x5678}});
	add_task(writer, 0, 1, 0, 0, CAPTURE_TASK_THREAD, 10, "main");
	add_task(writer, 1 * MS, 2, 1, 0, CAPTURE_TASK_ANNOTATION, 42, "request");
	add_task_switch(writer, 1 * MS, 0, 2);
	add_alloc_from(writer, 2 * MS, 0, 0xa000, 100, 1);
	add_alloc_from(writer, 3 * MS, 0, 0xb000, 200, 2);
	add_alloc_from(writer, 4 * MS, 0, 0xc000, 300, 1);
	add_task(writer, 5 * MS, 3, 0, 1, CAPTURE_TASK_UCONTEXT, 0x7000, "fiber");
	add_task_switch(writer, 5 * MS, 1, 3);
	add_free(writer, 6 * MS, 1, 0xc000);
	add_task_end(writer, 7 * MS, 3, 1);
	add_task_switch(writer, 7 * MS, 1, 0);
	add_task_end(writer, 8 * MS, 2, 0);
	add_task_switch(writer, 8 * MS, 0, 0);
	add_alloc_from(writer, 9 * MS, 0, 0xd000, 400, 1);
	add_free(writer, 10 * MS, 0, 0xd000);
	add(writer, (struct capture_record){
		.type = CAPTURE_RECORD_TRAILER,
		.u.trailer = {.time_ns = 20 * MS, .allocations = 4, .frees = 2,
		              .allocated_bytes = 1000, .peak_bytes = 600, .peak_time_ns = 4 * MS,
		              .live_blocks = 2, .live_bytes = 300, .events = 6}});
	finish_capture(writer, fd);
}

/* The hybrid backend's: interval 1000, every block of 5,000 bytes or more
 * recorded (weight 1).  Main allocates a large block and frees it at once
 * (exact); the worker a sample it frees after 5 ms (estimated), then a
 * large block and a sample it keeps (mixed). */
static void write_hybrid_capture(const char *path)
{
	int fd;
	struct capture_writer *writer = start_capture(path, "./mixed", "hybrid", &fd);
	add(writer, (struct capture_record){
		.type = CAPTURE_RECORD_SAMPLING,
		.u.sampling = {.time_ns = 0, .interval = 1000, .seed = 1, .exact_above = 5000}});
	add_alloc(writer, 0, 0, 0xa000, 6000);
	add_free(writer, MS / 2, 0, 0xa000);
	add_alloc(writer, 1 * MS, 1, 0xb000, 100);
	add_alloc(writer, 2 * MS, 1, 0xc000, 8000);
	add_alloc(writer, 3 * MS, 1, 0xd000, 200);
	add_free(writer, 6 * MS, 1, 0xb000);
	add(writer, (struct capture_record){.type = CAPTURE_RECORD_TRAILER,
	                                    .u.trailer = {.time_ns = 10 * MS}});
	finish_capture(writer, fd);
}

/* Runs memscope with arguments (NULL-terminated); returns its exit status,
 * its stderr going to /dev/null. */
static int run_memscope(const char *const *arguments)
{
	pid_t child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, STDERR_FILENO);
		execv(memscope, (char *const *)arguments);
		_exit(127);
	}
	int status;
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static char *read_text(const char *path)
{
	FILE *file = fopen(path, "re");
	ck_assert_msg(file != NULL, "%s was not written", path);
	static char text[65536];
	size_t length = fread(text, 1, sizeof text - 1, file);
	text[length] = '\0';
	fclose(file);
	return text;
}

struct fixture {
	char directory[64];
	char capture[128];
	char split[128];
	char layout[192];
};

/* A capture called name.memscope, written by write. */
static void fixture_init_with(struct fixture *fixture, const char *name,
                              void (*write)(const char *path))
{
	snprintf(fixture->directory, sizeof fixture->directory, "/tmp/memscope-split-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fixture->directory));
	snprintf(fixture->capture, sizeof fixture->capture, "%s/%s.memscope", fixture->directory,
	         name);
	snprintf(fixture->split, sizeof fixture->split, "%s/out/nested", fixture->directory);
	snprintf(fixture->layout, sizeof fixture->layout, "%s/MemoryAnalysis/%s", fixture->split,
	         name);
	write(fixture->capture);
}

static void fixture_init(struct fixture *fixture)
{
	fixture_init_with(fixture, "lifetimes", write_capture);
}

static void fixture_finish(struct fixture *fixture)
{
	char command[256];
	snprintf(command, sizeof command, "rm -rf '%s'", fixture->directory);
	ck_assert_int_eq(system(command), 0);
}

START_TEST(writes_the_layout)
{
	struct fixture fixture;
	fixture_init(&fixture);
	const char *arguments[] = {"memscope", "report", "--format", "json", "--split",
	                           fixture.split, fixture.capture, NULL};
	ck_assert_int_eq(run_memscope(arguments), 0);

	char path[512], expected[2048];
	snprintf(path, sizeof path, "%s/lifetime.json", fixture.layout);
	snprintf(expected, sizeof expected,
	         "{\n"
	         "  \"schema\": \"memscope-lifetime\",\n"
	         "  \"schema_version\": 1,\n"
	         "  \"capture\": \"%s\",\n"
	         "  \"buckets\": [\n"
	         "    {\"name\": \"under_1ms\", \"min_ns\": 0, \"max_ns\": 1000000, \"blocks\": 1, \"bytes\": 100, \"accuracy\": \"exact\"},\n"
	         "    {\"name\": \"under_10ms\", \"min_ns\": 1000000, \"max_ns\": 10000000, \"blocks\": 1, \"bytes\": 200, \"accuracy\": \"exact\"},\n"
	         "    {\"name\": \"under_100ms\", \"min_ns\": 10000000, \"max_ns\": 100000000, \"blocks\": 1, \"bytes\": 300, \"accuracy\": \"exact\"},\n"
	         "    {\"name\": \"under_1s\", \"min_ns\": 100000000, \"max_ns\": 1000000000, \"blocks\": 1, \"bytes\": 400, \"accuracy\": \"exact\"},\n"
	         "    {\"name\": \"1s_or_more\", \"min_ns\": 1000000000, \"max_ns\": null, \"blocks\": 1, \"bytes\": 500, \"accuracy\": \"exact\"}\n"
	         "  ],\n"
	         "  \"never_freed\": {\"blocks\": 1, \"bytes\": 600, \"accuracy\": \"exact\"}\n"
	         "}\n",
	         fixture.capture);
	ck_assert_str_eq(read_text(path), expected);

	/* Blocks go with the thread that allocated them, wherever freed. */
	snprintf(path, sizeof path, "%s/threads.json", fixture.layout);
	snprintf(expected, sizeof expected,
	         "{\n"
	         "  \"schema\": \"memscope-threads\",\n"
	         "  \"schema_version\": 1,\n"
	         "  \"capture\": \"%s\",\n"
	         "  \"threads\": [\n"
	         "    {\"index\": 0, \"name\": \"main\", \"blocks\": 3, \"bytes\": 600, \"freed_blocks\": 3, \"freed_bytes\": 600, \"live_blocks\": 0, \"live_bytes\": 0, \"peak_bytes\": 500, \"peak_time_ns\": 2000000, \"live_at_capture_peak_bytes\": 500, \"accuracy\": \"exact\"},\n"
	         "    {\"index\": 1, \"name\": \"worker\", \"blocks\": 3, \"bytes\": 1500, \"freed_blocks\": 2, \"freed_bytes\": 900, \"live_blocks\": 1, \"live_bytes\": 600, \"peak_bytes\": 1500, \"peak_time_ns\": 5000000, \"live_at_capture_peak_bytes\": 1500, \"accuracy\": \"exact\"}\n"
	         "  ]\n"
	         "}\n",
	         fixture.capture);
	ck_assert_str_eq(read_text(path), expected);

	/* The report files: the json exporter's, one analyzer each. */
	static const char *const reports[][2] = {
		{"memory_analysis.json", "leaks"},
		{"performance.json", "hotspots"},
		{"fragmentation.json", "fragmentation"},
	};
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", fixture.layout, reports[i][0]);
		const char *text = read_text(path);
		ck_assert_ptr_nonnull(strstr(text, "\"schema\": \"memscope-report\""));
		ck_assert_ptr_nonnull(strstr(text, "\"allocations\": 6,"));
		char analyzer[64];
		snprintf(analyzer, sizeof analyzer, "\"analyzer\": \"%s\"", reports[i][1]);
		ck_assert_msg(strstr(text, analyzer) != NULL, "%s: no %s", reports[i][0], analyzer);
		ck_assert_int_eq(strstr(strstr(text, "\"analyzer\": ") + 1, "\"analyzer\": ") == NULL,
		                 1);
		if (access("/usr/bin/python3", X_OK) == 0) {
			char command[768];
			snprintf(command, sizeof command,
			         "/usr/bin/python3 -I -c 'import json, sys; json.load(open(sys.argv[1]))' "
			         "'%s'", path);
			ck_assert_msg(system(command) == 0, "%s does not parse", path);
		}
		ck_assert_ptr_null(strstr(text, "\"tasks\""));
	}
	/* No tasks in the capture: no tasks.json. */
	snprintf(path, sizeof path, "%s/tasks.json", fixture.layout);
	ck_assert_int_ne(access(path, F_OK), 0);
	fixture_finish(&fixture);
}
END_TEST

START_TEST(writes_tasks)
{
	struct fixture fixture;
	fixture_init_with(&fixture, "tasks", write_task_capture);
	const char *arguments[] = {"memscope", "report", "--format", "json", "--split",
	                           fixture.split, fixture.capture, NULL};
	ck_assert_int_eq(run_memscope(arguments), 0);

	/* Blocks go with the task that allocated them: the coroutine's free
	 * of the request's block counts on both sides. */
	static const char *const task_lines[] = {
		"{\"id\": 1, \"parent\": 0, \"name\": \"main\", \"origin\": \"thread\", \"key\": 10, "
		"\"began_on\": 0, \"threads\": [0], \"begin_ns\": 0, \"end_ns\": 20000000, "
		"\"ended\": false, \"children\": 1, \"allocations\": 1, \"allocated_bytes\": 400, "
		"\"frees\": 1, \"freed_bytes\": 400, \"freed_by_others\": 0, "
		"\"freed_by_others_bytes\": 0, \"freed_of_others\": 0, \"freed_of_others_bytes\": 0, "
		"\"peak_bytes\": 400, \"peak_time_ns\": 9000000, \"live_at_end_blocks\": 0, "
		"\"live_at_end_bytes\": 0, \"leaked_blocks\": 0, \"leaked_bytes\": 0, "
		"\"accuracy\": \"exact\", \"leaks\": []}",
		"{\"id\": 2, \"parent\": 1, \"name\": \"request\", \"origin\": \"annotation\", "
		"\"key\": 42, \"began_on\": 0, \"threads\": [0], \"begin_ns\": 1000000, "
		"\"end_ns\": 8000000, \"ended\": true, \"children\": 0, \"allocations\": 3, "
		"\"allocated_bytes\": 600, \"frees\": 1, \"freed_bytes\": 300, "
		"\"freed_by_others\": 1, \"freed_by_others_bytes\": 300, \"freed_of_others\": 0, "
		"\"freed_of_others_bytes\": 0, \"peak_bytes\": 600, \"peak_time_ns\": 4000000, "
		"\"live_at_end_blocks\": 2, \"live_at_end_bytes\": 300, \"leaked_blocks\": 2, "
		"\"leaked_bytes\": 300, \"accuracy\": \"exact\", \"leaks\": [{\"stack\": 2, "
		"\"blocks\": 1, \"bytes\": 200, \"accuracy\": \"exact\"}, {\"stack\": 1, \"blocks\": 1, "
		"\"bytes\": 100, \"accuracy\": \"exact\"}]}",
		"{\"id\": 3, \"parent\": 0, \"name\": \"fiber\", \"origin\": \"ucontext\", "
		"\"key\": 28672, \"began_on\": 1, \"threads\": [1], \"begin_ns\": 5000000, \"end_ns\": 7000000, "
		"\"ended\": true, \"children\": 0, \"allocations\": 0, \"allocated_bytes\": 0, "
		"\"frees\": 0, \"freed_bytes\": 0, \"freed_by_others\": 0, "
		"\"freed_by_others_bytes\": 0, \"freed_of_others\": 1, \"freed_of_others_bytes\": 300, "
		"\"peak_bytes\": 0, \"peak_time_ns\": 0, \"live_at_end_blocks\": 0, "
		"\"live_at_end_bytes\": 0, \"leaked_blocks\": 0, \"leaked_bytes\": 0, "
		"\"accuracy\": \"exact\", \"leaks\": []}",
	};
	/* In the order they finish: the fiber at 7 ms (its frees are done),
	 * then at the end, in id order, main (running) and the request (it
	 * owns live blocks). */
	static const size_t order[] = {2, 0, 1};
	char path[512], expected[8192];
	snprintf(path, sizeof path, "%s/tasks.json", fixture.layout);
	snprintf(expected, sizeof expected,
	         "{\n"
	         "  \"schema\": \"memscope-tasks\",\n"
	         "  \"schema_version\": 1,\n"
	         "  \"capture\": \"%s\",\n"
	         "  \"tasks\": [\n"
	         "    %s,\n"
	         "    %s,\n"
	         "    %s\n"
	         "  ],\n"
	         "  \"stacks\": {\n"
	         "    \"1\": [\n"
	         "      {\"function\": null, \"file\": null, \"line\": 0, \"inlined\": false, \"module\": null, \"offset\": 4660}\n"
	         "    ],\n"
	         "    \"2\": [\n"
	         "      {\"function\": null, \"file\": null, \"line\": 0, \"inlined\": false, \"module\": null, \"offset\": 22136},\n"
	         "      {\"function\": null, \"file\": null, \"line\": 0, \"inlined\": false, \"module\": null, \"offset\": 4660}\n"
	         "    ]\n"
	         "  }\n"
	         "}\n",
	         fixture.capture, task_lines[order[0]], task_lines[order[1]],
	         task_lines[order[2]]);
	ck_assert_str_eq(read_text(path), expected);

	/* The report files carry the same tasks, line for line. */
	static const char *const reports[] = {"memory_analysis.json", "performance.json",
	                                      "fragmentation.json"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", fixture.layout, reports[i]);
		const char *text = read_text(path);
		for (size_t t = 0; t < 3; t++) {
			char line[2048];
			snprintf(line, sizeof line, "\n    %s%s\n", task_lines[order[t]],
			         t < 2 ? "," : "");
			ck_assert_msg(strstr(text, line) != NULL, "%s: no task %zu", reports[i], t + 1);
		}
	}
	if (access("/usr/bin/python3", X_OK) == 0) {
		char command[768];
		snprintf(command, sizeof command,
		         "/usr/bin/python3 -I -c 'import json, sys; json.load(open(sys.argv[1]))' "
		         "'%s/tasks.json'", fixture.layout);
		ck_assert_msg(system(command) == 0, "tasks.json does not parse");
	}
	fixture_finish(&fixture);
}
END_TEST

/* Weights 10.508 (100 bytes) and 5.517 (200 bytes); the large blocks 1. */
START_TEST(writes_how_exact_a_hybrid_capture_is)
{
	struct fixture fixture;
	fixture_init_with(&fixture, "hybrid", write_hybrid_capture);
	const char *arguments[] = {"memscope", "report", "--format", "json", "--split",
	                           fixture.split, fixture.capture, NULL};
	ck_assert_int_eq(run_memscope(arguments), 0);
	static const char sampling[] =
		"  \"sampling\": {\"interval\": 1000, \"estimated\": true, \"interval_min\": 1000, "
		"\"interval_max\": 1000, \"interval_changes\": 0, \"exact_above\": 5000},\n";

	char path[512], expected[4096];
	snprintf(path, sizeof path, "%s/lifetime.json", fixture.layout);
	snprintf(expected, sizeof expected,
	         "{\n"
	         "  \"schema\": \"memscope-lifetime\",\n"
	         "  \"schema_version\": 1,\n"
	         "  \"capture\": \"%s\",\n"
	         "%s"
	         "  \"buckets\": [\n"
	         "    {\"name\": \"under_1ms\", \"min_ns\": 0, \"max_ns\": 1000000, \"blocks\": 1, "
	         "\"bytes\": 6000, \"accuracy\": \"exact\"},\n"
	         "    {\"name\": \"under_10ms\", \"min_ns\": 1000000, \"max_ns\": 10000000, "
	         "\"blocks\": 11, \"bytes\": 1051, \"accuracy\": \"estimated\"},\n"
	         "    {\"name\": \"under_100ms\", \"min_ns\": 10000000, \"max_ns\": 100000000, "
	         "\"blocks\": 0, \"bytes\": 0, \"accuracy\": \"exact\"},\n"
	         "    {\"name\": \"under_1s\", \"min_ns\": 100000000, \"max_ns\": 1000000000, "
	         "\"blocks\": 0, \"bytes\": 0, \"accuracy\": \"exact\"},\n"
	         "    {\"name\": \"1s_or_more\", \"min_ns\": 1000000000, \"max_ns\": null, "
	         "\"blocks\": 0, \"bytes\": 0, \"accuracy\": \"exact\"}\n"
	         "  ],\n"
	         "  \"never_freed\": {\"blocks\": 7, \"bytes\": 9103, \"accuracy\": \"mixed\"}\n"
	         "}\n",
	         fixture.capture, sampling);
	ck_assert_str_eq(read_text(path), expected);

	snprintf(path, sizeof path, "%s/threads.json", fixture.layout);
	snprintf(expected, sizeof expected,
	         "{\n"
	         "  \"schema\": \"memscope-threads\",\n"
	         "  \"schema_version\": 1,\n"
	         "  \"capture\": \"%s\",\n"
	         "%s"
	         "  \"threads\": [\n"
	         "    {\"index\": 0, \"name\": \"main\", \"blocks\": 1, \"bytes\": 6000, "
	         "\"freed_blocks\": 1, \"freed_bytes\": 6000, \"live_blocks\": 0, \"live_bytes\": 0, "
	         "\"peak_bytes\": 6000, \"peak_time_ns\": 0, \"live_at_capture_peak_bytes\": 0, "
	         "\"accuracy\": \"exact\"},\n"
	         "    {\"index\": 1, \"name\": \"worker\", \"blocks\": 17, \"bytes\": 10154, "
	         "\"freed_blocks\": 11, \"freed_bytes\": 1051, \"live_blocks\": 7, "
	         "\"live_bytes\": 9103, \"peak_bytes\": 10154, \"peak_time_ns\": 3000000, "
	         "\"live_at_capture_peak_bytes\": 10154, \"accuracy\": \"mixed\"}\n"
	         "  ]\n"
	         "}\n",
	         fixture.capture, sampling);
	ck_assert_str_eq(read_text(path), expected);

	/* The report files carry the same sampling object, and the summary's
	 * accuracies. */
	snprintf(path, sizeof path, "%s/memory_analysis.json", fixture.layout);
	const char *text = read_text(path);
	ck_assert_ptr_nonnull(strstr(text, sampling));
	ck_assert_ptr_nonnull(strstr(text, "    \"accuracy\": {\"allocations\": \"mixed\", "
	                                   "\"reallocations\": \"exact\", \"frees\": \"mixed\", "
	                                   "\"peak\": \"mixed\", \"live\": \"mixed\"},\n"));
	fixture_finish(&fixture);
}
END_TEST

/* Every event in one clock tick: main allocates 1,000 bytes, the worker
 * 2,000, both are freed, and main allocates 500 that stay.  The capture's
 * order places the peak (3,000 bytes, after the worker's allocation), where
 * their times alone cannot: each thread's peak and the sites' bytes live
 * at the peak are the exact ones. */
static void write_one_tick(const char *path)
{
	int fd;
	struct capture_writer *writer = start_capture(path, "./burst", "exact", &fd);
	add_alloc(writer, 1 * MS, 0, 0xa000, 1000);
	add_alloc(writer, 1 * MS, 1, 0xb000, 2000);
	add_free(writer, 1 * MS, 0, 0xa000);
	add_free(writer, 1 * MS, 1, 0xb000);
	add_alloc(writer, 1 * MS, 0, 0xc000, 500);
	add(writer, (struct capture_record){
		.type = CAPTURE_RECORD_TRAILER,
		.u.trailer = {.time_ns = 2 * MS, .allocations = 3, .frees = 2,
		              .allocated_bytes = 3500, .peak_bytes = 3000, .peak_time_ns = 1 * MS,
		              .live_blocks = 1, .live_bytes = 500, .events = 5}});
	finish_capture(writer, fd);
}

START_TEST(a_peak_inside_one_tick_is_exact)
{
	struct fixture fixture;
	fixture_init_with(&fixture, "burst", write_one_tick);
	const char *arguments[] = {"memscope", "report", "--format", "json", "--split",
	                           fixture.split, fixture.capture, NULL};
	ck_assert_int_eq(run_memscope(arguments), 0);

	char path[512];
	snprintf(path, sizeof path, "%s/threads.json", fixture.layout);
	const char *threads = read_text(path);
	ck_assert_msg(strstr(threads, "\"name\": \"main\", \"blocks\": 2, \"bytes\": 1500, "
	                              "\"freed_blocks\": 1, \"freed_bytes\": 1000, \"live_blocks\": 1, "
	                              "\"live_bytes\": 500, \"peak_bytes\": 1000,") != NULL,
	              "%s", threads);
	ck_assert_msg(strstr(threads, "\"name\": \"worker\", \"blocks\": 1, \"bytes\": 2000, "
	                              "\"freed_blocks\": 1, \"freed_bytes\": 2000, \"live_blocks\": 0, "
	                              "\"live_bytes\": 0, \"peak_bytes\": 2000,") != NULL,
	              "%s", threads);
	snprintf(path, sizeof path, "%s/performance.json", fixture.layout);
	const char *performance = read_text(path);
	/* The one site: 3 allocations, 3,500 bytes, 3,000 of them live at the peak. */
	ck_assert_msg(strstr(performance, ", 3, 3500, 3000, ") != NULL, "%s", performance);
	ck_assert_msg(strstr(performance, "not the capture's peak") == NULL, "%s", performance);
	fixture_finish(&fixture);
}
END_TEST

START_TEST(refuses_split_without_json)
{
	struct fixture fixture;
	fixture_init(&fixture);
	const char *svg[] = {"memscope", "report", "--format", "svg", "--split", fixture.split,
	                     fixture.capture, NULL};
	ck_assert_int_eq(run_memscope(svg), 2);
	const char *text[] = {"memscope", "report", "--split", fixture.split, fixture.capture, NULL};
	ck_assert_int_eq(run_memscope(text), 2);
	const char *output[] = {"memscope", "report", "--format", "json", "--split", fixture.split,
	                        "-o", "x.json", fixture.capture, NULL};
	ck_assert_int_eq(run_memscope(output), 2);
	ck_assert_int_ne(access(fixture.split, F_OK), 0);
	fixture_finish(&fixture);
}
END_TEST

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s MEMSCOPE\n", argv[0]);
		return 2;
	}
	memscope = argv[1];
	Suite *suite = suite_create("export_split");
	TCase *tcase = tcase_create("split");
	tcase_set_timeout(tcase, 60);
	tcase_add_test(tcase, writes_the_layout);
	tcase_add_test(tcase, writes_tasks);
	tcase_add_test(tcase, writes_how_exact_a_hybrid_capture_is);
	tcase_add_test(tcase, a_peak_inside_one_tick_is_exact);
	tcase_add_test(tcase, refuses_split_without_json);
	suite_add_tcase(suite, tcase);
	SRunner *runner = srunner_create(suite);
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
