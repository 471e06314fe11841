/* ring_window.c - see ring_window.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ring_window.h"

#define RING_WINDOWS_NAME "memscope-rings"
#define RING_WINDOW_LAYOUT                                                                      \
	((uint32_t)(sizeof(struct ring_window) * 31 + sizeof(struct ring_window_table)))

static uint64_t file_size(void)
{
	return (uint64_t)(RING_WINDOW_SLOTS + 1) * RING_WINDOW_SIZE;
}

uint64_t ring_windows_size(void)
{
	return file_size();
}

static uint64_t window_offset(uint32_t slot)
{
	return (uint64_t)(slot + 1) * RING_WINDOW_SIZE;
}

int ring_windows_create(int *fd_out, void **base_out)
{
	int fd = memfd_create(RING_WINDOWS_NAME, MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)file_size()) != 0) {
		int error = -errno;
		close(fd);
		return error;
	}
	void *base = mmap(NULL, file_size(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd,
	                  0);
	if (base == MAP_FAILED) {
		int error = -errno;
		close(fd);
		return error;
	}
	struct ring_window_table *table = base;
	table->magic = RING_WINDOW_MAGIC;
	table->layout = RING_WINDOW_LAYOUT;
	*fd_out = fd;
	*base_out = base;
	return 0;
}

struct ring_window *ring_windows_claimed(void *base, uint32_t slot)
{
	struct ring_window_table *table = base;
	if (slot >= RING_WINDOW_SLOTS || atomic_load(&table->claimed[slot]) == 0)
		return NULL;
	struct ring_window *window = (struct ring_window *)((char *)base + window_offset(slot));
	/* Claimed a moment ago: the process fills the header next. */
	if (atomic_load_explicit(&window->magic, memory_order_acquire) != RING_WINDOW_MAGIC ||
	    window->layout != RING_WINDOW_LAYOUT)
		return NULL;
	return window;
}

/* The state letter and start time of process pid, from /proc/<pid>/stat;
 * false when it is gone. */
static bool process_stat(int pid, char *state, uint64_t *started, long *threads)
{
	char path[64], text[1024];
	if (pid > 0)
		snprintf(path, sizeof path, "/proc/%d/stat", pid);
	else
		snprintf(path, sizeof path, "/proc/self/stat");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t length = read(fd, text, sizeof text - 1);
	close(fd);
	if (length <= 0)
		return false;
	text[length] = '\0';
	/* The name, in parentheses, may hold anything: fields follow the last
	 * ')'.  State is field 3, the start time field 22. */
	char *fields = strrchr(text, ')');
	if (fields == NULL || fields[1] != ' ')
		return false;
	*state = fields[2];
	char *cursor = fields + 2;
	*threads = 0;
	for (int field = 3; field < 22 && cursor != NULL; field++) {
		cursor = strchr(cursor, ' ');
		if (cursor != NULL)
			cursor++;
		if (field == 19 && cursor != NULL)
			*threads = strtol(cursor, NULL, 10); /* field 20: num_threads */
	}
	*started = cursor != NULL ? strtoull(cursor, NULL, 10) : 0;
	return true;
}

bool ring_window_in_use(const struct ring_window *window, uint32_t slot, bool mappings)
{
	char state;
	uint64_t started;
	long threads;
	if (!process_stat((int)window->pid, &state, &started, &threads) || state == 'X' ||
	    started != window->started)
		return false;
	/* A main thread that left through pthread_exit is a zombie while the
	 * other threads run on; it has no mappings to read then, and an exec
	 * (by any thread) would have made the process's leader live again. */
	if (state == 'Z')
		return threads > 1;
	if (!mappings)
		return true;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/maps", (int)window->pid);
	FILE *maps = fopen(path, "re");
	if (maps == NULL)
		return false;
	char line[4096 + 128];
	uint64_t offset = window_offset(slot);
	bool found = false;
	while (!found && fgets(line, sizeof line, maps) != NULL) {
		uint64_t start, end, at;
		char permissions[8];
		if (strstr(line, "/memfd:" RING_WINDOWS_NAME) == NULL ||
		    sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64, &start, &end, permissions,
		           &at) != 4)
			continue;
		found = at == offset && start == window->start;
	}
	fclose(maps);
	return found;
}

