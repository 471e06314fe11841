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
 * window cannot split them).  A source without a trailer gets none in its
 * copy either (a crashed program's live blocks stay "not all leaks"), and
 * one cut short an INFO "cut_short" with the reader's warning, so that the
 * copy, whole as a file, still reads as cut short.
 *
 * A sampled capture stays one: every SAMPLING and THREAD_SAMPLING record is
 * kept, whatever its time, since it says how the events after it were
 * picked, so each block keeps its weight (core/sampling.h), and the new trailer's figures are
 * weighted estimates with the sampling interval in force at the end, as a
 * sampling backend writes them.  TRACKING records are kept inside the
 * window, except that the source's last one (the backend's counters over
 * the whole run) is always written, just before the new trailer and in the
 * same block, where a reader of the trailer alone finds it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <memscope/plugin.h>

#include "capture.h"
#include "live_map.h"
#include "sample_weigher.h"
#include "sampling.h"

#define NS_PER_MS UINT64_C(1000000)
#define COPY_BUFFER_SIZE 65536

struct window {
	uint64_t from_ns;
	uint64_t to_ns;            /* UINT64_MAX: no end */
};

/* The new trailer, replayed from the kept events.  Blocks and bytes are
 * summed as reals, each block counted as its weight, and rounded once. */
struct totals {
	struct capture_trailer trailer; /* its events; the rest is rounded from below */
	double allocations;
	double frees;
	double allocated_bytes;
	double live_blocks;
	double live_bytes;
	double peak_bytes;
	struct sample_weigher weigher; /* the SAMPLING and THREAD_SAMPLING records in force */
	/* The interval each kept sampled block was allocated under, by
	 * address: its weight when it goes.  Made at the first sampled block,
	 * so a capture of every event never needs it. */
	struct live_map *intervals;
	uint64_t last_time_ns;     /* latest time of any record read */
	bool source_has_trailer;
	struct capture_trailer source;
	bool has_tracking;         /* a TRACKING record read and not yet written */
	struct capture_tracking tracking;
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
	if (totals->live_bytes > totals->peak_bytes) {
		totals->peak_bytes = totals->live_bytes;
		totals->trailer.peak_time_ns = time_ns;
	}
}

/* The weight of the block at address, of size bytes, as it was allocated
 * (or last resized); forgets its interval when forget is set. */
static double weight_of(struct totals *totals, uint64_t address, uint64_t size, bool forget)
{
	uint64_t interval = 0;
	if (totals->intervals) {
		uint64_t *found = live_map_find(totals->intervals, address);
		if (found)
			interval = *found;
		if (found && forget)
			live_map_remove(totals->intervals, address, NULL);
	}
	return sample_weight(size, interval, totals->weigher.rule.counting);
}

/* Records interval as the one the block at address was picked under.
 * Returns 0 or -ENOMEM. */
static int note_interval(struct totals *totals, uint64_t address, uint64_t interval)
{
	if (interval <= 1) {
		if (totals->intervals)
			live_map_remove(totals->intervals, address, NULL);
		return 0;
	}
	if (!totals->intervals && live_map_create(&totals->intervals) < 0)
		return -ENOMEM;
	return live_map_put(totals->intervals, address, interval, NULL) < 0 ? -ENOMEM : 0;
}

/* What a block of weight and size adds to the live set (sign 1) or takes
 * from it (-1). */
static void count_live(struct totals *totals, double weight, uint64_t size, double sign)
{
	totals->live_blocks += sign * weight;
	totals->live_bytes += sign * weight * (double)size;
}

