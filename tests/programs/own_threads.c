/* own_threads.c - prints how many threads the process has at the start of
 * main, and again while one thread of its own runs: what a tracker adds.
 * It allocates 10 blocks of 100 bytes before its thread starts and 10 on
 * that thread, and frees them all.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int thread_count(void)
{
	DIR *tasks = opendir("/proc/self/task");
	if (tasks == NULL)
		return -1;
	int count = 0;
	for (struct dirent *entry; (entry = readdir(tasks)) != NULL;)
		count += entry->d_name[0] != '.';
	closedir(tasks);
	return count;
}

static void churn(void)
{
	void *blocks[10];
	for (int i = 0; i < 10; i++)
		blocks[i] = malloc(100);
	for (int i = 0; i < 10; i++)
		free(blocks[i]);
}

static int ready[2], release[2];

static void *own_thread(void *argument)
{
	(void)argument;
	churn();
	char byte = 0;
	if (write(ready[1], &byte, 1) != 1 || read(release[0], &byte, 1) != 1)
		return NULL;
	return NULL;
}

int main(void)
{
	churn();
	int before = thread_count();
	if (pipe(ready) != 0 || pipe(release) != 0)
		return 1;
	pthread_t thread;
	if (pthread_create(&thread, NULL, own_thread, NULL) != 0)
		return 1;
	char byte;
	if (read(ready[0], &byte, 1) != 1)
		return 1;
	int during = thread_count();
	if (write(release[1], &byte, 1) != 1)
		return 1;
	pthread_join(thread, NULL);
	printf("%d %d\n", before, during);
	return 0;
}
