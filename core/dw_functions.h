/* dw_functions.h - the libdw and libelf functions the symbolizer calls,
 * found with dlopen the first time a symbolizer is made, not linked in.
 *
 * Only reports read debug information, but everything that links
 * libmemscope's analysis code loaded libdw, libelf and the four compression
 * libraries behind them at start-up: 1.3 ms of every `memscope` command on
 * this machine, the traced program's run included, and of every program
 * linked with libmemscope.  symbolize.c calls them as dw.NAME(...).
 */
#ifndef MEMSCOPE_DW_FUNCTIONS_H
#define MEMSCOPE_DW_FUNCTIONS_H

#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <libelf.h>

/* Every function used, each as X(name). */
#define DW_FUNCTIONS(X)                                                                \
	X(dwarf_attr) X(dwarf_attr_integrate) X(dwarf_child) X(dwarf_diecu)            \
	X(dwarf_diename) X(dwarf_filesrc) X(dwarf_formstring) X(dwarf_formudata)       \
	X(dwarf_getsrc_die) X(dwarf_getsrcfiles) X(dwarf_haspc) X(dwarf_lineno)        \
	X(dwarf_linesrc) X(dwarf_ranges) X(dwarf_siblingof) X(dwarf_tag)               \
	X(dwelf_elf_gnu_build_id) X(dwfl_begin) X(dwfl_build_id_find_debuginfo)        \
	X(dwfl_end) X(dwfl_errmsg) X(dwfl_module_addrdie) X(dwfl_module_build_id)      \
	X(dwfl_module_getsym_info) X(dwfl_module_getsymtab) X(dwfl_module_nextcu)      \
	X(dwfl_offline_section_address) X(dwfl_report_begin) X(dwfl_report_elf)        \
	X(dwfl_report_end) X(elf_begin) X(elf_end) X(elf_version)

#define DW_FUNCTION_POINTER(name) __typeof__(name) *name;
struct dw_functions {
	DW_FUNCTIONS(DW_FUNCTION_POINTER)
};
#undef DW_FUNCTION_POINTER

/* Filled by dw_functions_load. */
extern struct dw_functions dw;

/* Loads libdw (and with it libelf) once per process.  Returns 0, or
 * -ELIBACC with *reason saying what failed (a static string). */
int dw_functions_load(const char **reason);

#endif