static int keep_alloc(const struct capture_alloc *alloc, struct live_map *live,
                      struct totals *totals)
{
	uint64_t replaced;
	int existed = live_map_put(live, alloc->address, alloc->size, &replaced);
	if (existed < 0)
		return -ENOMEM;
	/* A free the source did not have: count the block once. */
	if (existed)
		count_live(totals, weight_of(totals, alloc->address, replaced, true), replaced, -1.0);
	uint64_t interval = sample_weigher_interval(&totals->weigher, alloc->thread, alloc->size);
	if (note_interval(totals, alloc->address, interval) < 0)
		return -ENOMEM;
	double weight = sample_weight(alloc->size, interval, totals->weigher.rule.counting);
	totals->allocations += weight;
	totals->allocated_bytes += weight * (double)alloc->size;
	totals->trailer.events++;
	count_live(totals, weight, alloc->size, 1.0);
	note_peak(totals, alloc->time_ns);
	return 1;
}

static int keep_expand(const struct capture_expand *expand, uint64_t *size,
                       struct totals *totals)
{
	count_live(totals, weight_of(totals, expand->address, *size, true), *size, -1.0);
	uint64_t interval = sample_weigher_interval(&totals->weigher, expand->thread, expand->size);
	if (note_interval(totals, expand->address, interval) < 0)
		return -ENOMEM;
	*size = expand->size;
	count_live(totals, sample_weight(expand->size, interval, totals->weigher.rule.counting),
	           expand->size, 1.0);
	totals->trailer.events++;
	note_peak(totals, expand->time_ns);
	return 1;
}

/* A TRACKING record: the one held back so far is written now if inside
 * the window (the last one is written before the trailer instead).
 * Returns 0 or an error of the writer. */
static int hold_tracking(const struct capture_tracking *tracking, const struct window *window,
                         struct totals *totals, struct capture_writer *writer)
{
	if (totals->has_tracking && inside(window, totals->tracking.time_ns)) {
		struct capture_record held = {.type = CAPTURE_RECORD_TRACKING,
		                              .u.tracking = totals->tracking};
		int error = capture_writer_add(writer, &held);
		if (error < 0)
			return error;
	}
	totals->has_tracking = true;
	totals->tracking = *tracking;
	return 0;
}

/* Whether record goes into the new capture; updates the live set and the
 * totals for those that do.  Returns 1 (keep), 0 (drop) or -ENOMEM. */
static int keep_record(const struct capture_record *record, const struct window *window,
                       struct live_map *live, struct totals *totals)
{
	switch (record->type) {
	case CAPTURE_RECORD_INFO:
	case CAPTURE_RECORD_MODULE:
	case CAPTURE_RECORD_THREAD:
	case CAPTURE_RECORD_STACK_NODE:
	/* Kept whatever the window: the events inside it belong to tasks
	 * that may have begun, or been switched to, before it. */
	case CAPTURE_RECORD_TASK:
	case CAPTURE_RECORD_TASK_END:
	case CAPTURE_RECORD_TASK_SWITCH:
		return 1;
	case CAPTURE_RECORD_SAMPLING:
		sample_weigher_sampling(&totals->weigher, &record->u.sampling);
		return 1;
	case CAPTURE_RECORD_THREAD_SAMPLING:
		return sample_weigher_thread(&totals->weigher, &record->u.thread_sampling) < 0 ? -ENOMEM
		                                                                                : 1;
	case CAPTURE_RECORD_TRACKING:
		return 0; /* held back: see hold_tracking */
	case CAPTURE_RECORD_TRAILER:
		totals->source_has_trailer = true;
		totals->source = record->u.trailer;
		return 0;
	case CAPTURE_RECORD_SAMPLE:
		return inside(window, record->u.sample.time_ns);
	case CAPTURE_RECORD_ALLOC:
		if (!inside(window, record->u.alloc.time_ns))
			return 0;
		return keep_alloc(&record->u.alloc, live, totals);
	case CAPTURE_RECORD_FREE: {
		uint64_t size;
		if (!inside(window, record->u.free.time_ns) ||
		    !live_map_remove(live, record->u.free.address, &size))
			return 0;
		double weight = weight_of(totals, record->u.free.address, size, true);
		totals->frees += weight;
		totals->trailer.events++;
		count_live(totals, weight, size, -1.0);
		return 1;
	}
	case CAPTURE_RECORD_EXPAND: {
		const struct capture_expand *expand = &record->u.expand;
		uint64_t *size = live_map_find(live, expand->address);
		if (!inside(window, expand->time_ns) || size == NULL)
			return 0;
		return keep_expand(expand, size, totals);
	}
	case CAPTURE_RECORD_TAG:
		return inside(window, record->u.tag.time_ns) &&
		       live_map_find(live, record->u.tag.address) != NULL;
	}
	return 0;
}

