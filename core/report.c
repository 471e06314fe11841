/* report.c - builds a report from a replayed capture (leak groups, peak
 * stacks, allocation sites, warnings), symbolizes the stacks it shows, and
 * prints it as text.  See report.h for the contract.
 */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <memscope/memscope.h>

#include "sampling.h"
#include "symbolize.h"

/* Source frames one instruction can expand to through inlining. */
#define INLINE_FRAMES 16
/* Frames of the one-line form of a stack ("f (a.c:1) <- main (a.c:9)"). */
#define SHORT_STACK_FRAMES 3
/* Widest function column of a stack's frames; longer names overflow it. */
#define FUNCTION_COLUMN_MAX 40
/* Tags printed under one leak group. */
#define TAGS_SHOWN 3

void report_options_init(struct report_options *options)
{
	options->top = REPORT_DEFAULT_TOP;
	options->depth = REPORT_DEFAULT_DEPTH;
	options->progress = NULL;
	options->tasks_walked = false;
}

/* ---- numbers as people read them ------------------------------------- */

/* "18,446,744,073,709,551,615" fits, with its terminator. */
struct grouped_text {
	char text[32];
};

/* Room for a grouped number, a unit and a noun. */
struct number_text {
	char text[96];
};

static struct grouped_text grouped(uint64_t value)
{
	char digits[24];
	int length = snprintf(digits, sizeof(digits), "%" PRIu64, value);
	struct grouped_text result;
	char *cursor = result.text;
	for (int i = 0; i < length; i++) {
		if (i > 0 && (length - i) % 3 == 0)
			*cursor++ = ',';
		*cursor++ = digits[i];
	}
	*cursor = '\0';
	return result;
}

/* "1,024 bytes (1.0 KiB)": exact first, the unit for the eye after. */
static struct number_text bytes_text(uint64_t bytes)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	struct number_text result;
	struct grouped_text exact = grouped(bytes);
	if (bytes < 1024) {
		snprintf(result.text, sizeof(result.text), "%s byte%s", exact.text,
		         bytes == 1 ? "" : "s");
		return result;
	}
	double scaled = (double)bytes / 1024.0;
	size_t unit = 0;
	while (scaled >= 1024.0 && unit + 1 < sizeof(units) / sizeof(units[0])) {
		scaled /= 1024.0;
		unit++;
	}
	snprintf(result.text, sizeof(result.text), "%s bytes (%.1f %s)", exact.text, scaled,
	         units[unit]);
	return result;
}

/* A grouped number where a number_text is wanted. */
static struct number_text grouped_text(uint64_t value)
{
	struct number_text result;
	snprintf(result.text, sizeof(result.text), "%s", grouped(value).text);
	return result;
}

/* "12 blocks", "1 block". */
static struct number_text counted(uint64_t count, const char *noun)
{
	struct number_text result;
	struct grouped_text digits = grouped(count);
	snprintf(result.text, sizeof(result.text), "%s %s%s", digits.text, noun,
	         count == 1 ? "" : "s");
	return result;
}

/* Seconds for runs, finer units for the very short ones of tests and tiny tools. */
/* Event times are good to about a millisecond (event_store.h), so they
 * are never shown finer than that. */
static struct number_text time_text(uint64_t ns)
{
	struct number_text result;
	if (ns >= UINT64_C(100000000))
		snprintf(result.text, sizeof(result.text), "%.2f s", (double)ns / 1e9);
	else if (ns >= UINT64_C(1000000))
		snprintf(result.text, sizeof(result.text), "%.0f ms", (double)ns / 1e6);
	else
		snprintf(result.text, sizeof(result.text), "<1 ms");
	return result;
}

/* text marked as an estimate ("~1,024 bytes (1.0 KiB)") when estimate is
 * set: the figures of a sampled capture are never to be read as counts. */
static struct number_text estimated(struct number_text text, bool estimate)
{
	if (!estimate)
		return text;
	struct number_text result = { .text = "~" };
	size_t room = sizeof(result.text) - 2;
	memcpy(result.text + 1, text.text, room);
	result.text[room + 1] = '\0';
	return result;
}

/* text marked as accuracy says: "~" unless it is exact. */
static struct number_text marked(struct number_text text, enum report_accuracy accuracy)
{
	return estimated(text, accuracy != REPORT_EXACT);
}

/* A task's figure: marked as the task's figures are, but for 0, which
 * no block is behind (a task that freed nothing of others'). */
static struct number_text task_figure(uint64_t value, enum report_accuracy accuracy)
{
	return marked(grouped_text(value), value == 0 ? REPORT_EXACT : accuracy);
}

/* What follows a row whose figures are mixed. */
static const char *mixed_note(enum report_accuracy accuracy)
{
	return accuracy == REPORT_MIXED ? "  (mixed)" : "";
}

/* " (mixed: 1,000,000 bytes (976.6 KiB) in 1 block exact)" after a total
 * that is mixed; "" after any other. */
struct mixed_text {
	char text[2 * sizeof(struct number_text) + 32];
};

static struct mixed_text exact_part(const struct sample_tally *tally)
{
	struct mixed_text result = { "" };
	if (report_accuracy_of(tally) == REPORT_MIXED)
		snprintf(result.text, sizeof(result.text), " (mixed: %s in %s exact)",
		         bytes_text(tally->exact_bytes).text, counted(tally->exact, "block").text);
	return result;
}

/* A sampling interval as it was most likely set: "512 KiB", "1 MiB";
 * the exact bytes when it is no whole number of those. */
