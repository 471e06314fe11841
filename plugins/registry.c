/* registry.c - the plugin search path, dlopen, the ABI check and the
 * tables of analyzers and exporters by name.  See registry.h.
 */
#include "registry.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "array.h"
#include "host.h"
#include "memscope_config.h"

/* A description listing more is surely missing its NULL terminator: stop
 * before reading past the plugin's array into whatever follows. */
#define MAX_DESCRIPTORS 1024

struct plugin {
	char *path;
	void *handle;
	const memscope_plugin_info *info;
};

struct provided {
	const void *descriptor;    /* memscope_analyzer or memscope_exporter */
	const char *name;
	size_t plugin;             /* index into plugins */
};

struct provided_list {
	struct provided *items;
	size_t count;
	size_t capacity;
};

/* A file already looked at, refused or not: the same plugin found again
 * through another directory of the search path is not news. */
struct seen_file {
	dev_t device;
	ino_t inode;
};

struct plugin_registry {
	struct plugin *plugins;
	size_t plugin_count;
	size_t plugin_capacity;
	struct provided_list analyzers;
	struct provided_list exporters;
	char **refusals;
	size_t refusal_count;
	size_t refusal_capacity;
	struct seen_file *seen;
	size_t seen_count;
	size_t seen_capacity;
};

int plugin_registry_create(struct plugin_registry **out)
{
	struct plugin_registry *registry = calloc(1, sizeof(*registry));
	if (!registry)
		return -ENOMEM;
	*out = registry;
	return 0;
}

void plugin_registry_destroy(struct plugin_registry *registry)
{
	if (!registry)
		return;
	for (size_t i = 0; i < registry->plugin_count; i++) {
		dlclose(registry->plugins[i].handle);
		free(registry->plugins[i].path);
	}
	free(registry->plugins);
	free(registry->analyzers.items);
	free(registry->exporters.items);
	for (size_t i = 0; i < registry->refusal_count; i++)
		free(registry->refusals[i]);
	free(registry->refusals);
	free(registry->seen);
	free(registry);
}

/* Records "PATH: REASON".  Returns 0 or -ENOMEM. */
__attribute__((format(printf, 3, 4))) static int refuse(struct plugin_registry *registry,
                                                        const char *path, const char *format, ...)
{
	if (array_make_room((void **)&registry->refusals, &registry->refusal_capacity,
	              registry->refusal_count, sizeof(*registry->refusals)) < 0)
		return -ENOMEM;
	char *reason;
	va_list arguments;
	va_start(arguments, format);
	int length = vasprintf(&reason, format, arguments);
	va_end(arguments);
	if (length < 0)
		return -ENOMEM;
	char *message;
	length = asprintf(&message, "%s: %s", path, reason);
	free(reason);
	if (length < 0)
		return -ENOMEM;
	registry->refusals[registry->refusal_count++] = message;
	return 0;
}

/* ---- checking a description -------------------------------------------- */

/* Why the description cannot be used, into reason[size]; false if it can. */
static bool description_is_invalid(const memscope_plugin_info *info, char *reason, size_t size)
{
	if (info->version < 1) {
		snprintf(reason, size, "its description has version %" PRIu32
		         ", and this memscope reads version %d", info->version,
		         MEMSCOPE_PLUGIN_INFO_VERSION);
		return true;
	}
	if (!info->name || !info->name[0]) {
		snprintf(reason, size, "the plugin has no name");
		return true;
	}
	for (size_t i = 0; info->analyzers && info->analyzers[i]; i++) {
		const memscope_analyzer *analyzer = info->analyzers[i];
		if (i == MAX_DESCRIPTORS) {
			snprintf(reason, size, "more than %d analyzers: the list must end with NULL",
			         MAX_DESCRIPTORS);
			return true;
		}
		if (!analyzer->name || !analyzer->name[0]) {
			snprintf(reason, size, "analyzer %zu of the list has no name", i + 1);
			return true;
		}
		if (analyzer->version < 1) {
			snprintf(reason, size, "analyzer '%s' has version 0", analyzer->name);
			return true;
		}
		if (!analyzer->run) {
			snprintf(reason, size, "analyzer '%s' has no run function", analyzer->name);
			return true;
		}
	}
	for (size_t i = 0; info->exporters && info->exporters[i]; i++) {
		const memscope_exporter *exporter = info->exporters[i];
		if (i == MAX_DESCRIPTORS) {
			snprintf(reason, size, "more than %d exporters: the list must end with NULL",
			         MAX_DESCRIPTORS);
			return true;
		}
		if (!exporter->name || !exporter->name[0]) {
			snprintf(reason, size, "exporter %zu of the list has no name", i + 1);
			return true;
		}
		if (exporter->version < 1) {
			snprintf(reason, size, "exporter '%s' has version 0", exporter->name);
			return true;
		}
		if (!exporter->write) {
			snprintf(reason, size, "exporter '%s' has no write function", exporter->name);
			return true;
		}
	}
	return false;
}

