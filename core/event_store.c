/* event_store.c - see event_store.h.
 *
 * A ring is single-producer (its thread), single-consumer (whoever holds
 * the store's lock).  Entries are runs of 64-bit words:
 *
 *   word 0  header: type (8 bits) | kind (8) | new frames (16) |
 *           shared frames (16) | length in words (16)
 *   word 1  sequence number
 *   word 2  time, ns since the store opened
 *   word 3  address
 *   FREE:   usable
 *   ALLOC:  size, usable, ips[new frames]
 *   EXPAND: size, usable, old usable, ips[new frames]
 *   TAG:    line | name length << 32, type length, file length, then the
 *           three strings' bytes, padded to whole words
 *   TASK:   (kind: enum store_task_op; word 3 is the key) origin |
 *           parent origin << 8 | name length << 16; then for a begin,
 *           parent key, shown key, the name's bytes padded to whole words
 *   RECORD: (rings in a ring window) word 3 the record's type, word 4 the
 *           lengths of its two strings (first | second << 32), then the
 *           record's union, then the strings' bytes, padded to whole words
 *   FINISH: (rings in a ring window) the tracker stopped: word 3 the time,
 *           word 4 the events lost in the process (no ring, or no room)
 *   PAD:    (header only) the rest of the ring up to its end is unused
 */
#include <errno.h>
#include <signal.h>
#include <math.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "event_store.h"
#include "guard.h"
#include "live_map.h"
#include "ring_window.h"
#include "sampling.h"
#include "stack_trie.h"
#include "task_registry.h"

/* A thread starts with a ring of 512 KiB (but see INLINE_RING_WORDS).  A
 * ring that fills before the consumer catches up is replaced by one twice
 * its size, up to 8 MiB; only then does a full ring make the producer wait
 * (event_store_record) or drop the event (event_store_try_record). */
#define RING_WORDS (1u << 16)
#define RING_MAX_WORDS (1u << 20)
/* In inline mode (event_store_set_inline_pass: one program thread, which
 * drains its own ring whenever it is half full) the thread's ring is 128
 * KiB, its pages populated with the mapping: the first touch of a page
 * costs a fault, 11 us on this VM against 0.5 us a page populated in bulk,
 * and as the head went round a 512 KiB ring a sampled malloc/free loop
 * took 128 of them, 1.4 ms of its second. */
#define INLINE_RING_WORDS (1u << 14)
#define CACHE_LINE 64
#define TAG_STRING_MAX 255
#define PREFETCH_WORDS 128            /* 1 KiB ahead of the producer */

/* Stacks are sent as a difference from the thread's previous one: the
 * outermost "shared" frames are the same, and only the inner, new frames
 * travel (innermost first).  Consecutive allocations of a thread mostly
 * share their outer frames, so this halves the ring traffic and the
 * consumer's trie lookups on deep stacks. */
#define MAX_FRAMES MEMSCOPE_MAX_STACK_DEPTH
/* "shared" value of an entry whose difference was computed against a
 * previous store's stack (a store opened meanwhile): its stack is unknown. */
#define SHARED_UNKNOWN 0xffffu
/* Distinct sampling intervals one capture's live blocks may carry (a
 * backend whose interval moves keeps to a grid of them). */
#define STORE_INTERVALS 1024

enum entry_type {
	ENTRY_PAD = 0,
	ENTRY_ALLOC = HEAP_EVENT_ALLOC,
	ENTRY_FREE = HEAP_EVENT_FREE,
	ENTRY_EXPAND = HEAP_EVENT_EXPAND,
	ENTRY_TAG = 8,
	ENTRY_TASK = 9,
	ENTRY_INTERVAL = 10,          /* word 3: the thread's sampling interval from here on */
	ENTRY_RECORD = 11,
	ENTRY_FINISH = 12,
};

enum ring_state {
	RING_FREE = 0,
	RING_OWNED = 1,
	RING_RETIRED = 2,  /* replaced by a larger ring: drained, then free */
};

struct ring {
	/* Set once per owner; read by the consumer for every entry. */
	uint32_t tid;
	char first_name[16];          /* the thread's name when it took the ring: the
	                                 consumer's if the thread is gone before it looks */
	uint32_t generation;          /* bumped by every new owner before it publishes */
	_Atomic(struct ring *) next;  /* registry link, set once */
	_Atomic int state;
	uint64_t mask;                /* capacity in words, minus one */
	struct ring *grown_from;      /* the full ring this one replaced, or NULL */
	uint32_t grown_from_generation;

	/* The producer's: written for every entry. */
	_Alignas(CACHE_LINE) _Atomic uint64_t head; /* words published */
	uint64_t tail_seen;           /* the producer's last look at tail */
	uint32_t stack_epoch;         /* store_epoch when previous_ips was last valid */
	uint32_t previous_depth;
	uint64_t previous_ips[MAX_FRAMES]; /* outermost first: a new stack only
	                                      rewrites the frames past the shared ones */

	/* The consumer's. */
	_Alignas(CACHE_LINE) _Atomic uint64_t tail; /* words consumed */
	uint32_t seen_generation;
	uint32_t thread_index;
	bool announced;
	uint64_t last_time;           /* of the last entry consumed: when the thread was last seen */
	uint64_t interval;            /* its sampled events' interval; 0: the store's */
	uint32_t path_depth;          /* the previous stack, as trie nodes by level */
	uint32_t path[MAX_FRAMES + 1];

	_Alignas(CACHE_LINE) uint64_t words[];
};

/* The rings of the process: a push-only list, so producers register
 * without a lock and consumers walk it without one. */
/* Each on a cache line of its own: every producer bumps next_sequence, and
 * the consumer must not keep pulling that line away from them. */
static _Alignas(CACHE_LINE) _Atomic(struct ring *) own_ring_list;
/* The list producers push to: their own, or, in a process memscope traces
 * from outside (event_store_create_shared), the ring window's. */
static _Atomic(struct ring *) *ring_list = &own_ring_list;
static struct ring_window *ring_window;
static atomic_bool rings_inline;   /* new rings are INLINE_RING_WORDS, populated */
static _Alignas(CACHE_LINE) _Atomic uint64_t next_sequence;
/* Bumped by every store that opens: producers then forget their previous
 * stack, so the first difference each sends the new store is complete. */
static _Alignas(CACHE_LINE) _Atomic uint32_t store_epoch;
/* Event time: ns since the store opened, kept by the consumer (about every
 * millisecond, see event_store_tick), read by producers for free: a clock
 * call for every event would cost more than the rest of the bookkeeping.
 * heaptrack stamps its events every 10 ms; this is finer. */
static _Alignas(CACHE_LINE) _Atomic uint64_t coarse_time;
/* Without a consumer thread (inline mode) the producers move the clock
 * themselves, but only when the time stamp counter says TICK_CYCLES have
 * passed since the last move (2^17 cycles: 44 us at 3 GHz): reading the
 * counter costs a third of a vDSO clock_gettime in a VM (11 against 27 ns
 * here), and a sampled malloc/free loop made two clock calls per sample.
 * Event times are then at most that much behind.  The counter only gates
 * the clock: a thread whose counter runs behind another's merely moves it
 * more often. */
#define TICK_CYCLES (UINT64_C(1) << 17)
static _Atomic uint64_t coarse_time_cycles;
static __thread struct ring *thread_ring __attribute__((tls_model("initial-exec")));

/* A name for the thread's next ALLOC event (event_store_tag_next). */
struct pending_tag {
	struct event_store *store;
	uint32_t line;
	char *name;
	char *type_name;
	char *file;
};
static __thread struct pending_tag *pending_tag __attribute__((tls_model("initial-exec")));

static void pending_tag_destroy(struct pending_tag *tag)
{
	if (tag == NULL)
		return;
	free(tag->name);
	free(tag->type_name);
	free(tag->file);
	free(tag);
}

/* The thread's pending name, taken: the caller records or destroys it.
 * Read on every ALLOC event, written only when there is one. */
static struct pending_tag *take_pending_tag(void)
{
	struct pending_tag *tag = pending_tag;
	if (tag != NULL)
		pending_tag = NULL;
	return tag;
}

struct event_store {
	pthread_mutex_t lock;         /* the consumer side */
	_Atomic bool accepting;
	uint64_t sequence_base;       /* events numbered before this are someone else's */
	uint64_t expected;            /* next sequence number to write */
	uint64_t stalled_since;       /* when the order stopped moving with events waiting; 0: it moves */
	struct timespec start;

	struct capture_writer *writer;
	int write_error;
	struct stack_trie *stacks;
	struct live_map *live;
	uint32_t thread_count;
	struct store_totals totals;
	_Atomic uint64_t producer_waits;
	_Atomic uint64_t rejected_events;
	_Atomic uint64_t dropped_events;  /* no room, and the producer would not wait */
	_Atomic uint64_t ring_growths;

	/* Without a writer thread (event_store_set_inline_pass): the pass the
	 * producers run, no more often than every inline_period ns. */
	_Atomic(store_pass_fn) inline_pass;
	void *inline_context;
	uint64_t inline_period;
	_Atomic uint64_t inline_due;  /* coarse time of the next pass */
	pthread_mutex_t inline_lock;  /* held through a pass */

