/* big_blocks.c - a memscope analyzer plugin, built out of tree against the
 * installed header alone:
 *
 *   cc -shared -fPIC big_blocks.c $(pkg-config --cflags memscope-plugin) -o big_blocks.so
 *   memscope analyze app.memscope --plugin-path . --analyzer big_blocks --option min=65536
 *
 * It counts, per thread, the blocks of at least `min` bytes (default 1 MiB)
 * and reports the biggest one's stack.  A sampled capture records only some
 * blocks, each standing for memscope_block_weight() blocks of its size, so
 * the counts are sums of weights, rounded once at the end: estimates then,
 * exact counts otherwise (every weight is 1).  The last column says which:
 * the hybrid backend records large blocks for sure (weight 1) and samples
 * small ones, so a row can be exact, estimated, or mixed.
 */
#include <errno.h>
#include <stdlib.h>

#include <memscope/plugin.h>

#define MAX_THREADS 1024

struct thread_counts {
	double blocks;
	double bytes;
	memscope_tally tally;      /* its blocks by weight: exact, estimated or mixed */
	uint64_t biggest;
	uint32_t biggest_stack;
};

struct walk {
	uint64_t min;
	struct thread_counts threads[MAX_THREADS];
};

static int count_block(void *context, const memscope_block *block)
{
	struct walk *walk = context;
	if (block->size < walk->min || block->thread >= MAX_THREADS)
		return 0;
	struct thread_counts *counts = &walk->threads[block->thread];
	double weight = memscope_block_weight(block);
	counts->blocks += weight;
	counts->bytes += weight * (double)block->size;
	memscope_tally_add(&counts->tally, weight);
	if (block->size > counts->biggest) {
		counts->biggest = block->size;
		counts->biggest_stack = block->stack;
	}
	return 0;
}

static int run(const memscope_host *host, memscope_capture *capture, memscope_results *results)
{
	struct walk *walk = calloc(1, sizeof *walk);
	if (walk == NULL)
		return -ENOMEM;
	const char *min = host->option(capture, "min");
	walk->min = min != NULL ? strtoull(min, NULL, 10) : 1024 * 1024;
	int error = host->for_each_block(capture, count_block, walk);

	static const memscope_column columns[] = {
		{"thread", "Thread", MEMSCOPE_COLUMN_TEXT},
		{"blocks", "Big blocks", MEMSCOPE_COLUMN_COUNT},
		{"bytes", "Their bytes", MEMSCOPE_COLUMN_BYTES},
		{"biggest", "Biggest", MEMSCOPE_COLUMN_BYTES},
		{"stack", "Biggest allocated at", MEMSCOPE_COLUMN_STACK},
		{"accuracy", "Accuracy", MEMSCOPE_COLUMN_TEXT},
	};
	const memscope_summary *summary = host->summary(capture);
	const char *title = summary && memscope_summary_estimated(summary)
	                            ? "Big blocks by thread (estimated: a sampled capture)"
	                            : "Big blocks by thread";
	size_t column_count = sizeof columns / sizeof columns[0];
	memscope_table *table =
	    error < 0 ? NULL : host->table_begin(results, "big_blocks", title, columns, column_count);
	for (uint32_t thread = 0; table != NULL && thread < MAX_THREADS; thread++) {
		const struct thread_counts *counts = &walk->threads[thread];
		if (counts->blocks == 0)
			continue;
		memscope_value row[6];
		row[0].text = host->thread_name(capture, thread);
		row[1].count = memscope_weighted_count(counts->blocks);
		row[2].count = memscope_weighted_count(counts->bytes);
		row[3].count = counts->biggest;
		row[4].stack = counts->biggest_stack;
		row[5].text = memscope_accuracy_name(memscope_tally_accuracy(&counts->tally));
		error = host->table_row(table, row);
		if (error < 0)
			break;
	}
	free(walk);
	return error < 0 ? error : 0;
}

static const memscope_analyzer big_blocks = {
	.version = MEMSCOPE_ANALYZER_VERSION,
	.name = "big_blocks",
	.description = "blocks of at least min bytes (option min, default 1 MiB), per thread",
	.run = run,
};

static const memscope_analyzer *const analyzers[] = {&big_blocks, NULL};

MEMSCOPE_PLUGIN_DESCRIBE("big-blocks", "1.0", analyzers, NULL)
