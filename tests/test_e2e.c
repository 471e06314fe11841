/* test_e2e.c - memscope run end to end: real programs with known
 * allocations (examples/leaky.c, tests/programs/) traced by the memscope
 * command, their captures read back through the report, and exact numbers
 * asserted.
 *
 * Usage: test_e2e MEMSCOPE LEAKY PROGRAMS_DIR ANALYZERS_DIR
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <fcntl.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture.h"
#include "memscope_config.h"
#include "capture_view.h"
#include "host.h"
#include "registry.h"
#include "report.h"
#include "results.h"

static const char *memscope;
static const char *leaky;
static const char *programs;
static const char *analyzers;
static char work[64];

struct run {
	int status;                /* wait status of memscope */
	char output[256];          /* the capture file */
	char *out;                 /* what memscope printed on stdout */
	char *err;                 /* ... and on stderr */
};

static char *read_all(int fd)
{
	size_t size = 0, capacity = 4096;
	char *text = malloc(capacity);
	ck_assert_ptr_nonnull(text);
	for (;;) {
		ssize_t got = read(fd, text + size, capacity - size - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		size += (size_t)got;
		if (capacity - size < 1024) {
			capacity *= 2;
			text = realloc(text, capacity);
			ck_assert_ptr_nonnull(text);
		}
	}
	text[size] = '\0';
	return text;
}

/* Runs memscope with the options and program given (NULL-terminated),
 * writing the capture to work/name.memscope. */
static void run_memscope(struct run *run, const char *name, const char *const *arguments)
{
	const char *argv[32];
	int argc = 0;
	snprintf(run->output, sizeof run->output, "%s/%s.memscope", work, name);
	argv[argc++] = memscope;
	argv[argc++] = "-o";
	argv[argc++] = run->output;
	for (int i = 0; arguments[i] != NULL; i++)
		argv[argc++] = arguments[i];
	argv[argc] = NULL;

	char out_path[128], err_path[128];
	snprintf(out_path, sizeof out_path, "%s/%s.stdout", work, name);
	snprintf(err_path, sizeof err_path, "%s/%s.stderr", work, name);
	pid_t child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(out, STDOUT_FILENO);
		dup2(err, STDERR_FILENO);
		if (chdir(work) != 0)
			_exit(126);
		execv(memscope, (char *const *)argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(child, &run->status, 0), child);
	int out = open(out_path, O_RDONLY), err = open(err_path, O_RDONLY);
	run->out = read_all(out);
	run->err = read_all(err);
	close(out);
	close(err);
}

static void assert_exited(const struct run *run, int status)
{
	ck_assert_msg(WIFEXITED(run->status) && WEXITSTATUS(run->status) == status,
	              "memscope must exit with %d (wait status %#x); stderr: %s", status,
	              run->status, run->err);
}

static void run_finish(struct run *run)
{
	free(run->out);
	free(run->err);
}

static struct report *build_report(const char *path)
{
	struct report_options options;
	report_options_init(&options);
	options.top = 0;
	struct report *report = NULL;
	const char *message = NULL;
	int error = report_build(path, &options, &report, &message);
	ck_assert_msg(error == 0, "cannot read %s: %s", path, message ? message : strerror(-error));
	return report;
}

static bool in_program(const struct report_frame *frame, const char *program)
{
	return frame != NULL && frame->module != NULL && strcmp(frame->module, program) == 0;
}

/* Blocks and bytes leaked through the leaking function name, summed over
 * its stacks. */
static void leaked_by(const struct report *report, const char *function, uint64_t *blocks,
                      uint64_t *bytes, int *groups)
{
	*blocks = 0;
	*bytes = 0;
	*groups = 0;
	for (size_t i = 0; i < report->leak_count; i++) {
		const struct report_frame *frame = report_leaking_frame(&report->leaks[i].stack);
		if (frame != NULL && frame->function != NULL && strcmp(frame->function, function) == 0) {
			*blocks += report->leaks[i].blocks;
			*bytes += report->leaks[i].bytes;
			(*groups)++;
		}
	}
}

/* What the program's own code did: the stacks that pass through the
 * program's executable.  The constructors of libraries it needs, which run
 * before main, are recorded too (the capture is of the whole process), but
 * their allocations are not the program's calls. */
struct own_totals {
	uint64_t allocations;
	uint64_t expands;
	uint64_t bytes;
	uint64_t live_blocks;
	uint64_t live_bytes;
};

static bool in_module(const struct capture_module *module, uint64_t ip)
{
	for (uint32_t i = 0; i < module->segment_count; i++)
		if (ip >= module->segments[i].start && ip < module->segments[i].end)
			return true;
	return false;
}

static struct own_totals own_totals(const struct report *report, const char *program)
{
	const struct replay *replay = report->replay;
	const struct capture_module *module = NULL;
	char *resolved = realpath(program, NULL);
	ck_assert_ptr_nonnull(resolved);
	for (size_t i = 0; i < replay->module_count; i++)
		if (!replay->modules[i].unloaded && strcmp(replay->modules[i].path, resolved) == 0)
			module = &replay->modules[i];
	free(resolved);
	ck_assert_msg(module != NULL, "%s is not in the capture's module map", program);

	struct own_totals totals = {0};
	for (uint32_t id = 1; id < replay->stack_count; id++) {
		uint64_t ips[256];
		int depth = replay_stack_ips(replay, id, ips, 256);
		bool own = false;
		for (int i = 0; i < depth && !own; i++)
			own = in_module(module, ips[i]);
		if (!own)
			continue;
		const struct replay_stack *stack = &replay->stacks[id];
		totals.allocations += stack->allocations;
		totals.expands += stack->expands;
		totals.bytes += stack->allocated_bytes;
		totals.live_blocks += stack->live_blocks;
		totals.live_bytes += stack->live_bytes;
	}
	return totals;
}

static char *real_path(const char *path)
{
	char *resolved = realpath(path, NULL);
	ck_assert_ptr_nonnull(resolved);
	return resolved;
}

START_TEST(leaks_are_found_by_function_with_exact_numbers)
{
	struct run run;
	run_memscope(&run, "leaky", (const char *[]){"--backend", "exact", leaky, NULL});
	ck_assert_msg(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 3,
	              "memscope must exit with the program's status 3; stderr: %s", run.err);
	ck_assert_str_eq(run.out, "leaky: done, leaking on purpose\n");

	struct report *report = build_report(run.output);
	ck_assert(report->ended_cleanly);
	ck_assert(!report->truncated);
	static const struct {
		const char *function;
		uint64_t blocks, bytes;
	} expected[] = {
		{"leak_with_malloc", 3, 3000},
		{"leak_with_calloc", 1, 4000},
		{"leak_with_realloc", 1, 5000},
		{"leak_with_posix_memalign", 2, 8192},
		{"leak_with_strdup", 1, 26},
		{"leak_from_thread", 4, 2048},
	};
	uint64_t program_blocks = 0;
	for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
		uint64_t blocks, bytes;
		int groups;
		leaked_by(report, expected[i].function, &blocks, &bytes, &groups);
		/* Each leaks from one source line: one group, however the
		 * compiler laid out the calls. */
		ck_assert_msg(groups == 1, "%s leaks in %d groups", expected[i].function, groups);
		ck_assert_msg(blocks == expected[i].blocks && bytes == expected[i].bytes,
		              "%s: %llu blocks, %llu bytes leaked; expected %llu, %llu",
		              expected[i].function, (unsigned long long)blocks,
		              (unsigned long long)bytes, (unsigned long long)expected[i].blocks,
		              (unsigned long long)expected[i].bytes);
		program_blocks += blocks;
	}

	/* Nothing else leaks from the program's own code. */
	char *program = real_path(leaky);
	uint64_t leaked_in_program = 0;
	for (size_t i = 0; i < report->leak_count; i++)
		if (in_program(report_leaking_frame(&report->leaks[i].stack), program))
			leaked_in_program += report->leaks[i].blocks;
	ck_assert_uint_eq(leaked_in_program, program_blocks);

	/* 100 churned blocks, 12 leaked ones and the realloc's first block
	 * come from the program's code. */
	uint64_t program_allocations = 0;
	for (size_t i = 0; i < report->sites_by_calls_count; i++)
		if (in_program(report_leaking_frame(&report->sites_by_calls[i].stack), program))
			program_allocations += report->sites_by_calls[i].allocations;
	ck_assert_uint_eq(program_allocations, 100 + 12 + 1);
	free(program);
	report_destroy(report);
	run_finish(&run);
}
END_TEST

START_TEST(counts_and_peak_are_exact)
{
	char program[512];
	snprintf(program, sizeof program, "%s/counts", programs);
	struct run run;
	run_memscope(&run, "counts", (const char *[]){program, NULL});
	assert_exited(&run, 0);
	struct report *report = build_report(run.output);
	ck_assert_str_eq(replay_info(report->replay, "capture_source"), "interpose");
	const struct replay_totals *totals = &report->totals;
	struct own_totals own = own_totals(report, program);
	ck_assert_uint_eq(own.allocations, 1023);
	ck_assert_uint_eq(own.expands, 1);
	ck_assert_uint_eq(own.bytes, 1000 * 32 + 10 * 100 + 10 * 100000 + 24 + 4000000 + 20000);
	ck_assert_uint_eq(own.live_blocks, 0);
	ck_assert_uint_eq(totals->frees_untracked, 0);
	/* What stays live is what libraries allocated before main; at the
	 * peak it was live too. */
	ck_assert_uint_eq(totals->peak_bytes, 4000000 + totals->live_bytes);
	ck_assert(report->ended_cleanly);
	/* The writer's totals, in the trailer, are what the replay finds. */
	const struct capture_trailer *trailer = &report->replay->trailer;
	ck_assert_uint_eq(trailer->allocations, totals->allocations);
	ck_assert_uint_eq(trailer->frees, totals->frees);
	ck_assert_uint_eq(trailer->allocated_bytes, totals->allocated_bytes);
	ck_assert_uint_eq(trailer->peak_bytes, totals->peak_bytes);
	ck_assert_uint_eq(trailer->peak_time_ns, totals->peak_time_ns);
	ck_assert_uint_eq(trailer->live_blocks, totals->live_blocks);
	ck_assert_uint_eq(trailer->live_bytes, totals->live_bytes);
	ck_assert_uint_eq(trailer->lost_events, 0);
	report_destroy(report);
	run_finish(&run);

	/* jemalloc's hooks report a moving realloc's new block before the old
	 * one goes: for that instant both are live. */
	run_memscope(&run, "counts-hooks", (const char *[]){"--capture", "hooks", program, NULL});
	assert_exited(&run, 0);
	report = build_report(run.output);
	ck_assert_str_eq(replay_info(report->replay, "capture_source"), "jemalloc-hooks");
	own = own_totals(report, program);
	ck_assert_uint_eq(own.allocations, 1023);
	ck_assert_uint_eq(own.expands, 1);
	ck_assert_uint_eq(own.live_blocks, 0);
	ck_assert_uint_eq(report->totals.peak_bytes, 4000024 + report->totals.live_bytes);
	report_destroy(report);
	run_finish(&run);
}
END_TEST

START_TEST(cross_thread_frees_keep_their_order)
{
	char program[512];
	snprintf(program, sizeof program, "%s/threads", programs);
	struct run run;
	run_memscope(&run, "threads", (const char *[]){program, NULL});
	assert_exited(&run, 0);
	struct report *report = build_report(run.output);
	const struct replay_totals *totals = &report->totals;
	/* 80,000 blocks of 48 bytes, plus one TLS vector per thread from
	 * pthread_create (8 threads; those are freed when each is joined or
	 * kept for reuse by glibc). */
	uint64_t of_48 = 0;
	for (uint32_t id = 0; id < report->replay->stack_count; id++)
		if (report->replay->stacks[id].allocations > 0 &&
		    report->replay->stacks[id].allocated_bytes == report->replay->stacks[id].allocations * 48)
			of_48 += report->replay->stacks[id].allocations;
	ck_assert_uint_eq(of_48, 80000);
	ck_assert_uint_eq(totals->frees_untracked, 0);
	ck_assert_uint_eq(totals->allocs_over_live, 0);
	ck_assert_uint_ge(totals->frees, 80000);
	ck_assert_uint_le(totals->live_blocks, 8);
	ck_assert_uint_eq(report->threads, 9);
	ck_assert_uint_eq(report->replay->trailer.allocations, totals->allocations);
	ck_assert_uint_eq(report->replay->trailer.frees, totals->frees);
	ck_assert_uint_eq(report->replay->trailer.peak_bytes, totals->peak_bytes);
	ck_assert_uint_eq(report->replay->trailer.live_blocks, totals->live_blocks);
	report_destroy(report);
	run_finish(&run);
}
END_TEST

