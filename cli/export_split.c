/* export_split.c - `memscope report --format json --split DIR`: one
 * capture's analysis as the seeds' layout of categorized JSON files,
 *
 *   DIR/MemoryAnalysis/<capture name without extension>/
 *     memory_analysis.json   the json exporter: the summary + leaks results
 *     performance.json       the json exporter: hotspots results
 *     fragmentation.json     the json exporter: fragmentation results
 *     lifetime.json          blocks by lifetime bucket (written here)
 *     threads.json           blocks, bytes and peak per thread, and its share of
 *                            the capture's peak (written here)
 *     tasks.json             every task and its leaks, when the capture has
 *                            tasks (written here)
 *
 * The three exporter files are documents of the json exporter's schema
 * ("memscope-report"), each with one analyzer's results; the others have
 * small schemas of their own, computed through the host table.  tasks.json
 * holds the same task objects as the report's "tasks" section, and the
 * frames of the stacks their leaks name.  All are described in
 * docs/json-schema.md, "Split layout".  In a sampled capture every block
 * counts as its weight: lifetime.json's, threads.json's and tasks.json's
 * blocks and bytes are estimates, and they say so with the "sampling"
 * object the json exporter's documents carry; each bucket, thread, task and
 * task leak says with an "accuracy" how exact its figures are, as the json
 * exporter's tasks do.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capture_view.h"
#include "commands.h"
#include "exporter_common.h"
#include "host.h"
#include "registry.h"
#include "results.h"

#define WHO "memscope report"
#define SPLIT_SUBDIRECTORY "MemoryAnalysis"
#define LIFETIME_SCHEMA "memscope-lifetime"
#define THREADS_SCHEMA "memscope-threads"
#define TASKS_SCHEMA "memscope-tasks"
#define SPLIT_SCHEMA_VERSION 1

enum { EXIT_USAGE = 2 };

/* One exporter file: the analyzer whose results it holds. */
struct category {
	const char *file;
	const char *analyzer;
};

static const struct category categories[] = {
	{"memory_analysis.json", "leaks"},
	{"performance.json", "hotspots"},
	{"fragmentation.json", "fragmentation"},
};

#define CATEGORY_COUNT (sizeof categories / sizeof categories[0])

/* ---- JSON text ------------------------------------------------------- */

/* A JSON string, or null: the exporters' escaping (exporter_common.h). */
static void put_string(FILE *out, const char *text)
{
	exporter_json_string(out, text, EXPORTER_JSON_DOCUMENT);
}

/* ",\n  "sampling": {...}" after the capture's path when a sampling backend
 * wrote the capture, the json exporter's object; nothing for a capture of
 * every event. */
static void put_sampling(FILE *out, memscope_capture *capture)
{
	const memscope_summary *summary = exporter_summary(plugin_host(), capture);
	if (memscope_summary_sample_interval(summary) == 0)
		return;
	fputs(",\n  \"sampling\": ", out);
	exporter_sampling_object(out, summary, true);
}

/* ", "accuracy": "mixed"": what the blocks of tally make of a figure. */
static void put_accuracy(FILE *out, const memscope_tally *tally)
{
	fprintf(out, ", \"accuracy\": \"%s\"",
	        memscope_accuracy_name(memscope_tally_accuracy(tally)));
}

/* ---- lifetime.json ----------------------------------------------------- */

/* Upper bounds (exclusive) of the lifetime buckets; the last is unbounded. */
static const uint64_t lifetime_bounds_ns[] = {1000000, 10000000, 100000000, 1000000000};
static const char *const lifetime_names[] = {"under_1ms", "under_10ms", "under_100ms",
                                             "under_1s", "1s_or_more"};

#define LIFETIME_BUCKETS (sizeof lifetime_names / sizeof lifetime_names[0])

/* Weighted sums: estimates in a sampled capture. */
struct lifetimes {
	double blocks[LIFETIME_BUCKETS];
	double bytes[LIFETIME_BUCKETS];
	memscope_tally tally[LIFETIME_BUCKETS];
	double never_freed_blocks;
	double never_freed_bytes;
	memscope_tally never_freed_tally;
};

