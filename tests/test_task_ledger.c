/* test_task_ledger.c - the task ledger tells each task once, when its
 * figures are final, and holds only the tasks running or owning live
 * blocks: exact figures, and the most held at once, for known records. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task_ledger.h"

/* What the sink was told, in order. */
struct told {
	struct replay_task tasks[64];
	char names[64][16];
	uint32_t threads[64][4];
	size_t count;
	uint64_t total;            /* every task told, past the 64 kept */
	int stop_at;               /* returns 7 when the stop_at-th task is told; 0: never */
};

static int tell(void *context, const struct replay_task *task)
{
	struct told *told = context;
	told->total++;
	if (told->count < 64) {
		size_t i = told->count++;
		told->tasks[i] = *task;
		snprintf(told->names[i], sizeof(told->names[i]), "%s", task->name);
		ck_assert_uint_le(task->thread_count, 4);
		if (task->thread_count)
			memcpy(told->threads[i], task->threads, task->thread_count * sizeof(uint32_t));
	}
	return told->stop_at != 0 && (int)told->total == told->stop_at ? 7 : 0;
}

static struct task_ledger *ledger_for(struct told *told)
{
	memset(told, 0, sizeof(*told));
	struct task_ledger_sink sink = { tell, told };
	struct task_ledger *ledger;
	ck_assert_int_eq(task_ledger_create(&sink, &ledger), 0);
	return ledger;
}

static void begin(struct task_ledger *ledger, uint64_t time, uint32_t id, uint32_t parent,
                  uint32_t thread, uint32_t origin, const char *name)
{
	struct capture_record record = { .type = CAPTURE_RECORD_TASK };
	record.u.task = (struct capture_task){
		.time_ns = time, .id = id, .parent = parent, .thread = thread, .origin = origin,
		.key = 1000 + id, .name = name,
	};
	ck_assert_int_eq(task_ledger_record(ledger, &record), 0);
}

static void end(struct task_ledger *ledger, uint64_t time, uint32_t id, uint32_t thread)
{
	struct capture_record record = { .type = CAPTURE_RECORD_TASK_END };
	record.u.task_end = (struct capture_task_end){ .time_ns = time, .id = id, .thread = thread };
	ck_assert_int_eq(task_ledger_record(ledger, &record), 0);
}

static void run(struct task_ledger *ledger, uint64_t time, uint32_t thread, uint32_t task)
{
	struct capture_record record = { .type = CAPTURE_RECORD_TASK_SWITCH };
	record.u.task_switch = (struct capture_task_switch){
		.time_ns = time, .thread = thread, .task = task,
	};
	ck_assert_int_eq(task_ledger_record(ledger, &record), 0);
}

/* 10,000 tasks, each begun, run, allocating 3 blocks and freeing 3, ended:
 * each is told as it ends, and the ledger never holds more than the
 * thread's root and the one task running. */
START_TEST(short_tasks_are_told_as_they_end)
{
	struct told told;
	struct task_ledger *ledger = ledger_for(&told);
	begin(ledger, 0, 1, 0, 0, CAPTURE_TASK_THREAD, "main");
	for (uint32_t id = 2; id <= 10001; id++) {
		begin(ledger, id, id, 1, 0, CAPTURE_TASK_ANNOTATION, "job");
		run(ledger, id, 0, id);
		for (int i = 0; i < 3; i++)
			task_ledger_alloc(ledger, id, 100 + id % 7, 1.0, id);
		for (int i = 0; i < 3; i++)
			task_ledger_free(ledger, id, id, 100 + id % 7, 1.0);
		end(ledger, id + 1, id, 0);
		ck_assert_uint_eq(told.total, id - 2); /* still current: held */
		run(ledger, id + 1, 0, 0);
		ck_assert_uint_eq(told.total, id - 1);
	}
	uint32_t most;
	ck_assert_uint_eq(task_ledger_held(ledger, &most), 1);
	ck_assert_uint_eq(most, 2);
	ck_assert_uint_eq(task_ledger_begun(ledger), 10001);
	const struct replay_task *first = &told.tasks[0];
	ck_assert_uint_eq(first->id, 2);
	ck_assert_str_eq(told.names[0], "job");
	ck_assert_uint_eq(first->parent, 1);
	ck_assert_uint_eq(first->allocations, 3);
	ck_assert_uint_eq(first->allocated_bytes, 3 * (100 + 2));
	ck_assert_uint_eq(first->frees, 3);
	ck_assert_uint_eq(first->peak_bytes, 3 * (100 + 2));
	ck_assert_uint_eq(first->live_blocks, 0);
	ck_assert_uint_eq(first->thread_count, 1);
	ck_assert(first->ended);
	ck_assert_uint_eq(first->end_ns, 3);
	/* The root, running to the end, is told last, with its 10,000 children. */
	ck_assert_int_eq(task_ledger_finish(ledger, 50000), 0);
	ck_assert_uint_eq(told.total, 10001);
	ck_assert_uint_eq(task_ledger_held(ledger, NULL), 0);
	task_ledger_destroy(ledger);
}
END_TEST

