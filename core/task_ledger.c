/* task_ledger.c - see task_ledger.h.
 *
 * The tasks held are records in one array whose free places are reused,
 * found by id through an open-addressing table (linear probing; a removal
 * shifts the run after it back, so there are no tombstones).  Both stay
 * the size of the most tasks held at once, however many tasks end. */
#include "task_ledger.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sampling.h"

/* Ids and thread indices are dense; one far beyond what was seen is
 * corrupt input, and must not make us allocate gigabytes. */
#define MAX_ID_GAP (1u << 16)
#define MAX_THREAD_INDEX (1u << 20)

struct thread_state {
	uint32_t root;             /* the thread's root task, 0 until its TASK is read */
	uint32_t current;          /* what it runs now: 0 means its root */
};

struct id_slot {
	uint32_t id;               /* 0: empty */
	uint32_t record;           /* index in records */
};

struct task_ledger {
	struct task_ledger_sink sink;
	struct replay_task *records;   /* [record_capacity] */
	uint32_t record_capacity;
	uint32_t *free_records;        /* [record_capacity]: indices of unused records */
	uint32_t free_count;
	uint32_t record_used;          /* records ever handed out: the rest are unused too */
	struct id_slot *index;         /* [index_capacity], a power of two, at most half full */
	uint32_t index_capacity;
	uint32_t held;
	uint32_t most_held;
	uint32_t last_id;              /* the highest id begun */
	uint32_t begun;                /* TASK records taken */
	struct thread_state *threads;
	uint32_t thread_capacity;
	int status;
	struct task_ledger_problems problems;
};

int task_ledger_create(const struct task_ledger_sink *sink, struct task_ledger **out)
{
	struct task_ledger *ledger = calloc(1, sizeof(*ledger));
	if (!ledger)
		return -ENOMEM;
	if (sink)
		ledger->sink = *sink;
	*out = ledger;
	return 0;
}

static void forget(struct replay_task *task)
{
	free(task->name);
	free(task->threads);
	task->name = NULL;
	task->threads = NULL;
	task->id = 0;
}

void task_ledger_destroy(struct task_ledger *ledger)
{
	if (!ledger)
		return;
	for (uint32_t i = 0; i < ledger->record_used; i++)
		if (ledger->records[i].id != 0)
			forget(&ledger->records[i]);
	free(ledger->records);
	free(ledger->free_records);
	free(ledger->index);
	free(ledger->threads);
	free(ledger);
}

/* ---- the index: id -> record ------------------------------------------ */

static uint32_t home(uint32_t id, uint32_t capacity)
{
	return (uint32_t)(id * UINT32_C(2654435761)) & (capacity - 1);
}

static struct replay_task *task_at(struct task_ledger *ledger, uint32_t id)
{
	if (id == 0 || ledger->index_capacity == 0)
		return NULL;
	uint32_t mask = ledger->index_capacity - 1;
	for (uint32_t slot = home(id, ledger->index_capacity);; slot = (slot + 1) & mask) {
		const struct id_slot *entry = &ledger->index[slot];
		if (entry->id == id)
			return &ledger->records[entry->record];
		if (entry->id == 0)
			return NULL;
	}
}

static void index_put(struct id_slot *index, uint32_t capacity, struct id_slot entry)
{
	uint32_t slot = home(entry.id, capacity);
	while (index[slot].id != 0)
		slot = (slot + 1) & (capacity - 1);
	index[slot] = entry;
}

static int index_grow(struct task_ledger *ledger)
{
	if ((uint64_t)(ledger->held + 1) * 2 <= ledger->index_capacity)
		return 0;
	uint32_t capacity = ledger->index_capacity ? ledger->index_capacity * 2 : 64;
	struct id_slot *index = calloc(capacity, sizeof(*index));
	if (!index)
		return -ENOMEM;
	for (uint32_t i = 0; i < ledger->index_capacity; i++)
		if (ledger->index[i].id != 0)
			index_put(index, capacity, ledger->index[i]);
	free(ledger->index);
	ledger->index = index;
	ledger->index_capacity = capacity;
	return 0;
}

