/* fuzz_capture_reader.c - libFuzzer harness for the capture reader: any
 * bytes, read as a .memscope file, must give records or an error, never a
 * crash, a hang or an out-of-bounds access.
 *
 * Not built by meson.  Build and run from the source root:
 *
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -Icore tests/fuzz_capture_reader.c core/capture_reader.c core/varint.c -lzstd \
 *       -o /tmp/fuzz_capture_reader
 *   mkdir -p /tmp/capture-corpus   # seed it with a few real .memscope files
 *   /tmp/fuzz_capture_reader -max_total_time=120 -max_len=4096 /tmp/capture-corpus
 *
 * The first input byte chooses a mode and the rest is the file.  Every
 * block carries a CRC, so almost any mutation is rejected before a record is
 * decoded; when the mode byte is odd, the CRC of each block is recomputed
 * before the file is read, so the fuzzer also explores what a checksummed but
 * hostile block can hold.  Seed files are therefore a real capture with one
 * byte in front: "\x00" (as is) and "\x01" (checksums fixed).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture.h"
#include "varint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int capture_fd = -1;
static char capture_path[64];

/* Rewrites the CRC of every complete block in place. */
static void fix_checksums(uint8_t *file, size_t size)
{
	size_t offset = CAPTURE_HEADER_SIZE;

	while (offset + CAPTURE_BLOCK_HEADER_SIZE + CAPTURE_BLOCK_CRC_SIZE <= size) {
		uint32_t payload = le32_get(file + offset + 1);
		if (payload > size - offset - CAPTURE_BLOCK_HEADER_SIZE - CAPTURE_BLOCK_CRC_SIZE)
			break;
		size_t framed = CAPTURE_BLOCK_HEADER_SIZE + payload;
		le32_put(file + offset + framed, capture_crc32(0, file + offset, framed));
		offset += framed + CAPTURE_BLOCK_CRC_SIZE;
	}
}

static void read_everything(void)
{
	struct capture_reader *reader = NULL;
	struct capture_record record;
	const char *message = NULL;

	int result = capture_reader_open(capture_path, &reader, &message);
	if (result < 0) {
		if (!message)
			abort();
		return;
	}
	for (int pass = 0; pass < 2; pass++) {
		size_t records = 0;
		while ((result = capture_reader_next(reader, &record)) == 1) {
			records++;
			/* Touch every string: each must be NUL-terminated. */
			switch (record.type) {
			case CAPTURE_RECORD_INFO:
				records += strlen(record.u.info.key) + strlen(record.u.info.value);
				break;
			case CAPTURE_RECORD_MODULE:
				records += strlen(record.u.module.path);
				if (record.u.module.build_id_size > CAPTURE_MAX_BUILD_ID ||
				    record.u.module.segment_count > CAPTURE_MAX_SEGMENTS)
					abort();
				break;
			case CAPTURE_RECORD_THREAD:
				records += strlen(record.u.thread.name);
				break;
			case CAPTURE_RECORD_TAG:
				records += strlen(record.u.tag.name) + strlen(record.u.tag.type_name) +
				           strlen(record.u.tag.file);
				break;
			case CAPTURE_RECORD_ALLOC:
				if (record.u.alloc.kind >= CAPTURE_KIND_COUNT)
					abort();
				break;
			case CAPTURE_RECORD_STACK_NODE:
				if (record.u.stack_node.id == 0 ||
				    record.u.stack_node.parent >= record.u.stack_node.id)
					abort();
				break;
			default:
				break;
			}
		}
		/* A failed stream explains itself; an ended one does not. */
		if ((result < 0) != (capture_reader_warning(reader) != NULL))
			abort();
		if (result != 0 && result != -EBADMSG)
			abort();
		capture_reader_rewind(reader);
	}
	capture_reader_destroy(reader);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (capture_fd < 0) {
		capture_fd = memfd_create("capture", 0);
		if (capture_fd < 0)
			abort();
		snprintf(capture_path, sizeof(capture_path), "/proc/self/fd/%d", capture_fd);
	}

	if (size == 0)
		return 0;
	/* A heap copy of exactly the file, so ASan sees any read past it. */
	size_t file_size = size - 1;
	uint8_t *file = malloc(file_size ? file_size : 1);
	if (!file)
		return 0;
	memcpy(file, data + 1, file_size);
	if (data[0] & 1)
		fix_checksums(file, file_size);
	if (ftruncate(capture_fd, 0) == 0 && pwrite(capture_fd, file, file_size, 0) == (ssize_t)file_size)
		read_everything();
	free(file);
	return 0;
}
