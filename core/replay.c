/* replay.c - replays a capture: a table of the live blocks (open addressing
 * keyed by address), the stack table rebuilt in a stack_trie, aggregates per
 * stack and per thread, and a second pass up to the peak event to find which
 * stacks held the memory then.  See replay.h for the contract.
 */
#include "replay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sample_weigher.h"
#include "sampling.h"
#include "stack_trie.h"

/* Thread indices are dense from 0; one far beyond what was seen is corrupt
 * input, and must not make us allocate gigabytes. */
#define MAX_THREAD_INDEX (1u << 20)

struct block_slot {
	bool used;
	struct replay_block block;
};

/* Open addressing with linear probing and backward-shift deletion: frees are
 * as common as allocations, and tombstones would pile up over a long run. */
struct block_table {
	struct block_slot *slots;
	size_t capacity;           /* a power of two, or 0 */
	size_t count;
};

/* ---- tags ------------------------------------------------------------ */

static void tag_destroy(struct replay_tag *tag)
{
	if (!tag)
		return;
	free(tag->name);
	free(tag->type_name);
	free(tag->file);
	free(tag);
}

static char *copy_string(const char *text)
{
	return strdup(text ? text : "");
}

static int tag_create(const struct capture_tag *record, struct replay_tag **out)
{
	struct replay_tag *tag = calloc(1, sizeof(*tag));
	if (!tag)
		return -ENOMEM;
	tag->name = copy_string(record->name);
	tag->type_name = copy_string(record->type_name);
	tag->file = copy_string(record->file);
	tag->line = record->line;
	tag->time_ns = record->time_ns;
	if (!tag->name || !tag->type_name || !tag->file) {
		tag_destroy(tag);
		return -ENOMEM;
	}
	*out = tag;
	return 0;
}

/* ---- the table of live blocks --------------------------------------- */

static size_t slot_home(const struct block_table *table, uint64_t address)
{
	/* Addresses are aligned, so their low bits say little: mix them all in
	 * (Fibonacci hashing) before masking. */
	uint64_t mixed = address * UINT64_C(0x9e3779b97f4a7c15);
	return (size_t)(mixed ^ (mixed >> 32)) & (table->capacity - 1);
}

static struct block_table *block_table_create(void)
{
	return calloc(1, sizeof(struct block_table));
}

static void block_table_destroy(struct block_table *table)
{
	if (!table)
		return;
	for (size_t i = 0; i < table->capacity; i++)
		if (table->slots[i].used)
			tag_destroy(table->slots[i].block.tag);
	free(table->slots);
	free(table);
}

/* The slot holding address, or table->capacity if it is not live. */
static size_t find_slot(const struct block_table *table, uint64_t address)
{
	if (table->count == 0)
		return table->capacity;
	size_t mask = table->capacity - 1;
	for (size_t i = slot_home(table, address);; i = (i + 1) & mask) {
		if (!table->slots[i].used)
			return table->capacity;
		if (table->slots[i].block.address == address)
			return i;
	}
}

static struct replay_block *block_table_find(const struct block_table *table, uint64_t address)
{
	size_t slot = find_slot(table, address);
	return slot < table->capacity ? &table->slots[slot].block : NULL;
}

/* Places block, whose address is known to be absent, without growing. */
static void place(struct block_table *table, const struct replay_block *block)
{
	size_t mask = table->capacity - 1;
	size_t i = slot_home(table, block->address);
	while (table->slots[i].used)
		i = (i + 1) & mask;
	table->slots[i].used = true;
	table->slots[i].block = *block;
	table->count++;
}

static int grow(struct block_table *table)
{
	size_t capacity = table->capacity ? table->capacity * 2 : 64;
	struct block_slot *slots = calloc(capacity, sizeof(*slots));
	if (!slots)
		return -ENOMEM;

	struct block_slot *old = table->slots;
	size_t old_capacity = table->capacity;
	table->slots = slots;
	table->capacity = capacity;
	table->count = 0;
	for (size_t i = 0; i < old_capacity; i++)
		if (old[i].used)
			place(table, &old[i].block);
	free(old);
	return 0;
}

/* Inserts block; its address must not be live.  Returns 0 or -ENOMEM. */
static int block_table_insert(struct block_table *table, const struct replay_block *block)
{
	/* Keep the load under 3/4 so probe runs stay short. */
	if ((table->count + 1) * 4 > table->capacity * 3) {
		int error = grow(table);
		if (error < 0)
			return error;
	}
	place(table, block);
	return 0;
}

/* Removes the block at address into *removed.  Returns false if not live. */
static bool block_table_remove(struct block_table *table, uint64_t address,
                               struct replay_block *removed)
{
	size_t hole = find_slot(table, address);
	if (hole == table->capacity)
		return false;
	*removed = table->slots[hole].block;

	size_t mask = table->capacity - 1;
	/* Shift later members of the probe run back into the hole, unless
	 * their home lies cyclically after the hole (they would become
	 * unreachable from it). */
	for (size_t next = (hole + 1) & mask; table->slots[next].used; next = (next + 1) & mask) {
		size_t home = slot_home(table, table->slots[next].block.address);
		bool stays = hole <= next ? (hole < home && home <= next)
		                          : (hole < home || home <= next);
		if (stays)
			continue;
		table->slots[hole] = table->slots[next];
		hole = next;
	}
	table->slots[hole].used = false;
	table->count--;
	return true;
}

/* ---- growing tables -------------------------------------------------- */

/* Makes room for count elements of size in *array of *capacity.  Returns 0
 * or -ENOMEM; new elements are zeroed. */
