/* capture_view.c - a capture as plugins see it: the report's totals,
 * threads and symbolizer, blocks and samples streamed by replay_walk(), and
 * the options given on the command line.  See capture_view.h.
 */
#include "capture_view.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"
#include "report.h"
#include "symbolize.h"

/* Frames one instruction address may expand to through inlining. */
#define INLINE_FRAMES 16

struct option {
	char *key;
	char *value;
};

/* A stack's frames, symbolized the first time a plugin asks. */
struct stack_frames {
	bool done;
	memscope_frame *frames;
	size_t count;
};

struct memscope_capture {
	struct report *report;
	memscope_summary summary;
	memscope_task *tasks;          /* [task_count] by id, made on the first
	                                  capture_view_task(): for_each_task needs none */
	uint32_t task_count;
	struct stack_frames *stacks;   /* [report->replay->stack_count] */
	struct option *options;
	size_t option_count;
};

/* How the program of a capture without a trailer died, as memscope
 * recorded it; NULL when it ended cleanly, nothing says, or it replaced
 * itself (an exec ends the capture, not the process). */
static const char *death_of(const struct replay *replay)
{
	return replay_ending(replay) == REPLAY_ENDED_BY_DEATH ? replay_info(replay, "death") : NULL;
}

/* The summary's interval: the one in force at the end, unless the capture
 * was sampled before the backend went back to recording every allocation
 * (1): plugins read "above 1" as "estimates", which its figures still are. */
static uint64_t sample_interval_of(const struct replay *replay)
{
	if (replay->sampled && replay->sample_interval <= 1)
		return replay->sample_interval_max;
	return replay->sample_interval;
}

/* The ABI's name for a figure's accuracy. */
static uint32_t plugin_accuracy(const struct sample_tally *tally)
{
	switch (report_accuracy_of(tally)) {
	case REPORT_EXACT: return MEMSCOPE_ACCURACY_EXACT;
	case REPORT_ESTIMATED: return MEMSCOPE_ACCURACY_ESTIMATED;
	case REPORT_MIXED: return MEMSCOPE_ACCURACY_MIXED;
	}
	return 0;
}

/* name: the report's, so that every exporter calls a task what the text
 * report calls it. */
static memscope_task plugin_task(const struct replay_task *task, const char *name)
{
	return (memscope_task){
		.version = MEMSCOPE_TASK_VERSION,
		.id = task->id,
		.parent = task->parent,
		.began_on = task->began_on,
		.origin = task_origin_name(task->origin),
		.name = name ? name : "",
		.key = task->key,
		.begin_ns = task->begin_ns,
		.end_ns = task->end_ns,
		.ended = task->ended,
		.children = task->children,
		.threads = task->threads,
		.thread_count = task->thread_count,
		.allocations = task->allocations,
		.allocated_bytes = task->allocated_bytes,
		.frees = task->frees,
		.freed_bytes = task->freed_bytes,
		.freed_by_others = task->freed_by_others,
		.freed_by_others_bytes = task->freed_by_others_bytes,
		.freed_of_others = task->freed_of_others,
		.freed_of_others_bytes = task->freed_of_others_bytes,
		.live_blocks = task->live_blocks,
		.live_bytes = task->live_bytes,
		.peak_bytes = task->peak_bytes,
		.peak_time_ns = task->peak_time_ns,
		.end_live_blocks = task->end_live_blocks,
		.end_live_bytes = task->end_live_bytes,
		.accuracy = plugin_accuracy(&task->tally),
	};
}

