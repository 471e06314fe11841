/* capture_writer.c - the writer half of capture.h: encodes records into
 * blocks and appends them to a file descriptor (docs/capture-format.md).
 *
 * It runs inside traced programs, so it keeps to what is safe there: no
 * stdio, no global state, one malloc'd buffer that holds the block being
 * built, errno preserved across its system calls.  One owner at a time.
 * The first write error stops all writing; every later call returns it, so
 * a full disk costs the program nothing but the rest of its capture.
 */
#include "capture.h"

#include <errno.h>
#include <sys/stat.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* For ZSTD_initStaticCCtx and the size it needs (see new_compressor):
 * zstd's advanced API, which the shared library exports. */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "varint.h"

_Static_assert(CAPTURE_KIND_COUNT <= (1 << CAPTURE_KIND_BITS),
               "every kind must fit in the bits events give it");
_Static_assert(sizeof(CAPTURE_MAGIC) - 1 == 8, "the magic is 8 bytes");

/* Records go into one block until its payload would pass this; small enough
 * that a killed program loses little, large enough that framing and write
 * calls cost nothing per event. */
#define BLOCK_TARGET_PAYLOAD (64u * 1024)

/* The most an ALLOC, FREE, EXPAND or STACK_NODE record can take: a tag byte
 * and at most eight varints. */
#define MAX_EVENT_BYTES (1 + 8 * VARINT_MAX_BYTES)

/* Event records are repetitive (the same sizes, deltas and stacks over and
 * over): zstd's fastest level shrinks them about tenfold for little CPU on
 * the writer thread.  Blocks smaller than this are not worth a frame. */
#define COMPRESS_LEVEL 1
#define COMPRESS_MIN_PAYLOAD 512

/* When the program's own thread compresses (capture_writer_compress_fast):
 * a quarter of level 1's instructions, for captures about a fifth larger
 * (a sampled malloc/free loop: 1.8 against 7.7 million instructions, 152
 * against 125 KB). */
#define COMPRESS_LEVEL_FAST (-3)

struct capture_writer {
	int fd;
	/* capture_writer_watch: the file fd was, and how to find it again. */
	int (*reopen)(void *context);
	void *reopen_context;
	dev_t device;
	ino_t inode;
	ZSTD_CCtx *compressor;     /* NULL: blocks are written as they are */
	void *compressor_memory;   /* the compressor's workspace, mapped */
	size_t compressor_size;
	uint8_t *packed;           /* a compressed block being framed */
	size_t packed_capacity;
	int error;                 /* first write error (negative errno), or 0 */
	uint64_t bytes_written;
	/* The block being built: CAPTURE_BLOCK_HEADER_SIZE bytes left for the
	 * header, then the payload; room for the CRC always follows. */
	uint8_t *buffer;
	size_t capacity;
	size_t used;
	/* Delta bases, reset at every block so each block decodes alone. */
	uint64_t last_time;
	uint64_t last_address;
	uint64_t last_ip;
	uint32_t last_stack;
	uint32_t last_node;
};

static void reset_block(struct capture_writer *writer)
{
	writer->used = CAPTURE_BLOCK_HEADER_SIZE;
	writer->last_time = 0;
	writer->last_address = 0;
	writer->last_ip = 0;
	writer->last_stack = 0;
	writer->last_node = 0;
}

/* Whether fd still leads to the file the writer was given. */
static bool still_the_file(const struct capture_writer *writer)
{
	struct stat st;
	return fstat(writer->fd, &st) == 0 && st.st_dev == writer->device &&
	       st.st_ino == writer->inode;
}

/* Writes everything or records why not.  The program being traced may be
 * looking at errno around its own malloc calls, so it is put back. */
static int write_all(struct capture_writer *writer, const uint8_t *data, size_t size)
{
	int saved_errno = errno;
	if (writer->error == 0 && writer->reopen != NULL && !still_the_file(writer)) {
		/* The traced program closed the number, or put a file of its own
		 * there: never written to; the capture's file is opened again. */
		int fd = writer->reopen(writer->reopen_context);
		if (fd < 0) {
			writer->error = fd;
			errno = saved_errno;
			return writer->error;
		}
		writer->fd = fd;
		if (!still_the_file(writer)) {
			writer->error = -ESTALE;
			errno = saved_errno;
			return writer->error;
		}
	}

	while (size > 0) {
		ssize_t written = write(writer->fd, data, size);
		if (written < 0) {
			if (errno == EINTR)
				continue;
			writer->error = -errno;
			break;
		}
		if (written == 0) {
			/* No progress and no reason: looping would spin forever. */
			writer->error = -EIO;
			break;
		}
		data += written;
		size -= (size_t)written;
		writer->bytes_written += (uint64_t)written;
	}
	errno = saved_errno;
	return writer->error;
}