	/* Sampling (event_store_set_sampling): the totals are then estimates,
	 * kept here unrounded; store_totals gets them rounded. */
	uint64_t sample_interval;     /* 0: every event */
	uint64_t exact_above;         /* hybrid: every block of at least this size; 0: none */
	enum sampling_count sample_counting; /* how the sampler counted a block's bytes */
	uint64_t intervals[STORE_INTERVALS]; /* the intervals threads sampled at; [0] unused */
	uint32_t interval_count;
	uint64_t sample_seed;
	struct {
		double allocations, frees, allocated_bytes;
		double live_blocks, live_bytes, live_usable_bytes, peak_bytes;
	} estimate;

	/* Tasks (event_store_record_tasks): NULL when the capture has none. */
	struct task_registry *tasks;

	/* Rings in a ring window (ring_window.h).  In the traced process the
	 * store is remote: it only numbers and publishes entries, and records
	 * travel in the rings too.  In memscope the store reads the window:
	 * its rings are at the traced process's addresses plus delta. */
	bool remote;
	struct ring_window *window;
	_Atomic(struct ring *) *rings; /* the list the consumer walks */
	intptr_t delta;
	bool finished;                /* a FINISH entry was consumed */
	uint64_t finish_time;
	uint64_t finish_lost;
};

/* A ring pointer of the rings' process, as the consumer sees it. */
static struct ring *translated(const struct event_store *store, struct ring *ring)
{
	return ring == NULL ? NULL : (struct ring *)((uintptr_t)ring + (uintptr_t)store->delta);
}

/* The process whose rings the consumer reads. */
static pid_t rings_pid(const struct event_store *store)
{
	return store->window != NULL && !store->remote ? (pid_t)store->window->pid : getpid();
}

static struct ring *first_ring(const struct event_store *store)
{
	return translated(store, atomic_load_explicit(store->rings, memory_order_acquire));
}

static struct ring *next_ring(const struct event_store *store, const struct ring *ring)
{
	return translated(store, atomic_load_explicit(&ring->next, memory_order_relaxed));
}

static uint64_t elapsed_ns(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)(now.tv_sec - start->tv_sec) * 1000000000u + (uint64_t)now.tv_nsec -
	       (uint64_t)start->tv_nsec;
}

uint64_t event_store_now(const struct event_store *store)
{
	return elapsed_ns(&store->start);
}

void event_store_tick(struct event_store *store)
{
	atomic_store_explicit(&coarse_time, elapsed_ns(&store->start), memory_order_relaxed);
}

/* ---- producers ---------------------------------------------------------- */

static struct ring *claim_free_ring(void)
{
	for (struct ring *ring = atomic_load_explicit(ring_list, memory_order_acquire); ring != NULL;
	     ring = atomic_load_explicit(&ring->next, memory_order_relaxed)) {
		int expected = RING_FREE;
		if (atomic_load_explicit(&ring->state, memory_order_relaxed) == RING_FREE &&
		    atomic_compare_exchange_strong(&ring->state, &expected, RING_OWNED))
			return ring;
	}
	return NULL;
}

/* A new ring of words words, owned, in the registry. */
static struct ring *map_ring(uint64_t words, bool populated)
{
	/* mmap, not malloc: memscope's buffers stay out of jemalloc's
	 * statistics, which the timeline records. */
	uint64_t bytes = sizeof(struct ring) + words * sizeof(uint64_t);
	void *memory;
	if (ring_window != NULL) {
		memory = ring_window_allocate(ring_window, bytes);
		if (memory == NULL)
			return NULL;
		if (populated)
			madvise(memory, bytes, MADV_POPULATE_WRITE);
	} else {
		memory = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		              MAP_PRIVATE | MAP_ANONYMOUS | (populated ? MAP_POPULATE : 0), -1, 0);
		if (memory == MAP_FAILED)
			return NULL;
	}
	struct ring *ring = memory;
	ring->mask = words - 1;
	atomic_store_explicit(&ring->state, RING_OWNED, memory_order_relaxed);
	struct ring *first = atomic_load_explicit(ring_list, memory_order_relaxed);
	do
		atomic_store_explicit(&ring->next, first, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(ring_list, &first, ring, memory_order_release,
	                                              memory_order_relaxed));
	return ring;
}

/* Once per thread: reuse the ring of a thread that has ended, or map one. */
static struct ring *acquire_ring(void)
{
	struct ring *ring = claim_free_ring();
	if (ring == NULL && atomic_load_explicit(&rings_inline, memory_order_relaxed))
		ring = map_ring(INLINE_RING_WORDS, true);
	else if (ring == NULL)
		ring = map_ring(RING_WORDS, false);
	if (ring == NULL)
		return NULL;
	ring->tid = (uint32_t)syscall(SYS_gettid);
	/* Once per thread, like the tid: /proc has no name for a thread that
	 * ended before the consumer read it. */
	if (prctl(PR_GET_NAME, ring->first_name) != 0)
		ring->first_name[0] = '\0';
	ring->first_name[sizeof(ring->first_name) - 1] = '\0';
	ring->generation++;
	ring->grown_from = NULL;
	ring->previous_depth = 0;
	ring->tail_seen = atomic_load_explicit(&ring->tail, memory_order_acquire);
	return ring;
}

/* The calling thread's ring is full: it gets one twice the size (or NULL
 * at the bound, or when memory is short).  The full ring keeps its entries
 * for the consumer, who frees it once drained; both carry numbers from the
 * one sequence, so the consumer's order does not change. */
static struct ring *grow_ring(struct event_store *store, struct ring *full)
{
	uint64_t words = (full->mask + 1) * 2;
	if (words > RING_MAX_WORDS)
		return NULL;
	struct ring *ring = map_ring(words, false);
	if (ring == NULL)
		return NULL;
	ring->tid = full->tid;
	memcpy(ring->first_name, full->first_name, sizeof(ring->first_name));
	ring->generation = 1;
	/* The consumer gives the new ring the thread index of the old one. */
	ring->grown_from = full;
	ring->grown_from_generation = full->generation;
	ring->tail_seen = 0;
	atomic_store_explicit(&full->state, RING_RETIRED, memory_order_release);
	thread_ring = ring;
	atomic_fetch_add_explicit(&store->ring_growths, 1, memory_order_relaxed);
	return ring;
}

static inline uint64_t entry_header(uint32_t type, uint32_t kind, uint32_t new_frames,
                                    uint32_t shared_frames, uint32_t words)
{
	return (uint64_t)type | (uint64_t)(kind & 0xff) << 8 | (uint64_t)new_frames << 16 |
	       (uint64_t)shared_frames << 32 | (uint64_t)words << 48;
}

static inline uint32_t entry_words(uint64_t header)
{
	return (uint32_t)(header >> 48);
}

enum full_ring {
	FULL_WAIT,                    /* wait for the consumer: nothing is lost */
	FULL_GIVE_UP,                 /* return NULL at once: never block */
};

/* A remote store's producer waiting for room looks every so many yields
 * whether memscope still drains; after DRAIN_PATIENCE_NS without a pass it
 * gives up, and the store stops accepting: a program whose memscope was
 * killed runs on, untraced, rather than wait for ever. */
#define DRAIN_CHECK_YIELDS 4096u
#define DRAIN_PATIENCE_NS 2000000000u

struct drain_watch {
	uint64_t passes;
	struct timespec since;
};

static bool drain_alive(struct event_store *store, struct drain_watch *seen)
{
	uint64_t passes = atomic_load_explicit(&store->window->passes, memory_order_relaxed);
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (seen->since.tv_sec == 0 || passes != seen->passes) {
		seen->passes = passes;
		seen->since = now;
		return true;
	}
	uint64_t waited = (uint64_t)(now.tv_sec - seen->since.tv_sec) * 1000000000u +
	                  (uint64_t)now.tv_nsec - (uint64_t)seen->since.tv_nsec;
	if (waited < DRAIN_PATIENCE_NS)
		return true;
	atomic_store(&store->accepting, false);
	return false;
}

/* Room for words contiguous words; returns where they go and sets *end to
 * the head value that publishes them, or NULL if the ring is full and the
 * policy is not to wait, or the store stopped while we waited. */
static uint64_t *reserve(struct event_store *store, struct ring *ring, uint32_t words,
                         enum full_ring policy, uint64_t *end)
{
	uint64_t capacity = ring->mask + 1;
	uint64_t head = atomic_load_explicit(&ring->head, memory_order_relaxed);
	uint64_t position = head & ring->mask;
	uint64_t padding = position + words > capacity ? capacity - position : 0;
	uint64_t needed = padding + words;
	bool waited = false;
	uint64_t yields = 0;
	struct drain_watch seen = {0};

	while (capacity - (head - ring->tail_seen) < needed) {
		ring->tail_seen = atomic_load_explicit(&ring->tail, memory_order_acquire);
		if (capacity - (head - ring->tail_seen) >= needed)
			break;
		if (policy == FULL_GIVE_UP || !atomic_load_explicit(&store->accepting, memory_order_relaxed))
			return NULL;
		if (!waited) {
			atomic_fetch_add_explicit(&store->producer_waits, 1, memory_order_relaxed);
			waited = true;
		}
		/* The writer thread drains every millisecond at most; let it run. */
		sched_yield();
		if (store->remote && ++yields % DRAIN_CHECK_YIELDS == 0 && !drain_alive(store, &seen))
			return NULL;
	}
	if (padding != 0) {
		ring->words[position] = entry_header(ENTRY_PAD, 0, 0, 0, (uint32_t)padding);
		position = 0;
	}
	*end = head + needed;
	/* Own the lines a few entries ahead before writing them: the consumer
	 * read them last, and a store that misses would stall the sequence
	 * number's locked add, which waits for every pending store. */
	__builtin_prefetch(&ring->words[(head + needed + PREFETCH_WORDS) & ring->mask], 1);
	__builtin_prefetch(&ring->words[(head + needed + PREFETCH_WORDS + 8) & ring->mask], 1);
	return &ring->words[position];
}

