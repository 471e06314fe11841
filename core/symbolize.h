/* symbolize.h - turns recorded instruction addresses into function, file and
 * line, offline, from a capture's module map, with elfutils libdw.
 *
 * The modules are the ELF files the traced process had loaded; they are
 * opened from disk at report time (their separate debug files are found the
 * usual ways: .gnu_debuglink, /usr/lib/debug/.build-id).  A module whose
 * build-id on disk differs from the recorded one is not trusted: its frames
 * show as module+offset.  Errors are negative errno values.
 */
#ifndef MEMSCOPE_SYMBOLIZE_H
#define MEMSCOPE_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"

struct symbolizer;

/* One source-level frame.  An instruction inside inlined code gives several:
 * the innermost inlined function first, the function it was inlined into last. */
struct symbol_frame {
	const char *function;      /* NULL if unknown; C++ names demangled with
	                              libstdc++'s demangler when it is installed,
	                              else mangled */
	const char *file;          /* NULL if no line information */
	uint32_t line;
	bool inlined;              /* this frame was inlined into the next one */
	const char *module;        /* path of the ELF object; NULL if no module covers ip */
	uint64_t module_offset;    /* ip relative to the module's load bias; ip
	                              itself when no module covers it */
};

/* Loads libdw the first time (dw_functions.h); without it, every frame
 * resolves to its module and offset, and a warning says why.  Returns 0 or
 * -ENOMEM. */
int symbolizer_create(struct symbolizer **out);

/* Adds a module from the capture's MODULE records (unload records too).
 * Where modules were loaded at the same address in turn, the one added last
 * answers; so adding one forgets cached results (not their strings).
 * Returns 0, -EINVAL (a NULL argument) or -ENOMEM. */
int symbolizer_add_module(struct symbolizer *symbolizer, const struct capture_module *module);

/* Resolves ip.  is_return_address: the ip is a return address (every stack
 * frame but the innermost), so the call instruction before it is looked up.
 * Fills up to max frames into frames[] (the innermost ones, when there are
 * more) and returns how many (at least 1: an unknown ip gives one frame with
 * function NULL), or -EINVAL (frames NULL, max < 1) or -ENOMEM.  The strings
 * belong to the symbolizer and live as long as it.  Results are cached per
 * ip.  A module's file is opened when the first ip in it is looked up. */
int symbolizer_lookup(struct symbolizer *symbolizer, uint64_t ip, bool is_return_address,
                      struct symbol_frame *frames, int max);

/* Warnings gathered so far (modules not found, build-id mismatches, files
 * that are not ELF), each line ending in '\n', or NULL.  A module's warning
 * comes with the first lookup of an ip in it. */
const char *symbolizer_warnings(const struct symbolizer *symbolizer);

/* NULL is a no-op. */
void symbolizer_destroy(struct symbolizer *symbolizer);

#endif
