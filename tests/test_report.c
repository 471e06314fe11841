/* test_report.c - the replay and the report, on captures written here with
 * the capture writer from known events, so every number is exact: totals,
 * the peak and the stacks that held it, leak groups, realloc (moved and in
 * place), odd streams, captures without a trailer or cut short, and a
 * hybrid capture's exact, estimated and mixed figures.  Stacks are
 * real return addresses inside this executable (and libc), with the module
 * records the capture would carry, so frames resolve to real names.
 */
#include <check.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "replay.h"
#include "report.h"

/* GCC's noipa also stops identical-code folding and cloning, either of
 * which would give the sites below another name. */
#if defined(__clang__)
#define NOT_INLINED __attribute__((noinline, used))
#else
#define NOT_INLINED __attribute__((noipa, used))
#endif

#define MS UINT64_C(1000000)

/* ---- real return addresses --------------------------------------------- */

NOT_INLINED static uint64_t return_address(void)
{
	return (uint64_t)(uintptr_t)__builtin_return_address(0);
}

/* Each site returns the address its call to return_address() returns to:
 * the ip a stack walk would record for a frame inside it.  The empty asm
 * after the call keeps it from being a tail call. */
NOT_INLINED static uint64_t make_buffer_site(void)
{
	uint64_t ip = return_address();
	__asm__ volatile("" ::: "memory");
	return ip;
}

NOT_INLINED static uint64_t leak_site(void)
{
	uint64_t ip = return_address();
	__asm__ volatile("" ::: "memory");
	return ip;
}

NOT_INLINED static uint64_t mixed_site(void)
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

/* ---- module records, as the capture's module map makes them ------------ */

struct module_search {
	uint64_t address;
	struct capture_module module;
	char path[PATH_MAX];
	bool found;
};

static void read_build_id(struct capture_module *module, const ElfW(Phdr) *note_header,
                          ElfW(Addr) bias)
{
	const unsigned char *cursor = (const unsigned char *)(bias + note_header->p_vaddr);
	const unsigned char *end = cursor + note_header->p_memsz;
	size_t align = note_header->p_align == 8 ? 8 : 4;
	while (cursor + sizeof(ElfW(Nhdr)) <= end) {
		const ElfW(Nhdr) *note = (const ElfW(Nhdr) *)cursor;
		const unsigned char *name = cursor + sizeof(*note);
		const unsigned char *desc = name + ((note->n_namesz + align - 1) & ~(align - 1));
		if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 &&
		    memcmp(name, "GNU", 4) == 0 && note->n_descsz <= CAPTURE_MAX_BUILD_ID) {
			memcpy(module->build_id, desc, note->n_descsz);
			module->build_id_size = note->n_descsz;
			return;
		}
		cursor = desc + ((note->n_descsz + align - 1) & ~(align - 1));
	}
}

static int find_module(struct dl_phdr_info *info, size_t size, void *context)
{
	(void)size;
	struct module_search *search = context;
	bool covers = false;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *header = &info->dlpi_phdr[i];
		uint64_t start = info->dlpi_addr + header->p_vaddr;
		if (header->p_type == PT_LOAD && search->address >= start &&
		    search->address < start + header->p_memsz)
			covers = true;
	}
	if (!covers)
		return 0;

	struct capture_module *module = &search->module;
	if (info->dlpi_name[0] == '\0') {
		/* The main program: the loader gives no name. */
		ssize_t length = readlink("/proc/self/exe", search->path, sizeof(search->path) - 1);
		search->path[length > 0 ? length : 0] = '\0';
	} else {
		snprintf(search->path, sizeof(search->path), "%s", info->dlpi_name);
	}
	module->path = search->path;
	module->base = info->dlpi_addr;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *header = &info->dlpi_phdr[i];
		if (header->p_type == PT_LOAD && module->segment_count < CAPTURE_MAX_SEGMENTS) {
			struct capture_segment *segment = &module->segments[module->segment_count++];
			segment->start = info->dlpi_addr + header->p_vaddr;
			segment->end = segment->start + header->p_memsz;
		} else if (header->p_type == PT_NOTE && module->build_id_size == 0) {
			read_build_id(module, header, info->dlpi_addr);
		}
	}
	search->found = true;
	return 1;
}

static void module_of(uint64_t address, uint32_t id, struct module_search *search)
{
	memset(search, 0, sizeof(*search));
	search->address = address;
	dl_iterate_phdr(find_module, search);
	ck_assert_msg(search->found, "no module covers 0x%llx", (unsigned long long)address);
	search->module.id = id;
}

/* A return address inside libc's malloc, as if libc's allocator were the
 * innermost frame, or 0 when this libc does not export one. */
static uint64_t libc_malloc_ip(void)
{
	void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	if (!libc)
		return 0;
	void *function = dlsym(libc, "__libc_malloc");
	dlclose(libc);
	return function ? (uint64_t)(uintptr_t)function + 8 : 0;
}

/* ---- writing captures -------------------------------------------------- */

struct capture_file {
	char path[64];
	int fd;
	struct capture_writer *writer;
};

static void capture_start(struct capture_file *file)
{
	snprintf(file->path, sizeof(file->path), "/tmp/test_report.XXXXXX");
	file->fd = mkstemp(file->path);
	ck_assert_int_ge(file->fd, 0);
	ck_assert_int_eq(capture_writer_create(file->fd, &file->writer), 0);
}

static void add(struct capture_file *file, const struct capture_record *record)
{
	ck_assert_int_eq(capture_writer_add(file->writer, record), 0);
}

static void add_info(struct capture_file *file, const char *key, const char *value)
{
	struct capture_record record = { .type = CAPTURE_RECORD_INFO };
	record.u.info = (struct capture_info){ key, value };
	add(file, &record);
}

static void add_thread(struct capture_file *file, uint32_t index, uint32_t tid, const char *name)
{
	struct capture_record record = { .type = CAPTURE_RECORD_THREAD };
	record.u.thread = (struct capture_thread){ index, tid, name };
	add(file, &record);
}

static void add_node(struct capture_file *file, uint32_t id, uint32_t parent, uint64_t ip)
{
	struct capture_record record = { .type = CAPTURE_RECORD_STACK_NODE };
	record.u.stack_node = (struct capture_stack_node){ id, parent, ip };
	add(file, &record);
}

static void add_alloc_kind(struct capture_file *file, uint64_t time_ns, uint32_t kind,
                           uint64_t address, uint64_t size, uint32_t stack)
{
	struct capture_record record = { .type = CAPTURE_RECORD_ALLOC };
	record.u.alloc = (struct capture_alloc){
		.time_ns = time_ns, .thread = 0, .kind = kind, .address = address,
		.size = size, .usable = (size + 15) & ~UINT64_C(15), .stack = stack,
	};
	add(file, &record);
}

static void add_alloc(struct capture_file *file, uint64_t time_ns, uint64_t address,
                      uint64_t size, uint32_t stack)
{
	add_alloc_kind(file, time_ns, CAPTURE_KIND_MALLOC, address, size, stack);
}