/* Frames the buffer as a block of the given type and writes it. */
static int write_block(struct capture_writer *writer, uint8_t type)
{
	size_t payload = writer->used - CAPTURE_BLOCK_HEADER_SIZE;

	writer->buffer[0] = type;
	le32_put(writer->buffer + 1, (uint32_t)payload);
	le32_put(writer->buffer + writer->used, capture_crc32(0, writer->buffer, writer->used));
	int err = write_all(writer, writer->buffer, writer->used + CAPTURE_BLOCK_CRC_SIZE);
	reset_block(writer);
	return err;
}

/* Writes the records in the buffer as a compressed block; returns 1 if
 * compressing did not pay (the caller writes them as they are). */
static int write_compressed_block(struct capture_writer *writer)
{
	size_t payload = writer->used - CAPTURE_BLOCK_HEADER_SIZE;
	size_t bound = CAPTURE_BLOCK_HEADER_SIZE + VARINT_MAX_BYTES + ZSTD_compressBound(payload) +
	               CAPTURE_BLOCK_CRC_SIZE;
	if (bound > writer->packed_capacity) {
		uint8_t *packed = realloc(writer->packed, bound);
		if (!packed)
			return 1;
		writer->packed = packed;
		writer->packed_capacity = bound;
	}
	/* Payload: the records' size, then one zstd frame of them. */
	uint8_t *start = writer->packed + CAPTURE_BLOCK_HEADER_SIZE;
	uint8_t *frame = start + varint_encode(start, payload);
	size_t packed = ZSTD_compress2(writer->compressor, frame,
	                               writer->packed_capacity - (size_t)(frame - writer->packed) -
	                                   CAPTURE_BLOCK_CRC_SIZE,
	                               writer->buffer + CAPTURE_BLOCK_HEADER_SIZE, payload);
	if (ZSTD_isError(packed))
		return 1;
	size_t packed_payload = (size_t)(frame - start) + packed;
	if (packed_payload >= payload)
		return 1;
	writer->packed[0] = CAPTURE_BLOCK_RECORDS_ZSTD;
	le32_put(writer->packed + 1, (uint32_t)packed_payload);
	size_t framed = CAPTURE_BLOCK_HEADER_SIZE + packed_payload;
	le32_put(writer->packed + framed, capture_crc32(0, writer->packed, framed));
	int err = write_all(writer, writer->packed, framed + CAPTURE_BLOCK_CRC_SIZE);
	reset_block(writer);
	return err;
}

static int flush_records(struct capture_writer *writer)
{
	if (writer->error)
		return writer->error;
	if (writer->used == CAPTURE_BLOCK_HEADER_SIZE)
		return 0;
	if (writer->compressor &&
	    writer->used - CAPTURE_BLOCK_HEADER_SIZE >= COMPRESS_MIN_PAYLOAD) {
		int err = write_compressed_block(writer);
		if (err <= 0)
			return err;
	}
	return write_block(writer, CAPTURE_BLOCK_RECORDS);
}

/* Makes room for a record of up to size bytes: starts a new block if this
 * one would pass its target, and grows the buffer for a record that alone
 * is larger than a block. */
static int reserve(struct capture_writer *writer, size_t size)
{
	size_t payload = writer->used - CAPTURE_BLOCK_HEADER_SIZE;

	if (payload > 0 && payload + size > BLOCK_TARGET_PAYLOAD) {
		int err = flush_records(writer);
		if (err < 0)
			return err;
	}
	size_t needed = writer->used + size + CAPTURE_BLOCK_CRC_SIZE;
	if (needed > writer->capacity) {
		uint8_t *buffer = realloc(writer->buffer, needed);
		if (!buffer)
			return -ENOMEM;
		writer->buffer = buffer;
		writer->capacity = needed;
	}
	return 0;
}