/* How many outermost frames ips shares with the thread's previous stack;
 * remembers ips as the new previous one. */
static uint32_t share_frames(struct ring *ring, const uint64_t *ips, uint32_t depth)
{
	uint32_t epoch = atomic_load_explicit(&store_epoch, memory_order_relaxed);
	if (ring->stack_epoch != epoch) {
		ring->stack_epoch = epoch;
		ring->previous_depth = 0;
	}
	uint32_t limit = depth < ring->previous_depth ? depth : ring->previous_depth;
	uint32_t shared = 0;
	while (shared < limit && ips[depth - 1 - shared] == ring->previous_ips[shared])
		shared++;
	for (uint32_t level = shared; level < depth; level++)
		ring->previous_ips[level] = ips[depth - 1 - level];
	ring->previous_depth = depth;
	return shared;
}

static struct ring *current_ring(void)
{
	if (thread_ring == NULL)
		thread_ring = acquire_ring();
	return thread_ring;
}

static bool record(struct event_store *store, const struct heap_event *event, const uint64_t *ips,
                   int depth, enum full_ring policy)
{
	struct ring *ring = current_ring();
	if (ring == NULL) {
		atomic_fetch_add_explicit(&store->rejected_events, 1, memory_order_relaxed);
		return false;
	}
	uint32_t fixed = event->type == HEAP_EVENT_FREE ? 5 : event->type == HEAP_EVENT_ALLOC ? 6 : 7;
	uint32_t shared = 0, new_frames = 0;
	if (event->type != HEAP_EVENT_FREE) {
		if (depth > MAX_FRAMES)
			depth = MAX_FRAMES;
		shared = share_frames(ring, ips, (uint32_t)depth);
		new_frames = (uint32_t)depth - shared;
	}
	uint32_t words = fixed + new_frames;
	struct pending_tag *tag = event->type == HEAP_EVENT_ALLOC ? take_pending_tag() : NULL;
	uint64_t end;
	uint64_t *entry = reserve(store, ring, words, FULL_GIVE_UP, &end);
	if (entry == NULL && atomic_load_explicit(&store->accepting, memory_order_relaxed) &&
	    grow_ring(store, ring) != NULL) {
		/* Again from the start: the new ring has no previous stack. */
		pending_tag = tag;
		return record(store, event, ips, depth, policy);
	}
	if (entry == NULL && policy == FULL_WAIT)
		entry = reserve(store, ring, words, FULL_WAIT, &end);
	if (entry == NULL) {
		/* The consumer will not see this difference: start afresh. */
		ring->previous_depth = 0;
		if (policy == FULL_WAIT || !atomic_load_explicit(&store->accepting, memory_order_relaxed))
			atomic_fetch_add_explicit(&store->rejected_events, 1, memory_order_relaxed);
		else
			atomic_fetch_add_explicit(&store->dropped_events, 1, memory_order_relaxed);
		pending_tag_destroy(tag);
		return false;
	}
	/* The number is taken after the room: a thread never holds a number
	 * while it waits, so the consumer never waits on a waiting thread. */
	entry[1] = atomic_fetch_add(&next_sequence, 1);
	/* event_store_open bumps the epoch, then reads the sequence; we took a
	 * number, then read the epoch (all sequentially consistent, which costs
	 * nothing more on x86): a number the new store counts as its own
	 * always comes with the new epoch seen here. */
	if (new_frames + shared != 0 && atomic_load(&store_epoch) != ring->stack_epoch) {
		shared = SHARED_UNKNOWN;
		ring->previous_depth = 0;
	}
	entry[0] = entry_header(event->type, event->kind, new_frames, shared, words);
	entry[2] = atomic_load_explicit(&coarse_time, memory_order_relaxed);
	entry[3] = event->address;
	if (event->type == HEAP_EVENT_FREE) {
		entry[4] = event->usable;
	} else {
		entry[4] = event->size;
		entry[5] = event->usable;
		if (event->type == HEAP_EVENT_EXPAND)
			entry[6] = event->old_usable;
		memcpy(&entry[fixed], ips, (size_t)new_frames * sizeof *ips);
	}
	atomic_store_explicit(&ring->head, end, memory_order_release);
	if (tag != NULL) {
		if (tag->store == store)
			event_store_record_tag(store, event->address, tag->name, tag->type_name,
			                       tag->file, tag->line);
		pending_tag_destroy(tag);
	}
	return true;
}

void event_store_record(struct event_store *store, const struct heap_event *event,
                        const uint64_t *ips, int depth)
{
	record(store, event, ips, depth, FULL_WAIT);
}