static void add_free_kind(struct capture_file *file, uint64_t time_ns, uint32_t kind,
                          uint64_t address)
{
	struct capture_record record = { .type = CAPTURE_RECORD_FREE };
	record.u.free = (struct capture_free){
		.time_ns = time_ns, .thread = 0, .kind = kind, .address = address,
	};
	add(file, &record);
}

static void add_free(struct capture_file *file, uint64_t time_ns, uint64_t address)
{
	add_free_kind(file, time_ns, CAPTURE_KIND_FREE, address);
}

static void add_expand(struct capture_file *file, uint64_t time_ns, uint64_t address,
                       uint64_t old_size, uint64_t size, uint32_t stack)
{
	struct capture_record record = { .type = CAPTURE_RECORD_EXPAND };
	record.u.expand = (struct capture_expand){
		.time_ns = time_ns, .thread = 0, .kind = CAPTURE_KIND_REALLOC,
		.address = address, .size = size, .old_usable = (old_size + 15) & ~UINT64_C(15),
		.usable = (size + 15) & ~UINT64_C(15), .stack = stack,
	};
	add(file, &record);
}

static void add_tag(struct capture_file *file, uint64_t time_ns, uint64_t address,
                    const char *name, const char *type_name, const char *source, uint32_t line)
{
	struct capture_record record = { .type = CAPTURE_RECORD_TAG };
	record.u.tag = (struct capture_tag){
		.time_ns = time_ns, .thread = 0, .address = address, .name = name,
		.type_name = type_name, .file = source, .line = line,
	};
	add(file, &record);
}

static void add_trailer(struct capture_file *file, uint64_t time_ns)
{
	struct capture_record record = { .type = CAPTURE_RECORD_TRAILER };
	record.u.trailer = (struct capture_trailer){ .time_ns = time_ns };
	add(file, &record);
}

static void capture_finish(struct capture_file *file)
{
	ck_assert_int_eq(capture_writer_destroy(file->writer), 0);
	file->writer = NULL;
	close(file->fd);
}

/* ---- the capture most tests read -------------------------------------- */

/* Stacks, innermost first:
 *   2: make_buffer_site <- outer_site
 *   3: leak_site <- outer_site
 *   4: libc malloc <- leak_site <- outer_site   (when libc exports it)
 * Events: 100 and 200 bytes from stack 2, 50 from stack 4 (the peak: 350
 * bytes in 3 blocks at 3 ms), then stack 2's blocks are freed and stack 3
 * allocates 2 x 30 bytes that stay.  At the end 110 bytes in 3 blocks live,
 * none of them from stack 2, the one that held most of the peak. */
struct sites {
	uint64_t outer;
	uint64_t make_buffer;
	uint64_t leak;
	uint64_t libc_malloc;
};

static struct sites find_sites(void)
{
	struct sites sites = {
		.outer = outer_site(),
		.make_buffer = make_buffer_site(),
		.leak = leak_site(),
		.libc_malloc = libc_malloc_ip(),
	};
	return sites;
}

static void add_modules(struct capture_file *file, const struct sites *sites)
{
	struct module_search search;
	struct capture_record record = { .type = CAPTURE_RECORD_MODULE };
	module_of(sites->outer, 0, &search);
	record.u.module = search.module;
	add(file, &record);
	if (sites->libc_malloc) {
		module_of(sites->libc_malloc, 1, &search);
		record.u.module = search.module;
		add(file, &record);
	}
}

static void write_main_capture(struct capture_file *file, bool with_trailer)
{
	struct sites sites = find_sites();
	capture_start(file);
	add_info(file, "program", "./leaky");
	add_info(file, "backend", "exact");
	add_thread(file, 0, 4242, "main");
	add_thread(file, 1, 4243, "worker");
	add_modules(file, &sites);
	add_node(file, 1, 0, sites.outer);
	add_node(file, 2, 1, sites.make_buffer);
	add_node(file, 3, 1, sites.leak);
	add_node(file, 4, 3, sites.libc_malloc ? sites.libc_malloc : sites.leak + 1);

	add_alloc(file, 1 * MS, 0x1000, 100, 2);
	add_alloc(file, 2 * MS, 0x2000, 200, 2);
	add_alloc(file, 3 * MS, 0x3000, 50, 4);
	add_free(file, 4 * MS, 0x1000);
	add_alloc(file, 5 * MS, 0x4000, 30, 3);
	add_tag(file, 5 * MS, 0x4000, "session", "struct session", "/src/leaky.c", 41);
	add_alloc(file, 6 * MS, 0x5000, 30, 3);
	add_free(file, 7 * MS, 0x2000);
	if (with_trailer) {
		/* The totals the writer keeps of the events above. */
		struct capture_record record = {.type = CAPTURE_RECORD_TRAILER};
		record.u.trailer = (struct capture_trailer){
			.time_ns = 8 * MS, .allocations = 5, .frees = 2, .allocated_bytes = 410,
			.peak_bytes = 350, .peak_time_ns = 3 * MS, .live_blocks = 3, .live_bytes = 110,
			.events = 7,
		};
		add(file, &record);
	}
	capture_finish(file);
}

static struct report *build(const char *path, uint32_t top)
{
	struct report_options options;
	report_options_init(&options);
	options.top = top;
	struct report *report = NULL;
	const char *message = NULL;
	int error = report_build(path, &options, &report, &message);
	ck_assert_msg(error == 0, "report_build: %d %s", error, message ? message : "");
	return report;
}

static char *report_text(const struct report *report)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(report_write_text(report, out), 0);
	fclose(out);
	if (getenv("MEMSCOPE_TEST_VERBOSE"))
		fputs(text, stderr);
	return text;
}