int capture_view_open(const char *path, struct memscope_capture **out, const char **message)
{
	struct memscope_capture *view = calloc(1, sizeof(*view));
	if (!view) {
		if (message)
			*message = strerror(ENOMEM);
		return -ENOMEM;
	}
	struct report_options options;
	report_options_init(&options);
	options.top = 0; /* everything: a plugin decides what matters */
	options.tasks_walked = true; /* for_each_task streams them */
	int error = report_build(path, &options, &view->report, message);
	if (error < 0) {
		free(view);
		return error;
	}
	const struct replay *replay = view->report->replay;
	view->stacks = calloc(replay->stack_count ? replay->stack_count : 1, sizeof(*view->stacks));
	if (!view->stacks) {
		if (message)
			*message = strerror(ENOMEM);
		capture_view_close(view);
		return -ENOMEM;
	}

	const struct report *report = view->report;
	const struct replay_totals *totals = &report->totals;
	view->summary = (memscope_summary){
		.version = MEMSCOPE_SUMMARY_VERSION,
		.path = report->path,
		.program = report->program ? report->program : "",
		.backend = report->backend ? report->backend : "",
		.duration_ns = report->duration_ns,
		.allocations = totals->allocations,
		.reallocations = totals->expands,
		.frees = totals->frees,
		.allocated_bytes = totals->allocated_bytes,
		.peak_bytes = totals->peak_bytes,
		.peak_time_ns = totals->peak_time_ns,
		.peak_event = totals->peak_event,
		.peak_blocks = totals->peak_blocks,
		.death = death_of(replay),
		.live_blocks = totals->live_blocks,
		.live_bytes = totals->live_bytes,
		.threads = report->threads,
		.ended_cleanly = report->ended_cleanly,
		.truncated = report->truncated,
		.sample_interval = sample_interval_of(replay),
		.has_tracking = replay->has_tracking,
		.attempts = replay->tracking.attempts,
		.successes = replay->tracking.successes,
		.misses = replay->tracking.misses,
		.waits = replay->tracking.waits,
		.growths = replay->tracking.growths,
		.tasks = replay->task_count,
		.exact_above = replay->exact_above,
		.sample_interval_min = replay->sampled ? replay->sample_interval_min : 0,
		.sample_interval_max = replay->sampled ? replay->sample_interval_max : 0,
		.interval_changes = replay->interval_changes,
		.task_changes = replay->tracking.task_changes,
		.allocations_accuracy = plugin_accuracy(&report->totals.tallies.allocations),
		.reallocations_accuracy = plugin_accuracy(&report->totals.tallies.expands),
		.frees_accuracy = plugin_accuracy(&report->totals.tallies.frees),
		.peak_accuracy = plugin_accuracy(&report->totals.tallies.peak),
		.live_accuracy = plugin_accuracy(&report->totals.tallies.live),
	};
	*out = view;
	return 0;
}

void capture_view_close(struct memscope_capture *view)
{
	if (!view)
		return;
	if (view->stacks) {
		for (uint32_t i = 0; i < view->report->replay->stack_count; i++)
			free(view->stacks[i].frames);
		free(view->stacks);
	}
	for (size_t i = 0; i < view->option_count; i++) {
		free(view->options[i].key);
		free(view->options[i].value);
	}
	free(view->options);
	for (uint32_t i = 0; i < view->task_count; i++) {
		free((char *)view->tasks[i].name);
		free((uint32_t *)view->tasks[i].threads);
	}
	free(view->tasks);
	report_destroy(view->report);
	free(view);
}

int capture_view_set_option(struct memscope_capture *view, const char *key, const char *value)
{
	if (!view || !key || !value)
		return -EINVAL;
	char *copy = strdup(value);
	if (!copy)
		return -ENOMEM;
	for (size_t i = 0; i < view->option_count; i++) {
		if (strcmp(view->options[i].key, key) == 0) {
			free(view->options[i].value);
			view->options[i].value = copy;
			return 0;
		}
	}
	char *key_copy = strdup(key);
	struct option *grown =
	    realloc(view->options, (view->option_count + 1) * sizeof(*view->options));
	if (!key_copy || !grown) {
		free(key_copy);
		free(copy);
		if (grown)
			view->options = grown;
		return -ENOMEM;
	}
	view->options = grown;
	view->options[view->option_count++] = (struct option){ key_copy, copy };
	return 0;
}

const struct report *capture_view_report(const struct memscope_capture *view)
{
	return view ? view->report : NULL;
}

const memscope_summary *capture_view_summary(memscope_capture *view)
{
	return view ? &view->summary : NULL;
}

/* ---- blocks and samples ------------------------------------------------ */

/* A thread index as plugins get it: one the capture names, or, for an
 * index no THREAD record names (a damaged file's, up to 2^32), the one
 * past the last it names.  Plugins size arrays by it: the memory they
 * take is then bounded by what the file holds. */
static uint32_t known_thread(const struct replay *replay, uint32_t thread)
{
	return thread < replay->thread_count ? thread : replay->thread_count;
}

struct block_walk {
	const struct memscope_capture *view;
	memscope_block_visitor visit;
	void *context;
};

static int tell_block(void *context, const struct replay_block_life *life)
{
	struct block_walk *walk = context;
	const struct report *report = walk->view->report;
	/* Plugins group by stack id: blocks of stacks that print alike must
	 * share one, as they share one line in the report. */
	uint32_t stack = life->stack < report->replay->stack_count ? report->stack_group[life->stack]
	                                                            : 0;
	const struct replay_tag *tag = life->tag;
	memscope_block block = {
		.version = MEMSCOPE_BLOCK_VERSION,
		.stack = stack,
		.address = life->address,
		.size = life->size,
		.usable = life->usable,
		.thread = known_thread(report->replay, life->thread),
		.kind = life->kind,
		.task = life->task,
		.allocated_ns = life->allocated_ns,
		.freed_ns = life->freed_ns,
		.freed = life->freed,
		.tag_name = tag ? tag->name : NULL,
		/* The replay keeps "" for a type not given; plugins are promised NULL. */
		.tag_type = tag && tag->type_name[0] ? tag->type_name : NULL,
		.weight = life->weight,
		.freed_by_task = life->freed_by_task,
		.allocated_event = life->allocated_event,
		.freed_event = life->freed_event,
	};
	return walk->visit(walk->context, &block);
}

