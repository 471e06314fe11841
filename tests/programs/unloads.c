/* unloads.c - loads LIBRARY (tests/programs/unloaded_library.c), keeps
 * the block of 4,321 bytes its function allocates, and unloads it at
 * once, long before memscope's next periodic look at the loaded objects:
 * the leak must still be shown in allocate_in_library.  Usage: unloads
 * LIBRARY */
#include <dlfcn.h>
#include <stdio.h>

static void *volatile sink;

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	void *library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (library == NULL) {
		fprintf(stderr, "unloads: %s\n", dlerror());
		return 3;
	}
	void *(*allocate)(void) = (void *(*)(void))dlsym(library, "allocate_in_library");
	if (allocate == NULL)
		return 4;
	sink = allocate();
	return dlclose(library) == 0 ? 0 : 5;
}
