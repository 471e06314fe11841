/* test_plugins.c - the plugin host: loading and refusing plugins (each
 * refusal's exact message, with the real paths), the search path's order,
 * and running a test plugin's analyzer and exporter on a capture written
 * here with known events, so every block, row and finding is exact.
 *
 * The lead adds to tests/meson.build (after subdir('programs')):
 *
 *   subdir('plugins')
 *   test_plugins = executable('test_plugins', 'test_plugins.c',
 *     include_directories: root_include,
 *     c_args: sanitize_args + ['-DMEMSCOPE_TEST_BUILD_DIR="' + meson.current_build_dir() + '"'],
 *     link_args: sanitize_args,
 *     link_with: [plugins_lib, analysis_lib, format_lib],
 *     dependencies: [check_dep, dl_dep, dw_dep, elf_dep, zstd_dep])
 *   test('plugins', test_plugins, depends: test_plugin_modules, suite: 'unit', timeout: 120)
 */
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "plugins/capture_view.h"
#include "plugins/host.h"
#include "plugins/registry.h"
#include "plugins/results.h"

#define PLUGIN_DIR MEMSCOPE_TEST_BUILD_DIR "/plugins"
#define MS UINT64_C(1000000)

#if defined(__clang__)
#define NOT_INLINED __attribute__((noinline, used))
#else
#define NOT_INLINED __attribute__((noipa, used))
#endif

/* ---- real return addresses, for stacks that symbolize to known names --- */

NOT_INLINED static uint64_t return_address(void)
{
	return (uint64_t)(uintptr_t)__builtin_return_address(0);
}

/* Each site returns the ip a stack walk would record for a frame inside
 * it; the empty asm keeps the call from being a tail call. */
NOT_INLINED static uint64_t leak_site(void)
{
	uint64_t ip = return_address();
	__asm__ volatile("" ::: "memory");
	return ip;
}

NOT_INLINED static uint64_t make_buffer_site(void)
{
	uint64_t ip = return_address();
	__asm__ volatile("" ::: "memory");
	return ip;
}

NOT_INLINED static uint64_t outer_site(void)
{
	uint64_t ip = return_address();
	__asm__ volatile("" ::: "memory");
	return ip;
}

/* ---- a capture with known events --------------------------------------- */

struct capture_file {
	char path[64];
	int fd;
	struct capture_writer *writer;
};

static void add(struct capture_file *file, const struct capture_record *record)
{
	ck_assert_int_eq(capture_writer_add(file->writer, record), 0);
}

/* The main program is the first object dl_iterate_phdr reports. */
static int main_program(struct dl_phdr_info *info, size_t size, void *context)
{
	(void)size;
	struct capture_module *module = context;
	module->base = info->dlpi_addr;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *header = &info->dlpi_phdr[i];
		if (header->p_type != PT_LOAD || module->segment_count == CAPTURE_MAX_SEGMENTS)
			continue;
		struct capture_segment *segment = &module->segments[module->segment_count++];
		segment->start = info->dlpi_addr + header->p_vaddr;
		segment->end = segment->start + header->p_memsz;
	}
	return 1;
}

static char executable[PATH_MAX];

static void add_module(struct capture_file *file)
{
	ssize_t length = readlink("/proc/self/exe", executable, sizeof(executable) - 1);
	ck_assert_int_gt(length, 0);
	executable[length] = '\0';
	struct capture_record record = { .type = CAPTURE_RECORD_MODULE };
	record.u.module.id = 0;
	record.u.module.path = executable;
	dl_iterate_phdr(main_program, &record.u.module);
	add(file, &record);
}

static void add_thread(struct capture_file *file, uint32_t index, const char *name)
{
	struct capture_record record = { .type = CAPTURE_RECORD_THREAD };
	record.u.thread = (struct capture_thread){ index, 1000 + index, name };
	add(file, &record);
}

static void add_node(struct capture_file *file, uint32_t id, uint32_t parent, uint64_t ip)
{
	struct capture_record record = { .type = CAPTURE_RECORD_STACK_NODE };
	record.u.stack_node = (struct capture_stack_node){ id, parent, ip };
	add(file, &record);
}

static uint64_t rounded(uint64_t size)
{
	return (size + 15) & ~UINT64_C(15);
}