/* ---- registering what a plugin provides -------------------------------- */

static const struct provided *find_provided(const struct provided_list *list, const char *name)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->items[i].name, name) == 0)
			return &list->items[i];
	return NULL;
}

/* Adds descriptor unless its name is taken.  *added counts those added.
 * Returns 0 or -ENOMEM. */
static int provide(struct plugin_registry *registry, struct provided_list *list, const char *what,
                   const void *descriptor, const char *name, size_t plugin, size_t *added)
{
	const char *path = registry->plugins[plugin].path;
	const struct provided *taken = find_provided(list, name);
	if (taken)
		return refuse(registry, path, "%s '%s' is already provided by %s; this one is ignored",
		              what, name, registry->plugins[taken->plugin].path);
	if (array_make_room((void **)&list->items, &list->capacity, list->count, sizeof(*list->items)) < 0)
		return -ENOMEM;
	list->items[list->count++] = (struct provided){ descriptor, name, plugin };
	(*added)++;
	return 0;
}

/* Registers the plugin's analyzers and exporters; a plugin that adds none
 * (every name taken) is closed again.  Returns 0 or -ENOMEM. */
static int add_plugin(struct plugin_registry *registry, const char *path, void *handle,
                      const memscope_plugin_info *info)
{
	if (array_make_room((void **)&registry->plugins, &registry->plugin_capacity,
	              registry->plugin_count, sizeof(*registry->plugins)) < 0)
		goto out_of_memory;
	char *copy = strdup(path);
	if (!copy)
		goto out_of_memory;
	size_t index = registry->plugin_count++;
	registry->plugins[index] = (struct plugin){ copy, handle, info };

	size_t added = 0;
	int error = 0;
	for (size_t i = 0; error == 0 && info->analyzers && info->analyzers[i]; i++)
		error = provide(registry, &registry->analyzers, "analyzer", info->analyzers[i],
		                info->analyzers[i]->name, index, &added);
	for (size_t i = 0; error == 0 && info->exporters && info->exporters[i]; i++)
		error = provide(registry, &registry->exporters, "exporter", info->exporters[i],
		                info->exporters[i]->name, index, &added);
	if (error < 0 || added > 0)
		return error;
	/* Nothing of it is used: it was the last plugin added, so it comes
	 * off the end without disturbing any index. */
	registry->plugin_count--;
	free(copy);
	dlclose(handle);
	return 0;

out_of_memory:
	dlclose(handle);
	return -ENOMEM;
}

/* ---- loading ----------------------------------------------------------- */

/* Whether the file was looked at before; remembers it if not.  Returns 1,
 * 0, or -ENOMEM. */
static int seen_before(struct plugin_registry *registry, const struct stat *status)
{
	for (size_t i = 0; i < registry->seen_count; i++)
		if (registry->seen[i].device == status->st_dev &&
		    registry->seen[i].inode == status->st_ino)
			return 1;
	if (array_make_room((void **)&registry->seen, &registry->seen_capacity, registry->seen_count,
	              sizeof(*registry->seen)) < 0)
		return -ENOMEM;
	registry->seen[registry->seen_count++] = (struct seen_file){ status->st_dev, status->st_ino };
	return 0;
}

/* Refuses and closes: the ENOMEM of recording wins over the refusal. */
static int refuse_and_close(struct plugin_registry *registry, void *handle, const char *path,
                            const char *reason_format, const char *detail)
{
	dlclose(handle);
	if (refuse(registry, path, reason_format, detail) < 0)
		return -ENOMEM;
	return -ENOEXEC;
}