START_TEST(a_crash_keeps_the_capture_and_the_signal)
{
	char program[512];
	snprintf(program, sizeof program, "%s/crasher", programs);
	struct run run;
	run_memscope(&run, "crasher", (const char *[]){program, NULL});
	ck_assert_msg(WIFSIGNALED(run.status) && WTERMSIG(run.status) == SIGSEGV,
	              "memscope must die of the program's SIGSEGV; status %#x", run.status);
	ck_assert_ptr_nonnull(strstr(run.err, "signal 11"));
	struct report *report = build_report(run.output);
	ck_assert(!report->ended_cleanly);
	struct own_totals own = own_totals(report, program);
	ck_assert_uint_eq(own.allocations, 5);
	ck_assert_uint_eq(own.live_bytes, 5 * 777);
	ck_assert_uint_ge(report->warning_count, 1);
	report_destroy(report);
	run_finish(&run);
}
END_TEST

/* arguments: up to most options (fewer where one is NULL), then rest
 * (NULL-terminated); room for 16. */
static void join_arguments(const char *const *options, int most, const char *const *rest,
                           const char **arguments)
{
	int count = 0;
	for (int i = 0; i < most && options[i] != NULL; i++)
		arguments[count++] = options[i];
	for (int i = 0; rest[i] != NULL && count < 15; i++)
		arguments[count++] = rest[i];
	arguments[count] = NULL;
}

/* Every way a program dies, in its first milliseconds, under each backend
 * (the sampling ones set to record every block): the capture holds every
 * block it kept, says how it ended, and memscope dies of the same signal.
 * A single-threaded program under lockfree has no writer thread: its
 * events are in the rings memscope drains, nowhere else. */
START_TEST(every_death_keeps_every_event)
{
	char program[512];
	snprintf(program, sizeof program, "%s/dies", programs);
	if (access(program, X_OK) != 0) {
		fprintf(stderr, "skipping the deaths: no C++ compiler built %s\n", program);
		return;
	}
	static const struct {
		const char *how;
		int signal;
	} deaths[] = {
		{"segv", SIGSEGV}, {"bus", SIGBUS}, {"fpe", SIGFPE}, {"ill", SIGILL},
		{"pipe", SIGPIPE}, {"term", SIGTERM}, {"kill", SIGKILL}, {"abort", SIGABRT},
		{"throw", SIGABRT},
	};
	static const char *const backends[][5] = {
		{"--backend", "exact", NULL},
		{"--backend", "lockfree", "--sample-interval", "1", NULL},
		{"--backend", "hybrid", "--exact-above", "1", NULL},
	};
	for (size_t b = 0; b < sizeof backends / sizeof backends[0]; b++) {
		for (size_t d = 0; d < sizeof deaths / sizeof deaths[0]; d++) {
			const char *arguments[16];
			join_arguments(backends[b], 5, (const char *[]){program, deaths[d].how, "50", NULL},
			               arguments);
			struct run run;
			run_memscope(&run, "dies", arguments);
			ck_assert_msg(WIFSIGNALED(run.status) && WTERMSIG(run.status) == deaths[d].signal,
			              "%s, %s: memscope must die of signal %d; status %#x; stderr: %s",
			              backends[b][1], deaths[d].how, deaths[d].signal, run.status,
			              run.err);
			struct report *report = build_report(run.output);
			ck_assert(!report->ended_cleanly);
			struct own_totals own = own_totals(report, program);
			/* An uncaught exception adds the C++ runtime's blocks (the
			 * exception, its message, the terminate handler's demangled
			 * type name): its own count, which varies with libstdc++. */
			bool thrown = strcmp(deaths[d].how, "throw") == 0;
			ck_assert_msg(thrown ? own.live_blocks > 50 && own.live_bytes > 50 * 1000
			                     : own.allocations == 50 && own.live_blocks == 50 &&
			                               own.live_bytes == 50 * 1000,
			              "%s, %s: %" PRIu64 " allocations, %" PRIu64 " live, %" PRIu64
			              " bytes; expected 50 blocks of 1,000 bytes",
			              backends[b][1], deaths[d].how, own.allocations, own.live_blocks,
			              own.live_bytes);
			const char *death = replay_info(report->replay, "death");
			char signal_text[32];
			snprintf(signal_text, sizeof signal_text, "signal %d ", deaths[d].signal);
			ck_assert_msg(death != NULL && strstr(death, signal_text) != NULL,
			              "%s, %s: death %s", backends[b][1], deaths[d].how,
			              death ? death : "(none)");
			/* Plugins, and so the JSON and the page, are told it too. */
			struct memscope_capture *capture;
			ck_assert_int_eq(capture_view_open(run.output, &capture, NULL), 0);
			const memscope_summary *summary = plugin_host()->summary(capture);
			ck_assert_ptr_nonnull(summary->death);
			ck_assert_str_eq(summary->death, death);
			capture_view_close(capture);
			report_destroy(report);
			run_finish(&run);
		}
	}
}
END_TEST

/* SIGKILL from outside while the program allocates: every block it had
 * reported on stdout before the kill is in the capture. */
START_TEST(a_kill_from_outside_keeps_what_was_reported)
{
	char program[512];
	snprintf(program, sizeof program, "%s/dies", programs);
	if (access(program, X_OK) != 0)
		return;
	static const char *const backends[] = {"exact", "lockfree", "hybrid"};
	for (int b = 0; b < 3; b++) {
		char output[256];
		snprintf(output, sizeof output, "%s/spin.memscope", work);
		int out[2];
		ck_assert_int_eq(pipe(out), 0);
		pid_t child = fork();
		ck_assert_int_ge(child, 0);
		if (child == 0) {
			dup2(out[1], STDOUT_FILENO);
			close(out[0]);
			int null = open("/dev/null", O_WRONLY);
			dup2(null, STDERR_FILENO);
			const char *sampling = b == 0 ? "--depth" : "--sample-interval";
			const char *value = b == 0 ? "64" : "1";
			execl(memscope, memscope, "-o", output, "--backend", backends[b], sampling, value,
			      program, "spin", "0", (char *)NULL);
			_exit(127);
		}
		close(out[1]);
		FILE *lines = fdopen(out[0], "r");
		ck_assert_ptr_nonnull(lines);
		int pid = 0, reported = 0;
		ck_assert_int_eq(fscanf(lines, "pid %d", &pid), 1);
		/* Kill it somewhere in its run, not at a round number. */
		int target = 150 + 37 * b;
		while (reported < target && fscanf(lines, "%d", &reported) == 1)
			;
		ck_assert_int_eq(kill(pid, SIGKILL), 0);
		int status;
		ck_assert_int_eq(waitpid(child, &status, 0), child);
		fclose(lines);
		ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		struct report *report = build_report(output);
		struct own_totals own = own_totals(report, program);
		ck_assert_msg(own.allocations >= (uint64_t)reported,
		              "%s: %d blocks reported before the kill, %" PRIu64 " in the capture",
		              backends[b], reported, own.allocations);
		report_destroy(report);
	}
}
END_TEST

static int count_captures(const char *prefix)
{
	DIR *directory = opendir(work);
	ck_assert_ptr_nonnull(directory);
	int count = 0;
	struct dirent *entry;
	while ((entry = readdir(directory)) != NULL)
		if (strncmp(entry->d_name, prefix, strlen(prefix)) == 0)
			count++;
	closedir(directory);
	return count;
}

START_TEST(forks_never_touch_the_parent_capture)
{
	char program[512], counts[512];
	snprintf(program, sizeof program, "%s/forker", programs);
	snprintf(counts, sizeof counts, "%s/counts", programs);

	struct run run;
	run_memscope(&run, "forker", (const char *[]){program, counts, NULL});
	assert_exited(&run, 0);
	ck_assert_int_eq(count_captures("memscope.counts."), 0);
	struct report *report = build_report(run.output);
	ck_assert(report->ended_cleanly);
	ck_assert(!report->truncated);
	struct own_totals own = own_totals(report, program);
	ck_assert_uint_eq(own.allocations, 3);
	ck_assert_uint_eq(own.live_bytes, 900);
	report_destroy(report);
	run_finish(&run);

	run_memscope(&run, "forker-follow", (const char *[]){"--follow-fork", program, counts, NULL});
	assert_exited(&run, 0);
	ck_assert_int_eq(count_captures("memscope.counts."), 1);
	report = build_report(run.output);
	ck_assert_uint_eq(own_totals(report, program).allocations, 3);
	report_destroy(report);

	DIR *directory = opendir(work);
	struct dirent *entry;
	char child[512] = "";
	while ((entry = readdir(directory)) != NULL)
		if (strncmp(entry->d_name, "memscope.counts.", 16) == 0)
			snprintf(child, sizeof child, "%s/%s", work, entry->d_name);
	closedir(directory);
	report = build_report(child);
	ck_assert(report->ended_cleanly);
	own = own_totals(report, counts);
	ck_assert_uint_eq(own.allocations, 1023);
	ck_assert_uint_eq(own.live_blocks, 0);
	report_destroy(report);
	run_finish(&run);
}
END_TEST

/* The backends, each with the options that make it record every block,
 * so that their captures hold exact figures: the async backend last (the
 * tests of tasks leave it out). */
static const char *const every_block[][4] = {
	{"--backend", "exact", NULL, NULL},
	{"--backend", "lockfree", "--sample-interval", "1"},
	{"--backend", "hybrid", "--exact-above", "1"},
	{"--backend", "async", NULL, NULL},
};
#define EVERY_BLOCK_BACKENDS (sizeof every_block / sizeof every_block[0])

/* Up to most options (fewer where one is NULL) as one string, for a
 * shell command line. */
static const char *joined_options(const char *const *options, int most)
{
	static char text[256];
	text[0] = '\0';
	for (int i = 0; i < most && options[i] != NULL; i++)
		snprintf(text + strlen(text), sizeof text - strlen(text), "%s%s", i ? " " : "",
		         options[i]);
	return text;
}

/* Backend b's options as one string, for a shell command line. */
static const char *backend_options(size_t b)
{
	return joined_options(every_block[b], 4);
}

/* arguments: backend b's options, then rest (NULL-terminated); room for 16. */
static void with_backend(size_t b, const char *const *rest, const char **arguments)
{
	join_arguments(every_block[b], 4, rest, arguments);
}

/* Blocks of size in a capture: how many were allocated, and how many of
 * them were never freed. */
static void count_sized(const char *path, uint64_t size, uint64_t *allocated, uint64_t *kept)
{
	uint64_t addresses[64];
	size_t count = 0;
	*allocated = *kept = 0;
	struct capture_reader *reader;
	ck_assert_int_eq(capture_reader_open(path, &reader, NULL), 0);
	struct capture_record record;
	while (capture_reader_next(reader, &record) == 1) {
		if (record.type == CAPTURE_RECORD_ALLOC && record.u.alloc.size == size) {
			ck_assert_uint_lt(count, 64);
			addresses[count++] = record.u.alloc.address;
			(*allocated)++;
		}
		if (record.type != CAPTURE_RECORD_FREE)
			continue;
		for (size_t i = 0; i < count; i++)
			if (addresses[i] == record.u.free.address) {
				addresses[i] = addresses[--count];
				break;
			}
	}
	capture_reader_destroy(reader);
	*kept = count;
}

/* --follow-fork traces a child that forks without exec into a capture of
 * its own, named in the summary: exactly what the child did after the
 * fork (the blocks it inherited and freed are in neither capture's
 * figures), from a parent with a second thread at work, under each
 * backend recording every block. */