/* The compressor works in a fixed workspace, sized for a block at the
 * larger of its two levels and mapped with its pages populated: left to
 * zstd, the 300 KB came from malloc a page fault at a time, 74 faults of
 * 11 us each on this VM in every traced process that filled a block (0.5
 * us a page in bulk).  A block is at most BLOCK_TARGET_PAYLOAD bytes but
 * for one record larger on its own: that one fails to compress, and goes
 * out as it is.  NULL when memory is short. */
static ZSTD_CCtx *new_compressor(struct capture_writer *writer)
{
	size_t size = ZSTD_estimateCCtxSize_usingCParams(
		ZSTD_getCParams(COMPRESS_LEVEL, BLOCK_TARGET_PAYLOAD, 0));
	size_t fast = ZSTD_estimateCCtxSize_usingCParams(
		ZSTD_getCParams(COMPRESS_LEVEL_FAST, BLOCK_TARGET_PAYLOAD, 0));
	if (fast > size)
		size = fast;
	void *memory = mmap(NULL, size, PROT_READ | PROT_WRITE,
	                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (memory == MAP_FAILED)
		return NULL;
	ZSTD_CCtx *compressor = ZSTD_initStaticCCtx(memory, size);
	if (compressor == NULL ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(compressor, ZSTD_c_compressionLevel,
	                                        COMPRESS_LEVEL)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(compressor, ZSTD_c_checksumFlag, 1))) {
		munmap(memory, size);
		return NULL;
	}
	writer->compressor_memory = memory;
	writer->compressor_size = size;
	return compressor;
}

/* A static compressor is not freed, only unmapped. */
static void free_compressor(struct capture_writer *writer)
{
	if (writer->compressor_memory != NULL)
		munmap(writer->compressor_memory, writer->compressor_size);
	writer->compressor = NULL;
	writer->compressor_memory = NULL;
}

static int writer_new(int fd, bool write_header, struct capture_writer **out)
{
	struct capture_writer *writer = calloc(1, sizeof(*writer));

	if (!writer)
		return -ENOMEM;
	writer->fd = fd;
	writer->capacity = CAPTURE_BLOCK_HEADER_SIZE + BLOCK_TARGET_PAYLOAD + MAX_EVENT_BYTES +
	                   CAPTURE_BLOCK_CRC_SIZE;
	writer->buffer = malloc(writer->capacity);
	if (!writer->buffer) {
		free(writer);
		return -ENOMEM;
	}
	reset_block(writer);
	/* Without a compressor (out of memory) blocks go out as they are.  The
	 * frame carries zstd's own checksum of the records, so a reader knows
	 * its decompression gave back exactly what was written. */
	writer->compressor = new_compressor(writer);
	if (!write_header) {
		*out = writer;
		return 0;
	}

	uint8_t header[CAPTURE_HEADER_SIZE];
	memcpy(header, CAPTURE_MAGIC, 8);
	le16_put(header + 8, CAPTURE_FORMAT_MAJOR);
	le16_put(header + 10, CAPTURE_FORMAT_MINOR);
	le32_put(header + 12, 0); /* flags: none defined */
	int err = write_all(writer, header, sizeof(header));
	if (err < 0) {
		free_compressor(writer);
		free(writer->buffer);
		free(writer);
		return err;
	}
	*out = writer;
	return 0;
}

int capture_writer_create(int fd, struct capture_writer **out)
{
	return writer_new(fd, true, out);
}

int capture_writer_create_continuing(int fd, struct capture_writer **out)
{
	return writer_new(fd, false, out);
}

/* ---- the events: fixed layout, delta-encoded, no length prefix ---- */

static int add_stack_node(struct capture_writer *writer, const struct capture_stack_node *node)
{
	if (node->id == 0 || node->parent >= node->id)
		return -EINVAL;
	int err = reserve(writer, MAX_EVENT_BYTES);
	if (err < 0)
		return err;
	uint8_t *p = writer->buffer + writer->used;
	*p++ = CAPTURE_RECORD_STACK_NODE;
	p += varint_encode(p, zigzag_delta_encode(node->id, writer->last_node));
	p += varint_encode(p, (uint64_t)node->id - node->parent);
	p += varint_encode(p, zigzag_delta_encode(node->ip, writer->last_ip));
	writer->used = (size_t)(p - writer->buffer);
	writer->last_node = node->id;
	writer->last_ip = node->ip;
	return 0;
}

