/* preload.c - libmemscope_preload.so: traces the program it is preloaded
 * into, as configured by `memscope run` through the environment
 * (preload_env.h).  It starts a tracker before main and stops it when the
 * process exits normally, which writes the capture's trailer.
 *
 * It exports only what it must interpose: _exit and _Exit (a program that
 * leaves through them skips destructors, and its capture must still be
 * finished), the exec functions (an exec replaces the process without a
 * destructor either, and the new image is traced too, unless
 * --no-follow-exec: it gets memscope's variables back in its environment,
 * which the program's children do not; execl, execlp and execle are
 * gathered here, since glibc's call its execve from inside, and fexecve
 * and execveat, which reach the kernel without it, are followed too; a
 * raw execve system call is seen by memscope only once the old image is
 * gone), dlclose (the module map is taken before a library goes), pipe and
 * pipe2 (core/own_fd.c: libunwind's pipe is moved out of the program's
 * way), close, dup2 and dup3 (libunwind gets a new pipe before the
 * program takes one of its numbers), pthread_create
 * (the tracker may wait for the program's first thread before it starts
 * its own), and sigprocmask (libunwind's masking while memscope unwinds,
 * stack_capture.h).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "memscope/memscope.h"
#include "memscope_config.h"

#include "preload_env.h"
#include "capture_interpose.h"
#include "guard.h"
#include "ring_window.h"
#include "stack_capture.h"
#include "tracker_internal.h"

static memscope_tracker *tracker;
/* The process the tracker belongs to.  A vfork child shares our memory
 * (tracker included) but not our pid: its _exit and exec must leave the
 * parent's capture alone. */
static pid_t tracker_pid;

static bool ours(void)
{
	return tracker != NULL && getpid() == tracker_pid;
}

static unsigned long long parse_number(const char *name, unsigned long long fallback,
                                       unsigned long long max)
{
	const char *text = getenv(name);
	if (text == NULL || *text == '\0')
		return fallback;
	char *end;
	errno = 0;
	unsigned long long value = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || value > max) {
		fprintf(stderr, "memscope: ignoring %s=%s (expected a number up to %llu)\n", name, text,
		        max);
		return fallback;
	}
	return value;
}

/* Removes the entries `memscope run` put at the front of LD_PRELOAD (this
 * library and jemalloc) and our variables, so the program's children run
 * as if memscope were not there. */
static void forget_environment(void)
{
	const char *preload = getenv("LD_PRELOAD");
	if (preload != NULL) {
		const char *rest = preload;
		for (int skipped = 0; skipped < 2 && rest != NULL; skipped++) {
			const char *name_end = rest + strcspn(rest, ": ");
			bool ours = memmem(rest, (size_t)(name_end - rest), MEMSCOPE_PRELOAD_NAME,
			                   strlen(MEMSCOPE_PRELOAD_NAME)) != NULL ||
			            memmem(rest, (size_t)(name_end - rest), "libjemalloc", 11) != NULL;
			if (!ours)
				break;
			rest = *name_end != '\0' ? name_end + 1 : NULL;
		}
		if (rest == NULL || *rest == '\0')
			unsetenv("LD_PRELOAD");
		else if (rest != preload) {
			char *kept = strdup(rest);
			if (kept != NULL) {
				setenv("LD_PRELOAD", kept, 1);
				free(kept);
			}
		}
	}
	unsetenv(MEMSCOPE_ENV_OUTPUT);
	unsetenv(MEMSCOPE_ENV_ROOT_PID);
	unsetenv(MEMSCOPE_ENV_FOLLOW_FORK);
	unsetenv(MEMSCOPE_ENV_BACKEND);
	unsetenv(MEMSCOPE_ENV_STACK_DEPTH);
	unsetenv(MEMSCOPE_ENV_TIMELINE_MS);
	unsetenv(MEMSCOPE_ENV_CAPTURE);
	unsetenv(MEMSCOPE_ENV_SAMPLE_INTERVAL);
	unsetenv(MEMSCOPE_ENV_SAMPLE_SEED);
	unsetenv(MEMSCOPE_ENV_EXACT_ABOVE);
	unsetenv(MEMSCOPE_ENV_EVENT_BUDGET);
	unsetenv(MEMSCOPE_ENV_ALLOCATOR);
	unsetenv(RING_WINDOW_ENV);
}

