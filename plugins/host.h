/* host.h - the table of host functions every plugin receives, and running
 * a plugin's analyzer or exporter through it.  Plugin slots are called only
 * through helpers that check the descriptor's version and the slot's
 * presence (STYLE.md rule 3).  Errors are negative errno values.
 */
#ifndef MEMSCOPE_PLUGINS_HOST_H
#define MEMSCOPE_PLUGINS_HOST_H

#include <stddef.h>
#include <stdio.h>

#include <memscope/plugin.h>

/* The host table: version MEMSCOPE_HOST_VERSION, every slot filled. */
const memscope_host *plugin_host(void);

/* Runs analyzer on capture into new results named after it.  *out is set
 * whenever the results could be made, even when run fails: what the
 * analyzer reported before failing is kept (plugin.h); the caller destroys
 * them with results_destroy().  Returns 0, -EINVAL (a NULL argument),
 * -ENOTSUP (a descriptor without version or run), -ENOMEM, or what run
 * returned. */
int plugin_run_analyzer(const memscope_analyzer *analyzer, struct memscope_capture *capture,
                        struct memscope_results **out);

/* Writes capture and the analyzers' results (count of them) with exporter
 * to out.  Returns 0, -EINVAL (a NULL argument), -ENOTSUP (a descriptor
 * without version or write), or what write returned. */
int plugin_run_exporter(const memscope_exporter *exporter, struct memscope_capture *capture,
                        const struct memscope_results *const *results, size_t count, FILE *out);

#endif