static void index_remove(struct task_ledger *ledger, uint32_t id)
{
	uint32_t mask = ledger->index_capacity - 1;
	uint32_t slot = home(id, ledger->index_capacity);
	while (ledger->index[slot].id != id)
		slot = (slot + 1) & mask;
	/* Each entry after the hole moves into it unless its home lies
	 * (cyclically) after the hole and up to where it sits. */
	uint32_t hole = slot;
	for (uint32_t next = (hole + 1) & mask; ledger->index[next].id != 0;
	     next = (next + 1) & mask) {
		uint32_t want = home(ledger->index[next].id, ledger->index_capacity);
		bool stays = hole <= next ? (hole < want && want <= next) : (hole < want || want <= next);
		if (stays)
			continue;
		ledger->index[hole] = ledger->index[next];
		hole = next;
	}
	ledger->index[hole] = (struct id_slot){ 0 };
}

/* A record for a new task (zeroed), indexed under id; NULL: no memory. */
static struct replay_task *hold(struct task_ledger *ledger, uint32_t id)
{
	if (index_grow(ledger) < 0)
		return NULL;
	uint32_t record;
	if (ledger->free_count > 0) {
		record = ledger->free_records[--ledger->free_count];
	} else {
		if (ledger->record_used == ledger->record_capacity) {
			uint32_t capacity = ledger->record_capacity ? ledger->record_capacity * 2 : 32;
			struct replay_task *records =
			    realloc(ledger->records, (size_t)capacity * sizeof(*records));
			if (!records)
				return NULL;
			ledger->records = records;
			uint32_t *free_records =
			    realloc(ledger->free_records, (size_t)capacity * sizeof(*free_records));
			if (!free_records)
				return NULL;
			ledger->free_records = free_records;
			ledger->record_capacity = capacity;
		}
		record = ledger->record_used++;
	}
	index_put(ledger->index, ledger->index_capacity, (struct id_slot){ id, record });
	if (++ledger->held > ledger->most_held)
		ledger->most_held = ledger->held;
	struct replay_task *task = &ledger->records[record];
	*task = (struct replay_task){ .id = id };
	return task;
}

/* The counts from the weighted sums: exact when every weight is 1. */
static void settle(struct replay_task *task)
{
	const struct replay_task_weighted *sums = &task->weighted;
	task->allocations = sample_count(sums->allocations);
	task->allocated_bytes = sample_count(sums->allocated_bytes);
	task->frees = sample_count(sums->frees);
	task->freed_bytes = sample_count(sums->freed_bytes);
	task->freed_by_others = sample_count(sums->freed_by_others);
	task->freed_by_others_bytes = sample_count(sums->freed_by_others_bytes);
	task->freed_of_others = sample_count(sums->freed_of_others);
	task->freed_of_others_bytes = sample_count(sums->freed_of_others_bytes);
	task->live_blocks = task->live_records ? sample_count(sums->live_blocks) : 0;
	task->live_bytes = task->live_records ? sample_count(sums->live_bytes) : 0;
	task->peak_bytes = sample_count(sums->peak_bytes);
	task->end_live_blocks = sample_count(sums->end_live_blocks);
	task->end_live_bytes = sample_count(sums->end_live_bytes);
}

/* Tells the sink of task and forgets it. */
static void release(struct task_ledger *ledger, struct replay_task *task)
{
	settle(task);
	if (ledger->status == 0 && ledger->sink.finished)
		ledger->status = ledger->sink.finished(ledger->sink.context, task);
	index_remove(ledger, task->id);
	forget(task);
	ledger->free_records[ledger->free_count++] = (uint32_t)(task - ledger->records);
	ledger->held--;
}

/* Releases task if nothing can change its figures any more. */
static void release_if_finished(struct task_ledger *ledger, struct replay_task *task)
{
	if (task->ended && task->live_records == 0 &&
	    (task->running == 0 || task->origin == CAPTURE_TASK_THREAD))
		release(ledger, task);
}

/* ---- threads ------------------------------------------------------------ */

