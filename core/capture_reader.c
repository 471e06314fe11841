/* capture_reader.c - the reader half of capture.h: streams the records of a
 * capture back in the order they were written (docs/capture-format.md).
 *
 * One block at a time is read (pread, so a file still being written or
 * truncated under us cannot fault) into a buffer and checked against its
 * CRC before any record in it is decoded; memory is the largest block, not
 * the file.  The input is untrusted: every length is checked against what
 * is left, every number against its field's range, every enum against its
 * known values.  The first problem ends the stream with -EBADMSG and a
 * warning naming the byte; everything before it has been returned.
 */
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "varint.h"

enum stream_state {
	STREAM_READING,
	STREAM_ENDED,              /* the end block was read */
	STREAM_FAILED,             /* see error and warning */
};

struct capture_reader {
	int fd;
	uint32_t major;
	uint32_t minor;
	uint64_t file_size;        /* as last seen; refreshed when a block passes it */
	uint64_t next_block;       /* file offset of the block after the current one */

	/* The current records block: payload and CRC, as read. */
	uint8_t *block;
	size_t block_capacity;
	uint64_t block_offset;     /* file offset of its type byte */
	const uint8_t *cursor;     /* next record; == end when the block is used up
	                              (decoding never moves it past end) */
	const uint8_t *end;        /* end of the payload */

	/* A compressed block's records, unpacked. */
	ZSTD_DCtx *decompressor;
	uint8_t *unpacked;
	size_t unpacked_capacity;

	/* NUL-terminated copies of the current record's strings. */
	char *strings;
	size_t strings_capacity;
	size_t strings_used;

	/* Delta bases, reset at every block. */
	uint64_t last_time;
	uint64_t last_address;
	uint64_t last_ip;
	uint64_t last_stack;
	uint64_t last_node;

	enum stream_state state;
	int error;                 /* returned again by every next() once failed */
	char warning[400];
};

static const char *const kind_names[CAPTURE_KIND_COUNT] = {
	[CAPTURE_KIND_MALLOC] = "malloc",
	[CAPTURE_KIND_CALLOC] = "calloc",
	[CAPTURE_KIND_REALLOC] = "realloc",
	[CAPTURE_KIND_POSIX_MEMALIGN] = "posix_memalign",
	[CAPTURE_KIND_ALIGNED_ALLOC] = "aligned_alloc",
	[CAPTURE_KIND_MEMALIGN] = "memalign",
	[CAPTURE_KIND_VALLOC] = "valloc",
	[CAPTURE_KIND_MALLOCX] = "mallocx",
	[CAPTURE_KIND_RALLOCX] = "rallocx",
	[CAPTURE_KIND_FREE] = "free",
	[CAPTURE_KIND_DALLOCX] = "dallocx",
	[CAPTURE_KIND_SDALLOCX] = "sdallocx",
	[CAPTURE_KIND_XALLOCX] = "xallocx",
};

const char *capture_alloc_kind_name(uint32_t kind)
{
	if (kind >= CAPTURE_KIND_COUNT || !kind_names[kind])
		return "?";
	return kind_names[kind];
}

/* Reads up to size bytes at offset; fewer only at the end of the file.
 * Returns the bytes read or -errno. */
static ssize_t read_at(int fd, void *buffer, size_t size, uint64_t offset)
{
	size_t done = 0;

	while (done < size) {
		ssize_t got = pread(fd, (uint8_t *)buffer + done, size - done, (off_t)(offset + done));
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (got == 0)
			break;
		done += (size_t)got;
	}
	return (ssize_t)done;
}

static void refresh_file_size(struct capture_reader *reader)
{
	struct stat st;

	if (fstat(reader->fd, &st) == 0 && st.st_size >= 0)
		reader->file_size = (uint64_t)st.st_size;
}

/* Ends the stream: every later next() returns error, and the warning (a
 * printf format and its values) says what happened where. */
__attribute__((format(printf, 3, 4)))
static int fail(struct capture_reader *reader, int error, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	vsnprintf(reader->warning, sizeof(reader->warning), format, args);
	va_end(args);
	reader->state = STREAM_FAILED;
	reader->error = error;
	reader->cursor = reader->end = NULL;
	return error;
}