/* A traced child's file, or a new image's: memscope.<program>.<pid>.memscope
 * beside the root's, program named by its path (NULL: this process's). */
static char *child_output_path(const char *root_output, const char *program_path)
{
	char program[PATH_MAX];
	if (program_path == NULL) {
		ssize_t length = readlink("/proc/self/exe", program, sizeof program - 1);
		if (length <= 0)
			return NULL;
		program[length] = '\0';
	} else {
		snprintf(program, sizeof program, "%s", program_path);
	}
	const char *base = strrchr(program, '/') ? strrchr(program, '/') + 1 : program;
	const char *slash = strrchr(root_output, '/');
	int directory_length = slash ? (int)(slash - root_output) : 1;
	const char *directory = slash ? root_output : ".";
	char *path = NULL;
	if (asprintf(&path, "%.*s/memscope.%s.%ld.memscope", directory_length, directory, base,
	             (long)getpid()) < 0)
		return NULL;
	/* A process that execs the same program again keeps its pid: never
	 * overwrite the capture of its earlier image. */
	for (int again = 1; access(path, F_OK) == 0 && again < 1000; again++) {
		free(path);
		if (asprintf(&path, "%.*s/memscope.%s.%ld.%d.memscope", directory_length, directory,
		             base, (long)getpid(), again) < 0)
			return NULL;
	}
	return path;
}

static void start_tracing(void);
static void start_tracker(memscope_config *config, const char *path, const char *drain);
static void trace_fork_child(void);

/* --follow-fork: what a fork's child needs to trace itself. */
static memscope_config fork_config;
static char *fork_output;          /* the root capture's path */
static char *fork_drain;           /* memscope's shared memory, "pid:fd" */

/* What a new image of this process needs to be traced too (follow-exec,
 * the default): memscope's variables and the LD_PRELOAD they came with, as
 * "NAME=value" strings, taken before forget_environment() removes them
 * from the environment the program's children inherit. */
static const char *const kept_names[] = {
	MEMSCOPE_ENV_BACKEND, MEMSCOPE_ENV_STACK_DEPTH, MEMSCOPE_ENV_TIMELINE_MS,
	MEMSCOPE_ENV_CAPTURE, MEMSCOPE_ENV_SAMPLE_INTERVAL, MEMSCOPE_ENV_SAMPLE_SEED,
	MEMSCOPE_ENV_EXACT_ABOVE, MEMSCOPE_ENV_EVENT_BUDGET, MEMSCOPE_ENV_ALLOCATOR,
	RING_WINDOW_ENV, "LD_PRELOAD",
};
#define KEPT_COUNT (sizeof kept_names / sizeof kept_names[0])
static char *kept[KEPT_COUNT];
static char *kept_output;          /* the root capture's path */

static void keep_for_exec(const char *output)
{
	const char *follow = getenv(MEMSCOPE_ENV_FOLLOW_EXEC);
	if (follow != NULL && strcmp(follow, "0") == 0)
		return;
	for (size_t i = 0; i < KEPT_COUNT; i++) {
		const char *value = getenv(kept_names[i]);
		if (value != NULL && asprintf(&kept[i], "%s=%s", kept_names[i], value) < 0)
			kept[i] = NULL;
	}
	kept_output = strdup(output);
}

static bool memscope_variable(const char *entry)
{
	return strncmp(entry, "MEMSCOPE_", 9) == 0 || strncmp(entry, "LD_PRELOAD=", 11) == 0;
}

/* The environment the new image of this process gets: envp without
 * memscope's variables or LD_PRELOAD, then those kept at start, the new
 * image's own capture (its path in *capture), and this pid as the root's.
 * One allocation, the two entries it makes after the pointers: free()
 * takes it all back (after an exec that failed).  NULL when nothing was kept
 * (--no-follow-exec, or not the root) or memory is short: the exec then
 * goes ahead with envp as it is, untraced. */
