/* capture_builder.c - see capture_builder.h. */
#include "capture_builder.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void builder_start(struct capture_builder *builder)
{
	snprintf(builder->path, sizeof(builder->path), "/tmp/memscope-test.XXXXXX");
	builder->fd = mkstemp(builder->path);
	ck_assert_int_ge(builder->fd, 0);
	ck_assert_int_eq(capture_writer_create(builder->fd, &builder->writer), 0);
}

void builder_add(struct capture_builder *builder, const struct capture_record *record)
{
	ck_assert_int_eq(capture_writer_add(builder->writer, record), 0);
}

void builder_flush(struct capture_builder *builder)
{
	ck_assert_int_eq(capture_writer_flush(builder->writer), 0);
}

void builder_thread(struct capture_builder *builder, uint32_t index, const char *name)
{
	struct capture_record record = {
		.type = CAPTURE_RECORD_THREAD,
		.u.thread = {.index = index, .tid = 1000 + index, .name = name},
	};
	builder_add(builder, &record);
}

void builder_stack(struct capture_builder *builder, uint32_t id, uint64_t ip)
{
	struct capture_record record = {
		.type = CAPTURE_RECORD_STACK_NODE,
		.u.stack_node = {.id = id, .parent = 0, .ip = ip},
	};
	builder_add(builder, &record);
}

void builder_sampling(struct capture_builder *builder, uint64_t time_ns, uint64_t interval)
{
	builder_sampling_threshold(builder, time_ns, interval, 0);
}

void builder_sampling_threshold(struct capture_builder *builder, uint64_t time_ns,
                                uint64_t interval, uint64_t exact_above)
{
	struct capture_record record = {
		.type = CAPTURE_RECORD_SAMPLING,
		.u.sampling = {.time_ns = time_ns, .interval = interval, .seed = 42,
		               .exact_above = exact_above},
	};
	builder_add(builder, &record);
}

void builder_alloc(struct capture_builder *builder, uint64_t time_ns, uint32_t thread,
                   uint64_t address, uint64_t size, uint32_t stack)
{
	struct capture_record record = {
		.type = CAPTURE_RECORD_ALLOC,
		.u.alloc = {.time_ns = time_ns, .thread = thread, .kind = CAPTURE_KIND_MALLOC,
		            .address = address, .size = size, .usable = size + 16, .stack = stack},
	};
	builder_add(builder, &record);
}

void builder_free(struct capture_builder *builder, uint64_t time_ns, uint32_t thread,
                  uint64_t address)
{
	struct capture_record record = {
		.type = CAPTURE_RECORD_FREE,
		.u.free = {.time_ns = time_ns, .thread = thread, .kind = CAPTURE_KIND_FREE,
		           .address = address},
	};
	builder_add(builder, &record);
}

void builder_expand(struct capture_builder *builder, uint64_t time_ns, uint32_t thread,
                    uint64_t address, uint64_t size, uint32_t stack)
{
	struct capture_record record = {
		.type = CAPTURE_RECORD_EXPAND,
		.u.expand = {.time_ns = time_ns, .thread = thread, .kind = CAPTURE_KIND_REALLOC,
		             .address = address, .size = size, .old_usable = size,
		             .usable = size + 16, .stack = stack},
	};
	builder_add(builder, &record);
}

void builder_tracking(struct capture_builder *builder, uint64_t time_ns, uint64_t attempts,
                      uint64_t successes, uint64_t waits, uint64_t growths)
{
	struct capture_record record = {
		.type = CAPTURE_RECORD_TRACKING,
		.u.tracking = {.time_ns = time_ns, .attempts = attempts, .successes = successes,
		               .misses = attempts - successes, .waits = waits, .growths = growths},
	};
	builder_add(builder, &record);
}

void builder_trailer(struct capture_builder *builder, const struct capture_trailer *trailer)
{
	struct capture_record record = {.type = CAPTURE_RECORD_TRAILER, .u.trailer = *trailer};
	builder_add(builder, &record);
}

void builder_finish(struct capture_builder *builder)
{
	ck_assert_int_eq(capture_writer_destroy(builder->writer), 0);
	builder->writer = NULL;
	close(builder->fd);
	builder->fd = -1;
}
