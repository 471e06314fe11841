/* capture.h - the records of a .memscope capture, and the streaming writer
 * and reader of the file format (docs/capture-format.md).
 *
 * A capture is a header and a sequence of blocks; each block holds a run of
 * records and is complete on its own, so a file cut anywhere reads up to its
 * last complete block.  The writer appends records and writes a
 * block when it fills or on flush; the reader hands records back in order.
 * Errors are negative errno values.
 */
#ifndef MEMSCOPE_CAPTURE_H
#define MEMSCOPE_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CAPTURE_FORMAT_MAJOR 1
#define CAPTURE_FORMAT_MINOR 4
#define CAPTURE_MAX_BUILD_ID 64
#define CAPTURE_MAX_SEGMENTS 16

/* The framing of the file (docs/capture-format.md), shared by the writer, the
 * reader and tests that build files by hand.  A header of
 * CAPTURE_HEADER_SIZE bytes starting with the 8 bytes of CAPTURE_MAGIC, then
 * blocks: a type byte, a u32 payload length, the payload, a u32 CRC-32. */
#define CAPTURE_MAGIC "MEMSCOPE"
#define CAPTURE_HEADER_SIZE 16
#define CAPTURE_BLOCK_HEADER_SIZE 5
#define CAPTURE_BLOCK_CRC_SIZE 4
#define CAPTURE_BLOCK_RECORDS 0x01  /* records, in the order they were added */
#define CAPTURE_BLOCK_END 0x02      /* written last, by a writer that finished */
#define CAPTURE_BLOCK_RECORDS_ZSTD 0x03 /* the same, compressed with zstd */
#define CAPTURE_MAX_PAYLOAD (16u << 20) /* larger lengths are corrupt */
#define CAPTURE_MAX_STRING (1u << 20)   /* bytes in one string field */
#define CAPTURE_KIND_BITS 5 /* events pack thread << 5 | kind into one varint */

/* How a block was obtained or given back; recorded with each event. */
enum capture_alloc_kind {
	CAPTURE_KIND_MALLOC = 0,
	CAPTURE_KIND_CALLOC,
	CAPTURE_KIND_REALLOC,
	CAPTURE_KIND_POSIX_MEMALIGN,
	CAPTURE_KIND_ALIGNED_ALLOC,
	CAPTURE_KIND_MEMALIGN,
	CAPTURE_KIND_VALLOC,
	CAPTURE_KIND_MALLOCX,
	CAPTURE_KIND_RALLOCX,
	CAPTURE_KIND_FREE,
	CAPTURE_KIND_DALLOCX,
	CAPTURE_KIND_SDALLOCX,
	CAPTURE_KIND_XALLOCX,
	CAPTURE_KIND_COUNT
};

enum capture_record_type {
	CAPTURE_RECORD_INFO = 1,   /* key = value, about the run */
	CAPTURE_RECORD_MODULE,     /* a loaded (or unloaded) ELF object */
	CAPTURE_RECORD_THREAD,     /* a thread seen for the first time */
	CAPTURE_RECORD_STACK_NODE, /* a new edge of the stack trie */
	CAPTURE_RECORD_ALLOC,      /* a block handed out */
	CAPTURE_RECORD_FREE,       /* a block given back */
	CAPTURE_RECORD_EXPAND,     /* a block resized in place */
	CAPTURE_RECORD_TAG,        /* a block named by the program */
	CAPTURE_RECORD_SAMPLE,     /* a timeline sample */
	CAPTURE_RECORD_TRAILER,    /* totals, written at a clean end */
	CAPTURE_RECORD_SAMPLING,   /* (minor 1) from here on, allocations are sampled */
	CAPTURE_RECORD_TRACKING,   /* (minor 1) the backend's tracking counters so far */
	CAPTURE_RECORD_TASK,       /* (minor 2) a task begins */
	CAPTURE_RECORD_TASK_END,   /* (minor 2) a task ends */
	CAPTURE_RECORD_TASK_SWITCH,/* (minor 2) a thread runs another task from here on */
	CAPTURE_RECORD_THREAD_SAMPLING, /* (minor 3) a thread's sampling interval from here on */
};