static int add_alloc(struct capture_writer *writer, const struct capture_alloc *alloc)
{
	if (alloc->kind >= CAPTURE_KIND_COUNT)
		return -EINVAL;
	int err = reserve(writer, MAX_EVENT_BYTES);
	if (err < 0)
		return err;
	uint8_t *p = writer->buffer + writer->used;
	*p++ = CAPTURE_RECORD_ALLOC;
	p += varint_encode(p, zigzag_delta_encode(alloc->time_ns, writer->last_time));
	p += varint_encode(p, (uint64_t)alloc->thread << CAPTURE_KIND_BITS | alloc->kind);
	p += varint_encode(p, zigzag_delta_encode(alloc->address, writer->last_address));
	p += varint_encode(p, alloc->size);
	p += varint_encode(p, zigzag_delta_encode(alloc->usable, alloc->size));
	p += varint_encode(p, zigzag_delta_encode(alloc->stack, writer->last_stack));
	writer->used = (size_t)(p - writer->buffer);
	writer->last_time = alloc->time_ns;
	writer->last_address = alloc->address;
	writer->last_stack = alloc->stack;
	return 0;
}

static int add_free(struct capture_writer *writer, const struct capture_free *free_event)
{
	if (free_event->kind >= CAPTURE_KIND_COUNT)
		return -EINVAL;
	int err = reserve(writer, MAX_EVENT_BYTES);
	if (err < 0)
		return err;
	uint8_t *p = writer->buffer + writer->used;
	*p++ = CAPTURE_RECORD_FREE;
	p += varint_encode(p, zigzag_delta_encode(free_event->time_ns, writer->last_time));
	p += varint_encode(p, (uint64_t)free_event->thread << CAPTURE_KIND_BITS | free_event->kind);
	p += varint_encode(p, zigzag_delta_encode(free_event->address, writer->last_address));
	writer->used = (size_t)(p - writer->buffer);
	writer->last_time = free_event->time_ns;
	writer->last_address = free_event->address;
	return 0;
}

static int add_expand(struct capture_writer *writer, const struct capture_expand *expand)
{
	if (expand->kind >= CAPTURE_KIND_COUNT)
		return -EINVAL;
	int err = reserve(writer, MAX_EVENT_BYTES);
	if (err < 0)
		return err;
	uint8_t *p = writer->buffer + writer->used;
	*p++ = CAPTURE_RECORD_EXPAND;
	p += varint_encode(p, zigzag_delta_encode(expand->time_ns, writer->last_time));
	p += varint_encode(p, (uint64_t)expand->thread << CAPTURE_KIND_BITS | expand->kind);
	p += varint_encode(p, zigzag_delta_encode(expand->address, writer->last_address));
	p += varint_encode(p, expand->size);
	p += varint_encode(p, zigzag_delta_encode(expand->usable, expand->size));
	p += varint_encode(p, zigzag_delta_encode(expand->old_usable, expand->usable));
	p += varint_encode(p, zigzag_delta_encode(expand->stack, writer->last_stack));
	writer->used = (size_t)(p - writer->buffer);
	writer->last_time = expand->time_ns;
	writer->last_address = expand->address;
	writer->last_stack = expand->stack;
	return 0;
}

/* ---- the rest: tag, body length, body of absolute values ---- */

/* A string field's bytes, or -EINVAL if it is too long to write. */
static int string_length(const char *string, size_t *length)
{
	*length = string ? strlen(string) : 0;
	return *length > CAPTURE_MAX_STRING ? -EINVAL : 0;
}

static uint8_t *put_string(uint8_t *p, const char *string, size_t length)
{
	p += varint_encode(p, length);
	if (length > 0)
		memcpy(p, string, length);
	return p + length;
}

/* The body of a length-prefixed record is encoded after room for the
 * largest length prefix, then moved down behind the real one: one pass over
 * the fields, and the code that sizes a body is the code that writes it. */
static uint8_t *begin_framed(struct capture_writer *writer, enum capture_record_type type)
{
	writer->buffer[writer->used] = (uint8_t)type;
	return writer->buffer + writer->used + 1 + VARINT_MAX_BYTES;
}

static void end_framed(struct capture_writer *writer, const uint8_t *body_end)
{
	uint8_t *tag = writer->buffer + writer->used;
	uint8_t *body = tag + 1 + VARINT_MAX_BYTES;
	size_t body_length = (size_t)(body_end - body);
	size_t prefix = varint_encode(tag + 1, body_length);

	memmove(tag + 1 + prefix, body, body_length);
	writer->used += 1 + prefix + body_length;
}