START_TEST(follow_fork_traces_a_child_that_does_not_exec)
{
	char program[512];
	snprintf(program, sizeof program, "%s/fork_follow", programs);
	for (size_t b = 0; b < EVERY_BLOCK_BACKENDS - 1; b++) {
		const char *arguments[16];
		with_backend(b, (const char *[]){"--follow-fork", program, NULL}, arguments);
		char name[64];
		snprintf(name, sizeof name, "fork-follow-%s", every_block[b][1]);
		struct run run;
		run_memscope(&run, name, arguments);
		assert_exited(&run, 0);
		long child = 0;
		ck_assert_int_eq(sscanf(run.out, "child %ld", &child), 1);
		char path[600];
		snprintf(path, sizeof path, "%s/memscope.fork_follow.%ld.memscope", work, child);
		ck_assert_msg(strstr(run.err, path) != NULL, "%s: the summary does not name %s: %s",
		              every_block[b][1], path, run.err);

		uint64_t allocated, kept;
		count_sized(run.output, 2222, &allocated, &kept);
		ck_assert_uint_eq(allocated, 10);
		ck_assert_uint_eq(kept, 5);
		count_sized(run.output, 3333, &allocated, &kept);
		ck_assert_uint_eq(allocated, 0);
		count_sized(path, 3333, &allocated, &kept);
		ck_assert_uint_eq(allocated, 7);
		ck_assert_uint_eq(kept, 7);
		count_sized(path, 2222, &allocated, &kept);
		ck_assert_uint_eq(allocated, 0);

		struct report *parent = build_report(run.output);
		struct report *report = build_report(path);
		ck_assert(report->ended_cleanly);
		ck_assert_str_eq(replay_info(report->replay, "forked_from"),
		                 replay_info(parent->replay, "pid"));
		ck_assert_uint_eq(report->totals.frees, 0);
		report_destroy(report);
		report_destroy(parent);
		unlink(path);
		run_finish(&run);
	}
}
END_TEST

static char *read_whole(const char *path)
{
	FILE *file = fopen(path, "re");
	ck_assert_msg(file != NULL, "%s: %s", path, strerror(errno));
	char *text = calloc(1, 65536);
	ck_assert_ptr_nonnull(text);
	size_t length = fread(text, 1, 65535, file);
	text[length] = '\0';
	fclose(file);
	return text;
}

/* command (a shell command line) run untraced and under memscope -q with
 * options: the exit status, stdout and stderr must be the same, byte for
 * byte.  Returns the traced run's capture path (static). */
static const char *assert_like_untraced(const char *options, const char *command)
{
	static char capture[600];
	char line[4096], paths[4][600];
	const char *names[4] = {"plain.out", "plain.err", "traced.out", "traced.err"};
	for (int i = 0; i < 4; i++)
		snprintf(paths[i], sizeof paths[i], "%s/like-%s", work, names[i]);
	snprintf(capture, sizeof capture, "%s/like.memscope", work);
	snprintf(line, sizeof line, "%s >'%s' 2>'%s'", command, paths[0], paths[1]);
	int plain = system(line);
	snprintf(line, sizeof line, "'%s' -q %s -o '%s' %s >'%s' 2>'%s'", memscope, options, capture,
	         command, paths[2], paths[3]);
	int traced = system(line);
	ck_assert_msg(plain == traced, "%s: status %#x, untraced %#x", options, traced, plain);
	for (int i = 0; i < 2; i++) {
		char *expected = read_whole(paths[i]), *got = read_whole(paths[i + 2]);
		ck_assert_msg(strcmp(got, expected) == 0, "%s: %s differs:\n%s\nuntraced:\n%s", options,
		              i == 0 ? "stdout" : "stderr", got, expected);
		free(expected);
		free(got);
	}
	return capture;
}

/* A main thread that leaves through pthread_exit while a worker runs: the
 * process ends when the worker does, with status 0, as it would without
 * memscope (whose own thread must not keep it alive), and the capture is
 * finished with every event, under each backend. */
START_TEST(the_process_ends_with_its_last_thread)
{
	char program[600];
	snprintf(program, sizeof program, "'%s/main_exits_first'", programs);
	for (size_t b = 0; b < EVERY_BLOCK_BACKENDS; b++) {
		/* Status 0, "worker done" on stdout, nothing on stderr: as untraced. */
		const char *capture = assert_like_untraced(backend_options(b), program);
		uint64_t allocated, kept;
		count_sized(capture, 100, &allocated, &kept);
		ck_assert_uint_eq(allocated, 50);
		ck_assert_uint_eq(kept, 0);
		count_sized(capture, 77, &allocated, &kept);
		ck_assert_uint_eq(kept, 1);
		count_sized(capture, 55, &allocated, &kept);
		ck_assert_uint_eq(kept, 1);
		struct report *report = build_report(capture);
		ck_assert_msg(report->ended_cleanly, "%s: no trailer", every_block[b][1]);
		report_destroy(report);
	}
}
END_TEST

/* What command (a shell command line) prints. */
static char *command_output(const char *command)
{
	FILE *pipe = popen(command, "r");
	ck_assert_ptr_nonnull(pipe);
	size_t capacity = 65536;
	char *text = malloc(capacity);
	ck_assert_ptr_nonnull(text);
	size_t length = fread(text, 1, capacity - 1, pipe);
	text[length] = '\0';
	ck_assert_int_eq(pclose(pipe), 0);
	return text;
}

/* What program prints when run without memscope. */
static char *untraced_output(const char *program)
{
	char command[600];
	snprintf(command, sizeof command, "'%s'", program);
	return command_output(command);
}

/* Failing calls fail as they do without memscope, with the same errno,
 * under every backend, capture source and allocator, and leave nothing in
 * the capture: no block for a posix_memalign that failed, none of 64 TiB.
 * Under --capture hooks the program runs on jemalloc's own entry points,
 * whose one documented difference (a huge malloc reserves address space
 * and succeeds) is the line that starts with "huge". */
START_TEST(failing_calls_fail_as_without_memscope)
{
	char program[512];
	snprintf(program, sizeof program, "%s/failing_calls", programs);
	char *expected = untraced_output(program);
	static const char *const ways[][6] = {
		{"--backend", "exact", NULL},
		{"--backend", "exact", "--allocator", "libc", NULL},
		{"--backend", "exact", "--capture", "hooks", NULL},
		{"--backend", "lockfree", NULL},
		{"--backend", "lockfree", "--allocator", "jemalloc", NULL},
		{"--backend", "lockfree", "--capture", "hooks", NULL},
		{"--backend", "hybrid", NULL},
		{"--backend", "async", NULL},
	};
	for (size_t w = 0; w < sizeof ways / sizeof ways[0]; w++) {
		const char *arguments[16];
		join_arguments(ways[w], 6, (const char *[]){program, NULL}, arguments);
		bool hooks = ways[w][2] != NULL && strcmp(ways[w][2], "--capture") == 0;
		if (!hooks) {
			/* Status, stdout and stderr as untraced, byte for byte. */
			char quoted[600];
			snprintf(quoted, sizeof quoted, "'%s'", program);
			assert_like_untraced(joined_options(ways[w], 6), quoted);
		}
		struct run run;
		run_memscope(&run, "failing-calls", arguments);
		assert_exited(&run, 0);
		if (hooks) {
			/* Up to the huge malloc's line. */
			size_t same = (size_t)(strstr(expected, "huge") - expected);
			ck_assert_msg(strncmp(run.out, expected, same) == 0, "%s %s %s: %s", ways[w][1],
			              ways[w][2], ways[w][3], run.out);
		} else {
			ck_assert_msg(strcmp(run.out, expected) == 0, "%s %s %s:\n%s\nexpected:\n%s",
			              ways[w][1], ways[w][2] ? ways[w][2] : "", ways[w][3] ? ways[w][3] : "",
			              run.out, expected);
		}
		struct capture_reader *reader;
		ck_assert_int_eq(capture_reader_open(run.output, &reader, NULL), 0);
		struct capture_record record;
		while (capture_reader_next(reader, &record) == 1)
			ck_assert_msg(record.type != CAPTURE_RECORD_ALLOC ||
			                  (record.u.alloc.address != 16 &&
			                   (hooks || record.u.alloc.size < (uint64_t)1 << 40)),
			              "%s: a block that does not exist: %#llx, %llu bytes", ways[w][1],
			              (unsigned long long)record.u.alloc.address,
			              (unsigned long long)record.u.alloc.size);
		capture_reader_destroy(reader);
		run_finish(&run);
	}
	free(expected);
}
END_TEST


/* A program that closes 3..1023 and opens its own file, with its
 * standard descriptors open, or one of them closed; or one that closes
 * nothing and puts its file under every number it finds open, then
 * starts a thread: its file gets the same number and the same lines, and
 * its stderr the same bytes, as without memscope, which never takes,
 * reads or closes a number of the program's (libunwind's pipe included),
 * under every backend. */
START_TEST(descriptors_are_the_programs)
{
	char program[512], plain[600], traced[600], plain_errors[600], traced_errors[600];
	snprintf(program, sizeof program, "%s/descriptors", programs);
	snprintf(plain, sizeof plain, "%s/descriptors-plain.txt", work);
	snprintf(plain_errors, sizeof plain_errors, "%s/descriptors-plain.err", work);
	snprintf(traced_errors, sizeof traced_errors, "%s/descriptors-traced.err", work);
	static const char *const backends[] = {"exact", "lockfree", "hybrid", "async"};
	static const char *const ways[][2] = {
	    {"", ""}, {"", "<&-"}, {"", "2>&-"}, {"", ">&-"}, {"take", ""}, {"take", ">&-"}};
	for (size_t w = 0; w < sizeof ways / sizeof ways[0]; w++) {
		const char *mode = ways[w][0], *closing = ways[w][1];
		int errors_kept = strcmp(closing, "2>&-") != 0;
		char command[2048];
		snprintf(command, sizeof command, "'%s' '%s' %s 2>'%s' %s", program, plain, mode,
		         plain_errors, closing);
		ck_assert_int_eq(system(command), 0);
		char *expected = read_whole(plain);
		char *expected_errors = errors_kept ? read_whole(plain_errors) : NULL;
		for (size_t b = 0; b < sizeof backends / sizeof backends[0]; b++) {
			snprintf(traced, sizeof traced, "%s/descriptors-%s.txt", work, backends[b]);
			snprintf(command, sizeof command,
			         "'%s' -q --backend %s -o '%s/descriptors.memscope' '%s' '%s' %s 2>'%s' %s",
			         memscope, backends[b], work, program, traced, mode, traced_errors, closing);
			int status = system(command);
			ck_assert_msg(status == 0, "%s %s '%s': exit %d", backends[b], mode, closing,
			              WEXITSTATUS(status));
			char *got = read_whole(traced);
			ck_assert_msg(strcmp(got, expected) == 0, "%s %s '%s': %.60s, untraced %.60s",
			              backends[b], mode, closing, got, expected);
			free(got);
			if (errors_kept) {
				got = read_whole(traced_errors);
				ck_assert_msg(strcmp(got, expected_errors) == 0,
				              "%s %s '%s': stderr %.60s, untraced %.60s", backends[b], mode,
				              closing, got, expected_errors);
				free(got);
			}
		}
		free(expected);
		free(expected_errors);
	}
}
END_TEST

/* A library that allocates and is unloaded at once, before any periodic
 * look at the loaded objects: its block's frames are still named, under
 * every backend, and the program's status, stdout and stderr are the
 * untraced run's. */
START_TEST(an_unloaded_librarys_frames_keep_their_names)
{
	char command[1100];
	snprintf(command, sizeof command, "'%s/unloads' '%s/unloaded_library.so'", programs, programs);
	for (size_t b = 0; b < EVERY_BLOCK_BACKENDS - 1; b++) {
		const char *capture = assert_like_untraced(backend_options(b), command);
		struct report *report = build_report(capture);
		uint64_t blocks, bytes;
		int groups;
		leaked_by(report, "allocate_in_library", &blocks, &bytes, &groups);
		ck_assert_msg(blocks == 1 && bytes == 4321, "%s: %llu blocks, %llu bytes in the library",
		              every_block[b][1], (unsigned long long)blocks, (unsigned long long)bytes);
		report_destroy(report);
	}
}
END_TEST

