/* run.c - `memscope run`: trace an unmodified program (commands.h).
 *
 * The program is found as execvp would find it and refused up front when
 * LD_PRELOAD cannot reach its malloc: statically linked, of another ELF
 * class, or setuid/setgid so that the loader runs it in secure mode.  It then
 * runs with LD_PRELOAD naming the preload library and jemalloc, configured
 * through the variables of preload_env.h, with memscope's own stdin, stdout
 * and stderr.  memscope writes only to stderr, and ends as the program ended:
 * with its exit code, or killed by the same signal.
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <link.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "commands.h"
#include "drain.h"
#include "memscope_config.h"
#include "output_file.h"
#include "preload_env.h"
#include "memscope/memscope.h"
#include "progress.h"
#include "report.h"
#include "ring_window.h"
#include "visible.h"

/* The shell's statuses for a program that cannot be run, so that a script
 * sees the same status with or without memscope in front. */
enum {
	EXIT_USAGE = 2,
	EXIT_CANNOT_EXECUTE = 126,
	EXIT_NOT_FOUND = 127,
};

enum {
	DEFAULT_STACK_DEPTH = 64,
	MAX_STACK_DEPTH = 128,
	DEFAULT_TIMELINE_MS = 10,
	MAX_TIMELINE_MS = 3600 * 1000,
};


struct run_options {
	const char *backend;
	const char *capture;	/* hooks, interpose, or NULL for the default */
	const char *allocator;	/* jemalloc or libc (the default set after parsing) */
	const char *output;	/* as given with -o, or NULL for the default name */
	bool follow_fork;
	bool no_follow_exec;
	bool quiet;
	long stack_depth;
	long timeline_ms;
	uint64_t sample_interval;	/* bytes, or 0 for the backend's default */
	uint64_t exact_above;		/* hybrid: bytes, or 0 for the default */
	uint64_t event_budget;		/* hybrid: events per second, or 0 for none */
	const char *sample_seed;	/* as given (checked), or NULL */
	int program_index;	/* where the program's own argv starts */
};

/* The dispositions and mask memscope had before it took over the signals it
 * ignores or forwards while the program runs; the program gets them back. */
struct saved_signals {
	struct sigaction forwarded[4];
	struct sigaction ignored[2];
	struct sigaction child;
	sigset_t mask;
};

/* Everything the child needs between fork and exec, prepared before the fork
 * so that the child does as little as possible. */
struct launch {
	const struct run_options *options;
	const char *cwd;
	const char *program;	/* the file to execute */
	char **argv;		/* the program's argv, argv[0] as the user wrote it */
	const char *ld_preload;
	bool is_elf;
	const struct saved_signals *signals;
	const char *drain;	/* MEMSCOPE_DRAIN's value, or NULL (drain.h) */
	char *partial;		/* -o names a file that exists: the capture is written here
				   and takes its place only once there is one */
};

/* Signals sent to memscope alone (kill, a service manager, a batch system)
 * that are meant for the program.  SIGINT and SIGQUIT are not here: the
 * terminal sends them to the whole process group, so the program already
 * has them. */
static const int forwarded_signals[] = { SIGTERM, SIGHUP, SIGUSR1, SIGUSR2 };
static const int ignored_signals[] = { SIGINT, SIGQUIT };

_Static_assert(sizeof(forwarded_signals) / sizeof(forwarded_signals[0]) ==
	       sizeof(((struct saved_signals *)0)->forwarded) / sizeof(struct sigaction),
	       "one saved disposition per forwarded signal");
_Static_assert(sizeof(ignored_signals) / sizeof(ignored_signals[0]) ==
	       sizeof(((struct saved_signals *)0)->ignored) / sizeof(struct sigaction),
	       "one saved disposition per ignored signal");

/* The pid signals are forwarded to; 0 until the child exists and again once
 * it is about to be reaped, so that a late signal never reaches a reused pid
 * (or, as kill(0, ...), memscope's whole process group). */
static volatile sig_atomic_t forward_target;

static void print_usage(FILE *out)
{
	fprintf(out,
		"Usage: memscope run [options] [--] PROGRAM [ARGS...]\n"
		"       memscope [options] [--] PROGRAM [ARGS...]\n"
		"\n"
		"Run PROGRAM with memscope's preload library, record its heap allocations\n"
		"with their call stacks into a capture file, and print a summary when it\n"
		"ends.  PROGRAM keeps memscope's stdin, stdout and stderr; memscope itself\n"
		"writes only to stderr and exits with PROGRAM's exit status.\n"
		"\n"
		"Options end at PROGRAM: everything after it is PROGRAM's own.\n"
		"  --backend NAME     exact (default): every event; lockfree: sampled, for\n"
		"                     production; async: every event, charged to its task\n"
		"                     (ucontext coroutines, memscope/task.h); hybrid: large\n"
		"                     blocks exact, small ones sampled, charged to tasks\n"
		"  --sample-interval BYTES  lockfree, hybrid: mean bytes allocated between\n"
		"                     samples, e.g. 4096, 64K, 1M (default 512K); 1 = every\n"
		"                     allocation\n"
		"  --sample-seed N    lockfree, hybrid: seed of the sampler, to repeat a run\n"
		"  --exact-above BYTES  hybrid: record every block of this size or more\n"
		"                     (default 4.6 sample intervals: 2.4M at 512K)\n"
		"  --event-budget N   hybrid: keep under N events recorded a second, e.g.\n"
		"                     200k/s, by raising the interval (default: no budget)\n"
		"  --allocator NAME   what the program allocates from: libc (the lockfree\n"
		"                     default: the C library's malloc, as without memscope)\n"
		"                     or jemalloc (the exact default, and --capture hooks)\n"
		"  --capture SOURCE   interpose (default): memscope's malloc in front of\n"
		"                     jemalloc; hooks: jemalloc's hooks, which also see\n"
		"                     mallocx & co. but cost more\n"
		"  -o, --output FILE  the capture file (default: memscope.PROGRAM.PID.memscope\n"
		"                     in the current directory)\n"
		"  --follow-fork      also trace child processes, from the fork on, whether they\n"
		"                     exec or not, each into its own memscope.PROGRAM.PID.memscope\n"
		"                     next to the capture file\n"
		"  --no-follow-exec   run a new image of PROGRAM (after it execs, as a wrapper\n"
		"                     script does) untraced; by default it is traced into its\n"
		"                     own memscope.PROGRAM.PID.memscope next to the capture\n"
		"  --depth N          stack frames kept per allocation, 1 to %d (default %d)\n"
		"  --timeline-ms N    timeline sampling interval in ms, 0 = off (default %d)\n"
		"  -q, --quiet        print no summary when PROGRAM ends\n"
		"  -h, --help         show this help\n"
		"\n"
		"Environment:\n"
		"  MEMSCOPE_PRELOAD_LIBRARY   the preload library to inject; by default the\n"
		"                             one next to memscope, else\n"
		"                             %s/%s\n"
		"                             (%s with --allocator libc)\n"
		"  MEMSCOPE_JEMALLOC_LIBRARY  the jemalloc to inject; by default\n"
		"                             %s\n"
		"\n"
		"Examples:\n"
		"  memscope ./app --its-own-option\n"
		"  memscope run --backend exact -o app.memscope -- ./app input.txt\n"
		"  memscope --follow-fork make -j2\n",
		MAX_STACK_DEPTH, DEFAULT_STACK_DEPTH, DEFAULT_TIMELINE_MS,
		MEMSCOPE_INSTALL_LIBDIR, MEMSCOPE_PRELOAD_NAME, MEMSCOPE_PRELOAD_LIBC_NAME,
		MEMSCOPE_JEMALLOC_LIBRARY);
}