static int count_lifetime(void *context, const memscope_block *block)
{
	struct lifetimes *lifetimes = context;
	double weight = memscope_block_weight(block);
	if (!block->freed) {
		lifetimes->never_freed_blocks += weight;
		lifetimes->never_freed_bytes += weight * (double)block->size;
		memscope_tally_add(&lifetimes->never_freed_tally, weight);
		return 0;
	}
	uint64_t lifetime = block->freed_ns - block->allocated_ns;
	size_t bucket = 0;
	while (bucket < LIFETIME_BUCKETS - 1 && lifetime >= lifetime_bounds_ns[bucket])
		bucket++;
	lifetimes->blocks[bucket] += weight;
	lifetimes->bytes[bucket] += weight * (double)block->size;
	memscope_tally_add(&lifetimes->tally[bucket], weight);
	return 0;
}

static int write_lifetime(memscope_capture *capture, const char *capture_path, FILE *out)
{
	struct lifetimes lifetimes = {0};
	int error = plugin_host()->for_each_block(capture, count_lifetime, &lifetimes);
	if (error < 0)
		return error;
	fprintf(out, "{\n  \"schema\": \"%s\",\n  \"schema_version\": %d,\n  \"capture\": ",
	        LIFETIME_SCHEMA, SPLIT_SCHEMA_VERSION);
	put_string(out, capture_path);
	put_sampling(out, capture);
	fputs(",\n  \"buckets\": [", out);
	for (size_t i = 0; i < LIFETIME_BUCKETS; i++) {
		fprintf(out, "%s\n    {\"name\": \"%s\", \"min_ns\": %" PRIu64 ", \"max_ns\": ",
		        i == 0 ? "" : ",", lifetime_names[i], i == 0 ? 0 : lifetime_bounds_ns[i - 1]);
		if (i < LIFETIME_BUCKETS - 1)
			fprintf(out, "%" PRIu64, lifetime_bounds_ns[i]);
		else
			fputs("null", out);
		fprintf(out, ", \"blocks\": %" PRIu64 ", \"bytes\": %" PRIu64,
		        memscope_weighted_count(lifetimes.blocks[i]),
		        memscope_weighted_count(lifetimes.bytes[i]));
		put_accuracy(out, &lifetimes.tally[i]);
		fputc('}', out);
	}
	fprintf(out, "\n  ],\n  \"never_freed\": {\"blocks\": %" PRIu64 ", \"bytes\": %" PRIu64,
	        memscope_weighted_count(lifetimes.never_freed_blocks),
	        memscope_weighted_count(lifetimes.never_freed_bytes));
	put_accuracy(out, &lifetimes.never_freed_tally);
	fputs("}\n}\n", out);
	return 0;
}

/* ---- threads.json ------------------------------------------------------ */

/* A block's allocation or free, for replaying one thread's live bytes in
 * the events' order (or, from a host that does not give it, by time): the
 * walk gives blocks in order of their end. */
struct change {
	uint64_t time_ns;
	uint64_t event;            /* its position among the capture's events; 0: not given */
	double bytes;              /* weighted */
	uint32_t thread;
	bool freed;
};

/* Weighted sums: estimates in a sampled capture. */
struct thread_totals {
	double blocks;
	double bytes;
	double freed_blocks;
	double freed_bytes;
	double live;               /* while replaying */
	double peak_bytes;
	uint64_t peak_time_ns;
	double at_capture_peak;    /* its bytes live at the capture's peak */
	memscope_tally tally;      /* every block it allocated */
	bool seen;
};

struct thread_walk {
	const memscope_summary *summary;
	struct thread_totals *threads;
	size_t thread_capacity;
	struct change *changes;
	size_t change_count;
	size_t change_capacity;
};

static int grow(void **array, size_t *capacity, size_t wanted, size_t element, bool zero)
{
	if (wanted <= *capacity)
		return 0;
	size_t capacity_new = *capacity ? *capacity : 16;
	while (capacity_new < wanted)
		capacity_new *= 2;
	void *grown = realloc(*array, capacity_new * element);
	if (grown == NULL)
		return -ENOMEM;
	if (zero)
		memset((char *)grown + *capacity * element, 0, (capacity_new - *capacity) * element);
	*array = grown;
	*capacity = capacity_new;
	return 0;
}

static int add_change(struct thread_walk *walk, struct change change)
{
	if (grow((void **)&walk->changes, &walk->change_capacity, walk->change_count + 1,
	         sizeof *walk->changes, false) < 0)
		return -ENOMEM;
	walk->changes[walk->change_count++] = change;
	return 0;
}