/* Where a task came from (capture_task.origin). */
enum capture_task_origin {
	CAPTURE_TASK_THREAD = 0,     /* the root task of a thread: what runs outside any other */
	CAPTURE_TASK_ANNOTATION = 1, /* named by the program (memscope/task.h) */
	CAPTURE_TASK_UCONTEXT = 2,   /* a ucontext coroutine (makecontext), found by memscope */
	CAPTURE_TASK_ORIGIN_COUNT
};

struct capture_info {
	const char *key;
	const char *value;
};

struct capture_segment {
	uint64_t start;            /* run-time address of a PT_LOAD segment */
	uint64_t end;              /* one past its last byte */
};

struct capture_module {
	uint32_t id;               /* dense, from 0, in order of first appearance */
	bool unloaded;             /* true: this id was dlclose'd at time_ns */
	uint64_t time_ns;
	const char *path;          /* as the loader saw it; "" for the main program is
	                              replaced by the writer with /proc/self/exe's target */
	uint64_t base;             /* load bias: run-time address minus ELF vaddr */
	uint32_t build_id_size;
	uint8_t build_id[CAPTURE_MAX_BUILD_ID];
	uint32_t segment_count;
	struct capture_segment segments[CAPTURE_MAX_SEGMENTS];
};

struct capture_thread {
	uint32_t index;            /* dense, from 0: what events carry */
	uint32_t tid;              /* the kernel's thread id */
	const char *name;
};

/* Stack nodes are numbered from 1 in the order they are written; 0 is the
 * empty stack.  A stack is a node: its ip is the innermost frame, and parent
 * leads outwards towards main. */
struct capture_stack_node {
	uint32_t id;
	uint32_t parent;
	uint64_t ip;               /* a return address (or the exact pc of frame 0) */
};

struct capture_alloc {
	uint64_t time_ns;          /* since the capture started */
	uint32_t thread;           /* capture_thread.index */
	uint32_t kind;             /* enum capture_alloc_kind */
	uint64_t address;
	uint64_t size;             /* bytes requested */
	uint64_t usable;           /* bytes the allocator reserved */
	uint32_t stack;            /* stack node id */
};

struct capture_free {
	uint64_t time_ns;
	uint32_t thread;
	uint32_t kind;
	uint64_t address;
};

struct capture_expand {
	uint64_t time_ns;
	uint32_t thread;
	uint32_t kind;
	uint64_t address;
	uint64_t size;             /* new bytes requested */
	uint64_t old_usable;
	uint64_t usable;
	uint32_t stack;
};

struct capture_tag {
	uint64_t time_ns;
	uint32_t thread;
	uint64_t address;
	const char *name;
	const char *type_name;     /* "" when not given */
	const char *file;
	uint32_t line;
};

struct capture_sample {
	uint64_t time_ns;
	uint64_t heap_live_bytes;  /* requested bytes live, from the event stream */
	uint64_t heap_live_blocks;
	uint64_t rss_bytes;
	uint64_t jemalloc_allocated;
	uint64_t jemalloc_active;
	uint64_t jemalloc_resident;
	uint64_t jemalloc_mapped;
	uint64_t jemalloc_retained;
	uint64_t cpu_user_ns;
	uint64_t cpu_system_ns;
	uint32_t threads;
	uint64_t io_read_bytes;
	uint64_t io_write_bytes;
};

struct capture_trailer {
	uint64_t time_ns;          /* when the capture ended */
	uint64_t allocations;      /* blocks handed out: ALLOC records */
	uint64_t frees;
	uint64_t allocated_bytes;
	uint64_t peak_bytes;
	uint64_t peak_time_ns;
	uint64_t live_blocks;      /* still allocated at the end */
	uint64_t live_bytes;
	uint64_t events;           /* events written */
	uint64_t lost_events;      /* events that could not be recorded */
	/* Minor 1: the sampling interval in force at the end, 0 for a capture
	 * of every event.  When it is not 0, the counts and bytes above are
	 * estimates (each sampled block weighted, see sampling.h), rounded. */
	uint64_t sample_interval;
};