static struct thread_state *thread_state(struct task_ledger *ledger, uint32_t thread)
{
	if (thread >= MAX_THREAD_INDEX)
		return NULL;
	if (thread >= ledger->thread_capacity) {
		uint32_t capacity = ledger->thread_capacity ? ledger->thread_capacity : 16;
		while (capacity <= thread)
			capacity *= 2;
		struct thread_state *threads =
		    realloc(ledger->threads, (size_t)capacity * sizeof(*threads));
		if (!threads)
			return NULL;
		memset(threads + ledger->thread_capacity, 0,
		       (size_t)(capacity - ledger->thread_capacity) * sizeof(*threads));
		ledger->threads = threads;
		ledger->thread_capacity = capacity;
	}
	return &ledger->threads[thread];
}

/* Notes that task runs on thread (once per thread). */
static int ran_on(struct replay_task *task, uint32_t thread)
{
	for (uint32_t i = 0; i < task->thread_count; i++)
		if (task->threads[i] == thread)
			return 0;
	uint32_t *threads = realloc(task->threads, (task->thread_count + 1) * sizeof(*threads));
	if (!threads)
		return -ENOMEM;
	threads[task->thread_count++] = thread;
	task->threads = threads;
	return 0;
}

/* ---- records ------------------------------------------------------------ */

static int on_task(struct task_ledger *ledger, const struct capture_task *record)
{
	if (record->id <= ledger->last_id || record->id - ledger->last_id > MAX_ID_GAP) {
		ledger->problems.bad_tasks++;
		return 0;
	}
	char *name = strdup(record->name ? record->name : "");
	if (!name)
		return -ENOMEM;
	struct replay_task *task = hold(ledger, record->id);
	if (!task) {
		free(name);
		return -ENOMEM;
	}
	ledger->last_id = record->id;
	ledger->begun++;
	/* A parent already finished is named still, but cannot count it. */
	struct replay_task *parent = task_at(ledger, record->parent);
	if (parent)
		parent->children++;
	*task = (struct replay_task){
		.id = record->id,
		.parent = record->parent < record->id ? record->parent : 0,
		.origin = record->origin,
		.began_on = record->thread,
		.key = record->key,
		.name = name,
		.begin_ns = record->time_ns,
		.end_ns = record->time_ns,
	};
	if (record->origin == CAPTURE_TASK_THREAD) {
		struct thread_state *thread = thread_state(ledger, record->thread);
		if (!thread)
			return record->thread >= MAX_THREAD_INDEX ? 0 : -ENOMEM;
		thread->root = record->id;
		return ran_on(task, record->thread);
	}
	return 0;
}

static void on_task_end(struct task_ledger *ledger, const struct capture_task_end *record)
{
	struct replay_task *task = task_at(ledger, record->id);
	if (!task || task->ended) {
		ledger->problems.unknown_tasks++;
		return;
	}
	task->ended = true;
	task->end_ns = record->time_ns;
	task->weighted.end_live_blocks = task->weighted.live_blocks;
	task->weighted.end_live_bytes = task->weighted.live_bytes;
	release_if_finished(ledger, task);
}

static int on_task_switch(struct task_ledger *ledger, const struct capture_task_switch *record)
{
	struct thread_state *thread = thread_state(ledger, record->thread);
	if (!thread)
		return record->thread >= MAX_THREAD_INDEX ? 0 : -ENOMEM;
	struct replay_task *next = record->task ? task_at(ledger, record->task) : NULL;
	if (record->task != 0 && !next)
		ledger->problems.unknown_tasks++;
	uint32_t leaving = thread->current;
	thread->current = next ? next->id : 0;
	int error = 0;
	if (next) {
		next->running++;
		error = ran_on(next, record->thread);
	}
	struct replay_task *left = task_at(ledger, leaving);
	if (left) {
		left->running--;
		release_if_finished(ledger, left);
	}
	return error;
}

int task_ledger_record(struct task_ledger *ledger, const struct capture_record *record)
{
	switch (record->type) {
	case CAPTURE_RECORD_TASK:
		return on_task(ledger, &record->u.task);
	case CAPTURE_RECORD_TASK_END:
		on_task_end(ledger, &record->u.task_end);
		return 0;
	case CAPTURE_RECORD_TASK_SWITCH:
		return on_task_switch(ledger, &record->u.task_switch);
	default:
		return 0;
	}
}

uint32_t task_ledger_current(const struct task_ledger *ledger, uint32_t thread)
{
	if (thread >= ledger->thread_capacity)
		return 0;
	const struct thread_state *state = &ledger->threads[thread];
	return state->current ? state->current : state->root;
}

