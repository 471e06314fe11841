/* binary.c - the "binary" exporter: the capture itself, re-packed as a
 * .memscope file (docs/capture-format.md) that every memscope reader reads,
 * optionally cut to a time window.
 *
 * The plugin never links memscope, so it is built with its own copy of the
 * format code (core/capture_reader.c, capture_writer.c, varint.c): it reads
 * the source file named by memscope_summary.path record by record and writes
 * each kept record again, in blocks the writer compresses.
 *
 * Options (memscope_host.option):
 *   from_ms=N   keep events at N ms since the capture started and later
 *   to_ms=N     keep events before N ms
 * The window is [from_ms, to_ms).  INFO, MODULE, THREAD and STACK_NODE
 * records describe the run and are always kept.  ALLOC, FREE, EXPAND, TAG
 * and SAMPLE records are kept only inside the window, and FREE, EXPAND and
 * TAG only for a block whose ALLOC was kept: a block allocated before the
 * window does not exist in the new capture, so neither does its free.
 * The source's TRAILER is dropped; a new one is computed from the kept
 * events the way the tracker computes its own (allocations, frees, bytes,
 * peak, live set), with time_ns the source's end (clipped to to_ms) and
 * lost_events the source's (which events were lost is not known, so a
 * window cannot split them).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <memscope/plugin.h>

#include "capture.h"
#include "live_map.h"

#define NS_PER_MS UINT64_C(1000000)
#define COPY_BUFFER_SIZE 65536

struct window {
	uint64_t from_ns;
	uint64_t to_ns;            /* UINT64_MAX: no end */
};

/* The new trailer, replayed from the kept events. */
struct totals {
	struct capture_trailer trailer;
	uint64_t last_time_ns;     /* latest time of any record read */
	bool source_has_trailer;
	struct capture_trailer source;
};

/* A whole number of milliseconds, digits only.  Returns 0, 1 when the
 * option is absent (*ns untouched) or -EINVAL. */
static int parse_ms(const memscope_host *host, memscope_capture *capture, const char *key,
                    uint64_t *ns)
{
	const char *text = host->option ? host->option(capture, key) : NULL;
	if (text == NULL)
		return 1;
	if (text[0] < '0' || text[0] > '9')
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long value = strtoull(text, &end, 10);
	if (*end != '\0' || errno != 0 || value > UINT64_MAX / NS_PER_MS)
		return -EINVAL;
	*ns = (uint64_t)value * NS_PER_MS;
	return 0;
}

static bool inside(const struct window *window, uint64_t time_ns)
{
	return time_ns >= window->from_ns && time_ns < window->to_ns;
}

static void note_peak(struct totals *totals, uint64_t time_ns)
{
	if (totals->trailer.live_bytes > totals->trailer.peak_bytes) {
		totals->trailer.peak_bytes = totals->trailer.live_bytes;
		totals->trailer.peak_time_ns = time_ns;
	}
}

/* Whether record goes into the new capture; updates the live set and the
 * totals for those that do.  Returns 1 (keep), 0 (drop) or -ENOMEM. */
static int keep_record(const struct capture_record *record, const struct window *window,
                       struct live_map *live, struct totals *totals)
{
	struct capture_trailer *trailer = &totals->trailer;
	switch (record->type) {
	case CAPTURE_RECORD_INFO:
	case CAPTURE_RECORD_MODULE:
	case CAPTURE_RECORD_THREAD:
	case CAPTURE_RECORD_STACK_NODE:
		return 1;
	case CAPTURE_RECORD_TRAILER:
		totals->source_has_trailer = true;
		totals->source = record->u.trailer;
		return 0;
	case CAPTURE_RECORD_SAMPLE:
		return inside(window, record->u.sample.time_ns);
	case CAPTURE_RECORD_ALLOC: {
		const struct capture_alloc *alloc = &record->u.alloc;
		if (!inside(window, alloc->time_ns))
			return 0;
		uint64_t replaced;
		int existed = live_map_put(live, alloc->address, alloc->size, &replaced);
		if (existed < 0)
			return -ENOMEM;
		if (existed) {
			/* A free the source did not have: count the block once. */
			trailer->live_bytes -= replaced;
			trailer->live_blocks--;
		}
		trailer->allocations++;
		trailer->allocated_bytes += alloc->size;
		trailer->events++;
		trailer->live_blocks++;
		trailer->live_bytes += alloc->size;
		note_peak(totals, alloc->time_ns);
		return 1;
	}
	case CAPTURE_RECORD_FREE: {
		uint64_t size;
		if (!inside(window, record->u.free.time_ns) ||
		    !live_map_remove(live, record->u.free.address, &size))
			return 0;
		trailer->frees++;
		trailer->events++;
		trailer->live_blocks--;
		trailer->live_bytes -= size;
		return 1;
	}
	case CAPTURE_RECORD_EXPAND: {
		const struct capture_expand *expand = &record->u.expand;
		uint64_t *size = live_map_find(live, expand->address);
		if (!inside(window, expand->time_ns) || size == NULL)
			return 0;
		trailer->live_bytes += expand->size - *size;
		*size = expand->size;
		trailer->events++;
		note_peak(totals, expand->time_ns);
		return 1;
	}
	case CAPTURE_RECORD_TAG:
		return inside(window, record->u.tag.time_ns) &&
		       live_map_find(live, record->u.tag.address) != NULL;
	}
	return 0;
}