/* Under an address-space limit the program gets as much memory traced as
 * untraced, in blocks of 16 MiB, under the sampling backends, whose
 * reservations give way and which run no thread of their own in a
 * program of one thread (exact's writer thread gets an arena of the C
 * library's, and on jemalloc, jemalloc's reservations: README,
 * Limitations). */
START_TEST(an_address_space_limit_leaves_the_program_its_memory)
{
#if MEMSCOPE_SANITIZED
	/* AddressSanitizer's shadow memory needs more address space than any
	 * limit this test sets: memscope itself would not start. */
	return;
#endif
	char program[512], command[2048];
	snprintf(program, sizeof program, "%s/fills_address_space", programs);
	snprintf(command, sizeof command, "sh -c 'ulimit -v 1048576; exec \"%s\"'", program);
	char *expected = command_output(command);
	static const char *const ways[] = {"--backend lockfree", "--backend hybrid"};
	for (size_t w = 0; w < sizeof ways / sizeof ways[0]; w++) {
		snprintf(command, sizeof command,
		         "sh -c 'ulimit -v 1048576; exec \"%s\" -q %s -o \"%s/limited.memscope\" \"%s\"' "
		         "2>/dev/null",
		         memscope, ways[w], work, program);
		char *got = command_output(command);
		ck_assert_msg(strcmp(got, expected) == 0, "%s: %s, untraced %s", ways[w], got, expected);
		free(got);
	}
	free(expected);
}
END_TEST

START_TEST(exit_and_exec_finish_the_capture)
{
	char program[512], counts[512];
	snprintf(program, sizeof program, "%s/exits", programs);
	snprintf(counts, sizeof counts, "%s/counts", programs);

	struct run run;
	run_memscope(&run, "exits", (const char *[]){program, NULL});
	assert_exited(&run, 5);
	struct report *report = build_report(run.output);
	ck_assert(report->ended_cleanly);
	ck_assert(!report->truncated);
	struct own_totals own = own_totals(report, program);
	ck_assert_uint_eq(own.live_blocks, 2);
	ck_assert_uint_eq(own.live_bytes, 222);
	report_destroy(report);
	run_finish(&run);

	/* execl and its kin call execve inside the C library; fexecve and
	 * execveat reach the kernel without it.  Each new image is traced. */
	const char *ways[][2] = {{NULL, "exits-execv"}, {"execl", "exits-execl"},
	                         {"execlp", "exits-execlp"}, {"execle", "exits-execle"},
	                         {"fexecve", "exits-fexecve"}, {"execveat", "exits-execveat"}};
	for (size_t i = 0; i < sizeof ways / sizeof ways[0]; i++) {
		const char *arguments[] = {"--follow-fork", program, ways[i][0] ? ways[i][0] : counts,
		                           ways[i][0] ? counts : NULL, NULL};
		run_memscope(&run, ways[i][1], arguments);
		assert_exited(&run, 0);
		report = build_report(run.output);
		ck_assert_msg(replay_info(report->replay, "exec") != NULL, "%s: no exec recorded",
		              ways[i][1]);
		ck_assert_str_eq(replay_info(report->replay, "exec"), counts);
		ck_assert_uint_eq(own_totals(report, program).live_bytes, 222);
		ck_assert_uint_eq(report->warning_count, 1);
		ck_assert_ptr_nonnull(strstr(report->warnings[0], "(exec)"));
		report_destroy(report);
		ck_assert_msg(strstr(run.err, "/memscope.counts.") != NULL,
		              "%s: the new image's capture is not named: %s", ways[i][1], run.err);
		run_finish(&run);
	}
}
END_TEST

/* A wrapper script that execs the program (as pyenv's, rbenv's and nvm's
 * do) is followed by default: the program's new image is traced into a
 * capture of its own, which the summary names, with the program's exact
 * leaks and exit status; --no-follow-exec leaves it untraced. */
START_TEST(exec_is_followed_into_the_new_image)
{
	char script[512];
	snprintf(script, sizeof script, "%s/wrapper.sh", work);
	FILE *file = fopen(script, "w");
	ck_assert_ptr_nonnull(file);
	fputs("#!/bin/sh\nexec \"$@\"\n", file);
	ck_assert_int_eq(fclose(file), 0);
	ck_assert_int_eq(chmod(script, 0755), 0);

	struct run run;
	run_memscope(&run, "wrapper", (const char *[]){"--backend", "exact", script, leaky, NULL});
	assert_exited(&run, 3);
	ck_assert_str_eq(run.out, "leaky: done, leaking on purpose\n");
	struct report *report = build_report(run.output);
	ck_assert_ptr_nonnull(replay_info(report->replay, "exec"));
	report_destroy(report);
	/* The summary's list: "  /work/memscope.leaky.PID.memscope". */
	const char *listed = strstr(run.err, "\n  /");
	ck_assert_msg(listed != NULL && strstr(listed, "/memscope.leaky.") != NULL,
	              "no capture of the new image named: %s", run.err);
	char image[512];
	snprintf(image, sizeof image, "%.*s", (int)strcspn(listed + 3, "\n"), listed + 3);
	/* The summary ends with the program's own capture, not the script's. */
	char said[600];
	snprintf(said, sizeof said, "its last image wrote %s:\n", image);
	ck_assert_msg(strstr(run.err, said) != NULL, "the last image is not named: %s", run.err);
	snprintf(said, sizeof said, "run `memscope report %s` for the full report", image);
	ck_assert_msg(strstr(run.err, said) != NULL, "the hint is not the last image's: %s", run.err);
	report = build_report(image);
	ck_assert(report->ended_cleanly);
	uint64_t blocks, bytes;
	int groups;
	leaked_by(report, "leak_with_malloc", &blocks, &bytes, &groups);
	ck_assert_uint_eq(blocks, 3);
	ck_assert_uint_eq(bytes, 3000);
	leaked_by(report, "leak_with_posix_memalign", &blocks, &bytes, &groups);
	ck_assert_uint_eq(blocks, 2);
	ck_assert_uint_eq(bytes, 8192);
	report_destroy(report);
	run_finish(&run);

	int images = count_captures("memscope.leaky.");
	run_memscope(&run, "wrapper-untraced",
	             (const char *[]){"--no-follow-exec", script, leaky, NULL});
	assert_exited(&run, 3);
	ck_assert_int_eq(count_captures("memscope.leaky."), images);
	ck_assert_ptr_null(strstr(run.err, "/memscope.leaky."));
	run_finish(&run);
}
END_TEST

START_TEST(cxx_new_and_delete_are_seen)
{
	char program[512];
	snprintf(program, sizeof program, "%s/objects", programs);
	if (access(program, X_OK) != 0) {
		fprintf(stderr, "skipping the C++ case: no C++ compiler built %s\n", program);
		return;
	}
	struct run run;
	run_memscope(&run, "objects", (const char *[]){program, NULL});
	assert_exited(&run, 0);
	struct report *report = build_report(run.output);
	struct own_totals own = own_totals(report, program);
	ck_assert_uint_eq(own.allocations, 51);
	ck_assert_uint_eq(own.bytes, 50 * 40 + 400);
	ck_assert_uint_eq(own.live_blocks, 30);
	ck_assert_uint_eq(own.live_bytes, 30 * 40);
	report_destroy(report);
	run_finish(&run);
}
END_TEST

/* Each entry point, through each capture source: the kind and requested
 * size of every block the program's code made. */
/* backend and allocator: NULL for the defaults. */
static void check_entry_points(const char *capture_source, const char *backend,
                               const char *allocator)
{
	char program[512];
	snprintf(program, sizeof program, "%s/entry_points", programs);
	char name[64];
	snprintf(name, sizeof name, "entry-points-%s-%s-%s", capture_source,
	         backend ? backend : "default", allocator ? allocator : "default");
	const char *arguments[16] = {"--capture", capture_source};
	int count = 2;
	if (backend != NULL && strcmp(backend, "hybrid") == 0) {
		/* Every block exact from its first byte, at the default interval:
		 * all of them in the heap of sampled blocks (sampled_heap.h). */
		const char *exact[] = {"--backend", backend, "--exact-above", "1"};
		for (int i = 0; i < 4; i++)
			arguments[count++] = exact[i];
	} else if (backend != NULL) {
		/* Interval 1: every block, so the same ones as exact. */
		const char *sampled[] = {"--backend", backend, "--sample-interval", "1"};
		for (int i = 0; i < 4; i++)
			arguments[count++] = sampled[i];
	}
	if (allocator != NULL) {
		arguments[count++] = "--allocator";
		arguments[count++] = allocator;
	}
	arguments[count++] = program;
	arguments[count] = NULL;
	struct run run;
	run_memscope(&run, name, arguments);
	assert_exited(&run, 0);

	static const struct {
		uint32_t kind;
		uint64_t size;
	} expected[] = {
		{CAPTURE_KIND_MALLOC, 101},         {CAPTURE_KIND_CALLOC, 102},
		{CAPTURE_KIND_REALLOC, 103},        {CAPTURE_KIND_MALLOC, 8},
		{CAPTURE_KIND_REALLOC, 100000},     {CAPTURE_KIND_REALLOC, 105},
		{CAPTURE_KIND_POSIX_MEMALIGN, 106}, {CAPTURE_KIND_ALIGNED_ALLOC, 128},
		{CAPTURE_KIND_MEMALIGN, 108},       {CAPTURE_KIND_VALLOC, 109},
		{CAPTURE_KIND_MALLOC, 10},
	};
	size_t seen = 0;
	uint64_t frees = 0;
	struct capture_reader *reader;
	ck_assert_int_eq(capture_reader_open(run.output, &reader, NULL), 0);
	struct capture_record record;
	int result;
	/* Allocations of the program's own: sizes no start-up code uses. */
	while ((result = capture_reader_next(reader, &record)) == 1) {
		if (record.type == CAPTURE_RECORD_FREE)
			frees++;
		if (record.type != CAPTURE_RECORD_ALLOC || seen == sizeof expected / sizeof expected[0] ||
		    record.u.alloc.size != expected[seen].size)
			continue;
		ck_assert_msg(record.u.alloc.kind == expected[seen].kind,
		              "%s: block %zu of %llu bytes is a %s, not a %s", capture_source, seen,
		              (unsigned long long)record.u.alloc.size,
		              capture_alloc_kind_name(record.u.alloc.kind),
		              capture_alloc_kind_name(expected[seen].kind));
		ck_assert_uint_ge(record.u.alloc.usable, record.u.alloc.size);
		seen++;
	}
	ck_assert_int_eq(result, 0);
	ck_assert_uint_eq(seen, sizeof expected / sizeof expected[0]);
	capture_reader_destroy(reader);

	struct report *report = build_report(run.output);
	struct own_totals own = own_totals(report, program);
	ck_assert_uint_eq(own.allocations, 11);
	ck_assert_uint_eq(own.live_blocks, 0);
	ck_assert_uint_ge(frees, 11);
	report_destroy(report);
	run_finish(&run);
}

START_TEST(every_entry_point_is_seen)
{
	check_entry_points("interpose", NULL, NULL);
	check_entry_points("hooks", NULL, NULL);
	/* The lockfree backend on the C library's malloc (its default), and
	 * on jemalloc. */
	check_entry_points("interpose", "lockfree", NULL);
	check_entry_points("interpose", "lockfree", "jemalloc");
	check_entry_points("hooks", "lockfree", NULL);
	/* Every block in memscope's heap of sampled blocks, on either
	 * allocator. */
	check_entry_points("interpose", "hybrid", NULL);
	check_entry_points("interpose", "hybrid", "jemalloc");
	/* The exact backend on the C library's malloc. */
	check_entry_points("interpose", NULL, "libc");
}
END_TEST

/* The fragmentation analyzer's internal waste, through the real plugin
 * host, is exactly what the capture's own blocks say: the sum of usable
 * minus requested over every block. */
/* A peak reached and left inside one clock tick (tests/programs/
 * peak_in_a_tick.c: 64 blocks of 32,500 bytes at once): the capture's
 * order places it, so the hotspots' bytes live at the peak, summed over
 * every site, are the capture's peak to the byte.  The same order makes
 * the temporary blocks exact: the 200 blocks of 1,000 bytes, each freed
 * before the next allocation, and the last block of each burst, 202 (by
 * ticks alone all 328 freed blocks could have been). */
