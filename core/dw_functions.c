/* dw_functions.c - see dw_functions.h. */
#include "dw_functions.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

/* libdw's soname on Debian and everywhere elfutils is packaged. */
#define LIBDW_NAME "libdw.so.1"

struct dw_functions dw;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_result;
static char load_failure[512];

static void load(void)
{
	/* RTLD_LOCAL: the names stay out of the process's global scope; dlsym
	 * on the handle also searches libdw's own dependencies (libelf). */
	void *library = dlopen(LIBDW_NAME, RTLD_NOW | RTLD_LOCAL);
	if (library == NULL) {
		snprintf(load_failure, sizeof load_failure, "%s", dlerror());
		load_result = -ELIBACC;
		return;
	}
	const char *missing = NULL;
#define DW_FUNCTION_LOAD(name)                                          \
	if ((dw.name = (__typeof__(dw.name))dlsym(library, #name)) == NULL) \
		missing = #name;
	DW_FUNCTIONS(DW_FUNCTION_LOAD)
#undef DW_FUNCTION_LOAD
	if (missing != NULL) {
		snprintf(load_failure, sizeof load_failure,
		         "%s has no function %s: an elfutils older than memscope's build", LIBDW_NAME,
		         missing);
		load_result = -ELIBACC;
	}
}

int dw_functions_load(const char **reason)
{
	pthread_once(&load_once, load);
	if (load_result < 0 && reason != NULL)
		*reason = load_failure;
	return load_result;
}
