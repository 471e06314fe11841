/* event_store.h - from the allocation hooks to the capture file.
 *
 * Producers (the program's threads, inside the hooks) append events to a
 * ring buffer of their own: no locks, no allocation, no syscall once the
 * thread has its ring.  Each event takes a number from one process-wide
 * sequence, so the consumer can merge the rings back into the true global
 * order: a free is always written after the allocation it frees, whichever
 * threads did them.  The consumer (the tracker's writer thread, or any
 * thread asking for up-to-date totals) interns stacks, keeps the live set
 * and the totals, and encodes records into the capture writer.
 *
 * Rings belong to the process, not to a store: a thread keeps its ring
 * across trackers, and the ring of a thread that has ended is reused.
 * Only one store exists at a time.  Errors are negative errno values.
 */
#ifndef MEMSCOPE_EVENT_STORE_H
#define MEMSCOPE_EVENT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "capture.h"

struct event_store;

/* Totals over the events consumed so far. */
struct store_totals {
	uint64_t allocations;         /* blocks handed out (moved reallocs included) */
	uint64_t reallocations;       /* blocks resized in place */
	uint64_t frees;               /* tracked blocks given back */
	uint64_t untracked_frees;     /* blocks given back that were allocated before tracking */
	uint64_t allocated_bytes;     /* requested bytes of every allocation (not of resizes) */
	uint64_t live_blocks;
	uint64_t live_bytes;
	uint64_t live_usable_bytes;
	uint64_t peak_bytes;
	uint64_t peak_time_ns;
	uint64_t events;              /* events written */
	uint64_t lost_events;         /* events that could not be recorded */
	uint64_t producer_waits;      /* times a thread waited for room in its ring */
	uint64_t dropped_events;      /* events try_record found no room for */
	uint64_t ring_growths;        /* rings replaced by larger ones because they were full */
	uint64_t task_changes;        /* task entries (begins, enters, leaves, ends, switches)
	                                 taken from the rings: they wait for room as events do */
	uint64_t sample_interval;     /* event_store_set_sampling's; 0: every event.  When above
	                                 1, allocations..peak_bytes are rounded estimates */
};

/* Creates a store writing a capture to fd (which the store does not close).
 * Returns 0, -ENOMEM, or -errno of writing the capture header. */
int event_store_create(int fd, struct event_store **out);

struct ring_window;

/* A store in a process that memscope traces from outside (ring_window.h):
 * its rings live in window, and records travel in them; memscope reads
 * them (event_store_attach) and writes the capture.  The store only numbers
 * and publishes: draining, flushing and reaping are memscope's, and its
 * totals stay zero.  Returns 0 or -ENOMEM. */
int event_store_create_shared(struct ring_window *window, struct event_store **out);

/* In a remote store, after the last event and record: says that the
 * tracker stopped, with the events the process lost (no ring, or no
 * room), and stops accepting. */
void event_store_finish(struct event_store *store);

/* memscope's side: a store that reads the rings of window, mapped here,
 * and writes the capture to fd.  The window must be TRACING (its first
 * event number set).  Returns 0, -ENOMEM, or -errno of the header. */
int event_store_attach(struct ring_window *window, int fd, struct event_store **out);

/* Consumes everything the rings hold, giving up at once on numbers that
 * were taken and never published: for rings whose process is gone. */
uint64_t event_store_drain_all(struct event_store *store);

/* The trailer of what was consumed so far, at time_ns, with lost more
 * events lost than the store counted (the tracker's trailer, and that of
 * a process whose rings memscope read). */
struct capture_record event_store_trailer(struct event_store *store, uint64_t time_ns,
                                          uint64_t lost);

/* Whether the rings' process finished its capture (its event_store_finish
 * was consumed). */
bool event_store_finished(const struct event_store *store);

/* memscope's side, once the rings are drained: the trailer of a finished
 * capture, with the totals of what was consumed; else an INFO record
 * "death" = death, saying how the process ended.  Returns 0 or the
 * writer's error. */
int event_store_end(struct event_store *store, const char *death);
/* The "death" of a process killed by signal, "killed by signal 9
 * (Killed)": the same words from memscope's side and from the process's
 * own fatal-signal handler (the names are not translated). */
void event_store_signal_death(int signal, char *text, size_t size);

/* In the program's own process, as a signal kills it (tracker.c): stops
 * accepting events, consumes every one the rings hold, calls last_records
 * (if not NULL) to add the run's last records, records INFO "death" =
 * death, and ends the file with the end block, as memscope does for a
 * process it traced from outside.  Nothing is written after it.  Waits at
 * most wait_ns for the consumer's locks (-EDEADLK: a pass that never ends
 * holds them).  Returns 0 or the writer's error. */
int event_store_end_at_death(struct event_store *store, const char *death, uint64_t wait_ns,
                             void (*last_records)(void *context), void *context);
/* The store's capture file is watched (capture_writer_watch): reopen gives
 * a descriptor of it again when the traced program took the number. */
void event_store_watch_file(struct event_store *store, int (*reopen)(void *context),
                            void *context);
/* Before event_store_open: the events will be samples, picked with this
 * mean interval in bytes (sampling.h), but for the blocks of at least
 * exact_above bytes (0: none), which are all recorded.  The capture says
 * so before its first event, and the totals become estimates. */
void event_store_set_sampling(struct event_store *store, uint64_t interval, uint64_t seed,
                              uint64_t exact_above);

/* Before event_store_open: the capture records tasks (the async backend).
 * Every thread gets a root task when it is first seen, and the entries of
 * event_store_record_task become TASK, TASK_END and TASK_SWITCH records.
 * Returns 0 or -ENOMEM. */
int event_store_record_tasks(struct event_store *store);