START_TEST(a_peak_and_temporaries_inside_one_tick_are_exact)
{
	char program[512];
	snprintf(program, sizeof program, "%s/peak_in_a_tick", programs);
	struct run run;
	run_memscope(&run, "peak-in-a-tick", (const char *[]){program, NULL});
	assert_exited(&run, 0);

	struct plugin_registry *registry;
	ck_assert_int_eq(plugin_registry_create(&registry), 0);
	ck_assert_int_eq(plugin_registry_load_directory(registry, analyzers), 0);
	const memscope_analyzer *analyzer = plugin_registry_analyzer(registry, "hotspots");
	ck_assert_ptr_nonnull(analyzer);
	struct memscope_capture *capture;
	ck_assert_int_eq(capture_view_open(run.output, &capture, NULL), 0);
	const memscope_summary *summary = plugin_host()->summary(capture);
	ck_assert_uint_eq(summary->peak_bytes, 2080000);
	struct memscope_results *results = NULL;
	ck_assert_int_eq(plugin_run_analyzer(analyzer, capture, &results), 0);

	uint64_t live_at_peak = 0, temporary = 0;
	bool found = false;
	for (size_t t = 0; t < results_table_count(results); t++) {
		const memscope_table *table = results_table_at(results, t);
		if (strcmp(results_table_name(table), "sites") != 0)
			continue;
		size_t columns;
		const memscope_column *column = results_table_columns(table, &columns);
		size_t peak_column = columns, temporary_column = columns;
		for (size_t c = 0; c < columns; c++) {
			if (strcmp(column[c].name, "peak_bytes") == 0)
				peak_column = c;
			if (strcmp(column[c].name, "temporary") == 0)
				temporary_column = c;
		}
		ck_assert_uint_lt(peak_column, columns);
		ck_assert_uint_lt(temporary_column, columns);
		for (size_t r = 0; r < results_table_row_count(table); r++) {
			live_at_peak += results_table_row_at(table, r)[peak_column].count;
			temporary += results_table_row_at(table, r)[temporary_column].count;
		}
		found = true;
	}
	ck_assert(found);
	ck_assert_uint_eq(live_at_peak, 2080000);
	ck_assert_uint_eq(temporary, 202);
	results_destroy(results);
	capture_view_close(capture);
	plugin_registry_destroy(registry);
	run_finish(&run);
}
END_TEST

START_TEST(fragmentation_waste_is_exact)
{
	char program[512];
	snprintf(program, sizeof program, "%s/entry_points", programs);
	struct run run;
	run_memscope(&run, "fragmentation", (const char *[]){program, NULL});
	assert_exited(&run, 0);

	/* Expected: from the records themselves (this program resizes no
	 * block in place, so every block keeps the sizes it was made with). */
	struct capture_reader *reader;
	ck_assert_int_eq(capture_reader_open(run.output, &reader, NULL), 0);
	struct capture_record record;
	uint64_t waste = 0, blocks = 0, expands = 0;
	while (capture_reader_next(reader, &record) == 1) {
		if (record.type == CAPTURE_RECORD_ALLOC) {
			waste += record.u.alloc.usable - record.u.alloc.size;
			blocks++;
		}
		expands += record.type == CAPTURE_RECORD_EXPAND;
	}
	capture_reader_destroy(reader);
	ck_assert_uint_eq(expands, 0);
	ck_assert_uint_ge(blocks, 11);
	ck_assert_uint_gt(waste, 0);

	struct plugin_registry *registry;
	ck_assert_int_eq(plugin_registry_create(&registry), 0);
	ck_assert_int_eq(plugin_registry_load_directory(registry, analyzers), 0);
	const memscope_analyzer *analyzer = plugin_registry_analyzer(registry, "fragmentation");
	ck_assert_ptr_nonnull(analyzer);
	struct memscope_capture *capture;
	ck_assert_int_eq(capture_view_open(run.output, &capture, NULL), 0);
	struct memscope_results *results = NULL;
	ck_assert_int_eq(plugin_run_analyzer(analyzer, capture, &results), 0);

	uint64_t reported = 0;
	bool found = false;
	for (size_t t = 0; t < results_table_count(results); t++) {
		const memscope_table *table = results_table_at(results, t);
		if (strcmp(results_table_name(table), "waste_by_size_class") != 0)
			continue;
		size_t columns;
		const memscope_column *column = results_table_columns(table, &columns);
		size_t waste_column = columns;
		for (size_t c = 0; c < columns; c++)
			if (strcmp(column[c].name, "waste") == 0)
				waste_column = c;
		ck_assert_uint_lt(waste_column, columns);
		for (size_t r = 0; r < results_table_row_count(table); r++)
			reported += results_table_row_at(table, r)[waste_column].count;
		found = true;
	}
	ck_assert(found);
	ck_assert_uint_eq(reported, waste);
	results_destroy(results);
	capture_view_close(capture);
	plugin_registry_destroy(registry);
	run_finish(&run);
}
END_TEST

struct event_counts {
	uint64_t allocs, frees, resizes, alloc_bytes;
	uint64_t big_frees;            /* frees of the 4,000,000-byte block, with a stack */
	uint64_t resized_to_20400;
	uint64_t last_time;
	bool in_order;
};

static int count_event(void *context, const memscope_event *event)
{
	struct event_counts *counts = context;
	counts->in_order = counts->in_order && event->time_ns >= counts->last_time;
	counts->last_time = event->time_ns;
	if (event->type == MEMSCOPE_EVENT_ALLOC) {
		counts->allocs++;
		counts->alloc_bytes += event->size;
	} else if (event->type == MEMSCOPE_EVENT_FREE) {
		counts->frees++;
		counts->big_frees += event->size == 4000000 && event->stack != 0;
	} else if (event->type == MEMSCOPE_EVENT_RESIZE) {
		counts->resizes++;
		counts->resized_to_20400 += event->size == 20400;
	}
	return 0;
}

/* Plugins' view of the events: every one in order, a free with the size
 * and allocation stack of its block. */
START_TEST(plugins_see_every_event)
{
	char program[512];
	snprintf(program, sizeof program, "%s/counts", programs);
	struct run run;
	run_memscope(&run, "events", (const char *[]){program, NULL});
	assert_exited(&run, 0);
	struct memscope_capture *capture;
	ck_assert_int_eq(capture_view_open(run.output, &capture, NULL), 0);
	struct event_counts counts = {.in_order = true};
	ck_assert_int_eq(plugin_host()->for_each_event(capture, count_event, &counts), 0);
	const memscope_summary *summary = plugin_host()->summary(capture);
	ck_assert_uint_eq(counts.allocs, summary->allocations);
	ck_assert_uint_eq(counts.frees, summary->frees);
	ck_assert_uint_eq(counts.resizes, summary->reallocations);
	ck_assert_uint_eq(counts.alloc_bytes, summary->allocated_bytes);
	ck_assert_uint_eq(counts.big_frees, 1);
	ck_assert_uint_eq(counts.resized_to_20400, 1);
	ck_assert(counts.in_order);
	capture_view_close(capture);
	run_finish(&run);
}
END_TEST

/* valgrind counts every malloc, calloc and realloc call as an allocation
 * ("total heap usage: N allocs"); memscope's blocks handed out plus
 * in-place reallocations are the same calls. */
START_TEST(allocation_calls_agree_with_valgrind)
{
	if (access("/usr/bin/valgrind", X_OK) != 0) {
		fprintf(stderr, "skipping the valgrind comparison: valgrind is not installed\n");
		return;
	}
	char program[512], command[1024];
	snprintf(program, sizeof program, "%s/counts", programs);
	snprintf(command, sizeof command,
	         "valgrind --tool=memcheck %s 2>&1 | sed -n 's/.*total heap usage: \\([0-9,]*\\) allocs.*/\\1/p' | tr -d ,",
	         program);
	FILE *pipe = popen(command, "r");
	ck_assert_ptr_nonnull(pipe);
	unsigned long long valgrind_allocs = 0;
	ck_assert_int_eq(fscanf(pipe, "%llu", &valgrind_allocs), 1);
	pclose(pipe);

	struct run run;
	run_memscope(&run, "counts-valgrind", (const char *[]){program, NULL});
	struct report *report = build_report(run.output);
	struct own_totals own = own_totals(report, program);
	ck_assert_uint_eq(own.allocations + own.expands, valgrind_allocs);
	report_destroy(report);
	run_finish(&run);
}
END_TEST

/* ---- the lockfree backend: estimates against known totals --------------- */

struct known_totals {
	uint64_t allocations, bytes, peak, leak;
};

static struct known_totals parse_known(const char *out)
{
	struct known_totals known;
	unsigned long long a, b, p, l;
	ck_assert_msg(sscanf(out, "allocations %llu bytes %llu peak %llu leak %llu", &a, &b, &p, &l) == 4,
	              "unexpected output: %s", out);
	known = (struct known_totals){a, b, p, l};
	return known;
}

static double relative_error(double estimate, double truth)
{
	return (estimate - truth) / truth;
}

/* Ten seeds at the default interval (512 KiB): each estimate, averaged,
 * lands near the truth.  The program allocates about 8 GiB in 4 million
 * blocks, so one seed's estimate of the bytes spreads by about 0.8% (one
 * standard deviation), of the count by 1.3%, of the 320 MiB peak by 4%, of
 * the 64 MiB leak by 9%; averaged over ten, a third of that.  The bounds are
 * 12, 12, 7 and 5 standard deviations of the average: never crossed by
 * chance, only by a biased sampler or weight. */
START_TEST(sampled_estimates_land_on_the_known_totals)
{
	const int seeds = 10;
	double bytes = 0, allocations = 0, peak = 0, leak = 0;
	struct known_totals known = {0};
	for (int seed = 1; seed <= seeds; seed++) {
		char seed_text[16], name[32], program[512];
		snprintf(seed_text, sizeof seed_text, "%d", seed);
		snprintf(name, sizeof name, "sampled-%d", seed);
		snprintf(program, sizeof program, "%s/sampled", programs);
		const char *arguments[] = {"-q", "--backend", "lockfree", "--sample-seed", seed_text,
		                           program, NULL};
		struct run run;
		run_memscope(&run, name, arguments);
		assert_exited(&run, 0);
		known = parse_known(run.out);
		struct report *report = build_report(run.output);
		ck_assert_uint_eq(report->replay->sample_interval, 512 * 1024);
		bytes += (double)report->totals.allocated_bytes;
		allocations += (double)report->totals.allocations;
		peak += (double)report->totals.peak_bytes;
		uint64_t blocks, leaked;
		int groups;
		leaked_by(report, "leak_64_mib", &blocks, &leaked, &groups);
		/* 16,384 blocks of 4 KiB: about 128 sampled; never none. */
		ck_assert_msg(groups >= 1 && leaked > 0, "seed %d: the leak's site is missing", seed);
		leak += (double)leaked;
		report_destroy(report);
		run_finish(&run);
	}
	double bytes_error = relative_error(bytes / seeds, (double)known.bytes);
	double count_error = relative_error(allocations / seeds, (double)known.allocations);
	double peak_error = relative_error(peak / seeds, (double)known.peak);
	double leak_error = relative_error(leak / seeds, (double)known.leak);
	printf("lockfree, 10 seeds averaged: bytes %+.2f%%, allocations %+.2f%%, peak %+.2f%%, "
	       "leak %+.2f%%\n", 100 * bytes_error, 100 * count_error, 100 * peak_error,
	       100 * leak_error);
	ck_assert_msg(fabs(bytes_error) <= 0.03, "bytes off by %.2f%%", 100 * bytes_error);
	ck_assert_msg(fabs(count_error) <= 0.05, "allocations off by %.2f%%", 100 * count_error);
	ck_assert_msg(fabs(peak_error) <= 0.10, "peak off by %.2f%%", 100 * peak_error);
	ck_assert_msg(fabs(leak_error) <= 0.15, "leak off by %.2f%%", 100 * leak_error);
}
END_TEST

/* Interval 1 records every allocation: the numbers are exact, and the
 * exact backend's.  The run is small enough (about 80,000 events) that the
 * thread's rings hold all of it even if the writer thread gets no CPU
 * until the end: nothing is dropped on a busy machine either. */