/* Room for the tag, the length prefix and body_bound bytes of body. */
static int reserve_framed(struct capture_writer *writer, size_t body_bound)
{
	return reserve(writer, 1 + VARINT_MAX_BYTES + body_bound);
}

static int add_info(struct capture_writer *writer, const struct capture_info *info)
{
	size_t key_length, value_length;

	if (string_length(info->key, &key_length) < 0 ||
	    string_length(info->value, &value_length) < 0)
		return -EINVAL;
	int err = reserve_framed(writer, 2 * VARINT_MAX_BYTES + key_length + value_length);
	if (err < 0)
		return err;
	uint8_t *p = begin_framed(writer, CAPTURE_RECORD_INFO);
	p = put_string(p, info->key, key_length);
	p = put_string(p, info->value, value_length);
	end_framed(writer, p);
	return 0;
}

static int add_module(struct capture_writer *writer, const struct capture_module *module)
{
	const char *path = module->path;
	size_t path_length;
	char executable[4096];

	if (module->build_id_size > CAPTURE_MAX_BUILD_ID ||
	    module->segment_count > CAPTURE_MAX_SEGMENTS)
		return -EINVAL;
	if (!path || !path[0]) {
		/* The loader names the main program "": a capture must say
		 * which file it was, to be symbolized later elsewhere. */
		int saved_errno = errno;
		ssize_t length = readlink("/proc/self/exe", executable, sizeof(executable));
		errno = saved_errno;
		if (length > 0 && (size_t)length < sizeof(executable)) {
			executable[length] = '\0';
			path = executable;
		}
	}
	if (string_length(path, &path_length) < 0)
		return -EINVAL;

	size_t bound = 7 * VARINT_MAX_BYTES + path_length + module->build_id_size +
	               2 * VARINT_MAX_BYTES * module->segment_count;
	int err = reserve_framed(writer, bound);
	if (err < 0)
		return err;
	uint8_t *p = begin_framed(writer, CAPTURE_RECORD_MODULE);
	p += varint_encode(p, module->id);
	p += varint_encode(p, module->unloaded ? 1 : 0);
	p += varint_encode(p, module->time_ns);
	p = put_string(p, path, path_length);
	p += varint_encode(p, module->base);
	p += varint_encode(p, module->build_id_size);
	memcpy(p, module->build_id, module->build_id_size);
	p += module->build_id_size;
	p += varint_encode(p, module->segment_count);
	for (uint32_t i = 0; i < module->segment_count; i++) {
		p += varint_encode(p, module->segments[i].start);
		p += varint_encode(p, module->segments[i].end - module->segments[i].start);
	}
	end_framed(writer, p);
	return 0;
}

static int add_thread(struct capture_writer *writer, const struct capture_thread *thread)
{
	size_t name_length;

	if (string_length(thread->name, &name_length) < 0)
		return -EINVAL;
	int err = reserve_framed(writer, 3 * VARINT_MAX_BYTES + name_length);
	if (err < 0)
		return err;
	uint8_t *p = begin_framed(writer, CAPTURE_RECORD_THREAD);
	p += varint_encode(p, thread->index);
	p += varint_encode(p, thread->tid);
	p = put_string(p, thread->name, name_length);
	end_framed(writer, p);
	return 0;
}

static int add_tag(struct capture_writer *writer, const struct capture_tag *tag)
{
	size_t name_length, type_length, file_length;

	if (string_length(tag->name, &name_length) < 0 ||
	    string_length(tag->type_name, &type_length) < 0 ||
	    string_length(tag->file, &file_length) < 0)
		return -EINVAL;
	int err = reserve_framed(writer, 7 * VARINT_MAX_BYTES + name_length + type_length +
	                                         file_length);
	if (err < 0)
		return err;
	uint8_t *p = begin_framed(writer, CAPTURE_RECORD_TAG);
	p += varint_encode(p, tag->time_ns);
	p += varint_encode(p, tag->thread);
	p += varint_encode(p, tag->address);
	p = put_string(p, tag->name, name_length);
	p = put_string(p, tag->type_name, type_length);
	p = put_string(p, tag->file, file_length);
	p += varint_encode(p, tag->line);
	end_framed(writer, p);
	return 0;
}