int capture_reader_open(const char *path, struct capture_reader **out, const char **message)
{
	const char *ignored;
	uint8_t header[CAPTURE_HEADER_SIZE];

	if (!message)
		message = &ignored;
	*message = NULL;
	if (!path || !out) {
		*message = "no capture file was named";
		return -EINVAL;
	}

	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;
		*message = "cannot open the capture file";
		return err;
	}
	ssize_t got = read_at(fd, header, sizeof(header), 0);
	if (got < 0) {
		*message = "cannot read the capture file";
		close(fd);
		return (int)got;
	}
	size_t compared = (size_t)got < 8 ? (size_t)got : 8;
	if (memcmp(header, CAPTURE_MAGIC, compared) != 0 || got == 0) {
		*message = got == 0 ? "the file is empty, not a memscope capture"
		                    : "not a memscope capture (it does not start with \"MEMSCOPE\")";
		close(fd);
		return -EPROTO;
	}
	if ((size_t)got < sizeof(header)) {
		*message = "the capture is cut short inside its 16-byte header: "
		           "the program may have been killed as it started; there is nothing to report";
		close(fd);
		return -EPROTO;
	}
	uint32_t major = le16_get(header + 8);
	if (major != CAPTURE_FORMAT_MAJOR) {
		*message = major > CAPTURE_FORMAT_MAJOR
		                   ? "the capture was written in a newer, incompatible format "
		                     "(a major version this memscope does not know): "
		                     "read it with a newer memscope"
		                   : "the capture was written in an older, incompatible format "
		                     "(a major version this memscope no longer reads): "
		                     "read it with the memscope that wrote it";
		close(fd);
		return -EPROTONOSUPPORT;
	}

	struct capture_reader *reader = calloc(1, sizeof(*reader));
	if (!reader) {
		*message = "out of memory";
		close(fd);
		return -ENOMEM;
	}
	reader->fd = fd;
	reader->major = major;
	reader->minor = le16_get(header + 10);
	/* Header bytes 12-15 are flags; none are defined yet, and a newer
	 * minor may only set ones an older reader can ignore. */
	refresh_file_size(reader);
	capture_reader_rewind(reader);
	*out = reader;
	return 0;
}

void capture_reader_destroy(struct capture_reader *reader)
{
	if (!reader)
		return;
	close(reader->fd);
	ZSTD_freeDCtx(reader->decompressor);
	free(reader->unpacked);
	free(reader->block);
	free(reader->strings);
	free(reader);
}

int capture_reader_rewind(struct capture_reader *reader)
{
	if (!reader)
		return -EINVAL;
	reader->next_block = CAPTURE_HEADER_SIZE;
	reader->cursor = reader->end = NULL;
	reader->state = STREAM_READING;
	reader->error = 0;
	reader->warning[0] = '\0';
	return 0;
}

uint64_t capture_reader_offset(const struct capture_reader *reader)
{
	return reader->block_offset;
}

uint64_t capture_reader_size(const struct capture_reader *reader)
{
	return reader->file_size;
}

void capture_reader_version(const struct capture_reader *reader, uint32_t *major, uint32_t *minor)
{
	if (major)
		*major = reader ? reader->major : 0;
	if (minor)
		*minor = reader ? reader->minor : 0;
}

const char *capture_reader_warning(const struct capture_reader *reader)
{
	if (!reader || !reader->warning[0])
		return NULL;
	return reader->warning;
}

/* ---- blocks ---------------------------------------------------------- */

static int grow_buffers(struct capture_reader *reader, size_t block_size)
{
	if (block_size > reader->block_capacity) {
		uint8_t *block = realloc(reader->block, block_size);
		if (!block)
			return -ENOMEM;
		reader->block = block;
		reader->block_capacity = block_size;
	}
	/* A record's strings, each with its NUL, never outgrow its block: a
	 * string takes at least its length byte, which becomes the NUL. */
	if (block_size > reader->strings_capacity) {
		char *strings = realloc(reader->strings, block_size);
		if (!strings)
			return -ENOMEM;
		reader->strings = strings;
		reader->strings_capacity = block_size;
	}
	return 0;
}

static int cut_short(struct capture_reader *reader, uint64_t block_offset, uint32_t payload)
{
	return fail(reader, -EBADMSG,
	            "capture is cut short at byte %" PRIu64 " (in a block of %" PRIu32
	            " bytes starting at byte %" PRIu64 "): the program may have been killed; "
	            "everything before byte %" PRIu64 " is reported",
	            reader->file_size, payload, block_offset, block_offset);
}

