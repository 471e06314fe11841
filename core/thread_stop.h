/* thread_stop.h - stops every other thread of this process where it is,
 * with its registers, and lets them go again: what a leak scan
 * (leak_scan.h) needs so that no thread moves a pointer while the heap is
 * read, and so that a pointer held only in a register, or on a stack from
 * its thread's stack pointer up, keeps its block.
 *
 * Each thread listed in /proc/self/task gets a signal (tgkill) whose
 * handler saves the interrupted registers and the thread pointer, says so,
 * and waits on a futex until thread_stop_resume.  A thread that does not
 * answer within the timeout (the signal blocked, or the thread ending) is
 * listed as not stopped.  /proc/self/task is read again after the signals,
 * until no new thread shows up: a thread started meanwhile is stopped too.
 * No allocation, no lock but the futexes the threads wait on; the table is
 * static, for THREAD_STOP_MAX threads (more are listed as not stopped).
 */
#ifndef MEMSCOPE_THREAD_STOP_H
#define MEMSCOPE_THREAD_STOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define THREAD_STOP_MAX 1024
#define THREAD_STOP_REGISTERS 23   /* x86-64's general registers in a ucontext */

struct stopped_thread {
	int tid;
	bool stopped;
	uintptr_t stack_pointer;           /* where it was interrupted */
	uintptr_t thread_pointer;
	uint64_t registers[THREAD_STOP_REGISTERS];
};

/* Stops every thread but the caller's with signal_number, waiting up to
 * timeout_ms for each batch to answer, and returns the table (*count
 * threads; unanswered ones have stopped false).  The program's action for
 * the signal is put back by thread_stop_resume.  Returns NULL with
 * *count 0 when the signal cannot be used (the program has a handler for
 * it) or /proc/self/task cannot be read.  Call thread_stop_resume after,
 * from the same thread, whatever it returned. */
const struct stopped_thread *thread_stop_all(int signal_number, unsigned timeout_ms,
                                             size_t *count);

/* Lets the stopped threads go, waits until they have left the handler,
 * and puts the program's action for the signal back. */
void thread_stop_resume(void);

#endif
