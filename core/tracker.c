/* tracker.c - the public tracker API (memscope.h): ties a capture source,
 * a backend and an event store together, and runs the writer thread that
 * drains the event store, samples the timeline and follows the module map.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/single_threaded.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <jemalloc/jemalloc.h>

#include "memscope/memscope.h"
#include "memscope_config.h"

#include "backend.h"
#include "capture_interpose.h"
#include "capture_source.h"
#include "event_store.h"
#include "guard.h"
#include "modules.h"
#include "own_arena.h"
#include "own_fd.h"
#include "sampler.h"
#include "sampling.h"
#include "timeline.h"
#include "tracker_internal.h"

#define WRITER_IDLE_NS 1000000u         /* sleep after an empty drain */
#define WRITER_PAUSE_NS 200000u         /* ... and after a small one */
#define WRITER_BATCH 2048               /* events that make a drain big */
#define FLUSH_INTERVAL_NS 100000000u    /* a crash loses at most this much */
#define MODULE_CHECK_INTERVAL_NS 20000000u
#define TRACKING_INTERVAL_NS 1000000000u /* the tracking figures, in a crash's capture too */
#define INLINE_PERIOD_NS 10000000u      /* without a writer thread, a pass at most this often */

enum tracker_state {
	TRACKER_CREATED,
	TRACKER_RUNNING,
	TRACKER_STOPPED,
};

struct memscope_tracker {
	memscope_config config;
	char *output_path;
	char *program_name;
	enum tracker_state state;
	bool forked_away;             /* we are a fork's child: the capture is the parent's */
	bool quiet;                   /* warnings are the CLI's to print */
	bool signals_installed;       /* its fatal-signal handlers are in place */

	const struct capture_source_ops *source;
	struct backend *backend;
	struct event_store *store;
	struct module_map *modules;
	struct timeline timeline;
	int fd;
	bool shared;                  /* rings in a ring window: memscope writes the capture */

	pthread_t writer;
	bool writer_running;
	atomic_bool writer_stop;
	atomic_bool writer_exited;    /* its last pass is over (a fatal signal waits for it) */
	/* No writer thread: the program's threads run the writer's pass when
	 * they record a sample (see start_writing). */
	bool writer_inline;
	/* When the writer's pass next does each of its chores (ns of the
	 * capture's clock); the pass is run by one thread at a time. */
	uint64_t next_sample, next_flush, next_module_check, next_tracking;

	memscope_stats final_stats;   /* frozen at stop */
};

/* The running tracker, for the fork handler. */
static memscope_tracker *running;
static pthread_once_t fork_handler_once = PTHREAD_ONCE_INIT;

MEMSCOPE_EXPORT void memscope_config_init(memscope_config *config)
{
	*config = (memscope_config){
		.version = MEMSCOPE_CONFIG_VERSION,
		.backend = MEMSCOPE_BACKEND_EXACT,
		.stack_depth = 64,
		.timeline_interval_ms = 10,
		.sample_interval = SAMPLING_DEFAULT_INTERVAL,
	};
}

/* ---- the writer thread -------------------------------------------------- */

static void emit_module(void *context, struct capture_record *record)
{
	event_store_add_record(context, record);
}

/* The module map is looked at by the writer's pass and by a program
 * thread about to dlclose (tracker_before_dlclose), one at a time. */
static pthread_mutex_t modules_lock = PTHREAD_MUTEX_INITIALIZER;

static void update_modules(memscope_tracker *tracker, uint64_t now)
{
	pthread_mutex_lock(&modules_lock);
	module_map_update(tracker->modules, now, emit_module, tracker->store);
	pthread_mutex_unlock(&modules_lock);
}

/* Whether the program's blocks come from the C library, not jemalloc. */
static bool program_on_libc(const memscope_tracker *tracker)
{
	return tracker->source == &capture_source_interpose && interpose_on_libc();
}

static void sample_timeline(memscope_tracker *tracker)
{
	struct capture_record record = {.type = CAPTURE_RECORD_SAMPLE};
	record.u.sample.time_ns = event_store_now(tracker->store);
	timeline_sample(&tracker->timeline, &record.u.sample, !program_on_libc(tracker));
	event_store_add_record(tracker->store, &record);
}

static struct capture_record tracking_record(memscope_tracker *tracker)
{
	struct backend_stats stats = {0};
	backend_stats(tracker->backend, &stats);
	return (struct capture_record){
		.type = CAPTURE_RECORD_TRACKING,
		.u.tracking = {
			.time_ns = event_store_now(tracker->store),
			.attempts = stats.attempts,
			.successes = stats.successes,
			.misses = stats.misses,
			.waits = stats.waits,
			.growths = stats.growths,
			.task_changes = stats.task_changes,
		},
	};
}

static void write_tracking(memscope_tracker *tracker)
{
	struct capture_record record = tracking_record(tracker);
	event_store_add_record(tracker->store, &record);
}

/* One pass of the writer: takes in what the rings hold, and does whichever
 * of its chores are due.  Returns how many events it took in. */