static int reserve(void **array, size_t *capacity, size_t count, size_t size)
{
	if (count <= *capacity)
		return 0;
	size_t wanted = *capacity ? *capacity : 16;
	while (wanted < count)
		wanted *= 2;
	void *grown = realloc(*array, wanted * size);
	if (!grown)
		return -ENOMEM;
	memset((char *)grown + *capacity * size, 0, (wanted - *capacity) * size);
	*array = grown;
	*capacity = wanted;
	return 0;
}

/* ---- the first pass -------------------------------------------------- */

struct pass {
	struct replay *replay;
	size_t stack_capacity;
	size_t thread_capacity;
	size_t module_capacity;
	size_t info_capacity;
	/* A moving realloc is an ALLOC of the new block then a FREE of the old
	 * on the same thread; the old block's tag belongs to the new one. */
	bool realloc_pending;
	uint32_t realloc_thread;
	uint64_t realloc_address;
	struct sample_weigher weigher;
};

static void see_time(struct replay *replay, uint64_t time_ns)
{
	if (time_ns > replay->totals.end_time_ns)
		replay->totals.end_time_ns = time_ns;
}

static uint32_t resolve_stack(struct replay *replay, uint32_t stack)
{
	if (stack < replay->stack_count)
		return stack;
	replay->totals.unknown_stacks++;
	return 0;
}

static void count_thread(struct replay *replay, uint32_t thread, double weight, double bytes)
{
	if (thread >= replay->thread_count)
		return;
	replay->threads[thread].weighted.allocations += weight;
	replay->threads[thread].weighted.allocated_bytes += bytes;
}

/* The peak is of the live bytes as estimated: with sampling, the most the
 * weighted live set ever held. */
static void check_peak(struct replay *replay, uint64_t time_ns)
{
	struct replay_totals *totals = &replay->totals;
	struct replay_weighted *weighted = &totals->weighted;
	if (weighted->live_bytes <= weighted->peak_bytes)
		return;
	weighted->peak_bytes = weighted->live_bytes;
	weighted->peak_blocks = weighted->live_blocks;
	totals->peak_time_ns = time_ns;
	totals->peak_event = totals->events;
}

/* What a live block adds to the live set (sign 1) or takes from it (-1). */
static void count_live(struct replay *replay, const struct replay_block *block, double sign)
{
	struct replay_weighted *totals = &replay->totals.weighted;
	struct replay_weighted *stack = &replay->stacks[block->stack].weighted;
	double blocks = sign * block->weight;
	double bytes = blocks * (double)block->size;
	totals->live_blocks += blocks;
	totals->live_bytes += bytes;
	totals->live_usable_bytes += blocks * (double)block->usable;
	stack->live_blocks += blocks;
	stack->live_bytes += bytes;
	if (sign > 0)
		sample_tally_add(&replay->totals.tallies.live, block->weight, block->size);
	else
		sample_tally_remove(&replay->totals.tallies.live, block->weight, block->size);
}

static void forget_block(struct replay *replay, const struct replay_block *block)
{
	count_live(replay, block, -1.0);
}

static void on_sampling(struct pass *pass, const struct capture_sampling *record)
{
	struct replay *replay = pass->replay;
	see_time(replay, record->time_ns);
	sample_weigher_sampling(&pass->weigher, record);
	replay->sample_interval = record->interval;
	replay->exact_above = record->exact_above;
	if (record->interval <= 1)
		return;
	if (!replay->sampled || record->interval < replay->sample_interval_min)
		replay->sample_interval_min = record->interval;
	if (record->interval > replay->sample_interval_max)
		replay->sample_interval_max = record->interval;
	replay->sampled = true;
}

/* A thread's interval moved: the report gives the range and the count. */
static int on_thread_sampling(struct pass *pass, const struct capture_thread_sampling *record)
{
	struct replay *replay = pass->replay;
	see_time(replay, record->time_ns);
	replay->interval_changes++;
	replay->sample_interval = record->interval; /* the latest, as with SAMPLING */
	if (record->interval > 1) {
		if (!replay->sampled || record->interval < replay->sample_interval_min)
			replay->sample_interval_min = record->interval;
		if (record->interval > replay->sample_interval_max)
			replay->sample_interval_max = record->interval;
		replay->sampled = true;
	}
	return sample_weigher_thread(&pass->weigher, record);
}

static int on_stack_node(struct pass *pass, const struct capture_stack_node *node)
{
	struct replay *replay = pass->replay;
	uint32_t id;
	bool created;
	int error = stack_trie_intern(replay->trie, node->parent, node->ip, &id, &created);
	if (error == -ENOMEM)
		return error;
	if (error < 0) {
		replay->totals.bad_stack_nodes++;
		return 0;
	}
	if (!created || id != node->id)
		replay->totals.bad_stack_nodes++;
	if (!created)
		return 0;
	error = reserve((void **)&replay->stacks, &pass->stack_capacity, (size_t)id + 1,
	                sizeof(*replay->stacks));
	if (error < 0)
		return error;
	replay->stack_count = id + 1;
	return 0;
}

