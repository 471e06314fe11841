/* timeline.c - see timeline.h.  Reads /proc/self with plain read(2) into
 * stack buffers: the sampler runs every 10 ms and must stay cheap. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <jemalloc/jemalloc.h>

#include "own_arena.h"
#include "timeline.h"

static ssize_t read_file(const char *path, char *buffer, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t length = read(fd, buffer, size - 1);
	close(fd);
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

static void read_rss_and_threads(struct capture_sample *sample)
{
	char buffer[1024];
	if (read_file("/proc/self/statm", buffer, sizeof buffer) > 0) {
		unsigned long long pages_total, pages_resident;
		if (sscanf(buffer, "%llu %llu", &pages_total, &pages_resident) == 2)
			sample->rss_bytes = pages_resident * (uint64_t)sysconf(_SC_PAGESIZE);
	}
	if (read_file("/proc/self/stat", buffer, sizeof buffer) > 0) {
		/* Field 20 is num_threads; the command name (field 2) may hold
		 * spaces, so count from the closing parenthesis. */
		char *cursor = strrchr(buffer, ')');
		for (int field = 2; cursor != NULL && field < 20; field++)
			cursor = strchr(cursor + 1, ' ');
		if (cursor != NULL)
			sample->threads = (uint32_t)strtoul(cursor + 1, NULL, 10);
	}
}

static void read_io(struct capture_sample *sample)
{
	char buffer[1024];
	if (read_file("/proc/self/io", buffer, sizeof buffer) <= 0)
		return;
	for (char *line = buffer; line != NULL && *line != '\0'; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		unsigned long long value;
		if (sscanf(line, "rchar: %llu", &value) == 1)
			sample->io_read_bytes = value;
		else if (sscanf(line, "wchar: %llu", &value) == 1)
			sample->io_write_bytes = value;
	}
}

void timeline_sample(struct capture_sample *sample, bool jemalloc_heap)
{
	struct rusage usage;
	if (getrusage(RUSAGE_SELF, &usage) == 0) {
		sample->cpu_user_ns = (uint64_t)usage.ru_utime.tv_sec * 1000000000u +
		                      (uint64_t)usage.ru_utime.tv_usec * 1000u;
		sample->cpu_system_ns = (uint64_t)usage.ru_stime.tv_sec * 1000000000u +
		                        (uint64_t)usage.ru_stime.tv_usec * 1000u;
	}
	read_rss_and_threads(sample);
	/* jemalloc is loaded with memscope even when the program's blocks
	 * come from the C library: its figures are then not the program's. */
	if (jemalloc_heap)
		read_jemalloc(sample);
	read_io(sample);
}