static uint64_t writer_pass(memscope_tracker *tracker)
{
	uint64_t consumed = event_store_drain(tracker->store);
	uint64_t now = event_store_now(tracker->store);
	if (tracker->config.timeline_interval_ms != 0 && now >= tracker->next_sample) {
		sample_timeline(tracker);
		tracker->next_sample = now + (uint64_t)tracker->config.timeline_interval_ms * 1000000u;
	}
	if (now >= tracker->next_module_check) {
		update_modules(tracker, now);
		tracker->next_module_check = now + MODULE_CHECK_INTERVAL_NS;
	}
	if (now >= tracker->next_tracking) {
		write_tracking(tracker);
		tracker->next_tracking = now + TRACKING_INTERVAL_NS;
	}
	if (now >= tracker->next_flush) {
		event_store_flush(tracker->store);
		event_store_reap(tracker->store);
		tracker->next_flush = now + FLUSH_INTERVAL_NS;
	}
	backend_pace(tracker->backend, now);
	return consumed;
}

#define THREADS_CHECK_INTERVAL_NS 100000000u

/* Whether the program's threads have all ended and only memscope's
 * writer keeps the process: the main thread left through pthread_exit
 * (its task a zombie) and no other is left.  Without memscope the last
 * thread's end would have been exit(0).  Every 100 ms the main thread's
 * state is read through the timeline's descriptor, kept open; the
 * threads are listed only once it is a zombie. */
static bool program_threads_ended(memscope_tracker *tracker)
{
	if (timeline_main_thread_state(&tracker->timeline) != 'Z')
		return false;
	long self = (long)syscall(SYS_gettid);
	DIR *tasks = opendir("/proc/self/task");
	if (tasks == NULL)
		return false;
	bool ended = true;
	struct dirent *entry;
	while (ended && (entry = readdir(tasks)) != NULL) {
		long tid = strtol(entry->d_name, NULL, 10);
		if (tid <= 0 || tid == self || tid == (long)getpid())
			continue;
		char state = timeline_task_state(tid);
		ended = state == 'Z' || state == 'X' || state == 0;
	}
	closedir(tasks);
	return ended;
}

static void *writer_main(void *argument)
{
	memscope_tracker *tracker = argument;

	guard_raise();
	/* What this thread allocates is memscope's: keep it out of the
	 * program's jemalloc figures. */
	own_arena_enter();
	prctl(PR_SET_NAME, "memscope-writer");
	uint64_t next_threads_check = 0;
	while (!atomic_load(&tracker->writer_stop)) {
		uint64_t consumed = writer_pass(tracker);
		uint64_t now = event_store_now(tracker->store);
		if (now >= next_threads_check) {
			next_threads_check = now + THREADS_CHECK_INTERVAL_NS;
			if (program_threads_ended(tracker)) {
				/* What the program's last thread would have done: its
				 * atexit handlers and destructors (memscope's, which
				 * finish the capture, among them) run here. */
				guard_lower();
				exit(0);
			}
		}
		if (consumed < WRITER_BATCH) {
			/* Let entries pile up: reading right behind a producer pulls
			 * every line it is writing over to this core and back. */
			struct timespec idle = {0, consumed == 0 ? WRITER_IDLE_NS : WRITER_PAUSE_NS};
			nanosleep(&idle, NULL);
		}
	}
	atomic_store(&tracker->writer_exited, true);
	guard_lower();
	return NULL;
}

/* The writer's pass, run by a program thread that has just sampled (from
 * inside its malloc or free, under the guard).  What memscope allocates
 * meanwhile is not the program's: the malloc fast path takes it off the
 * thread's countdown all the same (capture_interpose.h), so the countdown
 * is put back as it was. */
static void inline_pass(void *context)
{
	int saved_errno = errno;
	struct memscope_thread *self = &memscope_thread;
	uint64_t countdown = self->countdown;
	uint64_t countdown_held = self->countdown_held;
	uint32_t program_arena = own_arena_enter();
	writer_pass(context);
	own_arena_leave(program_arena);
	self->countdown = countdown;
	self->countdown_held = countdown_held;
	errno = saved_errno;
}

static int start_writer(memscope_tracker *tracker)
{
	/* The program's signals must never land on memscope's thread. */
	sigset_t all, previous;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &previous);
	atomic_store(&tracker->writer_stop, false);
	atomic_store(&tracker->writer_exited, false);
	int error = pthread_create(&tracker->writer, NULL, writer_main, tracker);
	pthread_sigmask(SIG_SETMASK, &previous, NULL);
	if (error != 0)
		return -error;
	tracker->writer_running = true;
	return 0;
}

static void stop_writer(memscope_tracker *tracker)
{
	if (!tracker->writer_running)
		return;
	atomic_store(&tracker->writer_stop, true);
	pthread_join(tracker->writer, NULL);
	tracker->writer_running = false;
}

/* Hands the writer's pass to the program's threads (on), or takes it back
 * (off: waits for a pass under way). */
static void write_inline(memscope_tracker *tracker, bool on)
{
	tracker->writer_inline = on;
	event_store_set_inline_pass(tracker->store, on ? inline_pass : NULL, tracker,
	                            INLINE_PERIOD_NS);
}