/* Whether more than half of ring waits for the consumer. */
static bool ring_crowded(const struct ring *ring)
{
	uint64_t head = atomic_load_explicit(&ring->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
	return head - tail > (ring->mask + 1) / 2;
}

/* The consumer's pass, run by a producer when one is due (inline mode):
 * before its event, so that a ring kept under half full always has room. */
static void serve_inline(struct event_store *store)
{
	uint64_t now = atomic_load_explicit(&coarse_time, memory_order_relaxed);
	struct ring *ring = thread_ring;
	if (now < atomic_load_explicit(&store->inline_due, memory_order_relaxed) &&
	    (ring == NULL || !ring_crowded(ring)))
		return;
	if (pthread_mutex_trylock(&store->inline_lock) != 0)
		return;
	/* Read under the lock: it may have been taken away meanwhile. */
	store_pass_fn pass = atomic_load_explicit(&store->inline_pass, memory_order_relaxed);
	if (pass != NULL) {
		atomic_store_explicit(&store->inline_due, now + store->inline_period,
		                      memory_order_relaxed);
		pass(store->inline_context);
	}
	pthread_mutex_unlock(&store->inline_lock);
}

/* Moves the clock if TICK_CYCLES have passed since it last moved. */
static void tick_if_due(struct event_store *store)
{
#if defined(__x86_64__) || defined(__i386__)
	uint64_t cycles = __rdtsc();
	if (cycles - atomic_load_explicit(&coarse_time_cycles, memory_order_relaxed) < TICK_CYCLES)
		return;
	atomic_store_explicit(&coarse_time_cycles, cycles, memory_order_relaxed);
#endif
	event_store_tick(store);
}

/* Before a producer records, in inline mode: moves the clock, which no
 * writer thread keeps (a vDSO call, no syscall), when it is due, and runs
 * a pass if one is due.  Returns whether the store is in inline mode. */
static bool before_record(struct event_store *store)
{
	if (atomic_load_explicit(&store->inline_pass, memory_order_relaxed) == NULL)
		return false;
	tick_if_due(store);
	serve_inline(store);
	return true;
}

bool event_store_try_record_interval(struct event_store *store, uint64_t interval)
{
	before_record(store);
	struct ring *ring = current_ring();
	if (ring == NULL)
		return false;
	uint64_t end;
	uint64_t *entry = reserve(store, ring, 4, FULL_GIVE_UP, &end);
	if (entry == NULL && atomic_load_explicit(&store->accepting, memory_order_relaxed) &&
	    (ring = grow_ring(store, ring)) != NULL)
		entry = reserve(store, ring, 4, FULL_GIVE_UP, &end);
	if (entry == NULL) {
		atomic_fetch_add_explicit(&store->dropped_events, 1, memory_order_relaxed);
		return false;
	}
	entry[1] = atomic_fetch_add(&next_sequence, 1);
	entry[0] = entry_header(ENTRY_INTERVAL, 0, 0, 0, 4);
	entry[2] = atomic_load_explicit(&coarse_time, memory_order_relaxed);
	entry[3] = interval;
	atomic_store_explicit(&ring->head, end, memory_order_release);
	return true;
}

bool event_store_try_record(struct event_store *store, const struct heap_event *event,
                            const uint64_t *ips, int depth)
{
	before_record(store);
	return record(store, event, ips, depth, FULL_GIVE_UP);
}

void event_store_set_inline_pass(struct event_store *store, store_pass_fn pass, void *context,
                                 uint64_t period_ns)
{
	pthread_mutex_lock(&store->inline_lock);
	/* The program's thread waits for what it compresses. */
	pthread_mutex_lock(&store->lock);
	if (store->writer != NULL)
		capture_writer_compress_fast(store->writer, pass != NULL);
	pthread_mutex_unlock(&store->lock);
	atomic_store_explicit(&rings_inline, pass != NULL, memory_order_relaxed);
	store->inline_context = context;
	store->inline_period = period_ns;
	atomic_store_explicit(&store->inline_due, 0, memory_order_relaxed);
	atomic_store_explicit(&store->inline_pass, pass, memory_order_release);
	pthread_mutex_unlock(&store->inline_lock);
}

static size_t bounded_length(const char *text)
{
	return text == NULL ? 0 : strnlen(text, TAG_STRING_MAX);
}

int event_store_record_tag(struct event_store *store, uint64_t address, const char *name,
                           const char *type_name, const char *file, uint32_t line)
{
	if (!atomic_load_explicit(&store->accepting, memory_order_relaxed))
		return -EAGAIN;
	struct ring *ring = current_ring();
	if (ring == NULL)
		return -ENOMEM;
	size_t name_length = bounded_length(name);
	size_t type_length = bounded_length(type_name);
	size_t file_length = bounded_length(file);
	size_t text = name_length + type_length + file_length;
	uint32_t words = (uint32_t)(7 + (text + 7) / 8);
	/* Inline, nobody else would make room: never wait for it. */
	enum full_ring policy = before_record(store) ? FULL_GIVE_UP : FULL_WAIT;
	uint64_t end;
	uint64_t *entry = reserve(store, ring, words, policy, &end);
	if (entry == NULL)
		return -EAGAIN;
	entry[1] = atomic_fetch_add_explicit(&next_sequence, 1, memory_order_relaxed);
	entry[0] = entry_header(ENTRY_TAG, 0, 0, 0, words);
	entry[2] = atomic_load_explicit(&coarse_time, memory_order_relaxed);
	entry[3] = address;
	entry[4] = line | (uint64_t)name_length << 32;
	entry[5] = type_length;
	entry[6] = file_length;
	char *bytes = (char *)&entry[7];
	memcpy(bytes, name, name_length);
	memcpy(bytes + name_length, type_name, type_length);
	memcpy(bytes + name_length + type_length, file, file_length);
	atomic_store_explicit(&ring->head, end, memory_order_release);
	return 0;
}

int event_store_tag_next(struct event_store *store, const char *name, const char *type_name,
                         const char *file, uint32_t line)
{
	if (!atomic_load_explicit(&store->accepting, memory_order_relaxed))
		return -EAGAIN;
	struct pending_tag *tag = calloc(1, sizeof *tag);
	if (tag == NULL)
		return -ENOMEM;
	*tag = (struct pending_tag){
		.store = store,
		.line = line,
		.name = strndup(name, TAG_STRING_MAX),
		.type_name = strndup(type_name, TAG_STRING_MAX),
		.file = strndup(file, TAG_STRING_MAX),
	};
	if (tag->name == NULL || tag->type_name == NULL || tag->file == NULL) {
		pending_tag_destroy(tag);
		return -ENOMEM;
	}
	pending_tag_destroy(take_pending_tag());
	pending_tag = tag;
	return 0;
}

int event_store_record_task(struct event_store *store, const struct store_task *task)
{
	if (!atomic_load_explicit(&store->accepting, memory_order_relaxed))
		return -EAGAIN;
	struct ring *ring = current_ring();
	if (ring == NULL)
		return -ENOMEM;
	bool begin = task->op == STORE_TASK_BEGIN;
	size_t name_length = begin ? bounded_length(task->name) : 0;
	uint32_t words = begin ? (uint32_t)(7 + (name_length + 7) / 8) : 5;
	enum full_ring policy = before_record(store) ? FULL_GIVE_UP : FULL_WAIT;
	uint64_t end;
	uint64_t *entry = reserve(store, ring, words, policy, &end);
	if (entry == NULL)
		return -EAGAIN;
	entry[1] = atomic_fetch_add_explicit(&next_sequence, 1, memory_order_relaxed);
	entry[0] = entry_header(ENTRY_TASK, task->op, 0, 0, words);
	entry[2] = atomic_load_explicit(&coarse_time, memory_order_relaxed);
	entry[3] = task->key;
	entry[4] = (task->origin & 0xff) | (uint64_t)(task->parent_origin & 0xff) << 8 |
	           (uint64_t)name_length << 16;
	if (begin) {
		entry[5] = task->parent;
		entry[6] = task->shown_key;
		memcpy(&entry[7], task->name, name_length);
	}
	atomic_store_explicit(&ring->head, end, memory_order_release);
	return 0;
}

int event_store_record_tasks(struct event_store *store)
{
	if (store->remote) {
		store->window->flags |= RING_WINDOW_TASKS;
		return 0;
	}
	return store->tasks != NULL ? 0 : task_registry_create(&store->tasks);
}

/* The two strings a record shipped in a ring carries (ship_record). */
static const char **record_strings(struct capture_record *record, const char ***second)
{
	*second = NULL;
	switch (record->type) {
	case CAPTURE_RECORD_INFO:
		*second = &record->u.info.value;
		return &record->u.info.key;
	case CAPTURE_RECORD_MODULE:
		return &record->u.module.path;
	default:
		return NULL;
	}
}

/* A string of a shipped record is cut to this: an entry must fit a ring. */
#define SHIPPED_STRING_MAX (16u << 10)

/* In a remote store, a record of the run travels in the calling thread's
 * ring, in order with its events; memscope writes it (consume_record).
 * Waits for room: memscope drains the ring. */
static int ship_record(struct event_store *store, const struct capture_record *record)
{
	guard_raise();
	int error = -ENOMEM;
	struct ring *ring = current_ring();
	if (ring == NULL)
		goto out;
	struct capture_record copy = *record;
	const char **second_field;
	const char **first_field = record_strings(&copy, &second_field);
	const char *first = first_field != NULL && *first_field != NULL ? *first_field : "";
	const char *second = second_field != NULL && *second_field != NULL ? *second_field : "";
	size_t first_length = strnlen(first, SHIPPED_STRING_MAX);
	size_t second_length = strnlen(second, SHIPPED_STRING_MAX);
	size_t bytes = sizeof copy.u + first_length + second_length;
	uint32_t words = (uint32_t)(5 + (bytes + 7) / 8);
	uint64_t end;
	uint64_t *entry = reserve(store, ring, words, FULL_GIVE_UP, &end);
	if (entry == NULL) {
		struct ring *grown = grow_ring(store, ring);
		if (grown != NULL)
			ring = grown;
		entry = reserve(store, ring, words, FULL_WAIT, &end);
	}
	error = -EAGAIN;
	if (entry == NULL)
		goto out;
	entry[1] = atomic_fetch_add(&next_sequence, 1);
	entry[0] = entry_header(ENTRY_RECORD, 0, 0, 0, words);
	entry[2] = atomic_load_explicit(&coarse_time, memory_order_relaxed);
	entry[3] = (uint64_t)copy.type;
	entry[4] = first_length | (uint64_t)second_length << 32;
	char *text = (char *)&entry[5];
	memcpy(text, &copy.u, sizeof copy.u);
	memcpy(text + sizeof copy.u, first, first_length);
	memcpy(text + sizeof copy.u + first_length, second, second_length);
	atomic_store_explicit(&ring->head, end, memory_order_release);
	error = 0;
out:
	guard_lower();
	return error;
}

void event_store_finish(struct event_store *store)
{
	if (!store->remote)
		return;
	guard_raise();
	struct ring *ring = current_ring();
	uint64_t end;
	uint64_t *entry = ring != NULL ? reserve(store, ring, 5, FULL_WAIT, &end) : NULL;
	if (entry != NULL) {
		entry[1] = atomic_fetch_add(&next_sequence, 1);
		entry[0] = entry_header(ENTRY_FINISH, 0, 0, 0, 5);
		entry[2] = atomic_load_explicit(&coarse_time, memory_order_relaxed);
		entry[3] = event_store_now(store);
		entry[4] = atomic_load(&store->rejected_events) + atomic_load(&store->dropped_events);
		atomic_store_explicit(&ring->head, end, memory_order_release);
	}
	atomic_store(&store->accepting, false);
	guard_lower();
}

/* ---- consumer ----------------------------------------------------------- */

static void write_record(struct event_store *store, const struct capture_record *record)
{
	if (store->write_error != 0)
		return;
	int error = capture_writer_add(store->writer, record);
	if (error < 0)
		store->write_error = error;
}

/* The thread's name now (it may have renamed itself since its first
 * event), or the one it had then if it has ended. */
static void thread_name(pid_t pid, const struct ring *ring, char *name, size_t size)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task/%u/comm", (int)pid, ring->tid);
	snprintf(name, size, "%s", ring->first_name[0] ? ring->first_name : "?");
	FILE *file = fopen(path, "re");
	if (file == NULL)
		return;
	if (fgets(name, (int)size, file) != NULL)
		name[strcspn(name, "\n")] = '\0';
	fclose(file);
}

/* A thread's root task: what runs on it outside any other task, from its
 * first event (time_ns). */
static void begin_root_task(struct event_store *store, uint32_t thread, uint32_t tid,
                            const char *name, uint64_t time_ns)
{
	uint32_t id = task_registry_take_id(store->tasks);
	if (id == 0 || task_registry_set_root(store->tasks, thread, id) < 0) {
		store->totals.lost_events++;
		return;
	}
	struct capture_record record = {
		.type = CAPTURE_RECORD_TASK,
		.u.task = {.time_ns = time_ns,
		           .id = id, .parent = 0, .thread = thread, .origin = CAPTURE_TASK_THREAD,
		           .key = tid, .name = name},
	};
	write_record(store, &record);
}

/* The thread index of the ring's current owner, announcing it on first use. */
static uint32_t ring_thread(struct event_store *store, struct ring *ring)
{
	if (ring->announced && ring->seen_generation == ring->generation)
		return ring->thread_index;
	struct ring *origin = translated(store, ring->grown_from);
	if (origin != NULL && origin->announced &&
	    origin->seen_generation == ring->grown_from_generation) {
		/* The same thread, in the larger ring that replaced its full one. */
		ring->thread_index = origin->thread_index;
		ring->interval = origin->interval;
		ring->seen_generation = ring->generation;
		ring->announced = true;
		return ring->thread_index;
	}
	char name[32];
	thread_name(rings_pid(store), ring, name, sizeof name);
	ring->interval = 0;
	ring->thread_index = store->thread_count++;
	ring->seen_generation = ring->generation;
	ring->announced = true;
	struct capture_record record = {
		.type = CAPTURE_RECORD_THREAD,
		.u.thread = {.index = ring->thread_index, .tid = ring->tid, .name = name},
	};
	write_record(store, &record);
	if (store->tasks != NULL)
		begin_root_task(store, ring->thread_index, ring->tid, name, ring->last_time);
	return ring->thread_index;
}