static int on_alloc(struct pass *pass, const struct capture_alloc *alloc)
{
	struct replay *replay = pass->replay;
	struct replay_totals *totals = &replay->totals;
	double weight = sample_weigher_weight(&pass->weigher, alloc->thread, alloc->size);
	double bytes = weight * (double)alloc->size;
	totals->events++;
	totals->alloc_records++;
	totals->weighted.allocations += weight;
	totals->weighted.allocated_bytes += bytes;
	see_time(replay, alloc->time_ns);

	struct replay_block old;
	if (block_table_remove(replay->live, alloc->address, &old)) {
		/* The FREE of the old block was lost; the address was reused. */
		totals->allocs_over_live++;
		forget_block(replay, &old);
		task_ledger_free(replay->task_ledger, old.task, old.task, old.size, old.weight);
		tag_destroy(old.tag);
	}

	struct replay_block block = {
		.address = alloc->address,
		.size = alloc->size,
		.usable = alloc->usable,
		.time_ns = alloc->time_ns,
		.stack = resolve_stack(replay, alloc->stack),
		.thread = alloc->thread,
		.kind = alloc->kind,
		.weight = weight,
		.task = task_ledger_current(replay->task_ledger, alloc->thread),
	};
	int error = block_table_insert(replay->live, &block);
	if (error < 0)
		return error;

	struct replay_stack *stack = &replay->stacks[block.stack];
	sample_tally_add(&stack->records, weight, block.size);
	sample_tally_add(&replay->totals.tallies.allocations, weight, block.size);
	stack->weighted.allocations += weight;
	stack->weighted.allocated_bytes += bytes;
	count_live(replay, &block, 1.0);
	count_thread(replay, alloc->thread, weight, bytes);
	task_ledger_alloc(replay->task_ledger, block.task, block.size, block.weight, alloc->time_ns);
	check_peak(replay, alloc->time_ns);

	pass->realloc_pending = alloc->kind == CAPTURE_KIND_REALLOC ||
	                        alloc->kind == CAPTURE_KIND_RALLOCX;
	pass->realloc_thread = alloc->thread;
	pass->realloc_address = alloc->address;
	return 0;
}

static void on_free(struct pass *pass, const struct capture_free *record)
{
	struct replay *replay = pass->replay;
	bool after_realloc = pass->realloc_pending && pass->realloc_thread == record->thread &&
	                     (record->kind == CAPTURE_KIND_REALLOC ||
	                      record->kind == CAPTURE_KIND_RALLOCX);
	pass->realloc_pending = false;
	replay->totals.events++;
	see_time(replay, record->time_ns);

	struct replay_block old;
	if (!block_table_remove(replay->live, record->address, &old)) {
		/* Typically a block allocated before tracking started. */
		replay->totals.frees_untracked++;
		return;
	}
	replay->totals.free_records++;
	replay->totals.weighted.frees += old.weight;
	sample_tally_add(&replay->totals.tallies.frees, old.weight, 0);
	forget_block(replay, &old);
	task_ledger_free(replay->task_ledger, old.task,
	                 task_ledger_current(replay->task_ledger, record->thread), old.size,
	                 old.weight);

	if (old.tag && after_realloc) {
		struct replay_block *moved = block_table_find(replay->live, pass->realloc_address);
		if (moved && !moved->tag) {
			moved->tag = old.tag;
			return;
		}
	}
	tag_destroy(old.tag);
}

static void on_expand(struct pass *pass, const struct capture_expand *expand)
{
	struct replay *replay = pass->replay;
	struct replay_totals *totals = &replay->totals;
	pass->realloc_pending = false;
	totals->events++;
	see_time(replay, expand->time_ns);

	struct replay_block *block = block_table_find(replay->live, expand->address);
	if (!block) {
		totals->expands_untracked++;
		return;
	}

	/* A block resized in place now belongs to the realloc that resized
	 * it, exactly as a moved block belongs to its new ALLOC; sampled, it
	 * stands for the blocks of its new size. */
	forget_block(replay, block);
	double weight = sample_weigher_weight(&pass->weigher, expand->thread, expand->size);
	task_ledger_resize(replay->task_ledger, block->task, block->size, block->weight,
	                   expand->size, weight, expand->time_ns);
	block->size = expand->size;
	block->usable = expand->usable;
	block->time_ns = expand->time_ns;
	block->stack = resolve_stack(replay, expand->stack);
	block->thread = expand->thread;
	block->kind = expand->kind;
	block->weight = weight;
	count_live(replay, block, 1.0);

	totals->weighted.expands += block->weight;
	replay->stacks[block->stack].weighted.expands += block->weight;
	sample_tally_add(&replay->stacks[block->stack].records, block->weight, 0);
	sample_tally_add(&replay->totals.tallies.expands, block->weight, 0);
	check_peak(replay, expand->time_ns);
}

static int on_tag(struct pass *pass, const struct capture_tag *record)
{
	struct replay *replay = pass->replay;
	see_time(replay, record->time_ns);
	struct replay_block *block = block_table_find(replay->live, record->address);
	if (!block) {
		replay->totals.tags_untracked++;
		return 0;
	}
	struct replay_tag *tag;
	int error = tag_create(record, &tag);
	if (error < 0)
		return error;
	tag_destroy(block->tag);
	block->tag = tag;
	replay->totals.tags++;
	return 0;
}

static int on_thread(struct pass *pass, const struct capture_thread *record)
{
	struct replay *replay = pass->replay;
	if (record->index >= MAX_THREAD_INDEX)
		return 0;
	int error = reserve((void **)&replay->threads, &pass->thread_capacity,
	                    (size_t)record->index + 1, sizeof(*replay->threads));
	if (error < 0)
		return error;
	struct replay_thread *thread = &replay->threads[record->index];
	char *name = copy_string(record->name);
	if (!name)
		return -ENOMEM;
	if (!thread->known)
		replay->threads_named++;
	free(thread->name);
	thread->known = true;
	thread->tid = record->tid;
	thread->name = name;
	if (record->index >= replay->thread_count)
		replay->thread_count = record->index + 1;
	return 0;
}