static int parse_number(const char *option, const char *text, long min, long max, long *value)
{
	char *end;

	errno = 0;
	long parsed = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || parsed < min || parsed > max) {
		fprintf(stderr, "memscope: %s takes a whole number from %ld to %ld, not '%s'\n",
			option, min, max, text);
		return -EINVAL;
	}
	*value = parsed;
	return 0;
}

/* A byte count: digits, then optionally K, M or G (powers of 1024, with or
 * without "iB" or "B").  Returns 0 or -EINVAL. */
static int parse_bytes(const char *text, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long value = strtoull(text, &end, 10);
	if (errno != 0 || end == text || text[0] == '-')
		return -EINVAL;
	unsigned shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (shift != 0 && (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0))
		end += strlen(end);
	if (*end != '\0' || value > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)value << shift;
	return 0;
}

/* Events per second: "200000", "200k", "2M", each with "/s" or not. */
static int parse_rate(const char *text, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long value = strtoull(text, &end, 10);
	if (errno != 0 || end == text || text[0] == '-')
		return -EINVAL;
	uint64_t scale = 1;
	switch (*end) {
	case 'k': case 'K': scale = 1000; end++; break;
	case 'm': case 'M': scale = 1000000; end++; break;
	}
	if (strcmp(end, "/s") == 0)
		end += 2;
	if (*end != '\0' || value == 0 || value > UINT64_MAX / scale)
		return -EINVAL;
	*out = (uint64_t)value * scale;
	return 0;
}

enum {
	OPTION_BACKEND = 256,
	OPTION_FOLLOW_FORK,
	OPTION_NO_FOLLOW_EXEC,
	OPTION_DEPTH,
	OPTION_TIMELINE_MS,
	OPTION_CAPTURE,
	OPTION_SAMPLE_INTERVAL,
	OPTION_SAMPLE_SEED,
	OPTION_EXACT_ABOVE,
	OPTION_EVENT_BUDGET,
	OPTION_ALLOCATOR,
};

