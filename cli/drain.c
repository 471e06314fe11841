/* drain.c - see drain.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "drain.h"
#include "event_store.h"
#include "ring_window.h"

/* How often the windows are drained, and how often the rest is done:
 * flushing the captures, reaping ended threads' rings, and looking for
 * processes that are gone. */
#define PASS_NS 1000000u
#define CHORES_EVERY 100u
/* Of those, how often memscope also looks whether a process still maps its
 * window (it may have replaced itself with exec), reading its maps. */
#define MAPPINGS_EVERY 10u
/* Before saying that memscope waits for traced processes still running. */
#define PATIENCE_PASSES 2000u

enum slot_stage {
	SLOT_UNSEEN = 0,
	SLOT_READING,
	SLOT_WRITTEN,
};

struct slot {
	enum slot_stage stage;
	struct event_store *store;
	int fd;
};

struct drain {
	int fd;
	void *base;
	char variable[64];
	pthread_t thread;
	atomic_bool root_ended;
	pid_t root;
	int root_status;
	struct slot slots[RING_WINDOW_SLOTS];
};

static void sleep_ns(long ns)
{
	struct timespec pause = {0, ns};
	nanosleep(&pause, NULL);
}

/* How the process of a capture without a trailer ended, as far as memscope
 * knows. */
static void describe_death(const struct drain *drain, const struct ring_window *window,
                           char *text, size_t size)
{
	int status = drain->root_status;
	char proc[32];
	snprintf(proc, sizeof proc, "/proc/%d", (int)window->pid);
	if (atomic_load(&drain->root_ended) && window->pid == drain->root && WIFSIGNALED(status))
		event_store_signal_death(WTERMSIG(status), text, size);
	else if (atomic_load(&drain->root_ended) && window->pid == drain->root)
		snprintf(text, size, "exited with status %d",
		         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	else if (access(proc, F_OK) == 0)
		snprintf(text, size, "replaced by a new image (exec)");
	else
		snprintf(text, size, "gone (how it ended is not known)");
}

static void finish_slot(struct drain *drain, struct slot *slot, struct ring_window *window)
{
	event_store_drain_all(slot->store);
	/* Threads that ended since the last look: their root tasks end. */
	event_store_reap(slot->store);
	char death[256];
	describe_death(drain, window, death, sizeof death);
	int error = event_store_end(slot->store, death);
	if (error == 0)
		error = event_store_error(slot->store);
	event_store_destroy(slot->store);
	if (close(slot->fd) != 0 && error == 0)
		error = -errno;
	if (error < 0)
		fprintf(stderr, "memscope: cannot write capture %s: %s; the capture is incomplete\n",
		        window->output, strerror(-error));
	slot->store = NULL;
	slot->stage = SLOT_WRITTEN;
}

/* One slot's share of a pass.  Returns whether its process may still add
 * to it. */
static bool serve_slot(struct drain *drain, uint32_t index, bool chores, bool mappings)
{
	struct slot *slot = &drain->slots[index];
	struct ring_window *window = ring_windows_claimed(drain->base, index);
	if (window == NULL)
		return false;
	if (slot->stage == SLOT_WRITTEN) {
		/* Its process gone, the slot can serve another. */
		if (chores && !ring_window_in_use(window, index, mappings)) {
			ring_windows_recycle(drain->fd, drain->base, index);
			slot->stage = SLOT_UNSEEN;
		}
		return false;
	}
	uint32_t state = atomic_load(&window->state);
	if (slot->stage == SLOT_UNSEEN) {
		if (state == RING_WINDOW_CLAIMED) {
			/* Starting its tracker, or dead before it could. */
			if (chores && !ring_window_in_use(window, index, mappings))
				slot->stage = SLOT_WRITTEN;
			return slot->stage != SLOT_WRITTEN;
		}
		slot->fd = open(window->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int error = slot->fd < 0 ? -errno : event_store_attach(window, slot->fd, &slot->store);
		if (error < 0) {
			fprintf(stderr, "memscope: cannot write capture %s: %s; process %d is not "
			        "traced\n", window->output, strerror(-error), (int)window->pid);
			if (slot->fd >= 0)
				close(slot->fd);
			slot->stage = SLOT_WRITTEN;
			/* Nobody reads its rings: once they are full, its threads wait
			 * 2 s for a drain pass that never comes and stop recording. */
			return false;
		}
		slot->stage = SLOT_READING;
	}
	event_store_drain(slot->store);
	if (event_store_finished(slot->store)) {
		finish_slot(drain, slot, window);
		return false;
	}
	if (chores) {
		event_store_flush(slot->store);
		event_store_reap(slot->store);
		if (!ring_window_in_use(window, index, mappings)) {
			finish_slot(drain, slot, window);
			return false;
		}
	}
	return true;
}

static void *drain_main(void *argument)
{
	struct drain *drain = argument;
	uint64_t passes = 0, after_root = 0;
	for (;;) {
		bool root_ended = atomic_load(&drain->root_ended);
		/* Once the root process is gone, look for the others' end at
		 * every pass. */
		bool chores = root_ended || passes % CHORES_EVERY == 0;
		bool mappings = root_ended || passes % (CHORES_EVERY * MAPPINGS_EVERY) == 0;
		uint32_t running = 0;
		for (uint32_t i = 0; i < RING_WINDOW_SLOTS; i++)
			running += serve_slot(drain, i, chores, mappings);
		passes++;
		if (root_ended) {
			if (running == 0)
				break;
			if (++after_root == PATIENCE_PASSES)
				fprintf(stderr, "memscope: the program has ended; waiting for %u traced "
				        "process%s it started to end too\n", running,
				        running == 1 ? "" : "es");
		}
		sleep_ns(PASS_NS);
	}
	return NULL;
}

int drain_start(struct drain **out)
{
	struct drain *drain = calloc(1, sizeof *drain);
	if (drain == NULL)
		return -ENOMEM;
	int error = ring_windows_create(&drain->fd, &drain->base);
	if (error < 0) {
		free(drain);
		return error;
	}
	snprintf(drain->variable, sizeof drain->variable, "%ld:%d", (long)getpid(), drain->fd);
	/* memscope's signals stay on its main thread. */
	sigset_t all, previous;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &previous);
	error = -pthread_create(&drain->thread, NULL, drain_main, drain);
	pthread_sigmask(SIG_SETMASK, &previous, NULL);
	if (error < 0) {
		close(drain->fd);
		free(drain);
		return error;
	}
	*out = drain;
	return 0;
}

const char *drain_variable(const struct drain *drain)
{
	return drain->variable;
}

void drain_finish(struct drain *drain, pid_t root, int wait_status)
{
	if (drain == NULL)
		return;
	drain->root = root;
	drain->root_status = wait_status;
	atomic_store(&drain->root_ended, true);
	pthread_join(drain->thread, NULL);
	munmap(drain->base, ring_windows_size());
	close(drain->fd);
	free(drain);
}