static int on_module(struct pass *pass, const struct capture_module *record)
{
	struct replay *replay = pass->replay;
	int error = reserve((void **)&replay->modules, &pass->module_capacity,
	                    replay->module_count + 1, sizeof(*replay->modules));
	if (error < 0)
		return error;
	char *path = copy_string(record->path);
	if (!path)
		return -ENOMEM;
	struct capture_module *module = &replay->modules[replay->module_count++];
	*module = *record;
	module->path = path;
	return 0;
}

static int on_info(struct pass *pass, const struct capture_info *record)
{
	struct replay *replay = pass->replay;
	int error = reserve((void **)&replay->infos, &pass->info_capacity,
	                    replay->info_count + 1, sizeof(*replay->infos));
	if (error < 0)
		return error;
	char *key = copy_string(record->key);
	char *value = copy_string(record->value);
	if (!key || !value) {
		free(key);
		free(value);
		return -ENOMEM;
	}
	replay->infos[replay->info_count].key = key;
	replay->infos[replay->info_count].value = value;
	replay->info_count++;
	return 0;
}

static int apply(struct pass *pass, const struct capture_record *record)
{
	struct replay *replay = pass->replay;
	switch (record->type) {
	case CAPTURE_RECORD_INFO:
		return on_info(pass, &record->u.info);
	case CAPTURE_RECORD_MODULE:
		return on_module(pass, &record->u.module);
	case CAPTURE_RECORD_THREAD:
		return on_thread(pass, &record->u.thread);
	case CAPTURE_RECORD_STACK_NODE:
		return on_stack_node(pass, &record->u.stack_node);
	case CAPTURE_RECORD_ALLOC:
		return on_alloc(pass, &record->u.alloc);
	case CAPTURE_RECORD_FREE:
		on_free(pass, &record->u.free);
		return 0;
	case CAPTURE_RECORD_EXPAND:
		on_expand(pass, &record->u.expand);
		return 0;
	case CAPTURE_RECORD_TAG:
		return on_tag(pass, &record->u.tag);
	case CAPTURE_RECORD_SAMPLE:
		replay->totals.samples++;
		see_time(replay, record->u.sample.time_ns);
		return 0;
	case CAPTURE_RECORD_TRAILER:
		replay->has_trailer = true;
		replay->trailer = record->u.trailer;
		return 0;
	case CAPTURE_RECORD_SAMPLING:
		on_sampling(pass, &record->u.sampling);
		return 0;
	case CAPTURE_RECORD_THREAD_SAMPLING:
		return on_thread_sampling(pass, &record->u.thread_sampling);
	case CAPTURE_RECORD_TRACKING:
		see_time(replay, record->u.tracking.time_ns);
		replay->has_tracking = true;
		replay->tracking = record->u.tracking;
		return 0;
	case CAPTURE_RECORD_TASK:
		see_time(replay, record->u.task.time_ns);
		return task_ledger_record(replay->task_ledger, record);
	case CAPTURE_RECORD_TASK_END:
		see_time(replay, record->u.task_end.time_ns);
		return task_ledger_record(replay->task_ledger, record);
	case CAPTURE_RECORD_TASK_SWITCH:
		see_time(replay, record->u.task_switch.time_ns);
		return task_ledger_record(replay->task_ledger, record);
	}
	/* A record type newer than this code: nothing to replay. */
	return 0;
}

static int note_truncation(struct replay *replay, const struct capture_reader *reader, int error)
{
	const char *warning = capture_reader_warning(reader);
	replay->truncated = true;
	replay->truncation = strdup(warning ? warning : strerror(-error));
	return replay->truncation ? 0 : -ENOMEM;
}

#define PROGRESS_RECORDS 65536 /* records between two progress reports */

static void tell_progress(const struct replay_progress *progress, const char *stage,
                          const struct capture_reader *reader)
{
	if (progress && progress->report)
		progress->report(progress->context, stage, capture_reader_offset(reader),
		                 capture_reader_size(reader));
}

static int read_records(struct pass *pass, struct capture_reader *reader,
                        const struct replay_progress *progress)
{
	struct replay *replay = pass->replay;
	/* Stack 0, the empty stack, exists before any STACK_NODE. */
	int error = reserve((void **)&replay->stacks, &pass->stack_capacity, 1,
	                    sizeof(*replay->stacks));
	if (error < 0)
		return error;
	replay->stack_count = 1;

	struct capture_record record;
	int more;
	for (uint64_t records = 1; (more = capture_reader_next(reader, &record)) > 0; records++) {
		error = apply(pass, &record);
		if (error == 0)
			error = task_ledger_status(replay->task_ledger);
		if (error != 0)
			return error < 0 ? error : -ECANCELED;
		if (records % PROGRESS_RECORDS == 0)
			tell_progress(progress, "reading", reader);
	}
	if (more == -ENOMEM)
		return more;
	if (more < 0)
		return note_truncation(replay, reader, more);
	/* Re-packed from a capture that was cut short: so is this one. */
	const char *cut = replay_info(replay, "cut_short");
	if (cut != NULL && !replay->truncated) {
		replay->truncated = true;
		replay->truncation = strdup(cut);
		return replay->truncation ? 0 : -ENOMEM;
	}
	return 0;
}

static int first_pass(struct replay *replay, struct capture_reader *reader,
                      const struct replay_progress *progress)
{
	struct pass pass = { .replay = replay };
	int error = read_records(&pass, reader, progress);
	sample_weigher_finish(&pass.weigher);
	return error;
}

