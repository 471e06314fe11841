/* capture_builder.h - captures written by hand for tests: records added one
 * call at a time through the capture writer, into a temporary file the
 * test removes.  Failures are Check assertions, so the callers stay short.
 */
#ifndef MEMSCOPE_TESTS_CAPTURE_BUILDER_H
#define MEMSCOPE_TESTS_CAPTURE_BUILDER_H

#include <stdint.h>

#include "capture.h"

#define BUILDER_MS UINT64_C(1000000)

struct capture_builder {
	char path[64];
	int fd;
	struct capture_writer *writer;
};

/* Starts a capture in a new temporary file. */
void builder_start(struct capture_builder *builder);

void builder_add(struct capture_builder *builder, const struct capture_record *record);

/* Ends the records block being filled: the next record starts another. */
void builder_flush(struct capture_builder *builder);

void builder_thread(struct capture_builder *builder, uint32_t index, const char *name);
/* A stack of one frame, ip, called from the empty stack. */
void builder_stack(struct capture_builder *builder, uint32_t id, uint64_t ip);
void builder_sampling(struct capture_builder *builder, uint64_t time_ns, uint64_t interval);
/* The hybrid backend's SAMPLING record (format minor 3): blocks of at
 * least exact_above bytes are all recorded and weigh 1. */
void builder_sampling_threshold(struct capture_builder *builder, uint64_t time_ns,
                                uint64_t interval, uint64_t exact_above);
void builder_alloc(struct capture_builder *builder, uint64_t time_ns, uint32_t thread,
                   uint64_t address, uint64_t size, uint32_t stack);
void builder_free(struct capture_builder *builder, uint64_t time_ns, uint32_t thread,
                  uint64_t address);
void builder_expand(struct capture_builder *builder, uint64_t time_ns, uint32_t thread,
                    uint64_t address, uint64_t size, uint32_t stack);
void builder_tracking(struct capture_builder *builder, uint64_t time_ns, uint64_t attempts,
                      uint64_t successes, uint64_t waits, uint64_t growths);
void builder_trailer(struct capture_builder *builder, const struct capture_trailer *trailer);

/* Writes the end block (a capture that ended cleanly) and closes the file;
 * builder->path stays for the test to read and unlink. */
void builder_finish(struct capture_builder *builder);

#endif