static struct number_text interval_text(uint64_t interval)
{
	struct number_text result;
	if (interval >= (UINT64_C(1) << 20) && interval % (UINT64_C(1) << 20) == 0)
		snprintf(result.text, sizeof(result.text), "%s MiB", grouped(interval >> 20).text);
	else if (interval >= 1024 && interval % 1024 == 0)
		snprintf(result.text, sizeof(result.text), "%s KiB", grouped(interval >> 10).text);
	else
		result = bytes_text(interval);
	return result;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* ---- warnings -------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static int add_text(char ***items, size_t *count, const char *format, ...)
{
	char **grown = realloc(*items, (*count + 1) * sizeof(**items));
	if (!grown)
		return -ENOMEM;
	*items = grown;
	va_list arguments;
	va_start(arguments, format);
	int length = vasprintf(&grown[*count], format, arguments);
	va_end(arguments);
	if (length < 0)
		return -ENOMEM;
	(*count)++;
	return 0;
}

static void free_texts(char **items, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(items[i]);
	free(items);
}

/* ---- sampling and tracking ------------------------------------------ */

/* "one point every 512 KiB allocated on average (Poisson)", for the
 * intervals low to high that were in force. */
static void sampling_text(char *out, size_t size, uint64_t low, uint64_t high)
{
	if (low == high)
		snprintf(out, size, "one point every %s allocated on average (Poisson)",
		         interval_text(low).text);
	else
		snprintf(out, size,
		         "one point every %s to %s allocated on average (Poisson; the backend "
		         "changed its interval during the run)",
		         interval_text(low).text, interval_text(high).text);
}

/* The share of attempts recorded; 1 when nothing was attempted. */
static double completeness_of(const struct capture_tracking *tracking)
{
	if (tracking->attempts == 0)
		return 1.0;
	return (double)tracking->successes / (double)tracking->attempts;
}

static double rate_of(uint64_t count, const struct capture_tracking *tracking)
{
	return tracking->attempts ? (double)count / (double)tracking->attempts : 0.0;
}

/* Waits per entry the threads put in their buffers: events, and the task
 * changes of the async backend, which wait for room as events do. */
static double contention_of(const struct capture_tracking *tracking)
{
	uint64_t entries = tracking->attempts + tracking->task_changes;
	return entries ? (double)tracking->waits / (double)entries : 0.0;
}

/* A share as a percentage cut, not rounded, to one decimal: 99.96% of the
 * events is not shown as all of them. */
static double percent_down(double share)
{
	return floor(share * 1000.0) / 10.0;
}

/* "10,000 events attempted, 9,990 recorded, 10 dropped: 99.9% complete;
 * drop rate 0.10%, contention rate 0.00% (0 waits, 2 buffer growths)". */
static void tracking_text(char *out, size_t size, const struct capture_tracking *tracking)
{
	snprintf(out, size,
	         "%s attempted, %s recorded, %s dropped: %.1f%% complete; drop rate %.2f%%, "
	         "contention rate %.2f%% (%s, %s)",
	         counted(tracking->attempts, "event").text, grouped(tracking->successes).text,
	         grouped(tracking->misses).text, percent_down(completeness_of(tracking)),
	         100.0 * rate_of(tracking->misses, tracking),
	         100.0 * contention_of(tracking), counted(tracking->waits, "wait").text,
	         counted(tracking->growths, "buffer growth").text);
}

/* The warning a capture whose backend dropped too much deserves. */
static int tracking_warning(const struct capture_tracking *tracking, char ***items,
                            size_t *count)
{
	double completeness = completeness_of(tracking);
	if (completeness >= MEMSCOPE_COMPLETENESS_WARNING)
		return 0;
	return add_text(items, count,
	                "only %.1f%% of the events the backend saw were recorded (%s of %s were "
	                "dropped): counts and bytes are low, and a block whose free was dropped "
	                "shows as live at the end, so leaks may include blocks that were freed",
	                percent_down(completeness), grouped(tracking->misses).text,
	                grouped(tracking->attempts).text);
}

/* ---- warnings about the capture --------------------------------------- */

static int lost_events_warning(const struct capture_trailer *trailer, char ***items,
                               size_t *count)
{
	if (trailer->lost_events == 0)
		return 0;
	return add_text(items, count, "%s events could not be recorded: the numbers are lower bounds",
	                grouped(trailer->lost_events).text);
}

/* How the capture ended and what is odd in it: the warnings of a capture
 * that did not end in an exec. */
static int ending_warnings(const struct replay *replay, char ***items, size_t *count)
{
	const struct replay_totals *totals = &replay->totals;
	int error = 0;
	if (replay->truncated)
		error = add_text(items, count,
		                 "the capture is cut short or damaged (this report covers what was "
		                 "read before): %s",
		                 replay->truncation ? replay->truncation : "unreadable data");
	const char *death = replay_info(replay, "death");
	if (error == 0 && !replay->has_trailer && death != NULL)
		/* memscope wrote it from the process's buffers, after its death. */
		error = add_text(items, count,
		                 "the program ended before finishing its capture: %s, at %s or a "
		                 "little later. Every event it recorded until then is here; the "
		                 "blocks live then are not all leaks",
		                 death, time_text(replay->totals.end_time_ns).text);
	else if (error == 0 && !replay->has_trailer)
		error = add_text(items, count,
		                 "the capture has no trailer: the program did not end cleanly (it "
		                 "crashed, was killed, or is still running), so blocks live at the "
		                 "end are not all leaks");
	if (error == 0 && replay->has_trailer)
		error = lost_events_warning(&replay->trailer, items, count);
	if (error == 0 && totals->allocs_over_live > 0)
		error = add_text(items, count,
		                 "%s allocations reused an address still live (its free was not "
		                 "recorded): the older blocks were dropped",
		                 grouped(totals->allocs_over_live).text);
	if (error == 0 && totals->bad_stack_nodes > 0)
		error = add_text(items, count,
		                 "%s stack records were out of order or invalid: some stacks may "
		                 "be wrong",
		                 grouped(totals->bad_stack_nodes).text);
	if (error == 0 && totals->unknown_stacks > 0)
		error = add_text(items, count,
		                 "%s events named a stack that was never recorded: they are shown "
		                 "without a stack",
		                 grouped(totals->unknown_stacks).text);
	return error;
}

/* What makes a replay less than the whole story, shared by the report and
 * the summary. */
static int capture_warnings(const struct replay *replay, char ***items, size_t *count)
{
	int error;
	const char *exec = replay_info(replay, "exec");
	/* A process that execs ends its capture at a block boundary, with no
	 * trailer: say that, not that it may have been killed. */
	bool ended_by_exec = exec != NULL && !replay->has_trailer &&
	                     (!replay->truncated ||
	                      (replay->truncation && strstr(replay->truncation, "after its last complete block")));
	const char *next = replay_info(replay, "exec_capture");
	if (ended_by_exec && next != NULL)
		error = add_text(items, count,
		                 "the program replaced itself with %s (exec), which ends its capture: "
		                 "blocks live at that point are not all leaks; memscope traced the new "
		                 "image into %s",
		                 exec, next);
	else if (ended_by_exec)
		error = add_text(items, count,
		                 "the program replaced itself with %s (exec), which ends its capture: "
		                 "blocks live at that point are not all leaks",
		                 exec);
	else
		error = ending_warnings(replay, items, count);
	const char *parent = replay_info(replay, "forked_from");
	if (error == 0 && parent != NULL)
		error = add_text(items, count,
		                 "this process was forked from process %s and traced from the fork "
		                 "on (--follow-fork): the blocks it inherited are not in this "
		                 "capture, and their frees are ignored",
		                 parent);
	if (error == 0 && replay->has_tracking)
		error = tracking_warning(&replay->tracking, items, count);
	return error;
}

static int symbolizer_warning_lines(struct report *report)
{
	const char *text = symbolizer_warnings(report->symbolizer);
	while (text && *text) {
		const char *end = strchr(text, '\n');
		int length = end ? (int)(end - text) : (int)strlen(text);
		if (length > 0) {
			int error = add_text(&report->warnings, &report->warning_count,
			                     "symbols: %.*s", length, text);
			if (error < 0)
				return error;
		}
		text = end ? end + 1 : NULL;
	}
	return 0;
}

/* ---- allocator frames ------------------------------------------------ */

static bool starts_with(const char *text, const char *prefix)
{
	return strncmp(text, prefix, strlen(prefix)) == 0;
}

bool report_is_allocator_function(const char *function)
{
	static const char *const names[] = {
		"malloc", "calloc", "realloc", "free", "posix_memalign", "aligned_alloc",
		"memalign", "valloc", "pvalloc", "reallocarray", "strdup", "strndup",
		"__strdup", "__strndup", "wcsdup", "mallocx", "rallocx", "xallocx",
	};
	/* Operator new and new[] in all their overloads (nothrow, align_val_t),
	 * and the standard library's templates, mangled and demangled: _ZNSt,
	 * _ZNKSt and _ZSt are std:: members and functions. */
	static const char *const prefixes[] = {
		"__libc_", "_Znwm", "_Znam", "_Znwj", "_Znaj", "operator new", "std::",
		"__gnu_cxx::", "_ZNSt", "_ZNKSt", "_ZSt", "_ZN9__gnu_cxx", "_ZNK9__gnu_cxx",
	};
	if (!function)
		return false;
	/* glibc's internal aliases: __GI___libc_malloc, __GI___strdup. */
	if (starts_with(function, "__GI_"))
		function += strlen("__GI_");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(function, names[i]) == 0)
			return true;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (starts_with(function, prefixes[i]))
			return true;
	/* A demangled function template starts with its return type:
	 * "void std::vector<int>::_M_realloc_insert<...>(...)". */
	const char *space = strchr(function, ' ');
	const char *parenthesis = strchr(function, '(');
	if (space && (!parenthesis || space < parenthesis))
		return starts_with(space + 1, "std::") || starts_with(space + 1, "__gnu_cxx::");
	return false;
}

/* Code inside the C or C++ runtime or the allocator is never the program's,
 * whatever its name: with debug information installed, a libc frame can be
 * an inlined internal such as tcache_get. */
static bool runtime_module(const char *module)
{
	if (!module)
		return false;
	const char *name = base_name(module);
	return starts_with(name, "libc.so") || starts_with(name, "libc-") ||
	       starts_with(name, "libstdc++") || starts_with(name, "libjemalloc");
}

const struct report_frame *report_leaking_frame(const struct report_stack *stack)
{
	for (size_t i = 0; i < stack->frame_count; i++) {
		const struct report_frame *frame = &stack->frames[i];
		if (report_is_allocator_function(frame->function) || runtime_module(frame->module))
			continue;
		return frame;
	}
	return NULL;
}

/* ---- symbolized stacks ----------------------------------------------- */