/* ---- the second pass: who held the peak ------------------------------ */

static uint32_t known_stack(const struct replay *replay, uint32_t stack)
{
	return stack < replay->stack_count ? stack : 0;
}

static int replay_to_peak(struct replay *replay, struct capture_reader *reader,
                          struct block_table *live, const struct replay_progress *progress)
{
	uint64_t events = 0;
	struct sample_weigher weigher = { 0 };
	struct capture_record record;
	for (uint64_t records = 1;
	     events < replay->totals.peak_event && capture_reader_next(reader, &record) > 0;
	     records++) {
		if (records % PROGRESS_RECORDS == 0)
			tell_progress(progress, "finding who held the peak", reader);
		struct replay_block old;
		if (record.type == CAPTURE_RECORD_SAMPLING) {
			sample_weigher_sampling(&weigher, &record.u.sampling);
		} else if (record.type == CAPTURE_RECORD_THREAD_SAMPLING) {
			if (sample_weigher_thread(&weigher, &record.u.thread_sampling) < 0)
				break; /* partial peak stacks, as after a read error */
		} else if (record.type == CAPTURE_RECORD_ALLOC) {
			const struct capture_alloc *alloc = &record.u.alloc;
			struct replay_block block = {
				.address = alloc->address,
				.size = alloc->size,
				.stack = known_stack(replay, alloc->stack),
				.weight = sample_weigher_weight(&weigher, alloc->thread, alloc->size),
			};
			events++;
			block_table_remove(live, alloc->address, &old);
			int error = block_table_insert(live, &block);
			if (error < 0)
				return error;
		} else if (record.type == CAPTURE_RECORD_FREE) {
			events++;
			block_table_remove(live, record.u.free.address, &old);
		} else if (record.type == CAPTURE_RECORD_EXPAND) {
			const struct capture_expand *expand = &record.u.expand;
			events++;
			struct replay_block *block = block_table_find(live, expand->address);
			if (block) {
				block->size = expand->size;
				block->stack = known_stack(replay, expand->stack);
				block->weight = sample_weigher_weight(&weigher, expand->thread, expand->size);
			}
		}
	}
	sample_weigher_finish(&weigher);
	/* The first pass read this far; a failure now is the disk's, and
	 * leaves the peak's stacks partial rather than the report empty. */
	return 0;
}

static int second_pass(struct replay *replay, struct capture_reader *reader,
                       const struct replay_progress *progress)
{
	if (replay->totals.peak_event == 0)
		return 0;
	int error = capture_reader_rewind(reader);
	if (error < 0)
		return error;
	struct block_table *live = block_table_create();
	if (!live)
		return -ENOMEM;
	error = replay_to_peak(replay, reader, live, progress);
	if (error < 0)
		goto out;
	for (size_t i = 0; i < live->capacity; i++) {
		if (!live->slots[i].used)
			continue;
		const struct replay_block *block = &live->slots[i].block;
		struct replay_weighted *stack = &replay->stacks[block->stack].weighted;
		stack->peak_blocks += block->weight;
		stack->peak_bytes += block->weight * (double)block->size;
		sample_tally_add(&replay->stacks[block->stack].peak, block->weight, block->size);
		sample_tally_add(&replay->totals.tallies.peak, block->weight, block->size);
	}
out:
	block_table_destroy(live);
	return error;
}

/* ---- the figures, rounded ------------------------------------------- */

void replay_stack_settle(struct replay_stack *stack)
{
	const struct replay_weighted *weighted = &stack->weighted;
	stack->allocations = sample_count(weighted->allocations);
	stack->allocated_bytes = sample_count(weighted->allocated_bytes);
	stack->expands = sample_count(weighted->expands);
	stack->live_blocks = sample_count(weighted->live_blocks);
	stack->live_bytes = sample_count(weighted->live_bytes);
	stack->peak_blocks = sample_count(weighted->peak_blocks);
	stack->peak_bytes = sample_count(weighted->peak_bytes);
}

/* Once both passes are done: every integer figure from its weighted sum. */
static void settle(struct replay *replay)
{
	struct replay_totals *totals = &replay->totals;
	const struct replay_weighted *weighted = &totals->weighted;
	totals->allocations = sample_count(weighted->allocations);
	totals->frees = sample_count(weighted->frees);
	totals->expands = sample_count(weighted->expands);
	totals->allocated_bytes = sample_count(weighted->allocated_bytes);
	totals->peak_bytes = sample_count(weighted->peak_bytes);
	totals->peak_blocks = sample_count(weighted->peak_blocks);
	totals->live_blocks = sample_count(weighted->live_blocks);
	totals->live_bytes = sample_count(weighted->live_bytes);
	totals->live_usable_bytes = sample_count(weighted->live_usable_bytes);
	for (uint32_t i = 0; i < replay->stack_count; i++)
		replay_stack_settle(&replay->stacks[i]);
	for (uint32_t i = 0; i < replay->thread_count; i++) {
		struct replay_thread *thread = &replay->threads[i];
		thread->allocations = sample_count(thread->weighted.allocations);
		thread->allocated_bytes = sample_count(thread->weighted.allocated_bytes);
	}
}

/* ---- public ---------------------------------------------------------- */

int replay_create(const char *path, struct replay **out, const char **message)
{
	return replay_create_with_progress(path, NULL, out, message);
}

int replay_create_with_progress(const char *path, const struct replay_progress *progress,
                                struct replay **out, const char **message)
{
	return replay_create_with_tasks(path, progress, NULL, out, message);
}