/* Written before the first event of a sampling backend, and again whenever
 * the interval changes: every ALLOC and EXPAND after it, up to the next
 * SAMPLING record, was picked by a Poisson process over allocated bytes with
 * this mean interval, and stands for sample_weight(size, interval, counting) blocks of
 * its size (sampling.h).  FREE records are written for sampled blocks only. */
struct capture_sampling {
	uint64_t time_ns;
	uint64_t interval;         /* mean bytes between samples; 0 or 1: every allocation */
	uint64_t seed;             /* of the samplers' random numbers */
	uint64_t exact_above;      /* since minor 3: blocks of at least this many requested
	                              bytes are all recorded, weight 1; 0: none */
	uint64_t counting;         /* since minor 4: what a block of size bytes counted for
	                              in the countdown, an enum sampling_count: 1 size + 1;
	                              0 (and absent, from older writers) max(size, 1) */
};

/* The backend's own counters, cumulative since the capture started: written
 * every second and at the end, so the last one read is the latest. */
struct capture_tracking {
	uint64_t time_ns;
	uint64_t attempts;         /* events the backend tried to record */
	uint64_t successes;        /* recorded */
	uint64_t misses;           /* dropped: no room left in the thread's buffers, or lost */
	uint64_t waits;            /* times a thread waited for room (the exact backend waits) */
	uint64_t growths;          /* times a thread's buffer was grown because it was full */
	uint64_t task_changes;     /* since minor 3: task entries recorded besides the events
	                              (their waits are in waits); 0 from older writers */
};

/* Tasks (minor 2, written by the async backend).  Task ids are dense, from
 * 1, in order of their TASK records; 0 is "no task".  Every heap event of
 * a thread belongs to the task its last TASK_SWITCH named, or before any,
 * to the thread's root task (the TASK whose origin is CAPTURE_TASK_THREAD
 * and whose thread it is). */
struct capture_task {
	uint64_t time_ns;
	uint32_t id;
	uint32_t parent;           /* the task current where it began; 0: none */
	uint32_t thread;           /* where it began */
	uint32_t origin;           /* enum capture_task_origin */
	uint64_t key;              /* the program's id for it (task.h), the context's address
	                              (ucontext), the thread's tid (root) */
	const char *name;
};

struct capture_task_end {
	uint64_t time_ns;
	uint32_t id;
	uint32_t thread;           /* where it ended */
};

struct capture_task_switch {
	uint64_t time_ns;
	uint32_t thread;
	uint32_t task;             /* what the thread runs from here on; 0: its root task */
};

/* (minor 3) A sampling backend whose interval moves: the thread's sampled
 * ALLOC and EXPAND records from here on were picked at this interval, not
 * the last SAMPLING record's (which still names the threshold). */
struct capture_thread_sampling {
	uint64_t time_ns;
	uint32_t thread;
	uint64_t interval;
};

struct capture_record {
	enum capture_record_type type;
	union {
		struct capture_info info;
		struct capture_module module;
		struct capture_thread thread;
		struct capture_stack_node stack_node;
		struct capture_alloc alloc;
		struct capture_free free;
		struct capture_expand expand;
		struct capture_tag tag;
		struct capture_sample sample;
		struct capture_trailer trailer;
		struct capture_sampling sampling;
		struct capture_tracking tracking;
		struct capture_task task;
		struct capture_task_end task_end;
		struct capture_task_switch task_switch;
		struct capture_thread_sampling thread_sampling;
	} u;
};

/* ---- writer ---------------------------------------------------------- */

struct capture_writer;

/* Starts a capture on fd (not closed by the writer): writes the header.
 * Returns 0, -ENOMEM, or -errno of write. */
int capture_writer_create(int fd, struct capture_writer **out);

/* A writer that appends blocks to fd, which already holds the start of a
 * capture (its header and whole blocks, without the end block): used to
 * finish a copy of a capture that is still being written.  Returns 0 or
 * -ENOMEM. */
int capture_writer_create_continuing(int fd, struct capture_writer **out);

/* Before each block it writes, the writer checks that its descriptor still
 * leads to the file it was given; when the traced program has closed the
 * number or put a file of its own there, it writes nothing there and
 * calls reopen for a descriptor of its file again (appending), or fails
 * with what reopen returned (a negative errno). */