/* Decompresses the records of the compressed block just read (payload
 * bytes at reader->block): a varint, the records' size, then a zstd frame.
 * Returns 0 with *records set, or a negative error (the stream has then
 * failed: a block whose checksum held but whose frame does not decode was
 * written wrong, and nothing after it can be trusted). */
static int unpack_block(struct capture_reader *reader, uint64_t offset, uint32_t payload,
                        const uint8_t **records, size_t *records_size)
{
	const uint8_t *cursor = reader->block;
	const uint8_t *end = reader->block + payload;
	uint64_t size;
	if (varint_decode(&cursor, end, &size) < 0 || size > CAPTURE_MAX_PAYLOAD)
		return fail(reader, -EBADMSG,
		            "compressed block at byte %" PRIu64 " is corrupt (bad size): "
		            "everything before it is reported",
		            offset);
	if (reader->decompressor == NULL)
		reader->decompressor = ZSTD_createDCtx();
	if (size > reader->unpacked_capacity) {
		uint8_t *unpacked = realloc(reader->unpacked, size ? size : 1);
		if (unpacked == NULL)
			return fail(reader, -ENOMEM, "out of memory unpacking the block at byte %" PRIu64,
			            offset);
		reader->unpacked = unpacked;
		reader->unpacked_capacity = size;
	}
	/* Its strings, like a block's, never outgrow it (not grow_buffers: the
	 * compressed frame is still being read from reader->block). */
	if (size > reader->strings_capacity) {
		char *strings = realloc(reader->strings, (size_t)size);
		if (strings == NULL)
			return fail(reader, -ENOMEM,
			            "out of memory unpacking the block at byte %" PRIu64, offset);
		reader->strings = strings;
		reader->strings_capacity = (size_t)size;
	}
	if (reader->decompressor == NULL)
		return fail(reader, -ENOMEM, "out of memory unpacking the block at byte %" PRIu64,
		            offset);
	size_t got = ZSTD_decompressDCtx(reader->decompressor, reader->unpacked, (size_t)size,
	                                 cursor, (size_t)(end - cursor));
	if (ZSTD_isError(got) || got != size)
		return fail(reader, -EBADMSG,
		            "compressed block at byte %" PRIu64 " is corrupt (%s): everything "
		            "before it is reported",
		            offset, ZSTD_isError(got) ? ZSTD_getErrorName(got) : "wrong size");
	*records = reader->unpacked;
	*records_size = (size_t)size;
	return 0;
}

/* Reads blocks until a records block: returns 1 with cursor..end set, 0 at
 * the end block, or a negative error (the stream has then failed). */