static bool has_warning(const struct report *report, const char *words)
{
	for (size_t i = 0; i < report->warning_count; i++)
		if (strstr(report->warnings[i], words))
			return true;
	return false;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* ---- tests ------------------------------------------------------------- */

START_TEST(totals_are_exact)
{
	struct capture_file file;
	write_main_capture(&file, true);
	struct report *report = build(file.path, 0);

	ck_assert_uint_eq(report->totals.allocations, 5);
	ck_assert_uint_eq(report->totals.frees, 2);
	ck_assert_uint_eq(report->totals.allocated_bytes, 410);
	ck_assert_uint_eq(report->totals.events, 7);
	ck_assert_uint_eq(report->totals.live_blocks, 3);
	ck_assert_uint_eq(report->totals.live_bytes, 110);
	ck_assert_uint_eq(report->totals.live_usable_bytes, 64 + 32 + 32);
	ck_assert_uint_eq(report->totals.frees_untracked, 0);
	ck_assert_uint_eq(report->totals.tags, 1);
	ck_assert_uint_eq(report->threads, 2);
	ck_assert_uint_eq(report->duration_ns, 8 * MS);
	ck_assert_str_eq(report->program, "./leaky");
	ck_assert_str_eq(report->backend, "exact");
	ck_assert(report->ended_cleanly);
	ck_assert(!report->truncated);
	ck_assert(!has_warning(report, "did not end cleanly"));
	ck_assert(!has_warning(report, "cut short"));
	ck_assert_uint_eq(report->replay->stack_count, 5);
	ck_assert_uint_eq(report->replay->stacks[2].allocations, 2);
	ck_assert_uint_eq(report->replay->stacks[2].allocated_bytes, 300);
	ck_assert_uint_eq(report->replay->stacks[2].live_blocks, 0);
	ck_assert_uint_eq(report->replay->threads[0].allocations, 5);
	ck_assert_str_eq(report->replay->threads[1].name, "worker");
	report_destroy(report);
	unlink(file.path);
}
END_TEST

START_TEST(peak_and_the_stacks_that_held_it)
{
	struct capture_file file;
	write_main_capture(&file, true);
	struct report *report = build(file.path, 0);

	ck_assert_uint_eq(report->totals.peak_bytes, 350);
	ck_assert_uint_eq(report->totals.peak_blocks, 3);
	ck_assert_uint_eq(report->totals.peak_time_ns, 3 * MS);
	ck_assert_uint_eq(report->totals.peak_event, 3);

	/* Stack 2 held most of the peak and nothing at the end. */
	ck_assert_uint_eq(report->peak_stack_count, 2);
	ck_assert_uint_eq(report->peak_stacks[0].stack.id, 2);
	ck_assert_uint_eq(report->peak_stacks[0].bytes, 300);
	ck_assert_uint_eq(report->peak_stacks[0].blocks, 2);
	ck_assert_uint_eq(report->peak_stacks[1].stack.id, 4);
	ck_assert_uint_eq(report->peak_stacks[1].bytes, 50);
	ck_assert_uint_eq(report->peak_stacks[1].blocks, 1);
	for (size_t i = 0; i < report->leak_count; i++)
		ck_assert_uint_ne(report->leaks[i].stack.id, 2);

	const struct report_frame *frame = report_leaking_frame(&report->peak_stacks[0].stack);
	ck_assert_ptr_nonnull(frame);
	ck_assert_ptr_nonnull(frame->function);
	ck_assert_str_eq(frame->function, "make_buffer_site");
	report_destroy(report);
	unlink(file.path);
}
END_TEST

START_TEST(leaks_grouped_by_stack)
{
	struct capture_file file;
	write_main_capture(&file, true);
	struct report *report = build(file.path, 0);

	ck_assert_uint_eq(report->leak_count, 2);
	const struct report_leak *first = &report->leaks[0];
	ck_assert_uint_eq(first->stack.id, 3);
	ck_assert_uint_eq(first->blocks, 2);
	ck_assert_uint_eq(first->bytes, 60);
	ck_assert_uint_eq(first->first_time_ns, 5 * MS);
	ck_assert_uint_eq(first->last_time_ns, 6 * MS);
	ck_assert_uint_eq(first->tag_count, 1);
	ck_assert_str_eq(first->tags[0]->name, "session");
	ck_assert_str_eq(first->tags[0]->type_name, "struct session");
	ck_assert_uint_eq(first->tags[0]->line, 41);

	const struct report_leak *second = &report->leaks[1];
	ck_assert_uint_eq(second->stack.id, 4);
	ck_assert_uint_eq(second->blocks, 1);
	ck_assert_uint_eq(second->bytes, 50);
	ck_assert_uint_eq(second->first_time_ns, 3 * MS);
	ck_assert_uint_eq(second->last_time_ns, 3 * MS);
	report_destroy(report);
	unlink(file.path);
}
END_TEST

START_TEST(frames_resolve_to_this_program)
{
	struct capture_file file;
	write_main_capture(&file, true);
	struct report *report = build(file.path, 0);

	const struct report_stack *stack = &report->leaks[0].stack;
	ck_assert_uint_ge(stack->frame_count, 2);
	ck_assert_ptr_nonnull(stack->frames[0].function);
	ck_assert_str_eq(stack->frames[0].function, "leak_site");
	ck_assert_ptr_nonnull(stack->frames[0].file);
	ck_assert_str_eq(base_name(stack->frames[0].file), "test_report.c");
	ck_assert_uint_gt(stack->frames[0].line, 0);
	ck_assert_str_eq(stack->frames[stack->frame_count - 1].function, "outer_site");

	const struct report_frame *leaking = report_leaking_frame(stack);
	ck_assert_ptr_eq(leaking, &stack->frames[0]);
	report_destroy(report);
	unlink(file.path);
}
END_TEST

START_TEST(leaking_function_skips_the_allocator)
{
	struct capture_file file;
	write_main_capture(&file, true);
	struct report *report = build(file.path, 0);

	/* Stack 4's innermost frame is libc's malloc. */
	const struct report_stack *stack = &report->leaks[1].stack;
	ck_assert_uint_ge(stack->frame_count, 3);
	if (stack->frames[0].function)
		ck_assert_msg(report_is_allocator_function(stack->frames[0].function),
		              "frame 0 is %s", stack->frames[0].function);
	const struct report_frame *leaking = report_leaking_frame(stack);
	ck_assert_ptr_nonnull(leaking);
	ck_assert_ptr_nonnull(leaking->function);
	ck_assert_str_eq(leaking->function, "leak_site");
	ck_assert_ptr_eq(leaking, &stack->frames[1]);
	report_destroy(report);
	unlink(file.path);
}
END_TEST

START_TEST(allocator_names)
{
	static const char *const allocators[] = {
		"malloc", "calloc", "realloc", "free", "posix_memalign", "aligned_alloc",
		"memalign", "valloc", "reallocarray", "strdup", "strndup", "__strdup",
		"__libc_malloc", "__libc_calloc", "__GI___libc_malloc", "_Znwm", "_Znam",
		"_ZnwmRKSt9nothrow_t", "_ZnamSt11align_val_t", "operator new(unsigned long)",
		"operator new[](unsigned long)", "_ZNSt15__new_allocatorIiE8allocateEmPKv",
		"std::vector<int, std::allocator<int> >::_M_realloc_insert",
		"void std::vector<int, std::allocator<int> >::_M_realloc_insert<int>(int&&)",
	};
	static const char *const programs[] = {
		"main", "make_buffer", "malloc_wrapper", "my_strdup", "xmalloc", "new_session",
		"_Z4mainv", "operator+", "_Z5buildv", "_ZN6Parser5parseEv",
		"app::Widget::add(int)", "void app::fill<std::vector<int> >(std::vector<int>&)",
	};
	for (size_t i = 0; i < sizeof(allocators) / sizeof(allocators[0]); i++)
		ck_assert_msg(report_is_allocator_function(allocators[i]), "%s", allocators[i]);
	for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++)
		ck_assert_msg(!report_is_allocator_function(programs[i]), "%s", programs[i]);
	ck_assert(!report_is_allocator_function(NULL));

	struct report_frame frames[] = {
		{ .function = "__strdup" },
		{ .function = NULL, .module = "/usr/lib/x86_64-linux-gnu/libc.so.6" },
		{ .function = "copy_name", .file = "names.c", .line = 9 },
		{ .function = "main" },
	};
	struct report_stack stack = { .id = 1, .frames = frames, .frame_count = 4 };
	ck_assert_ptr_eq(report_leaking_frame(&stack), &frames[2]);
	stack.frame_count = 2;
	ck_assert_ptr_null(report_leaking_frame(&stack));
}
END_TEST

