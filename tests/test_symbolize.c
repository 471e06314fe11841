/* test_symbolize.c - the symbolizer suite.
 *
 * Resolves addresses of this very program, as it is loaded now, from module
 * records built the way the capture builds them (dl_iterate_phdr: path, load
 * bias, PT_LOAD segments, build-id), and checks names and lines against
 * __LINE__ marks placed around known code.  Also checks the ways a module
 * can fail: missing, changed (another build-id), not ELF, and addresses no
 * module covers.
 */
#include "symbolize.h"

#include <check.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_MODULES 128

/* ---- code whose addresses the tests look up ----------------------------- */

/* Ordinary external functions, the kind most frames point into; the
 * prototypes keep -Wmissing-prototypes quiet. */
int symbolize_target_plain(int x);
void symbolize_target_caller(void);
void symbolize_target_outer(void);

static volatile uint64_t recorded_return_address;
static volatile int after_call;   /* work after each call: no tail calls */
static int caller_call_line;
static int inline_call_line;
static int outer_call_line;

enum { PLAIN_FIRST_LINE = __LINE__ };
__attribute__((noinline)) int symbolize_target_plain(int x)
{
	after_call += x;
	return after_call * 3;
}
enum { PLAIN_LAST_LINE = __LINE__ };

__attribute__((noinline)) static void record_return_address(void)
{
	recorded_return_address = (uint64_t)(uintptr_t)__builtin_return_address(0);
}

__attribute__((noinline)) void symbolize_target_caller(void)
{
	record_return_address(); caller_call_line = __LINE__;
	after_call++;
}

static inline __attribute__((always_inline)) void inlined_body(void)
{
	record_return_address(); inline_call_line = __LINE__;
	after_call++;
}

__attribute__((noinline)) void symbolize_target_outer(void)
{
	inlined_body(); outer_call_line = __LINE__;
	after_call++;
}

/* ---- module records of this process ------------------------------------- */

struct module_list {
	struct capture_module modules[MAX_MODULES];
	char *paths[MAX_MODULES];
	size_t count;
	size_t main_index;            /* the test program itself */
	size_t libc_index;            /* SIZE_MAX if not found */
	uint64_t libc_text_start;     /* libc's executable segment */
	uint64_t libc_text_end;
};

static struct module_list loaded;

static void read_build_id(struct capture_module *module, const ElfW(Addr) notes, size_t size)
{
	size_t offset = 0;
	while (offset + sizeof(ElfW(Nhdr)) <= size) {
		const ElfW(Nhdr) *note = (const ElfW(Nhdr) *)(notes + offset);
		size_t name_offset = offset + sizeof *note;
		size_t desc_offset = name_offset + ((note->n_namesz + 3) & ~(size_t)3);
		size_t next = desc_offset + ((note->n_descsz + 3) & ~(size_t)3);
		if (next > size)
			return;
		if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4
		    && memcmp((const char *)(notes + name_offset), "GNU", 4) == 0
		    && note->n_descsz <= CAPTURE_MAX_BUILD_ID) {
			module->build_id_size = note->n_descsz;
			memcpy(module->build_id, (const void *)(notes + desc_offset), note->n_descsz);
			return;
		}
		offset = next;
	}
}

static int collect_module(struct dl_phdr_info *info, size_t size, void *data)
{
	struct module_list *list = data;
	(void)size;
	if (list->count == MAX_MODULES)
		return 1;
	size_t index = list->count;
	struct capture_module *module = &list->modules[index];
	memset(module, 0, sizeof *module);
	bool is_main = info->dlpi_name == NULL || info->dlpi_name[0] == '\0';
	list->paths[index] = strdup(is_main ? "/proc/self/exe" : info->dlpi_name);
	module->id = (uint32_t)index;
	module->path = list->paths[index];
	module->base = info->dlpi_addr;
	bool is_libc = !is_main && strstr(info->dlpi_name, "/libc.so") != NULL;
	for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *phdr = &info->dlpi_phdr[i];
		uint64_t start = info->dlpi_addr + phdr->p_vaddr;
		if (phdr->p_type == PT_LOAD && module->segment_count < CAPTURE_MAX_SEGMENTS) {
			module->segments[module->segment_count].start = start;
			module->segments[module->segment_count].end = start + phdr->p_memsz;
			module->segment_count++;
			if (is_libc && (phdr->p_flags & PF_X)) {
				list->libc_text_start = start;
				list->libc_text_end = start + phdr->p_memsz;
			}
		} else if (phdr->p_type == PT_NOTE && module->build_id_size == 0) {
			read_build_id(module, (ElfW(Addr))start, phdr->p_memsz);
		}
	}
	if (is_main)
		list->main_index = index;
	if (is_libc)
		list->libc_index = index;
	list->count++;
	return 0;
}

