/* descriptors.c - a program that treats descriptors as its own: it closes
 * 3..1023 (as daemons do), opens FILE, allocates while it writes to it,
 * and writes there which of the descriptors 0..7 were open when it
 * started and which number FILE got.  Traced, FILE must read the same as
 * untraced: memscope neither takes the program's numbers nor closes
 * them.  Usage: descriptors FILE */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *volatile sink;

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	char open_at_start[9];
	for (int fd = 0; fd < 8; fd++)
		open_at_start[fd] = fcntl(fd, F_GETFD) >= 0 ? '1' : '0';
	open_at_start[8] = '\0';
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	int out = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0)
		return 3;
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