static const struct option long_options[] = {
	{ "backend", required_argument, NULL, OPTION_BACKEND },
	{ "capture", required_argument, NULL, OPTION_CAPTURE },
	{ "output", required_argument, NULL, 'o' },
	{ "follow-fork", no_argument, NULL, OPTION_FOLLOW_FORK },
	{ "no-follow-exec", no_argument, NULL, OPTION_NO_FOLLOW_EXEC },
	{ "depth", required_argument, NULL, OPTION_DEPTH },
	{ "timeline-ms", required_argument, NULL, OPTION_TIMELINE_MS },
	{ "sample-interval", required_argument, NULL, OPTION_SAMPLE_INTERVAL },
	{ "sample-seed", required_argument, NULL, OPTION_SAMPLE_SEED },
	{ "exact-above", required_argument, NULL, OPTION_EXACT_ABOVE },
	{ "event-budget", required_argument, NULL, OPTION_EVENT_BUDGET },
	{ "allocator", required_argument, NULL, OPTION_ALLOCATOR },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The option getopt stopped at, as the user wrote it: argv[element] for a
 * long option; for a short one, which may sit inside a cluster such as -qx,
 * the letter. */
static void print_bad_option(char **argv, int element, const char *problem)
{
	if (strncmp(argv[element], "--", 2) == 0)
		fprintf(stderr, "memscope: %s '%s'", problem, argv[element]);
	else
		fprintf(stderr, "memscope: %s '-%c'", problem, optopt);
	fprintf(stderr, "; see 'memscope run --help'\n");
}

/* Fills options from argv.  Returns 0, 1 when --help was answered, or
 * -EINVAL after saying what is wrong. */
static int parse_options(int argc, char **argv, struct run_options *options)
{
	*options = (struct run_options){
		.backend = "exact",
		.stack_depth = DEFAULT_STACK_DEPTH,
		.timeline_ms = DEFAULT_TIMELINE_MS,
	};

	/* "+": stop at the program's name, so that its own options are left
	 * alone; ":": report a missing value apart from an unknown option. */
	opterr = 0;
	optind = 0;
	for (;;) {
		int element = optind == 0 ? 1 : optind;
		int option = getopt_long(argc, argv, "+:ho:q", long_options, NULL);
		if (option == -1)
			break;
		switch (option) {
		case OPTION_BACKEND:
			memscope_backend_kind backend;
			if (memscope_backend_parse(optarg, &backend) < 0) {
				fprintf(stderr, "memscope: unknown backend '%s'; the backends are "
					"exact, lockfree, async and hybrid\n", optarg);
				return -EINVAL;
			}
			options->backend = optarg;
			break;
		case OPTION_CAPTURE:
			memscope_capture_kind capture;
			if (memscope_capture_parse(optarg, &capture) < 0) {
				fprintf(stderr, "memscope: unknown capture source '%s'; the sources "
					"are interpose and hooks\n", optarg);
				return -EINVAL;
			}
			options->capture = optarg;
			break;
		case 'o':
			if (optarg[0] == '\0') {
				fprintf(stderr, "memscope: --output needs a file name\n");
				return -EINVAL;
			}
			options->output = optarg;
			break;
		case OPTION_FOLLOW_FORK:
			options->follow_fork = true;
			break;
		case OPTION_NO_FOLLOW_EXEC:
			options->no_follow_exec = true;
			break;
		case OPTION_DEPTH:
			if (parse_number("--depth", optarg, 1, MAX_STACK_DEPTH, &options->stack_depth) < 0)
				return -EINVAL;
			break;
		case OPTION_TIMELINE_MS:
			if (parse_number("--timeline-ms", optarg, 0, MAX_TIMELINE_MS, &options->timeline_ms) < 0)
				return -EINVAL;
			break;
		case OPTION_SAMPLE_INTERVAL: {
			if (parse_bytes(optarg, &options->sample_interval) < 0 ||
			    options->sample_interval == 0) {
				fprintf(stderr, "memscope: --sample-interval takes a number of bytes of 1 "
					"or more, such as 4096, 64K or 1M, not '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		}
		case OPTION_EXACT_ABOVE:
			if (parse_bytes(optarg, &options->exact_above) < 0 || options->exact_above == 0) {
				fprintf(stderr, "memscope: --exact-above takes a number of bytes of 1 "
					"or more, such as 64K or 4M, not '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case OPTION_EVENT_BUDGET:
			if (parse_rate(optarg, &options->event_budget) < 0) {
				fprintf(stderr, "memscope: --event-budget takes events per second, 1 or "
					"more, such as 200000, 200k/s or 2M, not '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case OPTION_SAMPLE_SEED: {
			char *end;
			errno = 0;
			strtoull(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || optarg[0] == '-') {
				fprintf(stderr, "memscope: --sample-seed takes a whole number, not '%s'\n",
					optarg);
				return -EINVAL;
			}
			options->sample_seed = optarg;
			break;
		}
		case OPTION_ALLOCATOR:
			if (strcmp(optarg, "libc") != 0 && strcmp(optarg, "jemalloc") != 0) {
				fprintf(stderr, "memscope: unknown allocator '%s'; the allocators are "
					"libc and jemalloc\n", optarg);
				return -EINVAL;
			}
			options->allocator = optarg;
			break;
		case 'q':
			options->quiet = true;
			break;
		case 'h':
			print_usage(stdout);
			return 1;
		case ':':
			print_bad_option(argv, element, "missing value for option");
			return -EINVAL;
		default:
			/* A known long option given a value it does not take
			 * (--quiet=1) comes back as '?' with optopt set. */
			if (optopt != 0 && strncmp(argv[element], "--", 2) == 0)
				print_bad_option(argv, element, "no value allowed for option");
			else
				print_bad_option(argv, element, "unknown option");
			return -EINVAL;
		}
	}
	bool samples = strcmp(options->backend, "lockfree") == 0 ||
	               strcmp(options->backend, "hybrid") == 0;
	if ((options->sample_interval != 0 || options->sample_seed != NULL) && !samples) {
		fprintf(stderr, "memscope: --sample-interval and --sample-seed apply to the lockfree "
			"and hybrid backends; add --backend lockfree or --backend hybrid\n");
		return -EINVAL;
	}
	if ((options->exact_above != 0 || options->event_budget != 0) &&
	    strcmp(options->backend, "hybrid") != 0) {
		fprintf(stderr, "memscope: --%s applies to the hybrid backend; add "
			"--backend hybrid\n", options->exact_above != 0 ? "exact-above" : "event-budget");
		return -EINVAL;
	}
	bool hooks = options->capture != NULL && strcmp(options->capture, "hooks") == 0;
	if (options->allocator == NULL)
		/* Sampling is for production: the program keeps the allocator it
		 * runs with.  Every event, and jemalloc's hooks, need jemalloc. */
		options->allocator = samples && !hooks ? "libc" : "jemalloc";
	if (hooks && strcmp(options->allocator, "libc") == 0) {
		fprintf(stderr, "memscope: --capture hooks are jemalloc's, so the program must "
			"allocate from it: use --allocator jemalloc, or the interpose capture\n");
		return -EINVAL;
	}
	if (optind >= argc) {
		fprintf(stderr, "memscope: no program to run\n"
			"usage: memscope run [options] [--] PROGRAM [ARGS...]; see 'memscope run --help'\n");
		return -EINVAL;
	}
	options->program_index = optind;
	return 0;
}

/* dir + "/" + name, allocated; NULL when memory runs out. */
static char *path_join(const char *dir, const char *name)
{
	size_t length = strlen(dir);
	const char *separator = length > 0 && dir[length - 1] == '/' ? "" : "/";
	char *path;

	if (asprintf(&path, "%s%s%s", dir, separator, name) < 0)
		return NULL;
	return path;
}

static char *absolute_path(const char *cwd, const char *path)
{
	return path[0] == '/' ? strdup(path) : path_join(cwd, path);
}

/* Whether execve could run the file, as far as stat and access can tell:
 * 0, or -EISDIR, -EACCES, or stat's error. */
static int check_executable(const char *path, struct stat *st)
{
	if (stat(path, st) != 0)
		return -errno;
	if (S_ISDIR(st->st_mode))
		return -EISDIR;
	if (!S_ISREG(st->st_mode) || access(path, X_OK) != 0)
		return -EACCES;
	return 0;
}

/* Finds the file execvp would run for name.  Returns 0 with *found and *st
 * set; -ENOENT when nothing matches (*found NULL, or the path tried when name
 * has a '/'); -EACCES or -EISDIR (and stat's other errors) with *found the
 * file that cannot be run; -ENOMEM. */
static int find_program(const char *name, char **found, struct stat *st)
{
	*found = NULL;
	if (name[0] == '\0')
		return -ENOENT;
	if (strchr(name, '/') != NULL) {
		*found = strdup(name);
		if (*found == NULL)
			return -ENOMEM;
		return check_executable(name, st);
	}

	/* glibc's execvp searches "/bin:/usr/bin" when PATH is unset. */
	const char *search = getenv("PATH");
	if (search == NULL)
		search = "/bin:/usr/bin";

	int result = -ENOENT;
	for (const char *start = search;;) {
		const char *end = strchrnul(start, ':');
		int dir_length = (int)(end - start);
		char *candidate;
		struct stat candidate_st;

		/* An empty element is the current directory. */
		if (asprintf(&candidate, "%.*s/%s", dir_length > 0 ? dir_length : 1,
			     dir_length > 0 ? start : ".", name) < 0) {
			free(*found);
			*found = NULL;
			return -ENOMEM;
		}
		int err = check_executable(candidate, &candidate_st);
		if (err == 0) {
			free(*found);
			*found = candidate;
			*st = candidate_st;
			return 0;
		}
		/* Like execvp (and a shell), a match that cannot be run does not
		 * end the search, but is what gets reported if nothing better
		 * turns up; directories are skipped as a shell skips them. */
		if (err == -EACCES && result == -ENOENT) {
			*found = candidate;
			result = -EACCES;
		} else {
			free(candidate);
		}
		if (*end == '\0')
			break;
		start = end + 1;
	}
	return result;
}

/* Says why name cannot be run, and returns the status a shell would exit
 * with: 127 when there is nothing to run, 126 when it cannot be executed. */
static int report_unrunnable(const char *name, const char *found, int err)
{
	if (err == -ENOENT && strchr(name, '/') == NULL) {
		fprintf(stderr, "memscope: cannot run '%s': not found in PATH\n", name);
		return EXIT_NOT_FOUND;
	}
	if (err == -ENOENT || err == -ENOTDIR) {
		fprintf(stderr, "memscope: cannot run '%s': no such file\n", name);
		return EXIT_NOT_FOUND;
	}
	if (err == -EACCES && found != NULL && strcmp(found, name) != 0) {
		fprintf(stderr, "memscope: cannot run '%s': %s is not executable "
			"(permission denied)\n", name, found);
		return EXIT_CANNOT_EXECUTE;
	}
	if (err == -EACCES) {
		fprintf(stderr, "memscope: cannot run '%s': not executable (permission denied)\n",
			name);
		return EXIT_CANNOT_EXECUTE;
	}
	if (err == -EISDIR) {
		fprintf(stderr, "memscope: cannot run '%s': it is a directory\n", name);
		return EXIT_CANNOT_EXECUTE;
	}
	fprintf(stderr, "memscope: cannot run '%s': %s\n", name, strerror(-err));
	return err == -ENOMEM ? EXIT_FAILURE : EXIT_CANNOT_EXECUTE;
}

#if UINTPTR_MAX == UINT64_MAX
#define NATIVE_ELF_CLASS ELFCLASS64
#else
#define NATIVE_ELF_CLASS ELFCLASS32
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_ELF_DATA ELFDATA2LSB
#else
#define NATIVE_ELF_DATA ELFDATA2MSB
#endif

enum program_kind {
	PROGRAM_NOT_ELF,	/* a script, or unreadable: execve decides */
	PROGRAM_DYNAMIC,
	PROGRAM_STATIC,
	PROGRAM_32_BIT,
	PROGRAM_64_BIT,
};

static bool read_at(int fd, void *buffer, size_t size, off_t offset)
{
	ssize_t done;

	do
		done = pread(fd, buffer, size, offset);
	while (done < 0 && errno == EINTR);
	return done == (ssize_t)size;
}

/* Whether the dynamic section marks the file as a position-independent
 * executable: with no PT_INTERP, that is a static-pie. */
static bool is_pie(int fd, const ElfW(Phdr) *dynamic)
{
	/* A real dynamic section has a few dozen entries; the bound keeps a
	 * corrupt p_filesz from making this read the whole file. */
	size_t count = dynamic->p_filesz / sizeof(ElfW(Dyn));
	if (count > 4096)
		count = 4096;

	for (size_t i = 0; i < count; i++) {
		ElfW(Dyn) entry;

		if (!read_at(fd, &entry, sizeof(entry), (off_t)(dynamic->p_offset + i * sizeof(entry))))
			return false;
		if (entry.d_tag == DT_NULL)
			return false;
		if (entry.d_tag == DT_FLAGS_1)
			return (entry.d_un.d_val & DF_1_PIE) != 0;
	}
	return false;
}

/* What kind of program the file is, as far as its ELF headers tell.  Only the
 * native class is parsed: the preload library can join no other. */
static enum program_kind inspect_program(const char *path)
{
	enum program_kind kind = PROGRAM_NOT_ELF;
	unsigned char ident[EI_NIDENT];
	ElfW(Ehdr) header;
	ElfW(Phdr) dynamic = { 0 };
	bool has_interpreter = false;
	bool has_dynamic = false;

	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return PROGRAM_NOT_ELF;
	if (!read_at(fd, ident, sizeof(ident), 0) || memcmp(ident, ELFMAG, SELFMAG) != 0)
		goto out;
	if (ident[EI_CLASS] != NATIVE_ELF_CLASS) {
		if (ident[EI_CLASS] == ELFCLASS32)
			kind = PROGRAM_32_BIT;
		else if (ident[EI_CLASS] == ELFCLASS64)
			kind = PROGRAM_64_BIT;
		goto out;
	}
	/* Another byte order is another machine: execve will say so. */
	if (ident[EI_DATA] != NATIVE_ELF_DATA)
		goto out;
	if (!read_at(fd, &header, sizeof(header), 0) || header.e_phentsize != sizeof(ElfW(Phdr)) ||
	    header.e_phnum == PN_XNUM)
		goto out;

	for (unsigned i = 0; i < header.e_phnum; i++) {
		ElfW(Phdr) segment;

		if (!read_at(fd, &segment, sizeof(segment), (off_t)(header.e_phoff + i * sizeof(segment))))
			goto out;
		if (segment.p_type == PT_INTERP)
			has_interpreter = true;
		if (segment.p_type == PT_DYNAMIC) {
			dynamic = segment;
			has_dynamic = true;
		}
	}

	if (has_interpreter)
		kind = PROGRAM_DYNAMIC;
	else if (header.e_type == ET_EXEC)
		kind = PROGRAM_STATIC;
	else if (header.e_type == ET_DYN && has_dynamic && is_pie(fd, &dynamic))
		kind = PROGRAM_STATIC;
	else
		/* A shared object run directly, such as the dynamic loader in
		 * `memscope /lib64/ld-linux-x86-64.so.2 ./app`: it honours
		 * LD_PRELOAD itself. */
		kind = PROGRAM_DYNAMIC;
out:
	close(fd);
	return kind;
}

/* Says why the program cannot be traced, if its kind is one LD_PRELOAD does
 * not reach, and returns whether it was refused. */
static bool refuse_kind(const char *path, enum program_kind kind)
{
	switch (kind) {
	case PROGRAM_STATIC:
		fprintf(stderr, "memscope: %s is statically linked, so LD_PRELOAD cannot reach its "
			"malloc; link it dynamically, or link libmemscope into it (see README)\n", path);
		return true;
	case PROGRAM_32_BIT:
	case PROGRAM_64_BIT:
		fprintf(stderr, "memscope: %s is a %d-bit program, and the loader cannot put "
			"memscope's %d-bit preload library into it; trace a %d-bit build of it\n",
			path, kind == PROGRAM_32_BIT ? 32 : 64, (int)sizeof(void *) * 8,
			(int)sizeof(void *) * 8);
		return true;
	case PROGRAM_NOT_ELF:
	case PROGRAM_DYNAMIC:
		break;
	}
	return false;
}

/* The loader runs a program in secure mode, where it ignores LD_PRELOAD,
 * when exec changes the process's effective ids or raises its capabilities.
 * Says so and returns true when that would happen to path. */
static bool refuse_secure_mode(const char *path, const struct stat *st)
{
	struct statvfs filesystem;

	/* On a nosuid mount the kernel ignores both bits and file capabilities. */
	if (statvfs(path, &filesystem) == 0 && (filesystem.f_flag & ST_NOSUID))
		return false;

	if ((st->st_mode & S_ISUID) && st->st_uid != getuid()) {
		fprintf(stderr, "memscope: %s is setuid (owner uid %u, you are uid %u), and the "
			"loader ignores LD_PRELOAD for setuid and setgid programs; trace a copy "
			"without the setuid bit, or link libmemscope into it (see README)\n",
			path, (unsigned)st->st_uid, (unsigned)getuid());
		return true;
	}
	if ((st->st_mode & S_ISGID) && st->st_gid != getgid()) {
		fprintf(stderr, "memscope: %s is setgid (group %u, you are group %u), and the "
			"loader ignores LD_PRELOAD for setuid and setgid programs; trace a copy "
			"without the setgid bit, or link libmemscope into it (see README)\n",
			path, (unsigned)st->st_gid, (unsigned)getgid());
		return true;
	}
	/* root already holds every capability, so file capabilities give it
	 * nothing new and do not turn on secure mode. */
	if (getuid() != 0 && getxattr(path, "security.capability", NULL, 0) >= 0) {
		fprintf(stderr, "memscope: %s has file capabilities, and the loader ignores "
			"LD_PRELOAD for programs that gain privileges; trace a copy without them, "
			"or link libmemscope into it (see README)\n", path);
		return true;
	}
	return false;
}

/* ld.so splits LD_PRELOAD at spaces and colons, so a path holding one
 * cannot be named there at all. */
static int check_preloadable(const char *path, const char *variable)
{
	if (strpbrk(path, " :") == NULL)
		return 0;
	fprintf(stderr, "memscope: cannot preload %s: LD_PRELOAD cannot name a path that "
		"contains a space or ':'; move it, or set %s to a path without them\n",
		path, variable);
	return -EINVAL;
}

/* The preload library named name: $MEMSCOPE_PRELOAD_LIBRARY, else the one
 * built next to this memscope (the build tree puts both in <build>/cli),
 * else the installed one.  Returns 0 with *path absolute, or a negative errno after saying
 * what to build or install. */
static int find_preload_library(const char *cwd, const char *name, char **path)
{
	const char *configured = getenv("MEMSCOPE_PRELOAD_LIBRARY");
	char *beside_self = NULL;

	*path = NULL;
	if (configured != NULL && configured[0] != '\0') {
		if (access(configured, R_OK) != 0) {
			int err = errno;
			fprintf(stderr, "memscope: MEMSCOPE_PRELOAD_LIBRARY names %s: %s; point it at "
				"%s, or unset it\n", configured, strerror(err), name);
			return -err;
		}
		*path = absolute_path(cwd, configured);
		if (*path == NULL)
			return -ENOMEM;
		return check_preloadable(*path, "MEMSCOPE_PRELOAD_LIBRARY");
	}

	char self[4096];
	ssize_t length = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (length > 0) {
		self[length] = '\0';
		char *slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			beside_self = path_join(self[0] != '\0' ? self : "/", name);
			if (beside_self == NULL)
				return -ENOMEM;
			if (access(beside_self, R_OK) == 0) {
				*path = beside_self;
				return check_preloadable(*path, "MEMSCOPE_PRELOAD_LIBRARY");
			}
		}
	}

	char *installed = path_join(MEMSCOPE_INSTALL_LIBDIR, name);
	if (installed == NULL) {
		free(beside_self);
		return -ENOMEM;
	}
	if (access(installed, R_OK) == 0) {
		free(beside_self);
		*path = installed;
		return check_preloadable(*path, "MEMSCOPE_PRELOAD_LIBRARY");
	}
	fprintf(stderr, "memscope: cannot find the preload library %s: it is not next to memscope "
		"(%s) nor installed (%s); build memscope (meson compile -C %s) or install it "
		"(meson install), or set MEMSCOPE_PRELOAD_LIBRARY to its path\n",
		name, beside_self != NULL ? beside_self : "?", installed,
		MEMSCOPE_BUILD_DIR);
	free(beside_self);
	free(installed);
	return -ENOENT;
}

/* The jemalloc to preload: $MEMSCOPE_JEMALLOC_LIBRARY, else the one memscope
 * was built against.  Returns 0 with *path absolute, or a negative errno
 * after saying what to install. */
static int find_jemalloc(const char *cwd, char **path)
{
	const char *configured = getenv("MEMSCOPE_JEMALLOC_LIBRARY");
	bool from_environment = configured != NULL && configured[0] != '\0';
	const char *candidate = from_environment ? configured : MEMSCOPE_JEMALLOC_LIBRARY;

	*path = NULL;
	if (access(candidate, R_OK) != 0) {
		int err = errno;
		if (from_environment)
			fprintf(stderr, "memscope: MEMSCOPE_JEMALLOC_LIBRARY names %s: %s; point it at "
				"libjemalloc.so.2, or unset it\n", candidate, strerror(err));
		else
			fprintf(stderr, "memscope: cannot find jemalloc at %s, where memscope was built "
				"to find it: %s; install jemalloc 5.3 (Debian, Ubuntu: apt install "
				"libjemalloc2), or set MEMSCOPE_JEMALLOC_LIBRARY to its libjemalloc.so.2\n",
				candidate, strerror(err));
		return -err;
	}
	*path = absolute_path(cwd, candidate);
	if (*path == NULL)
		return -ENOMEM;
	return check_preloadable(*path, "MEMSCOPE_JEMALLOC_LIBRARY");
}

/* The capture file of the process pid: -o's file, or the default name in the
 * current directory.  The parent (with the child's pid) and the child (with
 * its own) both call this, and get the same absolute path. */
static char *capture_path(const char *cwd, const struct run_options *options,
			  const char *program_name, pid_t pid)
{
	if (options->output != NULL)
		return absolute_path(cwd, options->output);

	const char *slash = strrchr(program_name, '/');
	const char *base = slash != NULL ? slash + 1 : program_name;
	char *name;
	if (asprintf(&name, "memscope.%s.%ld.memscope", base, (long)pid) < 0)
		return NULL;
	char *path = path_join(cwd, name);
	free(name);
	return path;
}

static void forward_signal(int signal_number)
{
	int saved_errno = errno;
	pid_t target = forward_target;

	if (target > 0)
		kill(target, signal_number);
	errno = saved_errno;
}

/* Makes memscope ignore what the terminal sends the whole process group,
 * forward what is sent to it alone, and reap its child itself; the forwarded
 * signals stay blocked until the child's pid is known. */
static void take_over_signals(struct saved_signals *saved)
{
	struct sigaction action = { 0 };
	sigset_t blocked;

	sigemptyset(&blocked);
	for (size_t i = 0; i < sizeof(forwarded_signals) / sizeof(forwarded_signals[0]); i++)
		sigaddset(&blocked, forwarded_signals[i]);
	sigprocmask(SIG_BLOCK, &blocked, &saved->mask);

	action.sa_handler = forward_signal;
	action.sa_flags = SA_RESTART;
	sigemptyset(&action.sa_mask);
	for (size_t i = 0; i < sizeof(forwarded_signals) / sizeof(forwarded_signals[0]); i++)
		sigaction(forwarded_signals[i], &action, &saved->forwarded[i]);

	action.sa_handler = SIG_IGN;
	action.sa_flags = 0;
	for (size_t i = 0; i < sizeof(ignored_signals) / sizeof(ignored_signals[0]); i++)
		sigaction(ignored_signals[i], &action, &saved->ignored[i]);

	/* Inherited SIGCHLD ignored would reap the child behind waitpid's back. */
	action.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &action, &saved->child);
}

static void restore_signals(const struct saved_signals *saved)
{
	for (size_t i = 0; i < sizeof(forwarded_signals) / sizeof(forwarded_signals[0]); i++)
		sigaction(forwarded_signals[i], &saved->forwarded[i], NULL);
	for (size_t i = 0; i < sizeof(ignored_signals) / sizeof(ignored_signals[0]); i++)
		sigaction(ignored_signals[i], &saved->ignored[i], NULL);
	sigaction(SIGCHLD, &saved->child, NULL);
	sigprocmask(SIG_SETMASK, &saved->mask, NULL);
}

/* The preload library first; then jemalloc, unless the program stays on
 * the C library's malloc (jemalloc NULL); then the user's own preloads, so
 * that jemalloc's malloc is the one the program binds to (DESIGN.md,
 * Capture). */
static char *build_ld_preload(const char *preload, const char *jemalloc)
{
	const char *existing = getenv("LD_PRELOAD");
	bool more = existing != NULL && existing[0] != '\0';
	char *value;
	int length = asprintf(&value, "%s%s%s%s%s", preload, jemalloc ? ":" : "",
	                      jemalloc ? jemalloc : "", more ? ":" : "", more ? existing : "");
	return length < 0 ? NULL : value;
}

/* -o's file: never the program itself (writing the capture would destroy
 * it), and when it exists already, kept until a new capture can take its
 * place (a program that cannot start leaves it as it was): the capture
 * is written beside it first, as .NAME.PID.partial.  Returns 0, or -1
 * after saying why the run is refused. */
static int prepare_output(struct launch *launch)
{
	char *output = absolute_path(launch->cwd, launch->options->output);
	if (output == NULL) {
		fprintf(stderr, "memscope: out of memory\n");
		return -1;
	}
	struct stat existing;
	int result = 0;
	if (stat(output, &existing) != 0) {
		/* A new file: written in place. */
	} else if (output_file_same(output, launch->program)) {
		fprintf(stderr, "memscope: -o %s is the program itself: the capture would "
			"overwrite it; choose another file\n", launch->options->output);
		result = -1;
	} else if (S_ISREG(existing.st_mode) &&
		   (launch->partial = output_file_partial_path(output)) == NULL) {
		fprintf(stderr, "memscope: out of memory\n");
		result = -1;
	}
	free(output);
	return result;
}

/* Where the capture of process pid is written while it runs: the
 * partial file beside an existing -o, or the capture's own path. */
static char *writing_path(const struct launch *launch, pid_t pid)
{
	return launch->partial != NULL
	               ? strdup(launch->partial)
	               : capture_path(launch->cwd, launch->options, launch->argv[0], pid);
}

/* Sets the child's environment for the preload library.  Returns 0 or
 * -ENOMEM. */
static int set_child_environment(const struct launch *launch)
{
	const struct run_options *options = launch->options;
	char number[32];
	int failed = 0;

	char *output = writing_path(launch, getpid());
	if (output == NULL)
		return -ENOMEM;
	failed |= setenv("LD_PRELOAD", launch->ld_preload, 1);
	failed |= setenv(MEMSCOPE_ENV_OUTPUT, output, 1);
	snprintf(number, sizeof(number), "%ld", (long)getpid());
	failed |= setenv(MEMSCOPE_ENV_ROOT_PID, number, 1);
	failed |= setenv(MEMSCOPE_ENV_BACKEND, options->backend, 1);
	failed |= setenv(MEMSCOPE_ENV_ALLOCATOR, options->allocator, 1);
	if (options->capture != NULL)
		failed |= setenv(MEMSCOPE_ENV_CAPTURE, options->capture, 1);
	else
		failed |= unsetenv(MEMSCOPE_ENV_CAPTURE);
	snprintf(number, sizeof(number), "%ld", options->stack_depth);
	failed |= setenv(MEMSCOPE_ENV_STACK_DEPTH, number, 1);
	snprintf(number, sizeof(number), "%ld", options->timeline_ms);
	failed |= setenv(MEMSCOPE_ENV_TIMELINE_MS, number, 1);
	if (options->sample_interval != 0) {
		snprintf(number, sizeof(number), "%llu", (unsigned long long)options->sample_interval);
		failed |= setenv(MEMSCOPE_ENV_SAMPLE_INTERVAL, number, 1);
	} else {
		failed |= unsetenv(MEMSCOPE_ENV_SAMPLE_INTERVAL);
	}
	if (options->sample_seed != NULL)
		failed |= setenv(MEMSCOPE_ENV_SAMPLE_SEED, options->sample_seed, 1);
	else
		failed |= unsetenv(MEMSCOPE_ENV_SAMPLE_SEED);
	if (options->exact_above != 0) {
		snprintf(number, sizeof(number), "%llu", (unsigned long long)options->exact_above);
		failed |= setenv(MEMSCOPE_ENV_EXACT_ABOVE, number, 1);
	} else {
		failed |= unsetenv(MEMSCOPE_ENV_EXACT_ABOVE);
	}
	if (options->event_budget != 0) {
		snprintf(number, sizeof(number), "%llu", (unsigned long long)options->event_budget);
		failed |= setenv(MEMSCOPE_ENV_EVENT_BUDGET, number, 1);
	} else {
		failed |= unsetenv(MEMSCOPE_ENV_EVENT_BUDGET);
	}
	/* Unset rather than "0": a value left in the user's environment must
	 * not turn following on. */
	if (options->follow_fork)
		failed |= setenv(MEMSCOPE_ENV_FOLLOW_FORK, "1", 1);
	else
		failed |= unsetenv(MEMSCOPE_ENV_FOLLOW_FORK);
	if (options->no_follow_exec)
		failed |= setenv(MEMSCOPE_ENV_FOLLOW_EXEC, "0", 1);
	else
		failed |= unsetenv(MEMSCOPE_ENV_FOLLOW_EXEC);
	if (launch->drain != NULL)
		failed |= setenv(RING_WINDOW_ENV, launch->drain, 1);
	else
		failed |= unsetenv(RING_WINDOW_ENV);
	free(output);
	return failed != 0 ? -ENOMEM : 0;
}

/* execvp's fallback for a file execve cannot run: a script without "#!" is
 * given to /bin/sh. */
static void exec_with_shell(const struct launch *launch)
{
	size_t count = 0;

	while (launch->argv[count] != NULL)
		count++;
	char **shell_argv = calloc(count + 2, sizeof(*shell_argv));
	if (shell_argv == NULL)
		return;
	shell_argv[0] = (char *)"/bin/sh";
	shell_argv[1] = (char *)launch->program;
	for (size_t i = 1; i < count; i++)
		shell_argv[i + 1] = launch->argv[i];
	execv("/bin/sh", shell_argv);
	free(shell_argv);
}

/* The child: waits for the parent's go (it has created the capture file),
 * then becomes the program.  Anything other than a go byte on the channel
 * means memscope gave up, and the program must not run.  If exec fails, its
 * errno goes back on the channel. */
static _Noreturn void run_child(const struct launch *launch, int channel)
{
	char go;
	ssize_t received;
	int err;

	restore_signals(launch->signals);
	do
		received = read(channel, &go, 1);
	while (received < 0 && errno == EINTR);
	if (received != 1)
		_exit(EXIT_FAILURE);

	err = set_child_environment(launch);
	if (err == 0) {
		execv(launch->program, launch->argv);
		err = errno;
		if (err == ENOEXEC && !launch->is_elf) {
			exec_with_shell(launch);
			err = errno;
		}
	} else {
		err = -err;
	}
	ssize_t sent = write(channel, &err, sizeof(err));
	(void)sent;
	_exit(EXIT_NOT_FOUND);
}

/* Waits for the child to end and reaps it.  It is first waited for without
 * being reaped, so that forwarding stops while its pid cannot yet be reused.
 * Returns 0 with *status set, or a negative errno. */
static int wait_for_child(pid_t pid, int *status)
{
	siginfo_t info;

	while (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) != 0) {
		if (errno != EINTR)
			return -errno;
	}
	forward_target = 0;
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static bool timespec_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Prints a word so that a shell reads it back as the same word. */
static void print_shell_word(FILE *out, const char *word)
{
	if (word[0] != '\0' && strspn(word, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				      "0123456789_-+=.,/:@%") == strlen(word)) {
		fputs(word, out);
		return;
	}
	fputc('\'', out);
	for (const char *c = word; *c != '\0'; c++) {
		if (*c == '\'')
			fputs("'\\''", out);
		else
			fputc(*c, out);
	}
	fputc('\'', out);
}

/* Lists the captures that traced children wrote next to the main one: the
 * preload library names them memscope.PROGRAM.PID.memscope.  "New" is judged
 * against the main capture's own creation time rather than a clock read
 * here, because the filesystem stamps files with its own, coarser clock. */
static void list_child_captures(const char *output, const struct timespec *since)
{
	static const char prefix[] = "memscope.";
	static const char suffix[] = ".memscope";
	const char *slash = strrchr(output, '/');
	char *dir_path = strndup(output, slash == output ? 1 : (size_t)(slash - output));
	char **names = NULL;
	size_t count = 0;
	size_t capacity = 0;
	DIR *dir = NULL;
	struct dirent *entry;

	if (dir_path == NULL)
		goto out;
	dir = opendir(dir_path);
	if (dir == NULL) {
		fprintf(stderr, "memscope: cannot list %s for the captures of child processes: %s\n",
			dir_path, strerror(errno));
		goto out;
	}
	while ((entry = readdir(dir)) != NULL) {
		size_t length = strlen(entry->d_name);
		struct stat st;

		if (length <= strlen(prefix) + strlen(suffix) ||
		    strncmp(entry->d_name, prefix, strlen(prefix)) != 0 ||
		    strcmp(entry->d_name + length - strlen(suffix), suffix) != 0 ||
		    strcmp(entry->d_name, slash + 1) == 0)
			continue;
		if (fstatat(dirfd(dir), entry->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode) ||
		    timespec_before(&st.st_mtim, since))
			continue;
		if (count == capacity) {
			size_t grown = capacity == 0 ? 16 : capacity * 2;
			char **larger = realloc(names, grown * sizeof(*names));
			if (larger == NULL)
				break;
			names = larger;
			capacity = grown;
		}
		names[count] = strdup(entry->d_name);
		if (names[count] == NULL)
			break;
		count++;
	}
	if (count == 0)
		goto out;

	qsort(names, count, sizeof(*names), compare_strings);
	fprintf(stderr, "memscope: child processes and new images (exec) wrote %zu more capture%s:\n",
		count, count == 1 ? "" : "s");
	for (size_t i = 0; i < count; i++) {
		char *path = path_join(dir_path, names[i]);
		fprintf(stderr, "  %s\n", path != NULL ? path : names[i]);
		free(path);
	}
out:
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
	if (dir != NULL)
		closedir(dir);
	free(dir_path);
}

/* The summary of the capture at path on stderr, its names (the
 * program's, its functions') shown safely (visible.h). */
static void print_summary(const char *path)
{
	struct terminal_progress progress;
	terminal_progress_init(&progress, "memscope");
	struct visible visible;
	visible_begin(&visible, stderr);
	report_print_summary(path, &progress.replay, visible.stream);
	visible_finish(&visible);
}

/* The capture a process's new image was traced into, if path's capture
 * ended in an exec (its INFO exec_capture, which the preload library
 * records at the exec); NULL otherwise. */
static char *next_image(const char *path)
{
	struct capture_reader *reader;
	if (capture_reader_open(path, &reader, NULL) < 0)
		return NULL;
	/* A capture with its trailer did not end in an exec: its end block
	 * says so without the events being read. */
	struct capture_trailer trailer;
	if (capture_reader_find_trailer(reader, &trailer) == 0) {
		capture_reader_destroy(reader);
		return NULL;
	}
	char *next = NULL;
	struct capture_record record;
	while (capture_reader_next(reader, &record) == 1) {
		if (record.type == CAPTURE_RECORD_INFO && strcmp(record.u.info.key, "exec_capture") == 0) {
			free(next);
			next = strdup(record.u.info.value);
		} else if (record.type == CAPTURE_RECORD_TRAILER) {
			/* The process went on as it was: its exec failed. */
			free(next);
			next = NULL;
		}
	}
	capture_reader_destroy(reader);
	struct stat st;
	if (next != NULL && (stat(next, &st) != 0 || st.st_size == 0)) {
		free(next);
		next = NULL;
	}
	return next;
}

/* Where a chain of execs from output ended (a wrapper script's, pyenv's:
 * the program the user meant), and after how many; NULL if output did
 * not exec. */
static char *last_image(const char *output, int *execs)
{
	char *last = NULL;
	*execs = 0;
	for (char *next = next_image(output); next != NULL && *execs < 64; next = next_image(last)) {
		free(last);
		last = next;
		(*execs)++;
	}
	return last;
}

/* What memscope says once the program has ended (killed by signal_number,
 * or 0).  An empty capture is reported even with --quiet: a run that
 * silently recorded nothing is the worst outcome a tracker can have. */
static void print_outcome(const struct run_options *options, const char *output,
			  const struct timespec *created, int signal_number)
{
	struct stat st;

	if (stat(output, &st) != 0) {
		fprintf(stderr, "memscope: the capture %s is gone (%s): something removed it while "
			"the program ran\n", output, strerror(errno));
		return;
	}
	if (st.st_size == 0 && signal_number != 0) {
		fprintf(stderr, "memscope: the capture %s is empty: the program was killed before "
			"memscope's preload library wrote anything, or the library did not start "
			"(see any message from memscope or ld.so above)\n", output);
	} else if (st.st_size == 0) {
		fprintf(stderr, "memscope: the capture %s is empty: memscope's preload library did "
			"not start in the program (see any message from memscope or ld.so above). "
			"The program may clear LD_PRELOAD, or hand its work to a child process "
			"(try --follow-fork)\n", output);
	} else if (!options->quiet) {
		fprintf(stderr, "memscope: wrote %s (%lld bytes)\n", output, (long long)st.st_size);
		/* A capture without its trailer is read whole for the summary:
		 * say how that goes (the line is cleared before the summary). */
		print_summary(output);
	}
	if (options->quiet)
		return;
	/* A new image after an exec writes one of these too. */
	if (options->follow_fork || !options->no_follow_exec)
		list_child_captures(output, created);
	/* A program started through a wrapper that execs it: its own capture
	 * is the one the user came for. */
	int execs = 0;
	char *last = st.st_size > 0 && !options->no_follow_exec ? last_image(output, &execs) : NULL;
	if (last != NULL) {
		fprintf(stderr, "memscope: the program replaced itself (exec) %d time%s; its last "
		        "image wrote %s:\n", execs, execs == 1 ? "" : "s", last);
		print_summary(last);
	}
	if (st.st_size > 0) {
		fputs("memscope: run `memscope report ", stderr);
		print_shell_word(stderr, last != NULL ? last : output);
		fputs("` for the full report\n", stderr);
	}
	free(last);
}

/* Ends memscope the way the program ended: killed by signal_number.  Returns
 * the shell's 128 + signal if the signal does not end memscope. */
static int die_like(int signal_number)
{
	struct rlimit core;
	struct sigaction action = { .sa_handler = SIG_DFL };
	sigset_t unblock;

	/* The program has dumped its core, if it was going to; memscope's would
	 * only overwrite it. */
	if (getrlimit(RLIMIT_CORE, &core) == 0) {
		core.rlim_cur = 0;
		setrlimit(RLIMIT_CORE, &core);
	}
	sigemptyset(&action.sa_mask);
	sigaction(signal_number, &action, NULL);
	sigemptyset(&unblock);
	sigaddset(&unblock, signal_number);
	sigprocmask(SIG_UNBLOCK, &unblock, NULL);
	fflush(stderr);
	raise(signal_number);
	return 128 + signal_number;
}

/* Starts the program, waits for it, and reports.
 *
 * The default capture name holds the child's pid, yet a capture file that
 * cannot be created must stop memscope before the program runs (a run whose
 * results are lost is worse than no run).  So the child is forked first and
 * waits on a socket for a go byte; meanwhile the parent, which now knows the
 * pid, creates the very file the preload library will write, and sends go
 * only once that worked.  If it failed, the parent closes the socket instead
 * and the child exits without exec.  This checks the real file (permissions,
 * read-only filesystems, a directory in the way) rather than guessing from
 * the directory, and costs one round trip.  A socket rather than a pipe lets
 * the parent send with MSG_NOSIGNAL, so a child that already died cannot kill
 * memscope with SIGPIPE.  The same socket, close-on-exec in the child, brings
 * back exec's errno, or end-of-file once exec succeeded. */
static int trace(struct launch *launch)
{
	const struct run_options *options = launch->options;
	struct saved_signals saved;
	int channel[2];
	char *output = NULL;
	int status = EXIT_FAILURE;
	int wait_status;
	int exec_error = 0;
	struct stat created;
	ssize_t transferred;
	pid_t pid;
	int fd;
	int err;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, channel) != 0) {
		fprintf(stderr, "memscope: cannot start the program: socketpair: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	/* The program's rings in memory shared with memscope, which writes its
	 * capture: nothing recorded is lost when it dies. */
	struct drain *drain = NULL;
	err = drain_start(&drain);
	if (err < 0)
		fprintf(stderr, "memscope: cannot share memory with the program (%s): it writes "
			"its capture itself, and loses its last events if it is killed\n",
			strerror(-err));
	launch->drain = drain != NULL ? drain_variable(drain) : NULL;
	take_over_signals(&saved);
	launch->signals = &saved;

	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "memscope: cannot start the program: fork: %s\n", strerror(errno));
		restore_signals(&saved);
		close(channel[0]);
		close(channel[1]);
		drain_finish(drain, 0, 0);
		return EXIT_FAILURE;
	}
	if (pid == 0) {
		close(channel[0]);
		run_child(launch, channel[1]);
	}
	close(channel[1]);
	forward_target = pid;
	sigprocmask(SIG_SETMASK, &saved.mask, NULL);

	output = writing_path(launch, pid);
	fd = output != NULL ? open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
	if (fd < 0) {
		err = output != NULL ? errno : ENOMEM;
		close(channel[0]);
		wait_for_child(pid, &wait_status);
		drain_finish(drain, pid, wait_status);
		restore_signals(&saved);
		fprintf(stderr, "memscope: cannot write capture to %s: %s; choose another with -o\n",
			output != NULL ? output : "?", strerror(err));
		goto out;
	}
	if (fstat(fd, &created) != 0)
		created.st_mtim = (struct timespec){ 0 };
	close(fd);

	do
		transferred = send(channel[0], "g", 1, MSG_NOSIGNAL);
	while (transferred < 0 && errno == EINTR);
	do
		transferred = recv(channel[0], &exec_error, sizeof(exec_error), MSG_WAITALL);
	while (transferred < 0 && errno == EINTR);
	close(channel[0]);

	err = wait_for_child(pid, &wait_status);
	drain_finish(drain, pid, err < 0 ? 0 : wait_status);
	restore_signals(&saved);
	if (err < 0) {
		fprintf(stderr, "memscope: lost the program: waitpid: %s\n", strerror(-err));
		goto out;
	}
	if (transferred == (ssize_t)sizeof(exec_error)) {
		/* Nothing ran, so there is nothing to keep. */
		unlink(output);
		if (exec_error == ENOENT) {
			/* The file was there a moment ago, so what execve misses is
			 * what it names: the ELF interpreter or the #! line's. */
			fprintf(stderr, "memscope: cannot run '%s': %s names an interpreter (the "
				"dynamic loader, or the program of its #! line) that does not "
				"exist\n", launch->argv[0], launch->program);
			status = EXIT_NOT_FOUND;
		} else {
			status = report_unrunnable(launch->argv[0], launch->program, -exec_error);
		}
		goto out;
	}

	if (launch->partial != NULL) {
		/* The new capture exists: now it replaces the old one. */
		char *final = capture_path(launch->cwd, options, launch->argv[0], pid);
		if (final == NULL || rename(output, final) != 0) {
			fprintf(stderr, "memscope: cannot put the capture in place of %s (%s): it is "
				"%s\n", final != NULL ? final : options->output,
				strerror(final != NULL ? errno : ENOMEM), output);
			free(final);
		} else {
			free(output);
			output = final;
		}
	}
	if (WIFSIGNALED(wait_status)) {
		int signal_number = WTERMSIG(wait_status);
		if (!options->quiet)
			fprintf(stderr, "memscope: program killed by signal %d (%s)%s\n", signal_number,
				strsignal(signal_number), WCOREDUMP(wait_status) ? ", core dumped" : "");
		print_outcome(options, output, &created.st_mtim, signal_number);
		free(output);
		return die_like(signal_number);
	}
	print_outcome(options, output, &created.st_mtim, 0);
	status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : EXIT_FAILURE;
out:
	free(output);
	return status;
}

int run_command(int argc, char **argv)
{
	struct run_options options;
	struct stat st;
	char *program = NULL;
	char *cwd = NULL;
	char *preload = NULL;
	char *jemalloc = NULL;
	char *ld_preload = NULL;
	int status = EXIT_FAILURE;
	enum program_kind kind;
	struct launch launch;
	int err;

	int parsed = parse_options(argc, argv, &options);
	if (parsed != 0)
		return parsed > 0 ? EXIT_SUCCESS : EXIT_USAGE;
	char **program_argv = argv + options.program_index;

	err = find_program(program_argv[0], &program, &st);
	if (err < 0) {
		status = report_unrunnable(program_argv[0], program, err);
		goto out;
	}
	kind = inspect_program(program);
	if (refuse_kind(program, kind) || refuse_secure_mode(program, &st))
		goto out;

	cwd = getcwd(NULL, 0);
	if (cwd == NULL) {
		fprintf(stderr, "memscope: cannot tell the current directory, where the capture and "
			"relative paths live: %s\n", strerror(errno));
		goto out;
	}
	/* On the C library's malloc, the preload library without jemalloc. */
	err = find_preload_library(cwd,
	                           strcmp(options.allocator, "libc") == 0 ? MEMSCOPE_PRELOAD_LIBC_NAME
	                                                                  : MEMSCOPE_PRELOAD_NAME,
	                           &preload);
	if (err == 0 && strcmp(options.allocator, "jemalloc") == 0)
		err = find_jemalloc(cwd, &jemalloc);
	if (err == 0) {
		ld_preload = build_ld_preload(preload, jemalloc);
		if (ld_preload == NULL)
			err = -ENOMEM;
	}
	if (err < 0) {
		if (err == -ENOMEM)
			fprintf(stderr, "memscope: out of memory\n");
		goto out;
	}

	launch = (struct launch){
		.options = &options,
		.cwd = cwd,
		.program = program,
		.argv = program_argv,
		.ld_preload = ld_preload,
		.is_elf = kind != PROGRAM_NOT_ELF,
	};
	if (options.output != NULL && prepare_output(&launch) < 0)
		goto out;
	status = trace(&launch);
	free(launch.partial);
out:
	free(ld_preload);
	free(jemalloc);
	free(preload);
	free(cwd);
	free(program);
	return status;
}
