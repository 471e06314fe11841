/* test_header.c - the public header on its own, compiled with -pedantic
 * -Werror (see tests/meson.build): it must stand alone and be plain C11.
 * Running it checks what the header promises without a tracker. */
#include <memscope/memscope.h>
#include <memscope/task.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int passed, failed;

static void check(int holds, const char *what)
{
	if (holds) {
		passed++;
	} else {
		failed++;
		fprintf(stderr, "failed: %s\n", what);
	}
}

int main(void)
{
	memscope_config config;
	memscope_config_init(&config);
	memscope_backend_kind kind;
	memscope_capture_kind capture;
	check(config.version == MEMSCOPE_CONFIG_VERSION, "config version");
	check(config.backend == MEMSCOPE_BACKEND_EXACT, "default backend");
	check(config.stack_depth == 64 && config.timeline_interval_ms == 10, "default depth, timeline");
	check(config.capture == MEMSCOPE_CAPTURE_DEFAULT, "default capture source");
	check(memscope_backend_parse("hybrid", &kind) == 0 && kind == MEMSCOPE_BACKEND_HYBRID,
	      "parse hybrid");
	check(memscope_backend_parse("fast", &kind) == -EINVAL, "refuse an unknown backend");
	check(strcmp(memscope_backend_name(MEMSCOPE_BACKEND_LOCKFREE), "lockfree") == 0,
	      "name lockfree");
	check(memscope_backend_name((memscope_backend_kind)42) == NULL, "no name for 42");
	check(memscope_capture_parse("hooks", &capture) == 0 && capture == MEMSCOPE_CAPTURE_HOOKS,
	      "parse hooks");
	check(memscope_capture_parse("interpose", &capture) == 0 &&
	      capture == MEMSCOPE_CAPTURE_INTERPOSE, "parse interpose");
	check(memscope_capture_parse("ptrace", &capture) == -EINVAL, "refuse an unknown source");
	memscope_tracker_destroy(NULL);
	/* task.h finds libmemscope's interface; without a tracker the calls
	 * do nothing. */
	const memscope_task_interface *tasks = memscope_task_interface_get();
	check(tasks != NULL && tasks->version == MEMSCOPE_TASK_INTERFACE_VERSION,
	      "task.h finds the task interface");
	check(memscope_task_interface_get() == tasks, "the lookup is kept");
	memscope_task_begin(1, "idle", 0);
	memscope_task_enter(1);
	memscope_task_leave(1);
	memscope_task_end(1);
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