void capture_writer_watch(struct capture_writer *writer, int (*reopen)(void *context),
                          void *context);

/* Trades size for speed from the next block on: for a writer that runs on
 * the traced program's own thread, not a thread of its own. */
void capture_writer_compress_fast(struct capture_writer *writer, bool fast);

/* Adds one record.  Strings are copied (NULL is written as "").  Records are
 * written in the order they are added.  Returns 0, -EINVAL (unknown type or
 * kind, a count over its CAPTURE_MAX_*, a string over CAPTURE_MAX_STRING, a
 * stack node whose id is 0 or not above its parent), -ENOMEM, or -errno of
 * write (a full disk: the writer then stops writing, and every later call
 * returns it). */
int capture_writer_add(struct capture_writer *writer, const struct capture_record *record);

/* Writes the pending records as a block.  Returns 0 or -errno of write. */
int capture_writer_flush(struct capture_writer *writer);

/* Bytes written to fd so far. */
uint64_t capture_writer_bytes(const struct capture_writer *writer);

/* Flushes, writes the end block that tells readers the capture is complete,
 * and frees.  NULL is a no-op.  Returns 0 or the first write error. */
int capture_writer_destroy(struct capture_writer *writer);

/* ---- reader ---------------------------------------------------------- */

struct capture_reader;

/* Opens a capture.  Returns 0, -errno of open, -EPROTO (not a memscope
 * capture), -EPROTONOSUPPORT (a major version this reader does not know).
 * On failure *message (if not NULL) points at a static explanation. */
int capture_reader_open(const char *path, struct capture_reader **out, const char **message);

/* Next record into *record, whose strings stay valid until the next call.
 * Every value is checked: kinds are below CAPTURE_KIND_COUNT, counts within
 * their CAPTURE_MAX_*, a stack node's parent below its id.  Returns 1, 0 at
 * the end, -EBADMSG when the rest of the file is cut (a capture without the
 * writer's end block is cut) or corrupt: everything before was returned, and
 * capture_reader_warning() says what and where; or -errno of read, or
 * -ENOMEM (a block is held in memory whole; blocks are at most 16 MiB). */
int capture_reader_next(struct capture_reader *reader, struct capture_record *record);

/* NULL, or what was wrong with the file, naming the byte offset. */
const char *capture_reader_warning(const struct capture_reader *reader);

/* Goes back to the first record, for a second pass.  Returns 0 or -errno. */
int capture_reader_rewind(struct capture_reader *reader);

/* The trailer of a capture that ended cleanly, found without reading the
 * events (only the last records block is decoded), then rewinds.  Returns
 * 0, -ENOENT (no end block or no trailer: read the whole capture to know
 * what it holds), or -EBADMSG. */
int capture_reader_find_trailer(struct capture_reader *reader, struct capture_trailer *out);

/* What a capture that ended cleanly says at its end: its trailer, and the
 * backend's last TRACKING record (written just before the trailer). */
struct capture_ending {
	struct capture_trailer trailer;
	bool has_tracking;         /* false: the capture holds no TRACKING record there */
	struct capture_tracking tracking;
};

/* capture_reader_find_trailer(), and the last TRACKING record with it:
 * looked for in the last records block, and in the one before when the
 * last has none (a block boundary can fall between the two records).
 * Rewinds.  Returns 0, -ENOENT (no end block or no trailer), or -EBADMSG. */
int capture_reader_find_ending(struct capture_reader *reader, struct capture_ending *out);

/* How far the reader has got: the file offset of the block it is in, and
 * the file's size (for progress on long reads). */
uint64_t capture_reader_offset(const struct capture_reader *reader);
uint64_t capture_reader_size(const struct capture_reader *reader);

/* The format version the file declares. */
void capture_reader_version(const struct capture_reader *reader, uint32_t *major, uint32_t *minor);

/* NULL is a no-op. */
void capture_reader_destroy(struct capture_reader *reader);

/* "malloc", "calloc", ... for an enum capture_alloc_kind; "?" if unknown. */
const char *capture_alloc_kind_name(uint32_t kind);

#endif
