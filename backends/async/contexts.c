/* contexts.c - see contexts.h.
 *
 * Two structures, both in memory mapped for memscope alone: records, in
 * chunks that never move (a coroutine's trampoline holds a pointer to its
 * own), recycled through a free list; and an index from a context's
 * address to its record, open addressing with backward-shift deletion
 * (coroutines end as often as they start), rebuilt larger at 3/4 full.
 */
#include "contexts.h"

#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

#include "capture.h"
#include "event_store.h"
#include "reserved.h"
#include "tasks.h"

#define CHUNK_RECORDS 1024
#define MAX_CHUNKS 4096                /* 4 million contexts at once */
#define FIRST_INDEX_SLOTS 4096
#define SPINS_BEFORE_YIELD 64

struct context_record {
	uint64_t address;             /* the ucontext_t's */
	struct task_state state;      /* what runs on it, saved when it was left */
	bool made;                    /* by makecontext: a coroutine, with the fields below */
	uint64_t task;                /* the coroutine's key */
	void (*function)(void);
	ucontext_t *link;             /* uc_link when it was made: where it goes on return */
	uint32_t argc;
	uint64_t args[CONTEXT_MAX_ARGS];
	struct context_record *next_free;
};

struct index_slot {
	uint64_t address;             /* 0: empty */
	struct context_record *record;
};

static atomic_flag table_lock = ATOMIC_FLAG_INIT;
/* Set while this thread holds (or waits for) the lock: a signal handler
 * that switches contexts must not wait for its own thread. */
static __thread bool holding __attribute__((tls_model("initial-exec")));

static struct context_record *chunks[MAX_CHUNKS];
static uint32_t chunk_count;
static struct context_record *free_records;
static struct index_slot *slots;
static size_t slot_capacity;          /* a power of two, or 0 */
static size_t slot_count;
static _Atomic uint64_t untracked;
static _Atomic uint64_t next_coroutine = 1;

static bool lock(void)
{
	if (holding)
		return false;
	holding = true;
	for (unsigned spins = 0; atomic_flag_test_and_set_explicit(&table_lock, memory_order_acquire);
	     spins++) {
		if (spins >= SPINS_BEFORE_YIELD)
			sched_yield();
	}
	return true;
}

static void unlock(void)
{
	atomic_flag_clear_explicit(&table_lock, memory_order_release);
	holding = false;
}

/* ---- records ----------------------------------------------------------- */

static struct context_record *record_take(void)
{
	if (free_records == NULL) {
		if (chunk_count == MAX_CHUNKS)
			return NULL;
		struct context_record *chunk = reserved_map(CHUNK_RECORDS * sizeof(*chunk));
		if (chunk == NULL)
			return NULL;
		chunks[chunk_count++] = chunk;
		for (size_t i = CHUNK_RECORDS; i-- > 0;) {
			chunk[i].next_free = free_records;
			free_records = &chunk[i];
		}
	}
	struct context_record *record = free_records;
	free_records = record->next_free;
	memset(record, 0, sizeof(*record));
	return record;
}

static void record_give_back(struct context_record *record)
{
	record->address = 0;
	record->next_free = free_records;
	free_records = record;
}

/* ---- the index ------------------------------------------------------- */

static size_t home(uint64_t address, size_t capacity)
{
	uint64_t mixed = address * UINT64_C(0x9e3779b97f4a7c15);
	return (size_t)(mixed ^ (mixed >> 32)) & (capacity - 1);
}

static void place(struct index_slot *table, size_t capacity, uint64_t address,
                  struct context_record *record)
{
	size_t i = home(address, capacity);
	while (table[i].address != 0)
		i = (i + 1) & (capacity - 1);
	table[i] = (struct index_slot){address, record};
}

static bool grow_index(void)
{
	size_t capacity = slot_capacity ? slot_capacity * 2 : FIRST_INDEX_SLOTS;
	struct index_slot *table = reserved_map(capacity * sizeof(*table));
	if (table == NULL)
		return false;
	for (size_t i = 0; i < slot_capacity; i++)
		if (slots[i].address != 0)
			place(table, capacity, slots[i].address, slots[i].record);
	if (slots != NULL)
		munmap(slots, slot_capacity * sizeof(*slots));
	slots = table;
	slot_capacity = capacity;
	return true;
}

static size_t find_slot(uint64_t address)
{
	if (slot_count == 0)
		return slot_capacity;
	for (size_t i = home(address, slot_capacity);; i = (i + 1) & (slot_capacity - 1)) {
		if (slots[i].address == 0)
			return slot_capacity;
		if (slots[i].address == address)
			return i;
	}
}

static struct context_record *find(const void *context)
{
	size_t slot = find_slot((uint64_t)(uintptr_t)context);
	return slot < slot_capacity ? slots[slot].record : NULL;
}

/* The record of context, made if it has none; NULL when memory is short. */
static struct context_record *find_or_add(const void *context)
{
	struct context_record *record = find(context);
	if (record != NULL)
		return record;
	if ((slot_count + 1) * 4 > slot_capacity * 3 && !grow_index())
		return NULL;
	record = record_take();
	if (record == NULL)
		return NULL;
	record->address = (uint64_t)(uintptr_t)context;
	place(slots, slot_capacity, record->address, record);
	slot_count++;
	return record;
}