START_TEST(interval_one_equals_the_exact_backend)
{
	char program[512];
	snprintf(program, sizeof program, "%s/sampled", programs);
	const char *exact_arguments[] = {"-q", program, "20000", "8192", NULL};
	const char *sampled_arguments[] = {"-q", "--backend", "lockfree", "--sample-interval", "1",
	                                   program, "20000", "8192", NULL};
	struct run exact, sampled;
	run_memscope(&exact, "exact-200k", exact_arguments);
	run_memscope(&sampled, "interval-1", sampled_arguments);
	assert_exited(&exact, 0);
	assert_exited(&sampled, 0);
	struct known_totals known = parse_known(sampled.out);
	struct report *a = build_report(exact.output);
	struct report *b = build_report(sampled.output);
	ck_assert_uint_eq(b->replay->sample_interval, 1);
	ck_assert_uint_eq(a->totals.allocations, known.allocations);
	ck_assert_uint_eq(a->totals.allocated_bytes, known.bytes);
	ck_assert_uint_eq(a->totals.peak_bytes, known.peak);
	ck_assert_uint_eq(b->totals.allocations, a->totals.allocations);
	ck_assert_uint_eq(b->totals.frees, a->totals.frees);
	ck_assert_uint_eq(b->totals.allocated_bytes, a->totals.allocated_bytes);
	ck_assert_uint_eq(b->totals.peak_bytes, a->totals.peak_bytes);
	ck_assert_uint_eq(b->totals.live_blocks, a->totals.live_blocks);
	ck_assert_uint_eq(b->totals.live_bytes, a->totals.live_bytes);
	uint64_t blocks, leaked;
	int groups;
	leaked_by(b, "leak_64_mib", &blocks, &leaked, &groups);
	ck_assert_uint_eq(blocks, 16384);
	ck_assert_uint_eq(leaked, known.leak);
	report_destroy(a);
	report_destroy(b);
	run_finish(&exact);
	run_finish(&sampled);
}
END_TEST

/* Blocks of exactly size bytes, by their stacks' totals. */
static uint64_t blocks_of_size(const struct report *report, uint64_t size)
{
	uint64_t count = 0;
	for (uint32_t id = 0; id < report->replay->stack_count; id++) {
		const struct replay_stack *stack = &report->replay->stacks[id];
		if (stack->allocations > 0 && stack->allocated_bytes == stack->allocations * size)
			count += stack->allocations;
	}
	return count;
}

/* glibc's malloc takes no lock while a process has one thread: a sampling
 * tracker adds no thread to such a program, and starts its writer thread
 * when the program starts one of its own.  The exact backend has its
 * writer from the start.  Either way, every allocation is in the capture. */
START_TEST(the_sampler_adds_no_thread_before_the_program_does)
{
	char program[512];
	snprintf(program, sizeof program, "%s/own_threads", programs);
	struct run sampled, exact;
	run_memscope(&sampled, "own-threads-lockfree",
	             (const char *[]){"-q", "--backend", "lockfree", "--sample-interval", "1",
	                              program, NULL});
	run_memscope(&exact, "own-threads-exact", (const char *[]){"-q", program, NULL});
	assert_exited(&sampled, 0);
	assert_exited(&exact, 0);
	/* Threads at the start of main, then with the program's own running:
	 * lockfree 1 (main) then 3 (main, its thread, the writer); exact 2
	 * then 3. */
	ck_assert_str_eq(sampled.out, "1 3\n");
	ck_assert_str_eq(exact.out, "2 3\n");

	struct run *runs[] = {&sampled, &exact};
	for (int i = 0; i < 2; i++) {
		struct report *report = build_report(runs[i]->output);
		ck_assert_uint_eq(blocks_of_size(report, 100), 20);
		ck_assert_uint_eq(report->totals.frees_untracked, 0);
		ck_assert(report->replay->has_tracking);
		ck_assert_uint_eq(report->replay->tracking.successes,
		                  report->replay->tracking.attempts);
		ck_assert_uint_eq(report->threads, 2);
		report_destroy(report);
	}
	run_finish(&sampled);
	run_finish(&exact);
}
END_TEST

/* A program left on the C library's malloc gets the preload library
 * without jemalloc: nothing of jemalloc, or of the C++ runtime it needs,
 * is loaded into it.  With --allocator jemalloc, both are. */
START_TEST(the_libc_preload_loads_no_jemalloc)
{
	struct run libc_run, jemalloc_run;
	run_memscope(&libc_run, "maps-libc",
	             (const char *[]){"-q", "--backend", "lockfree", "--sample-interval", "1",
	                              "/bin/cat", "/proc/self/maps", NULL});
	run_memscope(&jemalloc_run, "maps-jemalloc",
	             (const char *[]){"-q", "--backend", "lockfree", "--sample-interval", "1",
	                              "--allocator", "jemalloc", "/bin/cat", "/proc/self/maps",
	                              NULL});
	assert_exited(&libc_run, 0);
	assert_exited(&jemalloc_run, 0);
	ck_assert_ptr_nonnull(strstr(libc_run.out, "/libmemscope_preload_libc.so"));
	ck_assert_ptr_null(strstr(libc_run.out, "libjemalloc"));
	ck_assert_ptr_null(strstr(libc_run.out, "libstdc++"));
	ck_assert_ptr_nonnull(strstr(jemalloc_run.out, "/libmemscope_preload.so"));
	ck_assert_ptr_nonnull(strstr(jemalloc_run.out, "libjemalloc"));
	/* cat's allocations (every one, at interval 1) are in both captures. */
	struct run *runs[] = {&libc_run, &jemalloc_run};
	for (int i = 0; i < 2; i++) {
		struct report *report = build_report(runs[i]->output);
		ck_assert(report->replay->has_trailer);
		ck_assert_uint_gt(report->totals.allocations, 0);
		ck_assert_uint_eq(report->replay->tracking.successes,
		                  report->replay->tracking.attempts);
		report_destroy(report);
	}
	run_finish(&libc_run);
	run_finish(&jemalloc_run);
}
END_TEST

/* ---- the hybrid backend ------------------------------------------------ */

static char *text_of(const struct report *report);

/* Calls and bytes of the sites whose innermost frame is function. */
static void site_of(const struct report *report, const char *function, uint64_t *calls,
                    uint64_t *bytes)
{
	*calls = 0;
	*bytes = 0;
	for (size_t i = 0; i < report->sites_by_bytes_count; i++) {
		const struct report_site *site = &report->sites_by_bytes[i];
		const struct report_frame *frame = report_leaking_frame(&site->stack);
		if (frame != NULL && frame->function != NULL && strcmp(frame->function, function) == 0) {
			*calls += site->calls;
			*bytes += site->bytes;
		}
	}
}

/* Large blocks (600,000 and 1,000,000 bytes, above the threshold of
 * 75,452 at 16 KiB) exact to the block and the byte, sites and leak
 * included, on every seed; the small ones' estimates unbiased over 10
 * seeds: bytes within 3%, count within 5%. */
START_TEST(hybrid_large_blocks_are_exact)
{
	char program[512];
	snprintf(program, sizeof program, "%s/mixed_sizes", programs);
	const int seeds = 10;
	double small_bytes = 0, small_calls = 0;
	for (int seed = 1; seed <= seeds; seed++) {
		char seed_text[16], name[32];
		snprintf(seed_text, sizeof seed_text, "%d", seed);
		snprintf(name, sizeof name, "hybrid-%d", seed);
		const char *arguments[] = {"-q", "--backend", "hybrid", "--sample-interval", "16K",
		                           "--sample-seed", seed_text, program, NULL};
		struct run run;
		run_memscope(&run, name, arguments);
		assert_exited(&run, 0);
		ck_assert_str_eq(run.out, "large: 41 blocks, 25000000 bytes; small: 100000 blocks, "
		                          "14342320 bytes, 20000 kept\n");
		struct report *report = build_report(run.output);
		ck_assert_uint_eq(report->replay->exact_above, 75452);
		uint64_t calls, bytes, blocks, leaked;
		int groups;
		site_of(report, "large_blocks", &calls, &bytes);
		ck_assert_uint_eq(calls, 41);
		ck_assert_uint_eq(bytes, 25000000);
		leaked_by(report, "large_blocks", &blocks, &leaked, &groups);
		ck_assert_uint_eq(blocks, 1);
		ck_assert_uint_eq(leaked, 1000000);
		ck_assert_int_eq(groups, 1);
		site_of(report, "small_blocks", &calls, &bytes);
		small_calls += (double)calls;
		small_bytes += (double)bytes;
		/* Marked as estimates: the small blocks' figures, not the large ones'. */
		for (size_t i = 0; i < report->sites_by_bytes_count; i++) {
			const struct report_site *site = &report->sites_by_bytes[i];
			const struct report_frame *frame = report_leaking_frame(&site->stack);
			if (frame && frame->function && strcmp(frame->function, "large_blocks") == 0)
				ck_assert(!site->estimated);
			if (frame && frame->function && strcmp(frame->function, "small_blocks") == 0)
				ck_assert(site->estimated);
		}
		for (size_t i = 0; i < report->leak_count; i++) {
			const struct report_frame *frame = report_leaking_frame(&report->leaks[i].stack);
			if (frame && frame->function && strcmp(frame->function, "large_blocks") == 0)
				ck_assert(!report->leaks[i].estimated);
		}
		if (seed == 1) {
			/* The line of the 40 large blocks' site, printed without ~. */
			char *text = text_of(report);
			const char *site = strstr(text, "40 calls   24,000,000 bytes (22.9 MiB)  large_blocks");
			ck_assert_msg(site != NULL, "%s", text);
			const char *line = site;
			while (line > text && line[-1] != '\n')
				line--;
			ck_assert_msg(memchr(line, '~', (size_t)(site - line)) == NULL, "%s", text);
			free(text);
		}
		report_destroy(report);
		run_finish(&run);
	}
	double bytes_error = relative_error(small_bytes / seeds, 14342320.0);
	double calls_error = relative_error(small_calls / seeds, 100000.0);
	printf("hybrid, 10 seeds averaged: small blocks' bytes %+.2f%%, count %+.2f%%\n",
	       100 * bytes_error, 100 * calls_error);
	ck_assert_msg(fabs(bytes_error) <= 0.03, "bytes off by %.2f%%", 100 * bytes_error);
	ck_assert_msg(fabs(calls_error) <= 0.05, "count off by %.2f%%", 100 * calls_error);
}
END_TEST

/* Calls and bytes of the sites whose stack passes through function. */
static void site_through(const struct report *report, const char *function, uint64_t *calls,
                         uint64_t *bytes)
{
	*calls = 0;
	*bytes = 0;
	for (size_t i = 0; i < report->sites_by_bytes_count; i++) {
		const struct report_site *site = &report->sites_by_bytes[i];
		for (size_t f = 0; f < site->stack.frame_count; f++) {
			const char *name = site->stack.frames[f].function;
			if (name != NULL && strcmp(name, function) == 0) {
				*calls += site->calls;
				*bytes += site->bytes;
				break;
			}
		}
	}
}

/* Around the threshold: 2,000 blocks each of T - 1 bytes (sampled, each
 * picked with p = 0.99), T and T + 1 (recorded): the last two exact, the
 * first within 1% (4 standard deviations of its estimate). */
START_TEST(hybrid_threshold_has_no_bias)
{
	char program[512];
	snprintf(program, sizeof program, "%s/threshold", programs);
	const char *arguments[] = {"-q", "--backend", "hybrid", "--sample-interval", "16K",
	                           "--sample-seed", "3", program, "75452", NULL};
	struct run run;
	run_memscope(&run, "threshold", arguments);
	assert_exited(&run, 0);
	struct report *report = build_report(run.output);
	uint64_t calls, bytes;
	site_through(report, "at_threshold", &calls, &bytes);
	ck_assert_uint_eq(calls, 2000);
	ck_assert_uint_eq(bytes, 2000 * 75452);
	site_through(report, "just_above", &calls, &bytes);
	ck_assert_uint_eq(calls, 2000);
	ck_assert_uint_eq(bytes, 2000 * 75453);
	site_through(report, "just_below", &calls, &bytes);
	ck_assert_msg(fabs(relative_error((double)calls, 2000)) <= 0.01, "%" PRIu64 " calls", calls);
	ck_assert_msg(fabs(relative_error((double)bytes, 2000.0 * 75451)) <= 0.01,
	              "%" PRIu64 " bytes", bytes);
	report_destroy(report);
	run_finish(&run);
}
END_TEST