/* Writes the held-back TRACKING record and the new trailer, in a block of
 * their own so that they are together in the last one. */
static int finish(struct totals *totals, const struct window *window,
                  struct capture_writer *writer)
{
	struct capture_trailer *trailer = &totals->trailer;
	trailer->allocations = sample_count(totals->allocations);
	trailer->frees = sample_count(totals->frees);
	trailer->allocated_bytes = sample_count(totals->allocated_bytes);
	trailer->live_blocks = sample_count(totals->live_blocks);
	trailer->live_bytes = sample_count(totals->live_bytes);
	trailer->peak_bytes = sample_count(totals->peak_bytes);
	trailer->sample_interval = totals->weigher.rule.interval;
	uint64_t end = totals->last_time_ns;
	if (totals->source_has_trailer) {
		end = totals->source.time_ns;
		trailer->lost_events = totals->source.lost_events;
	}
	trailer->time_ns = end < window->to_ns ? end : window->to_ns;

	int error = 0;
	if (totals->has_tracking) {
		struct capture_record tracking = {.type = CAPTURE_RECORD_TRACKING,
		                                  .u.tracking = totals->tracking};
		error = capture_writer_flush(writer);
		if (error == 0)
			error = capture_writer_add(writer, &tracking);
	}
	/* A source without a trailer (its program crashed, or it is cut)
	 * gets none here either: its live blocks are not leaks. */
	if (error < 0 || !totals->source_has_trailer)
		return error;
	struct capture_record record = {.type = CAPTURE_RECORD_TRAILER, .u.trailer = *trailer};
	return capture_writer_add(writer, &record);
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
	case CAPTURE_RECORD_SAMPLING: return record->u.sampling.time_ns;
	case CAPTURE_RECORD_TRACKING: return record->u.tracking.time_ns;
	default: return 0;
	}
}

/* Copies the kept records of the capture at path to writer. */
static int repack(const char *path, const struct window *window, struct capture_writer *writer)
{
	struct capture_reader *reader = NULL;
	struct live_map *live = NULL;
	struct totals totals = {.has_tracking = false};
	int error = capture_reader_open(path, &reader, NULL);
	if (error < 0)
		return error;
	error = live_map_create(&live);
	if (error < 0)
		goto out;

	struct capture_record record;
	int more;
	while ((more = capture_reader_next(reader, &record)) == 1) {
		uint64_t time_ns = record_time(&record);
		if (time_ns > totals.last_time_ns)
			totals.last_time_ns = time_ns;
		if (record.type == CAPTURE_RECORD_TRACKING &&
		    (error = hold_tracking(&record.u.tracking, window, &totals, writer)) < 0)
			goto out;
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
	if (more == -EBADMSG) {
		/* The new file is whole, but what it holds is not: it says so. */
		const char *warning = capture_reader_warning(reader);
		record = (struct capture_record){
			.type = CAPTURE_RECORD_INFO,
			.u.info = {.key = "cut_short",
			           .value = warning != NULL ? warning : "the source was cut short"},
		};
		if ((error = capture_writer_add(writer, &record)) < 0)
			goto out;
	}
	error = finish(&totals, window, writer);
out:
	live_map_destroy(totals.intervals);
	sample_weigher_finish(&totals.weigher);
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
