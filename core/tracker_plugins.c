/* tracker_plugins.c - memscope_tracker_export and memscope_tracker_analyze:
 * a tracker's capture handed to the analyzer and exporter plugins, from
 * inside the program, the way `memscope report --format` and `memscope
 * analyze` hand them a capture file.
 *
 * The capture is written to a temporary file (the plugin host reads files:
 * blocks are streamed from it again on every walk), opened as a capture
 * view, and the plugins are found on the usual search path.  Built into
 * libmemscope.so only: the preload library never runs plugins.  The whole
 * call runs with the reentrancy guard raised, so the tracker does not
 * record memscope's own work.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memscope/memscope.h"

#include "capture_view.h"
#include "guard.h"
#include "host.h"
#include "registry.h"
#include "results.h"
#include "results_text.h"

/* What `memscope analyze` prints per table by default. */
#define TEXT_ROWS 20
#define MAX_ANALYZERS 8

/* Analyzers whose results go with an export, as with `memscope report
 * --format` (those installed). */
static const char *const default_analyzers[] = {"leaks", "hotspots", "fragmentation"};

struct session {
	struct plugin_registry *registry;
	char capture_path[64];     /* "" until the temporary file exists */
	struct memscope_capture *capture;
	struct memscope_results *results[MAX_ANALYZERS];
	size_t result_count;
};

static int session_load_plugins(struct session *session)
{
	*session = (struct session){0};
	int error = plugin_registry_create(&session->registry);
	if (error == 0)
		error = plugin_registry_load_defaults(session->registry, NULL);
	return error;
}

/* Writes the tracker's capture to a temporary file and opens it. */
static int session_open_capture(struct session *session, memscope_tracker *tracker)
{
	const char *directory = getenv("TMPDIR");
	if (directory == NULL || directory[0] == '\0' ||
	    strlen(directory) + sizeof "/memscope-XXXXXX" > sizeof session->capture_path)
		directory = "/tmp";
	snprintf(session->capture_path, sizeof session->capture_path, "%s/memscope-XXXXXX",
	         directory);
	int fd = mkstemp(session->capture_path);
	if (fd < 0) {
		session->capture_path[0] = '\0';
		return -errno;
	}
	close(fd);
	int error = memscope_tracker_write_capture(tracker, session->capture_path);
	if (error == 0)
		error = capture_view_open(session->capture_path, &session->capture, NULL);
	return error;
}

static int session_run(struct session *session, const memscope_analyzer *analyzer)
{
	if (session->result_count == MAX_ANALYZERS)
		return -ENOMEM;
	struct memscope_results *results = NULL;
	int error = plugin_run_analyzer(analyzer, session->capture, &results);
	/* What an analyzer reported before failing is kept (plugin.h). */
	if (results != NULL)
		session->results[session->result_count++] = results;
	return error;
}

static void session_finish(struct session *session)
{
	for (size_t i = 0; i < session->result_count; i++)
		results_destroy(session->results[i]);
	capture_view_close(session->capture);
	if (session->capture_path[0] != '\0')
		unlink(session->capture_path);
	/* Last: the plugins' code and strings go with it. */
	plugin_registry_destroy(session->registry);
}

MEMSCOPE_EXPORT int memscope_tracker_export(memscope_tracker *tracker, const char *format,
                                            const char *path)
{
	if (tracker == NULL || format == NULL || path == NULL)
		return -EINVAL;
	guard_raise();
	struct session session;
	FILE *out = NULL;
	int error = session_load_plugins(&session);
	if (error < 0)
		goto out;
	const memscope_exporter *exporter = plugin_registry_exporter(session.registry, format);
	if (exporter == NULL) {
		error = -ENOENT;
		goto out;
	}
	error = session_open_capture(&session, tracker);
	if (error < 0)
		goto out;
	for (size_t i = 0; i < sizeof default_analyzers / sizeof default_analyzers[0]; i++) {
		const memscope_analyzer *analyzer =
		    plugin_registry_analyzer(session.registry, default_analyzers[i]);
		/* An analyzer that fails costs the export its results, not the
		 * export itself, as with `memscope report --format`. */
		if (analyzer != NULL)
			(void)session_run(&session, analyzer);
	}
	out = fopen(path, "we");
	if (out == NULL) {
		error = -errno;
		goto out;
	}
	error = plugin_run_exporter(exporter, session.capture,
	                            (const struct memscope_results *const *)session.results,
	                            session.result_count, out);
	if (fclose(out) != 0 && error == 0)
		error = -errno;
out:
	session_finish(&session);
	guard_lower();
	return error;
}

MEMSCOPE_EXPORT int memscope_tracker_analyze(memscope_tracker *tracker, const char *analyzer_name,
                                             FILE *out)
{
	if (tracker == NULL || analyzer_name == NULL || out == NULL)
		return -EINVAL;
	guard_raise();
	struct session session;
	int error = session_load_plugins(&session);
	if (error < 0)
		goto out;
	const memscope_analyzer *analyzer = plugin_registry_analyzer(session.registry, analyzer_name);
	if (analyzer == NULL) {
		error = -ENOENT;
		goto out;
	}
	error = session_open_capture(&session, tracker);
	if (error < 0)
		goto out;
	error = session_run(&session, analyzer);
	if (session.result_count == 1) {
		int printed = results_print_text(plugin_host(), session.capture, session.results[0],
		                                 TEXT_ROWS, out);
		if (error == 0)
			error = printed;
	}
out:
	session_finish(&session);
	guard_lower();
	return error;
}
