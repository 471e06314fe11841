/* timeline.c - see timeline.h.  Reads /proc/self with pread(2) into stack
 * buffers: the sampler runs every 10 ms and must stay cheap. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/single_threaded.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jemalloc/jemalloc.h>

#include "own_arena.h"
#include "own_fd.h"
#include "timeline.h"

void timeline_init(struct timeline *timeline)
{
	*timeline = (struct timeline){
		.statm = {.fd = -1}, .stat = {.fd = -1}, .io = {.fd = -1},
	};
}

/* Whether file's descriptor is still the file the timeline opened. */
static bool still_ours(const struct proc_file *file)
{
	struct stat st;
	return fstat(file->fd, &st) == 0 && st.st_dev == file->device && st.st_ino == file->inode;
}

static void close_file(struct proc_file *file)
{
	if (file->fd >= 0 && still_ours(file))
		close(file->fd);
	file->fd = -1;
}

void timeline_finish(struct timeline *timeline)
{
	close_file(&timeline->statm);
	close_file(&timeline->stat);
	close_file(&timeline->io);
}

/* Reads the whole of a /proc/self file (its text is made anew at offset 0),
 * opening it first if it is not open, or no longer ours: then its number
 * belongs to the program, which keeps it. */
static ssize_t read_file(struct proc_file *file, const char *path, char *buffer, size_t size)
{
	if (file->fd >= 0 && !still_ours(file))
		file->fd = -1;
	if (file->fd < 0) {
		int fd = own_fd_move(open(path, O_RDONLY | O_CLOEXEC));
		if (fd < 0)
			return -1;
		struct stat st;
		if (fstat(fd, &st) != 0) {
			close(fd);
			return -1;
		}
		*file = (struct proc_file){.fd = fd, .device = st.st_dev, .inode = st.st_ino};
	}
	ssize_t length = pread(file->fd, buffer, size - 1, 0);
	if (length < 0)
		return -1;
	buffer[length] = '\0';
	return length;
}

static uint64_t jemalloc_stat(const char *name)
{
	size_t value = 0;
	size_t size = sizeof value;
	if (mallctl(name, &value, &size, NULL, 0) != 0)
		return 0;
	return value;
}

/* total - part, never below zero: the figures are read one after another. */
static uint64_t less(uint64_t total, uint64_t part)
{
	return total > part ? total - part : 0;
}

static void read_jemalloc(struct capture_sample *sample)
{
	/* jemalloc's statistics are a snapshot refreshed by bumping the epoch. */
	uint64_t epoch = 1;
	size_t size = sizeof epoch;
	mallctl("epoch", &epoch, &size, &epoch, size);
	/* The program's figures: memscope's own arena taken off. */
	struct own_arena_stats own;
	own_arena_stats(&own);
	sample->jemalloc_allocated = less(jemalloc_stat("stats.allocated"), own.allocated);
	sample->jemalloc_active = less(jemalloc_stat("stats.active"), own.active);
	sample->jemalloc_resident = less(jemalloc_stat("stats.resident"), own.resident);
	sample->jemalloc_mapped = less(jemalloc_stat("stats.mapped"), own.mapped);
	sample->jemalloc_retained = less(jemalloc_stat("stats.retained"), own.retained);
}

static void read_rss_and_threads(struct timeline *timeline, struct capture_sample *sample)
{
	char buffer[1024];
	if (read_file(&timeline->statm, "/proc/self/statm", buffer, sizeof buffer) > 0) {
		/* "size resident shared ...", in pages. */
		char *end;
		strtoull(buffer, &end, 10);
		char *resident = end;
		unsigned long long pages = strtoull(resident, &end, 10);
		if (end != resident)
			sample->rss_bytes = pages * (uint64_t)sysconf(_SC_PAGESIZE);
	}
	/* One thread, and no other ever started (glibc's flag): no need to
	 * ask.  That is every sample of a single-threaded program traced by a
	 * sampling backend, whose writer's pass runs on the program's thread. */
	if (__libc_single_threaded) {
		sample->threads = 1;
		return;
	}
	if (read_file(&timeline->stat, "/proc/self/stat", buffer, sizeof buffer) > 0) {
		/* Field 20 is num_threads; the command name (field 2) may hold
		 * spaces, so count from the closing parenthesis. */
		char *cursor = strrchr(buffer, ')');
		for (int field = 2; cursor != NULL && field < 20; field++)
			cursor = strchr(cursor + 1, ' ');
		if (cursor != NULL)
			sample->threads = (uint32_t)strtoul(cursor + 1, NULL, 10);
	}
}

/* The number after "name: " at the start of a line of text, or 0. */
static uint64_t field_value(const char *text, const char *name)
{
	size_t length = strlen(name);
	for (const char *line = text; line != NULL; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (strncmp(line, name, length) == 0 && line[length] == ':')
			return strtoull(line + length + 1, NULL, 10);
	}
	return 0;
}

/* Parsed by hand: sscanf, tried on every line, took a third of a sample. */
static void read_io(struct timeline *timeline, struct capture_sample *sample)
{
	char buffer[1024];
	if (read_file(&timeline->io, "/proc/self/io", buffer, sizeof buffer) <= 0)
		return;
	sample->io_read_bytes = field_value(buffer, "rchar");
	sample->io_write_bytes = field_value(buffer, "wchar");
}

void timeline_open(struct timeline *timeline)
{
	char buffer[1024];
	read_file(&timeline->statm, "/proc/self/statm", buffer, sizeof buffer);
	read_file(&timeline->stat, "/proc/self/stat", buffer, sizeof buffer);
	read_file(&timeline->io, "/proc/self/io", buffer, sizeof buffer);
}

/* The state letter of a stat file's text ("tid (comm) S ...": the name
 * may hold spaces and parentheses), 0 if unknown. */
static char state_in(const char *text, ssize_t length)
{
	if (length <= 0)
		return 0;
	const char *end = strrchr(text, ')');
	return end != NULL && end[1] == ' ' ? end[2] : 0;
}

char timeline_main_thread_state(struct timeline *timeline)
{
	char buffer[1024];
	return state_in(buffer, read_file(&timeline->stat, "/proc/self/stat", buffer, sizeof buffer));
}

char timeline_task_state(long tid)
{
	char path[64], text[512];
	snprintf(path, sizeof path, "/proc/self/task/%ld/stat", tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t length = read(fd, text, sizeof text - 1);
	close(fd);
	if (length > 0)
		text[length] = '\0';
	return state_in(text, length);
}

void timeline_sample(struct timeline *timeline, struct capture_sample *sample, bool jemalloc_heap)
{
	struct rusage usage;
	if (getrusage(RUSAGE_SELF, &usage) == 0) {
		sample->cpu_user_ns = (uint64_t)usage.ru_utime.tv_sec * 1000000000u +
		                      (uint64_t)usage.ru_utime.tv_usec * 1000u;
		sample->cpu_system_ns = (uint64_t)usage.ru_stime.tv_sec * 1000000000u +
		                        (uint64_t)usage.ru_stime.tv_usec * 1000u;
	}
	read_rss_and_threads(timeline, sample);
	/* jemalloc is loaded with memscope even when the program's blocks
	 * come from the C library: its figures are then not the program's. */
	if (jemalloc_heap)
		read_jemalloc(sample);
	read_io(timeline, sample);
}
