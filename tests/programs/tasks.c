/* tasks.c - tasks named with memscope/task.h, with known allocations:
 *   request (100): 300 + 300 + 70 bytes; frees one 300 itself, its 70 is
 *     freed by hopper (a cross-task free); leaks the other 300;
 *   child (101, begun inside request, its parent): 50 bytes, leaked;
 *   hopper (200): 1,000 bytes on the main thread, then 2,000 on a worker
 *     thread, where it frees both and request's 70 (hopping threads keeps
 *     its figures).
 * Nesting: inside request, child is entered and left; what request
 * allocates after the leave is request's again.  The thread is started
 * outside every task: what pthread_create allocates is the main thread's.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include <memscope/task.h>

static void *volatile request_block;  /* the 70 bytes hopper frees */
static void *volatile hopper_block;   /* the 1,000 bytes hopper frees on the worker */
static void *volatile leaked[2];

static void *worker(void *unused)
{
	(void)unused;
	memscope_task_enter(200);
	void *block = malloc(2000);
	free(block);
	free(hopper_block);
	free(request_block);
	memscope_task_leave(200);
	return NULL;
}

int main(void)
{
	memscope_task_begin(100, "request", 0);
	memscope_task_enter(100);
	leaked[0] = malloc(300);
	void *volatile freed = malloc(300);
	free(freed);
	memscope_task_begin(101, "child", 0);
	memscope_task_enter(101);
	leaked[1] = malloc(50);
	memscope_task_leave(101);
	memscope_task_end(101);
	request_block = malloc(70);
	memscope_task_leave(100);

	memscope_task_begin(200, "hopper", 0);
	memscope_task_enter(200);
	hopper_block = malloc(1000);
	memscope_task_leave(200);

	pthread_t thread;
	if (pthread_create(&thread, NULL, worker, NULL) != 0 || pthread_join(thread, NULL) != 0)
		return 1;
	memscope_task_end(200);
	memscope_task_end(100);
	static const char done[] = "tasks: done\n";
	return write(1, done, sizeof(done) - 1) == sizeof(done) - 1 ? 0 : 1;
}