static int load_block(struct capture_reader *reader)
{
	uint8_t header[CAPTURE_BLOCK_HEADER_SIZE];

	for (;;) {
		uint64_t offset = reader->next_block;
		ssize_t got = read_at(reader->fd, header, sizeof(header), offset);
		if (got < 0)
			return fail(reader, (int)got, "cannot read the capture at byte %" PRIu64,
			            offset);
		if (got == 0) {
			refresh_file_size(reader);
			return fail(reader, -EBADMSG,
			            "capture is cut short at byte %" PRIu64 " (after its last complete "
			            "block, without the end block a finished capture has): the program "
			            "may have been killed; everything before it is reported",
			            offset);
		}
		if ((size_t)got < sizeof(header)) {
			refresh_file_size(reader);
			return fail(reader, -EBADMSG,
			            "capture is cut short at byte %" PRIu64 " (inside the header of "
			            "the block starting at byte %" PRIu64 "): the program may have "
			            "been killed; everything before byte %" PRIu64 " is reported",
			            offset + (uint64_t)got, offset, offset);
		}

		uint8_t type = header[0];
		uint32_t payload = le32_get(header + 1);
		if (payload > CAPTURE_MAX_PAYLOAD)
			return fail(reader, -EBADMSG,
			            "block at byte %" PRIu64 " is corrupt (it declares %" PRIu32
			            " bytes, more than the %u a block may hold): everything before "
			            "it is reported",
			            offset, payload, CAPTURE_MAX_PAYLOAD);
		size_t rest = (size_t)payload + CAPTURE_BLOCK_CRC_SIZE;
		uint64_t block_end = offset + sizeof(header) + rest;
		/* Check the size before allocating for the block, so a cut or
		 * corrupt length costs no memory. */
		if (block_end > reader->file_size)
			refresh_file_size(reader);
		if (block_end > reader->file_size)
			return cut_short(reader, offset, payload);
		if (grow_buffers(reader, rest) < 0)
			return fail(reader, -ENOMEM,
			            "out of memory reading the block of %" PRIu32
			            " bytes at byte %" PRIu64,
			            payload, offset);
		got = read_at(reader->fd, reader->block, rest, offset + sizeof(header));
		if (got < 0)
			return fail(reader, (int)got, "cannot read the capture at byte %" PRIu64,
			            offset);
		if ((size_t)got < rest) {
			/* Truncated between fstat and pread. */
			refresh_file_size(reader);
			return cut_short(reader, offset, payload);
		}
		uint32_t crc = capture_crc32(capture_crc32(0, header, sizeof(header)),
		                             reader->block, payload);
		if (crc != le32_get(reader->block + payload))
			return fail(reader, -EBADMSG,
			            "block at byte %" PRIu64 " is corrupt (checksum mismatch): "
			            "everything before it is reported",
			            offset);

		reader->next_block = block_end;
		if (type == CAPTURE_BLOCK_END) {
			/* A future minor may give the end block a payload: it
			 * is checked and ignored like any unknown content. */
			reader->state = STREAM_ENDED;
			return 0;
		}
		const uint8_t *records = reader->block;
		size_t records_size = payload;
		if (type == CAPTURE_BLOCK_RECORDS_ZSTD) {
			int error = unpack_block(reader, offset, payload, &records, &records_size);
			if (error < 0)
				return error;
		} else if (type != CAPTURE_BLOCK_RECORDS) {
			continue; /* a newer minor's block: skip it whole */
		}

		reader->block_offset = offset;
		reader->cursor = records;
		reader->end = records + records_size;
		reader->last_time = 0;
		reader->last_address = 0;
		reader->last_ip = 0;
		reader->last_stack = 0;
		reader->last_node = 0;
		return 1;
	}
}

/* ---- records --------------------------------------------------------- */

/* Decodes fields from p to end.  The first problem is kept and every later
 * read yields 0, so a record is decoded straight through and checked once. */
struct parser {
	struct capture_reader *reader;
	const uint8_t *p;
	const uint8_t *end;
	const char *problem;
};

static uint64_t get_varint(struct parser *parser)
{
	uint64_t value = 0;

	if (parser->problem)
		return 0;
	int err = varint_decode(&parser->p, parser->end, &value);
	if (err == -ENODATA)
		parser->problem = "a number runs past the end of its record";
	else if (err < 0)
		parser->problem = "a number is longer than 64 bits";
	return err < 0 ? 0 : value;
}

static uint32_t get_u32(struct parser *parser)
{
	uint64_t value = get_varint(parser);

	if (value > UINT32_MAX) {
		if (!parser->problem)
			parser->problem = "a 32-bit field holds a larger number";
		return 0;
	}
	return (uint32_t)value;
}

/* A stack id: the block's last one plus a zigzag delta, in 32 bits. */
static uint32_t get_stack(struct parser *parser)
{
	uint64_t stack = zigzag_delta_decode(get_varint(parser), parser->reader->last_stack);

	if (stack > UINT32_MAX) {
		if (!parser->problem)
			parser->problem = "a stack id is out of range";
		return 0;
	}
	parser->reader->last_stack = stack;
	return (uint32_t)stack;
}

static void get_thread_kind(struct parser *parser, uint32_t *thread, uint32_t *kind)
{
	uint64_t value = get_varint(parser);

	*kind = (uint32_t)(value & ((1u << CAPTURE_KIND_BITS) - 1));
	*thread = 0;
	if (parser->problem)
		return;
	if (value >> CAPTURE_KIND_BITS > UINT32_MAX)
		parser->problem = "a thread index is out of range";
	else if (*kind >= CAPTURE_KIND_COUNT)
		parser->problem = "an allocation kind is unknown";
	else
		*thread = (uint32_t)(value >> CAPTURE_KIND_BITS);
}