static int count_thread(void *context, const memscope_block *block)
{
	struct thread_walk *walk = context;
	if (grow((void **)&walk->threads, &walk->thread_capacity, (size_t)block->thread + 1,
	         sizeof *walk->threads, true) < 0)
		return -ENOMEM;
	struct thread_totals *thread = &walk->threads[block->thread];
	double weight = memscope_block_weight(block);
	double bytes = weight * (double)block->size;
	thread->seen = true;
	memscope_tally_add(&thread->tally, weight);
	thread->blocks += weight;
	thread->bytes += bytes;
	if (block->freed) {
		thread->freed_blocks += weight;
		thread->freed_bytes += bytes;
	}
	if (memscope_block_live_at_peak(walk->summary, block))
		thread->at_capture_peak += bytes;
	bool ordered = block->version >= 4 && block->allocated_event != 0;
	/* By time alone, a block freed in its allocation's tick cannot be
	 * ordered against the others of that tick: it is left out. */
	if (!ordered && block->freed && block->freed_ns <= block->allocated_ns)
		return 0;
	struct change allocated = {block->allocated_ns, ordered ? block->allocated_event : 0, bytes,
	                           block->thread, false};
	if (add_change(walk, allocated) < 0)
		return -ENOMEM;
	if (block->freed) {
		struct change freed = {block->freed_ns, ordered ? block->freed_event : 0, bytes,
		                       block->thread, true};
		if (add_change(walk, freed) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* In the events' order, where the host gives it: each thread's peak is
 * then exact.  Otherwise by time, at the same time frees first: event times
 * are clock ticks (about 1 ms apart), so the peak is of the bytes live
 * between ticks, and blocks freed in the tick they were allocated in never
 * are (count_thread leaves them out). */
static int compare_changes(const void *left, const void *right)
{
	const struct change *a = left, *b = right;
	if (a->event != 0 && b->event != 0)
		return (a->event > b->event) - (a->event < b->event);
	if (a->time_ns != b->time_ns)
		return a->time_ns < b->time_ns ? -1 : 1;
	return (int)b->freed - (int)a->freed;
}

static int write_threads(memscope_capture *capture, const char *capture_path, FILE *out)
{
	const memscope_host *host = plugin_host();
	struct thread_walk walk = {.summary = host->summary(capture)};
	int error = walk.summary != NULL ? host->for_each_block(capture, count_thread, &walk)
	                                 : -EINVAL;
	if (error < 0)
		goto out;
	/* No block at all (a capture cut before its first): nothing to sort. */
	if (walk.change_count > 1)
		qsort(walk.changes, walk.change_count, sizeof *walk.changes, compare_changes);
	for (size_t i = 0; i < walk.change_count; i++) {
		const struct change *change = &walk.changes[i];
		struct thread_totals *thread = &walk.threads[change->thread];
		if (change->freed) {
			thread->live -= change->bytes;
		} else {
			thread->live += change->bytes;
			if (thread->live > thread->peak_bytes) {
				thread->peak_bytes = thread->live;
				thread->peak_time_ns = change->time_ns;
			}
		}
	}

	fprintf(out, "{\n  \"schema\": \"%s\",\n  \"schema_version\": %d,\n  \"capture\": ",
	        THREADS_SCHEMA, SPLIT_SCHEMA_VERSION);
	put_string(out, capture_path);
	put_sampling(out, capture);
	fputs(",\n  \"threads\": [", out);
	bool first = true;
	for (size_t i = 0; i < walk.thread_capacity; i++) {
		const struct thread_totals *thread = &walk.threads[i];
		if (!thread->seen)
			continue;
		fprintf(out, "%s\n    {\"index\": %zu, \"name\": ", first ? "" : ",", i);
		put_string(out, host->thread_name(capture, (uint32_t)i));
		fprintf(out, ", \"blocks\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"freed_blocks\": %"
		        PRIu64 ", \"freed_bytes\": %" PRIu64 ", \"live_blocks\": %" PRIu64
		        ", \"live_bytes\": %" PRIu64 ", \"peak_bytes\": %" PRIu64
		        ", \"peak_time_ns\": %" PRIu64 ", \"live_at_capture_peak_bytes\": %" PRIu64,
		        memscope_weighted_count(thread->blocks), memscope_weighted_count(thread->bytes),
		        memscope_weighted_count(thread->freed_blocks),
		        memscope_weighted_count(thread->freed_bytes),
		        memscope_weighted_count(thread->blocks - thread->freed_blocks),
		        memscope_weighted_count(thread->bytes - thread->freed_bytes),
		        memscope_weighted_count(thread->peak_bytes), thread->peak_time_ns,
		        memscope_weighted_count(thread->at_capture_peak));
		put_accuracy(out, &thread->tally);
		fputc('}', out);
		first = false;
	}
	fputs(first ? "]\n}\n" : "\n  ]\n}\n", out);
out:
	free(walk.threads);
	free(walk.changes);
	return error;
}

/* ---- tasks.json -------------------------------------------------------- */

struct task_file {
	FILE *out;
	memscope_capture *capture;
	const struct exporter_task_leaks *leaks;
	bool first;
};

/* One task on one line, with the keys and figures of the json exporter's
 * "tasks" section. */
static int put_task(void *context, const memscope_task *task)
{
	struct task_file *file = context;
	FILE *out = file->out;
	fprintf(out, "%s\n    {\"id\": %" PRIu32 ", \"parent\": %" PRIu32 ", \"name\": ",
	        file->first ? "" : ",", task->id, task->parent);
	put_string(out, task->name);
	fputs(", \"origin\": ", out);
	put_string(out, task->origin);
	fprintf(out, ", \"key\": %" PRIu64 ", \"began_on\": %" PRIu32 ", \"threads\": [", task->key,
	        task->began_on);
	for (size_t i = 0; task->threads != NULL && i < task->thread_count; i++)
		fprintf(out, "%s%" PRIu32, i == 0 ? "" : ", ", task->threads[i]);
	fprintf(out, "], \"begin_ns\": %" PRIu64 ", \"end_ns\": %" PRIu64 ", \"ended\": %s"
	        ", \"children\": %" PRIu32 ", \"allocations\": %" PRIu64 ", \"allocated_bytes\": %"
	        PRIu64 ", \"frees\": %" PRIu64 ", \"freed_bytes\": %" PRIu64
	        ", \"freed_by_others\": %" PRIu64 ", \"freed_by_others_bytes\": %" PRIu64
	        ", \"freed_of_others\": %" PRIu64 ", \"freed_of_others_bytes\": %" PRIu64
	        ", \"peak_bytes\": %" PRIu64 ", \"peak_time_ns\": %" PRIu64
	        ", \"live_at_end_blocks\": %" PRIu64 ", \"live_at_end_bytes\": %" PRIu64
	        ", \"leaked_blocks\": %" PRIu64 ", \"leaked_bytes\": %" PRIu64
	        ", \"accuracy\": \"%s\", \"leaks\": [",
	        task->begin_ns, task->end_ns, task->ended ? "true" : "false", task->children,
	        task->allocations, task->allocated_bytes, task->frees, task->freed_bytes,
	        task->freed_by_others, task->freed_by_others_bytes, task->freed_of_others,
	        task->freed_of_others_bytes, task->peak_bytes, task->peak_time_ns,
	        task->end_live_blocks, task->end_live_bytes, task->live_blocks, task->live_bytes,
	        memscope_accuracy_name(memscope_task_accuracy(
	            task, exporter_summary(plugin_host(), file->capture))));
	/* Leaks of an id the host does not list are skipped. */
	size_t count;
	const struct exporter_task_leak *leaks = exporter_task_leaks_of(file->leaks, task->id, &count);
	for (size_t i = 0; i < count; i++) {
		fprintf(out, "%s{\"stack\": %" PRIu32 ", \"blocks\": %" PRIu64
		        ", \"bytes\": %" PRIu64, i ? ", " : "", leaks[i].stack, leaks[i].blocks,
		        leaks[i].bytes);
		put_accuracy(out, &leaks[i].tally);
		fputc('}', out);
	}
	fputs("]}", out);
	file->first = false;
	return 0;
}

/* "stacks": the frames of the stacks the leaks name, as in the report. */
static void put_stacks(memscope_capture *capture, const struct exporter_stack_ids *stacks,
                       FILE *out)
{
	fputs(",\n  \"stacks\": {", out);
	for (size_t i = 0; i < stacks->count; i++) {
		const memscope_frame *frames;
		size_t frame_count = exporter_stack_frames(plugin_host(), capture, stacks->ids[i],
		                                           &frames);
		fprintf(out, "%s\n    \"%" PRIu32 "\": [", i == 0 ? "" : ",", stacks->ids[i]);
		for (size_t f = 0; f < frame_count; f++) {
			fprintf(out, "%s\n      {\"function\": ", f == 0 ? "" : ",");
			put_string(out, frames[f].function);
			fputs(", \"file\": ", out);
			put_string(out, frames[f].file);
			fprintf(out, ", \"line\": %" PRIu32 ", \"inlined\": %s, \"module\": ",
			        frames[f].line, frames[f].inlined ? "true" : "false");
			put_string(out, frames[f].module);
			fprintf(out, ", \"offset\": %" PRIu64 "}", frames[f].module_offset);
		}
		fputs(frame_count == 0 ? "]" : "\n    ]", out);
	}
	fputs(stacks->count == 0 ? "}" : "\n  }", out);
}

static int write_tasks(memscope_capture *capture, const char *capture_path, FILE *out)
{
	const memscope_host *host = plugin_host();
	struct exporter_task_leaks leaks = {0};
	struct exporter_stack_ids stacks = {0};
	int error = exporter_task_leaks_collect(&leaks, host, capture);
	if (error < 0)
		goto out;
	for (size_t i = 0; i < leaks.count && error == 0; i++)
		error = exporter_stack_ids_add(&stacks, leaks.entries[i].stack);
	if (error < 0)
		goto out;
	exporter_stack_ids_settle(&stacks);

	fprintf(out, "{\n  \"schema\": \"%s\",\n  \"schema_version\": %d,\n  \"capture\": ",
	        TASKS_SCHEMA, SPLIT_SCHEMA_VERSION);
	put_string(out, capture_path);
	put_sampling(out, capture);
	fputs(",\n  \"tasks\": [", out);
	struct task_file file = {.out = out, .capture = capture, .leaks = &leaks, .first = true};
	error = memscope_host_for_each_task(host, capture, put_task, &file);
	if (error < 0)
		goto out;
	fputs(file.first ? "]" : "\n  ]", out);
	put_stacks(capture, &stacks, out);
	fputs("\n}\n", out);
out:
	exporter_task_leaks_finish(&leaks);
	exporter_stack_ids_finish(&stacks);
	return error;
}

/* ---- files and directories -------------------------------------------- */

/* Creates directory and the missing ones above it. */
static int make_directories(char *directory)
{
	for (char *slash = strchr(directory + 1, '/');; slash = strchr(slash + 1, '/')) {
		if (slash != NULL)
			*slash = '\0';
		int made = mkdir(directory, 0755);
		int error = made < 0 && errno != EEXIST ? -errno : 0;
		if (slash != NULL)
			*slash = '/';
		if (error < 0)
			return error;
		if (slash == NULL)
			break;
	}
	struct stat status;
	if (stat(directory, &status) < 0)
		return -errno;
	return S_ISDIR(status.st_mode) ? 0 : -ENOTDIR;
}

/* The capture's file name without its directory and extension:
 * "run/app.memscope" -> "app". */
static void capture_name(const char *path, char *out, size_t size)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	snprintf(out, size, "%s", name);
	char *dot = strrchr(out, '.');
	if (dot != NULL && dot != out)
		*dot = '\0';
	if (out[0] == '\0')
		snprintf(out, size, "capture");
}

typedef int (*file_writer)(void *context, FILE *out);

/* Writes one file of the layout with write_file; says what went wrong. */
static int write_one(const char *directory, const char *file, file_writer write_file,
                     void *context)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", directory, file) >= sizeof path) {
		fprintf(stderr, WHO ": %s/%s: the path is too long; choose a shorter --split DIR\n",
		        directory, file);
		return 1;
	}
	FILE *out = fopen(path, "we");
	if (out == NULL) {
		fprintf(stderr, WHO ": cannot write %s: %s; choose another --split DIR\n", path,
		        strerror(errno));
		return 1;
	}
	int error = write_file(context, out);
	int closed = fclose(out) == 0 ? 0 : -errno;
	if (error == 0)
		error = closed;
	if (error < 0) {
		fprintf(stderr, WHO ": cannot write %s: %s\n", path, strerror(-error));
		return 1;
	}
	return 0;
}