/* The stack of an entry: the ring's previous stack cut to its outermost
 * `shared` frames, then the entry's new frames (innermost first) interned
 * from the outside in.  Applied to every stack entry of the ring in order,
 * consumed or not, so the ring's path stays what its producer assumes. */
static uint32_t follow_stack(struct event_store *store, struct ring *ring, uint64_t header,
                             const uint64_t *ips)
{
	uint32_t new_frames = (header >> 16) & 0xffff;
	uint32_t shared = (header >> 32) & 0xffff;
	if (shared > ring->path_depth || shared + new_frames > MAX_FRAMES) {
		/* SHARED_UNKNOWN: the producer starts afresh after this entry. */
		ring->path_depth = 0;
		return 0;
	}
	uint32_t node = ring->path[shared];
	uint32_t level = shared;
	for (uint32_t i = new_frames; i-- > 0;) {
		bool created;
		uint32_t parent = node;
		if (stack_trie_intern(store->stacks, parent, ips[i], &node, &created) < 0) {
			store->totals.lost_events++;
			ring->path_depth = level;
			return parent;
		}
		if (created) {
			struct capture_record record = {
				.type = CAPTURE_RECORD_STACK_NODE,
				.u.stack_node = {.id = node, .parent = parent, .ip = ips[i]},
			};
			write_record(store, &record);
		}
		ring->path[++level] = node;
	}
	ring->path_depth = level;
	return node;
}

/* The live map keeps a block's requested size in its low bits and, above
 * them, which interval it was sampled at (an index in store->intervals; 0
 * the store's own), so that its free takes away what its allocation
 * added, whatever the interval is by then. */
#define LIVE_SIZE_BITS 48
#define LIVE_SIZE_MASK ((UINT64_C(1) << LIVE_SIZE_BITS) - 1)

static uint64_t live_size(uint64_t value)
{
	return value & LIVE_SIZE_MASK;
}

/* The interval a sampled event of ring stands for. */
static uint64_t ring_interval(const struct event_store *store, const struct ring *ring)
{
	return ring->interval != 0 ? ring->interval : store->sample_interval;
}

/* The index of interval in store->intervals, added if new; 0 (the store's
 * own) when the table is full. */
static uint64_t interval_index(struct event_store *store, uint64_t interval)
{
	if (interval == store->sample_interval)
		return 0;
	for (uint32_t i = 1; i < store->interval_count; i++)
		if (store->intervals[i] == interval)
			return i;
	if (store->interval_count == STORE_INTERVALS)
		return 0;
	store->intervals[store->interval_count] = interval;
	return store->interval_count++;
}

static uint64_t live_value(struct event_store *store, uint64_t size, uint64_t interval)
{
	uint64_t bounded = size < LIVE_SIZE_MASK ? size : LIVE_SIZE_MASK;
	return bounded | interval_index(store, interval) << LIVE_SIZE_BITS;
}

/* What a recorded block of size bytes, sampled at interval, stands for. */
static double weight_at(const struct event_store *store, uint64_t interval, uint64_t size)
{
	struct sampling_rule rule = { interval, store->exact_above, store->sample_counting };
	return sampling_rule_weight(&rule, size);
}

/* What the block a live-map value describes stands for. */
static double live_weight(const struct event_store *store, uint64_t value)
{
	uint64_t index = value >> LIVE_SIZE_BITS;
	uint64_t interval = index != 0 ? store->intervals[index] : store->sample_interval;
	return weight_at(store, interval, live_size(value));
}

/* The estimate moves with every live block that comes or goes, weighted
 * by what its size says it stands for (sample_weight: 1 when every event
 * is recorded), negative for one that goes.  The callers have the weight
 * already: it takes an expm1, one per event is enough. */
static void estimate_live(struct event_store *store, double signed_weight, uint64_t size,
                          uint64_t usable, uint64_t time)
{
	store->estimate.live_blocks += signed_weight;
	store->estimate.live_bytes += signed_weight * (double)size;
	store->estimate.live_usable_bytes += signed_weight * (double)usable;
	if (store->estimate.live_bytes > store->estimate.peak_bytes) {
		store->estimate.peak_bytes = store->estimate.live_bytes;
		if (store->sample_interval > 1)
			store->totals.peak_time_ns = time;
	}
}

static void add_live(struct event_store *store, uint64_t address, uint64_t size, uint64_t usable,
                     uint64_t time, uint64_t interval, double weight)
{
	uint64_t value;
	int existed = live_map_put(store->live, address, live_value(store, size, interval), &value);
	if (existed < 0) {
		store->totals.lost_events++;
		return;
	}
	if (existed) {
		/* A free we never saw: don't let its bytes count twice (its usable
		 * size is not kept; its requested size stands in). */
		uint64_t replaced = live_size(value);
		store->totals.live_bytes -= replaced;
		store->totals.live_usable_bytes -= replaced;
		store->totals.live_blocks--;
		store->totals.lost_events++;
		estimate_live(store, -live_weight(store, value), replaced, replaced, time);
	}
	store->totals.live_blocks++;
	store->totals.live_bytes += size;
	store->totals.live_usable_bytes += usable;
	if (store->totals.live_bytes > store->totals.peak_bytes) {
		store->totals.peak_bytes = store->totals.live_bytes;
		if (store->sample_interval <= 1)
			store->totals.peak_time_ns = time;
	}
	estimate_live(store, weight, size, usable, time);
}

static void consume_alloc(struct event_store *store, struct ring *ring, const uint64_t *entry,
                          uint32_t kind, uint32_t stack)
{
	uint32_t thread = ring_thread(store, ring);
	struct capture_record record = {
		.type = CAPTURE_RECORD_ALLOC,
		.u.alloc = {.time_ns = entry[2], .thread = thread, .kind = kind, .address = entry[3],
		            .size = entry[4], .usable = entry[5], .stack = stack},
	};
	write_record(store, &record);
	store->totals.allocations++;
	store->totals.allocated_bytes += entry[4];
	store->totals.events++;
	uint64_t interval = ring_interval(store, ring);
	double weight = weight_at(store, interval, entry[4]);
	store->estimate.allocations += weight;
	store->estimate.allocated_bytes += weight * (double)entry[4];
	add_live(store, entry[3], entry[4], entry[5], entry[2], interval, weight);
}

static void consume_free(struct event_store *store, struct ring *ring, const uint64_t *entry,
                         uint32_t kind)
{
	uint64_t value;
	if (!live_map_remove(store->live, entry[3], &value)) {
		/* Allocated before tracking began: nothing to match it with. */
		store->totals.untracked_frees++;
		return;
	}
	uint64_t size = live_size(value);
	uint32_t thread = ring_thread(store, ring);
	struct capture_record record = {
		.type = CAPTURE_RECORD_FREE,
		.u.free = {.time_ns = entry[2], .thread = thread, .kind = kind, .address = entry[3]},
	};
	write_record(store, &record);
	store->totals.frees++;
	store->totals.events++;
	store->totals.live_blocks--;
	store->totals.live_bytes -= size;
	store->totals.live_usable_bytes -= entry[4];
	double weight = live_weight(store, value);
	store->estimate.frees += weight;
	estimate_live(store, -weight, size, entry[4], entry[2]);
}

static void consume_expand(struct event_store *store, struct ring *ring, const uint64_t *entry,
                           uint32_t kind, uint32_t stack)
{
	uint64_t *value = live_map_find(store->live, entry[3]);
	if (value == NULL) {
		/* Resizing a block from before tracking: from here on it is ours. */
		consume_alloc(store, ring, entry, kind, stack);
		return;
	}
	uint32_t thread = ring_thread(store, ring);
	struct capture_record record = {
		.type = CAPTURE_RECORD_EXPAND,
		.u.expand = {.time_ns = entry[2], .thread = thread, .kind = kind, .address = entry[3],
		             .size = entry[4], .old_usable = entry[6], .usable = entry[5], .stack = stack},
	};
	write_record(store, &record);
	uint64_t old_size = live_size(*value);
	store->totals.live_bytes += entry[4] - old_size;
	store->totals.live_usable_bytes += entry[5] - entry[6];
	estimate_live(store, -live_weight(store, *value), old_size, entry[6], entry[2]);
	uint64_t interval = ring_interval(store, ring);
	*value = live_value(store, entry[4], interval);
	store->totals.reallocations++;
	store->totals.events++;
	if (store->totals.live_bytes > store->totals.peak_bytes) {
		store->totals.peak_bytes = store->totals.live_bytes;
		if (store->sample_interval <= 1)
			store->totals.peak_time_ns = entry[2];
	}
	estimate_live(store, weight_at(store, interval, entry[4]), entry[4], entry[5], entry[2]);
}

static void consume_tag(struct event_store *store, struct ring *ring, const uint64_t *entry)
{
	char name[TAG_STRING_MAX + 1], type_name[TAG_STRING_MAX + 1], file[TAG_STRING_MAX + 1];
	size_t name_length = entry[4] >> 32, type_length = entry[5], file_length = entry[6];
	const char *bytes = (const char *)&entry[7];
	memcpy(name, bytes, name_length);
	name[name_length] = '\0';
	memcpy(type_name, bytes + name_length, type_length);
	type_name[type_length] = '\0';
	memcpy(file, bytes + name_length + type_length, file_length);
	file[file_length] = '\0';
	struct capture_record record = {
		.type = CAPTURE_RECORD_TAG,
		.u.tag = {.time_ns = entry[2], .thread = ring_thread(store, ring), .address = entry[3],
		          .name = name, .type_name = type_name, .file = file,
		          .line = (uint32_t)(entry[4] & 0xffffffffu)},
	};
	write_record(store, &record);
}