int capture_view_for_each_block(memscope_capture *view, memscope_block_visitor visit,
                                void *context)
{
	if (!view || !visit)
		return -EINVAL;
	struct block_walk walk = { view, visit, context };
	struct replay_walker walker = { .block = tell_block, .context = &walk };
	return replay_walk(view->report->path, &walker, NULL);
}

struct event_walk {
	struct memscope_capture *view;
	memscope_event_visitor visit;
	void *context;
};

static int tell_event(void *context, const struct replay_event *record)
{
	struct event_walk *walk = context;
	const struct report *report = walk->view->report;
	static const memscope_event_type types[] = {
		[CAPTURE_RECORD_ALLOC] = MEMSCOPE_EVENT_ALLOC,
		[CAPTURE_RECORD_FREE] = MEMSCOPE_EVENT_FREE,
		[CAPTURE_RECORD_EXPAND] = MEMSCOPE_EVENT_RESIZE,
	};
	memscope_event event = {
		.version = MEMSCOPE_EVENT_VERSION,
		.type = types[record->type],
		.time_ns = record->time_ns,
		.thread = known_thread(report->replay, record->thread),
		.kind = record->kind,
		.address = record->address,
		.size = record->size,
		.usable = record->usable,
		/* As for blocks: stacks that print alike share one id. */
		.stack = record->stack < report->replay->stack_count
		             ? report->stack_group[record->stack]
		             : 0,
		.weight = record->weight,
		.task = record->task,
		.owner_task = record->owner_task,
	};
	return walk->visit(walk->context, &event);
}

int capture_view_for_each_event(memscope_capture *view, memscope_event_visitor visit,
                                void *context)
{
	if (!view || !visit)
		return -EINVAL;
	struct event_walk walk = { view, visit, context };
	struct replay_walker walker = { .event = tell_event, .context = &walk };
	return replay_walk(view->report->path, &walker, NULL);
}

struct task_walk {
	memscope_capture *view;
	memscope_task_visitor visit;
	void *context;
};

static int tell_task(void *context, const struct replay_task *task)
{
	struct task_walk *walk = context;
	char label[320];
	report_task_label(walk->view->report, task, label, sizeof(label));
	memscope_task told = plugin_task(task, label);
	return walk->visit(walk->context, &told);
}

/* A walk of the capture: tasks are told as they finish, so a capture of a
 * million short tasks needs memory only for those running at once. */
int capture_view_for_each_task(memscope_capture *view, memscope_task_visitor visit,
                               void *context)
{
	if (!view || !visit)
		return -EINVAL;
	if (view->report->replay->task_count == 0)
		return 0;
	struct task_walk walk = { view, visit, context };
	struct replay_walker walker = { .task = tell_task, .context = &walk };
	return replay_walk(view->report->path, &walker, NULL);
}

/* for_each_task visitor: a copy of every task, for lookups by id. */
static int copy_task(void *context, const memscope_task *task)
{
	memscope_capture *view = context;
	memscope_task *copy = &view->tasks[view->task_count];
	*copy = *task;
	copy->name = strdup(task->name);
	uint32_t *threads = malloc((task->thread_count ? task->thread_count : 1) * sizeof(*threads));
	if (!copy->name || !threads) {
		free((char *)copy->name);
		free(threads);
		return -ENOMEM;
	}
	if (task->thread_count)
		memcpy(threads, task->threads, task->thread_count * sizeof(*threads));
	copy->threads = threads;
	view->task_count++;
	return 0;
}

static int compare_task_ids(const void *left, const void *right)
{
	const memscope_task *a = left, *b = right;
	return (a->id > b->id) - (a->id < b->id);
}

/* Random access needs every task at hand: the first lookup copies them
 * all (memory per task, unlike for_each_task). */
const memscope_task *capture_view_task(memscope_capture *view, uint64_t id)
{
	if (!view || id == 0)
		return NULL;
	uint32_t count = view->report->replay->task_count;
	if (count == 0)
		return NULL;
	if (!view->tasks) {
		view->tasks = calloc(count, sizeof(*view->tasks));
		if (!view->tasks)
			return NULL;
		if (capture_view_for_each_task(view, copy_task, view) != 0 ||
		    view->task_count != count) {
			for (uint32_t i = 0; i < view->task_count; i++) {
				free((char *)view->tasks[i].name);
				free((uint32_t *)view->tasks[i].threads);
			}
			free(view->tasks);
			view->tasks = NULL;
			view->task_count = 0;
			return NULL;
		}
		qsort(view->tasks, count, sizeof(*view->tasks), compare_task_ids);
	}
	memscope_task key = { .id = id };
	return bsearch(&key, view->tasks, view->task_count, sizeof(*view->tasks),
	               compare_task_ids);
}