static void setup(void)
{
	memset(&loaded, 0, sizeof loaded);
	loaded.main_index = SIZE_MAX;
	loaded.libc_index = SIZE_MAX;
	dl_iterate_phdr(collect_module, &loaded);
	ck_assert_uint_ne(loaded.main_index, SIZE_MAX);
}

static void teardown(void)
{
	for (size_t i = 0; i < loaded.count; i++)
		free(loaded.paths[i]);
	memset(&loaded, 0, sizeof loaded);
}

static struct symbolizer *symbolizer_of_process(void)
{
	struct symbolizer *symbolizer = NULL;
	ck_assert_int_eq(symbolizer_create(&symbolizer), 0);
	for (size_t i = 0; i < loaded.count; i++)
		ck_assert_int_eq(symbolizer_add_module(symbolizer, &loaded.modules[i]), 0);
	return symbolizer;
}

static const char *base_name(const char *path)
{
	if (path == NULL)
		return "(no file)";
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* ---- tests ---------------------------------------------------------------- */

START_TEST(function_entry_gives_name_file_and_line)
{
	struct symbolizer *symbolizer = symbolizer_of_process();
	uint64_t ip = (uint64_t)(uintptr_t)&symbolize_target_plain;
	struct symbol_frame frames[8];

	int count = symbolizer_lookup(symbolizer, ip, false, frames, 8);
	ck_assert_int_eq(count, 1);
	ck_assert_ptr_nonnull(frames[0].function);
	ck_assert_str_eq(frames[0].function, "symbolize_target_plain");
	ck_assert_ptr_nonnull(frames[0].file);
	ck_assert_str_eq(base_name(frames[0].file), "test_symbolize.c");
	ck_assert_uint_gt(frames[0].line, PLAIN_FIRST_LINE);
	ck_assert_uint_lt(frames[0].line, PLAIN_LAST_LINE);
	ck_assert(!frames[0].inlined);
	ck_assert_ptr_nonnull(frames[0].module);
	ck_assert_str_eq(frames[0].module, "/proc/self/exe");
	ck_assert_uint_eq(frames[0].module_offset, ip - loaded.modules[loaded.main_index].base);
	ck_assert_ptr_null(symbolizer_warnings(symbolizer));
	symbolizer_destroy(symbolizer);
}
END_TEST

START_TEST(return_address_gives_the_call_line)
{
	symbolize_target_caller();
	struct symbolizer *symbolizer = symbolizer_of_process();
	struct symbol_frame frames[8];

	int count = symbolizer_lookup(symbolizer, recorded_return_address, true, frames, 8);
	ck_assert_int_eq(count, 1);
	ck_assert_str_eq(frames[0].function, "symbolize_target_caller");
	ck_assert_str_eq(base_name(frames[0].file), "test_symbolize.c");
	ck_assert_uint_eq(frames[0].line, (unsigned)caller_call_line);
	ck_assert(!frames[0].inlined);
	symbolizer_destroy(symbolizer);
}
END_TEST

START_TEST(inlined_code_gives_the_inline_chain)
{
	symbolize_target_outer();
	struct symbolizer *symbolizer = symbolizer_of_process();
	struct symbol_frame frames[8];

	int count = symbolizer_lookup(symbolizer, recorded_return_address, true, frames, 8);
	ck_assert_int_eq(count, 2);
	ck_assert_str_eq(frames[0].function, "inlined_body");
	ck_assert(frames[0].inlined);
	ck_assert_str_eq(base_name(frames[0].file), "test_symbolize.c");
	ck_assert_uint_eq(frames[0].line, (unsigned)inline_call_line);
	ck_assert_str_eq(frames[1].function, "symbolize_target_outer");
	ck_assert(!frames[1].inlined);
	ck_assert_str_eq(base_name(frames[1].file), "test_symbolize.c");
	ck_assert_uint_eq(frames[1].line, (unsigned)outer_call_line);
	ck_assert_ptr_eq(frames[1].module, frames[0].module);
	ck_assert_uint_eq(frames[1].module_offset, frames[0].module_offset);

	/* Room for one frame: the innermost. */
	struct symbol_frame one;
	ck_assert_int_eq(symbolizer_lookup(symbolizer, recorded_return_address, true, &one, 1), 1);
	ck_assert_str_eq(one.function, "inlined_body");
	ck_assert_int_eq(symbolizer_lookup(symbolizer, recorded_return_address, true, &one, 0), -EINVAL);
	symbolizer_destroy(symbolizer);
}
END_TEST

START_TEST(libc_function_is_named)
{
	ck_assert_uint_ne(loaded.libc_index, SIZE_MAX);
	/* Through libc's own handle: a sanitizer runtime interposes strlen. */
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	ck_assert_ptr_nonnull(libc);
	void *qsort_address = dlsym(libc, "qsort");
	void *strlen_address = dlsym(libc, "strlen");
	ck_assert_ptr_nonnull(qsort_address);
	ck_assert_ptr_nonnull(strlen_address);
	struct symbolizer *symbolizer = symbolizer_of_process();
	struct symbol_frame frames[8];
	const char *libc_path = loaded.modules[loaded.libc_index].path;

	/* qsort is exported, so named with or without libc's debug file. */
	int count = symbolizer_lookup(symbolizer, (uint64_t)(uintptr_t)qsort_address, false, frames, 8);
	ck_assert_int_ge(count, 1);
	ck_assert_ptr_nonnull(frames[count - 1].function);
	ck_assert_ptr_nonnull(strstr(frames[count - 1].function, "qsort"));
	ck_assert_str_eq(frames[0].module, libc_path);
	ck_assert_ptr_nonnull(strstr(frames[0].module, "libc"));
	ck_assert_uint_eq(frames[0].module_offset,
	                  (uint64_t)(uintptr_t)qsort_address - loaded.modules[loaded.libc_index].base);

	/* strlen is an ifunc: dlsym gives the chosen variant, which only the
	 * debug file's symbol table names. */
	count = symbolizer_lookup(symbolizer, (uint64_t)(uintptr_t)strlen_address, false, frames, 8);
	ck_assert_int_ge(count, 1);
	ck_assert_str_eq(frames[0].module, libc_path);
	dlclose(libc);
	symbolizer_destroy(symbolizer);
}
END_TEST

START_TEST(many_libc_addresses_resolve_and_are_cached)
{
	ck_assert_uint_ne(loaded.libc_index, SIZE_MAX);
	ck_assert_uint_gt(loaded.libc_text_end, loaded.libc_text_start);
	struct symbolizer *symbolizer = symbolizer_of_process();
	struct symbol_frame frames[8];
	uint64_t step = (loaded.libc_text_end - loaded.libc_text_start) / 10000;
	ck_assert_uint_gt(step, 0);
	const char *libc_path = loaded.modules[loaded.libc_index].path;

	for (int i = 0; i < 10000; i++) {
		uint64_t ip = loaded.libc_text_start + 1 + (uint64_t)i * step;
		int count = symbolizer_lookup(symbolizer, ip, true, frames, 8);
		ck_assert_int_ge(count, 1);
		ck_assert_str_eq(frames[0].module, libc_path);
	}

	/* Cached: the same strings come back. */
	uint64_t ip = loaded.libc_text_start + 1234 * step;
	struct symbol_frame again[8];
	int count = symbolizer_lookup(symbolizer, ip, true, frames, 8);
	ck_assert_int_eq(symbolizer_lookup(symbolizer, ip, true, again, 8), count);
	ck_assert_ptr_eq(again[0].function, frames[0].function);
	ck_assert_ptr_eq(again[0].module, frames[0].module);
	symbolizer_destroy(symbolizer);
}
END_TEST

START_TEST(address_outside_every_module)
{
	struct symbolizer *symbolizer = symbolizer_of_process();
	struct symbol_frame frames[8];
	int on_stack = 0;
	uint64_t outside[] = { 0, (uint64_t)(uintptr_t)&on_stack, UINT64_MAX };

	for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
		for (int is_return_address = 0; is_return_address <= 1; is_return_address++) {
			int count = symbolizer_lookup(symbolizer, outside[i], is_return_address, frames, 8);
			ck_assert_int_eq(count, 1);
			ck_assert_ptr_null(frames[0].function);
			ck_assert_ptr_null(frames[0].file);
			ck_assert_ptr_null(frames[0].module);
			ck_assert_uint_eq(frames[0].module_offset, outside[i]);
		}
	}
	symbolizer_destroy(symbolizer);
}
END_TEST