static char **environment_for_exec(const char *program, char *const envp[],
                                   const char **capture)
{
	if (kept_output == NULL || program == NULL || envp == NULL)
		return NULL;
	char *output = child_output_path(kept_output, program);
	if (output == NULL)
		return NULL;
	char root[64];
	snprintf(root, sizeof root, "%s=%ld", MEMSCOPE_ENV_ROOT_PID, (long)getpid());
	size_t output_size = strlen(MEMSCOPE_ENV_OUTPUT) + 1 + strlen(output) + 1;
	size_t count = 0;
	while (envp[count] != NULL)
		count++;
	size_t pointers = (count + KEPT_COUNT + 3) * sizeof(char *);
	char **result = malloc(pointers + output_size + strlen(root) + 1);
	if (result == NULL) {
		free(output);
		return NULL;
	}
	char *output_entry = (char *)result + pointers;
	char *root_entry = output_entry + output_size;
	snprintf(output_entry, output_size, "%s=%s", MEMSCOPE_ENV_OUTPUT, output);
	*capture = output_entry + strlen(MEMSCOPE_ENV_OUTPUT) + 1;
	strcpy(root_entry, root);
	free(output);
	size_t used = 0;
	for (size_t i = 0; i < count; i++)
		if (!memscope_variable(envp[i]))
			result[used++] = envp[i];
	for (size_t i = 0; i < KEPT_COUNT; i++)
		if (kept[i] != NULL)
			result[used++] = kept[i];
	result[used++] = output_entry;
	result[used++] = root_entry;
	result[used] = NULL;
	return result;
}

__attribute__((constructor)) static void preload_start(void)
{
	/* memscope's own allocations here are not the program's. */
	guard_raise();
	start_tracing();
	guard_lower();
}

static void start_tracing(void)
{
	const char *output = getenv(MEMSCOPE_ENV_OUTPUT);
	const char *root_pid = getenv(MEMSCOPE_ENV_ROOT_PID);
	const char *follow = getenv(MEMSCOPE_ENV_FOLLOW_FORK);
	bool following = follow != NULL && strcmp(follow, "1") == 0;
	if (output == NULL || root_pid == NULL) {
		interpose_early_finish();
		return;
	}

	bool is_root = strtol(root_pid, NULL, 10) == (long)getpid();
	if (!is_root && !following) {
		forget_environment();
		interpose_early_finish();
		return;
	}

	memscope_config config;
	memscope_config_init(&config);
	/* This library's malloc & co. lead to the interpose capture source. */
	interpose_entry_points_present();
	const char *capture = getenv(MEMSCOPE_ENV_CAPTURE);
	if (capture != NULL && memscope_capture_parse(capture, &config.capture) < 0)
		fprintf(stderr, "memscope: unknown capture source '%s'; using the default\n", capture);
	const char *backend = getenv(MEMSCOPE_ENV_BACKEND);
	if (backend != NULL && memscope_backend_parse(backend, &config.backend) < 0)
		fprintf(stderr, "memscope: unknown backend '%s'; using exact\n", backend);
	config.stack_depth = (uint32_t)parse_number(MEMSCOPE_ENV_STACK_DEPTH, config.stack_depth,
	                                            MEMSCOPE_MAX_STACK_DEPTH);
	if (config.stack_depth == 0)
		config.stack_depth = 1;
	config.timeline_interval_ms = (uint32_t)parse_number(MEMSCOPE_ENV_TIMELINE_MS,
	                                                     config.timeline_interval_ms, 60000);
	config.sample_interval = parse_number(MEMSCOPE_ENV_SAMPLE_INTERVAL, config.sample_interval,
	                                      UINT64_MAX);
	config.sample_seed = parse_number(MEMSCOPE_ENV_SAMPLE_SEED, 0, UINT64_MAX);
	config.exact_above = parse_number(MEMSCOPE_ENV_EXACT_ABOVE, 0, UINT64_MAX);
	config.event_budget = parse_number(MEMSCOPE_ENV_EVENT_BUDGET, 0, UINT64_MAX);
	/* The program's signal dispositions are its own: memscope finishes
	 * the capture of a process that dies (cli/drain.c). */
	config.flags |= MEMSCOPE_CONFIG_KEEP_SIGNALS;
	char *path = is_root ? strdup(output) : child_output_path(output, NULL);
	/* Read before forget_environment() takes it away. */
	const char *drain_variable = getenv(RING_WINDOW_ENV);
	char *drain = drain_variable != NULL ? strdup(drain_variable) : NULL;
	if (!following) {
		keep_for_exec(output);
		forget_environment();
	}
	else if (is_root)
		/* If this process execs, its next image is a child of the trace:
		 * it gets a file of its own instead of reopening ours. */
		setenv(MEMSCOPE_ENV_ROOT_PID, "0", 1);
	if (path == NULL) {
		free(drain);
		interpose_early_finish();
		return;
	}
	memscope_config child_config = config;
	start_tracker(&config, path, drain);
	if (tracker != NULL && following && drain != NULL) {
		/* A fork's child starts a tracker of its own from these, after
		 * the tracker's fork handler (registered as it started) has
		 * stopped the parent's there. */
		fork_config = child_config;
		fork_output = strdup(output);
		fork_drain = strdup(drain);
		if (fork_output != NULL && fork_drain != NULL)
			pthread_atfork(NULL, NULL, trace_fork_child);
	}
	free(drain);
	interpose_early_finish();
	free(path);
}

