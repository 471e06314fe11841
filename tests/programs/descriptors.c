/* descriptors.c - a program that treats descriptors as its own: it closes
 * 3..1023 (as daemons do), opens FILE, allocates while it writes to it,
 * and writes there which of the descriptors 0..7 were open when it
 * started and which number FILE got.  Traced, FILE must read the same as
 * untraced: memscope neither takes the program's numbers nor closes
 * them.  With "take", it closes nothing and instead puts FILE, by dup2,
 * under every number it finds open above 2 (a shell's `exec 900>FILE`):
 * memscope must step aside, never read or write the program's file
 * through a number that was its own; a thread started after that makes
 * libunwind check addresses through its pipe (the new stack's end).  Usage: descriptors FILE [take] */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static void *volatile sink;

static void *allocate(void *unused)
{
	(void)unused;
	for (int i = 0; i < 100; i++)
		free(malloc(64 + (size_t)i));
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2 && (argc != 3 || strcmp(argv[2], "take") != 0))
		return 2;
	int take = argc == 3;
	char open_at_start[9];
	for (int fd = 0; fd < 8; fd++)
		open_at_start[fd] = fcntl(fd, F_GETFD) >= 0 ? '1' : '0';
	open_at_start[8] = '\0';
	for (int fd = 3; fd < 1024 && !take; fd++)
		close(fd);
	int out = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0)
		return 3;
	struct rlimit limit;
	int highest = getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < 65536
	                      ? (int)limit.rlim_cur
	                      : 65536;
	static char taken[65536];
	for (int fd = 3; fd < highest && take; fd++)
		if (fd != out && fcntl(fd, F_GETFD) >= 0) {
			if (dup2(out, fd) != fd)
				return 6;
			taken[fd] = 1;
		}
	pthread_t thread;
	if (take && (pthread_create(&thread, NULL, allocate, NULL) != 0 || pthread_join(thread, NULL) != 0))
		return 7;
	struct stat file;
	if (fstat(out, &file) != 0)
		return 8;
	for (int fd = 3; fd < highest; fd++) {
		struct stat now;
		if (taken[fd] && (fstat(fd, &now) != 0 || now.st_ino != file.st_ino || now.st_dev != file.st_dev))
			return 9;
	}
	char line[64];
	int length = snprintf(line, sizeof line, "open at start %s, file %d\n", open_at_start, out);
	for (int i = 0; i < 2000; i++) {
		sink = malloc(100 + (size_t)i * 7);
		if (i % 2)
			free(sink);
		if (i % 20 == 0 && write(out, line, (size_t)length) != length)
			return 4;
	}
	return close(out) == 0 ? 0 : 5;
}
