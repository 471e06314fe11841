/* modules.h - the ELF objects loaded in this process, as capture records.
 *
 * Scanned with dl_iterate_phdr at start and again whenever the loader's
 * add/remove counters move (dlopen, dlclose), so every address in a stack
 * can be tied to a file, its load bias and its build-id at report time.
 * Errors are negative errno values.
 */
#ifndef MEMSCOPE_MODULES_H
#define MEMSCOPE_MODULES_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"

struct module_map;

typedef void (*module_emit_fn)(void *context, struct capture_record *record);

/* Returns 0 or -ENOMEM. */
int module_map_create(struct module_map **out);

/* NULL is a no-op. */
void module_map_destroy(struct module_map *map);

/* If objects were loaded or unloaded since the last call (every object on
 * the first call), calls emit with a MODULE record for each new one and an
 * unload record for each one gone.  Returns the number of records emitted. */
int module_map_update(struct module_map *map, uint64_t time_ns, module_emit_fn emit, void *context);

/* Whether ip lies in the program's executable or in a library it needs
 * (its DT_NEEDED closure), as opposed to one only memscope brought in
 * (jemalloc, and libstdc++ with it).  Decided from the loader's state at
 * the first call. */
bool module_in_program_closure(uint64_t ip);

#endif
