/* exits.c - leaves through _exit, skipping every destructor, with 2 blocks
 * of 111 bytes live: the capture must still be finished.  With an argument,
 * first replaces itself (execv) with that program instead, after
 * allocating the same 2 blocks. */
#include <stdlib.h>
#include <unistd.h>

static void *volatile sink[2];

int main(int argc, char **argv)
{
	sink[0] = malloc(111);
	sink[1] = malloc(111);
	if (argc > 1) {
		execv(argv[1], &argv[1]);
		return 127;
	}
	_exit(5);
}
