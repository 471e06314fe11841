/* leak_roots.c - see leak_roots.h. */
#include "leak_roots.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

/* One line of /proc/self/maps. */
struct mapping {
	uintptr_t start, end;
	bool readable, writable, shared;
	const char *path;          /* "" for an anonymous mapping */
};

struct output {
	struct leak_range *roots;
	size_t capacity;
	size_t count;
	bool overflowed;
};

static const char *hex(const char *p, const char *end, uintptr_t *value)
{
	uintptr_t v = 0;
	for (; p < end; p++) {
		unsigned digit;
		if (*p >= '0' && *p <= '9')
			digit = (unsigned)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			digit = (unsigned)(*p - 'a' + 10);
		else
			break;
		v = v << 4 | digit;
	}
	*value = v;
	return p;
}

static const char *skip_field(const char *p, const char *end)
{
	while (p < end && *p != ' ')
		p++;
	while (p < end && *p == ' ')
		p++;
	return p;
}

/* "start-end perms offset dev inode   path": false for a line that is not
 * one.  line is NUL-terminated at end. */
static bool parse_mapping(const char *line, const char *end, struct mapping *out)
{
	const char *p = hex(line, end, &out->start);
	if (p == line || p >= end || *p != '-')
		return false;
	const char *q = hex(p + 1, end, &out->end);
	if (q == p + 1 || end - q < 5 || *q != ' ')
		return false;
	out->readable = q[1] == 'r';
	out->writable = q[2] == 'w';
	out->shared = q[4] == 's';
	p = skip_field(q + 1, end); /* perms */
	p = skip_field(p, end);     /* offset */
	p = skip_field(p, end);     /* dev */
	p = skip_field(p, end);     /* inode */
	out->path = p;
	return true;
}

static void emit(struct output *out, uintptr_t start, uintptr_t end)
{
	if (start >= end)
		return;
	if (out->count == out->capacity) {
		out->overflowed = true;
		return;
	}
	out->roots[out->count++] = (struct leak_range){ start, end };
}

/* [start, end) less the own ranges, in pieces. */
static void emit_outside(struct output *out, uintptr_t start, uintptr_t end,
                         const struct leak_range *own, size_t own_count)
{
	while (start < end) {
		/* The own range overlapping [start, end) that starts first. */
		const struct leak_range *first = NULL;
		for (size_t i = 0; i < own_count; i++)
			if (own[i].start < end && own[i].end > start &&
			    (first == NULL || own[i].start < first->start))
				first = &own[i];
		if (first == NULL) {
			emit(out, start, end);
			return;
		}
		if (first->start > start)
			emit(out, start, first->start);
		start = first->end;
	}
}

/* Whether a live block starts in [start, end): blocks sorted by start. */
static bool holds_block(const struct leak_block *blocks, size_t count, uintptr_t start,
                        uintptr_t end)
{
	size_t first = leak_blocks_from(blocks, count, start);
	return first < count && blocks[first].start < end;
}

static bool is_device(const char *path)
{
	return strncmp(path, "/dev/", 5) == 0 && strncmp(path, "/dev/zero", 9) != 0 &&
	       strncmp(path, "/dev/shm/", 9) != 0;
}

/* What a line of /proc/self/maps is, from the ones before it. */
struct walk {
	const struct leak_thread *threads;
	size_t thread_count;
	uintptr_t own_address;
	char own_path[PATH_MAX];       /* "" until the own module's mapping is seen */
	uintptr_t last_end;            /* of the mapping before, and what it was: */
	bool last_module_data;         /* a module's writable segment, a root */
	bool last_own;                 /* a mapping of the own module */
};

/* Where the root in mapping starts: its start, or a stack pointer in it;
 * mapping.end when it is no root. */
static uintptr_t root_start(struct walk *walk, const struct mapping *mapping)
{
	bool file = mapping->path[0] == '/';
	bool own = false;
	if (walk->own_address >= mapping->start && walk->own_address < mapping->end && file) {
		size_t length = strlen(mapping->path);
		if (length < sizeof walk->own_path)
			memcpy(walk->own_path, mapping->path, length + 1);
	}
	if (file && walk->own_path[0] != '\0' && strcmp(mapping->path, walk->own_path) == 0)
		own = true;
	/* The rest of a module's .bss, anonymous, right after its segment. */
	bool tail = mapping->path[0] == '\0' && mapping->start == walk->last_end;
	if (tail)
		own = walk->last_own;
	bool module_data = !own && ((file && !is_device(mapping->path)) ||
	                            (tail && walk->last_module_data));
	walk->last_end = mapping->end;
	walk->last_own = own;
	walk->last_module_data = module_data && mapping->writable;
	if (!mapping->readable || !mapping->writable || mapping->shared || own)
		return mapping->end;

	uintptr_t start = mapping->end;
	bool thread_memory = false;
	for (size_t t = 0; t < walk->thread_count; t++) {
		const struct leak_thread *thread = &walk->threads[t];
		if (thread->stack_pointer >= mapping->start && thread->stack_pointer < start)
			start = thread->stack_pointer;
		if (thread->thread_pointer >= mapping->start && thread->thread_pointer < mapping->end)
			thread_memory = true;
	}
	if (start < mapping->end)
		return start; /* a stack, from its lowest stack pointer up */
	if (module_data || thread_memory || strcmp(mapping->path, "[stack]") == 0)
		return mapping->start;
	return mapping->end;
}

int leak_roots_collect(const struct leak_block *blocks, size_t block_count,
                       const struct leak_thread *threads, size_t thread_count,
                       uintptr_t own_address, const struct leak_range *own, size_t own_count,
                       struct leak_range *roots, size_t capacity, size_t *count)
{
	struct output out = { .roots = roots, .capacity = capacity };
	struct walk walk = { .threads = threads, .thread_count = thread_count,
	                     .own_address = own_address };
	*count = 0;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* A line is at most a path (PATH_MAX) and some 80 characters. */
	char buffer[8192];
	size_t held = 0;
	int error = 0;
	for (;;) {
		ssize_t got = read(fd, buffer + held, sizeof buffer - 1 - held);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			error = -errno;
			break;
		}
		held += (size_t)got;
		size_t used = 0;
		for (;;) {
			char *line = buffer + used;
			char *newline = memchr(line, '\n', held - used);
			if (newline == NULL)
				break;
			*newline = '\0';
			used = (size_t)(newline + 1 - buffer);
			struct mapping mapping;
			if (!parse_mapping(line, newline, &mapping))
				continue;
			uintptr_t start = root_start(&walk, &mapping);
			if (start < mapping.end &&
			    !holds_block(blocks, block_count, mapping.start, mapping.end))
				emit_outside(&out, start, mapping.end, own, own_count);
		}
		memmove(buffer, buffer + used, held - used);
		held -= used;
		if (got == 0)
			break;
		if (held == sizeof buffer - 1) {
			/* A line longer than any /proc/self/maps writes. */
			error = -EINVAL;
			break;
		}
	}
	close(fd);
	*count = out.count;
	if (error == 0 && out.overflowed)
		error = -E2BIG;
	return error;
}
