/* broken.c - a plugin whose analyzer has no run function: its description
 * is refused as a whole.
 */
#include <memscope/plugin.h>

static const memscope_analyzer broken = {
	.version = MEMSCOPE_ANALYZER_VERSION,
	.name = "broken",
	.description = "Has nothing to run",
	.run = NULL,
};

static const memscope_analyzer *const analyzers[] = { &broken, NULL };

MEMSCOPE_PLUGIN_DESCRIBE("test-broken", "0.0", analyzers, NULL)