/* The capture id of the task key names on thread, beginning it when it
 * is new (a switch to a task never begun); 0 when out of memory. */
static uint32_t task_id_of(struct event_store *store, uint32_t thread, uint64_t time,
                           uint64_t key, uint32_t origin, uint64_t parent_key,
                           uint32_t parent_origin, uint64_t shown_key, const char *name)
{
	struct task_registry *tasks = store->tasks;
	if (key == 0)
		return task_registry_root(tasks, thread);
	uint32_t id = task_registry_find(tasks, key, origin);
	if (id != 0)
		return id;
	uint32_t parent = parent_key != 0 ? task_registry_find(tasks, parent_key, parent_origin) : 0;
	if (parent == 0)
		parent = task_registry_current(tasks, thread);
	id = task_registry_add(tasks, key, origin);
	if (id == 0) {
		store->totals.lost_events++;
		return 0;
	}
	struct capture_record record = {
		.type = CAPTURE_RECORD_TASK,
		.u.task = {.time_ns = time, .id = id, .parent = parent, .thread = thread,
		           .origin = origin, .key = shown_key, .name = name},
	};
	write_record(store, &record);
	return id;
}

static void end_task(struct event_store *store, uint32_t thread, uint64_t time, uint32_t id,
                     uint64_t key, uint32_t origin)
{
	task_registry_remove(store->tasks, key, origin);
	struct capture_record record = {
		.type = CAPTURE_RECORD_TASK_END,
		.u.task_end = {.time_ns = time, .id = id, .thread = thread},
	};
	write_record(store, &record);
}

static void consume_task(struct event_store *store, struct ring *ring, const uint64_t *entry,
                         uint32_t op)
{
	store->totals.task_changes++;
	if (store->tasks == NULL)
		return;
	uint32_t thread = ring_thread(store, ring);
	uint64_t time = entry[2], key = entry[3];
	uint32_t origin = entry[4] & 0xff, parent_origin = (entry[4] >> 8) & 0xff;
	if (op == STORE_TASK_BEGIN) {
		char name[TAG_STRING_MAX + 1];
		size_t name_length = (entry[4] >> 16) & 0xffff;
		memcpy(name, &entry[7], name_length);
		name[name_length] = '\0';
		uint32_t running = key != 0 ? task_registry_find(store->tasks, key, origin) : 0;
		if (running != 0)
			/* Begun again before it ended: the old one ends here. */
			end_task(store, thread, time, running, key, origin);
		if (key != 0)
			task_id_of(store, thread, time, key, origin, entry[5], parent_origin, entry[6],
			           name);
		return;
	}
	if (op == STORE_TASK_END) {
		uint32_t id = key != 0 ? task_registry_find(store->tasks, key, origin) : 0;
		if (id != 0)
			end_task(store, thread, time, id, key, origin);
		return;
	}
	uint32_t id = task_id_of(store, thread, time, key, origin, 0, 0, key, "");
	if (id == 0 || id == task_registry_current(store->tasks, thread))
		return;
	if (task_registry_set_current(store->tasks, thread, id) < 0) {
		store->totals.lost_events++;
		return;
	}
	struct capture_record record = {
		.type = CAPTURE_RECORD_TASK_SWITCH,
		.u.task_switch = {.time_ns = time, .thread = thread, .task = id},
	};
	write_record(store, &record);
}

/* The thread's sampled events from here on stand for blocks at this
 * interval: the capture says so for readers. */
static void consume_interval(struct event_store *store, struct ring *ring, const uint64_t *entry)
{
	uint32_t thread = ring_thread(store, ring);
	ring->interval = entry[3];
	struct capture_record record = {
		.type = CAPTURE_RECORD_THREAD_SAMPLING,
		.u.thread_sampling = {.time_ns = entry[2], .thread = thread, .interval = entry[3]},
	};
	write_record(store, &record);
}

/* A record of the run (not of an event) goes into the capture: a SAMPLE
 * with the heap's figures at this point of the stream. */
static void write_run_record(struct event_store *store, struct capture_record *record)
{
	if (record->type == CAPTURE_RECORD_SAMPLE && store->sample_interval > 1) {
		/* The timeline's heap figures are estimates like the rest. */
		record->u.sample.heap_live_bytes = sample_count(store->estimate.live_bytes);
		record->u.sample.heap_live_blocks = sample_count(store->estimate.live_blocks);
	} else if (record->type == CAPTURE_RECORD_SAMPLE) {
		record->u.sample.heap_live_bytes = store->totals.live_bytes;
		record->u.sample.heap_live_blocks = store->totals.live_blocks;
	}
	write_record(store, record);
}

static void consume_record(struct event_store *store, const uint64_t *entry)
{
	struct capture_record record = {.type = (enum capture_record_type)entry[3]};
	size_t first_length = entry[4] & 0xffffffffu, second_length = entry[4] >> 32;
	memcpy(&record.u, &entry[5], sizeof record.u);
	const char *bytes = (const char *)&entry[5] + sizeof record.u;
	char *first = strndup(bytes, first_length);
	char *second = strndup(bytes + first_length, second_length);
	const char **second_field;
	const char **first_field = record_strings(&record, &second_field);
	if (first == NULL || second == NULL) {
		store->totals.lost_events++;
	} else if (first_field != NULL || record.type == CAPTURE_RECORD_SAMPLE ||
	           record.type == CAPTURE_RECORD_TRACKING || record.type == CAPTURE_RECORD_SAMPLING) {
		if (first_field != NULL)
			*first_field = first;
		if (second_field != NULL)
			*second_field = second;
		if (record.type == CAPTURE_RECORD_TRACKING) {
			/* The process counts what it could not record; what was
			 * recorded is counted here. */
			struct capture_tracking *tracking = &record.u.tracking;
			tracking->successes = store->totals.events + store->totals.untracked_frees;
			tracking->misses += store->totals.lost_events;
			tracking->attempts = tracking->successes + tracking->misses;
			tracking->task_changes = store->totals.task_changes;
		}
		if (record.type == CAPTURE_RECORD_SAMPLING) {
			/* The process's sampling, from its first entry on. */
			store->sample_interval = record.u.sampling.interval;
			store->sample_seed = record.u.sampling.seed;
			store->exact_above = record.u.sampling.exact_above;
			store->sample_counting = sampling_count_of(record.u.sampling.counting);
		}
		write_run_record(store, &record);
	}
	free(first);
	free(second);
}

static void consume(struct event_store *store, struct ring *ring, const uint64_t *entry,
                    uint32_t stack)
{
	uint32_t type = entry[0] & 0xff;
	uint32_t kind = (entry[0] >> 8) & 0xff;
	ring->last_time = entry[2];
	switch (type) {
	case ENTRY_ALLOC:
		consume_alloc(store, ring, entry, kind, stack);
		break;
	case ENTRY_FREE:
		consume_free(store, ring, entry, kind);
		break;
	case ENTRY_EXPAND:
		consume_expand(store, ring, entry, kind, stack);
		break;
	case ENTRY_TAG:
		consume_tag(store, ring, entry);
		break;
	case ENTRY_TASK:
		consume_task(store, ring, entry, kind);
		break;
	case ENTRY_INTERVAL:
		consume_interval(store, ring, entry);
		break;
	case ENTRY_RECORD:
		consume_record(store, entry);
		break;
	case ENTRY_FINISH:
		store->finished = true;
		store->finish_time = entry[3];
		store->finish_lost = entry[4];
		break;
	}
}

#define PREFETCH_DISTANCE 8

/* Prefetches the live-map slot of the entry at position; returns the next
 * entry's position. */
static uint64_t prefetch_entry(struct event_store *store, struct ring *ring, uint64_t position)
{
	const uint64_t *entry = &ring->words[position & ring->mask];
	uint32_t type = entry[0] & 0xff;
	/* Word 3 is an address only in heap events and tags. */
	if (type == ENTRY_ALLOC || type == ENTRY_FREE || type == ENTRY_EXPAND || type == ENTRY_TAG)
		live_map_prefetch(store->live, entry[3]);
	return position + entry_words(entry[0]);
}

/* Consumes the run of entries at the ring's tail that come next in the
 * global order.  Returns how many were consumed. */
static uint64_t consume_run(struct event_store *store, struct ring *ring)
{
	uint64_t head = atomic_load_explicit(&ring->head, memory_order_acquire);
	uint64_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
	uint64_t consumed = 0;
	/* The live map's slots are cache misses: ask for them a few entries
	 * ahead of the one being consumed. */
	uint64_t ahead = tail;
	for (int i = 0; i < PREFETCH_DISTANCE && ahead != head; i++)
		ahead = prefetch_entry(store, ring, ahead);

	while (tail != head) {
		if (ahead != head)
			ahead = prefetch_entry(store, ring, ahead);
		const uint64_t *entry = &ring->words[tail & ring->mask];
		uint32_t type = entry[0] & 0xff;
		if (type != ENTRY_PAD) {
			uint64_t sequence = entry[1];
			if (sequence > store->expected)
				break;
			uint32_t stack = 0;
			bool current = sequence >= store->sequence_base;
			if (current && (type == ENTRY_ALLOC || type == ENTRY_EXPAND))
				stack = follow_stack(store, ring, entry[0],
				                     &entry[type == ENTRY_ALLOC ? 6 : 7]);
			if (sequence == store->expected) {
				consume(store, ring, entry, stack);
				store->expected++;
				consumed++;
			} else if (current) {
				/* Its number was given up for lost (skip_stalled_gap). */
				store->totals.lost_events++;
			}
		}
		tail += entry_words(entry[0]);
	}
	atomic_store_explicit(&ring->tail, tail, memory_order_release);
	return consumed;
}