/* A task that ends owning a live block waits for the block; another task
 * freeing it counts on both, and the owner is told then. */
START_TEST(a_task_with_live_blocks_waits_for_them)
{
	struct told told;
	struct task_ledger *ledger = ledger_for(&told);
	begin(ledger, 0, 1, 0, 0, CAPTURE_TASK_THREAD, "main");
	begin(ledger, 1, 2, 1, 0, CAPTURE_TASK_UCONTEXT, "producer");
	begin(ledger, 1, 3, 1, 0, CAPTURE_TASK_UCONTEXT, "consumer");
	run(ledger, 2, 0, 2);
	task_ledger_alloc(ledger, 2, 64, 1.0, 2);
	task_ledger_alloc(ledger, 2, 32, 1.0, 2);
	task_ledger_free(ledger, 2, 2, 32, 1.0);
	end(ledger, 3, 2, 0);
	run(ledger, 3, 0, 3);
	ck_assert_uint_eq(told.total, 0);
	task_ledger_free(ledger, 2, 3, 64, 1.0);
	ck_assert_uint_eq(told.total, 1);
	const struct replay_task *producer = &told.tasks[0];
	ck_assert_uint_eq(producer->id, 2);
	ck_assert_uint_eq(producer->frees, 2);
	ck_assert_uint_eq(producer->freed_bytes, 96);
	ck_assert_uint_eq(producer->freed_by_others, 1);
	ck_assert_uint_eq(producer->freed_by_others_bytes, 64);
	ck_assert_uint_eq(producer->end_live_blocks, 1);
	ck_assert_uint_eq(producer->end_live_bytes, 64);
	ck_assert_uint_eq(producer->peak_bytes, 96);
	end(ledger, 4, 3, 0);
	run(ledger, 4, 0, 0);
	ck_assert_uint_eq(told.total, 2);
	ck_assert_uint_eq(told.tasks[1].id, 3);
	ck_assert_uint_eq(told.tasks[1].freed_of_others, 1);
	ck_assert_uint_eq(told.tasks[1].freed_of_others_bytes, 64);
	/* The root: its children, both begun while it held. */
	ck_assert_int_eq(task_ledger_finish(ledger, 9), 0);
	ck_assert_uint_eq(told.tasks[2].id, 1);
	ck_assert_uint_eq(told.tasks[2].children, 2);
	ck_assert(!told.tasks[2].ended);
	ck_assert_uint_eq(told.tasks[2].end_ns, 9);
	task_ledger_destroy(ledger);
}
END_TEST

/* A task entered on two threads stays held until both leave it; the rest
 * are told at the finish in id order, leaks and all. */
START_TEST(finish_tells_the_rest_in_id_order)
{
	struct told told;
	struct task_ledger *ledger = ledger_for(&told);
	begin(ledger, 0, 1, 0, 0, CAPTURE_TASK_THREAD, "main");
	begin(ledger, 0, 2, 0, 1, CAPTURE_TASK_THREAD, "worker");
	begin(ledger, 1, 3, 1, 0, CAPTURE_TASK_ANNOTATION, "shared");
	begin(ledger, 1, 4, 1, 0, CAPTURE_TASK_ANNOTATION, "leaky");
	run(ledger, 2, 0, 3);
	run(ledger, 2, 1, 3);
	end(ledger, 3, 3, 0);
	run(ledger, 4, 0, 4);
	task_ledger_alloc(ledger, 4, 10, 1.0, 4);
	end(ledger, 5, 4, 0);
	run(ledger, 5, 0, 0);
	ck_assert_uint_eq(told.total, 0); /* 3 runs on thread 1, 4 owns a block */
	run(ledger, 6, 1, 0);
	ck_assert_uint_eq(told.total, 1);
	ck_assert_uint_eq(told.tasks[0].id, 3);
	ck_assert_uint_eq(told.tasks[0].thread_count, 2);
	ck_assert_uint_eq(told.threads[0][0], 0);
	ck_assert_uint_eq(told.threads[0][1], 1);
	ck_assert_int_eq(task_ledger_finish(ledger, 10), 0);
	ck_assert_uint_eq(told.total, 4);
	ck_assert_uint_eq(told.tasks[1].id, 1);
	ck_assert_uint_eq(told.tasks[2].id, 2);
	ck_assert_uint_eq(told.tasks[3].id, 4);
	ck_assert_uint_eq(told.tasks[3].live_blocks, 1);
	ck_assert_uint_eq(told.tasks[3].live_bytes, 10);
	ck_assert(told.tasks[3].ended);
	ck_assert_uint_eq(told.tasks[3].end_ns, 5);
	task_ledger_destroy(ledger);
}
END_TEST

