/* main.c - the memscope command: answers --help, --version and `help`, and
 * hands the rest of the command line to a subcommand (commands.h).
 * `memscope run ...` and `memscope report ...` name theirs; anything else is
 * the short form of run, so `memscope ./app` traces ./app and
 * `memscope --backend exact ./app` passes the option to run.  A program
 * whose name is a subcommand's is reached with `memscope -- NAME` or
 * `memscope run NAME`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "memscope_config.h"

enum { EXIT_USAGE = 2 };

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
	{ "run", run_command },
	{ "report", report_command },
	{ "analyze", analyze_command },
	{ "plugins", plugins_command },
};

static void print_overview(FILE *out)
{
	fputs("Usage: memscope [run options] [--] PROGRAM [ARGS...]\n"
	      "       memscope COMMAND [options] [ARGS...]\n"
	      "\n"
	      "memscope records every heap allocation of a C or C++ program, with its call\n"
	      "stack, into a capture file, and reports leaks, peaks and hotspots from it.\n"
	      "\n"
	      "Commands:\n"
	      "  run PROGRAM [ARGS...]  trace a program (the default: a first word that is\n"
	      "                         no command is the program to run)\n"
	      "  report FILE            print what a capture shows (--format json, svg:\n"
	      "                         through an exporter plugin)\n"
	      "  analyze FILE           run analyzer plugins (leaks, hotspots,\n"
	      "                         fragmentation, yours) on a capture\n"
	      "  plugins                list the analyzer and exporter plugins found\n"
	      "  help [COMMAND]         show the help of a command\n"
	      "\n"
	      "Run options (they end at PROGRAM; see 'memscope help run' for all):\n"
	      "  --backend NAME     exact (default), lockfree, async or hybrid\n"
	      "  -o, --output FILE  the capture file (default: memscope.PROGRAM.PID.memscope)\n"
	      "  --follow-fork      also trace child processes, each into its own capture\n"
	      "  --depth N          stack frames kept per allocation (default 64)\n"
	      "  --timeline-ms N    timeline sampling interval in ms, 0 = off (default 10)\n"
	      "  -q, --quiet        print no summary when PROGRAM ends\n"
	      "\n"
	      "  -h, --help         show this help\n"
	      "  --version          show memscope's version\n"
	      "\n"
	      "Examples:\n"
	      "  memscope ./app --its-own-option     trace ./app, capture in the current directory\n"
	      "  memscope -o app.memscope ./app      choose the capture file\n"
	      "  memscope --follow-fork make -j2     trace make and every program it runs\n"
	      "  memscope report app.memscope        the full report of a capture\n"
	      "  memscope report app.memscope --format json -o app.json\n"
	      "  memscope analyze app.memscope --analyzer fragmentation\n"
	      "  memscope -- report                  trace a program named 'report'\n",
	      out);
}

/* --help and --version print what was asked for on stdout, so that it can be
 * paged or grepped; a failed write must not pass for success. */
static int finish_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "memscope: cannot write to standard output: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	}
	return NULL;
}

/* memscope help [COMMAND]: each command owns its help, so this asks it for
 * its --help. */
static int help_command(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "help") == 0) {
		print_overview(stdout);
		return finish_stdout();
	}
	if (argc > 2) {
		fprintf(stderr, "memscope: help takes one command name; see 'memscope --help'\n");
		return EXIT_USAGE;
	}
	const struct command *command = find_command(argv[1]);
	if (command == NULL) {
		fprintf(stderr, "memscope: no command '%s'; the commands are run, report, analyze, plugins and help\n",
			argv[1]);
		return EXIT_USAGE;
	}
	char *help_argv[] = { (char *)command->name, (char *)"--help", NULL };
	int status = command->run(2, help_argv);
	return status == EXIT_SUCCESS ? finish_stdout() : status;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		print_overview(stderr);
		return EXIT_USAGE;
	}
	const char *first = argv[1];
	if (strcmp(first, "-h") == 0 || strcmp(first, "--help") == 0) {
		print_overview(stdout);
		return finish_stdout();
	}
	if (strcmp(first, "--version") == 0) {
		printf("memscope %s\n", MEMSCOPE_VERSION);
		return finish_stdout();
	}
	if (strcmp(first, "help") == 0)
		return help_command(argc - 1, argv + 1);

	const struct command *command = find_command(first);
	if (command != NULL)
		return command->run(argc - 1, argv + 1);

	/* The short form: argv[1] onward are run's options and the program, and
	 * argv[0] stands in for the subcommand's name. */
	return run_command(argc, argv);
}