struct split {
	memscope_capture *capture;
	const char *capture_path;
	const memscope_exporter *json;
	const struct memscope_results *results; /* NULL: the analyzer did not run */
};

static int write_category(void *context, FILE *out)
{
	const struct split *split = context;
	return plugin_run_exporter(split->json, split->capture, &split->results,
	                           split->results != NULL ? 1 : 0, out);
}

static int write_lifetime_file(void *context, FILE *out)
{
	const struct split *split = context;
	return write_lifetime(split->capture, split->capture_path, out);
}

static int write_threads_file(void *context, FILE *out)
{
	const struct split *split = context;
	return write_threads(split->capture, split->capture_path, out);
}

static int write_tasks_file(void *context, FILE *out)
{
	const struct split *split = context;
	return write_tasks(split->capture, split->capture_path, out);
}

/* ---- the command ------------------------------------------------------- */

/* Runs analyzer on split->capture; *results stays NULL when it is not
 * installed (said on stderr: its file is written without results).
 * Returns whether it failed. */
static bool run_category(struct plugin_registry *registry, memscope_capture *capture,
                         const char *name, struct memscope_results **results)
{
	const memscope_analyzer *analyzer = plugin_registry_analyzer(registry, name);
	if (analyzer == NULL) {
		fprintf(stderr, WHO ": analyzer '%s' is not installed; its file has no results\n",
		        name);
		return false;
	}
	int error = plugin_run_analyzer(analyzer, capture, results);
	if (error < 0)
		fprintf(stderr, WHO ": analyzer '%s' failed: %s (its results so far are kept)\n", name,
		        strerror(-error));
	return error < 0;
}

