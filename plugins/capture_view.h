/* capture_view.h - the host side of memscope_capture: one capture file as
 * plugins see it through memscope_host.  Opening it builds the whole report
 * (replay and symbolizer); blocks and samples are streamed from the file
 * again on each walk, so memory stays with the live set and the stacks.
 * Stack ids a plugin sees are the report's stack groups: stacks that
 * symbolize alike share one id.  Errors are negative errno values.
 */
#ifndef MEMSCOPE_PLUGINS_CAPTURE_VIEW_H
#define MEMSCOPE_PLUGINS_CAPTURE_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include <memscope/plugin.h>

struct report;

/* Opens the capture at path.  Returns 0, -ENOMEM, or report_build()'s
 * errors (-errno of open, -EPROTO not a capture, -EPROTONOSUPPORT unknown
 * major); then *message, if not NULL, explains (a static string). */
int capture_view_open(const char *path, struct memscope_capture **out, const char **message);

/* NULL is a no-op. */
void capture_view_close(struct memscope_capture *view);

/* Sets an option plugins read with memscope_host.option (from --option
 * key=value); key and value are copied, a key set again is replaced.
 * Returns 0, -EINVAL (NULL key or value) or -ENOMEM. */
int capture_view_set_option(struct memscope_capture *view, const char *key, const char *value);

/* The report the view was built from, for the host's own use. */
const struct report *capture_view_report(const struct memscope_capture *view);

/* ---- the host table's slots -------------------------------------------- */

const memscope_summary *capture_view_summary(memscope_capture *view);
int capture_view_for_each_block(memscope_capture *view, memscope_block_visitor visit,
                                void *context);
int capture_view_for_each_event(memscope_capture *view, memscope_event_visitor visit,
                                void *context);
int capture_view_for_each_sample(memscope_capture *view, memscope_sample_visitor visit,
                                 void *context);
int capture_view_stack_frames(memscope_capture *view, uint32_t stack,
                              const memscope_frame **frames, size_t *count);
const char *capture_view_thread_name(memscope_capture *view, uint32_t thread);
const char *capture_view_kind_name(uint32_t kind);
const char *capture_view_option(memscope_capture *view, const char *key);
int capture_view_for_each_task(memscope_capture *view, memscope_task_visitor visit,
                               void *context);
const memscope_task *capture_view_task(memscope_capture *view, uint64_t id);

#endif