/* Odd records are counted; a sink that says stop is obeyed and its value
 * kept. */
START_TEST(odd_records_are_counted_and_a_stop_is_kept)
{
	struct told told;
	struct task_ledger *ledger = ledger_for(&told);
	told.stop_at = 1;
	begin(ledger, 0, 1, 0, 0, CAPTURE_TASK_THREAD, "main");
	begin(ledger, 0, 1, 0, 0, CAPTURE_TASK_ANNOTATION, "again");   /* repeats an id */
	begin(ledger, 0, 2, 0, 0, CAPTURE_TASK_ANNOTATION, "a");
	end(ledger, 1, 2, 0);                                          /* told: stop */
	end(ledger, 1, 2, 0);                                          /* already finished */
	run(ledger, 1, 0, 9);                                          /* never begun */
	struct task_ledger_problems problems;
	task_ledger_problems(ledger, &problems);
	ck_assert_uint_eq(problems.bad_tasks, 1);
	ck_assert_uint_eq(problems.unknown_tasks, 2);
	ck_assert_int_eq(task_ledger_status(ledger), 7);
	ck_assert_int_eq(task_ledger_finish(ledger, 5), 7);
	ck_assert_uint_eq(told.total, 1);
	ck_assert_uint_eq(task_ledger_begun(ledger), 2);
	task_ledger_destroy(ledger);
}
END_TEST

/* Sampled blocks count by their weights: a task's figures are the sums,
 * rounded, and it is finished when its last recorded block is freed. */
START_TEST(weights_make_the_figures)
{
	struct told told;
	struct task_ledger *ledger = ledger_for(&told);
	begin(ledger, 0, 1, 0, 0, CAPTURE_TASK_THREAD, "main");
	begin(ledger, 1, 2, 1, 0, CAPTURE_TASK_ANNOTATION, "sampled");
	run(ledger, 1, 0, 2);
	task_ledger_alloc(ledger, 2, 100, 1.5, 1);
	task_ledger_alloc(ledger, 2, 200, 2.5, 1);
	end(ledger, 2, 2, 0);
	run(ledger, 2, 0, 0);
	task_ledger_free(ledger, 2, 1, 100, 1.5);
	ck_assert_uint_eq(told.total, 0);
	ck_assert_int_eq(task_ledger_finish(ledger, 3), 0);
	const struct replay_task *task = &told.tasks[1];
	ck_assert_uint_eq(task->id, 2);
	ck_assert_uint_eq(task->allocations, 4);
	ck_assert_uint_eq(task->allocated_bytes, 650);
	ck_assert_uint_eq(task->frees, 2);
	ck_assert_uint_eq(task->freed_by_others_bytes, 150);
	ck_assert_uint_eq(task->live_blocks, 3);
	ck_assert_uint_eq(task->live_bytes, 500);
	ck_assert_uint_eq(task->peak_bytes, 650);
	ck_assert_uint_eq(task->end_live_bytes, 650);
	ck_assert_uint_eq(told.tasks[0].freed_of_others_bytes, 150);
	task_ledger_destroy(ledger);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("task_ledger");
	TCase *tcase = tcase_create("ledger");
	tcase_add_test(tcase, short_tasks_are_told_as_they_end);
	tcase_add_test(tcase, a_task_with_live_blocks_waits_for_them);
	tcase_add_test(tcase, finish_tells_the_rest_in_id_order);
	tcase_add_test(tcase, odd_records_are_counted_and_a_stop_is_kept);
	tcase_add_test(tcase, weights_make_the_figures);
	suite_add_tcase(suite, tcase);
	SRunner *runner = srunner_create(suite);
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