static const uint8_t *get_bytes(struct parser *parser, uint64_t length)
{
	if (parser->problem)
		return NULL;
	if (length > (uint64_t)(parser->end - parser->p)) {
		parser->problem = "a string or byte field runs past the end of its record";
		return NULL;
	}
	const uint8_t *bytes = parser->p;
	parser->p += length;
	return bytes;
}

/* A length-prefixed string, copied out with a NUL for the caller. */
static const char *get_string(struct parser *parser)
{
	uint64_t length = get_varint(parser);
	const uint8_t *bytes = get_bytes(parser, length);

	if (!bytes)
		return "";
	if (memchr(bytes, '\0', (size_t)length)) {
		parser->problem = "a string contains a NUL byte";
		return "";
	}
	struct capture_reader *reader = parser->reader;
	if (reader->strings_used + length + 1 > reader->strings_capacity) {
		/* Cannot happen (see grow_buffers), but the bound is cheap. */
		parser->problem = "strings overflow their record";
		return "";
	}
	char *copy = reader->strings + reader->strings_used;
	memcpy(copy, bytes, (size_t)length);
	copy[length] = '\0';
	reader->strings_used += (size_t)length + 1;
	return copy;
}

static void decode_stack_node(struct parser *parser, struct capture_stack_node *node)
{
	struct capture_reader *reader = parser->reader;
	uint64_t id = zigzag_delta_decode(get_varint(parser), reader->last_node);
	uint64_t distance = get_varint(parser);
	uint64_t ip = zigzag_delta_decode(get_varint(parser), reader->last_ip);

	if (parser->problem)
		return;
	if (id == 0 || id > UINT32_MAX) {
		parser->problem = "a stack node id is out of range";
		return;
	}
	if (distance == 0 || distance > id) {
		parser->problem = "a stack node's parent is not below its id";
		return;
	}
	node->id = (uint32_t)id;
	node->parent = (uint32_t)(id - distance);
	node->ip = ip;
	reader->last_node = id;
	reader->last_ip = ip;
}

static void decode_alloc(struct parser *parser, struct capture_alloc *alloc)
{
	struct capture_reader *reader = parser->reader;

	alloc->time_ns = zigzag_delta_decode(get_varint(parser), reader->last_time);
	get_thread_kind(parser, &alloc->thread, &alloc->kind);
	alloc->address = zigzag_delta_decode(get_varint(parser), reader->last_address);
	alloc->size = get_varint(parser);
	alloc->usable = zigzag_delta_decode(get_varint(parser), alloc->size);
	alloc->stack = get_stack(parser);
	reader->last_time = alloc->time_ns;
	reader->last_address = alloc->address;
}

static void decode_free(struct parser *parser, struct capture_free *free_event)
{
	struct capture_reader *reader = parser->reader;

	free_event->time_ns = zigzag_delta_decode(get_varint(parser), reader->last_time);
	get_thread_kind(parser, &free_event->thread, &free_event->kind);
	free_event->address = zigzag_delta_decode(get_varint(parser), reader->last_address);
	reader->last_time = free_event->time_ns;
	reader->last_address = free_event->address;
}

static void decode_expand(struct parser *parser, struct capture_expand *expand)
{
	struct capture_reader *reader = parser->reader;

	expand->time_ns = zigzag_delta_decode(get_varint(parser), reader->last_time);
	get_thread_kind(parser, &expand->thread, &expand->kind);
	expand->address = zigzag_delta_decode(get_varint(parser), reader->last_address);
	expand->size = get_varint(parser);
	expand->usable = zigzag_delta_decode(get_varint(parser), expand->size);
	expand->old_usable = zigzag_delta_decode(get_varint(parser), expand->usable);
	expand->stack = get_stack(parser);
	reader->last_time = expand->time_ns;
	reader->last_address = expand->address;
}

static void decode_info(struct parser *parser, struct capture_info *info)
{
	info->key = get_string(parser);
	info->value = get_string(parser);
}