static int add_sample(struct capture_writer *writer, const struct capture_sample *sample)
{
	int err = reserve_framed(writer, 14 * VARINT_MAX_BYTES);
	if (err < 0)
		return err;
	uint8_t *p = begin_framed(writer, CAPTURE_RECORD_SAMPLE);
	p += varint_encode(p, sample->time_ns);
	p += varint_encode(p, sample->heap_live_bytes);
	p += varint_encode(p, sample->heap_live_blocks);
	p += varint_encode(p, sample->rss_bytes);
	p += varint_encode(p, sample->jemalloc_allocated);
	p += varint_encode(p, sample->jemalloc_active);
	p += varint_encode(p, sample->jemalloc_resident);
	p += varint_encode(p, sample->jemalloc_mapped);
	p += varint_encode(p, sample->jemalloc_retained);
	p += varint_encode(p, sample->cpu_user_ns);
	p += varint_encode(p, sample->cpu_system_ns);
	p += varint_encode(p, sample->threads);
	p += varint_encode(p, sample->io_read_bytes);
	p += varint_encode(p, sample->io_write_bytes);
	end_framed(writer, p);
	return 0;
}

static int add_trailer(struct capture_writer *writer, const struct capture_trailer *trailer)
{
	int err = reserve_framed(writer, 11 * VARINT_MAX_BYTES);
	if (err < 0)
		return err;
	uint8_t *p = begin_framed(writer, CAPTURE_RECORD_TRAILER);
	p += varint_encode(p, trailer->time_ns);
	p += varint_encode(p, trailer->allocations);
	p += varint_encode(p, trailer->frees);
	p += varint_encode(p, trailer->allocated_bytes);
	p += varint_encode(p, trailer->peak_bytes);
	p += varint_encode(p, trailer->peak_time_ns);
	p += varint_encode(p, trailer->live_blocks);
	p += varint_encode(p, trailer->live_bytes);
	p += varint_encode(p, trailer->events);
	p += varint_encode(p, trailer->lost_events);
	p += varint_encode(p, trailer->sample_interval);
	end_framed(writer, p);
	return 0;
}

static int add_sampling(struct capture_writer *writer, const struct capture_sampling *sampling)
{
	int err = reserve_framed(writer, 5 * VARINT_MAX_BYTES);
	if (err < 0)
		return err;
	uint8_t *p = begin_framed(writer, CAPTURE_RECORD_SAMPLING);
	p += varint_encode(p, sampling->time_ns);
	p += varint_encode(p, sampling->interval);
	p += varint_encode(p, sampling->seed);
	p += varint_encode(p, sampling->exact_above);
	p += varint_encode(p, sampling->counting);
	end_framed(writer, p);
	return 0;
}

static int add_tracking(struct capture_writer *writer, const struct capture_tracking *tracking)
{
	int err = reserve_framed(writer, 7 * VARINT_MAX_BYTES);
	if (err < 0)
		return err;
	uint8_t *p = begin_framed(writer, CAPTURE_RECORD_TRACKING);
	p += varint_encode(p, tracking->time_ns);
	p += varint_encode(p, tracking->attempts);
	p += varint_encode(p, tracking->successes);
	p += varint_encode(p, tracking->misses);
	p += varint_encode(p, tracking->waits);
	p += varint_encode(p, tracking->growths);
	p += varint_encode(p, tracking->task_changes);
	end_framed(writer, p);
	return 0;
}

static int add_task(struct capture_writer *writer, const struct capture_task *task)
{
	size_t name_length;

	if (task->id == 0 || task->parent >= task->id || task->origin >= CAPTURE_TASK_ORIGIN_COUNT ||
	    string_length(task->name, &name_length) < 0)
		return -EINVAL;
	int err = reserve_framed(writer, 6 * VARINT_MAX_BYTES + name_length);
	if (err < 0)
		return err;
	uint8_t *p = begin_framed(writer, CAPTURE_RECORD_TASK);
	p += varint_encode(p, task->time_ns);
	p += varint_encode(p, task->id);
	p += varint_encode(p, task->parent);
	p += varint_encode(p, task->thread);
	p += varint_encode(p, task->origin);
	p += varint_encode(p, task->key);
	p = put_string(p, task->name, name_length);
	end_framed(writer, p);
	return 0;
}

static int add_task_end(struct capture_writer *writer, const struct capture_task_end *end)
{
	if (end->id == 0)
		return -EINVAL;
	int err = reserve_framed(writer, 3 * VARINT_MAX_BYTES);
	if (err < 0)
		return err;
	uint8_t *p = begin_framed(writer, CAPTURE_RECORD_TASK_END);
	p += varint_encode(p, end->time_ns);
	p += varint_encode(p, end->id);
	p += varint_encode(p, end->thread);
	end_framed(writer, p);
	return 0;
}