/* A tracker writing path, into a window of memscope's shared memory
 * (drain, "pid:fd") when there is one, else into the file itself. */
static void start_tracker(memscope_config *config, const char *path, const char *drain)
{
	config->output_path = path;
	if (drain != NULL) {
		/* memscope writes the capture from our rings (ring_window.h): the
		 * file only has to exist, so that a later image of this pid picks
		 * another name. */
		int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd >= 0)
			close(fd);
		struct ring_window *window = ring_window_attach(drain, path);
		/* Without a window, the tracker writes the capture itself. */
		if (window != NULL)
			tracker_share_window(window);
	}

	int error = memscope_tracker_create(config, &tracker);
	if (error == 0) {
		tracker_keep_quiet(tracker);
		error = memscope_tracker_start(tracker);
	}
	if (error < 0) {
		fprintf(stderr, "memscope: not tracing this process (%s): %s\n", path, strerror(-error));
		memscope_tracker_destroy(tracker);
		tracker = NULL;
	}
	tracker_pid = getpid();
}

/* --follow-fork: a child that forks without exec is traced too, from the
 * fork on, into a capture of its own beside the root's.  The parent's
 * tracker stays the parent's (tracker.c's fork handler stopped it here):
 * only its backend, which the child's tracker takes over, is let go.
 * Blocks the child inherited are not in its capture; their frees are
 * counted as frees of blocks from before the trace. */
static void trace_fork_child(void)
{
	if (tracker == NULL)
		return;
	guard_raise();
	tracker_release_after_fork(tracker);
	/* Left as it is: its memory is the parent's copy. */
	tracker = NULL;
	char *path = child_output_path(fork_output, NULL);
	if (path != NULL) {
		memscope_config config = fork_config;
		start_tracker(&config, path, fork_drain);
		free(path);
	}
	if (tracker != NULL) {
		char parent[32];
		snprintf(parent, sizeof parent, "%ld", (long)getppid());
		tracker_checkpoint(tracker, "forked_from", parent);
	}
	guard_lower();
}

__attribute__((destructor)) static void preload_finish(void)
{
	memscope_tracker_destroy(tracker);
	tracker = NULL;
}

typedef void (*exit_function)(int) __attribute__((noreturn));

static __attribute__((noreturn)) void leave(const char *name, int status)
{
	if (ours())
		preload_finish();
	exit_function next = (exit_function)dlsym(RTLD_NEXT, name);
	if (next != NULL)
		next(status);
	for (;;)
		syscall(SYS_exit_group, status);
}

typedef int (*dlclose_function)(void *);

/* A library's blocks keep their frames' names after it is unloaded: its
 * module record is taken before it goes (tracker_before_dlclose). */
__attribute__((visibility("default"))) int dlclose(void *handle)
{
	if (ours())
		tracker_before_dlclose();
	dlclose_function next = (dlclose_function)dlsym(RTLD_NEXT, "dlclose");
	return next != NULL ? next(handle) : -1;
}

typedef int (*execve_function)(const char *, char *const[], char *const[]);
typedef int (*execv_function)(const char *, char *const[]);

static void before_exec(const char *path)
{
	if (ours())
		tracker_checkpoint(tracker, "exec", path);
}

