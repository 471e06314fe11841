/* names.c - the names of backends and capture sources (memscope.h), for
 * the library and for the memscope command, which both parse them. */
#include <errno.h>
#include <string.h>

#include "memscope/memscope.h"

static const char *const backend_names[] = {
	[MEMSCOPE_BACKEND_EXACT] = "exact",
	[MEMSCOPE_BACKEND_LOCKFREE] = "lockfree",
	[MEMSCOPE_BACKEND_ASYNC] = "async",
	[MEMSCOPE_BACKEND_HYBRID] = "hybrid",
};

MEMSCOPE_EXPORT const char *memscope_backend_name(memscope_backend_kind backend)
{
	if ((unsigned)backend >= sizeof backend_names / sizeof backend_names[0])
		return NULL;
	return backend_names[backend];
}

MEMSCOPE_EXPORT int memscope_backend_parse(const char *name, memscope_backend_kind *out)
{
	for (unsigned i = 0; name != NULL && i < sizeof backend_names / sizeof backend_names[0]; i++) {
		if (strcmp(name, backend_names[i]) == 0) {
			*out = (memscope_backend_kind)i;
			return 0;
		}
	}
	return -EINVAL;
}

MEMSCOPE_EXPORT int memscope_capture_parse(const char *name, memscope_capture_kind *out)
{
	if (name != NULL && strcmp(name, "hooks") == 0)
		*out = MEMSCOPE_CAPTURE_HOOKS;
	else if (name != NULL && strcmp(name, "interpose") == 0)
		*out = MEMSCOPE_CAPTURE_INTERPOSE;
	else
		return -EINVAL;
	return 0;
}