static int symbolize_stack(struct report *report, uint32_t id, struct report_stack *stack)
{
	uint64_t ips[REPORT_MAX_STACK_FRAMES];
	int depth = replay_stack_ips(report->replay, id, ips, REPORT_MAX_STACK_FRAMES);
	if (depth < 0)
		depth = 0;
	if (depth > REPORT_MAX_STACK_FRAMES)
		depth = REPORT_MAX_STACK_FRAMES;

	stack->id = id;
	stack->frames = NULL;
	stack->frame_count = 0;
	size_t capacity = 0;
	for (int i = 0; i < depth; i++) {
		struct symbol_frame found[INLINE_FRAMES];
		/* Every frame, the innermost too, is the address after a call. */
		int count = symbolizer_lookup(report->symbolizer, ips[i], true, found, INLINE_FRAMES);
		if (count < 1) {
			memset(&found[0], 0, sizeof(found[0]));
			count = 1;
		}
		/* The one frame of memscope's a program's stack can hold: the
		 * trampoline a ucontext coroutine starts in (contexts.h). */
		if (found[0].module && starts_with(base_name(found[0].module), "libmemscope_preload"))
			continue;
		if (stack->frame_count + (size_t)count > capacity) {
			size_t wanted = capacity ? capacity * 2 : 16;
			while (wanted < stack->frame_count + (size_t)count)
				wanted *= 2;
			struct report_frame *grown = realloc(stack->frames, wanted * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			stack->frames = grown;
			capacity = wanted;
		}
		for (int j = 0; j < count; j++) {
			stack->frames[stack->frame_count++] = (struct report_frame){
				.ip = ips[i],
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

/* ---- stacks that print alike ----------------------------------------- */

/* Two call sites on one source line (a loop the compiler unrolled, a
 * macro) are different stacks in the capture but the same place to a
 * reader: stacks whose symbolized frames are equal form one group.  The
 * symbolizer interns its strings, so frames compare by pointer. */
static bool frames_equal(const struct report_frame *a, const struct report_frame *b)
{
	if (a->function != b->function || a->file != b->file || a->line != b->line ||
	    a->inlined != b->inlined)
		return false;
	/* Unknown functions are told apart by their address. */
	return a->function != NULL || (a->module == b->module && a->module_offset == b->module_offset);
}

static uint64_t hash_frames(const struct report_stack *stack)
{
	uint64_t hash = 14695981039346656037ULL;
	for (size_t i = 0; i < stack->frame_count; i++) {
		const struct report_frame *frame = &stack->frames[i];
		uint64_t parts[3] = {
			(uint64_t)(uintptr_t)frame->function ^ (uint64_t)frame->line << 1 ^ frame->inlined,
			(uint64_t)(uintptr_t)frame->file,
			frame->function ? 0 : frame->module_offset,
		};
		for (int j = 0; j < 3; j++)
			hash = (hash ^ parts[j]) * 1099511628211ULL;
	}
	return hash;
}

struct group_slot {
	bool used;
	uint32_t id;
	uint64_t hash;
	struct report_stack stack;
};

static int group_stacks(struct report *report)
{
	const struct replay *replay = report->replay;
	uint32_t count = replay->stack_count;
	report->stack_group = calloc(count ? count : 1, sizeof(*report->stack_group));
	report->group_stats = calloc(count ? count : 1, sizeof(*report->group_stats));
	size_t capacity = 64;
	while (capacity < (size_t)count * 2)
		capacity *= 2;
	struct group_slot *slots = calloc(capacity, sizeof(*slots));
	int error = 0;
	if (!report->stack_group || !report->group_stats || !slots) {
		error = -ENOMEM;
		goto out;
	}
	for (uint32_t id = 0; id < count; id++) {
		const struct replay_stack *numbers = &replay->stacks[id];
		report->stack_group[id] = id;
		bool active = numbers->allocations || numbers->expands || numbers->live_blocks ||
		              numbers->peak_blocks;
		if (id == 0 || !active) {
			report->group_stats[id] = *numbers;
			continue;
		}
		struct report_stack stack;
		error = symbolize_stack(report, id, &stack);
		if (error < 0) {
			free(stack.frames);
			goto out;
		}
		uint64_t hash = hash_frames(&stack);
		size_t index = hash & (capacity - 1);
		uint32_t group = id;
		for (; slots[index].used; index = (index + 1) & (capacity - 1)) {
			const struct report_stack *other = &slots[index].stack;
			bool same = slots[index].hash == hash && other->frame_count == stack.frame_count;
			for (size_t i = 0; same && i < stack.frame_count; i++)
				same = frames_equal(&other->frames[i], &stack.frames[i]);
			if (same) {
				group = slots[index].id;
				break;
			}
		}
		if (group == id)
			slots[index] = (struct group_slot){true, id, hash, stack};
		else
			free(stack.frames);
		report->stack_group[id] = group;
		/* Summed unrounded, rounded once below: a sampled group's
		 * estimate is not the sum of its stacks' rounded ones. */
		struct replay_weighted *sum = &report->group_stats[group].weighted;
		sum->allocations += numbers->weighted.allocations;
		sum->allocated_bytes += numbers->weighted.allocated_bytes;
		sum->expands += numbers->weighted.expands;
		sum->live_blocks += numbers->weighted.live_blocks;
		sum->live_bytes += numbers->weighted.live_bytes;
		sum->peak_blocks += numbers->weighted.peak_blocks;
		sum->peak_bytes += numbers->weighted.peak_bytes;
		struct replay_stack *counts = &report->group_stats[group];
		sample_tally_merge(&counts->records, &numbers->records);
		sample_tally_merge(&counts->peak, &numbers->peak);
	}
	for (uint32_t id = 0; id < count; id++)
		replay_stack_settle(&report->group_stats[id]);
out:
	for (size_t i = 0; slots && i < capacity; i++)
		free(slots[i].stack.frames);
	free(slots);
	return error;
}

/* ---- exact, estimated, mixed ----------------------------------------- */

enum report_accuracy report_accuracy_of(const struct sample_tally *tally)
{
	if (tally->sampled == 0)
		return REPORT_EXACT;
	return tally->exact == 0 ? REPORT_ESTIMATED : REPORT_MIXED;
}

/* Sets a row's accuracy, and its flag of old, from its tally. */
static enum report_accuracy settle_accuracy(const struct sample_tally *tally, bool *estimated)
{
	enum report_accuracy accuracy = report_accuracy_of(tally);
	*estimated = accuracy != REPORT_EXACT;
	return accuracy;
}

/* ---- leak groups ----------------------------------------------------- */

struct leak_builder {
	struct report *report;
	uint32_t *group_of;        /* stack id -> leak index + 1; 0: no group */
	double (*weighted)[2];     /* per leak: its blocks and bytes, weighted */
	int error;
};

static int add_tag(struct report_leak *leak, const struct replay_tag *tag)
{
	/* Grow at powers of two: the count alone says when. */
	if ((leak->tag_count & (leak->tag_count - 1)) == 0) {
		size_t wanted = leak->tag_count ? leak->tag_count * 2 : 1;
		const struct replay_tag **grown = realloc(leak->tags, wanted * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		leak->tags = grown;
	}
	leak->tags[leak->tag_count++] = tag;
	return 0;
}

static int visit_leak(const struct replay_block *block, void *context)
{
	struct leak_builder *builder = context;
	struct report *report = builder->report;
	uint32_t stack = block->stack < report->replay->stack_count ? block->stack : 0;
	uint32_t group = builder->group_of[report->stack_group[stack]];
	if (group == 0)
		return 0;
	struct report_leak *leak = &builder->report->leaks[group - 1];
	sample_tally_add(&leak->tally, block->weight, block->size);
	builder->weighted[group - 1][0] += block->weight;
	builder->weighted[group - 1][1] += block->weight * (double)block->size;
	if (block->time_ns < leak->first_time_ns)
		leak->first_time_ns = block->time_ns;
	if (block->time_ns > leak->last_time_ns)
		leak->last_time_ns = block->time_ns;
	if (block->tag) {
		builder->error = add_tag(leak, block->tag);
		if (builder->error < 0)
			return 1;
	}
	return 0;
}

static int compare_leaks(const void *left, const void *right)
{
	const struct report_leak *a = left, *b = right;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	if (a->blocks != b->blocks)
		return a->blocks > b->blocks ? -1 : 1;
	return a->stack.id < b->stack.id ? -1 : a->stack.id > b->stack.id;
}

static int compare_tags(const void *left, const void *right)
{
	const struct replay_tag *a = *(const struct replay_tag *const *)left;
	const struct replay_tag *b = *(const struct replay_tag *const *)right;
	if (a->time_ns != b->time_ns)
		return a->time_ns < b->time_ns ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int build_leaks(struct report *report)
{
	const struct replay *replay = report->replay;
	struct leak_builder builder = { .report = report };
	builder.group_of = calloc(replay->stack_count, sizeof(*builder.group_of));
	if (!builder.group_of)
		return -ENOMEM;

	size_t groups = 0;
	for (uint32_t id = 0; id < replay->stack_count; id++)
		if (report->group_stats[id].live_blocks > 0)
			groups++;
	int error = 0;
	report->leaks = calloc(groups ? groups : 1, sizeof(*report->leaks));
	builder.weighted = calloc(groups ? groups : 1, sizeof(*builder.weighted));
	if (!report->leaks || !builder.weighted) {
		error = -ENOMEM;
		goto out;
	}
	for (uint32_t id = 0; id < replay->stack_count; id++) {
		if (report->group_stats[id].live_blocks == 0)
			continue;
		struct report_leak *leak = &report->leaks[report->leak_count++];
		leak->stack.id = id;
		leak->first_time_ns = UINT64_MAX;
		builder.group_of[id] = (uint32_t)report->leak_count;
	}

	replay_foreach_live(replay, visit_leak, &builder);
	error = builder.error;
	if (error < 0)
		goto out;
	for (size_t i = 0; i < report->leak_count; i++) {
		struct report_leak *leak = &report->leaks[i];
		leak->blocks = sample_count(builder.weighted[i][0]);
		leak->bytes = sample_count(builder.weighted[i][1]);
		leak->accuracy = settle_accuracy(&leak->tally, &leak->estimated);
	}

	qsort(report->leaks, report->leak_count, sizeof(*report->leaks), compare_leaks);
	for (size_t i = 0; i < report->leak_count; i++) {
		struct report_leak *leak = &report->leaks[i];
		if (leak->blocks == 0)
			leak->first_time_ns = 0;
		if (leak->tag_count > 1)
			qsort(leak->tags, leak->tag_count, sizeof(*leak->tags), compare_tags);
		error = symbolize_stack(report, leak->stack.id, &leak->stack);
		if (error < 0)
			goto out;
	}
out:
	free(builder.group_of);
	free(builder.weighted);
	return error;
}

/* ---- peak stacks and allocation sites -------------------------------- */

/* A stack's numbers, for ranking before anything is symbolized. */
struct ranked {
	uint32_t id;
	uint64_t count;
	uint64_t bytes;
};

static int compare_by_count(const void *left, const void *right)
{
	const struct ranked *a = left, *b = right;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static int compare_by_bytes(const void *left, const void *right)
{
	const struct ranked *a = left, *b = right;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static size_t kept(const struct report *report, size_t available)
{
	uint32_t top = report->options.top;
	return top != 0 && top < available ? top : available;
}

static int build_peak_stacks(struct report *report, struct ranked *ranked)
{
	const struct replay *replay = report->replay;
	size_t count = 0;
	for (uint32_t id = 0; id < replay->stack_count; id++) {
		const struct replay_stack *stack = &report->group_stats[id];
		if (stack->peak_blocks > 0)
			ranked[count++] = (struct ranked){ id, stack->peak_blocks, stack->peak_bytes };
	}
	qsort(ranked, count, sizeof(*ranked), compare_by_bytes);
	count = kept(report, count);
	report->peak_stacks = calloc(count ? count : 1, sizeof(*report->peak_stacks));
	if (!report->peak_stacks)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		struct report_peak_stack *peak = &report->peak_stacks[report->peak_stack_count++];
		peak->blocks = ranked[i].count;
		peak->bytes = ranked[i].bytes;
		peak->tally = report->group_stats[ranked[i].id].peak;
		peak->accuracy = settle_accuracy(&peak->tally, &peak->estimated);
		int error = symbolize_stack(report, ranked[i].id, &peak->stack);
		if (error < 0)
			return error;
	}
	return 0;
}

static int build_sites(struct report *report, struct ranked *ranked,
                       int (*compare)(const void *, const void *),
                       struct report_site **sites, size_t *site_count)
{
	const struct replay *replay = report->replay;
	size_t count = 0;
	for (uint32_t id = 0; id < replay->stack_count; id++) {
		const struct replay_stack *stack = &report->group_stats[id];
		uint64_t calls = stack->allocations + stack->expands;
		if (calls > 0)
			ranked[count++] = (struct ranked){ id, calls, stack->allocated_bytes };
	}
	qsort(ranked, count, sizeof(*ranked), compare);
	count = kept(report, count);
	*sites = calloc(count ? count : 1, sizeof(**sites));
	if (!*sites)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		const struct replay_stack *stack = &report->group_stats[ranked[i].id];
		struct report_site *site = &(*sites)[(*site_count)++];
		site->calls = ranked[i].count;
		site->allocations = stack->allocations;
		site->expands = stack->expands;
		site->bytes = stack->allocated_bytes;
		site->tally = report->group_stats[ranked[i].id].records;
		site->accuracy = settle_accuracy(&site->tally, &site->estimated);
		int error = symbolize_stack(report, ranked[i].id, &site->stack);
		if (error < 0)
			return error;
	}
	return 0;
}

static int build_rankings(struct report *report)
{
	struct ranked *ranked = calloc(report->replay->stack_count, sizeof(*ranked));
	if (!ranked)
		return -ENOMEM;
	int error = build_peak_stacks(report, ranked);
	if (error == 0)
		error = build_sites(report, ranked, compare_by_count, &report->sites_by_calls,
		                    &report->sites_by_calls_count);
	if (error == 0)
		error = build_sites(report, ranked, compare_by_bytes, &report->sites_by_bytes,
		                    &report->sites_by_bytes_count);
	free(ranked);
	return error;
}

/* ---- building -------------------------------------------------------- */

static int start_symbolizer(struct report *report)
{
	int error = symbolizer_create(&report->symbolizer);
	if (error < 0)
		return error;
	const struct replay *replay = report->replay;
	for (size_t i = 0; i < replay->module_count; i++) {
		error = symbolizer_add_module(report->symbolizer, &replay->modules[i]);
		if (error < 0)
			return error;
	}
	return 0;
}

/* ---- tasks ----------------------------------------------------------- */

void report_task_label(const struct report *report, const struct replay_task *task, char *text,
                       size_t size)
{
	if (task->origin == CAPTURE_TASK_THREAD &&
	    (!task->name || !task->name[0] || strcmp(task->name, "?") == 0)) {
		/* A thread that ended before its name was read. */
		snprintf(text, size, "thread %" PRIu32 " (tid %" PRIu64 ")", task->began_on,
		         task->key);
	} else if (task->name && task->name[0]) {
		snprintf(text, size, "%s", task->name);
	} else if (task->origin == CAPTURE_TASK_UCONTEXT) {
		struct symbol_frame found[INLINE_FRAMES];
		int count = symbolizer_lookup(report->symbolizer, task->key, false, found,
		                              INLINE_FRAMES);
		if (count > 0 && found[count - 1].function)
			snprintf(text, size, "%s", found[count - 1].function);
		else
			snprintf(text, size, "coroutine 0x%" PRIx64, task->key);
	} else {
		snprintf(text, size, "task %" PRIu64, task->key);
	}
}

/* Whether task a ranks before b: more bytes allocated, then a lower id. */
static bool ranks_before(const struct replay_task *a, const struct replay_task *b)
{
	if (a->allocated_bytes != b->allocated_bytes)
		return a->allocated_bytes > b->allocated_bytes;
	return a->id < b->id;
}

/* The tasks kept while the replay tells them: those with live blocks at
 * the end, and a heap of the best-ranked others, its worst at [0]. */
struct task_keeper {
	struct report *report;
	struct report_task *leaky;
	size_t leaky_count, leaky_capacity;
	struct report_task *best;
	size_t best_count, best_limit; /* best_limit 0: keep all */
	size_t best_capacity;
};

static int copy_task(struct report_task *into, const struct replay_task *task)
{
	*into = (struct report_task){ .task = *task };
	into->task.name = strdup(task->name ? task->name : "");
	into->task.threads = NULL;
	if (task->thread_count) {
		into->task.threads = malloc(task->thread_count * sizeof(*task->threads));
		if (into->task.threads)
			memcpy(into->task.threads, task->threads,
			       task->thread_count * sizeof(*task->threads));
	}
	if (!into->task.name || (task->thread_count && !into->task.threads)) {
		free(into->task.name);
		free(into->task.threads);
		return -ENOMEM;
	}
	return 0;
}

static void free_task(struct report_task *task)
{
	free(task->task.name);
	free(task->task.threads);
	free(task->label);
}

static int append_task(struct report_task **array, size_t *count, size_t *capacity,
                       const struct replay_task *task)
{
	if (*count == *capacity) {
		size_t grown = *capacity ? *capacity * 2 : 16;
		struct report_task *larger = realloc(*array, grown * sizeof(*larger));
		if (!larger)
			return -ENOMEM;
		*array = larger;
		*capacity = grown;
	}
	int error = copy_task(&(*array)[*count], task);
	if (error == 0)
		(*count)++;
	return error;
}

/* Restores the heap below index: each parent ranks after its children. */
static void sift_down(struct report_task *heap, size_t count, size_t index)
{
	for (;;) {
		size_t worst = index, left = 2 * index + 1, right = left + 1;
		if (left < count && ranks_before(&heap[worst].task, &heap[left].task))
			worst = left;
		if (right < count && ranks_before(&heap[worst].task, &heap[right].task))
			worst = right;
		if (worst == index)
			return;
		struct report_task swap = heap[index];
		heap[index] = heap[worst];
		heap[worst] = swap;
		index = worst;
	}
}

static void sift_up(struct report_task *heap, size_t index)
{
	while (index > 0) {
		size_t parent = (index - 1) / 2;
		if (!ranks_before(&heap[parent].task, &heap[index].task))
			return;
		struct report_task swap = heap[index];
		heap[index] = heap[parent];
		heap[parent] = swap;
		index = parent;
	}
}

static int keep_task(void *context, const struct replay_task *task)
{
	struct task_keeper *keeper = context;
	keeper->report->task_cross_blocks += task->freed_by_others;
	keeper->report->task_cross_bytes += task->freed_by_others_bytes;
	if (keeper->report->options.tasks_walked)
		return 0;
	if (task->live_blocks > 0)
		return append_task(&keeper->leaky, &keeper->leaky_count, &keeper->leaky_capacity,
		                   task);
	if (keeper->best_limit == 0 || keeper->best_count < keeper->best_limit) {
		int error = append_task(&keeper->best, &keeper->best_count, &keeper->best_capacity,
		                        task);
		if (error == 0 && keeper->best_limit != 0)
			sift_up(keeper->best, keeper->best_count - 1);
		return error;
	}
	if (!ranks_before(task, &keeper->best[0].task))
		return 0;
	struct report_task replacement;
	int error = copy_task(&replacement, task);
	if (error < 0)
		return error;
	free_task(&keeper->best[0]);
	keeper->best[0] = replacement;
	sift_down(keeper->best, keeper->best_count, 0);
	return 0;
}

static void keeper_finish(struct task_keeper *keeper)
{
	for (size_t i = 0; i < keeper->leaky_count; i++)
		free_task(&keeper->leaky[i]);
	for (size_t i = 0; i < keeper->best_count; i++)
		free_task(&keeper->best[i]);
	free(keeper->leaky);
	free(keeper->best);
	*keeper = (struct task_keeper){ 0 };
}

static int compare_kept(const void *left, const void *right)
{
	const struct report_task *a = left, *b = right;
	return ranks_before(&a->task, &b->task) ? -1 : ranks_before(&b->task, &a->task);
}

/* The kept tasks as one ranking, each with its label.  The top of all
 * tasks is among them: the heap holds the best without live blocks, and
 * every task with some is there. */
static int gather_tasks(struct report *report, struct task_keeper *keeper)
{
	size_t count = keeper->leaky_count + keeper->best_count;
	if (count == 0)
		return 0;
	report->tasks = malloc(count * sizeof(*report->tasks));
	if (!report->tasks)
		return -ENOMEM;
	if (keeper->leaky_count)
		memcpy(report->tasks, keeper->leaky, keeper->leaky_count * sizeof(*report->tasks));
	if (keeper->best_count)
		memcpy(report->tasks + keeper->leaky_count, keeper->best,
		       keeper->best_count * sizeof(*report->tasks));
	free(keeper->leaky);
	free(keeper->best);
	*keeper = (struct task_keeper){ 0 };
	report->task_kept = count;
	qsort(report->tasks, count, sizeof(*report->tasks), compare_kept);
	for (size_t i = 0; i < count; i++) {
		report->tasks[i].accuracy = report_accuracy_of(&report->tasks[i].task.tally);
		char text[320];
		report_task_label(report, &report->tasks[i].task, text, sizeof(text));
		report->tasks[i].label = strdup(text);
		if (!report->tasks[i].label)
			return -ENOMEM;
	}
	return 0;
}

struct task_leak_walk {
	const struct report *report;
	struct report_task_leak *items;
	size_t count;
};

static int visit_task_leak(const struct replay_block *block, void *context)
{
	struct task_leak_walk *walk = context;
	if (block->task == 0)
		return 0;
	struct report_task_leak *leak = &walk->items[walk->count++];
	*leak = (struct report_task_leak){
		.task = block->task,
		.group = walk->report->stack_group[block->stack],
		.weighted_blocks = block->weight,
		.weighted_bytes = block->weight * (double)block->size,
	};
	sample_tally_add(&leak->tally, block->weight, block->size);
	return 0;
}

static int compare_task_leak_keys(const void *left, const void *right)
{
	const struct report_task_leak *a = left, *b = right;
	if (a->task != b->task)
		return a->task < b->task ? -1 : 1;
	return a->group < b->group ? -1 : a->group > b->group;
}

static int compare_task_leaks(const void *left, const void *right)
{
	const struct report_task_leak *a = left, *b = right;
	if (a->task != b->task)
		return a->task < b->task ? -1 : 1;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	return a->group < b->group ? -1 : a->group > b->group;
}

/* Each task's blocks live at the end, by stack group: bounded by the live
 * blocks, whatever the number of tasks. */
static int build_task_leaks(struct report *report)
{
	size_t live = (size_t)report->replay->totals.live_blocks + 1;
	struct task_leak_walk walk = {.report = report};
	walk.items = malloc(live * sizeof(*walk.items));
	if (!walk.items)
		return -ENOMEM;
	replay_foreach_live(report->replay, visit_task_leak, &walk);
	qsort(walk.items, walk.count, sizeof(*walk.items), compare_task_leak_keys);
	size_t merged = 0;
	for (size_t i = 0; i < walk.count; i++) {
		if (merged > 0 && walk.items[merged - 1].task == walk.items[i].task &&
		    walk.items[merged - 1].group == walk.items[i].group) {
			struct report_task_leak *into = &walk.items[merged - 1];
			into->weighted_blocks += walk.items[i].weighted_blocks;
			into->weighted_bytes += walk.items[i].weighted_bytes;
			sample_tally_merge(&into->tally, &walk.items[i].tally);
		} else {
			walk.items[merged++] = walk.items[i];
		}
	}
	for (size_t i = 0; i < merged; i++) {
		struct report_task_leak *leak = &walk.items[i];
		leak->blocks = sample_count(leak->weighted_blocks);
		leak->bytes = sample_count(leak->weighted_bytes);
		leak->accuracy = settle_accuracy(&leak->tally, &leak->estimated);
	}
	qsort(walk.items, merged, sizeof(*walk.items), compare_task_leaks);
	report->task_leaks = walk.items;
	report->task_leak_count = merged;
	return 0;
}

static int build_tasks(struct report *report, struct task_keeper *keeper)
{
	report->task_total = report->replay->task_count;
	if (report->task_total == 0)
		return 0;
	int error = gather_tasks(report, keeper);
	return error < 0 ? error : build_task_leaks(report);
}

const struct report_leak *report_leak_of_group(const struct report *report, uint32_t group)
{
	for (size_t i = 0; i < report->leak_count; i++)
		if (report->leaks[i].stack.id == group)
			return &report->leaks[i];
	return NULL;
}

int report_build(const char *path, const struct report_options *options,
                 struct report **out, const char **message)
{
	struct report *report = calloc(1, sizeof(*report));
	if (!report) {
		if (message)
			*message = strerror(ENOMEM);
		return -ENOMEM;
	}
	if (options)
		report->options = *options;
	else
		report_options_init(&report->options);

	struct task_keeper keeper = { .report = report, .best_limit = report->options.top };
	struct task_ledger_sink tasks = { keep_task, &keeper };
	int error = replay_create_with_tasks(path, report->options.progress, &tasks,
	                                     &report->replay, message);
	if (error < 0) {
		keeper_finish(&keeper);
		report_destroy(report);
		return error;
	}
	const struct replay *replay = report->replay;
	report->path = strdup(path);
	if (!report->path) {
		error = -ENOMEM;
		goto fail;
	}
	report->program = replay_info(replay, "program");
	report->backend = replay_info(replay, "backend");
	report->threads = replay->threads_named;
	report->duration_ns = replay->totals.end_time_ns;
	report->ended_cleanly = replay->has_trailer;
	report->truncated = replay->truncated;
	report->totals = replay->totals;

	error = capture_warnings(replay, &report->warnings, &report->warning_count);
	if (error < 0)
		goto fail;
	error = start_symbolizer(report);
	if (error < 0)
		goto fail;
	error = group_stacks(report);
	if (error < 0)
		goto fail;
	error = build_leaks(report);
	if (error < 0)
		goto fail;
	error = build_rankings(report);
	if (error < 0)
		goto fail;
	error = build_tasks(report, &keeper);
	if (error < 0)
		goto fail;
	/* Last: the lookups above are what find missing modules. */
	error = symbolizer_warning_lines(report);
	if (error < 0)
		goto fail;
	*out = report;
	return 0;

fail:
	if (message)
		*message = strerror(-error);
	keeper_finish(&keeper);
	report_destroy(report);
	return error;
}

static void free_stack(struct report_stack *stack)
{
	free(stack->frames);
}

void report_destroy(struct report *report)
{
	if (!report)
		return;
	for (size_t i = 0; i < report->peak_stack_count; i++)
		free_stack(&report->peak_stacks[i].stack);
	free(report->peak_stacks);
	for (size_t i = 0; i < report->leak_count; i++) {
		free_stack(&report->leaks[i].stack);
		free(report->leaks[i].tags);
	}
	free(report->leaks);
	for (size_t i = 0; i < report->sites_by_calls_count; i++)
		free_stack(&report->sites_by_calls[i].stack);
	free(report->sites_by_calls);
	for (size_t i = 0; i < report->sites_by_bytes_count; i++)
		free_stack(&report->sites_by_bytes[i].stack);
	free(report->sites_by_bytes);
	free_texts(report->warnings, report->warning_count);
	free(report->stack_group);
	free(report->group_stats);
	for (size_t i = 0; i < report->task_kept; i++)
		free_task(&report->tasks[i]);
	free(report->tasks);
	free(report->task_leaks);
	symbolizer_destroy(report->symbolizer);
	replay_destroy(report->replay);
	free(report->path);
	free(report);
}

/* ---- text ------------------------------------------------------------ */

/* "make_buffer", or "?? (libfoo.so+0x1a2b)" when the function is unknown. */
static void write_function(FILE *out, const struct report_frame *frame)
{
	if (frame->function)
		fputs(frame->function, out);
	else if (frame->module)
		fprintf(out, "?? (%s+0x%" PRIx64 ")", base_name(frame->module), frame->module_offset);
	else
		fprintf(out, "?? (0x%" PRIx64 ")", frame->ip);
}

static size_t function_width(const struct report_frame *frame)
{
	if (frame->function)
		return strlen(frame->function);
	char buffer[512];
	int length;
	if (frame->module)
		length = snprintf(buffer, sizeof(buffer), "?? (%s+0x%" PRIx64 ")",
		                  base_name(frame->module), frame->module_offset);
	else
		length = snprintf(buffer, sizeof(buffer), "?? (0x%" PRIx64 ")", frame->ip);
	return length > 0 ? (size_t)length : 0;
}

/* Whether the one-line form shows frame: the C runtime's start-up frames
 * below main say nothing about where memory went. */
static bool worth_a_mention(const struct report_frame *frame)
{
	if (runtime_module(frame->module))
		return false;
	return !frame->function || strcmp(frame->function, "_start") != 0;
}

/* "make_buffer (leaky.c:12) <- main (leaky.c:40)", from the leaking frame. */
static void write_short_stack(FILE *out, const struct report *report,
                              const struct report_stack *stack)
{
	if (stack->frame_count == 0) {
		fputs("(no stack recorded)", out);
		return;
	}
	const struct report_frame *first = report_leaking_frame(stack);
	size_t start = first ? (size_t)(first - stack->frames) : 0;
	size_t limit = SHORT_STACK_FRAMES;
	if (report->options.depth != 0 && report->options.depth < limit)
		limit = report->options.depth;
	size_t shown = 0;
	for (size_t i = start; i < stack->frame_count; i++) {
		const struct report_frame *frame = &stack->frames[i];
		if (i > start && !worth_a_mention(frame))
			continue;
		if (shown == limit) {
			fputs(" <- ...", out);
			break;
		}
		if (shown > 0)
			fputs(" <- ", out);
		write_function(out, frame);
		if (frame->file)
			fprintf(out, " (%s:%" PRIu32 ")", base_name(frame->file), frame->line);
		shown++;
	}
}

static void write_frames(FILE *out, const struct report *report,
                         const struct report_stack *stack)
{
	if (stack->frame_count == 0) {
		fputs("       (no stack recorded)\n", out);
		return;
	}
	size_t shown = stack->frame_count;
	if (report->options.depth != 0 && report->options.depth < shown)
		shown = report->options.depth;
	size_t width = 0;
	for (size_t i = 0; i < shown; i++) {
		size_t frame_width = function_width(&stack->frames[i]);
		if (frame_width > width)
			width = frame_width;
	}
	/* One long C++ name must not push every file:line off the screen. */
	if (width > FUNCTION_COLUMN_MAX)
		width = FUNCTION_COLUMN_MAX;
	for (size_t i = 0; i < shown; i++) {
		const struct report_frame *frame = &stack->frames[i];
		fprintf(out, "       #%-2zu ", i);
		write_function(out, frame);
		if (frame->file || frame->inlined) {
			size_t own = function_width(frame);
			fprintf(out, "%*s", (int)(own < width ? width - own + 2 : 2), "");
		}
		if (frame->file)
			fprintf(out, "%s:%" PRIu32, base_name(frame->file), frame->line);
		if (frame->inlined)
			fputs(frame->file ? "  (inlined)" : "(inlined)", out);
		fputc('\n', out);
	}
	if (shown < stack->frame_count)
		fprintf(out, "       ... %s (--depth shows more)\n",
		        counted(stack->frame_count - shown, "more frame").text);
}

/* What a reader must know before any figure: that they are estimates, and
 * how complete the backend's record is. */
static void write_sampling(FILE *out, const struct report *report)
{
	const struct replay *replay = report->replay;
	char text[512];
	if (replay->sampled) {
		sampling_text(text, sizeof(text), replay->sample_interval_min,
		              replay->sample_interval_max);
		fprintf(out, "SAMPLED  %s; counts and bytes are estimates, marked ~ (from %s and %s "
		        "recorded)\n",
		        text, counted(replay->totals.alloc_records, "allocation").text,
		        counted(replay->totals.free_records, "free").text);
		if (replay->interval_changes > 0)
			fprintf(out, "PACED    the interval moved %s, a thread at a time (each block "
			        "weighs by the interval it was picked at)\n",
			        counted(replay->interval_changes, "time").text);
		if (replay->exact_above > 1)
			fprintf(out, "EXACT    every block of %s or more was recorded (the "
			        "hybrid backend's threshold): a figure of those alone is exact, "
			        "without ~; one of both kinds is marked ~ and (mixed), and the "
			        "totals spell out its exact part\n",
			        bytes_text(replay->exact_above).text);
		else if (report->totals.tallies.allocations.exact > 0)
			fprintf(out, "EXACT    %s %s recorded whatever the interval (weight 1): a "
			        "figure of those alone is exact, without ~; one of both kinds is "
			        "marked ~ and (mixed), and the totals spell out its exact part\n",
			        counted(report->totals.tallies.allocations.exact, "block").text,
			        report->totals.tallies.allocations.exact == 1 ? "was" : "were");
	}
	if (replay->has_tracking) {
		tracking_text(text, sizeof(text), &replay->tracking);
		fprintf(out, "TRACKING %s\n", text);
	}
}

static void write_header(FILE *out, const struct report *report)
{
	fprintf(out, "memscope report: %s (", report->path);
	if (report->program)
		fprintf(out, "program %s, ", report->program);
	if (report->backend)
		fprintf(out, "backend %s, ", report->backend);
	fprintf(out, "%s, %s)\n", counted(report->threads, "thread").text,
	        time_text(report->duration_ns).text);
	write_sampling(out, report);
	for (size_t i = 0; i < report->warning_count; i++)
		fprintf(out, "WARNING  %s\n", report->warnings[i]);
}

static void write_totals(FILE *out, const struct report *report)
{
	const struct replay_totals *totals = &report->totals;
	const struct replay_tallies *tallies = &report->totals.tallies;
	enum report_accuracy allocations = report_accuracy_of(&tallies->allocations);
	enum report_accuracy frees = report_accuracy_of(&tallies->frees);
	enum report_accuracy expands = report_accuracy_of(&tallies->expands);
	struct sample_tally calls = tallies->allocations;
	sample_tally_merge(&calls, &tallies->expands);
	fprintf(out, "TOTALS   %s (%s freed), %s requested in all",
	        marked(counted(totals->allocations, "allocation"), allocations).text,
	        marked(grouped_text(totals->frees), frees).text,
	        marked(bytes_text(totals->allocated_bytes), allocations).text);
	if (allocations == REPORT_MIXED || frees == REPORT_MIXED)
		fprintf(out, " (mixed: %s in %s exact, %s of them freed)",
		        bytes_text(tallies->allocations.exact_bytes).text,
		        counted(tallies->allocations.exact, "block").text,
		        grouped(tallies->frees.exact).text);
	fputc('\n', out);
	/* Calls are what heaptrack and valgrind count: a realloc in place is a
	 * call that hands out no new block. */
	fprintf(out, "CALLS    %s allocation calls (%s new blocks + %s resized in place)",
	        marked(grouped_text(totals->allocations + totals->expands),
	               report_accuracy_of(&calls)).text,
	        marked(grouped_text(totals->allocations), allocations).text,
	        marked(grouped_text(totals->expands), expands).text);
	if (report_accuracy_of(&calls) == REPORT_MIXED)
		fprintf(out, " (mixed: %s exact)", grouped(calls.exact).text);
	fputc('\n', out);
	if (totals->frees_untracked > 0)
		fprintf(out, "         %s of untracked blocks (allocated before tracking), ignored\n",
		        counted(totals->frees_untracked, "free").text);
}

static void write_peak(FILE *out, const struct report *report)
{
	const struct replay_totals *totals = &report->totals;
	if (totals->peak_event == 0) {
		fputs("PEAK     none: nothing was allocated\n", out);
		return;
	}
	enum report_accuracy accuracy = report_accuracy_of(&report->totals.tallies.peak);
	fprintf(out, "PEAK     %s live in %s at %s%s\n",
	        marked(bytes_text(totals->peak_bytes), accuracy).text,
	        marked(counted(totals->peak_blocks, "block"), accuracy).text,
	        time_text(totals->peak_time_ns).text, exact_part(&report->totals.tallies.peak).text);
	int bytes_width = 0, blocks_width = 0;
	for (size_t i = 0; i < report->peak_stack_count; i++) {
		const struct report_peak_stack *peak = &report->peak_stacks[i];
		int width = (int)strlen(marked(bytes_text(peak->bytes), peak->accuracy).text);
		bytes_width = width > bytes_width ? width : bytes_width;
		width = (int)strlen(marked(counted(peak->blocks, "block"), peak->accuracy).text);
		blocks_width = width > blocks_width ? width : blocks_width;
	}
	for (size_t i = 0; i < report->peak_stack_count; i++) {
		const struct report_peak_stack *peak = &report->peak_stacks[i];
		fprintf(out, "           %*s in %-*s  from ", bytes_width,
		        marked(bytes_text(peak->bytes), peak->accuracy).text, blocks_width,
		        marked(counted(peak->blocks, "block"), peak->accuracy).text);
		write_short_stack(out, report, &peak->stack);
		fprintf(out, "%s\n", mixed_note(peak->accuracy));
	}
}

static void write_leak(FILE *out, const struct report *report, const struct report_leak *leak)
{
	fprintf(out, "  %s in %s  allocated by ",
	        marked(bytes_text(leak->bytes), leak->accuracy).text,
	        marked(counted(leak->blocks, "block"), leak->accuracy).text);
	const struct report_frame *leaking = report_leaking_frame(&leak->stack);
	if (leaking)
		write_function(out, leaking);
	else
		fputs("??", out);
	if (leak->first_time_ns == leak->last_time_ns)
		fprintf(out, " at %s", time_text(leak->first_time_ns).text);
	else
		fprintf(out, " from %s to %s", time_text(leak->first_time_ns).text,
		        time_text(leak->last_time_ns).text);
	fprintf(out, "%s\n", mixed_note(leak->accuracy));
	for (size_t i = 0; i < leak->tag_count && i < TAGS_SHOWN; i++) {
		const struct replay_tag *tag = leak->tags[i];
		fprintf(out, "     tagged %s", tag->name);
		if (tag->type_name[0])
			fprintf(out, " (%s)", tag->type_name);
		if (tag->file[0])
			fprintf(out, " at %s:%" PRIu32, base_name(tag->file), tag->line);
		fputc('\n', out);
	}
	if (leak->tag_count > TAGS_SHOWN)
		fprintf(out, "     and %zu more tagged\n", leak->tag_count - TAGS_SHOWN);
	write_frames(out, report, &leak->stack);
}

static void write_leaks(FILE *out, const struct report *report)
{
	const struct replay_totals *totals = &report->totals;
	static const char *const titles[] = {
		[REPLAY_ENDED_CLEANLY] = "LEAKS   ",
		[REPLAY_ENDED_BY_EXEC] = "LIVE AT EXEC",
		[REPLAY_ENDED_BY_DEATH] = "LIVE AT DEATH",
		[REPLAY_ENDED_UNSAID] = "LIVE AT END",
	};
	const char *title = titles[replay_ending(report->replay)];
	if (report->leak_count == 0) {
		/* "Every block was freed" only when the capture saw the end, and
		 * saw every block. */
		if (!report->ended_cleanly)
			fprintf(out, "%s none live when the capture ends, at %s: it has no trailer, so "
			        "blocks the program held when it stopped may not have been recorded\n",
			        title, time_text(report->duration_ns).text);
		else if (report->replay->sampled)
			fprintf(out, "%s none sampled: no leaked block was sampled; leaks smaller than "
			        "the sampling interval may be missed\n", title);
		else
			fprintf(out, "%s none%s\n", title,
			        totals->allocations > 0 ? ": every block was freed" : "");
		return;
	}
	enum report_accuracy accuracy = report_accuracy_of(&report->totals.tallies.live);
	fprintf(out, "%s %s, %s in %s%s%s\n", title,
	        marked(counted(totals->live_blocks, "block"), accuracy).text,
	        marked(bytes_text(totals->live_bytes), accuracy).text,
	        counted(report->leak_count, "place").text, exact_part(&report->totals.tallies.live).text,
	        report->ended_cleanly ? "" : " (the program did not end cleanly: not all leaks)");
	size_t shown = kept(report, report->leak_count);
	for (size_t i = 0; i < shown; i++)
		write_leak(out, report, &report->leaks[i]);
	if (shown < report->leak_count)
		fprintf(out, "  ... and %s (--top shows more)\n",
		        counted(report->leak_count - shown, "more place").text);
}

static void write_sites(FILE *out, const struct report *report, const char *title,
                        const struct report_site *sites, size_t count)
{
	fprintf(out, "TOP ALLOCATION SITES (%s)\n", title);
	if (count == 0)
		fputs("  none\n", out);
	int calls_width = 0, bytes_width = 0;
	for (size_t i = 0; i < count; i++) {
		enum report_accuracy accuracy = sites[i].accuracy;
		int width = (int)strlen(marked(counted(sites[i].calls, "call"), accuracy).text);
		calls_width = width > calls_width ? width : calls_width;
		width = (int)strlen(marked(bytes_text(sites[i].bytes), accuracy).text);
		bytes_width = width > bytes_width ? width : bytes_width;
	}
	for (size_t i = 0; i < count; i++) {
		const struct report_site *site = &sites[i];
		fprintf(out, "  %*s  %*s  ", calls_width,
		        marked(counted(site->calls, "call"), site->accuracy).text, bytes_width,
		        marked(bytes_text(site->bytes), site->accuracy).text);
		write_short_stack(out, report, &site->stack);
		if (site->expands > 0)
			fprintf(out, "  (%s in place)",
			        marked(grouped_text(site->expands), site->accuracy).text);
		fprintf(out, "%s\n", mixed_note(site->accuracy));
	}
}

/* "main (thread)", "worker_b (ucontext)". */
static void write_task_name(FILE *out, const struct report_task *task, int width)
{
	char text[400];
	snprintf(text, sizeof(text), "%s (%s)", task->label, task_origin_name(task->task.origin));
	fprintf(out, "%-*s", width, text);
}

static void write_task_leaks(FILE *out, const struct report *report,
                             const struct report_task *kept_task)
{
	const struct replay_task *task = &kept_task->task;
	/* task_leaks is sorted by task: find this one's run. */
	size_t low = 0, high = report->task_leak_count;
	while (low < high) {
		size_t middle = low + (high - low) / 2;
		if (report->task_leaks[middle].task < task->id)
			low = middle + 1;
		else
			high = middle;
	}
	struct sample_tally live = { 0 };
	for (size_t j = low; j < report->task_leak_count && report->task_leaks[j].task == task->id;
	     j++)
		sample_tally_merge(&live, &report->task_leaks[j].tally);
	enum report_accuracy accuracy = report_accuracy_of(&live);
	fprintf(out, "  task %" PRIu32 " ", task->id);
	write_task_name(out, kept_task, 0);
	fprintf(out, ": %s in %s left live%s\n",
	        marked(bytes_text(task->live_bytes), accuracy).text,
	        marked(counted(task->live_blocks, "block"), accuracy).text, exact_part(&live).text);
	size_t shown = 0, limit = report->options.top ? report->options.top : SIZE_MAX;
	size_t i = low;
	for (; i < report->task_leak_count && report->task_leaks[i].task == task->id; i++) {
		if (shown == limit)
			break;
		const struct report_task_leak *leak = &report->task_leaks[i];
		const struct report_leak *group = report_leak_of_group(report, leak->group);
		fprintf(out, "    %s in %s  from ",
		        marked(bytes_text(leak->bytes), leak->accuracy).text,
		        marked(counted(leak->blocks, "block"), leak->accuracy).text);
		if (group)
			write_short_stack(out, report, &group->stack);
		else
			fputs("??", out);
		fprintf(out, "%s\n", mixed_note(leak->accuracy));
		shown++;
	}
	size_t more = 0;
	for (; i < report->task_leak_count && report->task_leaks[i].task == task->id; i++)
		more++;
	if (more > 0)
		fprintf(out, "    ... and %s\n", counted(more, "more place").text);
}

static int compare_leaked(const void *left, const void *right)
{
	const struct replay_task *a = &(*(const struct report_task *const *)left)->task;
	const struct replay_task *b = &(*(const struct report_task *const *)right)->task;
	if (a->live_bytes != b->live_bytes)
		return a->live_bytes > b->live_bytes ? -1 : 1;
	return (a->id > b->id) - (a->id < b->id);
}

/* The tasks that left blocks live, most bytes first (the report keeps
 * every one), each with where its leaks were allocated. */
static void write_tasks_leaks(FILE *out, const struct report *report)
{
	size_t count = 0;
	for (size_t i = 0; i < report->task_kept; i++)
		count += report->tasks[i].task.live_blocks > 0;
	if (count == 0)
		return;
	const struct report_task **leaky = malloc(count * sizeof(*leaky));
	if (!leaky) {
		fputs("TASK LEAKS (not listed: out of memory)\n", out);
		return;
	}
	count = 0;
	for (size_t i = 0; i < report->task_kept; i++)
		if (report->tasks[i].task.live_blocks > 0)
			leaky[count++] = &report->tasks[i];
	qsort(leaky, count, sizeof(*leaky), compare_leaked);
	fprintf(out, "TASK LEAKS (blocks still live at the end, by task and place): %s\n",
	        counted(count, "task").text);
	size_t shown = kept(report, count);
	for (size_t i = 0; i < shown; i++)
		write_task_leaks(out, report, leaky[i]);
	if (shown < count)
		fprintf(out, "  ... and %s with leaks (--top shows more)\n",
		        counted(count - shown, "more task").text);
	free(leaky);
}

/* The per-task table: the top tasks by bytes allocated, then how many more;
 * then the tasks that leaked, and where their leaks were allocated. */
static void write_tasks(FILE *out, const struct report *report)
{
	if (report->task_total == 0)
		return;
	size_t shown = kept(report, report->task_kept);
	fprintf(out, "TASKS    %s, by bytes allocated (a block counts against the task that "
	        "allocated it)%s\n", counted(report->task_total, "task").text,
	        report->replay->sampled ? "; figures marked ~ are estimates, as above" : "");
	int name_width = 4;
	for (size_t i = 0; i < shown; i++) {
		const struct report_task *task = &report->tasks[i];
		int width = (int)strlen(task->label) +
		            (int)strlen(task_origin_name(task->task.origin)) + 3;
		name_width = width > name_width ? width : name_width;
	}
	if (name_width > 48)
		name_width = 48;
	/* The last two: bytes of this task's blocks another task freed, and
	 * bytes of other tasks' blocks this one freed. */
	fprintf(out, "  %5s  %-*s %12s %14s %12s %14s %14s %12s %14s %14s %14s  %s\n", "id",
	        name_width, "task", "allocations", "bytes", "frees", "bytes freed", "peak bytes",
	        "leaked", "leaked bytes", "freed by other", "freed others'", "threads, lifetime");
	for (size_t i = 0; i < shown; i++) {
		const struct replay_task *task = &report->tasks[i].task;
		enum report_accuracy accuracy = report->tasks[i].accuracy;
		fprintf(out, "  %5" PRIu32 "  ", task->id);
		write_task_name(out, &report->tasks[i], name_width);
		fprintf(out, " %12s", task_figure(task->allocations, accuracy).text);
		fprintf(out, " %14s", task_figure(task->allocated_bytes, accuracy).text);
		fprintf(out, " %12s", task_figure(task->frees, accuracy).text);
		fprintf(out, " %14s", task_figure(task->freed_bytes, accuracy).text);
		fprintf(out, " %14s", task_figure(task->peak_bytes, accuracy).text);
		fprintf(out, " %12s", task_figure(task->live_blocks, accuracy).text);
		fprintf(out, " %14s", task_figure(task->live_bytes, accuracy).text);
		fprintf(out, " %14s", task_figure(task->freed_by_others_bytes, accuracy).text);
		fprintf(out, " %14s", task_figure(task->freed_of_others_bytes, accuracy).text);
		fprintf(out, "  %s on ", counted(task->thread_count, "thread").text);
		for (uint32_t t = 0; t < task->thread_count && t < 4; t++)
			fprintf(out, "%s%" PRIu32, t ? "," : "", task->threads[t]);
		if (task->thread_count > 4)
			fputs(",...", out);
		fprintf(out, ", %s", time_text(task->begin_ns).text);
		fprintf(out, " to %s%s", time_text(task->end_ns).text, task->ended ? "" : " (running)");
		if (task->parent)
			fprintf(out, ", child of %" PRIu32, task->parent);
		fprintf(out, "%s\n", mixed_note(accuracy));
	}
	if (shown < report->task_total)
		fprintf(out, "  ... and %s (--top shows more)\n",
		        counted(report->task_total - shown, "more task").text);
	fprintf(out, "  cross-task frees: %s, %s freed by a task other than their owner\n",
	        counted(report->task_cross_blocks, "block").text,
	        bytes_text(report->task_cross_bytes).text);
	write_tasks_leaks(out, report);
}

int report_write_text(const struct report *report, FILE *out)
{
	write_header(out, report);
	write_totals(out, report);
	write_peak(out, report);
	write_leaks(out, report);
	write_tasks(out, report);
	write_sites(out, report, "by calls", report->sites_by_calls, report->sites_by_calls_count);
	write_sites(out, report, "by bytes", report->sites_by_bytes, report->sites_by_bytes_count);
	return ferror(out) ? -EIO : 0;
}

/* ---- the summary after a run ----------------------------------------- */

/* The summary says first what its figures are: estimates, when sampled. */
static void print_summary_sampling(FILE *out, uint64_t low, uint64_t high)
{
	char text[256];
	sampling_text(text, sizeof(text), low, high);
	fprintf(out, "memscope: sampled: %s; counts and bytes are estimates (~)\n", text);
}

/* The summary's lines of totals, from the writer's trailer or from a
 * replay (which fills a trailer's fields the same way); leaked says how the
 * blocks live at the end are named; ended, whether the capture has its
 * trailer. */
static void print_summary_totals(FILE *out, const struct capture_trailer *totals,
                                 const char *leaked, bool estimate, bool ended)
{
	fprintf(out, "memscope: %s, %s, %s requested\n",
	        estimated(counted(totals->allocations, "allocation"), estimate).text,
	        estimated(counted(totals->frees, "free"), estimate).text,
	        estimated(bytes_text(totals->allocated_bytes), estimate).text);
	fprintf(out, "memscope: peak %s live at %s\n",
	        estimated(bytes_text(totals->peak_bytes), estimate).text,
	        time_text(totals->peak_time_ns).text);
	if (totals->live_blocks == 0 && !ended)
		fputs("memscope: no block live when the capture ends, but it has no trailer: blocks "
		      "the program held when it stopped may not have been recorded\n", out);
	else if (totals->live_blocks == 0 && estimate)
		fputs("memscope: no leaked block was sampled; leaks smaller than the sampling "
		      "interval may be missed\n", out);
	else if (totals->live_blocks == 0)
		fputs("memscope: no leaks: every block was freed\n", out);
	else
		fprintf(out, "memscope: %s %s, %s\n", leaked,
		        estimated(counted(totals->live_blocks, "block"), estimate).text,
		        estimated(bytes_text(totals->live_bytes), estimate).text);
}

/* The tracking line, and the warnings after it; warnings are freed. */
static void print_summary_ending(FILE *out, const struct capture_tracking *tracking,
                                 char **warnings, size_t warning_count)
{
	if (tracking) {
		char text[512];
		tracking_text(text, sizeof(text), tracking);
		fprintf(out, "memscope: tracking: %s\n", text);
	}
	for (size_t i = 0; i < warning_count; i++)
		fprintf(out, "memscope: warning: %s\n", warnings[i]);
	free_texts(warnings, warning_count);
}

/* The summary of a capture that ended cleanly, from its trailer and the
 * TRACKING record beside it alone: a big capture's summary is then
 * instant.  Returns 0, -ENOMEM, -EIO, or -ENOENT when the capture has no
 * trailer to go by. */
static int print_summary_from_trailer(const char *path, FILE *out)
{
	struct capture_reader *reader;
	int error = capture_reader_open(path, &reader, NULL);
	if (error < 0)
		return -ENOENT;
	struct capture_ending ending;
	error = capture_reader_find_ending(reader, &ending);
	capture_reader_destroy(reader);
	if (error < 0)
		return -ENOENT;
	const struct capture_trailer *trailer = &ending.trailer;
	bool estimate = trailer->sample_interval > 1;
	if (estimate)
		print_summary_sampling(out, trailer->sample_interval, trailer->sample_interval);
	print_summary_totals(out, trailer, "leaked", estimate, true);

	char **warnings = NULL;
	size_t warning_count = 0;
	error = lost_events_warning(trailer, &warnings, &warning_count);
	if (error == 0 && ending.has_tracking)
		error = tracking_warning(&ending.tracking, &warnings, &warning_count);
	print_summary_ending(out, ending.has_tracking ? &ending.tracking : NULL, warnings,
	                     warning_count);
	if (error < 0)
		return error;
	return ferror(out) ? -EIO : 0;
}

int report_print_summary(const char *path, const struct replay_progress *progress, FILE *out)
{
	int quick = print_summary_from_trailer(path, out);
	if (quick != -ENOENT)
		return quick;
	struct replay *replay;
	const char *message = NULL;
	int error = replay_create_with_progress(path, progress, &replay, &message);
	if (error < 0) {
		/* The reader explains what is wrong inside a file; for a file that
		 * cannot be opened at all, the system's reason says more. */
		bool format_problem = error == -EPROTO || error == -EPROTONOSUPPORT;
		fprintf(out, "memscope: cannot read the capture %s: %s\n", path,
		        format_problem && message ? message : strerror(-error));
		return error;
	}
	const struct replay_totals *totals = &replay->totals;
	struct capture_trailer replayed = {
		.allocations = totals->allocations,
		.frees = totals->frees,
		.allocated_bytes = totals->allocated_bytes,
		.peak_bytes = totals->peak_bytes,
		.peak_time_ns = totals->peak_time_ns,
		.live_blocks = totals->live_blocks,
		.live_bytes = totals->live_bytes,
	};
	if (replay->sampled)
		print_summary_sampling(out, replay->sample_interval_min, replay->sample_interval_max);
	static const char *const labels[] = {
		[REPLAY_ENDED_CLEANLY] = "leaked",
		[REPLAY_ENDED_BY_EXEC] = "live when it replaced itself (exec):",
		[REPLAY_ENDED_BY_DEATH] = "live when the program died:",
		[REPLAY_ENDED_UNSAID] = "still live at the end:",
	};
	print_summary_totals(out, &replayed, labels[replay_ending(replay)], replay->sampled,
	                     replay->has_trailer);

	char **warnings = NULL;
	size_t warning_count = 0;
	error = capture_warnings(replay, &warnings, &warning_count);
	print_summary_ending(out, replay->has_tracking ? &replay->tracking : NULL, warnings,
	                     warning_count);
	replay_destroy(replay);
	if (error < 0)
		return error;
	return ferror(out) ? -EIO : 0;
}
