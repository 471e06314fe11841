/* own_fd.c - see own_fd.h. */
#include "own_fd.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "memscope/memscope.h"

#include "guard.h"

/* Where memscope's numbers start: a quarter of the way below the soft
 * limit, far above what a program opens at once, and within the limit. */
static int lowest_own(void)
{
	static _Atomic int lowest;
	int known = atomic_load_explicit(&lowest, memory_order_relaxed);
	if (known > 0)
		return known;
	struct rlimit limit;
	rlim_t soft = getrlimit(RLIMIT_NOFILE, &limit) == 0 ? limit.rlim_cur : 1024;
	if (soft == RLIM_INFINITY || soft > 65536)
		soft = 65536;
	int chosen = soft > 64 ? (int)(soft - soft / 4) : 3;
	atomic_store_explicit(&lowest, chosen, memory_order_relaxed);
	return chosen;
}

int own_fd_move(int fd)
{
	if (fd < 0)
		return fd;
	int moved = fcntl(fd, F_DUPFD_CLOEXEC, lowest_own());
	if (moved < 0)
		return fd;
	close(fd);
	return moved;
}

/* libunwind checks an address it is unsure of by writing a byte from it
 * into a pipe it keeps open (a new thread's first stacks, the end of
 * every stack), and when a read from that pipe fails (the program closed
 * the number, or reused it), closes both numbers and makes a new pipe:
 * the program's file under that number would be closed.  Its pipe is
 * made while memscope unwinds (the guard raised): there, the pipe's ends
 * are moved out of the program's way, and where libunwind keeps the two
 * numbers (the array it gave pipe2, in its own data) is remembered.
 *
 * A program that closes one of those numbers, or puts a file of its own
 * under one with dup2 or dup3 (a shell's `exec 900>FILE`), would leave
 * libunwind reading and writing the program's file under a number it
 * believes its own.  close, dup2 and dup3 step aside first: libunwind's
 * array is given a new pipe, high, and the old pipe's other end is
 * closed if it still is that pipe; then the program's call runs.  What
 * is left is a closefrom or close_range over the numbers, after which
 * libunwind finds them closed and makes a new pipe itself (above), and a
 * program that then opens hundreds of files before memscope unwinds
 * again.  All of this is defined in the preload library and in
 * libmemscope, ahead of the C library's. */
static _Atomic(int *) unwinder_pipe;
static _Atomic unsigned long long unwinder_pipe_inode;

static unsigned long long inode_of(int fd)
{
	struct stat status;
	return fstat(fd, &status) == 0 && S_ISFIFO(status.st_mode) ? (unsigned long long)status.st_ino
	                                                            : 0;
}

static void move_if_ours(int result, int fds[2])
{
	if (result != 0 || !guard_raised())
		return;
	fds[0] = own_fd_move(fds[0]);
	fds[1] = own_fd_move(fds[1]);
	/* An array on this thread's stack is not one that outlives the call. */
	char here;
	uintptr_t distance = (uintptr_t)fds > (uintptr_t)&here ? (uintptr_t)fds - (uintptr_t)&here
	                                                        : (uintptr_t)&here - (uintptr_t)fds;
	if (distance < (uintptr_t)1 << 23)
		return;
	atomic_store_explicit(&unwinder_pipe_inode, inode_of(fds[0]), memory_order_relaxed);
	atomic_store_explicit(&unwinder_pipe, fds, memory_order_release);
}

/* number is about to be closed or replaced by the program: if it is one
 * of libunwind's, libunwind gets a new pipe first. */
static void step_aside(int number)
{
	int *ends = atomic_load_explicit(&unwinder_pipe, memory_order_acquire);
	if (ends == NULL || number < 0)
		return;
	int old[2] = {__atomic_load_n(&ends[0], __ATOMIC_RELAXED),
	              __atomic_load_n(&ends[1], __ATOMIC_RELAXED)};
	if (number != old[0] && number != old[1])
		return;
	int fresh[2];
	if (syscall(SYS_pipe2, fresh, O_CLOEXEC | O_NONBLOCK) != 0)
		return;
	fresh[0] = own_fd_move(fresh[0]);
	fresh[1] = own_fd_move(fresh[1]);
	unsigned long long was = atomic_exchange_explicit(&unwinder_pipe_inode, inode_of(fresh[0]),
	                                                  memory_order_relaxed);
	__atomic_store_n(&ends[0], fresh[0], __ATOMIC_RELAXED);
	__atomic_store_n(&ends[1], fresh[1], __ATOMIC_RELAXED);
	for (int end = 0; end < 2; end++)
		if (old[end] != number && was != 0 && inode_of(old[end]) == was)
			syscall(SYS_close, old[end]);
}

MEMSCOPE_EXPORT int pipe2(int fds[2], int flags)
{
	int result = (int)syscall(SYS_pipe2, fds, flags);
	move_if_ours(result, fds);
	return result;
}

MEMSCOPE_EXPORT int pipe(int fds[2])
{
	int result = (int)syscall(SYS_pipe2, fds, 0);
	move_if_ours(result, fds);
	return result;
}

/* The C library's own entry points underneath: __close is the same
 * cancellation point as close. */
extern int __close(int fd);
extern int __dup2(int fd, int number);

MEMSCOPE_EXPORT int close(int fd)
{
	step_aside(fd);
	return __close(fd);
}

MEMSCOPE_EXPORT int dup2(int fd, int number)
{
	if (fd != number)
		step_aside(number);
	return __dup2(fd, number);
}

MEMSCOPE_EXPORT int dup3(int fd, int number, int flags)
{
	if (fd != number)
		step_aside(number);
	return (int)syscall(SYS_dup3, fd, number, flags);
}