static void decode_module(struct parser *parser, struct capture_module *module)
{
	module->id = get_u32(parser);
	/* Flag bits other than bit 0 are a newer minor's, safe to ignore. */
	module->unloaded = (get_varint(parser) & 1) != 0;
	module->time_ns = get_varint(parser);
	module->path = get_string(parser);
	module->base = get_varint(parser);
	uint64_t build_id_size = get_varint(parser);
	if (build_id_size > CAPTURE_MAX_BUILD_ID) {
		if (!parser->problem)
			parser->problem = "a build id is longer than 64 bytes";
		return;
	}
	const uint8_t *build_id = get_bytes(parser, build_id_size);
	if (build_id) {
		memcpy(module->build_id, build_id, (size_t)build_id_size);
		module->build_id_size = (uint32_t)build_id_size;
	}
	uint64_t segment_count = get_varint(parser);
	if (segment_count > CAPTURE_MAX_SEGMENTS) {
		if (!parser->problem)
			parser->problem = "a module has more than 16 segments";
		return;
	}
	for (uint64_t i = 0; i < segment_count; i++) {
		module->segments[i].start = get_varint(parser);
		module->segments[i].end = module->segments[i].start + get_varint(parser);
	}
	module->segment_count = (uint32_t)segment_count;
}

static void decode_thread(struct parser *parser, struct capture_thread *thread)
{
	thread->index = get_u32(parser);
	thread->tid = get_u32(parser);
	thread->name = get_string(parser);
}

static void decode_tag(struct parser *parser, struct capture_tag *tag)
{
	tag->time_ns = get_varint(parser);
	tag->thread = get_u32(parser);
	tag->address = get_varint(parser);
	tag->name = get_string(parser);
	tag->type_name = get_string(parser);
	tag->file = get_string(parser);
	tag->line = get_u32(parser);
}

static void decode_sample(struct parser *parser, struct capture_sample *sample)
{
	sample->time_ns = get_varint(parser);
	sample->heap_live_bytes = get_varint(parser);
	sample->heap_live_blocks = get_varint(parser);
	sample->rss_bytes = get_varint(parser);
	sample->jemalloc_allocated = get_varint(parser);
	sample->jemalloc_active = get_varint(parser);
	sample->jemalloc_resident = get_varint(parser);
	sample->jemalloc_mapped = get_varint(parser);
	sample->jemalloc_retained = get_varint(parser);
	sample->cpu_user_ns = get_varint(parser);
	sample->cpu_system_ns = get_varint(parser);
	sample->threads = get_u32(parser);
	sample->io_read_bytes = get_varint(parser);
	sample->io_write_bytes = get_varint(parser);
}

static void decode_trailer(struct parser *parser, struct capture_trailer *trailer)
{
	trailer->time_ns = get_varint(parser);
	trailer->allocations = get_varint(parser);
	trailer->frees = get_varint(parser);
	trailer->allocated_bytes = get_varint(parser);
	trailer->peak_bytes = get_varint(parser);
	trailer->peak_time_ns = get_varint(parser);
	trailer->live_blocks = get_varint(parser);
	trailer->live_bytes = get_varint(parser);
	trailer->events = get_varint(parser);
	trailer->lost_events = get_varint(parser);
	/* Appended in minor 1: a minor 0 trailer ends here. */
	trailer->sample_interval = parser->p < parser->end ? get_varint(parser) : 0;
}

static void decode_sampling(struct parser *parser, struct capture_sampling *sampling)
{
	sampling->time_ns = get_varint(parser);
	sampling->interval = get_varint(parser);
	sampling->seed = get_varint(parser);
	if (parser->p < parser->end) /* minor 3 */
		sampling->exact_above = get_varint(parser);
	if (parser->p < parser->end) /* minor 4 */
		sampling->counting = get_varint(parser);
}

static void decode_tracking(struct parser *parser, struct capture_tracking *tracking)
{
	tracking->time_ns = get_varint(parser);
	tracking->attempts = get_varint(parser);
	tracking->successes = get_varint(parser);
	tracking->misses = get_varint(parser);
	tracking->waits = get_varint(parser);
	tracking->growths = get_varint(parser);
	if (parser->p < parser->end) /* minor 3 */
		tracking->task_changes = get_varint(parser);
}

static void decode_task(struct parser *parser, struct capture_task *task)
{
	task->time_ns = get_varint(parser);
	task->id = get_u32(parser);
	task->parent = get_u32(parser);
	task->thread = get_u32(parser);
	task->origin = get_u32(parser);
	task->key = get_varint(parser);
	task->name = get_string(parser);
	if (parser->problem)
		return;
	if (task->id == 0)
		parser->problem = "a task has id 0";
	else if (task->parent >= task->id)
		parser->problem = "a task's parent does not come before it";
	else if (task->origin >= CAPTURE_TASK_ORIGIN_COUNT)
		/* Not known to this reader: one from a newer minor. */
		task->origin = CAPTURE_TASK_ANNOTATION;
}