int plugin_registry_load_file(struct plugin_registry *registry, const char *path)
{
	struct stat status;
	if (stat(path, &status) < 0) {
		int error = -errno;
		if (refuse(registry, path, "cannot read it: %s", strerror(-error)) < 0)
			return -ENOMEM;
		return error;
	}
	int seen = seen_before(registry, &status);
	if (seen != 0)
		return seen < 0 ? seen : 0;

	/* A name without a slash would make dlopen search the library path
	 * instead of opening the file named. */
	char local[PATH_MAX];
	const char *open_path = path;
	if (!strchr(path, '/')) {
		snprintf(local, sizeof(local), "./%s", path);
		open_path = local;
	}
	dlerror();
	void *handle = dlopen(open_path, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		const char *why = dlerror();
		if (refuse(registry, path, "not a plugin: cannot load it (%s)",
		           why ? why : "unknown error") < 0)
			return -ENOMEM;
		return -ENOEXEC;
	}

	/* POSIX lets dlsym's object pointer be read as a function pointer;
	 * memcpy says so without a cast C forbids. */
	void *symbol = dlsym(handle, MEMSCOPE_PLUGIN_ENTRY_NAME);
	if (!symbol)
		return refuse_and_close(registry, handle, path,
		                        "not a memscope plugin: it has no %s symbol",
		                        MEMSCOPE_PLUGIN_ENTRY_NAME);
	memscope_plugin_entry_fn entry;
	memcpy(&entry, &symbol, sizeof(entry));

	const memscope_plugin_info *info = entry(plugin_host());
	if (!info)
		return refuse_and_close(registry, handle, path, "invalid plugin description: %s",
		                        "its entry function returned no description");
	/* abi_major sits at the same place in every version of the
	 * description, so it can be read before anything else is trusted. */
	if (info->abi_major != MEMSCOPE_PLUGIN_ABI_MAJOR) {
		char reason[256];
		snprintf(reason, sizeof(reason),
		         "built for plugin ABI %" PRIu32 ".%" PRIu32 ", but this memscope speaks %d.%d: "
		         "rebuild it against this memscope's plugin.h",
		         info->abi_major, info->abi_minor, MEMSCOPE_PLUGIN_ABI_MAJOR,
		         MEMSCOPE_PLUGIN_ABI_MINOR);
		return refuse_and_close(registry, handle, path, "%s", reason);
	}
	char reason[256];
	if (description_is_invalid(info, reason, sizeof(reason)))
		return refuse_and_close(registry, handle, path, "invalid plugin description: %s",
		                        reason);
	return add_plugin(registry, path, handle, info);
}