/* A program with one thread runs faster than one with two: glibc's malloc
 * takes no lock and makes no atomic update while the process has a single
 * thread, and never again after a second one has started (a thread that
 * did nothing at all cost a malloc/free loop 3.4% and python3 1.8% here,
 * medians of 15 and 21 paired runs).  The sampling backends (lockfree,
 * and hybrid, whose blocks above its threshold are at most one per 4.6
 * intervals allocated) record too few events to need a thread of their
 * own, so while the program has one thread, the program runs the writer's
 * pass itself when it records an event and a pass is due (every
 * INLINE_PERIOD_NS at most, or when its ring is half full): the calls not
 * recorded, nearly all of them, still take no lock and make no syscall.
 * The program's first thread of its own brings the writer thread in
 * (tracker_program_threads). */
static int start_writing(memscope_tracker *tracker)
{
	/* The first sample was taken as the tracker started: its files are
	 * opened there, before the program runs on (own_fd.h). */
	tracker->next_sample = (uint64_t)tracker->config.timeline_interval_ms * 1000000u;
	tracker->next_module_check = 0;
	tracker->next_flush = FLUSH_INTERVAL_NS;
	tracker->next_tracking = TRACKING_INTERVAL_NS;
	bool sampling = tracker->config.backend == MEMSCOPE_BACKEND_LOCKFREE ||
	                tracker->config.backend == MEMSCOPE_BACKEND_HYBRID;
	if (sampling && __libc_single_threaded) {
		write_inline(tracker, true);
		return 0;
	}
	return start_writer(tracker);
}

static void stop_writing(memscope_tracker *tracker)
{
	if (tracker->writer_inline)
		write_inline(tracker, false);
	stop_writer(tracker);
}

void tracker_before_dlclose(void)
{
	memscope_tracker *tracker = running;
	if (tracker == NULL || tracker->forked_away)
		return;
	guard_raise();
	uint32_t program_arena = own_arena_enter();
	update_modules(tracker, event_store_now(tracker->store));
	own_arena_leave(program_arena);
	guard_lower();
}

void tracker_program_threads(void)
{
	memscope_tracker *tracker = running;
	if (tracker == NULL || !tracker->writer_inline)
		return;
	guard_raise();
	/* From here on the pass is the thread's alone. */
	write_inline(tracker, false);
	if (start_writer(tracker) < 0)
		write_inline(tracker, true);
	guard_lower();
}

/* ---- fork --------------------------------------------------------------- */

/* In a fork's child only the forking thread survives: there is no writer
 * thread, and the capture file is the parent's.  The child is left alone
 * (a child that execs is traced anew by the preload library, if asked). */
static void after_fork_in_child(void)
{
	if (running == NULL)
		return;
	running->source->disable();
	running->forked_away = true;
	running->writer_running = false;
	running = NULL;
	event_store_forget_rings_after_fork();
}

void tracker_release_after_fork(memscope_tracker *tracker)
{
	if (tracker == NULL || !tracker->forked_away)
		return;
	backend_destroy(tracker->backend);
	tracker->backend = NULL;
}

static void install_fork_handler(void)
{
	pthread_atfork(NULL, NULL, after_fork_in_child);
}

/* ---- fatal signals ------------------------------------------------------ */

/* A program that dies of a signal runs no destructor: without a handler,
 * the events of the last flush interval and those still in the rings are
 * lost.  The handler of a tracker that writes its own capture (not under
 * `memscope`, which keeps the rings in memory it shares and finishes the
 * capture itself) takes them in, records how the program died, ends the
 * file, and lets the signal go on to kill the process as it would have.
 * None of this is async-signal-safe by the book: the process is going
 * away, and every lock it takes is waited for a bounded time. */
static const int fatal_signals[] = {
	SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE,
};
#define FATAL_SIGNAL_COUNT (sizeof fatal_signals / sizeof fatal_signals[0])
#define DEATH_WAIT_NS 1000000000ull    /* for the writer's pass, or the store's lock */

static struct sigaction previous_actions[FATAL_SIGNAL_COUNT];
static atomic_int dying;               /* a thread is finishing the capture */

/* Waits up to DEATH_WAIT_NS for the writer thread's pass to end. */
static bool writer_gone(memscope_tracker *tracker)
{
	if (!tracker->writer_running)
		return true;
	atomic_store(&tracker->writer_stop, true);
	uint64_t deadline = event_store_now(tracker->store) + DEATH_WAIT_NS;
	while (!atomic_load(&tracker->writer_exited)) {
		if (event_store_now(tracker->store) > deadline)
			return false;
		struct timespec pause = {0, 200000};
		nanosleep(&pause, NULL);
	}
	return true;
}

/* The libraries loaded since the last look, so their frames symbolize,
 * and the tracking figures. */
static void last_records(void *context)
{
	memscope_tracker *tracker = context;
	/* Not if the signal came in the middle of an update. */
	if (pthread_mutex_trylock(&modules_lock) == 0) {
		module_map_update(tracker->modules, event_store_now(tracker->store), emit_module,
		                  tracker->store);
		pthread_mutex_unlock(&modules_lock);
	}
	write_tracking(tracker);
}

