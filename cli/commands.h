/* commands.h - the subcommands of the memscope command.  Each takes the
 * arguments after its name (argv[0] is the subcommand's name) and returns
 * the process exit status memscope should end with. */
#ifndef MEMSCOPE_COMMANDS_H
#define MEMSCOPE_COMMANDS_H

/* memscope run [options] [--] program [args...]: trace a program. */
int run_command(int argc, char **argv);

/* memscope report [options] FILE: print what a capture shows. */
int report_command(int argc, char **argv);

#endif
