/* no_entry.c - a shared object that loads but exports no
 * memscope_plugin_entry_v1: an ordinary library in the plugin directory.
 */
#include <memscope/plugin.h>

MEMSCOPE_PLUGIN_EXPORT int not_a_plugin(void);

MEMSCOPE_PLUGIN_EXPORT int not_a_plugin(void)
{
	return 42;
}