static void decode_task_end(struct parser *parser, struct capture_task_end *end)
{
	end->time_ns = get_varint(parser);
	end->id = get_u32(parser);
	end->thread = get_u32(parser);
	if (!parser->problem && end->id == 0)
		parser->problem = "a task end names task 0";
}

static void decode_task_switch(struct parser *parser, struct capture_task_switch *to)
{
	to->time_ns = get_varint(parser);
	to->thread = get_u32(parser);
	to->task = get_u32(parser);
}

static void decode_thread_sampling(struct parser *parser, struct capture_thread_sampling *sampling)
{
	sampling->time_ns = get_varint(parser);
	sampling->thread = get_u32(parser);
	sampling->interval = get_varint(parser);
}

/* Decodes the record at the cursor into *record.  Returns 1, 0 for a record
 * of a type this reader does not know (skipped), or -EBADMSG. */
static int decode_record(struct capture_reader *reader, struct capture_record *record)
{
	const uint8_t *start = reader->cursor;
	struct parser parser = { .reader = reader, .p = start + 1, .end = reader->end };
	uint8_t tag = *start;
	int known = 1;

	reader->strings_used = 0;
	switch (tag) {
	case CAPTURE_RECORD_STACK_NODE:
		decode_stack_node(&parser, &record->u.stack_node);
		break;
	case CAPTURE_RECORD_ALLOC:
		decode_alloc(&parser, &record->u.alloc);
		break;
	case CAPTURE_RECORD_FREE:
		decode_free(&parser, &record->u.free);
		break;
	case CAPTURE_RECORD_EXPAND:
		decode_expand(&parser, &record->u.expand);
		break;
	default: {
		/* Every other record is framed by its length, so a newer minor
		 * can append fields to it, or add record types, and this
		 * reader still finds the next record. */
		uint64_t length = get_varint(&parser);
		const uint8_t *body = get_bytes(&parser, length);
		if (!body)
			break;
		const uint8_t *after = parser.p;
		/* Cleared so that the build id and segments past their
		 * counts are zeros, not the previous record's. */
		memset(&record->u, 0, sizeof(record->u));
		parser.p = body;
		parser.end = body + length;
		switch (tag) {
		case CAPTURE_RECORD_INFO:
			decode_info(&parser, &record->u.info);
			break;
		case CAPTURE_RECORD_MODULE:
			decode_module(&parser, &record->u.module);
			break;
		case CAPTURE_RECORD_THREAD:
			decode_thread(&parser, &record->u.thread);
			break;
		case CAPTURE_RECORD_TAG:
			decode_tag(&parser, &record->u.tag);
			break;
		case CAPTURE_RECORD_SAMPLE:
			decode_sample(&parser, &record->u.sample);
			break;
		case CAPTURE_RECORD_TRAILER:
			decode_trailer(&parser, &record->u.trailer);
			break;
		case CAPTURE_RECORD_SAMPLING:
			decode_sampling(&parser, &record->u.sampling);
			break;
		case CAPTURE_RECORD_TRACKING:
			decode_tracking(&parser, &record->u.tracking);
			break;
		case CAPTURE_RECORD_TASK:
			decode_task(&parser, &record->u.task);
			break;
		case CAPTURE_RECORD_TASK_END:
			decode_task_end(&parser, &record->u.task_end);
			break;
		case CAPTURE_RECORD_TASK_SWITCH:
			decode_task_switch(&parser, &record->u.task_switch);
			break;
		case CAPTURE_RECORD_THREAD_SAMPLING:
			decode_thread_sampling(&parser, &record->u.thread_sampling);
			break;
		default:
			known = 0;
			break;
		}
		/* Fields after the ones this reader knows are skipped. */
		parser.p = after;
		break;
	}
	}

	if (parser.problem) {
		uint64_t record_offset = reader->block_offset + CAPTURE_BLOCK_HEADER_SIZE +
		                         (uint64_t)(start - reader->block);
		return fail(reader, -EBADMSG,
		            "block at byte %" PRIu64 " is malformed (record of type %u at byte %" PRIu64
		            ": %s): everything before it is reported",
		            reader->block_offset, tag, record_offset, parser.problem);
	}
	reader->cursor = parser.p;
	record->type = (enum capture_record_type)tag;
	return known;
}