static void add_alloc(struct capture_file *file, uint64_t time_ns, uint32_t thread, uint32_t kind,
                      uint64_t address, uint64_t size, uint32_t stack)
{
	struct capture_record record = { .type = CAPTURE_RECORD_ALLOC };
	record.u.alloc = (struct capture_alloc){
		.time_ns = time_ns, .thread = thread, .kind = kind, .address = address,
		.size = size, .usable = rounded(size), .stack = stack,
	};
	add(file, &record);
}

static void add_free(struct capture_file *file, uint64_t time_ns, uint64_t address)
{
	struct capture_record record = { .type = CAPTURE_RECORD_FREE };
	record.u.free = (struct capture_free){
		.time_ns = time_ns, .thread = 0, .kind = CAPTURE_KIND_FREE, .address = address,
	};
	add(file, &record);
}

static void add_sample(struct capture_file *file, uint64_t time_ns, uint64_t live_bytes,
                       uint64_t live_blocks)
{
	struct capture_record record = { .type = CAPTURE_RECORD_SAMPLE };
	record.u.sample = (struct capture_sample){
		.time_ns = time_ns, .heap_live_bytes = live_bytes, .heap_live_blocks = live_blocks,
		.rss_bytes = 4096 * 100, .jemalloc_allocated = live_bytes + 1,
		.jemalloc_active = 8192, .jemalloc_resident = 16384, .jemalloc_mapped = 32768,
		.jemalloc_retained = 65536, .cpu_user_ns = time_ns / 2, .cpu_system_ns = time_ns / 4,
		.threads = 2,
	};
	add(file, &record);
}

/* Stacks, innermost first:
 *   2: leak_site <- outer_site
 *   3: leak_site (one byte earlier: the same call, the same line) <- outer_site
 *   4: make_buffer_site <- outer_site
 * 2 and 3 print alike, so plugins see stack 3's blocks under id 2.
 * Events (ms): 1 malloc 0x1000 100 (4); 2 calloc 0x2000 200 (2, thread 1);
 * 3 malloc 0x3000 50 (3); 4 free 0x1000; 5 0x3000 resized in place to 80
 * (4); 5 tag 0x2000; 6 malloc 0x4000 30 (3); 7 free 0x4000; 8 malloc 0x5000
 * 40 (3); end at 10.  Peak 350 bytes at 3 ms; 3 blocks of 320 bytes live. */
static void write_capture(struct capture_file *file)
{
	uint64_t outer = outer_site(), leak = leak_site(), make_buffer = make_buffer_site();

	snprintf(file->path, sizeof(file->path), "/tmp/test_plugins.XXXXXX");
	file->fd = mkstemp(file->path);
	ck_assert_int_ge(file->fd, 0);
	ck_assert_int_eq(capture_writer_create(file->fd, &file->writer), 0);

	struct capture_record record = { .type = CAPTURE_RECORD_INFO };
	record.u.info = (struct capture_info){ "program", "./leaky" };
	add(file, &record);
	record.u.info = (struct capture_info){ "backend", "exact" };
	add(file, &record);
	add_thread(file, 0, "main");
	add_thread(file, 1, "worker");
	add_module(file);
	add_node(file, 1, 0, outer);
	add_node(file, 2, 1, leak);
	add_node(file, 3, 1, leak - 1);
	add_node(file, 4, 1, make_buffer);

	add_alloc(file, 1 * MS, 0, CAPTURE_KIND_MALLOC, 0x1000, 100, 4);
	add_alloc(file, 2 * MS, 1, CAPTURE_KIND_CALLOC, 0x2000, 200, 2);
	add_sample(file, 2 * MS, 300, 2);
	add_alloc(file, 3 * MS, 0, CAPTURE_KIND_MALLOC, 0x3000, 50, 3);
	add_free(file, 4 * MS, 0x1000);

	record = (struct capture_record){ .type = CAPTURE_RECORD_EXPAND };
	record.u.expand = (struct capture_expand){
		.time_ns = 5 * MS, .thread = 0, .kind = CAPTURE_KIND_REALLOC, .address = 0x3000,
		.size = 80, .old_usable = rounded(50), .usable = rounded(80), .stack = 4,
	};
	add(file, &record);
	record = (struct capture_record){ .type = CAPTURE_RECORD_TAG };
	record.u.tag = (struct capture_tag){
		.time_ns = 5 * MS, .thread = 1, .address = 0x2000, .name = "session",
		.type_name = "struct session", .file = "/src/leaky.c", .line = 41,
	};
	add(file, &record);

	add_alloc(file, 6 * MS, 0, CAPTURE_KIND_MALLOC, 0x4000, 30, 3);
	add_sample(file, 6 * MS, 310, 3);
	add_free(file, 7 * MS, 0x4000);
	add_alloc(file, 8 * MS, 0, CAPTURE_KIND_MALLOC, 0x5000, 40, 3);

	record = (struct capture_record){ .type = CAPTURE_RECORD_TRAILER };
	record.u.trailer = (struct capture_trailer){
		.time_ns = 10 * MS, .allocations = 5, .frees = 2, .allocated_bytes = 420,
		.peak_bytes = 350, .peak_time_ns = 3 * MS, .live_blocks = 3, .live_bytes = 320,
		.events = 8,
	};
	add(file, &record);
	ck_assert_int_eq(capture_writer_destroy(file->writer), 0);
	close(file->fd);
}

