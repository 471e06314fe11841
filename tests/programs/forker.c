/* forker.c - forks twice: one child allocates and exits without exec (it
 * must not touch the parent's capture), one child execs argv[1] (traced
 * into its own capture with --follow-fork).  The parent itself allocates
 * exactly 3 blocks of 300 bytes and leaks them, and exits 0.
 */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void *volatile sink;

int main(int argc, char **argv)
{
	pid_t plain = fork();
	if (plain == 0) {
		for (int i = 0; i < 50; i++)
			sink = malloc(1234);
		exit(0);
	}
	waitpid(plain, NULL, 0);

	for (int i = 0; i < 3; i++)
		sink = malloc(300);

	if (argc > 1) {
		pid_t child = fork();
		if (child == 0) {
			execv(argv[1], &argv[1]);
			_exit(127);
		}
		int status;
		waitpid(child, &status, 0);
	}
	return 0;
}
