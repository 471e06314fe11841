/* fork_follow.c - a process with two threads keeps 10 blocks of 2,222
 * bytes and forks; the child, traced with --follow-fork, frees the 10
 * blocks it inherited, keeps 7 of 3,333 bytes and exits.  The parent then
 * frees 5 of its 10 and exits 0: it leaks 5 blocks of 2,222 bytes, the
 * child 7 of 3,333, and the child's capture holds none of the parent's.
 * The child prints "child PID" on stdout.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void *volatile sink;
static atomic_bool stop;

/* Allocating while the main thread forks. */
static void *churn(void *argument)
{
	(void)argument;
	while (!atomic_load(&stop)) {
		void *block = malloc(64);
		sink = block;
		free(block);
	}
	return NULL;
}

int main(void)
{
	pthread_t thread;
	if (pthread_create(&thread, NULL, churn, NULL) != 0)
		return 2;
	void *inherited[10];
	for (int i = 0; i < 10; i++)
		inherited[i] = malloc(2222);
	fflush(stdout);
	pid_t child = fork();
	if (child < 0)
		return 3;
	if (child == 0) {
		for (int i = 0; i < 10; i++)
			free(inherited[i]);
		for (int i = 0; i < 7; i++)
			sink = malloc(3333);
		printf("child %ld\n", (long)getpid());
		exit(0);
	}
	int status;
	waitpid(child, &status, 0);
	atomic_store(&stop, true);
	pthread_join(thread, NULL);
	for (int i = 0; i < 5; i++)
		free(inherited[i]);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 4;
}