static void forget(struct context_record *record)
{
	size_t hole = find_slot(record->address);
	if (hole == slot_capacity)
		return;
	size_t mask = slot_capacity - 1;
	for (size_t next = (hole + 1) & mask; slots[next].address != 0; next = (next + 1) & mask) {
		size_t at = home(slots[next].address, slot_capacity);
		bool stays = hole <= next ? (hole < at && at <= next) : (hole < at || at <= next);
		if (stays)
			continue;
		slots[hole] = slots[next];
		hole = next;
	}
	slots[hole].address = 0;
	slot_count--;
	record_give_back(record);
}

/* ---- switches ---------------------------------------------------------- */

void contexts_before_switch(ucontext_t *from, const ucontext_t *to)
{
	if (!tasks_attached())
		return;
	struct task_state *state = tasks_thread_state();
	if (!lock()) {
		atomic_fetch_add_explicit(&untracked, 1, memory_order_relaxed);
		return;
	}
	if (from != NULL) {
		struct context_record *saved = find_or_add(from);
		if (saved != NULL)
			saved->state = *state;
		else
			atomic_fetch_add_explicit(&untracked, 1, memory_order_relaxed);
	}
	/* A context never seen (one getcontext saved, say) keeps what runs. */
	const struct context_record *target = find(to);
	if (target != NULL)
		*state = target->state;
	unlock();
	tasks_report();
}

static void send(enum store_task_op op, uint64_t key, uint64_t shown_key)
{
	struct store_task task = {
		.op = op,
		.key = key,
		.origin = CAPTURE_TASK_UCONTEXT,
		.shown_key = shown_key,
		.name = "",
	};
	tasks_send(&task);
}

/* After a coroutine's function returned, on whichever thread it runs now:
 * kept out of line so that the thread-local state is looked up afresh (the
 * coroutine may have moved to another thread since it started). */
__attribute__((noinline)) static void coroutine_returned(struct context_record *record,
                                                         uint64_t key)
{
	struct task_state *state = tasks_thread_state();
	if (lock()) {
		const struct context_record *next =
		    record->link != NULL ? find(record->link) : NULL;
		if (next != NULL)
			*state = next->state;
		else
			*state = (struct task_state){0};
		if (record->made && record->task == key)
			forget(record);
		unlock();
	}
	tasks_report();
	send(STORE_TASK_END, key, 0);
}

typedef void (*coroutine_function)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t,
                                   uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t,
                                   uint64_t, uint64_t, uint64_t, uint64_t);

/* What makecontext installs: the record arrives as two ints (makecontext
 * passes ints), the program's function gets its own arguments back.  A
 * function given fewer parameters than this passes ignores the rest, as
 * the calling convention lets it. */
static void coroutine_start(unsigned int low, unsigned int high)
{
	struct context_record *record =
	    (struct context_record *)(uintptr_t)((uint64_t)high << 32 | low);
	uint64_t a[CONTEXT_MAX_ARGS];
	memcpy(a, record->args, sizeof(a));
	uint64_t key = record->task;
	coroutine_function function = (coroutine_function)record->function;
	function(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12],
	         a[13], a[14], a[15]);
	coroutine_returned(record, key);
}

bool contexts_make(ucontext_t *ucp, void (*function)(void), int argc, const uint64_t *args,
                   void (**start)(void), unsigned int *low, unsigned int *high)
{
	if (!tasks_attached() || argc < 0 || argc > CONTEXT_MAX_ARGS || ucp == NULL)
		return false;
	if (!lock()) {
		atomic_fetch_add_explicit(&untracked, 1, memory_order_relaxed);
		return false;
	}
	struct context_record *record = find_or_add(ucp);
	if (record == NULL) {
		unlock();
		atomic_fetch_add_explicit(&untracked, 1, memory_order_relaxed);
		return false;
	}
	/* Made again before its coroutine returned: that one is over. */
	uint64_t abandoned = record->made ? record->task : 0;
	uint64_t key = atomic_fetch_add_explicit(&next_coroutine, 1, memory_order_relaxed);
	record->made = true;
	record->task = key;
	record->function = function;
	record->link = ucp->uc_link;
	record->argc = (uint32_t)argc;
	memset(record->args, 0, sizeof(record->args));
	memcpy(record->args, args, (size_t)argc * sizeof(*args));
	record->state = (struct task_state){.coroutine = key};
	unlock();

	if (abandoned != 0)
		send(STORE_TASK_END, abandoned, 0);
	/* Its parent is what runs here now: the capture must know it first. */
	tasks_report();
	send(STORE_TASK_BEGIN, key, (uint64_t)(uintptr_t)function);
	*start = (void (*)(void))coroutine_start;
	uintptr_t address = (uintptr_t)record;
	*low = (unsigned int)(address & 0xffffffffu);
	*high = (unsigned int)((uint64_t)address >> 32);
	return true;
}

void contexts_counts(uint64_t *tracked, uint64_t *untracked_out)
{
	*tracked = slot_count;
	*untracked_out = atomic_load_explicit(&untracked, memory_order_relaxed);
}