START_TEST(top_limits_sites_not_leaks)
{
	struct capture_file file;
	write_main_capture(&file, true);
	struct report *report = build(file.path, 0);

	ck_assert_uint_eq(report->sites_by_calls_count, 3);
	ck_assert_uint_eq(report->sites_by_calls[0].stack.id, 2);
	ck_assert_uint_eq(report->sites_by_calls[0].calls, 2);
	ck_assert_uint_eq(report->sites_by_calls[0].bytes, 300);
	ck_assert_uint_eq(report->sites_by_calls[1].stack.id, 3);
	ck_assert_uint_eq(report->sites_by_calls[1].calls, 2);
	ck_assert_uint_eq(report->sites_by_calls[1].bytes, 60);
	ck_assert_uint_eq(report->sites_by_calls[2].stack.id, 4);
	ck_assert_uint_eq(report->sites_by_bytes[0].stack.id, 2);
	ck_assert_uint_eq(report->sites_by_bytes[1].stack.id, 3);
	ck_assert_uint_eq(report->sites_by_bytes[2].stack.id, 4);
	report_destroy(report);

	report = build(file.path, 1);
	ck_assert_uint_eq(report->sites_by_calls_count, 1);
	ck_assert_uint_eq(report->sites_by_bytes_count, 1);
	ck_assert_uint_eq(report->peak_stack_count, 1);
	ck_assert_uint_eq(report->leak_count, 2);
	char *text = report_text(report);
	ck_assert_ptr_nonnull(strstr(text, "... and 1 more place (--top shows more)"));
	free(text);
	report_destroy(report);
	unlink(file.path);
}
END_TEST

START_TEST(text_report)
{
	struct capture_file file;
	write_main_capture(&file, true);
	struct report *report = build(file.path, 0);
	char *text = report_text(report);

	char header[256];
	snprintf(header, sizeof(header),
	         "memscope report: %s (program ./leaky, backend exact, 2 threads, 8 ms)\n",
	         file.path);
	ck_assert_msg(strncmp(text, header, strlen(header)) == 0, "%s", text);
	ck_assert_ptr_nonnull(
		strstr(text, "TOTALS   5 allocations (2 freed), 410 bytes requested in all\n"));
	ck_assert_ptr_nonnull(strstr(text, "PEAK     350 bytes live in 3 blocks at 3 ms\n"));
	ck_assert_ptr_nonnull(
		strstr(text, "300 bytes in 2 blocks  from make_buffer_site (test_report.c:"));
	ck_assert_ptr_nonnull(strstr(text, "LEAKS    3 blocks, 110 bytes in 2 places\n"));
	ck_assert_ptr_nonnull(
		strstr(text, "  60 bytes in 2 blocks  allocated by leak_site from 5 ms to 6 ms\n"));
	ck_assert_ptr_nonnull(
		strstr(text, "     tagged session (struct session) at leaky.c:41\n"));
	ck_assert_ptr_nonnull(
		strstr(text, "  50 bytes in 1 block  allocated by leak_site at 3 ms\n"));
	ck_assert_ptr_nonnull(strstr(text, "       #0  leak_site"));
	ck_assert_ptr_nonnull(strstr(text, "TOP ALLOCATION SITES (by calls)\n"));
	ck_assert_ptr_nonnull(strstr(text, "TOP ALLOCATION SITES (by bytes)\n"));
	ck_assert_ptr_null(strstr(text, "WARNING"));
	free(text);
	report_destroy(report);
	unlink(file.path);
}
END_TEST

START_TEST(realloc_moved_and_in_place)
{
	struct sites sites = find_sites();
	struct capture_file file;
	capture_start(&file);
	add_modules(&file, &sites);
	add_node(&file, 1, 0, sites.outer);
	add_node(&file, 2, 1, sites.make_buffer);
	add_node(&file, 3, 1, sites.leak);
	add_alloc(&file, 1 * MS, 0x1000, 100, 2);
	add_tag(&file, 1 * MS, 0x1000, "buffer", "", "leaky.c", 7);
	/* realloc(0x1000, 300) moved it to 0x2000. */
	add_alloc_kind(&file, 2 * MS, CAPTURE_KIND_REALLOC, 0x2000, 300, 3);
	add_free_kind(&file, 2 * MS, CAPTURE_KIND_REALLOC, 0x1000);
	/* Grown, then shrunk, in place. */
	add_expand(&file, 3 * MS, 0x2000, 300, 500, 3);
	add_expand(&file, 4 * MS, 0x2000, 500, 200, 3);
	add_trailer(&file, 5 * MS);
	capture_finish(&file);

	struct report *report = build(file.path, 0);
	ck_assert_uint_eq(report->totals.allocations, 2);
	ck_assert_uint_eq(report->totals.frees, 1);
	ck_assert_uint_eq(report->totals.expands, 2);
	ck_assert_uint_eq(report->totals.allocated_bytes, 400);
	ck_assert_uint_eq(report->totals.live_blocks, 1);
	ck_assert_uint_eq(report->totals.live_bytes, 200);
	ck_assert_uint_eq(report->totals.live_usable_bytes, 208);
	/* Both blocks are live for a moment during the move: 400 then. */
	ck_assert_uint_eq(report->totals.peak_bytes, 500);
	ck_assert_uint_eq(report->totals.peak_time_ns, 3 * MS);
	ck_assert_uint_eq(report->totals.peak_blocks, 1);
	ck_assert_uint_eq(report->peak_stack_count, 1);
	ck_assert_uint_eq(report->peak_stacks[0].stack.id, 3);
	ck_assert_uint_eq(report->peak_stacks[0].bytes, 500);

	ck_assert_uint_eq(report->leak_count, 1);
	ck_assert_uint_eq(report->leaks[0].stack.id, 3);
	ck_assert_uint_eq(report->leaks[0].bytes, 200);
	ck_assert_uint_eq(report->leaks[0].last_time_ns, 4 * MS);
	/* The tag followed the block to its new address. */
	ck_assert_uint_eq(report->leaks[0].tag_count, 1);
	ck_assert_str_eq(report->leaks[0].tags[0]->name, "buffer");
	const struct replay_block *block = replay_find_live(report->replay, 0x2000);
	ck_assert_ptr_nonnull(block);
	ck_assert_uint_eq(block->size, 200);
	ck_assert_ptr_null(replay_find_live(report->replay, 0x1000));

	ck_assert_uint_eq(report->replay->stacks[3].allocations, 1);
	ck_assert_uint_eq(report->replay->stacks[3].expands, 2);
	ck_assert_uint_eq(report->sites_by_calls[0].stack.id, 3);
	ck_assert_uint_eq(report->sites_by_calls[0].calls, 3);
	report_destroy(report);
	unlink(file.path);
}
END_TEST

