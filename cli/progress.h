/* progress.h - how far a long read of a capture has got, on stderr, for a
 * person watching a terminal (nothing when stderr is not one). */
#ifndef MEMSCOPE_PROGRESS_H
#define MEMSCOPE_PROGRESS_H

#include <stdbool.h>
#include <time.h>

#include "replay.h"

struct terminal_progress {
	struct replay_progress replay;  /* hand &progress.replay to the replay */
	const char *who;                /* "memscope report" */
	const char *stage;
	int percent;                    /* last shown; -1: nothing shown */
	bool terminal;
	struct timespec start;          /* lines start after a moment */
};

/* Sets up progress lines starting with who. */
void terminal_progress_init(struct terminal_progress *progress, const char *who);

/* Removes the progress line, if one was shown. */
void terminal_progress_finish(struct terminal_progress *progress);

#endif