int capture_reader_next(struct capture_reader *reader, struct capture_record *record)
{
	if (!reader || !record)
		return -EINVAL;
	for (;;) {
		if (reader->state == STREAM_FAILED)
			return reader->error;
		if (reader->state == STREAM_ENDED)
			return 0;
		if (reader->cursor != reader->end) {
			int result = decode_record(reader, record);
			if (result != 0)
				return result;
			continue;
		}
		int loaded = load_block(reader);
		if (loaded <= 0)
			return loaded;
	}
}

/* ---- the end of a capture, without its events ------------------------ */

/* Decodes the one records block at offset, keeping the last TRAILER and
 * TRACKING records it holds in *out.  Returns 0 or a negative error. */
static int scan_block(struct capture_reader *reader, uint64_t offset, struct capture_ending *out,
                      bool *has_trailer)
{
	reader->next_block = offset;
	reader->cursor = reader->end = NULL;
	reader->state = STREAM_READING;
	int loaded = load_block(reader);
	if (loaded < 0)
		return loaded;
	if (loaded == 0)
		return -ENOENT;
	struct capture_record record;
	while (reader->cursor != reader->end) {
		int decoded = decode_record(reader, &record);
		if (decoded < 0)
			return decoded;
		if (decoded == 0)
			continue;
		if (record.type == CAPTURE_RECORD_TRAILER) {
			out->trailer = record.u.trailer;
			*has_trailer = true;
		} else if (record.type == CAPTURE_RECORD_TRACKING) {
			out->tracking = record.u.tracking;
			out->has_tracking = true;
		}
	}
	return 0;
}

int capture_reader_find_ending(struct capture_reader *reader, struct capture_ending *out)
{
	if (!reader || !out)
		return -EINVAL;
	/* Walk the frames by their lengths alone: the trailer is in the last
	 * records block, and only that one (or the one before, for the
	 * TRACKING record) needs reading and decompressing. */
	uint64_t offset = CAPTURE_HEADER_SIZE, last_records = 0, previous_records = 0;
	bool ended = false;
	refresh_file_size(reader);
	while (!ended && offset + CAPTURE_BLOCK_HEADER_SIZE <= reader->file_size) {
		uint8_t header[CAPTURE_BLOCK_HEADER_SIZE];
		if (read_at(reader->fd, header, sizeof(header), offset) != (ssize_t)sizeof(header))
			break;
		uint32_t payload = le32_get(header + 1);
		if (payload > CAPTURE_MAX_PAYLOAD)
			break;
		if (header[0] == CAPTURE_BLOCK_RECORDS || header[0] == CAPTURE_BLOCK_RECORDS_ZSTD) {
			previous_records = last_records;
			last_records = offset;
		}
		ended = header[0] == CAPTURE_BLOCK_END;
		offset += CAPTURE_BLOCK_HEADER_SIZE + (uint64_t)payload + CAPTURE_BLOCK_CRC_SIZE;
	}
	struct capture_ending found = { .has_tracking = false };
	bool has_trailer = false;
	int result = -ENOENT;
	if (ended && last_records != 0) {
		result = scan_block(reader, last_records, &found, &has_trailer);
		if (result == 0 && !has_trailer)
			result = -ENOENT;
		if (result == 0 && !found.has_tracking && previous_records != 0) {
			/* Only its TRACKING records matter: a trailer there is not
			 * the capture's last word. */
			struct capture_ending earlier = { .has_tracking = false };
			bool ignored = false;
			if (scan_block(reader, previous_records, &earlier, &ignored) == 0 &&
			    earlier.has_tracking) {
				found.has_tracking = true;
				found.tracking = earlier.tracking;
			}
		}
	}
	if (result == 0)
		*out = found;
	int error = capture_reader_rewind(reader);
	return result < 0 ? result : error;
}

int capture_reader_find_trailer(struct capture_reader *reader, struct capture_trailer *out)
{
	struct capture_ending ending;
	int error = capture_reader_find_ending(reader, &ending);
	if (error == 0)
		*out = ending.trailer;
	return error;
}