int replay_create_with_tasks(const char *path, const struct replay_progress *progress,
                             const struct task_ledger_sink *tasks, struct replay **out,
                             const char **message)
{
	struct capture_reader *reader = NULL;
	const char *reason = NULL;
	int error = capture_reader_open(path, &reader, &reason);
	if (error < 0) {
		if (message)
			*message = reason ? reason : strerror(-error);
		return error;
	}

	struct replay *replay = calloc(1, sizeof(*replay));
	if (!replay) {
		error = -ENOMEM;
		goto fail;
	}
	capture_reader_version(reader, &replay->format_major, &replay->format_minor);
	replay->live = block_table_create();
	if (!replay->live) {
		error = -ENOMEM;
		goto fail;
	}
	error = stack_trie_create(&replay->trie);
	if (error < 0)
		goto fail;
	error = task_ledger_create(tasks, &replay->task_ledger);
	if (error < 0)
		goto fail;

	error = first_pass(replay, reader, progress);
	if (error < 0)
		goto fail;
	error = second_pass(replay, reader, progress);
	if (error < 0)
		goto fail;
	settle(replay);

	if (replay->has_trailer && replay->trailer.time_ns > replay->totals.end_time_ns)
		replay->totals.end_time_ns = replay->trailer.time_ns;
	error = task_ledger_finish(replay->task_ledger, replay->totals.end_time_ns);
	if (error != 0) {
		error = error < 0 ? error : -ECANCELED;
		goto fail;
	}
	replay->task_count = task_ledger_begun(replay->task_ledger);
	task_ledger_held(replay->task_ledger, &replay->tasks_most_held);
	task_ledger_problems(replay->task_ledger, &replay->task_problems);
	if (progress && progress->report)
		progress->report(progress->context, NULL, capture_reader_size(reader),
		                 capture_reader_size(reader));
	capture_reader_destroy(reader);
	*out = replay;
	return 0;

fail:
	if (message)
		*message = strerror(-error);
	replay_destroy(replay);
	capture_reader_destroy(reader);
	return error;
}

void replay_destroy(struct replay *replay)
{
	if (!replay)
		return;
	block_table_destroy(replay->live);
	task_ledger_destroy(replay->task_ledger);
	stack_trie_destroy(replay->trie);
	free(replay->stacks);
	for (uint32_t i = 0; i < replay->thread_count; i++)
		free(replay->threads[i].name);
	free(replay->threads);
	for (size_t i = 0; i < replay->module_count; i++)
		free((char *)replay->modules[i].path);
	free(replay->modules);
	for (size_t i = 0; i < replay->info_count; i++) {
		free(replay->infos[i].key);
		free(replay->infos[i].value);
	}
	free(replay->infos);
	free(replay->truncation);
	free(replay);
}

const char *replay_info(const struct replay *replay, const char *key)
{
	for (size_t i = 0; i < replay->info_count; i++)
		if (strcmp(replay->infos[i].key, key) == 0)
			return replay->infos[i].value;
	return NULL;
}

enum replay_ending replay_ending(const struct replay *replay)
{
	if (replay->has_trailer)
		return REPLAY_ENDED_CLEANLY;
	if (replay_info(replay, "exec") != NULL)
		return REPLAY_ENDED_BY_EXEC;
	if (replay_info(replay, "death") != NULL)
		return REPLAY_ENDED_BY_DEATH;
	return REPLAY_ENDED_UNSAID;
}

int replay_stack_ips(const struct replay *replay, uint32_t stack, uint64_t *ips, int max)
{
	if (stack >= replay->stack_count)
		return -EINVAL;
	int depth = 0;
	/* Parents always have smaller ids than their children, so this walk
	 * ends; the bound guards against a trie that says otherwise. */
	while (stack != 0 && depth <= (int)replay->stack_count) {
		uint32_t parent;
		uint64_t ip;
		if (stack_trie_node(replay->trie, stack, &parent, &ip) < 0)
			break;
		if (depth < max)
			ips[depth] = ip;
		depth++;
		stack = parent;
	}
	return depth;
}

const struct replay_block *replay_find_live(const struct replay *replay, uint64_t address)
{
	return block_table_find(replay->live, address);
}

int replay_foreach_live(const struct replay *replay,
                        int (*visit)(const struct replay_block *block, void *context),
                        void *context)
{
	const struct block_table *live = replay->live;
	for (size_t i = 0; i < live->capacity; i++) {
		if (!live->slots[i].used)
			continue;
		int result = visit(&live->slots[i].block, context);
		if (result != 0)
			return result;
	}
	return 0;
}

/* ---- walking every block's life -------------------------------------- */

struct walk {
	const struct replay_walker *walker;
	struct block_table *live;      /* NULL when nobody wants blocks */
	uint32_t stack_count;          /* stack ids defined so far, the empty one included */
	uint64_t end_time_ns;
	uint64_t events;               /* ALLOC, FREE and EXPAND records so far, as the first pass counts */
	/* As in the first pass: a moving realloc's tag goes with the block. */
	bool realloc_pending;
	uint32_t realloc_thread;
	uint64_t realloc_address;
	struct sample_weigher weigher; /* the SAMPLING and THREAD_SAMPLING records in force */
	struct task_ledger *tasks;     /* who runs what, for the blocks' and events' tasks */
};

static void walk_see_time(struct walk *walk, uint64_t time_ns)
{
	if (time_ns > walk->end_time_ns)
		walk->end_time_ns = time_ns;
}

