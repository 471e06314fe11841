/* own_fd.c - see own_fd.h. */
#include "own_fd.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <sys/resource.h>
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
 * into a pipe it keeps open, and when a read from that pipe fails (the
 * program closed the number, or reused it), closes both numbers and makes
 * a new pipe: the program's file under that number would be closed.  Its
 * pipe is made while memscope unwinds (the guard raised): there, the
 * pipe's ends are moved out of the program's way, where the program's
 * close loop may take them, but not its next open.  Exported by the
 * preload library and by libmemscope, ahead of the C library's, which is
 * this same system call. */
static void move_if_ours(int result, int fds[2])
{
	if (result == 0 && guard_raised()) {
		fds[0] = own_fd_move(fds[0]);
		fds[1] = own_fd_move(fds[1]);
	}
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