/* The smallest number at the head of any ring, or UINT64_MAX. */
static uint64_t lowest_waiting(struct event_store *store)
{
	uint64_t lowest = UINT64_MAX;
	for (struct ring *ring = first_ring(store); ring != NULL; ring = next_ring(store, ring)) {
		uint64_t head = atomic_load_explicit(&ring->head, memory_order_acquire);
		uint64_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
		while (tail != head && (ring->words[tail & ring->mask] & 0xff) == ENTRY_PAD)
			tail += entry_words(ring->words[tail & ring->mask]);
		if (tail != head && ring->words[(tail + 1) & ring->mask] < lowest)
			lowest = ring->words[(tail + 1) & ring->mask];
	}
	return lowest;
}

/* Takes in the events numbered before the call, and whatever comes along
 * with them: no more.  Producers that number events as fast as they are
 * taken in would otherwise keep one pass going for as long as they run,
 * and with it the writer's chores (the timeline, the periodic flush, the
 * hybrid backend's pacing) waited: three threads allocating at a 1 KiB
 * interval held the writer's first pass for the whole 3 s run. */
#define WINDOW_BATCH (UINT64_C(1) << 20)

static uint64_t drain_locked(struct event_store *store)
{
	uint64_t total = 0;
	/* Another process's numbers are not counted here: take a batch. */
	uint64_t target = store->window != NULL
	                          ? store->expected + WINDOW_BATCH
	                          : atomic_load_explicit(&next_sequence, memory_order_acquire);
	for (;;) {
		uint64_t consumed = 0;
		for (struct ring *ring = first_ring(store); ring != NULL; ring = next_ring(store, ring))
			consumed += consume_run(store, ring);
		total += consumed;
		/* Keep the producers' clock going through a long backlog too. */
		event_store_tick(store);
		if (consumed == 0 || store->expected >= target)
			return total;
	}
}

/* A number taken and never published (its thread was killed, or jumped
 * out of a signal handler, in the middle of recording) would hold back every
 * later event, and then every thread waiting for room: once the order has
 * not moved for this long while later events wait, the gap is given up. */
#define GAP_PATIENCE_NS 500000000u

static uint64_t skip_stalled_gap(struct event_store *store, uint64_t limit)
{
	uint64_t lowest = lowest_waiting(store);
	if (lowest > limit)
		lowest = limit;
	if (lowest == UINT64_MAX || lowest <= store->expected) {
		store->stalled_since = 0;
		return 0;
	}
	uint64_t now = elapsed_ns(&store->start);
	if (store->stalled_since == 0) {
		store->stalled_since = now;
		return 0;
	}
	if (now - store->stalled_since < GAP_PATIENCE_NS)
		return 0;
	store->totals.lost_events += lowest - store->expected;
	store->expected = lowest;
	store->stalled_since = 0;
	return drain_locked(store);
}

/* Consumes up to target: waits for numbers that threads are writing, and
 * gives up on one that never comes (skip_stalled_gap). */
static void drain_until(struct event_store *store, uint64_t target)
{
	drain_locked(store);
	while (store->expected < target) {
		sched_yield();
		if (drain_locked(store) == 0)
			skip_stalled_gap(store, target);
	}
	store->stalled_since = 0;
}

uint64_t event_store_drain(struct event_store *store)
{
	if (store->window != NULL && !store->remote)
		atomic_fetch_add_explicit(&store->window->passes, 1, memory_order_relaxed);
	if (store->remote) {
		/* memscope drains; the clock is still the process's. */
		event_store_tick(store);
		return 0;
	}
	guard_raise();
	pthread_mutex_lock(&store->lock);
	uint64_t consumed = drain_locked(store);
	if (consumed == 0)
		consumed = skip_stalled_gap(store, UINT64_MAX);
	else
		store->stalled_since = 0;
	pthread_mutex_unlock(&store->lock);
	guard_lower();
	return consumed;
}

void event_store_sync(struct event_store *store)
{
	if (store->remote)
		return;
	guard_raise();
	pthread_mutex_lock(&store->lock);
	drain_until(store, atomic_load_explicit(&next_sequence, memory_order_relaxed));
	pthread_mutex_unlock(&store->lock);
	guard_lower();
}

/* ---- lifecycle ---------------------------------------------------------- */

int event_store_create(int fd, struct event_store **out)
{
	guard_raise();
	int error = -ENOMEM;
	struct event_store *store = calloc(1, sizeof *store);
	if (store == NULL)
		goto out;
	store->interval_count = 1;
	store->rings = &own_ring_list;
	pthread_mutex_init(&store->lock, NULL);
	pthread_mutex_init(&store->inline_lock, NULL);
	if (stack_trie_create(&store->stacks) < 0 || live_map_create(&store->live) < 0)
		goto fail;
	error = capture_writer_create(fd, &store->writer);
	if (error < 0)
		goto fail;
	clock_gettime(CLOCK_MONOTONIC, &store->start);
	*out = store;
	error = 0;
	goto out;
fail:
	event_store_destroy(store);
out:
	guard_lower();
	return error;
}

int event_store_create_shared(struct ring_window *window, struct event_store **out)
{
	guard_raise();
	struct event_store *store = calloc(1, sizeof *store);
	if (store != NULL) {
		store->interval_count = 1;
		store->remote = true;
		store->window = window;
		store->rings = &window->ring_list;
		pthread_mutex_init(&store->lock, NULL);
		pthread_mutex_init(&store->inline_lock, NULL);
		clock_gettime(CLOCK_MONOTONIC, &store->start);
		/* The process's rings from here on: the window's. */
		ring_window = window;
		ring_list = &window->ring_list;
		*out = store;
	}
	guard_lower();
	return store != NULL ? 0 : -ENOMEM;
}

int event_store_attach(struct ring_window *window, int fd, struct event_store **out)
{
	struct event_store *store;
	int error = event_store_create(fd, &store);
	if (error < 0)
		return error;
	if ((window->flags & RING_WINDOW_TASKS) != 0 && event_store_record_tasks(store) < 0) {
		event_store_destroy(store);
		return -ENOMEM;
	}
	store->window = window;
	store->rings = &window->ring_list;
	store->delta = (intptr_t)((uintptr_t)window - (uintptr_t)window->start);
	store->sequence_base = window->sequence_base;
	store->expected = store->sequence_base;
	atomic_store(&store->accepting, true);
	*out = store;
	return 0;
}

uint64_t event_store_drain_all(struct event_store *store)
{
	pthread_mutex_lock(&store->lock);
	uint64_t total = 0;
	for (;;) {
		uint64_t consumed = drain_locked(store);
		total += consumed;
		if (consumed != 0)
			continue;
		/* Nothing will publish a number taken and left: skip it now. */
		uint64_t lowest = lowest_waiting(store);
		if (lowest == UINT64_MAX || lowest <= store->expected)
			break;
		store->totals.lost_events += lowest - store->expected;
		store->expected = lowest;
	}
	pthread_mutex_unlock(&store->lock);
	return total;
}

struct capture_record event_store_trailer(struct event_store *store, uint64_t time_ns,
                                          uint64_t lost)
{
	struct store_totals totals;
	event_store_totals(store, &totals);
	return (struct capture_record){
		.type = CAPTURE_RECORD_TRAILER,
		.u.trailer = {
			.time_ns = time_ns,
			.allocations = totals.allocations,
			.frees = totals.frees,
			.allocated_bytes = totals.allocated_bytes,
			.peak_bytes = totals.peak_bytes,
			.peak_time_ns = totals.peak_time_ns,
			.live_blocks = totals.live_blocks,
			.live_bytes = totals.live_bytes,
			.events = totals.events,
			.lost_events = totals.lost_events + totals.dropped_events + lost,
			.sample_interval = totals.sample_interval,
		},
	};
}

void event_store_signal_death(int signal, char *text, size_t size)
{
	const char *name = sigdescr_np(signal);
	snprintf(text, size, "killed by signal %d (%s)", signal, name != NULL ? name : "unknown");
}

/* INFO "death": how the rings' process ended without finishing. */
static struct capture_record death_record(const char *death)
{
	return (struct capture_record){
		.type = CAPTURE_RECORD_INFO,
		.u.info = {.key = "death", .value = death},
	};
}

int event_store_end(struct event_store *store, const char *death)
{
	struct capture_record record;
	if (!store->finished) {
		record = death_record(death);
		event_store_add_record(store, &record);
		return event_store_flush(store);
	}
	record = event_store_trailer(store, store->finish_time, store->finish_lost);
	return event_store_add_record(store, &record);
}

/* Takes lock within deadline: a thread that died holding it, or the
 * caller's own pass that a signal interrupted, never gives it back. */
static bool lock_by(pthread_mutex_t *lock, const struct timespec *deadline)
{
	return pthread_mutex_timedlock(lock, deadline) == 0;
}