/* The table keeps each block's allocation time in time_ns: an EXPAND
 * changes the block's size and stack but not when its life began. */
static int tell_block(struct walk *walk, const struct replay_block *block, bool freed,
                      uint64_t freed_ns, uint32_t freed_by_task)
{
	/* A block is freed by the event under way: walk->events counts it. */
	struct replay_block_life life = {
		.address = block->address,
		.size = block->size,
		.usable = block->usable,
		.stack = block->stack,
		.thread = block->thread,
		.kind = block->kind,
		.allocated_ns = block->time_ns,
		.freed_ns = freed_ns,
		.freed = freed,
		.allocated_event = block->event,
		.freed_event = freed ? walk->events : 0,
		.tag = block->tag,
		.weight = block->weight,
		.task = block->task,
		.freed_by_task = freed_by_task,
	};
	return walk->walker->block ? walk->walker->block(walk->walker->context, &life) : 0;
}

static int tell_event(struct walk *walk, enum capture_record_type type, uint64_t time_ns,
                      uint32_t thread, uint32_t kind, const struct replay_block *block)
{
	if (!walk->walker->event || !block)
		return 0;
	struct replay_event event = {
		.type = type,
		.time_ns = time_ns,
		.thread = thread,
		.kind = kind,
		.address = block->address,
		.size = block->size,
		.usable = block->usable,
		.stack = block->stack,
		.weight = block->weight,
		.task = task_ledger_current(walk->tasks, thread),
		.owner_task = block->task,
	};
	return walk->walker->event(walk->walker->context, &event);
}

static int walk_alloc(struct walk *walk, const struct capture_alloc *alloc)
{
	struct replay_block old;
	int result = 0;
	if (block_table_remove(walk->live, alloc->address, &old)) {
		/* The address was handed out again, so the old block was freed
		 * by now even though its FREE never reached the capture. */
		task_ledger_free(walk->tasks, old.task, old.task, old.size, old.weight);
		result = tell_block(walk, &old, true, alloc->time_ns, old.task);
		tag_destroy(old.tag);
		if (result != 0)
			return result;
	}
	struct replay_block block = {
		.address = alloc->address,
		.size = alloc->size,
		.usable = alloc->usable,
		.time_ns = alloc->time_ns,
		.stack = alloc->stack < walk->stack_count ? alloc->stack : 0,
		.thread = alloc->thread,
		.kind = alloc->kind,
		.weight = sample_weigher_weight(&walk->weigher, alloc->thread, alloc->size),
		.task = task_ledger_current(walk->tasks, alloc->thread),
		.event = walk->events,
	};
	walk->realloc_pending = alloc->kind == CAPTURE_KIND_REALLOC ||
	                        alloc->kind == CAPTURE_KIND_RALLOCX;
	walk->realloc_thread = alloc->thread;
	walk->realloc_address = alloc->address;
	int error = block_table_insert(walk->live, &block);
	if (error == 0)
		task_ledger_alloc(walk->tasks, block.task, block.size, block.weight, alloc->time_ns);
	return error;
}

static int walk_free(struct walk *walk, const struct capture_free *record)
{
	bool after_realloc = walk->realloc_pending && walk->realloc_thread == record->thread &&
	                     (record->kind == CAPTURE_KIND_REALLOC ||
	                      record->kind == CAPTURE_KIND_RALLOCX);
	walk->realloc_pending = false;
	struct replay_block old;
	if (!block_table_remove(walk->live, record->address, &old))
		return 0;
	uint32_t by = task_ledger_current(walk->tasks, record->thread);
	task_ledger_free(walk->tasks, old.task, by, old.size, old.weight);
	int result = tell_block(walk, &old, true, record->time_ns, by);
	if (old.tag && after_realloc) {
		struct replay_block *moved = block_table_find(walk->live, walk->realloc_address);
		if (moved && !moved->tag) {
			moved->tag = old.tag;
			return result;
		}
	}
	tag_destroy(old.tag);
	return result;
}

static void walk_expand(struct walk *walk, const struct capture_expand *expand)
{
	walk->realloc_pending = false;
	struct replay_block *block = block_table_find(walk->live, expand->address);
	if (!block)
		return;
	double weight = sample_weigher_weight(&walk->weigher, expand->thread, expand->size);
	task_ledger_resize(walk->tasks, block->task, block->size, block->weight, expand->size, weight,
	                   expand->time_ns);
	block->size = expand->size;
	block->usable = expand->usable;
	block->stack = expand->stack < walk->stack_count ? expand->stack : 0;
	block->weight = weight;
}

static int walk_tag(struct walk *walk, const struct capture_tag *record)
{
	struct replay_block *block = block_table_find(walk->live, record->address);
	if (!block)
		return 0;
	struct replay_tag *tag;
	int error = tag_create(record, &tag);
	if (error < 0)
		return error;
	tag_destroy(block->tag);
	block->tag = tag;
	return 0;
}