START_TEST(changed_module_is_not_trusted)
{
	struct capture_module changed = loaded.modules[loaded.main_index];
	if (changed.build_id_size == 0)
		changed.build_id_size = 20;
	changed.build_id[0] ^= 0xff;
	struct symbolizer *symbolizer = NULL;
	ck_assert_int_eq(symbolizer_create(&symbolizer), 0);
	ck_assert_int_eq(symbolizer_add_module(symbolizer, &changed), 0);
	uint64_t ip = (uint64_t)(uintptr_t)&symbolize_target_plain;
	struct symbol_frame frames[8];

	ck_assert_int_eq(symbolizer_lookup(symbolizer, ip, false, frames, 8), 1);
	ck_assert_ptr_null(frames[0].function);
	ck_assert_ptr_null(frames[0].file);
	ck_assert_str_eq(frames[0].module, changed.path);
	ck_assert_uint_eq(frames[0].module_offset, ip - changed.base);
	const char *warnings = symbolizer_warnings(symbolizer);
	ck_assert_ptr_nonnull(warnings);
	ck_assert_ptr_nonnull(strstr(warnings, changed.path));
	ck_assert_ptr_nonnull(strstr(warnings, "build-id differs"));

	/* Said once, however many addresses hit the module. */
	ck_assert_int_eq(symbolizer_lookup(symbolizer, ip + 1, false, frames, 8), 1);
	ck_assert_ptr_eq(symbolizer_warnings(symbolizer), warnings);
	ck_assert_ptr_null(strstr(strstr(warnings, "build-id differs") + 1, "build-id differs"));
	symbolizer_destroy(symbolizer);
}
END_TEST