int export_split(const char *path, const char *directory, const char *plugin_path,
                 char *const *options, size_t option_count)
{
	struct plugin_registry *registry = NULL;
	struct memscope_capture *capture = NULL;
	struct memscope_results *results[CATEGORY_COUNT] = {0};
	int status = 0;

	if (plugin_registry_create(&registry) < 0 ||
	    plugin_registry_load_defaults(registry, plugin_path) < 0) {
		fprintf(stderr, WHO ": out of memory\n");
		status = 1;
		goto out;
	}
	for (size_t i = 0; i < plugin_registry_refusal_count(registry); i++)
		fprintf(stderr, WHO ": refused plugin %s\n", plugin_registry_refusal(registry, i));
	const memscope_exporter *json = plugin_registry_exporter(registry, "json");
	if (json == NULL) {
		fprintf(stderr, WHO ": no exporter 'json'; 'memscope plugins' lists the installed "
		        "ones\n");
		status = EXIT_USAGE;
		goto out;
	}

	char target[PATH_MAX], name[NAME_MAX + 1];
	capture_name(path, name, sizeof name);
	if ((size_t)snprintf(target, sizeof target, "%s/%s/%s", directory, SPLIT_SUBDIRECTORY,
	                     name) >= sizeof target) {
		fprintf(stderr, WHO ": --split %s: the path is too long\n", directory);
		status = EXIT_USAGE;
		goto out;
	}

	const char *message = NULL;
	int error = capture_view_open(path, &capture, &message);
	if (error < 0) {
		fprintf(stderr, WHO ": cannot read %s: %s\n", path,
		        message ? message : strerror(-error));
		status = 1;
		goto out;
	}
	for (size_t i = 0; i < option_count; i++) {
		char *equals = strchr(options[i], '=');
		if (equals == NULL) {
			fprintf(stderr, WHO ": --option takes key=value, not '%s'\n", options[i]);
			status = EXIT_USAGE;
			goto out;
		}
		*equals = '\0';
		error = capture_view_set_option(capture, options[i], equals + 1);
		*equals = '=';
		if (error < 0) {
			fprintf(stderr, WHO ": out of memory\n");
			status = 1;
			goto out;
		}
	}

	error = make_directories(target);
	if (error < 0) {
		fprintf(stderr, WHO ": cannot create %s: %s; choose another --split DIR\n", target,
		        strerror(-error));
		status = 1;
		goto out;
	}

	struct split split = {.capture = capture, .capture_path = path, .json = json};
	bool failed = false;
	for (size_t i = 0; i < CATEGORY_COUNT && status == 0; i++) {
		failed |= run_category(registry, capture, categories[i].analyzer, &results[i]);
		split.results = results[i];
		status = write_one(target, categories[i].file, write_category, &split);
	}
	if (status == 0)
		status = write_one(target, "lifetime.json", write_lifetime_file, &split);
	if (status == 0)
		status = write_one(target, "threads.json", write_threads_file, &split);
	bool tasks = memscope_summary_tasks(exporter_summary(plugin_host(), capture)) > 0;
	if (status == 0 && tasks)
		status = write_one(target, "tasks.json", write_tasks_file, &split);
	if (status == 0)
		fprintf(stderr, WHO ": wrote %s/{memory_analysis,performance,fragmentation,lifetime,"
		        "threads%s}.json\n", target, tasks ? ",tasks" : "");
	/* Written, but an analyzer's part is not whole: said above. */
	if (status == 0 && failed)
		status = 1;
out:
	for (size_t i = 0; i < CATEGORY_COUNT; i++)
		results_destroy(results[i]);
	capture_view_close(capture);
	/* Last: the plugins' code and strings go with it. */
	plugin_registry_destroy(registry);
	return status;
}