struct sample_walk {
	memscope_sample_visitor visit;
	void *context;
};

static int tell_sample(void *context, const struct capture_sample *record)
{
	struct sample_walk *walk = context;
	memscope_sample sample = {
		.version = MEMSCOPE_SAMPLE_VERSION,
		.time_ns = record->time_ns,
		.heap_live_bytes = record->heap_live_bytes,
		.heap_live_blocks = record->heap_live_blocks,
		.rss_bytes = record->rss_bytes,
		.jemalloc_allocated = record->jemalloc_allocated,
		.jemalloc_active = record->jemalloc_active,
		.jemalloc_resident = record->jemalloc_resident,
		.jemalloc_mapped = record->jemalloc_mapped,
		.jemalloc_retained = record->jemalloc_retained,
		.cpu_user_ns = record->cpu_user_ns,
		.cpu_system_ns = record->cpu_system_ns,
		.threads = record->threads,
	};
	return walk->visit(walk->context, &sample);
}

int capture_view_for_each_sample(memscope_capture *view, memscope_sample_visitor visit,
                                 void *context)
{
	if (!view || !visit)
		return -EINVAL;
	struct sample_walk walk = { visit, context };
	struct replay_walker walker = { .sample = tell_sample, .context = &walk };
	return replay_walk(view->report->path, &walker, NULL);
}

/* ---- stacks, threads, kinds, options ----------------------------------- */

static int symbolize(struct memscope_capture *view, uint32_t stack, struct stack_frames *out)
{
	uint64_t ips[REPORT_MAX_STACK_FRAMES];
	int depth = replay_stack_ips(view->report->replay, stack, ips, REPORT_MAX_STACK_FRAMES);
	if (depth < 0)
		return depth;
	if (depth > REPORT_MAX_STACK_FRAMES)
		depth = REPORT_MAX_STACK_FRAMES;

	size_t capacity = 0;
	for (int i = 0; i < depth; i++) {
		struct symbol_frame found[INLINE_FRAMES];
		/* As in the report: every recorded ip, the innermost too, is the
		 * address after a call. */
		int count = symbolizer_lookup(view->report->symbolizer, ips[i], true, found,
		                              INLINE_FRAMES);
		if (count == -ENOMEM)
			return count;
		if (count < 1) {
			memset(&found[0], 0, sizeof(found[0]));
			found[0].module_offset = ips[i];
			count = 1;
		}
		if (out->count + (size_t)count > capacity) {
			size_t wanted = capacity ? capacity * 2 : 16;
			while (wanted < out->count + (size_t)count)
				wanted *= 2;
			memscope_frame *grown = realloc(out->frames, wanted * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			out->frames = grown;
			capacity = wanted;
		}
		for (int j = 0; j < count; j++) {
			out->frames[out->count++] = (memscope_frame){
				.version = MEMSCOPE_FRAME_VERSION,
				.function = found[j].function,
				.file = found[j].file,
				.line = found[j].line,
				.inlined = found[j].inlined,
				.module = found[j].module,
				.module_offset = found[j].module_offset,
			};
		}
	}
	return 0;
}

int capture_view_stack_frames(memscope_capture *view, uint32_t stack,
                              const memscope_frame **frames, size_t *count)
{
	if (!view || !frames || !count)
		return -EINVAL;
	if (stack >= view->report->replay->stack_count)
		return -EINVAL;
	struct stack_frames *cached = &view->stacks[stack];
	if (!cached->done) {
		int error = symbolize(view, stack, cached);
		if (error < 0) {
			/* Nothing half-done is kept: the next call tries again. */
			free(cached->frames);
			*cached = (struct stack_frames){ 0 };
			return error;
		}
		cached->done = true;
	}
	*frames = cached->frames;
	*count = cached->count;
	return 0;
}

const char *capture_view_thread_name(memscope_capture *view, uint32_t thread)
{
	if (!view)
		return "?";
	const struct replay *replay = view->report->replay;
	if (thread >= replay->thread_count || !replay->threads[thread].known)
		return "?";
	return replay->threads[thread].name;
}

const char *capture_view_kind_name(uint32_t kind)
{
	return capture_alloc_kind_name(kind);
}

const char *capture_view_option(memscope_capture *view, const char *key)
{
	if (!view || !key)
		return NULL;
	for (size_t i = 0; i < view->option_count; i++)
		if (strcmp(view->options[i].key, key) == 0)
			return view->options[i].value;
	return NULL;
}