static uint64_t record_time(const struct capture_record *record)
{
	switch (record->type) {
	case CAPTURE_RECORD_ALLOC: return record->u.alloc.time_ns;
	case CAPTURE_RECORD_FREE: return record->u.free.time_ns;
	case CAPTURE_RECORD_EXPAND: return record->u.expand.time_ns;
	case CAPTURE_RECORD_TAG: return record->u.tag.time_ns;
	case CAPTURE_RECORD_SAMPLE: return record->u.sample.time_ns;
	case CAPTURE_RECORD_MODULE: return record->u.module.time_ns;
	default: return 0;
	}
}

/* Copies the kept records of the capture at path to writer. */
static int repack(const char *path, const struct window *window, struct capture_writer *writer)
{
	struct capture_reader *reader = NULL;
	struct live_map *live = NULL;
	int error = capture_reader_open(path, &reader, NULL);
	if (error < 0)
		return error;
	error = live_map_create(&live);
	if (error < 0)
		goto out;

	struct totals totals = {0};
	struct capture_record record;
	int more;
	while ((more = capture_reader_next(reader, &record)) == 1) {
		uint64_t time_ns = record_time(&record);
		if (time_ns > totals.last_time_ns)
			totals.last_time_ns = time_ns;
		int keep = keep_record(&record, window, live, &totals);
		if (keep < 0) {
			error = keep;
			goto out;
		}
		if (keep && (error = capture_writer_add(writer, &record)) < 0)
			goto out;
	}
	/* A source cut short gives what it has (-EBADMSG); anything else is an
	 * error of reading. */
	if (more < 0 && more != -EBADMSG) {
		error = more;
		goto out;
	}

	struct capture_record trailer = {.type = CAPTURE_RECORD_TRAILER, .u.trailer = totals.trailer};
	uint64_t end = totals.last_time_ns;
	if (totals.source_has_trailer) {
		end = totals.source.time_ns;
		trailer.u.trailer.lost_events = totals.source.lost_events;
	}
	trailer.u.trailer.time_ns = end < window->to_ns ? end : window->to_ns;
	error = capture_writer_add(writer, &trailer);
out:
	live_map_destroy(live);
	capture_reader_destroy(reader);
	return error;
}

/* The writer needs a file descriptor and out may have none (a memory
 * stream): the capture is built in a temporary file, then copied. */
static int copy_to(int fd, FILE *out)
{
	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	char buffer[COPY_BUFFER_SIZE];
	for (;;) {
		ssize_t got = read(fd, buffer, sizeof buffer);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (got == 0)
			return 0;
		if (fwrite(buffer, 1, (size_t)got, out) != (size_t)got)
			return -EIO;
	}
}

static int write_binary(const memscope_host *host, memscope_capture *capture,
                        const memscope_results *const *results, size_t count, FILE *out)
{
	const memscope_summary *summary = host->summary ? host->summary(capture) : NULL;
	if (summary == NULL || summary->path == NULL)
		return -EINVAL;
	struct window window = {.from_ns = 0, .to_ns = UINT64_MAX};
	if (parse_ms(host, capture, "from_ms", &window.from_ns) < 0 ||
	    parse_ms(host, capture, "to_ms", &window.to_ns) < 0 || window.to_ns < window.from_ns)
		return -EINVAL;

	FILE *temporary = tmpfile();
	if (temporary == NULL)
		return -errno;
	int fd = fileno(temporary);
	struct capture_writer *writer = NULL;
	int error = capture_writer_create(fd, &writer);
	if (error == 0)
		error = repack(summary->path, &window, writer);
	int finished = capture_writer_destroy(writer);
	if (error == 0)
		error = finished;
	if (error == 0)
		error = copy_to(fd, out);
	fclose(temporary);
	return error;
}

static const memscope_exporter binary_exporter = {
	.version = MEMSCOPE_EXPORTER_VERSION,
	.name = "binary",
	.extension = "memscope",
	.description = "the capture re-packed as a .memscope file; from_ms/to_ms cut a window",
	.write = write_binary,
};

static const memscope_exporter *const exporters[] = {&binary_exporter, NULL};

MEMSCOPE_PLUGIN_DESCRIBE("binary", "1.0", NULL, exporters)
