/* exits.c - leaves through _exit, skipping every destructor, with 2 blocks
 * of 111 bytes live: the capture must still be finished.  With an argument,
 * first replaces itself (execv) with that program instead, after
 * allocating the same 2 blocks; "exits execl|execlp|execle PROGRAM" does it
 * with that function of the C library, which calls execve inside itself,
 * and "exits fexecve|execveat PROGRAM" by a descriptor of PROGRAM. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static void *volatile sink[2];

int main(int argc, char **argv)
{
	sink[0] = malloc(111);
	sink[1] = malloc(111);
	if (argc == 3 && strcmp(argv[1], "execl") == 0)
		execl(argv[2], argv[2], (char *)NULL);
	else if (argc == 3 && strcmp(argv[1], "execlp") == 0)
		execlp(argv[2], argv[2], (char *)NULL);
	else if (argc == 3 && strcmp(argv[1], "execle") == 0)
		execle(argv[2], argv[2], (char *)NULL, environ);
	else if (argc == 3 && strcmp(argv[1], "fexecve") == 0) {
		char *arguments[] = {argv[2], NULL};
		fexecve(open(argv[2], O_RDONLY | O_CLOEXEC), arguments, environ);
	} else if (argc == 3 && strcmp(argv[1], "execveat") == 0) {
		char *arguments[] = {argv[2], NULL};
		execveat(AT_FDCWD, argv[2], arguments, environ, 0);
	}
	else if (argc > 1)
		execv(argv[1], &argv[1]);
	else
		_exit(5);
	return 127;
}
