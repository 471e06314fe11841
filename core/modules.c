/* modules.c - see modules.h. */
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modules.h"

struct known_module {
	uint32_t id;
	uint64_t base;
	char *path;
	bool present;                 /* seen in the scan under way */
	bool unloaded;
};

struct module_map {
	struct known_module *modules;
	uint32_t count;
	uint32_t capacity;
	unsigned long long adds;      /* the loader's counters at the last scan */
	unsigned long long subs;
	bool scanned;
};

int module_map_create(struct module_map **out)
{
	struct module_map *map = calloc(1, sizeof *map);
	if (map == NULL)
		return -ENOMEM;
	*out = map;
	return 0;
}

void module_map_destroy(struct module_map *map)
{
	if (map == NULL)
		return;
	for (uint32_t i = 0; i < map->count; i++)
		free(map->modules[i].path);
	free(map->modules);
	free(map);
}

struct counters {
	unsigned long long adds;
	unsigned long long subs;
};

static int read_counters(struct dl_phdr_info *info, size_t size, void *data)
{
	struct counters *counters = data;
	counters->adds = info->dlpi_adds;
	counters->subs = info->dlpi_subs;
	return 1;
}

static void read_build_id(const struct dl_phdr_info *info, struct capture_module *module)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *phdr = &info->dlpi_phdr[i];
		if (phdr->p_type != PT_NOTE)
			continue;
		const char *note = (const char *)(info->dlpi_addr + phdr->p_vaddr);
		const char *end = note + phdr->p_memsz;
		while (note + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *header = (const ElfW(Nhdr) *)note;
			const char *name = note + sizeof *header;
			const char *descriptor = name + ((header->n_namesz + 3) & ~3u);
			const char *next = descriptor + ((header->n_descsz + 3) & ~3u);
			if (next > end)
				break;
			if (header->n_type == NT_GNU_BUILD_ID && header->n_namesz == 4 &&
			    memcmp(name, "GNU", 4) == 0 && header->n_descsz <= CAPTURE_MAX_BUILD_ID) {
				module->build_id_size = header->n_descsz;
				memcpy(module->build_id, descriptor, header->n_descsz);
				return;
			}
			note = next;
		}
	}
}

struct scan {
	struct module_map *map;
	uint64_t time_ns;
	module_emit_fn emit;
	void *context;
	int emitted;
	bool first;
};

static struct known_module *find_known(struct module_map *map, uint64_t base, const char *path)
{
	for (uint32_t i = 0; i < map->count; i++) {
		struct known_module *known = &map->modules[i];
		if (!known->unloaded && known->base == base && strcmp(known->path, path) == 0)
			return known;
	}
	return NULL;
}

static int scan_object(struct dl_phdr_info *info, size_t size, void *data)
{
	struct scan *scan = data;
	struct module_map *map = scan->map;
	char path[PATH_MAX];
	bool main_program = scan->first;
	scan->first = false;

	if (main_program) {
		ssize_t length = readlink("/proc/self/exe", path, sizeof path - 1);
		if (length <= 0)
			return 0;
		path[length] = '\0';
	} else if (info->dlpi_name == NULL || info->dlpi_name[0] == '\0') {
		return 0;
	} else if (realpath(info->dlpi_name, path) == NULL) {
		/* Objects with no file, such as the vDSO. */
		return 0;
	}

	struct known_module *known = find_known(map, info->dlpi_addr, path);
	if (known != NULL) {
		known->present = true;
		return 0;
	}
	if (map->count == map->capacity) {
		uint32_t capacity = map->capacity ? map->capacity * 2 : 32;
		struct known_module *modules = realloc(map->modules, capacity * sizeof *modules);
		if (modules == NULL)
			return 0;
		map->modules = modules;
		map->capacity = capacity;
	}
	char *copy = strdup(path);
	if (copy == NULL)
		return 0;
	known = &map->modules[map->count];
	*known = (struct known_module){.id = map->count, .base = info->dlpi_addr, .path = copy,
	                               .present = true};
	map->count++;

	struct capture_record record = {.type = CAPTURE_RECORD_MODULE};
	struct capture_module *module = &record.u.module;
	module->id = known->id;
	module->time_ns = scan->time_ns;
	module->path = known->path;
	module->base = info->dlpi_addr;
	for (int i = 0; i < info->dlpi_phnum && module->segment_count < CAPTURE_MAX_SEGMENTS; i++) {
		const ElfW(Phdr) *phdr = &info->dlpi_phdr[i];
		if (phdr->p_type != PT_LOAD)
			continue;
		uint64_t start = info->dlpi_addr + phdr->p_vaddr;
		module->segments[module->segment_count++] =
		    (struct capture_segment){start, start + phdr->p_memsz};
	}
	read_build_id(info, module);
	scan->emit(scan->context, &record);
	scan->emitted++;
	return 0;
}

int module_map_update(struct module_map *map, uint64_t time_ns, module_emit_fn emit, void *context)
{
	struct counters counters = {0, 0};
	dl_iterate_phdr(read_counters, &counters);
	if (map->scanned && counters.adds == map->adds && counters.subs == map->subs)
		return 0;
	map->scanned = true;
	map->adds = counters.adds;
	map->subs = counters.subs;

	for (uint32_t i = 0; i < map->count; i++)
		map->modules[i].present = false;
	struct scan scan = {map, time_ns, emit, context, 0, true};
	dl_iterate_phdr(scan_object, &scan);

	for (uint32_t i = 0; i < map->count; i++) {
		struct known_module *known = &map->modules[i];
		if (known->present || known->unloaded)
			continue;
		known->unloaded = true;
		struct capture_record record = {.type = CAPTURE_RECORD_MODULE};
		record.u.module.id = known->id;
		record.u.module.unloaded = true;
		record.u.module.time_ns = time_ns;
		record.u.module.path = known->path;
		record.u.module.base = known->base;
		emit(context, &record);
		scan.emitted++;
	}
	return scan.emitted;
}
