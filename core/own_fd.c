/* own_fd.c - see own_fd.h. */
#include "own_fd.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <unistd.h>

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