static int walk_record(struct walk *walk, const struct capture_record *record)
{
	switch (record->type) {
	case CAPTURE_RECORD_STACK_NODE:
		if (record->u.stack_node.id >= walk->stack_count)
			walk->stack_count = record->u.stack_node.id + 1;
		return 0;
	case CAPTURE_RECORD_ALLOC: {
		const struct capture_alloc *alloc = &record->u.alloc;
		walk_see_time(walk, alloc->time_ns);
		walk->events++;
		int result = walk->live ? walk_alloc(walk, alloc) : 0;
		if (result == 0 && walk->live)
			result = tell_event(walk, record->type, alloc->time_ns, alloc->thread, alloc->kind,
			                    block_table_find(walk->live, alloc->address));
		return result;
	}
	case CAPTURE_RECORD_FREE: {
		const struct capture_free *free_record = &record->u.free;
		walk_see_time(walk, free_record->time_ns);
		walk->events++;
		if (!walk->live)
			return 0;
		/* Told before the block leaves the table, with what it was. */
		int result = tell_event(walk, record->type, free_record->time_ns, free_record->thread,
		                        free_record->kind,
		                        block_table_find(walk->live, free_record->address));
		return result == 0 ? walk_free(walk, free_record) : result;
	}
	case CAPTURE_RECORD_EXPAND: {
		const struct capture_expand *expand = &record->u.expand;
		walk_see_time(walk, expand->time_ns);
		walk->events++;
		if (!walk->live)
			return 0;
		walk_expand(walk, expand);
		return tell_event(walk, record->type, expand->time_ns, expand->thread, expand->kind,
		                  block_table_find(walk->live, expand->address));
	}
	case CAPTURE_RECORD_TAG:
		walk_see_time(walk, record->u.tag.time_ns);
		return walk->live ? walk_tag(walk, &record->u.tag) : 0;
	case CAPTURE_RECORD_SAMPLE:
		walk_see_time(walk, record->u.sample.time_ns);
		if (!walk->walker->sample)
			return 0;
		return walk->walker->sample(walk->walker->context, &record->u.sample);
	case CAPTURE_RECORD_TRAILER:
		walk_see_time(walk, record->u.trailer.time_ns);
		return 0;
	case CAPTURE_RECORD_SAMPLING:
		sample_weigher_sampling(&walk->weigher, &record->u.sampling);
		return 0;
	case CAPTURE_RECORD_THREAD_SAMPLING:
		return sample_weigher_thread(&walk->weigher, &record->u.thread_sampling);
	case CAPTURE_RECORD_TRACKING:
		walk_see_time(walk, record->u.tracking.time_ns);
		return 0;
	case CAPTURE_RECORD_TASK:
		walk_see_time(walk, record->u.task.time_ns);
		return task_ledger_record(walk->tasks, record);
	case CAPTURE_RECORD_TASK_END:
		walk_see_time(walk, record->u.task_end.time_ns);
		return task_ledger_record(walk->tasks, record);
	case CAPTURE_RECORD_TASK_SWITCH:
		walk_see_time(walk, record->u.task_switch.time_ns);
		return task_ledger_record(walk->tasks, record);
	default:
		return 0;
	}
}

static int tell_task(void *context, const struct replay_task *task)
{
	const struct replay_walker *walker = context;
	return walker->task(walker->context, task);
}

static int by_allocation(const void *a, const void *b)
{
	const struct replay_block *left = *(const struct replay_block *const *)a;
	const struct replay_block *right = *(const struct replay_block *const *)b;
	if (left->time_ns != right->time_ns)
		return left->time_ns < right->time_ns ? -1 : 1;
	if (left->address != right->address)
		return left->address < right->address ? -1 : 1;
	return 0;
}

/* The blocks still live, in order of allocation: the table's own order is
 * the hash's, and exporters want the same output from the same capture. */
static int tell_live_blocks(struct walk *walk)
{
	struct block_table *live = walk->live;
	if (live->count == 0)
		return 0;
	const struct replay_block **order = malloc(live->count * sizeof(*order));
	if (!order)
		return -ENOMEM;
	size_t count = 0;
	for (size_t i = 0; i < live->capacity; i++)
		if (live->slots[i].used)
			order[count++] = &live->slots[i].block;
	qsort(order, count, sizeof(*order), by_allocation);
	int result = 0;
	for (size_t i = 0; i < count && result == 0; i++)
		result = tell_block(walk, order[i], false, walk->end_time_ns, 0);
	free(order);
	return result;
}

int replay_walk(const char *path, const struct replay_walker *walker, const char **message)
{
	struct capture_reader *reader = NULL;
	const char *reason = NULL;
	int error = capture_reader_open(path, &reader, &reason);
	if (error < 0) {
		if (message)
			*message = reason ? reason : strerror(-error);
		return error;
	}
	struct walk walk = { .walker = walker, .stack_count = 1 };
	/* The cast drops const only for the sink's context, read-only there. */
	struct task_ledger_sink sink = { tell_task, (void *)walker };
	error = task_ledger_create(walker->task ? &sink : NULL, &walk.tasks);
	if (error < 0)
		goto out;
	/* A task's figures need its blocks: whether they are live. */
	if (walker->block || walker->event || walker->task) {
		walk.live = block_table_create();
		if (!walk.live) {
			error = -ENOMEM;
			goto out;
		}
	}

	struct capture_record record;
	int more;
	while ((more = capture_reader_next(reader, &record)) > 0) {
		error = walk_record(&walk, &record);
		if (error == 0)
			error = task_ledger_status(walk.tasks);
		if (error != 0)
			goto out;
	}
	/* As in replay_create(): a capture cut short is walked up to the
	 * cut; only running out of memory is a failure. */
	if (more == -ENOMEM) {
		error = more;
		goto out;
	}
	if (walk.live && walker->block)
		error = tell_live_blocks(&walk);
	if (error == 0)
		error = task_ledger_finish(walk.tasks, walk.end_time_ns);
out:
	if (error < 0 && message)
		*message = strerror(-error);
	block_table_destroy(walk.live);
	task_ledger_destroy(walk.tasks);
	sample_weigher_finish(&walk.weigher);
	capture_reader_destroy(reader);
	return error;
}