/* Everything recorded, how the program died, and the end block. */
static void finish_at_death(memscope_tracker *tracker, int signal)
{
	guard_raise();
	own_arena_enter();
	tracker->source->disable();
	/* A pass of the writer thread's, or of the program's own thread
	 * (inline), is waited for a bounded time. */
	if (!writer_gone(tracker))
		return;
	char death[96];
	event_store_signal_death(signal, death, sizeof death);
	if (event_store_end_at_death(tracker->store, death, DEATH_WAIT_NS, last_records,
	                             tracker) < 0)
		return;
	tracker->state = TRACKER_STOPPED;
}

static void on_fatal_signal(int signal, siginfo_t *info, void *context)
{
	int saved_errno = errno;
	size_t index = 0;
	while (index < FATAL_SIGNAL_COUNT && fatal_signals[index] != signal)
		index++;
	const struct sigaction *previous = &previous_actions[index];
	if ((previous->sa_flags & SA_SIGINFO) && previous->sa_sigaction != NULL) {
		/* The program's own handler, installed before ours, decides. */
		previous->sa_sigaction(signal, info, context);
		errno = saved_errno;
		return;
	}
	if (!(previous->sa_flags & SA_SIGINFO) && previous->sa_handler != SIG_DFL &&
	    previous->sa_handler != SIG_IGN) {
		previous->sa_handler(signal);
		errno = saved_errno;
		return;
	}
	/* The signal kills the process.  One thread finishes the capture; a
	 * second one dying meanwhile waits for it. */
	memscope_tracker *tracker = running;
	if (atomic_exchange(&dying, 1) == 0) {
		if (tracker != NULL && tracker->state == TRACKER_RUNNING && !tracker->forked_away)
			finish_at_death(tracker, signal);
	} else {
		struct timespec wait = {2, 0};
		nanosleep(&wait, NULL);
	}
	/* As if memscope had never been there: the default action, on the
	 * signal pending now (blocked in this handler) or on the fault that
	 * recurs when the instruction runs again. */
	struct sigaction fallback = {.sa_handler = SIG_DFL};
	sigemptyset(&fallback.sa_mask);
	sigaction(signal, &fallback, NULL);
	if (info == NULL || info->si_code <= 0 ||
	    (signal != SIGSEGV && signal != SIGBUS && signal != SIGFPE && signal != SIGILL))
		raise(signal);
	errno = saved_errno;
}

static void install_signal_handlers(memscope_tracker *tracker)
{
	if (tracker->shared || tracker->output_path == NULL ||
	    (tracker->config.flags & MEMSCOPE_CONFIG_KEEP_SIGNALS))
		return;
	atomic_store(&dying, 0);
	struct sigaction ours = {.sa_sigaction = on_fatal_signal, .sa_flags = SA_SIGINFO | SA_ONSTACK};
	sigemptyset(&ours.sa_mask);
	for (size_t i = 0; i < FATAL_SIGNAL_COUNT; i++) {
		if (sigaction(fatal_signals[i], NULL, &previous_actions[i]) < 0)
			continue;
		/* What the program ignores, it keeps ignoring. */
		if (!(previous_actions[i].sa_flags & SA_SIGINFO) &&
		    previous_actions[i].sa_handler == SIG_IGN)
			continue;
		sigaction(fatal_signals[i], &ours, NULL);
	}
	tracker->signals_installed = true;
}

/* Puts back what the program had, where memscope's handler is still the
 * one in place (a handler the program installed since stays). */
static void remove_signal_handlers(memscope_tracker *tracker)
{
	if (!tracker->signals_installed)
		return;
	for (size_t i = 0; i < FATAL_SIGNAL_COUNT; i++) {
		struct sigaction current;
		if (sigaction(fatal_signals[i], NULL, &current) == 0 &&
		    (current.sa_flags & SA_SIGINFO) && current.sa_sigaction == on_fatal_signal)
			sigaction(fatal_signals[i], &previous_actions[i], NULL);
	}
	tracker->signals_installed = false;
}

/* ---- lifecycle ---------------------------------------------------------- */

static char *process_name(void)
{
	char path[PATH_MAX];
	ssize_t length = readlink("/proc/self/exe", path, sizeof path - 1);
	if (length <= 0)
		return strdup("?");
	path[length] = '\0';
	return strdup(path);
}

static void add_info(memscope_tracker *tracker, const char *key, const char *value)
{
	struct capture_record record = {
		.type = CAPTURE_RECORD_INFO,
		.u.info = {.key = key, .value = value},
	};
	event_store_add_record(tracker->store, &record);
}

static void add_command_line(memscope_tracker *tracker)
{
	char buffer[4096];
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t length = read(fd, buffer, sizeof buffer - 1);
	close(fd);
	if (length <= 0)
		return;
	for (ssize_t i = 0; i < length - 1; i++)
		if (buffer[i] == '\0')
			buffer[i] = ' ';
	buffer[length] = '\0';
	add_info(tracker, "command_line", buffer);
}