/* Starts accepting events: from here on, events carry numbers this store
 * consumes; anything older left in a ring is dropped. */
void event_store_open(struct event_store *store);

/* A store without a writer thread (used with event_store_try_record
 * only): the producers run the consumer's pass themselves, after an event
 * they record, when period_ns has gone by since the last pass or their ring
 * is half full.  A pass never waits for another: the thread that finds one
 * running goes on.  Events are then stamped with the clock read at their
 * recording.  pass NULL: back to an outside consumer (the caller starts
 * one); waits for a pass under way to finish. */
typedef void (*store_pass_fn)(void *context);
void event_store_set_inline_pass(struct event_store *store, store_pass_fn pass, void *context,
                                 uint64_t period_ns);

/* Stops accepting events (a thread already inside a hook may still finish
 * one) and consumes every event recorded before this call. */
void event_store_close(struct event_store *store);

/* Frees the store.  NULL is a no-op. */
void event_store_destroy(struct event_store *store);

/* ---- producers: any thread, from the hooks ------------------------------ */

/* Records one event with its stack (ips innermost first; depth may be 0).
 * A thread whose ring is full gets one twice the size, up to 8 MiB; past
 * that it waits for room, so nothing is lost. */
void event_store_record(struct event_store *store, const struct heap_event *event,
                        const uint64_t *ips, int depth);

/* A sampling backend whose interval moves: from here on, the calling
 * thread's sampled events were picked at interval (until the next call).
 * Never waits; returns whether it was recorded (if not, record no sampled
 * event: its weight would be wrong). */
bool event_store_try_record_interval(struct event_store *store, uint64_t interval);

/* The same, but never waits: past the bound, the event is dropped and
 * counted (store_totals.dropped_events).  Returns whether it was recorded. */
bool event_store_try_record(struct event_store *store, const struct heap_event *event,
                            const uint64_t *ips, int depth);

/* Records a tag on the live block at address.  Strings are copied (each cut
 * at 255 bytes).  Returns 0 or -EAGAIN when the store is not accepting. */
int event_store_record_tag(struct event_store *store, uint64_t address, const char *name,
                           const char *type_name, const char *file, uint32_t line);

/* Names the calling thread's next ALLOC event: its TAG entry follows the
 * event in the thread's ring, so it names that block whatever its
 * address.  A name given before and not yet used is replaced; an ALLOC
 * event the ring had no room for takes the name with it.  Strings are
 * copied (each cut at 255 bytes).  Returns 0, -EAGAIN when the store is
 * not accepting, or -ENOMEM. */
int event_store_tag_next(struct event_store *store, const char *name, const char *type_name,
                         const char *file, uint32_t line);

/* What a thread says about its tasks.  A key names a task in the runtime:
 * the program's own id (task.h), or a coroutine's serial number, told
 * apart by origin (enum capture_task_origin); key 0 is the thread's root
 * task.  The store gives each task a capture id the first time its key
 * begins or is switched to (a switch to a key never begun begins it, with
 * no name), and forgets the key when it ends. */
enum store_task_op {
	STORE_TASK_BEGIN = 1,
	STORE_TASK_END,
	STORE_TASK_SWITCH,           /* the calling thread runs key from here on */
};

struct store_task {
	enum store_task_op op;
	uint64_t key;
	uint32_t origin;
	uint64_t parent;             /* begin: the parent's key; 0: the task current on the
	                                calling thread */
	uint32_t parent_origin;
	uint64_t shown_key;          /* begin: the key the capture records (capture_task.key) */
	const char *name;            /* begin: NULL or a name, cut at 255 bytes */
};

/* Records a task event of the calling thread, in order with its heap
 * events.  Waits for room as event_store_record does (a lost switch would
 * misplace every later event of the thread).  Returns 0, or -EAGAIN when
 * the store is not accepting, -ENOMEM when the thread has no ring. */
int event_store_record_task(struct event_store *store, const struct store_task *task);

/* ---- consumers ---------------------------------------------------------- */

/* Consumes what the rings hold, in order, and writes it.  Returns the
 * number of events consumed. */
uint64_t event_store_drain(struct event_store *store);

/* Consumes every event recorded before this call (waits for threads that
 * are just writing one). */
void event_store_sync(struct event_store *store);

/* Adds a record of the run itself (INFO, MODULE, SAMPLE, TRAILER...) at the
 * current point of the event stream.  A SAMPLE gets its heap fields filled
 * from the live totals.  Returns 0 or the capture writer's error. */
int event_store_add_record(struct event_store *store, struct capture_record *record);

/* Writes pending records to the file.  Returns 0 or the first write error. */
int event_store_flush(struct event_store *store);

/* Copies the totals. */
void event_store_totals(struct event_store *store, struct store_totals *out);

/* The events the producers have offered this store so far, recorded
 * (numbered, whether or not the consumer has taken them in yet) or
 * dropped: what a backend that paces itself counts, since events written
 * lag behind when the consumer cannot keep up.  Lock-free. */
uint64_t event_store_offered(struct event_store *store);

/* The first write error of the capture (e.g. -ENOSPC), or 0. */
int event_store_error(struct event_store *store);

/* Time base of the capture: ns since the store was opened. */
uint64_t event_store_now(const struct event_store *store);

/* Moves the clock that stamps events to now.  Events carry the time of the
 * last tick, so they are stamped to within the consumer's cadence (about a
 * millisecond: the writer thread ticks at every pass). */
void event_store_tick(struct event_store *store);

/* Hands the rings of threads that have ended, once drained, to new
 * threads.  Called now and then by the writer thread. */
void event_store_reap(struct event_store *store);

/* Marks every ring as belonging to nobody: called in a forked child, where
 * only the forking thread survives. */
void event_store_forget_rings_after_fork(void);

#endif