static bool is_shared_object_name(const char *name)
{
	size_t length = strlen(name);
	return length > 3 && strcmp(name + length - 3, ".so") == 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* directory/name, without doubling a slash the directory ends in. */
static char *join(const char *directory, const char *name)
{
	size_t length = strlen(directory);
	while (length > 1 && directory[length - 1] == '/')
		length--;
	char *path;
	if (asprintf(&path, "%.*s/%s", (int)length, directory, name) < 0)
		return NULL;
	return path;
}

int plugin_registry_load_directory(struct plugin_registry *registry, const char *directory)
{
	DIR *listing = opendir(directory);
	if (!listing) {
		int error = -errno;
		if (error == -ENOENT || error == -ENOTDIR)
			return error;
		if (refuse(registry, directory, "cannot list its plugins: %s", strerror(-error)) < 0)
			return -ENOMEM;
		return error;
	}

	/* Sorted by bytes, not by locale, so which of two plugins of one name
	 * wins does not depend on the user's LANG. */
	char **names = NULL;
	size_t count = 0, capacity = 0;
	int error = 0;
	struct dirent *entry;
	while ((entry = readdir(listing))) {
		if (!is_shared_object_name(entry->d_name))
			continue;
		if (array_make_room((void **)&names, &capacity, count, sizeof(*names)) < 0 ||
		    !(names[count] = strdup(entry->d_name))) {
			error = -ENOMEM;
			goto out;
		}
		count++;
	}
	qsort(names, count, sizeof(*names), by_name);

	for (size_t i = 0; i < count && error == 0; i++) {
		char *path = join(directory, names[i]);
		if (!path) {
			error = -ENOMEM;
			break;
		}
		struct stat status;
		/* stat, not d_type: a symbolic link to a plugin is a plugin, and
		 * a dangling one is worth a message from load_file. */
		if (stat(path, &status) < 0 || S_ISREG(status.st_mode)) {
			int loaded = plugin_registry_load_file(registry, path);
			if (loaded == -ENOMEM)
				error = loaded;
		}
		free(path);
	}
out:
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
	closedir(listing);
	return error;
}

/* Loads each directory of a colon-separated list; empty parts are skipped.
 * Returns 0 or -ENOMEM. */
static int load_path_list(struct plugin_registry *registry, const char *list)
{
	if (!list)
		return 0;
	char *copy = strdup(list);
	if (!copy)
		return -ENOMEM;
	int error = 0;
	char *rest = copy;
	for (char *part; error == 0 && (part = strsep(&rest, ":"));) {
		if (!part[0])
			continue;
		if (plugin_registry_load_directory(registry, part) == -ENOMEM)
			error = -ENOMEM;
	}
	free(copy);
	return error;
}

/* Whether this executable lies inside the build tree: only then are the
 * plugins built beside it the ones that match it.  An installed memscope
 * must not pick up whatever a build directory holds. */
static bool running_from_build_tree(void)
{
	char executable[PATH_MAX];
	ssize_t length = readlink("/proc/self/exe", executable, sizeof(executable) - 1);
	if (length <= 0)
		return false;
	executable[length] = '\0';
	size_t root = strlen(MEMSCOPE_BUILD_DIR);
	/* The slash matters: build-sanitize is not inside build. */
	return strncmp(executable, MEMSCOPE_BUILD_DIR, root) == 0 && executable[root] == '/';
}

int plugin_registry_load_defaults(struct plugin_registry *registry, const char *plugin_path_option)
{
	int error = load_path_list(registry, plugin_path_option);
	if (error == 0)
		error = load_path_list(registry, getenv("MEMSCOPE_PLUGIN_PATH"));
	if (error == 0 && running_from_build_tree()) {
		if (plugin_registry_load_directory(registry, MEMSCOPE_BUILD_DIR "/analyzers") ==
		        -ENOMEM ||
		    plugin_registry_load_directory(registry, MEMSCOPE_BUILD_DIR "/exporters") ==
		        -ENOMEM)
			error = -ENOMEM;
	}
	if (error == 0 &&
	    plugin_registry_load_directory(registry, MEMSCOPE_INSTALL_LIBDIR "/plugins") == -ENOMEM)
		error = -ENOMEM;
	return error;
}

/* ---- lookups ----------------------------------------------------------- */

const memscope_analyzer *plugin_registry_analyzer(const struct plugin_registry *registry,
                                                  const char *name)
{
	if (!registry || !name)
		return NULL;
	const struct provided *found = find_provided(&registry->analyzers, name);
	return found ? found->descriptor : NULL;
}

const memscope_exporter *plugin_registry_exporter(const struct plugin_registry *registry,
                                                  const char *name)
{
	if (!registry || !name)
		return NULL;
	const struct provided *found = find_provided(&registry->exporters, name);
	return found ? found->descriptor : NULL;
}

size_t plugin_registry_analyzer_count(const struct plugin_registry *registry)
{
	return registry ? registry->analyzers.count : 0;
}

const memscope_analyzer *plugin_registry_analyzer_at(const struct plugin_registry *registry,
                                                     size_t index)
{
	if (!registry || index >= registry->analyzers.count)
		return NULL;
	return registry->analyzers.items[index].descriptor;
}

size_t plugin_registry_exporter_count(const struct plugin_registry *registry)
{
	return registry ? registry->exporters.count : 0;
}

const memscope_exporter *plugin_registry_exporter_at(const struct plugin_registry *registry,
                                                     size_t index)
{
	if (!registry || index >= registry->exporters.count)
		return NULL;
	return registry->exporters.items[index].descriptor;
}

static const char *or_empty(const char *text)
{
	return text ? text : "";
}

static void list_plugin(const struct plugin_registry *registry, size_t plugin,
                        struct plugin_listing *out)
{
	const struct plugin *owner = &registry->plugins[plugin];
	out->plugin_name = or_empty(owner->info->name);
	out->plugin_version = or_empty(owner->info->plugin_version);
	out->path = owner->path;
}

bool plugin_registry_analyzer_listing(const struct plugin_registry *registry, size_t index,
                                      struct plugin_listing *out)
{
	const memscope_analyzer *analyzer = plugin_registry_analyzer_at(registry, index);
	if (!analyzer || !out)
		return false;
	out->name = analyzer->name;
	out->description = or_empty(analyzer->description);
	out->extension = "";
	list_plugin(registry, registry->analyzers.items[index].plugin, out);
	return true;
}

bool plugin_registry_exporter_listing(const struct plugin_registry *registry, size_t index,
                                      struct plugin_listing *out)
{
	const memscope_exporter *exporter = plugin_registry_exporter_at(registry, index);
	if (!exporter || !out)
		return false;
	out->name = exporter->name;
	out->description = or_empty(exporter->description);
	out->extension = or_empty(exporter->extension);
	list_plugin(registry, registry->exporters.items[index].plugin, out);
	return true;
}

size_t plugin_registry_refusal_count(const struct plugin_registry *registry)
{
	return registry ? registry->refusal_count : 0;
}

const char *plugin_registry_refusal(const struct plugin_registry *registry, size_t index)
{
	if (!registry || index >= registry->refusal_count)
		return NULL;
	return registry->refusals[index];
}
