/* counter_twin.c - a plugin whose first analyzer takes the name of
 * counter.c's: loaded after it, that one is refused and its other
 * analyzer, "twin_only", still registered.
 */
#include <memscope/plugin.h>

static int run(const memscope_host *host, memscope_capture *capture, memscope_results *results)
{
	return host->finding(results, MEMSCOPE_SEVERITY_INFO, "the twin ran");
}

static const memscope_analyzer twin = {
	.version = MEMSCOPE_ANALYZER_VERSION,
	.name = "test_counter",
	.description = "The same name as counter.c's analyzer",
	.run = run,
};

static const memscope_analyzer twin_only = {
	.version = MEMSCOPE_ANALYZER_VERSION,
	.name = "twin_only",
	.description = "A name nobody else uses",
	.run = run,
};

static const memscope_analyzer *const analyzers[] = { &twin, &twin_only, NULL };

MEMSCOPE_PLUGIN_DESCRIBE("test-counter-twin", "0.1", analyzers, NULL)