START_TEST(missing_module_is_reported)
{
	struct capture_module missing = {
		.id = 0,
		.path = "/nonexistent/memscope-test/libmissing.so",
		.base = 0x100000,
		.segment_count = 1,
		.segments = { { 0x100000, 0x200000 } },
	};
	struct symbolizer *symbolizer = NULL;
	ck_assert_int_eq(symbolizer_create(&symbolizer), 0);
	ck_assert_int_eq(symbolizer_add_module(symbolizer, &missing), 0);
	struct symbol_frame frames[8];

	ck_assert_int_eq(symbolizer_lookup(symbolizer, 0x100500, true, frames, 8), 1);
	ck_assert_ptr_null(frames[0].function);
	ck_assert_str_eq(frames[0].module, missing.path);
	ck_assert_uint_eq(frames[0].module_offset, 0x500);
	const char *warnings = symbolizer_warnings(symbolizer);
	ck_assert_ptr_nonnull(warnings);
	ck_assert_ptr_nonnull(strstr(warnings, "module /nonexistent/memscope-test/libmissing.so not found"));
	symbolizer_destroy(symbolizer);
}
END_TEST

START_TEST(file_that_is_not_elf_is_reported)
{
	char path[] = "/tmp/memscope-symbolize-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	const char text[] = "not an ELF file\n";
	ck_assert_int_eq(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
	close(fd);
	struct capture_module module = {
		.path = path,
		.base = 0x400000,
		.segment_count = 1,
		.segments = { { 0x400000, 0x401000 } },
	};
	struct symbolizer *symbolizer = NULL;
	ck_assert_int_eq(symbolizer_create(&symbolizer), 0);
	ck_assert_int_eq(symbolizer_add_module(symbolizer, &module), 0);
	struct symbol_frame frames[8];

	ck_assert_int_eq(symbolizer_lookup(symbolizer, 0x400010, false, frames, 8), 1);
	ck_assert_ptr_null(frames[0].function);
	ck_assert_str_eq(frames[0].module, path);
	ck_assert_ptr_nonnull(symbolizer_warnings(symbolizer));
	ck_assert_ptr_nonnull(strstr(symbolizer_warnings(symbolizer), path));
	symbolizer_destroy(symbolizer);
	unlink(path);
}
END_TEST

START_TEST(latest_module_at_an_address_wins)
{
	const struct capture_module *real = &loaded.modules[loaded.main_index];
	struct capture_module gone = *real;
	gone.id = 0;
	gone.path = "/nonexistent/memscope-test/old-build";
	gone.build_id_size = 0;
	struct capture_module gone_unloaded = gone;
	gone_unloaded.unloaded = true;
	struct capture_module reloaded = *real;
	reloaded.id = 1;
	uint64_t ip = (uint64_t)(uintptr_t)&symbolize_target_plain;
	struct symbol_frame frames[8];

	/* Unloaded, then the real program loaded at the same place. */
	struct symbolizer *symbolizer = NULL;
	ck_assert_int_eq(symbolizer_create(&symbolizer), 0);
	ck_assert_int_eq(symbolizer_add_module(symbolizer, &gone), 0);
	ck_assert_int_eq(symbolizer_add_module(symbolizer, &gone_unloaded), 0);
	ck_assert_int_eq(symbolizer_add_module(symbolizer, &reloaded), 0);
	ck_assert_int_eq(symbolizer_lookup(symbolizer, ip, false, frames, 8), 1);
	ck_assert_str_eq(frames[0].function, "symbolize_target_plain");
	ck_assert_ptr_null(symbolizer_warnings(symbolizer));
	symbolizer_destroy(symbolizer);

	/* The other way round; the answer cached before the second load is
	 * dropped with it. */
	ck_assert_int_eq(symbolizer_create(&symbolizer), 0);
	ck_assert_int_eq(symbolizer_add_module(symbolizer, &reloaded), 0);
	ck_assert_int_eq(symbolizer_lookup(symbolizer, ip, false, frames, 8), 1);
	ck_assert_str_eq(frames[0].function, "symbolize_target_plain");
	ck_assert_int_eq(symbolizer_add_module(symbolizer, &gone), 0);
	ck_assert_int_eq(symbolizer_lookup(symbolizer, ip, false, frames, 8), 1);
	ck_assert_ptr_null(frames[0].function);
	ck_assert_str_eq(frames[0].module, gone.path);
	ck_assert_ptr_nonnull(strstr(symbolizer_warnings(symbolizer), "old-build not found"));
	symbolizer_destroy(symbolizer);
}
END_TEST

START_TEST(odd_input_is_refused_or_harmless)
{
	struct symbolizer *symbolizer = NULL;
	ck_assert_int_eq(symbolizer_create(&symbolizer), 0);
	struct symbol_frame frames[2];
	ck_assert_int_eq(symbolizer_lookup(symbolizer, 0x1000, false, NULL, 2), -EINVAL);
	ck_assert_int_eq(symbolizer_add_module(symbolizer, NULL), -EINVAL);
	ck_assert_ptr_null(symbolizer_warnings(symbolizer));

	/* A module without a file (the vdso), one without a path, one whose
	 * segments are empty, and an unload of a module never loaded. */
	struct capture_module vdso = {
		.path = "linux-vdso.so.1", .base = 0x7000,
		.segment_count = 1, .segments = { { 0x7000, 0x8000 } },
	};
	struct capture_module unnamed = {
		.id = 1, .path = NULL, .base = 0x9000,
		.segment_count = 1, .segments = { { 0x9000, 0xa000 } },
	};
	struct capture_module empty = { .id = 2, .path = "/bin/sh" };
	struct capture_module stray_unload = { .id = 7, .unloaded = true };
	ck_assert_int_eq(symbolizer_add_module(symbolizer, &vdso), 0);
	ck_assert_int_eq(symbolizer_add_module(symbolizer, &unnamed), 0);
	ck_assert_int_eq(symbolizer_add_module(symbolizer, &empty), 0);
	ck_assert_int_eq(symbolizer_add_module(symbolizer, &stray_unload), 0);
	ck_assert_int_eq(symbolizer_lookup(symbolizer, 0x7010, false, frames, 2), 1);
	ck_assert_ptr_null(frames[0].function);
	ck_assert_str_eq(frames[0].module, "linux-vdso.so.1");
	ck_assert_uint_eq(frames[0].module_offset, 0x10);
	ck_assert_int_eq(symbolizer_lookup(symbolizer, 0x9010, false, frames, 2), 1);
	ck_assert_ptr_null(frames[0].function);
	ck_assert_ptr_null(symbolizer_warnings(symbolizer));
	symbolizer_destroy(symbolizer);
	symbolizer_destroy(NULL);
}
END_TEST

static Suite *symbolize_suite(void)
{
	Suite *suite = suite_create("symbolize");
	TCase *tcase = tcase_create("symbolize");
	tcase_add_checked_fixture(tcase, setup, teardown);
	tcase_set_timeout(tcase, 60);
	tcase_add_test(tcase, function_entry_gives_name_file_and_line);
	tcase_add_test(tcase, return_address_gives_the_call_line);
	tcase_add_test(tcase, inlined_code_gives_the_inline_chain);
	tcase_add_test(tcase, libc_function_is_named);
	tcase_add_test(tcase, many_libc_addresses_resolve_and_are_cached);
	tcase_add_test(tcase, address_outside_every_module);
	tcase_add_test(tcase, changed_module_is_not_trusted);
	tcase_add_test(tcase, missing_module_is_reported);
	tcase_add_test(tcase, file_that_is_not_elf_is_reported);
	tcase_add_test(tcase, latest_module_at_an_address_wins);
	tcase_add_test(tcase, odd_input_is_refused_or_harmless);
	suite_add_tcase(suite, tcase);
	return suite;
}

int main(void)
{
	SRunner *runner = srunner_create(symbolize_suite());
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
