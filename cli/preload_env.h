/* preload_env.h - the environment through which `memscope run` configures
 * libmemscope_preload.so in the traced program.  Both sides include this
 * file; nothing else crosses between them.
 */
#ifndef MEMSCOPE_PRELOAD_ENV_H
#define MEMSCOPE_PRELOAD_ENV_H

/* MEMSCOPE_ENV_ALLOCATOR: read by the interposed malloc itself, from its
 * first call on. */
#include "capture_interpose.h"

/* Absolute path of the capture file of the process whose pid is ROOT_PID. */
#define MEMSCOPE_ENV_OUTPUT "MEMSCOPE_OUTPUT"
/* Pid of the traced program itself (the process `memscope run` execs). */
#define MEMSCOPE_ENV_ROOT_PID "MEMSCOPE_ROOT_PID"
/* "1": children that exec are traced too, each into
 * <directory of MEMSCOPE_OUTPUT>/memscope.<program>.<pid>.memscope.
 * Otherwise the preload library removes itself from the environment so
 * that children run untraced. */
#define MEMSCOPE_ENV_FOLLOW_FORK "MEMSCOPE_FOLLOW_FORK"
/* "0": a traced process that replaces itself (execve and its kin) runs its
 * new image untraced.  Otherwise the new image is traced too, into
 * <directory of MEMSCOPE_OUTPUT>/memscope.<new program>.<pid>.memscope,
 * as a wrapper script that execs the real program needs. */
#define MEMSCOPE_ENV_FOLLOW_EXEC "MEMSCOPE_FOLLOW_EXEC"
/* Backend name: exact, lockfree, async, hybrid. */
#define MEMSCOPE_ENV_BACKEND "MEMSCOPE_BACKEND"
/* Frames kept per stack (decimal). */
#define MEMSCOPE_ENV_STACK_DEPTH "MEMSCOPE_STACK_DEPTH"
/* Timeline sampling interval in ms (decimal), 0 = off. */
#define MEMSCOPE_ENV_TIMELINE_MS "MEMSCOPE_TIMELINE_MS"
/* Capture source: hooks or interpose (default: interpose). */
#define MEMSCOPE_ENV_CAPTURE "MEMSCOPE_CAPTURE"
/* The lockfree backend's mean sampling interval in bytes (decimal). */
#define MEMSCOPE_ENV_SAMPLE_INTERVAL "MEMSCOPE_SAMPLE_INTERVAL"
/* The seed of its sampler (decimal); unset: a new one each run. */
#define MEMSCOPE_ENV_SAMPLE_SEED "MEMSCOPE_SAMPLE_SEED"
/* The hybrid backend's threshold in bytes (decimal); unset: its default. */
#define MEMSCOPE_ENV_EXACT_ABOVE "MEMSCOPE_EXACT_ABOVE"
/* Its event budget, events per second (decimal); unset: none. */
#define MEMSCOPE_ENV_EVENT_BUDGET "MEMSCOPE_EVENT_BUDGET"

#endif