/* An exec of this process's own (not a vfork child's): its capture is
 * finished first, and the new image gets the environment that traces it
 * too, unless --no-follow-exec.  Returns that environment (NULL: envp as
 * it is); exec_failed() frees it. */
static char **prepare_exec(const char *program, char *const envp[])
{
	if (!ours())
		return NULL;
	guard_raise();
	const char *capture = NULL;
	char **environment = environment_for_exec(program, envp, &capture);
	guard_lower();
	/* The capture the new image is traced into, for the report to name. */
	if (environment != NULL)
		tracker_checkpoint(tracker, "exec_capture", capture);
	before_exec(program);
	return environment;
}

static int exec_failed(char **environment)
{
	int saved = errno;
	guard_raise();
	free(environment);
	guard_lower();
	errno = saved;
	return -1;
}

/* execve and execvpe, by name: with the new image's environment in place
 * of envp when there is one. */
static int exec_with(const char *name, const char *program, char *const argv[],
                     char *const envp[])
{
	char **environment = prepare_exec(program, envp);
	execve_function next = (execve_function)dlsym(RTLD_NEXT, name);
	if (next == NULL)
		return errno = ENOSYS, exec_failed(environment);
	next(program, argv, environment != NULL ? environment : envp);
	return exec_failed(environment);
}

/* execv and execvp, by name (plain): as they are when the new image needs
 * nothing, else through the function of the same search that takes an
 * environment (with_environment: execve, execvpe). */
static int exec_from_environ(const char *plain, const char *with_environment,
                             const char *program, char *const argv[])
{
	char **environment = prepare_exec(program, environ);
	if (environment == NULL) {
		execv_function next = (execv_function)dlsym(RTLD_NEXT, plain);
		return next != NULL ? next(program, argv) : (errno = ENOSYS, -1);
	}
	execve_function next = (execve_function)dlsym(RTLD_NEXT, with_environment);
	if (next != NULL)
		next(program, argv, environment);
	else
		errno = ENOSYS;
	return exec_failed(environment);
}

__attribute__((visibility("default"))) int execve(const char *path, char *const argv[],
                                                  char *const envp[])
{
	return exec_with("execve", path, argv, envp);
}

__attribute__((visibility("default"))) int execvpe(const char *file, char *const argv[],
                                                   char *const envp[])
{
	return exec_with("execvpe", file, argv, envp);
}

__attribute__((visibility("default"))) int execv(const char *path, char *const argv[])
{
	return exec_from_environ("execv", "execve", path, argv);
}

__attribute__((visibility("default"))) int execvp(const char *file, char *const argv[])
{
	return exec_from_environ("execvp", "execvpe", file, argv);
}

/* The file an exec by descriptor runs, for the new image's capture name
 * and the "exec" record: where fd (or name relative to fd) leads. */
static void path_at(int fd, const char *name, char *path, size_t size)
{
	if (name != NULL && (name[0] == '/' || (fd == AT_FDCWD && name[0] != '\0'))) {
		snprintf(path, size, "%s", name);
		return;
	}
	char link[64];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	char target[PATH_MAX];
	ssize_t length = fd == AT_FDCWD ? -1 : readlink(link, target, sizeof target - 1);
	if (length <= 0) {
		snprintf(path, size, "%s", name != NULL && name[0] != '\0' ? name : link);
		return;
	}
	target[length] = '\0';
	int written = name != NULL && name[0] != '\0' ? snprintf(path, size, "%s/%s", target, name)
	                                               : snprintf(path, size, "%s", target);
	/* Too long for a path: the name as given still names the program. */
	if ((written < 0 || (size_t)written >= size) && name != NULL)
		snprintf(path, size, "%s", name);
}

typedef int (*fexecve_function)(int, char *const[], char *const[]);
typedef int (*execveat_function)(int, const char *, char *const[], char *const[], int);

/* fexecve and execveat run a file by its descriptor: the C library's
 * calls reach the kernel without its execve, so they are followed here
 * as execve is (at: execveat, with pathname and flags). */