static struct memscope_capture *open_view(const char *path)
{
	struct memscope_capture *view = NULL;
	const char *message = NULL;
	int error = capture_view_open(path, &view, &message);
	ck_assert_msg(error == 0, "capture_view_open: %d %s", error, message ? message : "");
	return view;
}

/* ---- a directory of plugins -------------------------------------------- */

static const char *const built_plugins[] = {
	"abi_major_2.so", "broken.so", "counter.so", "counter_twin.so", "no_entry.so",
};

struct plugin_dir {
	char path[64];
};

/* Links the built test plugins into a fresh directory, with a text file
 * named x.so, a file that is not a .so and a directory named like one. */
static void make_plugin_dir(struct plugin_dir *dir, bool all)
{
	snprintf(dir->path, sizeof(dir->path), "/tmp/test_plugins.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir->path));
	char from[PATH_MAX], to[PATH_MAX];
	for (size_t i = 0; i < sizeof(built_plugins) / sizeof(built_plugins[0]); i++) {
		if (!all && strcmp(built_plugins[i], "counter.so") != 0)
			continue;
		snprintf(from, sizeof(from), "%s/%s", PLUGIN_DIR, built_plugins[i]);
		snprintf(to, sizeof(to), "%s/%s", dir->path, built_plugins[i]);
		ck_assert_msg(symlink(from, to) == 0, "symlink %s: %s", to, strerror(errno));
	}
	if (!all)
		return;
	snprintf(to, sizeof(to), "%s/x.so", dir->path);
	FILE *text = fopen(to, "w");
	ck_assert_ptr_nonnull(text);
	fputs("This is not an ELF file.\n", text);
	fclose(text);
	snprintf(to, sizeof(to), "%s/notes.txt", dir->path);
	text = fopen(to, "w");
	ck_assert_ptr_nonnull(text);
	fclose(text);
	snprintf(to, sizeof(to), "%s/sub.so", dir->path);
	ck_assert_int_eq(mkdir(to, 0700), 0);
}

static void remove_plugin_dir(struct plugin_dir *dir)
{
	char command[128];
	snprintf(command, sizeof(command), "rm -rf '%s'", dir->path);
	ck_assert_int_eq(system(command), 0);
}

static void assert_refusal(const struct plugin_registry *registry, size_t index,
                           const char *expected)
{
	const char *refusal = plugin_registry_refusal(registry, index);
	ck_assert_msg(refusal != NULL, "no refusal %zu; expected \"%s\"", index, expected);
	ck_assert_str_eq(refusal, expected);
}

/* What dlopen says of path, as the registry quotes it. */
static void dlopen_error(const char *path, char *out, size_t size)
{
	void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	ck_assert_ptr_null(handle);
	snprintf(out, size, "%s", dlerror());
}

/* ---- tests: loading ---------------------------------------------------- */

START_TEST(refusals_name_the_file_and_the_reason)
{
	struct plugin_dir dir;
	make_plugin_dir(&dir, true);
	struct plugin_registry *registry;
	ck_assert_int_eq(plugin_registry_create(&registry), 0);
	ck_assert_int_eq(plugin_registry_load_directory(registry, dir.path), 0);

	char expected[3 * PATH_MAX], path[PATH_MAX], other[PATH_MAX], why[PATH_MAX];
	ck_assert_uint_eq(plugin_registry_refusal_count(registry), 5);
	snprintf(expected, sizeof(expected),
	         "%s/abi_major_2.so: built for plugin ABI 2.0, but this memscope speaks 1.6: "
	         "rebuild it against this memscope's plugin.h", dir.path);
	assert_refusal(registry, 0, expected);
	snprintf(expected, sizeof(expected),
	         "%s/broken.so: invalid plugin description: analyzer 'broken' has no run function",
	         dir.path);
	assert_refusal(registry, 1, expected);
	snprintf(expected, sizeof(expected),
	         "%s/counter_twin.so: analyzer 'test_counter' is already provided by "
	         "%s/counter.so; this one is ignored", dir.path, dir.path);
	assert_refusal(registry, 2, expected);
	snprintf(expected, sizeof(expected),
	         "%s/no_entry.so: not a memscope plugin: it has no memscope_plugin_entry_v1 symbol",
	         dir.path);
	assert_refusal(registry, 3, expected);
	snprintf(path, sizeof(path), "%s/x.so", dir.path);
	dlopen_error(path, why, sizeof(why));
	snprintf(expected, sizeof(expected), "%s: not a plugin: cannot load it (%s)", path, why);
	assert_refusal(registry, 4, expected);

	/* What was not refused is there: the twin's other analyzer too. */
	ck_assert_uint_eq(plugin_registry_analyzer_count(registry), 2);
	ck_assert_uint_eq(plugin_registry_exporter_count(registry), 1);
	ck_assert_ptr_null(plugin_registry_analyzer(registry, "from_the_future"));
	ck_assert_ptr_null(plugin_registry_analyzer(registry, "broken"));
	const memscope_analyzer *counter = plugin_registry_analyzer(registry, "test_counter");
	ck_assert_ptr_nonnull(counter);
	ck_assert_str_eq(counter->description, "Counts the blocks still live, per stack");

	struct plugin_listing listing;
	snprintf(path, sizeof(path), "%s/counter.so", dir.path);
	snprintf(other, sizeof(other), "%s/counter_twin.so", dir.path);
	ck_assert(plugin_registry_analyzer_listing(registry, 0, &listing));
	ck_assert_str_eq(listing.name, "test_counter");
	ck_assert_str_eq(listing.plugin_name, "test-counter");
	ck_assert_str_eq(listing.plugin_version, "1.2");
	ck_assert_str_eq(listing.path, path);
	ck_assert_str_eq(listing.extension, "");
	ck_assert(plugin_registry_analyzer_listing(registry, 1, &listing));
	ck_assert_str_eq(listing.name, "twin_only");
	ck_assert_str_eq(listing.plugin_name, "test-counter-twin");
	ck_assert_str_eq(listing.path, other);
	ck_assert(!plugin_registry_analyzer_listing(registry, 2, &listing));
	ck_assert(plugin_registry_exporter_listing(registry, 0, &listing));
	ck_assert_str_eq(listing.name, "test_lines");
	ck_assert_str_eq(listing.extension, "txt");
	ck_assert_str_eq(listing.description, "Results as plain lines");
	ck_assert_str_eq(listing.path, path);
	ck_assert_ptr_eq(plugin_registry_exporter(registry, "test_lines"),
	                 plugin_registry_exporter_at(registry, 0));

	/* The same files again, by the same or another path, are not news. */
	ck_assert_int_eq(plugin_registry_load_directory(registry, dir.path), 0);
	ck_assert_int_eq(plugin_registry_load_directory(registry, PLUGIN_DIR), 0);
	ck_assert_uint_eq(plugin_registry_refusal_count(registry), 5);
	ck_assert_uint_eq(plugin_registry_analyzer_count(registry), 2);

	plugin_registry_destroy(registry);
	remove_plugin_dir(&dir);
}
END_TEST

START_TEST(a_file_that_is_not_there)
{
	struct plugin_registry *registry;
	ck_assert_int_eq(plugin_registry_create(&registry), 0);
	ck_assert_int_eq(plugin_registry_load_file(registry, "/nonexistent/plugin.so"), -ENOENT);
	assert_refusal(registry, 0, "/nonexistent/plugin.so: cannot read it: No such file or directory");
	/* A missing directory is the search path's normal case: no message. */
	ck_assert_int_eq(plugin_registry_load_directory(registry, "/nonexistent"), -ENOENT);
	ck_assert_uint_eq(plugin_registry_refusal_count(registry), 1);
	plugin_registry_destroy(registry);
	plugin_registry_destroy(NULL);
}
END_TEST

START_TEST(the_search_path_goes_option_then_environment)
{
	struct plugin_dir first, second;
	make_plugin_dir(&first, false);
	make_plugin_dir(&second, true);
	char option[256];
	snprintf(option, sizeof(option), "/nonexistent::%s/", first.path);
	ck_assert_int_eq(setenv("MEMSCOPE_PLUGIN_PATH", second.path, 1), 0);

	struct plugin_registry *registry;
	ck_assert_int_eq(plugin_registry_create(&registry), 0);
	ck_assert_int_eq(plugin_registry_load_defaults(registry, option), 0);

	/* counter.so of the option's directory came first; the environment's
	 * is the same file, so only its twin says anything about the name. */
	char path[PATH_MAX], expected[2 * PATH_MAX];
	snprintf(path, sizeof(path), "%s/counter.so", first.path);
	struct plugin_listing listing;
	ck_assert(plugin_registry_analyzer_listing(registry, 0, &listing));
	ck_assert_str_eq(listing.name, "test_counter");
	ck_assert_str_eq(listing.path, path);
	snprintf(expected, sizeof(expected),
	         "%s/counter_twin.so: analyzer 'test_counter' is already provided by %s; "
	         "this one is ignored", second.path, path);
	bool found = false;
	for (size_t i = 0; i < plugin_registry_refusal_count(registry); i++)
		found |= strcmp(plugin_registry_refusal(registry, i), expected) == 0;
	ck_assert_msg(found, "no refusal \"%s\"", expected);

	plugin_registry_destroy(registry);
	unsetenv("MEMSCOPE_PLUGIN_PATH");
	remove_plugin_dir(&first);
	remove_plugin_dir(&second);
}
END_TEST

/* ---- tests: what plugins see -------------------------------------------- */

struct expected_block {
	uint64_t address, size, usable;
	uint32_t stack, thread, kind;
	uint64_t allocated_ns, freed_ns;
	bool freed;
	const char *tag_name, *tag_type;
};

static const struct expected_block expected_blocks[] = {
	{ 0x1000, 100, 112, 4, 0, CAPTURE_KIND_MALLOC, 1 * MS, 4 * MS, true, NULL, NULL },
	{ 0x4000, 30, 32, 2, 0, CAPTURE_KIND_MALLOC, 6 * MS, 7 * MS, true, NULL, NULL },
	{ 0x2000, 200, 208, 2, 1, CAPTURE_KIND_CALLOC, 2 * MS, 10 * MS, false, "session",
	  "struct session" },
	{ 0x3000, 80, 80, 4, 0, CAPTURE_KIND_MALLOC, 3 * MS, 10 * MS, false, NULL, NULL },
	{ 0x5000, 40, 48, 2, 0, CAPTURE_KIND_MALLOC, 8 * MS, 10 * MS, false, NULL, NULL },
};

struct block_check {
	size_t seen;
	size_t stop_after;         /* 0: never */
};

static int check_block(void *context, const memscope_block *block)
{
	struct block_check *check = context;
	size_t count = sizeof(expected_blocks) / sizeof(expected_blocks[0]);
	ck_assert_uint_lt(check->seen, count);
	const struct expected_block *want = &expected_blocks[check->seen++];
	ck_assert_uint_eq(block->version, MEMSCOPE_BLOCK_VERSION);
	ck_assert_uint_eq(block->address, want->address);
	ck_assert_uint_eq(block->size, want->size);
	ck_assert_uint_eq(block->usable, want->usable);
	ck_assert_uint_eq(block->stack, want->stack);
	ck_assert_uint_eq(block->thread, want->thread);
	ck_assert_uint_eq(block->kind, want->kind);
	ck_assert_uint_eq(block->task, 0);
	ck_assert_uint_eq(block->allocated_ns, want->allocated_ns);
	ck_assert_uint_eq(block->freed_ns, want->freed_ns);
	ck_assert_int_eq(block->freed, want->freed);
	if (want->tag_name) {
		ck_assert_str_eq(block->tag_name, want->tag_name);
		ck_assert_str_eq(block->tag_type, want->tag_type);
	} else {
		ck_assert_ptr_null(block->tag_name);
		ck_assert_ptr_null(block->tag_type);
	}
	return check->seen == check->stop_after ? 7 : 0;
}

START_TEST(every_block_with_its_life)
{
	struct capture_file file;
	write_capture(&file);
	struct memscope_capture *view = open_view(file.path);
	const memscope_host *host = plugin_host();

	struct block_check check = { 0, 0 };
	ck_assert_int_eq(host->for_each_block(view, check_block, &check), 0);
	ck_assert_uint_eq(check.seen, 5);
	/* A visitor's nonzero answer stops the walk and comes back. */
	check = (struct block_check){ 0, 3 };
	ck_assert_int_eq(host->for_each_block(view, check_block, &check), 7);
	ck_assert_uint_eq(check.seen, 3);

	capture_view_close(view);
	unlink(file.path);
}
END_TEST

static int collect_sample(void *context, const memscope_sample *sample)
{
	memscope_sample *samples = context;
	size_t index = samples[0].time_ns == 0 ? 0 : 1;
	samples[index] = *sample;
	return 0;
}

START_TEST(summary_samples_stacks_threads_and_options)
{
	struct capture_file file;
	write_capture(&file);
	struct memscope_capture *view = open_view(file.path);
	const memscope_host *host = plugin_host();

	const memscope_summary *summary = host->summary(view);
	ck_assert_uint_eq(summary->version, MEMSCOPE_SUMMARY_VERSION);
	ck_assert_str_eq(summary->path, file.path);
	ck_assert_str_eq(summary->program, "./leaky");
	ck_assert_str_eq(summary->backend, "exact");
	ck_assert_uint_eq(summary->duration_ns, 10 * MS);
	ck_assert_uint_eq(summary->allocations, 5);
	ck_assert_uint_eq(summary->reallocations, 1);
	ck_assert_uint_eq(summary->frees, 2);
	ck_assert_uint_eq(summary->allocated_bytes, 420);
	ck_assert_uint_eq(summary->peak_bytes, 350);
	ck_assert_uint_eq(summary->peak_time_ns, 3 * MS);
	ck_assert_uint_eq(summary->live_blocks, 3);
	ck_assert_uint_eq(summary->live_bytes, 320);
	ck_assert_uint_eq(summary->threads, 2);
	ck_assert(summary->ended_cleanly);
	ck_assert(!summary->truncated);

	memscope_sample samples[2] = { { 0 } };
	ck_assert_int_eq(host->for_each_sample(view, collect_sample, samples), 0);
	ck_assert_uint_eq(samples[0].time_ns, 2 * MS);
	ck_assert_uint_eq(samples[0].heap_live_bytes, 300);
	ck_assert_uint_eq(samples[0].heap_live_blocks, 2);
	ck_assert_uint_eq(samples[0].jemalloc_allocated, 301);
	ck_assert_uint_eq(samples[0].jemalloc_retained, 65536);
	ck_assert_uint_eq(samples[0].cpu_system_ns, MS / 2);
	ck_assert_uint_eq(samples[0].threads, 2);
	ck_assert_uint_eq(samples[1].time_ns, 6 * MS);
	ck_assert_uint_eq(samples[1].heap_live_bytes, 310);

	const memscope_frame *frames;
	size_t count;
	ck_assert_int_eq(host->stack_frames(view, 2, &frames, &count), 0);
	ck_assert_uint_eq(count, 2);
	ck_assert_str_eq(frames[0].function, "leak_site");
	ck_assert_str_eq(frames[1].function, "outer_site");
	ck_assert_str_eq(frames[0].module, executable);
	ck_assert_ptr_nonnull(strstr(frames[0].file, "test_plugins.c"));
	const memscope_frame *again;
	ck_assert_int_eq(host->stack_frames(view, 2, &again, &count), 0);
	ck_assert_ptr_eq(again, frames);
	ck_assert_int_eq(host->stack_frames(view, 0, &frames, &count), 0);
	ck_assert_uint_eq(count, 0);
	ck_assert_int_eq(host->stack_frames(view, 99, &frames, &count), -EINVAL);

	ck_assert_str_eq(host->thread_name(view, 1), "worker");
	ck_assert_str_eq(host->thread_name(view, 9), "?");
	ck_assert_str_eq(host->kind_name(CAPTURE_KIND_CALLOC), "calloc");
	ck_assert_str_eq(host->kind_name(999), "?");

	ck_assert_ptr_null(host->option(view, "label"));
	ck_assert_int_eq(capture_view_set_option(view, "label", "one"), 0);
	ck_assert_int_eq(capture_view_set_option(view, "label", "two"), 0);
	ck_assert_str_eq(host->option(view, "label"), "two");

	capture_view_close(view);
	capture_view_close(NULL);
	unlink(file.path);
}
END_TEST

START_TEST(a_capture_that_is_not_there)
{
	struct memscope_capture *view = NULL;
	const char *message = NULL;
	ck_assert_int_eq(capture_view_open("/nonexistent.memscope", &view, &message), -ENOENT);
	ck_assert_ptr_nonnull(message);
	ck_assert_ptr_null(view);
}
END_TEST

START_TEST(the_analyzer_and_exporter_of_a_plugin_run)
{
	struct capture_file file;
	write_capture(&file);
	struct memscope_capture *view = open_view(file.path);
	ck_assert_int_eq(capture_view_set_option(view, "label", "unit"), 0);
	struct plugin_registry *registry;
	ck_assert_int_eq(plugin_registry_create(&registry), 0);
	ck_assert_int_eq(plugin_registry_load_file(registry, PLUGIN_DIR "/counter.so"), 0);
	ck_assert_uint_eq(plugin_registry_refusal_count(registry), 0);
	const memscope_analyzer *analyzer = plugin_registry_analyzer(registry, "test_counter");
	ck_assert_ptr_nonnull(analyzer);

	struct memscope_results *results = NULL;
	ck_assert_int_eq(plugin_run_analyzer(analyzer, view, &results), 0);
	const memscope_host *host = plugin_host();
	ck_assert_str_eq(host->results_analyzer(results), "test_counter");
	ck_assert_uint_eq(host->table_count(results), 1);
	const memscope_table *table = host->table_at(results, 0);
	ck_assert_ptr_null(host->table_at(results, 1));
	ck_assert_str_eq(host->table_name(table), "live_by_stack");
	ck_assert_str_eq(host->table_title(table), "Live blocks by stack");
	size_t column_count;
	const memscope_column *columns = host->table_columns(table, &column_count);
	ck_assert_uint_eq(column_count, 4);
	ck_assert_str_eq(columns[0].name, "function");
	ck_assert_int_eq(columns[0].type, MEMSCOPE_COLUMN_TEXT);
	ck_assert_str_eq(columns[3].title, "Stack");
	ck_assert_int_eq(columns[3].type, MEMSCOPE_COLUMN_STACK);
	ck_assert_uint_eq(host->table_row_count(table), 2);
	const memscope_value *row = host->table_row_at(table, 0);
	ck_assert_str_eq(row[0].text, "leak_site");
	ck_assert_uint_eq(row[1].count, 2);
	ck_assert_uint_eq(row[2].count, 240);
	ck_assert_uint_eq(row[3].stack, 2);
	row = host->table_row_at(table, 1);
	ck_assert_str_eq(row[0].text, "make_buffer_site");
	ck_assert_uint_eq(row[1].count, 1);
	ck_assert_uint_eq(row[2].count, 80);
	ck_assert_uint_eq(row[3].stack, 4);
	ck_assert_ptr_null(host->table_row_at(table, 2));
	ck_assert_uint_eq(host->finding_count(results), 1);
	memscope_severity severity;
	ck_assert_str_eq(host->finding_at(results, 0, &severity),
	                 "unit: 3 of 5 blocks (320 bytes) are still live");
	ck_assert_int_eq(severity, MEMSCOPE_SEVERITY_WARNING);

	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	ck_assert_ptr_nonnull(out);
	const struct memscope_results *const all[] = { results };
	ck_assert_int_eq(plugin_run_exporter(plugin_registry_exporter(registry, "test_lines"), view,
	                                     all, 1, out), 0);
	fclose(out);
	ck_assert_str_eq(text,
	                 "./leaky\n"
	                 "results of test_counter: 1 tables, 1 findings\n"
	                 "live_by_stack (Live blocks by stack): function blocks bytes stack\n"
	                 "  leak_site,2,240,#2\n"
	                 "  make_buffer_site,1,80,#4\n"
	                 "warning: unit: 3 of 5 blocks (320 bytes) are still live\n");
	free(text);

	results_destroy(results);
	plugin_registry_destroy(registry);
	capture_view_close(view);
	unlink(file.path);
}
END_TEST

static int no_run(const memscope_host *host, memscope_capture *capture, memscope_results *results)
{
	(void)host, (void)capture, (void)results;
	return 0;
}

START_TEST(descriptors_are_checked_before_a_call)
{
	struct capture_file file;
	write_capture(&file);
	struct memscope_capture *view = open_view(file.path);
	struct memscope_results *results = NULL;

	const memscope_analyzer without_run = { .version = 1, .name = "no_run" };
	ck_assert_int_eq(plugin_run_analyzer(&without_run, view, &results), -ENOTSUP);
	ck_assert_str_eq(results_analyzer(results), "no_run");
	results_destroy(results);
	const memscope_analyzer unversioned = { .version = 0, .name = "old", .run = no_run };
	ck_assert_int_eq(plugin_run_analyzer(&unversioned, view, &results), -ENOTSUP);
	results_destroy(results);
	ck_assert_int_eq(plugin_run_analyzer(NULL, view, &results), -EINVAL);
	const memscope_exporter without_write = { .version = 1, .name = "no_write" };
	ck_assert_int_eq(plugin_run_exporter(&without_write, view, NULL, 0, stdout), -ENOTSUP);

	capture_view_close(view);
	unlink(file.path);
}
END_TEST

START_TEST(results_copy_what_they_are_given)
{
	struct memscope_results *results;
	ck_assert_int_eq(results_create("unit", &results), 0);
	memscope_column columns[2] = {
		{ "name", NULL, MEMSCOPE_COLUMN_TEXT },
		{ "share", "Share", MEMSCOPE_COLUMN_RATIO },
	};
	char name[16] = "first";
	memscope_table *table = results_table_begin(results, "shares", NULL, columns, 2);
	ck_assert_ptr_nonnull(table);
	memscope_value row[2] = { { .text = name }, { .real = 0.25 } };
	ck_assert_int_eq(results_table_row(table, row), 0);
	row[0].text = NULL;
	ck_assert_int_eq(results_table_row(table, row), 0);
	strcpy(name, "changed");
	columns[0].name = "renamed";

	ck_assert_str_eq(results_table_title(table), "shares");
	size_t count;
	const memscope_column *copied = results_table_columns(table, &count);
	ck_assert_str_eq(copied[0].name, "name");
	ck_assert_str_eq(copied[0].title, "name");
	ck_assert_str_eq(results_table_row_at(table, 0)[0].text, "first");
	ck_assert(results_table_row_at(table, 0)[1].real == 0.25);
	ck_assert_ptr_null(results_table_row_at(table, 1)[0].text);

	/* A plugin's mistakes are refused, not stored for an exporter to trip on. */
	memscope_column bad = { "bad", "Bad", (memscope_column_type)42 };
	ck_assert_ptr_null(results_table_begin(results, "bad", NULL, &bad, 1));
	ck_assert_ptr_null(results_table_begin(results, "none", NULL, columns, 0));
	ck_assert_int_eq(results_finding(results, (memscope_severity)9, "x"), -EINVAL);
	ck_assert_int_eq(results_finding(results, MEMSCOPE_SEVERITY_PROBLEM, NULL), -EINVAL);
	ck_assert_int_eq(results_table_row(NULL, row), -EINVAL);
	ck_assert_uint_eq(results_table_count(results), 1);
	ck_assert_uint_eq(results_finding_count(results), 0);
	results_destroy(results);
	results_destroy(NULL);
}
END_TEST

static Suite *plugins_suite(void)
{
	Suite *suite = suite_create("plugins");
	TCase *loading = tcase_create("loading");
	tcase_add_test(loading, refusals_name_the_file_and_the_reason);
	tcase_add_test(loading, a_file_that_is_not_there);
	tcase_add_test(loading, the_search_path_goes_option_then_environment);
	suite_add_tcase(suite, loading);
	TCase *view = tcase_create("capture view");
	tcase_add_test(view, every_block_with_its_life);
	tcase_add_test(view, summary_samples_stacks_threads_and_options);
	tcase_add_test(view, a_capture_that_is_not_there);
	suite_add_tcase(suite, view);
	TCase *running = tcase_create("running");
	tcase_add_test(running, the_analyzer_and_exporter_of_a_plugin_run);
	tcase_add_test(running, descriptors_are_checked_before_a_call);
	tcase_add_test(running, results_copy_what_they_are_given);
	suite_add_tcase(suite, running);
	return suite;
}

int main(void)
{
	SRunner *runner = srunner_create(plugins_suite());
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
