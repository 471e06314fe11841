/* abi_major_2.c - a plugin that says it was built for plugin ABI 2.0.  Its
 * description is written by hand, not with MEMSCOPE_PLUGIN_DESCRIBE, which
 * would stamp this header's major on it.
 */
#include <memscope/plugin.h>

static int run(const memscope_host *host, memscope_capture *capture, memscope_results *results)
{
	return 0;
}

static const memscope_analyzer future = {
	.version = MEMSCOPE_ANALYZER_VERSION,
	.name = "from_the_future",
	.description = "Never registered",
	.run = run,
};

static const memscope_analyzer *const analyzers[] = { &future, NULL };

MEMSCOPE_PLUGIN_EXPORT const memscope_plugin_info *MEMSCOPE_PLUGIN_ENTRY(const memscope_host *host);

MEMSCOPE_PLUGIN_EXPORT const memscope_plugin_info *MEMSCOPE_PLUGIN_ENTRY(const memscope_host *host)
{
	static const memscope_plugin_info info = {
		.version = MEMSCOPE_PLUGIN_INFO_VERSION,
		.abi_major = 2,
		.abi_minor = 0,
		.name = "abi-major-2",
		.plugin_version = "2.0",
		.analyzers = analyzers,
		.exporters = NULL,
	};
	(void)host;
	return &info;
}