START_TEST(odd_streams_are_counted)
{
	struct capture_file file;
	capture_start(&file);
	add_node(&file, 1, 0, 0x401000);
	add_free(&file, 1 * MS, 0x9999);               /* never allocated */
	add_alloc(&file, 2 * MS, 0x1000, 10, 1);
	add_alloc(&file, 3 * MS, 0x1000, 20, 1);       /* still live: its free was lost */
	add_expand(&file, 4 * MS, 0x7777, 8, 16, 1);   /* never allocated */
	add_tag(&file, 5 * MS, 0x8888, "ghost", "", "x.c", 1);
	add_alloc(&file, 6 * MS, 0x2000, 5, 99);       /* a stack never written */
	add_node(&file, 60, 50, 0x401010);             /* a parent that does not exist */
	add_node(&file, 3, 0, 0x401000);               /* node 1 again */
	add_free(&file, 7 * MS, 0x1000);
	add_free(&file, 8 * MS, 0x1000);               /* twice */
	add_trailer(&file, 9 * MS);
	capture_finish(&file);

	struct report *report = build(file.path, 0);
	const struct replay_totals *totals = &report->totals;
	ck_assert_uint_eq(totals->allocations, 3);
	ck_assert_uint_eq(totals->frees, 1);
	ck_assert_uint_eq(totals->frees_untracked, 2);
	ck_assert_uint_eq(totals->allocs_over_live, 1);
	ck_assert_uint_eq(totals->expands_untracked, 1);
	ck_assert_uint_eq(totals->tags_untracked, 1);
	ck_assert_uint_eq(totals->unknown_stacks, 1);
	ck_assert_uint_eq(totals->bad_stack_nodes, 2);
	ck_assert_uint_eq(totals->live_blocks, 1);
	ck_assert_uint_eq(totals->live_bytes, 5);
	ck_assert_uint_eq(totals->peak_bytes, 25);
	ck_assert_uint_eq(report->leak_count, 1);
	ck_assert_uint_eq(report->leaks[0].stack.id, 0);
	ck_assert_uint_eq(report->leaks[0].stack.frame_count, 0);
	ck_assert(has_warning(report, "reused an address still live"));

	char *text = report_text(report);
	ck_assert_ptr_nonnull(strstr(text, "2 frees of untracked blocks"));
	ck_assert_ptr_nonnull(strstr(text, "(no stack recorded)"));
	free(text);
	report_destroy(report);
	unlink(file.path);
}
END_TEST

START_TEST(no_trailer_means_no_clean_end)
{
	struct capture_file file;
	write_main_capture(&file, false);
	struct report *report = build(file.path, 0);
	ck_assert(!report->ended_cleanly);
	ck_assert(!report->truncated);
	ck_assert(has_warning(report, "did not end cleanly"));
	ck_assert_uint_eq(report->totals.live_bytes, 110);
	ck_assert_uint_eq(report->duration_ns, 7 * MS);

	char *text = report_text(report);
	ck_assert_ptr_nonnull(strstr(text, "WARNING  the capture has no trailer: the program did "
	                                   "not end cleanly"));
	ck_assert_ptr_nonnull(strstr(text, "LIVE AT END 3 blocks, 110 bytes in 2 places"));
	free(text);
	report_destroy(report);
	unlink(file.path);
}
END_TEST

START_TEST(cut_capture_reports_what_was_read)
{
	struct capture_file file;
	capture_start(&file);
	add_info(&file, "program", "./cut");
	add_node(&file, 1, 0, 0x401000);
	add_alloc(&file, 1 * MS, 0x1000, 100, 1);
	add_alloc(&file, 2 * MS, 0x2000, 200, 1);
	ck_assert_int_eq(capture_writer_flush(file.writer), 0);
	uint64_t first_block_end = capture_writer_bytes(file.writer);
	for (uint64_t i = 0; i < 100; i++)
		add_alloc(&file, (3 + i) * MS, 0x10000 + i * 0x100, 1000, 1);
	ck_assert_int_eq(capture_writer_flush(file.writer), 0);
	uint64_t second_block_end = capture_writer_bytes(file.writer);
	add_trailer(&file, 200 * MS);
	capture_finish(&file);
	ck_assert_int_eq(truncate(file.path, (off_t)(first_block_end + second_block_end) / 2), 0);

	struct report *report = build(file.path, 0);
	ck_assert(report->truncated);
	ck_assert(!report->ended_cleanly);
	ck_assert_uint_eq(report->totals.allocations, 2);
	ck_assert_uint_eq(report->totals.live_bytes, 300);
	ck_assert_uint_eq(report->leak_count, 1);
	ck_assert_uint_eq(report->leaks[0].blocks, 2);
	ck_assert(has_warning(report, "cut short"));
	ck_assert(has_warning(report, "did not end cleanly"));
	char *text = report_text(report);
	ck_assert_ptr_nonnull(strstr(text, "WARNING  the capture is cut short"));
	free(text);

	char *summary = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&summary, &size);
	ck_assert_int_eq(report_print_summary(file.path, NULL, out), 0);
	fclose(out);
	ck_assert_ptr_nonnull(strstr(summary, "memscope: warning: the capture is cut short"));
	free(summary);
	report_destroy(report);
	unlink(file.path);
}
END_TEST

START_TEST(summary_after_a_run)
{
	struct capture_file file;
	write_main_capture(&file, true);
	char *summary = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&summary, &size);
	ck_assert_int_eq(report_print_summary(file.path, NULL, out), 0);
	fclose(out);

	ck_assert_ptr_nonnull(strstr(summary, "memscope: 5 allocations, 2 frees, 410 bytes requested\n"));
	ck_assert_ptr_nonnull(strstr(summary, "memscope: peak 350 bytes live at 3 ms\n"));
	ck_assert_ptr_nonnull(strstr(summary, "memscope: leaked 3 blocks, 110 bytes\n"));
	/* The command that runs the program says how to see the report. */
	ck_assert_ptr_null(strstr(summary, "memscope report"));
	ck_assert_ptr_null(strstr(summary, "warning"));
	free(summary);
	unlink(file.path);
}
END_TEST