static int add_task_switch(struct capture_writer *writer, const struct capture_task_switch *to)
{
	int err = reserve_framed(writer, 3 * VARINT_MAX_BYTES);
	if (err < 0)
		return err;
	uint8_t *p = begin_framed(writer, CAPTURE_RECORD_TASK_SWITCH);
	p += varint_encode(p, to->time_ns);
	p += varint_encode(p, to->thread);
	p += varint_encode(p, to->task);
	end_framed(writer, p);
	return 0;
}

static int add_thread_sampling(struct capture_writer *writer,
                               const struct capture_thread_sampling *sampling)
{
	int err = reserve_framed(writer, 3 * VARINT_MAX_BYTES);
	if (err < 0)
		return err;
	uint8_t *p = begin_framed(writer, CAPTURE_RECORD_THREAD_SAMPLING);
	p += varint_encode(p, sampling->time_ns);
	p += varint_encode(p, sampling->thread);
	p += varint_encode(p, sampling->interval);
	end_framed(writer, p);
	return 0;
}

void capture_writer_watch(struct capture_writer *writer, int (*reopen)(void *context),
                          void *context)
{
	struct stat st;
	if (fstat(writer->fd, &st) != 0)
		return;
	writer->device = st.st_dev;
	writer->inode = st.st_ino;
	writer->reopen = reopen;
	writer->reopen_context = context;
}

void capture_writer_compress_fast(struct capture_writer *writer, bool fast)
{
	if (writer->compressor != NULL)
		ZSTD_CCtx_setParameter(writer->compressor, ZSTD_c_compressionLevel,
		                       fast ? COMPRESS_LEVEL_FAST : COMPRESS_LEVEL);
}

int capture_writer_add(struct capture_writer *writer, const struct capture_record *record)
{
	if (!writer || !record)
		return -EINVAL;
	if (writer->error)
		return writer->error;

	switch (record->type) {
	case CAPTURE_RECORD_ALLOC:
		return add_alloc(writer, &record->u.alloc);
	case CAPTURE_RECORD_FREE:
		return add_free(writer, &record->u.free);
	case CAPTURE_RECORD_EXPAND:
		return add_expand(writer, &record->u.expand);
	case CAPTURE_RECORD_STACK_NODE:
		return add_stack_node(writer, &record->u.stack_node);
	case CAPTURE_RECORD_INFO:
		return add_info(writer, &record->u.info);
	case CAPTURE_RECORD_MODULE:
		return add_module(writer, &record->u.module);
	case CAPTURE_RECORD_THREAD:
		return add_thread(writer, &record->u.thread);
	case CAPTURE_RECORD_TAG:
		return add_tag(writer, &record->u.tag);
	case CAPTURE_RECORD_SAMPLE:
		return add_sample(writer, &record->u.sample);
	case CAPTURE_RECORD_TRAILER:
		return add_trailer(writer, &record->u.trailer);
	case CAPTURE_RECORD_SAMPLING:
		return add_sampling(writer, &record->u.sampling);
	case CAPTURE_RECORD_TRACKING:
		return add_tracking(writer, &record->u.tracking);
	case CAPTURE_RECORD_TASK:
		return add_task(writer, &record->u.task);
	case CAPTURE_RECORD_TASK_END:
		return add_task_end(writer, &record->u.task_end);
	case CAPTURE_RECORD_TASK_SWITCH:
		return add_task_switch(writer, &record->u.task_switch);
	case CAPTURE_RECORD_THREAD_SAMPLING:
		return add_thread_sampling(writer, &record->u.thread_sampling);
	}
	return -EINVAL;
}

int capture_writer_flush(struct capture_writer *writer)
{
	if (!writer)
		return -EINVAL;
	return flush_records(writer);
}

uint64_t capture_writer_bytes(const struct capture_writer *writer)
{
	return writer ? writer->bytes_written : 0;
}

int capture_writer_destroy(struct capture_writer *writer)
{
	if (!writer)
		return 0;
	int err = flush_records(writer);
	if (err == 0)
		err = write_block(writer, CAPTURE_BLOCK_END); /* empty payload */
	free_compressor(writer);
	free(writer->packed);
	free(writer->buffer);
	free(writer);
	return err;
}