void task_ledger_alloc(struct task_ledger *ledger, uint32_t task_id, uint64_t size, double weight,
                       uint64_t time_ns)
{
	struct replay_task *task = task_at(ledger, task_id);
	if (!task)
		return;
	struct replay_task_weighted *sums = &task->weighted;
	task->live_records++;
	sample_tally_add(&task->tally, weight, size);
	sums->allocations += weight;
	sums->allocated_bytes += weight * (double)size;
	sums->live_blocks += weight;
	sums->live_bytes += weight * (double)size;
	if (sums->live_bytes > sums->peak_bytes) {
		sums->peak_bytes = sums->live_bytes;
		task->peak_time_ns = time_ns;
	}
}

void task_ledger_free(struct task_ledger *ledger, uint32_t owner_id, uint32_t by, uint64_t size,
                      double weight)
{
	struct replay_task *owner = task_at(ledger, owner_id);
	if (!owner)
		return;
	struct replay_task_weighted *sums = &owner->weighted;
	double bytes = weight * (double)size;
	owner->live_records--;
	sums->frees += weight;
	sums->freed_bytes += bytes;
	sums->live_blocks -= weight;
	sums->live_bytes -= bytes;
	struct replay_task *freer = by != owner_id ? task_at(ledger, by) : NULL;
	if (freer) {
		sums->freed_by_others += weight;
		sums->freed_by_others_bytes += bytes;
		freer->weighted.freed_of_others += weight;
		freer->weighted.freed_of_others_bytes += bytes;
		sample_tally_add(&freer->tally, weight, size);
	}
	release_if_finished(ledger, owner);
}

void task_ledger_resize(struct task_ledger *ledger, uint32_t owner_id, uint64_t old_size,
                        double old_weight, uint64_t size, double weight, uint64_t time_ns)
{
	struct replay_task *owner = task_at(ledger, owner_id);
	if (!owner)
		return;
	struct replay_task_weighted *sums = &owner->weighted;
	sample_tally_add(&owner->tally, weight, size);
	sums->live_blocks += weight - old_weight;
	sums->live_bytes += weight * (double)size - old_weight * (double)old_size;
	if (sums->live_bytes > sums->peak_bytes) {
		sums->peak_bytes = sums->live_bytes;
		owner->peak_time_ns = time_ns;
	}
}

static int by_id(const void *left, const void *right)
{
	uint32_t a = *(const uint32_t *)left, b = *(const uint32_t *)right;
	return (a > b) - (a < b);
}

int task_ledger_finish(struct task_ledger *ledger, uint64_t end_ns)
{
	if (ledger->held == 0)
		return ledger->status;
	uint32_t *ids = malloc((size_t)ledger->held * sizeof(*ids));
	if (!ids)
		return ledger->status ? ledger->status : -ENOMEM;
	uint32_t count = 0;
	for (uint32_t i = 0; i < ledger->record_used; i++)
		if (ledger->records[i].id != 0)
			ids[count++] = ledger->records[i].id;
	qsort(ids, count, sizeof(*ids), by_id);
	for (uint32_t i = 0; i < count; i++) {
		struct replay_task *task = task_at(ledger, ids[i]);
		if (!task->ended)
			task->end_ns = end_ns;
		release(ledger, task);
	}
	free(ids);
	return ledger->status;
}

int task_ledger_status(const struct task_ledger *ledger)
{
	return ledger->status;
}

uint32_t task_ledger_begun(const struct task_ledger *ledger)
{
	return ledger->begun;
}

uint32_t task_ledger_held(const struct task_ledger *ledger, uint32_t *most)
{
	if (most)
		*most = ledger->most_held;
	return ledger->held;
}

void task_ledger_problems(const struct task_ledger *ledger, struct task_ledger_problems *out)
{
	*out = ledger->problems;
}

const char *task_origin_name(uint32_t origin)
{
	switch (origin) {
	case CAPTURE_TASK_THREAD:
		return "thread";
	case CAPTURE_TASK_ANNOTATION:
		return "annotation";
	case CAPTURE_TASK_UCONTEXT:
		return "ucontext";
	default:
		return "?";
	}
}