/* An event budget 10x and more below the program's allocation rate: from
 * the second second on, the events recorded per second stay within 20% of
 * the budget, and the estimate of the bytes allocated within 5% of what
 * the program counted itself.  On one thread, and on three sharing it
 * (each with countdowns of its own, drawn at the interval of the moment). */
static void check_event_budget(const char *name, const char *threads)
{
	char program[512];
	snprintf(program, sizeof program, "%s/steady", programs);
	const char *arguments[] = {"-q", "--backend", "hybrid", "--sample-interval", "1K",
	                           "--event-budget", "200k/s", "--sample-seed", "5", program, "3",
	                           threads, NULL};
	struct run run;
	run_memscope(&run, name, arguments);
	assert_exited(&run, 0);
	unsigned long long allocations, bytes;
	double seconds;
	ck_assert_int_eq(sscanf(run.out, "%llu allocations, %llu bytes in %lf s", &allocations,
	                        &bytes, &seconds), 3);
	ck_assert_msg((double)allocations / seconds >= 10 * 200000.0,
	              "the program allocates %.0f a second: too slow to test a budget of 200,000",
	              (double)allocations / seconds);

	struct capture_reader *reader;
	ck_assert_int_eq(capture_reader_open(run.output, &reader, NULL), 0);
	struct capture_record record;
	uint64_t events = 0, end_ns = 0, changes = 0;
	while (capture_reader_next(reader, &record) == 1) {
		uint64_t time = 0;
		if (record.type == CAPTURE_RECORD_ALLOC)
			time = record.u.alloc.time_ns;
		else if (record.type == CAPTURE_RECORD_FREE)
			time = record.u.free.time_ns;
		else if (record.type == CAPTURE_RECORD_THREAD_SAMPLING)
			changes++;
		else
			continue;
		if (time >= 1000000000u) {
			events++;
			end_ns = time > end_ns ? time : end_ns;
		}
	}
	capture_reader_destroy(reader);
	ck_assert_uint_gt(changes, 0);
	ck_assert_uint_gt(end_ns, 2000000000u);
	double rate = (double)events / ((double)(end_ns - 1000000000u) * 1e-9);
	printf("hybrid, %s thread(s), budget 200,000 events/s: %.0f events/s after the first "
	       "second, %" PRIu64 " interval changes\n", threads, rate, changes);
	ck_assert_msg(fabs(rate - 200000.0) <= 0.2 * 200000.0, "%.0f events a second", rate);

	struct report *report = build_report(run.output);
	double error = relative_error((double)report->totals.allocated_bytes, (double)bytes);
	ck_assert_msg(fabs(error) <= 0.05, "bytes estimated %+.2f%% off", 100 * error);
	ck_assert_uint_eq(report->replay->interval_changes, changes);
	report_destroy(report);
	run_finish(&run);
}

START_TEST(hybrid_keeps_to_its_event_budget)
{
	check_event_budget("steady", "1");
}
END_TEST

START_TEST(hybrid_keeps_to_its_event_budget_across_threads)
{
	check_event_budget("steady-threads", "3");
}
END_TEST

/* ---- tasks (the async backend) --------------------------------------- */

/* The task the report calls name, or NULL. */
static const struct replay_task *task_named(const struct report *report, const char *name)
{
	for (size_t i = 0; i < report->task_kept; i++)
		if (strcmp(report->tasks[i].label, name) == 0)
			return &report->tasks[i].task;
	return NULL;
}

static void assert_task(const struct report *report, const char *name, uint32_t origin,
                        uint64_t allocations, uint64_t bytes, uint64_t frees,
                        uint64_t freed_bytes, uint64_t leaked_blocks, uint64_t leaked_bytes)
{
	const struct replay_task *task = task_named(report, name);
	ck_assert_msg(task != NULL, "no task %s", name);
	ck_assert_msg(task->origin == origin && task->allocations == allocations &&
	                  task->allocated_bytes == bytes && task->frees == frees &&
	                  task->freed_bytes == freed_bytes && task->live_blocks == leaked_blocks &&
	                  task->live_bytes == leaked_bytes,
	              "task %s: origin %u, %" PRIu64 " allocations of %" PRIu64 " bytes, %" PRIu64
	              " frees of %" PRIu64 ", %" PRIu64 " leaked of %" PRIu64 " bytes",
	              name, task->origin, task->allocations, task->allocated_bytes, task->frees,
	              task->freed_bytes, task->live_blocks, task->live_bytes);
}

/* The text report's per-task table, as a user reads it. */
static char *text_of(const struct report *report)
{
	char *text = NULL;
	size_t length = 0;
	FILE *out = open_memstream(&text, &length);
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(report_write_text(report, out), 0);
	fclose(out);
	return text;
}

START_TEST(ucontext_coroutines_are_tasks_without_annotations)
{
	char program[512];
	snprintf(program, sizeof program, "%s/coroutines", programs);
	struct run run;
	const char *arguments[] = { "--backend", "async", program, NULL };
	run_memscope(&run, "coroutines", arguments);
	assert_exited(&run, 0);
	ck_assert_str_eq(run.out, "coroutines: done\n");

	struct report *report = build_report(run.output);
	ck_assert_uint_eq(report->task_total, 4);
	assert_task(report, "coroutines", CAPTURE_TASK_THREAD, 4, 3 * 65536 + 128, 4,
	            3 * 65536 + 128, 0, 0);
	assert_task(report, "worker_frees_all", CAPTURE_TASK_UCONTEXT, 40, 4000, 40, 4000, 0, 0);
	assert_task(report, "worker_leaks", CAPTURE_TASK_UCONTEXT, 20, 4000, 12, 2400, 8, 1600);
	assert_task(report, "worker_large", CAPTURE_TASK_UCONTEXT, 1, 1048576, 1, 1048576, 0, 0);
	const struct replay_task *large = task_named(report, "worker_large");
	ck_assert_uint_eq(large->peak_bytes, 1048576);
	ck_assert(large->ended);
	/* Every coroutine is the scheduler's child, and ended (returned). */
	const struct replay_task *root = task_named(report, "coroutines");
	const struct replay_task *leaks = task_named(report, "worker_leaks");
	ck_assert_uint_eq(leaks->parent, root->id);
	ck_assert(leaks->ended);
	ck_assert_uint_eq(leaks->end_live_blocks, 8);
	ck_assert_uint_eq(root->children, 3);
	ck_assert_uint_eq(report->task_leak_count, 1);
	ck_assert_uint_eq(report->task_leaks[0].task, leaks->id);
	ck_assert_uint_eq(report->task_leaks[0].bytes, 1600);

	char *text = text_of(report);
	ck_assert_ptr_nonnull(strstr(text, "TASKS    4 tasks"));
	ck_assert_msg(strstr(text, "worker_leaks (ucontext)               20          4,000"
	                           "           12          2,400          4,000            8"
	                           "          1,600              0              0"),
	              "%s", text);
	ck_assert_ptr_nonnull(strstr(text, "task 3 worker_leaks (ucontext): 1,600 bytes (1.6 KiB) "
	                                   "in 8 blocks left live"));
	free(text);
	report_destroy(report);
	run_finish(&run);
}
END_TEST

/* What plugins see of the same tasks through the real host. */
struct task_sums {
	uint64_t tasks;
	uint64_t allocations;
	uint64_t leaked_blocks;
	uint64_t leaks_block_walk;   /* blocks not freed, whose task leaked them */
	uint64_t owner_bytes_live;   /* +size for allocations, -size for frees, by owner */
	uint32_t owner;
	const memscope_task *looked_up;
};

static int sum_task(void *context, const memscope_task *task)
{
	struct task_sums *sums = context;
	sums->tasks++;
	sums->allocations += task->allocations;
	sums->leaked_blocks += task->live_blocks;
	return 0;
}

static int sum_block(void *context, const memscope_block *block)
{
	struct task_sums *sums = context;
	if (!block->freed && block->task == sums->owner)
		sums->leaks_block_walk++;
	return 0;
}

static int sum_event(void *context, const memscope_event *event)
{
	struct task_sums *sums = context;
	if (memscope_event_owner_task(event) != sums->owner)
		return 0;
	if (event->type == MEMSCOPE_EVENT_ALLOC)
		sums->owner_bytes_live += event->size;
	else if (event->type == MEMSCOPE_EVENT_FREE)
		sums->owner_bytes_live -= event->size;
	return 0;
}

START_TEST(plugins_see_the_tasks)
{
	char program[512];
	snprintf(program, sizeof program, "%s/coroutines", programs);
	struct run run;
	const char *arguments[] = { "--backend", "async", program, NULL };
	run_memscope(&run, "coroutine-plugins", arguments);
	assert_exited(&run, 0);
	struct memscope_capture *capture;
	ck_assert_int_eq(capture_view_open(run.output, &capture, NULL), 0);
	const memscope_host *host = plugin_host();
	const memscope_summary *summary = host->summary(capture);
	ck_assert_uint_eq(memscope_summary_tasks(summary), 4);
	struct task_sums sums = {0};
	ck_assert_int_eq(memscope_host_for_each_task(host, capture, sum_task, &sums), 0);
	ck_assert_uint_eq(sums.tasks, 4);
	ck_assert_uint_eq(sums.allocations, summary->allocations);
	ck_assert_uint_eq(sums.leaked_blocks, summary->live_blocks);
	const memscope_task *leaker = NULL;
	for (uint64_t id = 1; id <= 4; id++) {
		const memscope_task *task = memscope_host_task(host, capture, id);
		ck_assert_ptr_nonnull(task);
		if (strcmp(task->name, "worker_leaks") == 0)
			leaker = task;
	}
	ck_assert_ptr_nonnull(leaker);
	ck_assert_str_eq(leaker->origin, "ucontext");
	ck_assert_ptr_null(memscope_host_task(host, capture, 5));
	sums.owner = leaker->id;
	ck_assert_int_eq(host->for_each_block(capture, sum_block, &sums), 0);
	ck_assert_uint_eq(sums.leaks_block_walk, 8);
	ck_assert_int_eq(host->for_each_event(capture, sum_event, &sums), 0);
	ck_assert_uint_eq(sums.owner_bytes_live, 1600);
	capture_view_close(capture);
	run_finish(&run);
}
END_TEST

/* A coroutine resumed on another thread is the same task: its figures
 * follow it, and it ran on both threads. */
START_TEST(coroutines_keep_their_task_across_threads)
{
	char program[512];
	snprintf(program, sizeof program, "%s/migrating", programs);
	struct run run;
	const char *arguments[] = { "--backend", "async", program, NULL };
	run_memscope(&run, "migrating", arguments);
	assert_exited(&run, 0);
	struct report *report = build_report(run.output);
	const struct replay *replay = report->replay;
	int coroutines = 0;
	uint64_t seen = 0;
	ck_assert_uint_eq(report->task_kept, replay->task_count);
	for (size_t i = 0; i < report->task_kept; i++) {
		const struct replay_task *task = &report->tasks[i].task;
		if (task->origin != CAPTURE_TASK_UCONTEXT)
			continue;
		coroutines++;
		ck_assert_str_eq(report->tasks[i].label, "coroutine");
		ck_assert_uint_eq(task->thread_count, 2);
		ck_assert_uint_ne(task->threads[0], task->threads[1]);
		/* Coroutine i: i + 1 blocks of 64 bytes, then one of 32. */
		uint64_t blocks = task->allocations - 1;
		ck_assert_uint_eq(task->allocated_bytes, blocks * 64 + 32);
		ck_assert_uint_eq(task->frees, task->allocations);
		ck_assert_uint_eq(task->live_blocks, 0);
		ck_assert_uint_eq(task->peak_bytes, blocks * 64);
		ck_assert(task->ended);
		seen |= UINT64_C(1) << blocks;
	}
	ck_assert_int_eq(coroutines, 4);
	ck_assert_uint_eq(seen, 0x1e); /* 1, 2, 3 and 4 blocks */
	report_destroy(report);
	run_finish(&run);
}
END_TEST