START_TEST(unreadable_captures)
{
	struct report *report = NULL;
	const char *message = NULL;
	ck_assert_int_eq(report_build("/nonexistent/capture.memscope", NULL, &report, &message),
	                 -ENOENT);
	ck_assert_ptr_null(report);
	ck_assert_ptr_nonnull(message);

	char path[] = "/tmp/test_report.notcapture.XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	const char text[] = "this is not a memscope capture, just some text\n";
	ck_assert_int_eq(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	message = NULL;
	ck_assert_int_eq(report_build(path, NULL, &report, &message), -EPROTO);
	ck_assert_ptr_nonnull(message);

	char *summary = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&summary, &size);
	ck_assert_int_eq(report_print_summary("/nonexistent/capture.memscope", NULL, out), -ENOENT);
	fclose(out);
	ck_assert_ptr_nonnull(strstr(summary, "cannot read the capture /nonexistent/capture.memscope"));
	free(summary);
	unlink(path);
}
END_TEST

START_TEST(many_blocks_stay_exact)
{
	/* Enough blocks to make the live table grow and shift on removal. */
	struct capture_file file;
	capture_start(&file);
	add_node(&file, 1, 0, 0x401000);
	add_node(&file, 2, 0, 0x402000);
	for (uint64_t i = 0; i < 5000; i++)
		add_alloc(&file, i, 0x100000 + i * 64, i % 7 + 1, (uint32_t)(i % 2 + 1));
	uint64_t expected = 0;
	for (uint64_t i = 0; i < 5000; i++) {
		if (i % 3 == 0)
			add_free(&file, 5000 + i, 0x100000 + i * 64);
		else
			expected += i % 7 + 1;
	}
	add_trailer(&file, 20000);
	capture_finish(&file);

	struct replay *replay = NULL;
	ck_assert_int_eq(replay_create(file.path, &replay, NULL), 0);
	ck_assert_uint_eq(replay->totals.live_blocks, 5000 - 1667);
	ck_assert_uint_eq(replay->totals.live_bytes, expected);
	ck_assert_uint_eq(replay->totals.peak_event, 5000);
	ck_assert_uint_eq(replay->stacks[1].peak_blocks + replay->stacks[2].peak_blocks, 5000);
	for (uint64_t i = 0; i < 5000; i++) {
		const struct replay_block *block = replay_find_live(replay, 0x100000 + i * 64);
		if (i % 3 == 0) {
			ck_assert_ptr_null(block);
		} else {
			ck_assert_ptr_nonnull(block);
			ck_assert_uint_eq(block->size, i % 7 + 1);
		}
	}
	uint64_t ips[4];
	ck_assert_int_eq(replay_stack_ips(replay, 2, ips, 4), 1);
	ck_assert_uint_eq(ips[0], 0x402000);
	ck_assert_int_eq(replay_stack_ips(replay, 3, ips, 4), -EINVAL);
	replay_destroy(replay);
	unlink(file.path);
}
END_TEST

/* ---- exact, estimated, mixed ------------------------------------------- */

/* What the hybrid backend writes: SAMPLING with its threshold, from which
 * every block weighs 1. */
static void add_sampling(struct capture_file *file, uint64_t interval, uint64_t exact_above)
{
	struct capture_record record = { .type = CAPTURE_RECORD_SAMPLING };
	record.u.sampling = (struct capture_sampling){
		.time_ns = 1 * MS, .interval = interval, .seed = 7, .exact_above = exact_above,
	};
	add(file, &record);
}

/* What report_print_summary prints for path; the caller frees. */
static char *summary_of(const char *path)
{
	char *summary = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&summary, &size);
	ck_assert_int_eq(report_print_summary(path, NULL, out), 0);
	fclose(out);
	return summary;
}

/* Two blocks, both freed: "every block was freed" only from a capture that
 * ended cleanly and saw every block.  Without a trailer nothing says so,
 * and a sampled capture says no leaked block was sampled. */
static void write_freed_capture(struct capture_file *file, bool trailer, uint64_t interval)
{
	capture_start(file);
	add_info(file, "program", "./freed");
	if (interval != 0)
		add_sampling(file, interval, 0);
	add_node(file, 1, 0, 0x401000);
	add_alloc(file, 1 * MS, 0x1000, 100, 1);
	add_alloc(file, 2 * MS, 0x2000, 200, 1);
	add_free(file, 3 * MS, 0x1000);
	add_free(file, 4 * MS, 0x2000);
	if (trailer) {
		/* As the writer fills it: the summary reads it, not the events. */
		struct capture_record record = { .type = CAPTURE_RECORD_TRAILER };
		record.u.trailer = (struct capture_trailer){
			.time_ns = 5 * MS, .allocations = 2, .frees = 2, .allocated_bytes = 300,
			.peak_bytes = 300, .peak_time_ns = 2 * MS, .events = 4,
			.sample_interval = interval,
		};
		add(file, &record);
	}
	capture_finish(file);
}

