// dies.cc - keeps COUNT blocks of 1,000 bytes (malloc), then dies at once,
// in its first milliseconds, in the way HOW names:
//   segv   a write through a null pointer (SIGSEGV)
//   bus    a touch of a mapping past the end of its file (SIGBUS)
//   fpe    an integer division by zero (SIGFPE)
//   ill    an undefined instruction (SIGILL)
//   pipe   a write to a pipe nobody reads (SIGPIPE)
//   term   SIGTERM, raised
//   kill   SIGKILL, raised
//   abort  abort()
//   throw  a C++ exception nobody catches (std::terminate: SIGABRT)
//   spin   never dies: prints its pid, then allocates a block and prints
//          how many it has, once a millisecond, until it is killed
// Single-threaded: with the lockfree backend, no writer thread exists.
// Usage: dies HOW COUNT
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

static void *volatile kept[100000];
static volatile int zero = 0, seven = 7;

static void die_of_bus()
{
	char path[] = "/tmp/memscope-dies-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, 8192) != 0)
		std::exit(2);
	unlink(path);
	volatile char *page =
	    static_cast<volatile char *>(mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
	if (page == MAP_FAILED || ftruncate(fd, 0) != 0)
		std::exit(2);
	page[4096] = 1;
}

static void die_of_pipe()
{
	int ends[2];
	if (pipe(ends) != 0)
		std::exit(2);
	close(ends[0]);
	ssize_t written = write(ends[1], "x", 1);
	(void)written;
}

[[noreturn]] static void spin(int count)
{
	std::printf("pid %d\n", (int)getpid());
	std::fflush(stdout);
	for (int i = count; i < 100000; i++) {
		kept[i] = std::malloc(1000);
		std::printf("%d\n", i + 1);
		std::fflush(stdout);
		struct timespec pause = {0, 1000000};
		nanosleep(&pause, nullptr);
	}
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	const char *how = argv[1];
	int count = std::atoi(argv[2]);
	if (count < 0 || count > 100000)
		return 2;
	for (int i = 0; i < count; i++)
		kept[i] = std::malloc(1000);

	if (std::strcmp(how, "segv") == 0)
		*static_cast<volatile int *>(kept[count]) = 1; // kept[count] is null
	else if (std::strcmp(how, "bus") == 0)
		die_of_bus();
	else if (std::strcmp(how, "fpe") == 0)
		std::printf("%d\n", seven / zero);
	else if (std::strcmp(how, "ill") == 0)
		__builtin_trap();
	else if (std::strcmp(how, "pipe") == 0)
		die_of_pipe();
	else if (std::strcmp(how, "term") == 0)
		std::raise(SIGTERM);
	else if (std::strcmp(how, "kill") == 0)
		std::raise(SIGKILL);
	else if (std::strcmp(how, "abort") == 0)
		std::abort();
	else if (std::strcmp(how, "throw") == 0)
		throw std::runtime_error("nobody catches this");
	else if (std::strcmp(how, "spin") == 0)
		spin(count);
	return 3;
}