START_TEST(annotations_win_inside_coroutines)
{
	char program[512];
	snprintf(program, sizeof program, "%s/annotated_coroutine", programs);
	struct run run;
	const char *arguments[] = { "--backend", "async", program, NULL };
	run_memscope(&run, "annotated_coroutine", arguments);
	assert_exited(&run, 0);
	struct report *report = build_report(run.output);
	ck_assert_uint_eq(report->task_total, 3);
	assert_task(report, "inner", CAPTURE_TASK_ANNOTATION, 2, 11 + 33, 0, 0, 2, 11 + 33);
	assert_task(report, "body", CAPTURE_TASK_UCONTEXT, 1, 44, 0, 0, 1, 44);
	assert_task(report, "annotated_corou", CAPTURE_TASK_THREAD, 1, 22, 0, 0, 1, 22);
	report_destroy(report);
	run_finish(&run);
}
END_TEST

START_TEST(annotated_tasks_nest_hop_threads_and_free_across)
{
	char program[512];
	snprintf(program, sizeof program, "%s/tasks", programs);
	struct run run;
	const char *arguments[] = { "--backend", "async", program, NULL };
	run_memscope(&run, "tasks", arguments);
	assert_exited(&run, 0);
	ck_assert_str_eq(run.out, "tasks: done\n");

	struct report *report = build_report(run.output);
	assert_task(report, "request", CAPTURE_TASK_ANNOTATION, 3, 670, 2, 370, 1, 300);
	assert_task(report, "child", CAPTURE_TASK_ANNOTATION, 1, 50, 0, 0, 1, 50);
	assert_task(report, "hopper", CAPTURE_TASK_ANNOTATION, 2, 3000, 2, 3000, 0, 0);
	const struct replay_task *request = task_named(report, "request");
	const struct replay_task *child = task_named(report, "child");
	const struct replay_task *hopper = task_named(report, "hopper");
	/* Nesting: child is request's, and what request allocated after
	 * child's leave (70 bytes) is request's again: its peak is 600. */
	ck_assert_uint_eq(child->parent, request->id);
	ck_assert_uint_eq(request->peak_bytes, 600);
	/* The block request allocated and hopper freed counts against request. */
	ck_assert_uint_eq(request->freed_by_others, 1);
	ck_assert_uint_eq(request->freed_by_others_bytes, 70);
	ck_assert_uint_eq(hopper->freed_of_others, 1);
	ck_assert_uint_eq(hopper->freed_of_others_bytes, 70);
	/* Resumed on the worker thread, hopper kept its figures. */
	ck_assert_uint_eq(hopper->thread_count, 2);
	ck_assert_uint_eq(hopper->peak_bytes, 3000);
	ck_assert(request->ended && child->ended && hopper->ended);
	report_destroy(report);
	run_finish(&run);
}
END_TEST

/* Threads that end right after their first allocation keep the names
 * they gave themselves, in the THREAD records and, under async, in their
 * root tasks, which end with them. */
START_TEST(short_threads_keep_their_names)
{
	char program[512];
	snprintf(program, sizeof program, "%s/named_threads", programs);
	static const char *const backends[] = {"exact", "async"};
	for (int b = 0; b < 2; b++) {
		struct run run;
		const char *arguments[] = { "--backend", backends[b], program, NULL };
		run_memscope(&run, "named_threads", arguments);
		assert_exited(&run, 0);
		struct report *report = build_report(run.output);
		const struct replay *replay = report->replay;
		unsigned seen = 0;
		for (uint32_t i = 0; i < replay->thread_count; i++) {
			const char *name = replay->threads[i].name;
			unsigned worker;
			if (name && sscanf(name, "worker-%u", &worker) == 1 && worker < 8)
				seen |= 1u << worker;
		}
		ck_assert_msg(seen == 0xff, "%s: workers named: %#x", backends[b], seen);
		if (b == 1) {
			unsigned roots = 0;
			for (size_t i = 0; i < report->task_kept; i++) {
				unsigned worker;
				const struct replay_task *task = &report->tasks[i].task;
				if (task->origin == CAPTURE_TASK_THREAD &&
				    sscanf(report->tasks[i].label, "worker-%u", &worker) == 1) {
					/* Ended with its thread, at its last event. */
					ck_assert(task->ended);
					ck_assert_uint_ge(task->end_ns, task->begin_ns);
					roots++;
				}
			}
			ck_assert_uint_eq(roots, 8);
		}
		report_destroy(report);
		run_finish(&run);
	}
}
END_TEST

/* 20,000 short tasks, 100 begun at once: the reader holds the tasks live
 * at once, not those that ended, and still gets every figure exact. */
struct many_sums {
	uint64_t tasks, allocations, allocated_bytes, frees, leaked_blocks, leaked_bytes;
};

static int sum_many(void *context, const memscope_task *task)
{
	struct many_sums *sums = context;
	sums->tasks++;
	sums->allocations += task->allocations;
	sums->allocated_bytes += task->allocated_bytes;
	sums->frees += task->frees;
	sums->leaked_blocks += task->live_blocks;
	sums->leaked_bytes += task->live_bytes;
	return 0;
}

START_TEST(many_short_tasks_hold_only_the_live_ones)
{
	char program[512];
	snprintf(program, sizeof program, "%s/many_tasks", programs);
	struct run run;
	const char *arguments[] = { "--backend", "async", program, "20000", "100", NULL };
	run_memscope(&run, "many_tasks", arguments);
	assert_exited(&run, 0);

	/* Task n: 64 + n % 5 bytes and 32; every 1,000th leaks its 64. */
	uint64_t bytes = 0;
	for (uint64_t n = 1; n <= 20000; n++)
		bytes += 64 + n % 5 + 32;
	struct report_options options;
	report_options_init(&options);
	options.top = 10;
	struct report *report = NULL;
	ck_assert_int_eq(report_build(run.output, &options, &report, NULL), 0);
	const struct replay *replay = report->replay;
	ck_assert_uint_eq(report->task_total, 20001);
	/* 100 running, up to 20 ended owning a leak, and the root. */
	ck_assert_uint_le(replay->tasks_most_held, 100 + 20 + 2);
	ck_assert_uint_eq(report->task_kept, 10 + 20);
	uint64_t leaked = 0;
	for (size_t i = 0; i < report->task_kept; i++)
		if (report->tasks[i].task.live_blocks > 0) {
			ck_assert_uint_eq(report->tasks[i].task.live_bytes, 64);
			ck_assert_uint_eq((report->tasks[i].task.id - 1) % 1000, 0);
			leaked++;
		}
	ck_assert_uint_eq(leaked, 20);
	/* The top: 3 * 4,000 tasks allocate the most (n % 5 == 4), lowest ids first. */
	ck_assert_uint_eq(report->tasks[0].task.allocated_bytes, 64 + 4 + 32);
	ck_assert_uint_eq(report->tasks[0].task.id, 4 + 1);
	char *text = text_of(report);
	ck_assert_ptr_nonnull(strstr(text, "TASKS    20,001 tasks"));
	ck_assert_ptr_nonnull(strstr(text, "... and 19,991 more tasks"));
	ck_assert_ptr_nonnull(strstr(text, "TASK LEAKS (blocks still live at the end, by task and "
	                                   "place): 20 tasks"));
	ck_assert_ptr_nonnull(strstr(text, "... and 10 more tasks with leaks"));
	free(text);
	report_destroy(report);

	/* Plugins get every task, streamed, with the same sums. */
	struct memscope_capture *capture;
	ck_assert_int_eq(capture_view_open(run.output, &capture, NULL), 0);
	const memscope_host *host = plugin_host();
	struct many_sums sums = {0};
	ck_assert_int_eq(memscope_host_for_each_task(host, capture, sum_many, &sums), 0);
	ck_assert_uint_eq(sums.tasks, 20001);
	ck_assert_uint_eq(sums.allocations, 40000);
	ck_assert_uint_eq(sums.allocated_bytes, bytes);
	ck_assert_uint_eq(sums.frees, 40000 - 20);
	ck_assert_uint_eq(sums.leaked_blocks, 20);
	ck_assert_uint_eq(sums.leaked_bytes, 20 * 64);
	capture_view_close(capture);
	run_finish(&run);
}
END_TEST

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: %s MEMSCOPE LEAKY PROGRAMS_DIR ANALYZERS_DIR\n", argv[0]);
		return 2;
	}
	/* The runs happen in a scratch directory: make the paths absolute. */
	memscope = realpath(argv[1], NULL);
	leaky = realpath(argv[2], NULL);
	programs = realpath(argv[3], NULL);
	analyzers = argv[4];
	if (memscope == NULL || leaky == NULL || programs == NULL) {
		fprintf(stderr, "test_e2e: %s, %s or %s is missing\n", argv[1], argv[2], argv[3]);
		return 1;
	}
	snprintf(work, sizeof work, "/tmp/memscope-e2e-XXXXXX");
	if (mkdtemp(work) == NULL) {
		perror("mkdtemp");
		return 1;
	}

	Suite *suite = suite_create("e2e");
	TCase *tcase = tcase_create("run");
	tcase_set_timeout(tcase, 240);
	tcase_add_test(tcase, leaks_are_found_by_function_with_exact_numbers);
	tcase_add_test(tcase, counts_and_peak_are_exact);
	tcase_add_test(tcase, cross_thread_frees_keep_their_order);
	tcase_add_test(tcase, a_crash_keeps_the_capture_and_the_signal);
	tcase_add_test(tcase, every_death_keeps_every_event);
	tcase_add_test(tcase, a_kill_from_outside_keeps_what_was_reported);
	tcase_add_test(tcase, forks_never_touch_the_parent_capture);
	tcase_add_test(tcase, follow_fork_traces_a_child_that_does_not_exec);
	tcase_add_test(tcase, the_process_ends_with_its_last_thread);
	tcase_add_test(tcase, failing_calls_fail_as_without_memscope);
	tcase_add_test(tcase, descriptors_are_the_programs);
	tcase_add_test(tcase, an_unloaded_librarys_frames_keep_their_names);
	tcase_add_test(tcase, an_address_space_limit_leaves_the_program_its_memory);
	tcase_add_test(tcase, exit_and_exec_finish_the_capture);
	tcase_add_test(tcase, exec_is_followed_into_the_new_image);
	tcase_add_test(tcase, cxx_new_and_delete_are_seen);
	tcase_add_test(tcase, every_entry_point_is_seen);
	tcase_add_test(tcase, fragmentation_waste_is_exact);
	tcase_add_test(tcase, a_peak_and_temporaries_inside_one_tick_are_exact);
	tcase_add_test(tcase, plugins_see_every_event);
	tcase_add_test(tcase, allocation_calls_agree_with_valgrind);
	tcase_add_test(tcase, sampled_estimates_land_on_the_known_totals);
	tcase_add_test(tcase, interval_one_equals_the_exact_backend);
	tcase_add_test(tcase, the_sampler_adds_no_thread_before_the_program_does);
	tcase_add_test(tcase, the_libc_preload_loads_no_jemalloc);
	tcase_add_test(tcase, ucontext_coroutines_are_tasks_without_annotations);
	tcase_add_test(tcase, annotated_tasks_nest_hop_threads_and_free_across);
	tcase_add_test(tcase, plugins_see_the_tasks);
	tcase_add_test(tcase, annotations_win_inside_coroutines);
	tcase_add_test(tcase, coroutines_keep_their_task_across_threads);
	tcase_add_test(tcase, many_short_tasks_hold_only_the_live_ones);
	tcase_add_test(tcase, short_threads_keep_their_names);
	tcase_add_test(tcase, hybrid_large_blocks_are_exact);
	tcase_add_test(tcase, hybrid_threshold_has_no_bias);
	tcase_add_test(tcase, hybrid_keeps_to_its_event_budget);
	tcase_add_test(tcase, hybrid_keeps_to_its_event_budget_across_threads);
	suite_add_tcase(suite, tcase);
	SRunner *runner = srunner_create(suite);
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);

	char command[128];
	snprintf(command, sizeof command, "rm -rf %s", work);
	if (failed == 0 && system(command) != 0)
		fprintf(stderr, "could not remove %s\n", work);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