void ring_windows_recycle(int fd, void *base, uint32_t slot)
{
	struct ring_window_table *table = base;
	/* Zeroes the window: its magic too, so it reads as unclaimed. */
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)window_offset(slot),
	              (off_t)RING_WINDOW_SIZE) != 0)
		return;
	atomic_store(&table->claimed[slot], 0);
}

/* "pid:fd" */
static int open_shared(const char *drain)
{
	char *end;
	errno = 0;
	long pid = strtol(drain, &end, 10);
	if (errno != 0 || *end != ':' || pid <= 0)
		return -EINVAL;
	long fd = strtol(end + 1, &end, 10);
	if (errno != 0 || *end != '\0' || fd < 0)
		return -EINVAL;
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/fd/%ld", pid, fd);
	int opened = open(path, O_RDWR | O_CLOEXEC);
	return opened < 0 ? -errno : opened;
}

struct ring_window *ring_window_attach(const char *drain, const char *output)
{
	int fd = open_shared(drain);
	if (fd < 0) {
		fprintf(stderr, "memscope: cannot reach memscope's shared memory (%s=%s): %s; "
		        "this process writes its own capture, which a kill cuts short\n",
		        RING_WINDOW_ENV, drain, strerror(-fd));
		return NULL;
	}
	struct ring_window *window = NULL;
	struct ring_window_table *table =
	    mmap(NULL, sizeof *table, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (table == MAP_FAILED || table->magic != RING_WINDOW_MAGIC ||
	    table->layout != RING_WINDOW_LAYOUT) {
		fprintf(stderr, "memscope: the shared memory %s names is not this memscope's "
		                "(another build?): this process writes its own capture\n",
		        RING_WINDOW_ENV);
		goto out;
	}
	uint32_t slot = 0;
	for (; slot < RING_WINDOW_SLOTS; slot++) {
		uint32_t expected = 0;
		if (atomic_compare_exchange_strong(&table->claimed[slot], &expected, 1))
			break;
	}
	if (slot == RING_WINDOW_SLOTS) {
		fprintf(stderr, "memscope: %u processes are traced already in this run: this "
		                "one writes its own capture, which a kill cuts short\n",
		        RING_WINDOW_SLOTS);
		goto out;
	}
	void *memory = mmap(NULL, RING_WINDOW_SIZE, PROT_READ | PROT_WRITE,
	                    MAP_SHARED | MAP_NORESERVE, fd, (off_t)window_offset(slot));
	if (memory == MAP_FAILED) {
		fprintf(stderr, "memscope: cannot map memscope's shared memory: %s; this process "
		        "writes its own capture\n", strerror(errno));
		atomic_store(&table->claimed[slot], 0);
		goto out;
	}
	/* A fork's child must not write to our rings: it does not get them
	 * (and ring_window_forget puts private memory in their place). */
	madvise(memory, RING_WINDOW_SIZE, MADV_DONTFORK);
	window = memory;
	window->pid = (int32_t)getpid();
	char state;
	long threads;
	if (!process_stat(0, &state, &window->started, &threads))
		window->started = 0;
	window->start = (uintptr_t)memory;
	window->size = RING_WINDOW_SIZE;
	atomic_store(&window->used, (sizeof *window + 4095) & ~(uint64_t)4095);
	snprintf(window->output, sizeof window->output, "%s", output);
	window->layout = RING_WINDOW_LAYOUT;
	atomic_store(&window->state, RING_WINDOW_CLAIMED);
	/* Last: memscope reads the header once the magic is there. */
	atomic_store_explicit(&window->magic, RING_WINDOW_MAGIC, memory_order_release);
out:
	if (table != MAP_FAILED)
		munmap(table, sizeof *table);
	close(fd);
	return window;
}

void *ring_window_allocate(struct ring_window *window, uint64_t size)
{
	uint64_t rounded = (size + 4095) & ~(uint64_t)4095;
	uint64_t at = atomic_fetch_add(&window->used, rounded);
	if (at + rounded > window->size || at + rounded < at)
		return NULL;
	return (char *)window + at;
}

void ring_window_forget(struct ring_window *window)
{
	mmap(window, RING_WINDOW_SIZE, PROT_READ | PROT_WRITE,
	     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
}
