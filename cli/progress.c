/* progress.c - see progress.h. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

#define PROGRESS_DELAY_SECONDS 0.3

static void show(void *context, const char *stage, uint64_t done, uint64_t total)
{
	struct terminal_progress *progress = context;
	if (stage == NULL) {
		terminal_progress_finish(progress);
		return;
	}
	if (!progress->terminal || total == 0)
		return;
	/* A read that ends within a moment needs no progress line. */
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double elapsed = (double)(now.tv_sec - progress->start.tv_sec) +
	                 (double)(now.tv_nsec - progress->start.tv_nsec) / 1e9;
	if (elapsed < PROGRESS_DELAY_SECONDS)
		return;
	int percent = (int)(done * 100 / total);
	if (percent == progress->percent && stage == progress->stage)
		return;
	progress->percent = percent;
	progress->stage = stage;
	/* \r and erase-to-end: one line, rewritten in place. */
	fprintf(stderr, "\r%s: %s, %d%%\033[K", progress->who, stage, percent);
	fflush(stderr);
}

void terminal_progress_init(struct terminal_progress *progress, const char *who)
{
	*progress = (struct terminal_progress){
		.replay = {.report = show, .context = progress},
		.who = who,
		.percent = -1,
		.terminal = isatty(STDERR_FILENO) == 1,
	};
	clock_gettime(CLOCK_MONOTONIC, &progress->start);
}

void terminal_progress_finish(struct terminal_progress *progress)
{
	if (progress->terminal && progress->percent >= 0) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	progress->percent = -1;
}
