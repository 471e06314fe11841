/* task_ledger.c - see task_ledger.h. */
#include "task_ledger.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Ids and thread indices are dense; one far beyond what was seen is
 * corrupt input, and must not make us allocate gigabytes. */
#define MAX_ID_GAP (1u << 16)
#define MAX_THREAD_INDEX (1u << 20)

struct thread_state {
	uint32_t root;             /* the thread's root task, 0 until its TASK is read */
	uint32_t current;          /* what it runs now: 0 means its root */
};

struct task_ledger {
	struct replay_task *tasks; /* [capacity], index = id */
	uint32_t count;            /* highest id + 1, or 0 */
	uint32_t capacity;
	struct thread_state *threads;
	uint32_t thread_capacity;
	struct task_ledger_problems problems;
};

int task_ledger_create(struct task_ledger **out)
{
	struct task_ledger *ledger = calloc(1, sizeof(*ledger));
	if (!ledger)
		return -ENOMEM;
	*out = ledger;
	return 0;
}

void task_ledger_destroy(struct task_ledger *ledger)
{
	if (!ledger)
		return;
	for (uint32_t i = 0; i < ledger->count; i++) {
		free(ledger->tasks[i].name);
		free(ledger->tasks[i].threads);
	}
	free(ledger->tasks);
	free(ledger->threads);
	free(ledger);
}

/* Makes room for index in *array of *capacity elements of size; new ones
 * are zeroed.  Returns 0 or -ENOMEM. */
static int make_room(void **array, uint32_t *capacity, uint32_t index, size_t size)
{
	if (index < *capacity)
		return 0;
	uint32_t wanted = *capacity ? *capacity : 16;
	while (wanted <= index)
		wanted *= 2;
	void *grown = realloc(*array, (size_t)wanted * size);
	if (!grown)
		return -ENOMEM;
	memset((char *)grown + (size_t)*capacity * size, 0, (size_t)(wanted - *capacity) * size);
	*array = grown;
	*capacity = wanted;
	return 0;
}

static struct thread_state *thread_state(struct task_ledger *ledger, uint32_t thread)
{
	if (thread >= MAX_THREAD_INDEX ||
	    make_room((void **)&ledger->threads, &ledger->thread_capacity, thread,
	              sizeof(*ledger->threads)) < 0)
		return NULL;
	return &ledger->threads[thread];
}

static struct replay_task *task_at(struct task_ledger *ledger, uint32_t id)
{
	return id != 0 && id < ledger->count && ledger->tasks[id].id == id ? &ledger->tasks[id] : NULL;
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

static int on_task(struct task_ledger *ledger, const struct capture_task *record)
{
	if (record->id < ledger->count || record->id - ledger->count > MAX_ID_GAP) {
		ledger->problems.bad_tasks++;
		return 0;
	}
	int error = make_room((void **)&ledger->tasks, &ledger->capacity, record->id,
	                      sizeof(*ledger->tasks));
	if (error < 0)
		return error;
	char *name = strdup(record->name ? record->name : "");
	if (!name)
		return -ENOMEM;
	struct replay_task *task = &ledger->tasks[record->id];
	*task = (struct replay_task){
		.id = record->id,
		.parent = task_at(ledger, record->parent) ? record->parent : 0,
		.origin = record->origin,
		.began_on = record->thread,
		.key = record->key,
		.name = name,
		.begin_ns = record->time_ns,
		.end_ns = record->time_ns,
	};
	ledger->count = record->id + 1;
	if (task->parent)
		ledger->tasks[task->parent].children++;
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
	task->end_live_blocks = task->live_blocks;
	task->end_live_bytes = task->live_bytes;
}

static int on_task_switch(struct task_ledger *ledger, const struct capture_task_switch *record)
{
	struct thread_state *thread = thread_state(ledger, record->thread);
	if (!thread)
		return record->thread >= MAX_THREAD_INDEX ? 0 : -ENOMEM;
	if (record->task == 0) {
		thread->current = 0;
		return 0;
	}
	struct replay_task *task = task_at(ledger, record->task);
	if (!task) {
		ledger->problems.unknown_tasks++;
		thread->current = 0;
		return 0;
	}
	thread->current = record->task;
	return ran_on(task, record->thread);
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

void task_ledger_alloc(struct task_ledger *ledger, uint32_t task_id, uint64_t size,
                       uint64_t time_ns)
{
	struct replay_task *task = task_at(ledger, task_id);
	if (!task)
		return;
	task->allocations++;
	task->allocated_bytes += size;
	task->live_blocks++;
	task->live_bytes += size;
	if (task->live_bytes > task->peak_bytes) {
		task->peak_bytes = task->live_bytes;
		task->peak_time_ns = time_ns;
	}
}

void task_ledger_free(struct task_ledger *ledger, uint32_t owner_id, uint32_t by, uint64_t size)
{
	struct replay_task *owner = task_at(ledger, owner_id);
	if (!owner)
		return;
	owner->frees++;
	owner->freed_bytes += size;
	owner->live_blocks--;
	owner->live_bytes -= size;
	struct replay_task *freer = task_at(ledger, by);
	if (by == owner_id || !freer)
		return;
	owner->freed_by_others++;
	owner->freed_by_others_bytes += size;
	freer->freed_of_others++;
	freer->freed_of_others_bytes += size;
}

void task_ledger_resize(struct task_ledger *ledger, uint32_t owner_id, uint64_t old_size,
                        uint64_t size, uint64_t time_ns)
{
	struct replay_task *owner = task_at(ledger, owner_id);
	if (!owner)
		return;
	owner->live_bytes += size - old_size;
	if (owner->live_bytes > owner->peak_bytes) {
		owner->peak_bytes = owner->live_bytes;
		owner->peak_time_ns = time_ns;
	}
}

void task_ledger_finish(struct task_ledger *ledger, uint64_t end_ns)
{
	for (uint32_t i = 1; i < ledger->count; i++)
		if (ledger->tasks[i].id == i && !ledger->tasks[i].ended)
			ledger->tasks[i].end_ns = end_ns;
}

const struct replay_task *task_ledger_tasks(const struct task_ledger *ledger, uint32_t *count)
{
	*count = ledger->count;
	return ledger->tasks;
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
