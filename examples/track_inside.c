/* track_inside.c - tracking from inside a program with libmemscope.
 *
 * Build (installed memscope):
 *   cc track_inside.c $(pkg-config --cflags --libs memscope) -o track_inside
 * jemalloc must be this program's malloc; pkg-config's -ljemalloc sees to it.
 * Run it, then: memscope report track_inside.memscope
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memscope/memscope.h>

struct node {
	struct node *next;
	char name[24];
};

static struct node *make_list(int length)
{
	struct node *head = NULL;
	for (int i = 0; i < length; i++) {
		struct node *node = calloc(1, sizeof *node);
		if (node == NULL)
			break;
		snprintf(node->name, sizeof node->name, "node %d", i);
		node->next = head;
		head = node;
	}
	return head;
}

int main(void)
{
	memscope_tracker *tracker = memscope_tracker_new(MEMSCOPE_BACKEND_EXACT);
	if (tracker == NULL)
		return 1; /* memscope said why on stderr */

	char *buf = malloc(4096);
	MEMSCOPE_TRACK(tracker, buf);
	struct node *list = make_list(100);
	MEMSCOPE_TRACK_TYPED(tracker, list, struct node);

	memscope_stats stats = {.version = MEMSCOPE_STATS_VERSION};
	memscope_tracker_get_stats(tracker, &stats);
	printf("%llu allocations, %llu bytes live, peak %llu bytes\n",
	       (unsigned long long)stats.total_allocations, (unsigned long long)stats.active_bytes,
	       (unsigned long long)stats.peak_bytes);

	free(buf);
	/* The list is left for the report to find. */
	int error = memscope_tracker_write_capture(tracker, "track_inside.memscope");
	if (error < 0)
		fprintf(stderr, "cannot write track_inside.memscope: %s\n", strerror(-error));
	memscope_tracker_destroy(tracker);
	return error < 0;
}
