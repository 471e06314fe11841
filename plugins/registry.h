/* registry.h - finds, loads and checks analyzer and exporter plugins.
 *
 * Each plugin is a shared object exporting MEMSCOPE_PLUGIN_ENTRY_NAME; it is
 * opened with RTLD_NOW | RTLD_LOCAL and stays open until the registry is
 * destroyed.  A file that is not a plugin, a plugin of another ABI major, a
 * description that does not hold together, or a second analyzer (exporter)
 * of a name already taken is refused: the refusal is kept as a message
 * naming the file and the reason, and loading goes on.  The first plugin to
 * provide a name wins.  Errors are negative errno values.
 */
#ifndef MEMSCOPE_PLUGINS_REGISTRY_H
#define MEMSCOPE_PLUGINS_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include <memscope/plugin.h>

struct plugin_registry;

/* What `memscope plugins` lists of one analyzer or exporter.  Strings
 * belong to the registry (and the plugin); never NULL. */
struct plugin_listing {
	const char *name;
	const char *description;
	const char *extension;     /* exporters; "" for analyzers */
	const char *plugin_name;   /* the plugin that provides it */
	const char *plugin_version;
	const char *path;          /* the plugin's file */
};

/* Returns 0 or -ENOMEM. */
int plugin_registry_create(struct plugin_registry **out);

/* Closes every plugin: nothing they gave may be used after.  NULL is a no-op. */
void plugin_registry_destroy(struct plugin_registry *registry);

/* Loads the plugin at path.  The same file loaded again (by another path,
 * too) is skipped silently.  Returns 0 when it was loaded (some of its
 * analyzers or exporters may have been refused as duplicates), -ENOEXEC
 * when it was refused, -errno when it cannot be read (both with a refusal
 * message), or -ENOMEM. */
int plugin_registry_load_file(struct plugin_registry *registry, const char *path);

/* Loads every regular file whose name ends in ".so" in directory, in
 * byte order of the names.  Files refused only add messages.  Returns 0,
 * -ENOENT or -ENOTDIR (no such directory: nothing is recorded), another
 * -errno of opendir (with a refusal message), or -ENOMEM. */
int plugin_registry_load_directory(struct plugin_registry *registry, const char *directory);

/* Loads the plugin search path, in order: each directory of
 * plugin_path_option (colon-separated, may be NULL: --plugin-path), each of
 * $MEMSCOPE_PLUGIN_PATH, the build tree's analyzers and exporters (only
 * when this executable was run from the build tree), then the install
 * directory.  Missing directories are skipped silently.  Returns 0 or
 * -ENOMEM. */
int plugin_registry_load_defaults(struct plugin_registry *registry, const char *plugin_path_option);

/* The analyzer (exporter) called name, or NULL. */
const memscope_analyzer *plugin_registry_analyzer(const struct plugin_registry *registry,
                                                  const char *name);
const memscope_exporter *plugin_registry_exporter(const struct plugin_registry *registry,
                                                  const char *name);

/* Iteration, in order of loading: how many, then each one's descriptor
 * and listing (NULL / false past the end). */
size_t plugin_registry_analyzer_count(const struct plugin_registry *registry);
const memscope_analyzer *plugin_registry_analyzer_at(const struct plugin_registry *registry,
                                                     size_t index);
bool plugin_registry_analyzer_listing(const struct plugin_registry *registry, size_t index,
                                      struct plugin_listing *out);
size_t plugin_registry_exporter_count(const struct plugin_registry *registry);
const memscope_exporter *plugin_registry_exporter_at(const struct plugin_registry *registry,
                                                     size_t index);
bool plugin_registry_exporter_listing(const struct plugin_registry *registry, size_t index,
                                      struct plugin_listing *out);

/* The refusals so far, in order: "PATH: REASON" each, without a newline. */
size_t plugin_registry_refusal_count(const struct plugin_registry *registry);
const char *plugin_registry_refusal(const struct plugin_registry *registry, size_t index);

#endif
