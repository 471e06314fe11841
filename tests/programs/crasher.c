/* crasher.c - allocates 5 blocks of 777 bytes, waits long enough for the
 * capture to reach the disk, then dies of SIGSEGV: the capture must still
 * hold the five blocks, and memscope must report the signal. */
#include <signal.h>
#include <stdlib.h>
#include <time.h>

static void *volatile sink;

int main(void)
{
	for (int i = 0; i < 5; i++)
		sink = malloc(777);
	struct timespec pause = {0, 300000000};
	nanosleep(&pause, NULL);
	raise(SIGSEGV);
	return 0;
}