static int exec_by_descriptor(bool at, int fd, const char *pathname, char *const argv[],
                              char *const envp[], int flags)
{
	char program[PATH_MAX];
	path_at(fd, at ? pathname : NULL, program, sizeof program);
	char **environment = prepare_exec(program, envp);
	char *const *chosen = environment != NULL ? environment : envp;
	void *next = dlsym(RTLD_NEXT, at ? "execveat" : "fexecve");
	if (next == NULL)
		errno = ENOSYS;
	else if (at)
		((execveat_function)next)(fd, pathname, argv, chosen, flags);
	else
		((fexecve_function)next)(fd, argv, chosen);
	return exec_failed(environment);
}

__attribute__((visibility("default"))) int fexecve(int fd, char *const argv[], char *const envp[])
{
	return exec_by_descriptor(false, fd, NULL, argv, envp, 0);
}

__attribute__((visibility("default"))) int execveat(int dirfd, const char *pathname,
                                                    char *const argv[], char *const envp[],
                                                    int flags)
{
	return exec_by_descriptor(true, dirfd, pathname, argv, envp, flags);
}

/* execl, execle and execlp gather their arguments into a vector and call
 * execve inside the C library, past the wrappers above, so that the
 * capture would end without its trailer: gathered here, they go through
 * execv, execvp and execve. */
enum gathered_exec { EXEC_PATH, EXEC_SEARCH, EXEC_ENVIRONMENT };

static int exec_gathered(enum gathered_exec kind, const char *file, const char *first,
                         va_list arguments)
{
	va_list counting;
	va_copy(counting, arguments);
	size_t count = 0;
	for (const char *argument = first; argument != NULL; argument = va_arg(counting, const char *))
		count++;
	va_end(counting);
	/* The arguments, then the NULL that ends them. */
	char *argv[count + 1];
	argv[0] = (char *)first;
	for (size_t i = 1; i <= count; i++)
		argv[i] = va_arg(arguments, char *);
	switch (kind) {
	case EXEC_SEARCH:
		return execvp(file, argv);
	case EXEC_ENVIRONMENT:
		/* The environment follows the NULL. */
		return execve(file, argv, va_arg(arguments, char *const *));
	case EXEC_PATH:
	default:
		return execv(file, argv);
	}
}

__attribute__((visibility("default"))) int execl(const char *path, const char *first, ...)
{
	va_list arguments;
	va_start(arguments, first);
	int result = exec_gathered(EXEC_PATH, path, first, arguments);
	va_end(arguments);
	return result;
}

__attribute__((visibility("default"))) int execlp(const char *file, const char *first, ...)
{
	va_list arguments;
	va_start(arguments, first);
	int result = exec_gathered(EXEC_SEARCH, file, first, arguments);
	va_end(arguments);
	return result;
}

__attribute__((visibility("default"))) int execle(const char *path, const char *first, ...)
{
	va_list arguments;
	va_start(arguments, first);
	int result = exec_gathered(EXEC_ENVIRONMENT, path, first, arguments);
	va_end(arguments);
	return result;
}

typedef int (*pthread_create_function)(pthread_t *, const pthread_attr_t *, void *(*)(void *),
                                       void *);

/* A program's first thread of its own is the moment the tracker can start
 * a writer thread without slowing the program's malloc down (see
 * tracker_program_threads). */
__attribute__((visibility("default"))) int pthread_create(pthread_t *thread,
                                                          const pthread_attr_t *attributes,
                                                          void *(*start)(void *), void *argument)
{
	static pthread_create_function next;
	if (next == NULL)
		next = (pthread_create_function)dlsym(RTLD_NEXT, "pthread_create");
	if (next == NULL)
		return ENOSYS;
	if (ours())
		tracker_program_threads();
	return next(thread, attributes, start, argument);
}

/* libunwind's masking of signals while memscope unwinds costs more than the
 * unwinding (see stack_capture_sigprocmask); every other caller gets the C
 * library's. */
__attribute__((visibility("default"))) int sigprocmask(int how, const sigset_t *set,
                                                       sigset_t *old)
{
	return stack_capture_sigprocmask(how, set, old, __builtin_return_address(0));
}

/* Shells (dash, bash's subshells) and fork children leave through _exit:
 * no destructor runs there, so finish the capture first. */
__attribute__((visibility("default"), noreturn)) void _exit(int status)
{
	leave("_exit", status);
}

__attribute__((visibility("default"), noreturn)) void _Exit(int status)
{
	leave("_Exit", status);
}
