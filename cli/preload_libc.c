/* preload_libc.c - jemalloc's entry points, as memscope's runtime calls
 * them, served by the C library: linked into libmemscope_preload_libc.so,
 * the preload library for programs left on the C library's malloc
 * (`memscope run --allocator libc`, the lockfree backend's default).
 *
 * That library does not load jemalloc at all: jemalloc, with the C++
 * runtime it depends on, costs a process about 5 ms to load and start,
 * which is 1% of a half-second run.  The runtime only calls these when the
 * program is on jemalloc, so here they are a fallback that keeps the
 * library whole: blocks come from the C library, and mallctl answers that
 * there is no such name.  They are not exported (preload.map).
 */
#include <dlfcn.h>
#include <errno.h>
#include <string.h>

#include <jemalloc/jemalloc.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *block, size_t size);
extern void __libc_free(void *block);
extern void *__libc_memalign(size_t alignment, size_t size);

/* The C library's: the name alone would lead back to memscope's own. */
static size_t usable_size(const void *block)
{
	static size_t (*libc_usable_size)(void *);
	if (libc_usable_size == NULL)
		libc_usable_size = (size_t (*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
	return libc_usable_size != NULL ? libc_usable_size((void *)block) : 0;
}

#define LG_ALIGN_MASK 0x3f

void *mallocx(size_t size, int flags)
{
	size_t alignment = (flags & LG_ALIGN_MASK) != 0 ? (size_t)1 << (flags & LG_ALIGN_MASK) : 0;
	void *block = alignment != 0 ? __libc_memalign(alignment, size) : __libc_malloc(size);
	if (block != NULL && (flags & MALLOCX_ZERO) != 0)
		memset(block, 0, size);
	return block;
}

void *rallocx(void *block, size_t size, int flags)
{
	(void)flags;
	return __libc_realloc(block, size);
}

size_t xallocx(void *block, size_t size, size_t extra, int flags)
{
	(void)size;
	(void)extra;
	(void)flags;
	/* Never resized in place: the block keeps what it has. */
	return usable_size(block);
}

size_t sallocx(const void *block, int flags)
{
	(void)flags;
	return usable_size(block);
}

void dallocx(void *block, int flags)
{
	(void)flags;
	__libc_free(block);
}

size_t nallocx(size_t size, int flags)
{
	(void)flags;
	return size;
}

int mallctl(const char *name, void *old, size_t *old_size, void *new, size_t new_size)
{
	(void)name;
	(void)old;
	(void)old_size;
	(void)new;
	(void)new_size;
	return ENOENT;
}