START_TEST(no_leaks_said_only_when_seen)
{
	static const struct {
		bool trailer;
		uint64_t interval;
		const char *text;      /* the report's line */
		const char *summary;   /* the run summary's */
	} cases[] = {
		{true, 0, "LEAKS    none: every block was freed\n",
		 "memscope: no leaks: every block was freed\n"},
		{false, 0, "LIVE AT END none live when the capture ends, at 4 ms: it has no trailer, "
		           "so blocks the program held when it stopped may not have been recorded\n",
		 "memscope: no block live when the capture ends, but it has no trailer: blocks the "
		 "program held when it stopped may not have been recorded\n"},
		{true, 1000, "LEAKS    none sampled: no leaked block was sampled; leaks smaller than "
		             "the sampling interval may be missed\n",
		 "memscope: no leaked block was sampled; leaks smaller than the sampling interval may "
		 "be missed\n"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct capture_file file;
		write_freed_capture(&file, cases[i].trailer, cases[i].interval);
		struct report *report = build(file.path, 0);
		char *text = report_text(report);
		ck_assert_msg(strstr(text, cases[i].text) != NULL, "case %zu:\n%s", i, text);
		if (i > 0)
			ck_assert_ptr_null(strstr(text, "every block was freed"));
		free(text);
		report_destroy(report);
		char *summary = summary_of(file.path);
		ck_assert_msg(strstr(summary, cases[i].summary) != NULL, "case %zu:\n%s", i, summary);
		if (i > 0)
			ck_assert_ptr_null(strstr(summary, "every block was freed"));
		free(summary);
		unlink(file.path);
	}
}
END_TEST

/* Stacks, innermost first: 2 make_buffer_site, 3 leak_site, 4 mixed_site,
 * each called from outer_site.  Interval 1000, every block of 5,000 bytes
 * or more recorded: make_buffer_site allocates large blocks only (exact),
 * leak_site small ones only (samples: estimated), mixed_site one of each.
 *
 *   2 ms  alloc 0x1000 6,000  make_buffer   exact
 *   3 ms  alloc 0x2000 8,000  make_buffer   exact
 *   4 ms  alloc 0x3000   100  leak          weight 10.508
 *   5 ms  alloc 0x4000 7,000  mixed         exact
 *   6 ms  alloc 0x5000   200  mixed         weight 5.517  -> the peak
 *   7 ms  free  0x1000                      an exact free
 *   8 ms  alloc 0x6000   300  leak          weight 3.858
 *   9 ms  free  0x3000                      a sampled free
 *
 * At the peak the three large blocks, 21,000 bytes, are its exact part; at
 * the end, 0x2000 and 0x4000, 15,000 bytes. */
static void write_hybrid_capture(struct capture_file *file)
{
	struct sites sites = find_sites();
	uint64_t mixed = mixed_site();
	capture_start(file);
	add_info(file, "program", "./mixed");
	add_info(file, "backend", "hybrid");
	add_thread(file, 0, 4242, "main");
	add_modules(file, &sites);
	add_node(file, 1, 0, sites.outer);
	add_node(file, 2, 1, sites.make_buffer);
	add_node(file, 3, 1, sites.leak);
	add_node(file, 4, 1, mixed);
	add_sampling(file, 1000, 5000);
	add_alloc(file, 2 * MS, 0x1000, 6000, 2);
	add_alloc(file, 3 * MS, 0x2000, 8000, 2);
	add_alloc(file, 4 * MS, 0x3000, 100, 3);
	add_alloc(file, 5 * MS, 0x4000, 7000, 4);
	add_alloc(file, 6 * MS, 0x5000, 200, 4);
	add_free(file, 7 * MS, 0x1000);
	add_alloc(file, 8 * MS, 0x6000, 300, 3);
	add_free(file, 9 * MS, 0x3000);
	add_trailer(file, 10 * MS);
	capture_finish(file);
}

/* The function a row's stack was allocated from. */
static const char *function_of(const struct report_stack *stack)
{
	const struct report_frame *frame = report_leaking_frame(stack);
	ck_assert_ptr_nonnull(frame);
	ck_assert_ptr_nonnull(frame->function);
	return frame->function;
}

/* The line of text after the first line starting with heading that names
 * function; the caller frees it. */
static char *line_naming(const char *text, const char *heading, const char *function)
{
	const char *section = strstr(text, heading);
	ck_assert_msg(section != NULL, "no %s in:\n%s", heading, text);
	for (const char *line = strchr(section, '\n') + 1; *line;) {
		const char *end = strchr(line, '\n');
		size_t length = end ? (size_t)(end - line) : strlen(line);
		char *copy = strndup(line, length);
		if (strstr(copy, function))
			return copy;
		free(copy);
		line = end ? end + 1 : line + length;
	}
	ck_abort_msg("no line naming %s after %s in:\n%s", function, heading, text);
	return NULL;
}

/* line, one row of a list, is marked as accuracy says: "~" before its
 * figures unless exact, and "(mixed)" at its end when mixed. */
static void assert_row_marked(char *line, enum report_accuracy accuracy)
{
	size_t length = strlen(line);
	bool mixed = length > 9 && strcmp(line + length - 9, "  (mixed)") == 0;
	ck_assert_msg(mixed == (accuracy == REPORT_MIXED), "%s", line);
	ck_assert_msg((strchr(line, '~') != NULL) == (accuracy != REPORT_EXACT), "%s", line);
	free(line);
}

static void assert_tally(const struct sample_tally *tally, enum report_accuracy accuracy,
                         uint64_t exact, uint64_t exact_bytes, uint64_t sampled)
{
	ck_assert_int_eq(report_accuracy_of(tally), accuracy);
	ck_assert_uint_eq(tally->exact, exact);
	ck_assert_uint_eq(tally->exact_bytes, exact_bytes);
	ck_assert_uint_eq(tally->sampled, sampled);
}

START_TEST(hybrid_figures_are_exact_estimated_or_mixed)
{
	struct capture_file file;
	write_hybrid_capture(&file);
	struct report *report = build(file.path, 0);
	ck_assert(report->replay->sampled);
	ck_assert_uint_eq(report->replay->exact_above, 5000);

	/* The totals: every one of both kinds but the resizes (none). */
	const struct replay_tallies *tallies = &report->totals.tallies;
	assert_tally(&tallies->allocations, REPORT_MIXED, 3, 21000, 3);
	assert_tally(&tallies->expands, REPORT_EXACT, 0, 0, 0);
	assert_tally(&tallies->frees, REPORT_MIXED, 1, 0, 1);
	assert_tally(&tallies->peak, REPORT_MIXED, 3, 21000, 2);
	assert_tally(&tallies->live, REPORT_MIXED, 2, 15000, 2);
	/* The numbers are the replay's estimates, as ever. */
	ck_assert_uint_eq(report->totals.allocations, 23);
	ck_assert_uint_eq(report->totals.allocated_bytes, 24312);
	ck_assert_uint_eq(report->totals.peak_bytes, 23154);
	ck_assert_uint_eq(report->totals.live_bytes, 17261);

	/* Each row, by the function that allocated it. */
	static const struct {
		const char *function;
		enum report_accuracy accuracy;
	} kinds[] = {
		{"make_buffer_site", REPORT_EXACT},
		{"leak_site", REPORT_ESTIMATED},
		{"mixed_site", REPORT_MIXED},
	};
	ck_assert_uint_eq(report->sites_by_calls_count, 3);
	ck_assert_uint_eq(report->peak_stack_count, 3);
	ck_assert_uint_eq(report->leak_count, 3);
	for (size_t k = 0; k < 3; k++) {
		for (size_t i = 0; i < 3; i++) {
			const struct report_site *site = &report->sites_by_calls[i];
			if (strcmp(function_of(&site->stack), kinds[k].function) == 0) {
				ck_assert_int_eq(site->accuracy, kinds[k].accuracy);
				ck_assert(site->estimated == (kinds[k].accuracy != REPORT_EXACT));
			}
			const struct report_peak_stack *peak = &report->peak_stacks[i];
			if (strcmp(function_of(&peak->stack), kinds[k].function) == 0)
				ck_assert_int_eq(peak->accuracy, kinds[k].accuracy);
			const struct report_leak *leak = &report->leaks[i];
			if (strcmp(function_of(&leak->stack), kinds[k].function) == 0) {
				ck_assert_int_eq(leak->accuracy, kinds[k].accuracy);
				ck_assert(leak->estimated == (kinds[k].accuracy != REPORT_EXACT));
			}
		}
	}
	/* At the peak mixed_site held its large block and the sample. */
	for (size_t i = 0; i < 3; i++)
		if (strcmp(function_of(&report->peak_stacks[i].stack), "mixed_site") == 0)
			ck_assert_uint_eq(report->peak_stacks[i].tally.exact_bytes, 7000);

	char *text = report_text(report);
	ck_assert_msg(strstr(text, "\nEXACT    every block of 5,000 bytes (4.9 KiB) or more was "
	                           "recorded (the hybrid backend's threshold): a figure of those "
	                           "alone is exact, without ~; one of both kinds is marked ~ and "
	                           "(mixed), and the totals spell out its exact part\n"),
	              "%s", text);
	ck_assert_msg(strstr(text, "\nTOTALS   ~23 allocations (~12 freed), ~24,312 bytes (23.7 KiB) "
	                           "requested in all (mixed: 21,000 bytes (20.5 KiB) in 3 blocks "
	                           "exact, 1 of them freed)\n"),
	              "%s", text);
	ck_assert_msg(strstr(text, "\nCALLS    ~23 allocation calls (~23 new blocks + 0 resized in "
	                           "place) (mixed: 3 exact)\n"),
	              "%s", text);
	ck_assert_msg(strstr(text, "\nPEAK     ~23,154 bytes (22.6 KiB) live in ~19 blocks at 6 ms "
	                           "(mixed: 21,000 bytes (20.5 KiB) in 3 blocks exact)\n"),
	              "%s", text);
	ck_assert_msg(strstr(text, "\nLEAKS    ~11 blocks, ~17,261 bytes (16.9 KiB) in 3 places "
	                           "(mixed: 15,000 bytes (14.6 KiB) in 2 blocks exact)\n"),
	              "%s", text);
	for (size_t k = 0; k < 3; k++) {
		assert_row_marked(line_naming(text, "\nPEAK ", kinds[k].function), kinds[k].accuracy);
		assert_row_marked(line_naming(text, "\nLEAKS ", kinds[k].function),
		                  kinds[k].accuracy);
		assert_row_marked(line_naming(text, "\nTOP ALLOCATION SITES (by calls)",
		                              kinds[k].function),
		                  kinds[k].accuracy);
	}
	/* The exact site's row exactly, as an exact capture prints it. */
	ck_assert_msg(strstr(text, "\n    2 calls  14,000 bytes (13.7 KiB)  make_buffer_site ("),
	              "%s", text);
	free(text);
	report_destroy(report);
	unlink(file.path);
}
END_TEST

/* A small sample resized in place past the threshold: the resize weighs
 * 1, so the block is exact from then on, while its allocation stays a
 * sample.  Every block of a capture sampled at an interval of 1 weighs 1:
 * nothing in it is an estimate. */
START_TEST(resizes_and_interval_one_are_exact)
{
	struct capture_file file;
	struct sites sites = find_sites();
	capture_start(&file);
	add_modules(&file, &sites);
	add_node(&file, 1, 0, sites.outer);
	add_node(&file, 2, 1, sites.make_buffer);
	add_node(&file, 3, 1, sites.leak);
	add_sampling(&file, 1000, 5000);
	add_alloc(&file, 2 * MS, 0x1000, 100, 3);
	add_expand(&file, 3 * MS, 0x1000, 100, 6000, 2);
	add_trailer(&file, 4 * MS);
	capture_finish(&file);
	struct report *report = build(file.path, 0);
	assert_tally(&report->totals.tallies.allocations, REPORT_ESTIMATED, 0, 0, 1);
	assert_tally(&report->totals.tallies.expands, REPORT_EXACT, 1, 0, 0);
	assert_tally(&report->totals.tallies.live, REPORT_EXACT, 1, 6000, 0);
	assert_tally(&report->totals.tallies.peak, REPORT_EXACT, 1, 6000, 0);
	ck_assert_uint_eq(report->leak_count, 1);
	ck_assert_int_eq(report->leaks[0].accuracy, REPORT_EXACT);
	char *text = report_text(report);
	ck_assert_msg(strstr(text, "\nCALLS    ~12 allocation calls (~11 new blocks + 1 resized in "
	                           "place) (mixed: 1 exact)\n"),
	              "%s", text);
	ck_assert_msg(strstr(text, "\nLEAKS    1 block, 6,000 bytes (5.9 KiB) in 1 place\n"), "%s",
	              text);
	assert_row_marked(line_naming(text, "\nTOP ALLOCATION SITES (by calls)", "leak_site"),
	                  REPORT_ESTIMATED);
	assert_row_marked(line_naming(text, "\nTOP ALLOCATION SITES (by calls)", "make_buffer_site"),
	                  REPORT_EXACT);
	free(text);
	report_destroy(report);
	unlink(file.path);

	capture_start(&file);
	add_modules(&file, &sites);
	add_node(&file, 1, 0, sites.outer);
	add_node(&file, 2, 1, sites.leak);
	add_sampling(&file, 1, 0);
	add_alloc(&file, 2 * MS, 0x1000, 100, 2);
	add_alloc(&file, 3 * MS, 0x2000, 200, 2);
	add_free(&file, 4 * MS, 0x1000);
	add_trailer(&file, 5 * MS);
	capture_finish(&file);
	report = build(file.path, 0);
	ck_assert(!report->replay->sampled);
	assert_tally(&report->totals.tallies.allocations, REPORT_EXACT, 2, 300, 0);
	ck_assert_int_eq(report->sites_by_calls[0].accuracy, REPORT_EXACT);
	text = report_text(report);
	ck_assert_ptr_null(strchr(text, '~'));
	ck_assert_ptr_null(strstr(text, "mixed"));
	free(text);
	report_destroy(report);
	unlink(file.path);
}
END_TEST

static Suite *report_suite(void)
{
	Suite *suite = suite_create("report");
	TCase *replay = tcase_create("replay");
	tcase_add_test(replay, totals_are_exact);
	tcase_add_test(replay, peak_and_the_stacks_that_held_it);
	tcase_add_test(replay, leaks_grouped_by_stack);
	tcase_add_test(replay, realloc_moved_and_in_place);
	tcase_add_test(replay, odd_streams_are_counted);
	tcase_add_test(replay, many_blocks_stay_exact);
	suite_add_tcase(suite, replay);

	TCase *symbols = tcase_create("symbols");
	tcase_set_timeout(symbols, 60);
	tcase_add_test(symbols, frames_resolve_to_this_program);
	tcase_add_test(symbols, leaking_function_skips_the_allocator);
	tcase_add_test(symbols, allocator_names);
	suite_add_tcase(suite, symbols);

	TCase *output = tcase_create("output");
	tcase_set_timeout(output, 60);
	tcase_add_test(output, top_limits_sites_not_leaks);
	tcase_add_test(output, text_report);
	tcase_add_test(output, summary_after_a_run);
	suite_add_tcase(suite, output);

	TCase *damage = tcase_create("damage");
	tcase_add_test(damage, no_trailer_means_no_clean_end);
	tcase_add_test(damage, cut_capture_reports_what_was_read);
	tcase_add_test(damage, no_leaks_said_only_when_seen);
	tcase_add_test(damage, unreadable_captures);
	suite_add_tcase(suite, damage);

	TCase *accuracy = tcase_create("accuracy");
	tcase_set_timeout(accuracy, 60);
	tcase_add_test(accuracy, hybrid_figures_are_exact_estimated_or_mixed);
	tcase_add_test(accuracy, resizes_and_interval_one_are_exact);
	suite_add_tcase(suite, accuracy);
	return suite;
}

int main(void)
{
	SRunner *runner = srunner_create(report_suite());
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
