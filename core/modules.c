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

/* ---- the program's own libraries ---------------------------------------- */

#define MAX_OBJECTS 256

struct loaded_object {
	const char *soname;           /* base name of the path the loader used */
	const ElfW(Phdr) *phdr;
	ElfW(Half) phnum;
	ElfW(Addr) base;
	bool needed;
};

struct closure {
	struct loaded_object objects[MAX_OBJECTS];
	int count;
};

static int collect_object(struct dl_phdr_info *info, size_t size, void *data)
{
	struct closure *closure = data;
	if (closure->count == MAX_OBJECTS)
		return 1;
	const char *name = info->dlpi_name ? info->dlpi_name : "";
	const char *slash = strrchr(name, '/');
	int index = closure->count++;
	closure->objects[index] = (struct loaded_object){
		.soname = slash ? slash + 1 : name,
		.phdr = info->dlpi_phdr,
		.phnum = info->dlpi_phnum,
		.base = info->dlpi_addr,
		.needed = index == 0, /* the program itself */
	};
	return 0;
}

/* Marks the objects named by object's DT_NEEDED entries; returns how many
 * were newly marked. */
static int mark_needed(struct closure *closure, const struct loaded_object *object)
{
	const ElfW(Dyn) *dynamic = NULL;
	for (int i = 0; i < object->phnum; i++)
		if (object->phdr[i].p_type == PT_DYNAMIC)
			dynamic = (const ElfW(Dyn) *)(object->base + object->phdr[i].p_vaddr);
	if (dynamic == NULL)
		return 0;
	const char *strings = NULL;
	for (const ElfW(Dyn) *entry = dynamic; entry->d_tag != DT_NULL; entry++)
		if (entry->d_tag == DT_STRTAB) {
			/* The loader has usually relocated it in place already. */
			ElfW(Addr) address = entry->d_un.d_ptr;
			strings = (const char *)(address < object->base ? address + object->base : address);
		}
	if (strings == NULL)
		return 0;
	int marked = 0;
	for (const ElfW(Dyn) *entry = dynamic; entry->d_tag != DT_NULL; entry++) {
		if (entry->d_tag != DT_NEEDED)
			continue;
		const char *needed = strings + entry->d_un.d_val;
		for (int i = 0; i < closure->count; i++) {
			if (!closure->objects[i].needed && strcmp(closure->objects[i].soname, needed) == 0) {
				closure->objects[i].needed = true;
				marked++;
			}
		}
	}
	return marked;
}

bool module_in_program_closure(uint64_t ip)
{
	static struct closure closure;
	static bool computed;
	if (!computed) {
		computed = true;
		dl_iterate_phdr(collect_object, &closure);
		/* Until nothing new is marked: the closure is small. */
		bool grew = true;
		while (grew) {
			grew = false;
			for (int i = 0; i < closure.count; i++)
				if (closure.objects[i].needed && mark_needed(&closure, &closure.objects[i]) > 0)
					grew = true;
		}
	}
	for (int i = 0; i < closure.count; i++) {
		const struct loaded_object *object = &closure.objects[i];
		for (int j = 0; j < object->phnum; j++) {
			const ElfW(Phdr) *phdr = &object->phdr[j];
			uint64_t start = object->base + phdr->p_vaddr;
			if (phdr->p_type == PT_LOAD && ip >= start && ip < start + phdr->p_memsz)
				return object->needed;
		}
	}
	return false;
}
