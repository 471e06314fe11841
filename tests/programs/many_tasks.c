/* many_tasks.c - TASKS annotated tasks, LIVE of them begun at once, with
 * known allocations: the reader must hold only those live at once.
 * Usage: many_tasks TASKS LIVE
 * Task n (1 .. TASKS, task id n) allocates 64 + n % 5 bytes and 32 bytes
 * when it starts and frees the 32; when it finishes, LIVE tasks later, it
 * frees the first block, except every 1,000th task (n % 1000 == 0), which
 * leaks it; then it ends.  Nothing else is allocated inside a task.
 */
#include <stdlib.h>

#include <memscope/task.h>

#define MAX_LIVE 1024

static void *volatile kept[MAX_LIVE];

static void start(unsigned long n, unsigned long slot)
{
	memscope_task_begin(n, "job", 0);
	memscope_task_enter(n);
	kept[slot] = malloc(64 + n % 5);
	void *volatile scratch = malloc(32);
	free(scratch);
	memscope_task_leave(n);
}

static void finish(unsigned long n, unsigned long slot)
{
	memscope_task_enter(n);
	if (n % 1000 != 0)
		free(kept[slot]);
	kept[slot] = NULL;
	memscope_task_leave(n);
	memscope_task_end(n);
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	unsigned long tasks = strtoul(argv[1], NULL, 10), live = strtoul(argv[2], NULL, 10);
	if (live == 0 || live > MAX_LIVE)
		return 2;
	for (unsigned long n = 1; n <= tasks; n++) {
		if (n > live)
			finish(n - live, (n - live) % live);
		start(n, n % live);
	}
	for (unsigned long n = tasks > live ? tasks - live + 1 : 1; n <= tasks; n++)
		finish(n, n % live);
	return 0;
}
