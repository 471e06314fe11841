/* ring_window.h - the memory `memscope run` shares with the processes it
 * traces, so that their events outlive them.
 *
 * `memscope run` creates one anonymous shared file (memfd) before it starts
 * the program and keeps it open; a traced process opens it through
 * /proc/<memscope's pid>/fd/<fd> (named in MEMSCOPE_DRAIN), claims one of
 * its RING_WINDOW_SLOTS windows, maps that window and closes the
 * descriptor again: the program never holds a descriptor of memscope's.
 * The event store's rings (event_store.c) then live in the window, and
 * memscope itself reads them and writes the capture.  A process that dies
 * in any way, SIGKILL included, leaves every event it had published in its
 * window, where memscope still finds it.
 *
 * Each window starts with a struct ring_window; the rings follow it.
 * Pointers inside a window (the ring list, a ring's next) are the traced
 * process's addresses: the reader translates them by the difference of the
 * two mappings' starts.  Both sides are the same build of memscope, so the
 * layout is checked by one number (RING_WINDOW_LAYOUT).
 */
#ifndef MEMSCOPE_RING_WINDOW_H
#define MEMSCOPE_RING_WINDOW_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define RING_WINDOW_ENV "MEMSCOPE_DRAIN"
#define RING_WINDOW_SLOTS 64u
/* A window's size: the rings of a process's threads (512 KiB each to start,
 * up to 8 MiB for a thread that outruns memscope), reused as threads end.
 * The file is sparse: only the pages rings touch take memory. */
#define RING_WINDOW_SIZE (UINT64_C(1) << 32)
#define RING_WINDOW_MAGIC UINT64_C(0x574f444e49574d53) /* "SMWINDOW" */

enum ring_window_state {
	RING_WINDOW_FREE = 0,
	RING_WINDOW_CLAIMED,    /* a process has it and is starting its tracker */
	RING_WINDOW_TRACING,    /* its store is open: sequence_base is set */
};

#define RING_WINDOW_TASKS 1u        /* the capture records tasks */

struct ring;

struct ring_window {
	_Atomic uint64_t magic;
	uint32_t layout;
	_Atomic uint32_t state;
	int32_t pid;
	uint32_t flags;
	uint64_t started;             /* the process's start time (/proc/<pid>/stat), which a
	                                 later process with the same pid does not share */
	uint64_t start;               /* where the traced process mapped the window */
	uint64_t size;
	_Atomic uint64_t used;        /* bytes handed out for rings, from the window's start */
	_Atomic(struct ring *) ring_list; /* the first ring (the traced process's address) */
	uint64_t sequence_base;       /* the first event number of the store (TRACING) */
	_Atomic uint64_t passes;      /* memscope's drain passes: it is still there */
	char output[PATH_MAX];        /* where the capture goes */
};

/* The slots' states, at the start of the file; window i follows at
 * (i + 1) * RING_WINDOW_SIZE. */
struct ring_window_table {
	uint64_t magic;
	uint32_t layout;
	_Atomic uint32_t claimed[RING_WINDOW_SLOTS];
};

/* ---- memscope's side ------------------------------------------------------ */

/* Creates the shared file and maps it whole.  Returns 0 or -errno. */
int ring_windows_create(int *fd_out, void **base_out);

/* The shared file's size (all of it is mapped by ring_windows_create). */
uint64_t ring_windows_size(void);

/* Window slot of the file mapped at base, or NULL if no process claimed it. */
struct ring_window *ring_windows_claimed(void *base, uint32_t slot);

/* Whether the process that claimed window slot is still there (not dead
 * nor a zombie), and, if mappings, still maps it (it has not replaced
 * itself with exec).  The first look is cheap (/proc/<pid>/stat); the
 * second reads /proc/<pid>/maps, which holds the process's memory map
 * lock a moment: memscope does it less often. */
bool ring_window_in_use(const struct ring_window *window, uint32_t slot, bool mappings);

/* Gives window slot of the file (fd, mapped at base) back, for another
 * process to claim: its memory is freed.  Only once its process no longer
 * maps it (ring_window_in_use). */
void ring_windows_recycle(int fd, void *base, uint32_t slot);

/* ---- the traced process's side -------------------------------------------- */

/* Claims a window of the file MEMSCOPE_DRAIN names and maps it; output is
 * where the capture goes.  Returns NULL (and says why on stderr) when
 * there is none to claim. */
struct ring_window *ring_window_attach(const char *drain, const char *output);

/* Memory for a ring of size bytes in the window (page-aligned), or NULL. */
void *ring_window_allocate(struct ring_window *window, uint64_t size);

/* In a fork's child: the window is the parent's; replace it with private
 * memory so that nothing the child does reaches the parent's rings. */
void ring_window_forget(struct ring_window *window);

#endif