static void add_run_info(memscope_tracker *tracker)
{
	char text[64];
	add_info(tracker, "program", tracker->program_name);
	add_command_line(tracker);
	snprintf(text, sizeof text, "%ld", (long)getpid());
	add_info(tracker, "pid", text);
	add_info(tracker, "backend", memscope_backend_name(tracker->config.backend));
	add_info(tracker, "capture_source", tracker->source->name);
	add_info(tracker, "allocator", program_on_libc(tracker) ? "libc" : "jemalloc");
	snprintf(text, sizeof text, "%u", tracker->config.stack_depth);
	add_info(tracker, "stack_depth", text);
	snprintf(text, sizeof text, "%u", tracker->config.timeline_interval_ms);
	add_info(tracker, "timeline_interval_ms", text);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(text, sizeof text, "%lld", (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
	add_info(tracker, "start_unix_ns", text);
	add_info(tracker, "memscope_version", MEMSCOPE_VERSION);
	const char *jemalloc_version = NULL;
	size_t size = sizeof jemalloc_version;
	if (mallctl("version", &jemalloc_version, &size, NULL, 0) == 0 && jemalloc_version != NULL)
		add_info(tracker, "jemalloc_version", jemalloc_version);
}

/* By default the cheaper interposing source wherever the preload library
 * put it in front of malloc; the hooks otherwise. */
static const struct capture_source_ops *capture_source_of(memscope_capture_kind kind)
{
	switch (kind) {
	case MEMSCOPE_CAPTURE_HOOKS:
		return &capture_source_jemalloc_hooks;
	case MEMSCOPE_CAPTURE_INTERPOSE:
		return &capture_source_interpose;
	default:
		return interpose_available() ? &capture_source_interpose
		                             : &capture_source_jemalloc_hooks;
	}
}

/* Early allocations of libraries only memscope brought in (jemalloc pulls
 * in libstdc++, whose constructor allocates) are not the program's: they
 * are left out, and so are their frees (the store drops frees of blocks it
 * never saw). */
static void record_early_event(void *context, const struct heap_event *event,
                               const uint64_t *ips, int depth)
{
	memscope_tracker *tracker = context;
	if (event->type != HEAP_EVENT_FREE && depth > 0 && !module_in_program_closure(ips[0]))
		return;
	if (backend_on_early(tracker->backend, event, ips, depth) == -ENOTSUP)
		event_store_record(tracker->store, event, ips, depth);
}

/* What libraries allocated before the tracker started, in their order. */
static void take_early_events(memscope_tracker *tracker)
{
	uint64_t lost = interpose_take_early(record_early_event, tracker);
	if (lost > 0) {
		char text[32];
		snprintf(text, sizeof text, "%llu", (unsigned long long)lost);
		add_info(tracker, "early_events_lost", text);
	}
}

/* The caller's config, whichever version: the fields a version 1 caller
 * does not have get their defaults. */
static int copy_config(const memscope_config *config, memscope_config *out)
{
	if (config == NULL)
		return -EINVAL;
	memscope_config_init(out);
	if (config->version == 1)
		memcpy(out, config, offsetof(memscope_config, sample_interval));
	else if (config->version == 2)
		memcpy(out, config, offsetof(memscope_config, exact_above));
	else if (config->version == 3)
		memcpy(out, config, offsetof(memscope_config, flags));
	else if (config->version == MEMSCOPE_CONFIG_VERSION)
		*out = *config;
	else
		return -EINVAL;
	out->version = MEMSCOPE_CONFIG_VERSION;
	return 0;
}

static int validate(const memscope_config *config)
{
	if (config == NULL || config->version != MEMSCOPE_CONFIG_VERSION)
		return -EINVAL;
	if (config->stack_depth < 1 || config->stack_depth > MEMSCOPE_MAX_STACK_DEPTH)
		return -EINVAL;
	if (memscope_backend_name(config->backend) == NULL)
		return -EINVAL;
	if ((unsigned)config->capture > MEMSCOPE_CAPTURE_INTERPOSE)
		return -EINVAL;
	if ((config->flags & ~MEMSCOPE_CONFIG_KEEP_SIGNALS) != 0)
		return -EINVAL;
	return 0;
}

/* The ring window the next tracker created keeps its rings in
 * (tracker_share_window). */
static struct ring_window *shared_window;

void tracker_share_window(struct ring_window *window)
{
	shared_window = window;
}

/* Whether tracker->fd still leads to the capture's file (an anonymous
 * one cannot be told, and is taken as it is): never close a number the
 * program has taken since. */
static bool owns_output(const memscope_tracker *tracker)
{
	struct stat ours, named;
	if (tracker->output_path == NULL)
		return true;
	return fstat(tracker->fd, &ours) == 0 && stat(tracker->output_path, &named) == 0 &&
	       ours.st_dev == named.st_dev && ours.st_ino == named.st_ino;
}

/* The capture's file again, after the program took its descriptor's
 * number (capture_writer_watch): appended to, out of the program's way. */
static int reopen_output(void *context)
{
	memscope_tracker *tracker = context;
	int fd = own_fd_move(open(tracker->output_path, O_RDWR | O_APPEND | O_CLOEXEC));
	if (fd < 0)
		return -errno;
	tracker->fd = fd;
	return fd;
}

static int open_output(memscope_tracker *tracker)
{
	if (tracker->output_path == NULL) {
		/* In memory until write_capture: an anonymous file keeps one
		 * writing path for both cases. */
		tracker->fd = memfd_create("memscope-capture", MFD_CLOEXEC);
	} else {
		tracker->fd = open(tracker->output_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	}
	tracker->fd = own_fd_move(tracker->fd);
	return tracker->fd < 0 ? -errno : 0;
}

MEMSCOPE_EXPORT int memscope_tracker_create(const memscope_config *caller_config,
                                            memscope_tracker **out)
{
	const char *message = NULL;
	memscope_config copy;
	const memscope_config *config = &copy;
	int error = copy_config(caller_config, &copy);
	if (error == 0)
		error = validate(config);
	if (error < 0)
		return error;

	guard_raise();
	uint32_t program_arena = own_arena_enter();
	memscope_tracker *tracker = calloc(1, sizeof *tracker);
	error = -ENOMEM;
	if (tracker == NULL)
		goto out;
	tracker->fd = -1;
	timeline_init(&tracker->timeline);
	tracker->config = *config;
	tracker->source = capture_source_of(config->capture);
	tracker->program_name = config->program_name ? strdup(config->program_name) : process_name();
	tracker->output_path = config->output_path ? strdup(config->output_path) : NULL;
	if (tracker->program_name == NULL || (config->output_path && tracker->output_path == NULL))
		goto fail;
	tracker->config.output_path = tracker->output_path;
	tracker->config.program_name = tracker->program_name;

	error = backend_create(config->backend, &tracker->backend, &message);
	if (error < 0)
		goto fail;
	error = module_map_create(&tracker->modules);
	if (error < 0)
		goto fail;
	if (shared_window != NULL) {
		/* memscope writes the capture from the window's rings. */
		error = event_store_create_shared(shared_window, &tracker->store);
		shared_window = NULL;
		tracker->shared = true;
	} else {
		error = open_output(tracker);
		if (error == 0)
			error = event_store_create(tracker->fd, &tracker->store);
		/* A file by name can be found again; an anonymous one cannot. */
		if (error == 0 && tracker->output_path != NULL)
			event_store_watch_file(tracker->store, reopen_output, tracker);
	}
	if (error < 0)
		goto fail;
	error = tracker->backend->ops->open(tracker->backend, &tracker->config, tracker->store);
	if (error < 0) {
		message = "cannot find memscope's own code to unwind through";
		goto fail;
	}
	*out = tracker;
	error = 0;
	goto out;
fail:
	if (message != NULL)
		fprintf(stderr, "memscope: %s\n", message);
	memscope_tracker_destroy(tracker);
out:
	own_arena_leave(program_arena);
	guard_lower();
	return error;
}

MEMSCOPE_EXPORT int memscope_tracker_start(memscope_tracker *tracker)
{
	const char *message = NULL;
	if (tracker == NULL)
		return -EINVAL;
	if (tracker->state != TRACKER_CREATED)
		return -EALREADY;
	if (running != NULL)
		return -EBUSY;

	guard_raise();
	pthread_once(&fork_handler_once, install_fork_handler);
	int error = tracker->source->install(tracker->backend, &message);
	if (error < 0) {
		fprintf(stderr, "memscope: cannot track this process: %s\n", message);
		goto out;
	}
	event_store_open(tracker->store);
	add_run_info(tracker);
	if (tracker->source == &capture_source_interpose)
		take_early_events(tracker);
	update_modules(tracker, 0);
	/* Its files open here, before the program runs on (own_fd.h): the
	 * writer reads the main thread's state through one of them. */
	timeline_open(&tracker->timeline);
	if (tracker->config.timeline_interval_ms != 0)
		sample_timeline(tracker);
	error = start_writing(tracker);
	if (error < 0) {
		tracker->source->uninstall();
		goto out;
	}
	running = tracker;
	tracker->state = TRACKER_RUNNING;
	install_signal_handlers(tracker);
	tracker->source->enable();
out:
	guard_lower();
	return error;
}

static void fill_stats(memscope_tracker *tracker, memscope_stats *stats)
{
	struct store_totals totals;
	event_store_totals(tracker->store, &totals);
	stats->total_allocations = totals.allocations;
	stats->total_frees = totals.frees;
	stats->active_allocations = totals.live_blocks;
	stats->total_bytes = totals.allocated_bytes;
	stats->active_bytes = totals.live_bytes;
	stats->active_usable_bytes = totals.live_usable_bytes;
	stats->peak_bytes = totals.peak_bytes;
	stats->peak_time_ns = totals.peak_time_ns;
	stats->leaked_allocations = 0;
	stats->leaked_bytes = 0;
}

static struct capture_record trailer_record(memscope_tracker *tracker)
{
	return event_store_trailer(tracker->store, event_store_now(tracker->store), 0);
}

/* The tracking figures, then the totals: both in the capture's last block,
 * where a reader finds them without reading the events. */
static void write_trailer(memscope_tracker *tracker)
{
	write_tracking(tracker);
	if (tracker->shared) {
		/* A store in a ring window: memscope writes the trailer. */
		event_store_finish(tracker->store);
		return;
	}
	struct capture_record record = trailer_record(tracker);
	event_store_add_record(tracker->store, &record);
}

/* The tracking figures of the events consumed so far, and their rates. */
static void fill_tracking_stats(memscope_tracker *tracker, memscope_tracking_stats *stats)
{
	struct backend_stats counts = {0};
	backend_stats(tracker->backend, &counts);
	struct store_totals totals;
	event_store_totals(tracker->store, &totals);
	*stats = (memscope_tracking_stats){
		.version = MEMSCOPE_TRACKING_STATS_VERSION,
		.attempts = counts.attempts,
		.successes = counts.successes,
		.misses = counts.misses,
		.waits = counts.waits,
		.buffer_growths = counts.growths,
		.completeness = 1.0,
		.sample_interval = totals.sample_interval,
	};
	if (counts.attempts != 0) {
		stats->completeness = (double)counts.successes / (double)counts.attempts;
		stats->drop_rate = (double)counts.misses / (double)counts.attempts;
		/* Task entries wait for room as events do. */
		stats->contention_rate =
		    (double)counts.waits / (double)(counts.attempts + counts.task_changes);
	}
}

/* A capture that misses more than it may is said so once, at the end. */
static void warn_if_incomplete(memscope_tracker *tracker)
{
	if (tracker->quiet)
		return;
	memscope_tracking_stats stats;
	fill_tracking_stats(tracker, &stats);
	if (stats.completeness >= MEMSCOPE_COMPLETENESS_WARNING)
		return;
	fprintf(stderr,
	        "memscope: warning: only %.1f%% of the heap events were recorded (%llu of %llu; "
	        "%llu dropped or lost): totals are low, and blocks whose "
	        "free was dropped show as leaks; a larger sampling interval records fewer events\n",
	        100 * stats.completeness, (unsigned long long)stats.successes,
	        (unsigned long long)stats.attempts, (unsigned long long)stats.misses);
}

void tracker_keep_quiet(memscope_tracker *tracker)
{
	tracker->quiet = true;
}

MEMSCOPE_EXPORT int memscope_tracker_stop(memscope_tracker *tracker)
{
	if (tracker == NULL)
		return -EINVAL;
	if (tracker->state != TRACKER_RUNNING)
		return -EALREADY;
	tracker->state = TRACKER_STOPPED;
	if (tracker->forked_away)
		return 0;

	guard_raise();
	remove_signal_handlers(tracker);
	tracker->source->disable();
	stop_writing(tracker);
	event_store_close(tracker->store);
	/* Threads that ended since the last pass: their root tasks end. */
	event_store_reap(tracker->store);
	tracker->source->uninstall();
	running = NULL;

	uint64_t now = event_store_now(tracker->store);
	update_modules(tracker, now);
	if (tracker->config.timeline_interval_ms != 0)
		sample_timeline(tracker);
	timeline_finish(&tracker->timeline);
	write_trailer(tracker);
	int error = event_store_flush(tracker->store);
	if (error < 0 && tracker->output_path != NULL)
		fprintf(stderr, "memscope: cannot write capture %s: %s; the capture is incomplete\n",
		        tracker->output_path, strerror(-error));

	warn_if_incomplete(tracker);
	tracker->final_stats.version = MEMSCOPE_STATS_VERSION;
	fill_stats(tracker, &tracker->final_stats);
	tracker->final_stats.leaked_allocations = tracker->final_stats.active_allocations;
	tracker->final_stats.leaked_bytes = tracker->final_stats.active_bytes;
	guard_lower();
	return 0;
}

MEMSCOPE_EXPORT void memscope_tracker_destroy(memscope_tracker *tracker)
{
	if (tracker == NULL)
		return;
	guard_raise();
	if (tracker->state == TRACKER_RUNNING)
		memscope_tracker_stop(tracker);
	if (!tracker->forked_away) {
		/* In a fork's child, these belong to the parent's capture. */
		event_store_destroy(tracker->store);
		backend_destroy(tracker->backend);
		if (tracker->fd >= 0 && owns_output(tracker))
			close(tracker->fd);
	}
	timeline_finish(&tracker->timeline);
	module_map_destroy(tracker->modules);
	free(tracker->output_path);
	free(tracker->program_name);
	free(tracker);
	guard_lower();
}

MEMSCOPE_EXPORT memscope_tracker *memscope_tracker_new(memscope_backend_kind backend)
{
	memscope_config config;
	memscope_tracker *tracker = NULL;
	memscope_config_init(&config);
	config.backend = backend;
	int error = memscope_tracker_create(&config, &tracker);
	if (error == 0)
		error = memscope_tracker_start(tracker);
	if (error < 0) {
		fprintf(stderr, "memscope: cannot start a %s tracker: %s\n",
		        memscope_backend_name(backend) ? memscope_backend_name(backend) : "?",
		        strerror(-error));
		memscope_tracker_destroy(tracker);
		return NULL;
	}
	return tracker;
}

MEMSCOPE_EXPORT int memscope_tracker_get_stats(memscope_tracker *tracker, memscope_stats *stats)
{
	if (tracker == NULL || stats == NULL || stats->version != MEMSCOPE_STATS_VERSION)
		return -EINVAL;
	if (tracker->state == TRACKER_STOPPED) {
		*stats = tracker->final_stats;
		return 0;
	}
	if (tracker->state == TRACKER_RUNNING)
		event_store_sync(tracker->store);
	fill_stats(tracker, stats);
	stats->version = MEMSCOPE_STATS_VERSION;
	return 0;
}

MEMSCOPE_EXPORT int memscope_tracker_get_tracking_stats(memscope_tracker *tracker,
                                                        memscope_tracking_stats *stats)
{
	if (tracker == NULL || stats == NULL || stats->version != MEMSCOPE_TRACKING_STATS_VERSION)
		return -EINVAL;
	guard_raise();
	if (tracker->state == TRACKER_RUNNING && !tracker->forked_away)
		event_store_sync(tracker->store);
	fill_tracking_stats(tracker, stats);
	guard_lower();
	return 0;
}

MEMSCOPE_EXPORT int memscope_tracker_tag(memscope_tracker *tracker, const void *address,
                                         const char *name, const char *type_name,
                                         const char *file, int line)
{
	if (tracker == NULL || address == NULL || name == NULL)
		return -EINVAL;
	if (tracker->state != TRACKER_RUNNING)
		return -ENOENT;
	guard_raise();
	int error = event_store_record_tag(tracker->store, (uintptr_t)address, name,
	                                   type_name ? type_name : "", file ? file : "",
	                                   line < 0 ? 0 : (uint32_t)line);
	guard_lower();
	return error == -EAGAIN ? -ENOENT : error;
}

MEMSCOPE_EXPORT int memscope_tracker_tag_next(memscope_tracker *tracker, const char *name,
                                              const char *type_name, const char *file,
                                              int line)
{
	if (tracker == NULL || name == NULL)
		return -EINVAL;
	if (tracker->state != TRACKER_RUNNING)
		return -ENOENT;
	guard_raise();
	int error = event_store_tag_next(tracker->store, name, type_name ? type_name : "",
	                                 file ? file : "", line < 0 ? 0 : (uint32_t)line);
	/* After the copies above: memscope's own blocks are never the next. */
	if (error == 0)
		sampler_pick_next();
	guard_lower();
	return error == -EAGAIN ? -ENOENT : error;
}

int tracker_checkpoint(memscope_tracker *tracker, const char *key, const char *value)
{
	if (tracker == NULL || tracker->state != TRACKER_RUNNING || tracker->forked_away)
		return 0;
	guard_raise();
	event_store_sync(tracker->store);
	add_info(tracker, key, value);
	int error = event_store_flush(tracker->store);
	guard_lower();
	return error;
}

static int copy_file(int from, int to)
{
	char buffer[65536];
	off_t offset = 0;
	for (;;) {
		ssize_t length = pread(from, buffer, sizeof buffer, offset);
		if (length < 0 && errno == EINTR)
			continue;
		if (length < 0)
			return -errno;
		if (length == 0)
			return 0;
		for (ssize_t written = 0; written < length;) {
			ssize_t result = write(to, buffer + written, (size_t)(length - written));
			if (result < 0 && errno == EINTR)
				continue;
			if (result < 0)
				return -errno;
			written += result;
		}
		offset += length;
	}
}

/* Ends a copy of the capture as a finished one: the totals so far (a
 * stopped tracker has written them already) and the end block. */
static int finish_copy(memscope_tracker *tracker, int fd)
{
	struct capture_writer *writer;
	int error = capture_writer_create_continuing(fd, &writer);
	if (error < 0)
		return error;
	if (tracker->state == TRACKER_RUNNING) {
		struct capture_record record = tracking_record(tracker);
		error = capture_writer_add(writer, &record);
		record = trailer_record(tracker);
		if (error == 0)
			error = capture_writer_add(writer, &record);
	}
	int destroy_error = capture_writer_destroy(writer);
	return error < 0 ? error : destroy_error;
}

MEMSCOPE_EXPORT int memscope_tracker_write_capture(memscope_tracker *tracker, const char *path)
{
	if (tracker == NULL || path == NULL || tracker->forked_away)
		return -EINVAL;
	guard_raise();
	if (tracker->state == TRACKER_RUNNING)
		event_store_sync(tracker->store);
	int error = event_store_flush(tracker->store);
	if (error < 0)
		goto out;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		error = -errno;
		goto out;
	}
	error = copy_file(tracker->fd, fd);
	if (error == 0)
		error = finish_copy(tracker, fd);
	if (close(fd) < 0 && error == 0)
		error = -errno;
out:
	guard_lower();
	return error;
}