int event_store_end_at_death(struct event_store *store, const char *death, uint64_t wait_ns,
                             void (*last_records)(void *context), void *context)
{
	if (store->remote)
		return -EINVAL;
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += (time_t)(wait_ns / 1000000000u);
	deadline.tv_nsec += (long)(wait_ns % 1000000000u);
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	if (!lock_by(&store->inline_lock, &deadline))
		return -EDEADLK;
	/* No pass from the program's threads from here on. */
	atomic_store_explicit(&store->inline_pass, NULL, memory_order_release);
	if (!lock_by(&store->lock, &deadline)) {
		pthread_mutex_unlock(&store->inline_lock);
		return -EDEADLK;
	}
	pthread_mutex_unlock(&store->lock);
	atomic_store(&store->accepting, false);
	event_store_drain_all(store);
	if (last_records != NULL)
		last_records(context);
	pthread_mutex_lock(&store->lock);
	struct capture_record record = death_record(death);
	write_record(store, &record);
	int error = store->write_error;
	if (error == 0)
		error = capture_writer_destroy(store->writer);
	else
		capture_writer_destroy(store->writer);
	/* Nothing may follow the end block. */
	store->writer = NULL;
	store->write_error = -ESHUTDOWN;
	pthread_mutex_unlock(&store->lock);
	pthread_mutex_unlock(&store->inline_lock);
	return error;
}

void event_store_watch_file(struct event_store *store, int (*reopen)(void *context),
                            void *context)
{
	pthread_mutex_lock(&store->lock);
	if (store->writer != NULL)
		capture_writer_watch(store->writer, reopen, context);
	pthread_mutex_unlock(&store->lock);
}

bool event_store_finished(const struct event_store *store)
{
	return store->finished;
}

void event_store_open(struct event_store *store)
{
	/* Whatever an earlier store left in the rings is not ours. */
	for (struct ring *ring = atomic_load_explicit(ring_list, memory_order_acquire); ring != NULL;
	     ring = atomic_load_explicit(&ring->next, memory_order_relaxed)) {
		ring->announced = false;
		ring->path_depth = 0;
	}
	atomic_fetch_add(&store_epoch, 1);
	store->sequence_base = atomic_load(&next_sequence);
	store->expected = store->sequence_base;
	clock_gettime(CLOCK_MONOTONIC, &store->start);
	atomic_store(&coarse_time, 0);
	atomic_store(&coarse_time_cycles, 0);
	if (store->remote) {
		store->window->sequence_base = store->sequence_base;
		atomic_store(&store->window->state, RING_WINDOW_TRACING);
	}
	atomic_store(&store->accepting, true);
	if (store->sample_interval != 0) {
		/* Before any event: readers weigh every allocation after it. */
		struct capture_record record = {
			.type = CAPTURE_RECORD_SAMPLING,
			.u.sampling = {.time_ns = 0, .interval = store->sample_interval,
			               .seed = store->sample_seed, .exact_above = store->exact_above,
			               .counting = store->sample_counting},
		};
		if (store->remote)
			ship_record(store, &record);
		else
			write_record(store, &record);
	}
}

void event_store_set_sampling(struct event_store *store, uint64_t interval, uint64_t seed,
                              uint64_t exact_above)
{
	store->sample_interval = interval;
	store->sample_seed = seed;
	store->exact_above = exact_above;
	/* The samplers of this runtime (backends/sampler.h). */
	store->sample_counting = SAMPLING_COUNT_PLUS_ONE;
}

void event_store_close(struct event_store *store)
{
	/* A remote store accepts until it finishes (event_store_finish). */
	if (store->remote)
		return;
	guard_raise();
	pthread_mutex_lock(&store->lock);
	uint64_t target = atomic_load(&next_sequence);
	drain_until(store, target);
	atomic_store(&store->accepting, false);
	/* Threads waiting for room give up once accepting is false; those that
	 * took a number before target have been consumed above. */
	drain_locked(store);
	pthread_mutex_unlock(&store->lock);
	guard_lower();
}

void event_store_destroy(struct event_store *store)
{
	if (store == NULL)
		return;
	guard_raise();
	/* The end block also ends the capture of a process that died: memscope
	 * wrote all it had recorded (its INFO "death" says how it ended). */
	int error = capture_writer_destroy(store->writer);
	if (error < 0 && store->write_error == 0)
		store->write_error = error;
	stack_trie_destroy(store->stacks);
	live_map_destroy(store->live);
	task_registry_destroy(store->tasks);
	pthread_mutex_destroy(&store->lock);
	pthread_mutex_destroy(&store->inline_lock);
	free(store);
	guard_lower();
}

int event_store_add_record(struct event_store *store, struct capture_record *record)
{
	if (store->remote)
		return ship_record(store, record);
	guard_raise();
	pthread_mutex_lock(&store->lock);
	write_run_record(store, record);
	int error = store->write_error;
	pthread_mutex_unlock(&store->lock);
	guard_lower();
	return error;
}

int event_store_flush(struct event_store *store)
{
	if (store->remote)
		return 0;
	guard_raise();
	pthread_mutex_lock(&store->lock);
	if (store->write_error == 0) {
		int error = capture_writer_flush(store->writer);
		if (error < 0)
			store->write_error = error;
	}
	int error = store->write_error;
	pthread_mutex_unlock(&store->lock);
	guard_lower();
	return error;
}

void event_store_totals(struct event_store *store, struct store_totals *out)
{
	guard_raise();
	pthread_mutex_lock(&store->lock);
	*out = store->totals;
	out->lost_events += atomic_load_explicit(&store->rejected_events, memory_order_relaxed);
	out->producer_waits = atomic_load_explicit(&store->producer_waits, memory_order_relaxed);
	out->dropped_events = atomic_load_explicit(&store->dropped_events, memory_order_relaxed);
	out->ring_growths = atomic_load_explicit(&store->ring_growths, memory_order_relaxed);
	out->sample_interval = store->sample_interval;
	if (store->sample_interval > 1) {
		/* Every count and byte figure becomes its estimate; events,
		 * losses and waits stay what they are: counts of records. */
		out->allocations = sample_count(store->estimate.allocations);
		out->frees = sample_count(store->estimate.frees);
		out->allocated_bytes = sample_count(store->estimate.allocated_bytes);
		out->live_blocks = sample_count(store->estimate.live_blocks);
		out->live_bytes = sample_count(store->estimate.live_bytes);
		out->live_usable_bytes = sample_count(store->estimate.live_usable_bytes);
		out->peak_bytes = sample_count(store->estimate.peak_bytes);
	}
	pthread_mutex_unlock(&store->lock);
	guard_lower();
}

uint64_t event_store_offered(struct event_store *store)
{
	uint64_t numbered = atomic_load_explicit(&next_sequence, memory_order_relaxed);
	return numbered - store->sequence_base +
	       atomic_load_explicit(&store->dropped_events, memory_order_relaxed);
}

int event_store_error(struct event_store *store)
{
	guard_raise();
	pthread_mutex_lock(&store->lock);
	int error = store->write_error;
	pthread_mutex_unlock(&store->lock);
	guard_lower();
	return error;
}

void event_store_forget_rings_after_fork(void)
{
	if (ring_window != NULL) {
		/* The rings are the parent's, in memory it shares with memscope. */
		ring_window_forget(ring_window);
		ring_window = NULL;
		ring_list = &own_ring_list;
		atomic_store(&own_ring_list, NULL);
		thread_ring = NULL;
		return;
	}
	for (struct ring *ring = atomic_load_explicit(ring_list, memory_order_acquire); ring != NULL;
	     ring = atomic_load_explicit(&ring->next, memory_order_relaxed))
		if (ring != thread_ring)
			atomic_store(&ring->state, RING_FREE);
}

/* The thread of a drained ring has ended: so has its root task, at its
 * last event (the kernel does not say when it exited). */
static void end_root_task(struct event_store *store, struct ring *ring)
{
	if (store->tasks == NULL || !ring->announced || ring->seen_generation != ring->generation)
		return;
	uint32_t root = task_registry_root(store->tasks, ring->thread_index);
	if (root == 0)
		return;
	task_registry_set_root(store->tasks, ring->thread_index, 0);
	struct capture_record record = {
		.type = CAPTURE_RECORD_TASK_END,
		.u.task_end = {.time_ns = ring->last_time, .id = root, .thread = ring->thread_index},
	};
	write_record(store, &record);
}

void event_store_reap(struct event_store *store)
{
	if (store->remote)
		return;
	pid_t pid = rings_pid(store);
	guard_raise();
	pthread_mutex_lock(&store->lock);
	for (struct ring *ring = first_ring(store); ring != NULL; ring = next_ring(store, ring)) {
		int state = atomic_load(&ring->state);
		if (state == RING_FREE || ring == thread_ring)
			continue;
		uint64_t head = atomic_load_explicit(&ring->head, memory_order_acquire);
		if (head != atomic_load_explicit(&ring->tail, memory_order_relaxed))
			continue;
		if (state == RING_RETIRED) {
			/* Replaced by a larger ring, and drained: free for a new thread. */
			atomic_store(&ring->state, RING_FREE);
			continue;
		}
		/* An owner the kernel no longer knows has ended: its ring, drained,
		 * can serve the next new thread. */
		if (syscall(SYS_tgkill, pid, ring->tid, 0) == -1 && errno == ESRCH) {
			end_root_task(store, ring);
			atomic_store(&ring->state, RING_FREE);
		}
	}
	pthread_mutex_unlock(&store->lock);
	guard_lower();
}
