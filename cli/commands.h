/* commands.h - the subcommands of the memscope command.  Each takes the
 * arguments after its name (argv[0] is the subcommand's name) and returns
 * the process exit status memscope should end with. */
#ifndef MEMSCOPE_COMMANDS_H
#define MEMSCOPE_COMMANDS_H

#include <stddef.h>
#include <stdio.h>

/* memscope run [options] [--] program [args...]: trace a program. */
int run_command(int argc, char **argv);

/* memscope report [options] FILE: print what a capture shows. */
int report_command(int argc, char **argv);

/* memscope analyze [options] FILE: run analyzer plugins, print results. */
int analyze_command(int argc, char **argv);

/* Runs the analyzers named (or the default ones) on the capture at path and
 * prints their results as text on out, at most top rows a table (0: all).
 * Returns the exit status. */
int analyze_to_text(const char *who, const char *path, const char *plugin_path,
                    const char *const *names, size_t name_count, char *const *options,
                    size_t option_count, size_t top, FILE *out);

/* memscope plugins: list the plugins found, and those refused. */
int plugins_command(int argc, char **argv);

/* The capture at path, analyzed (the analyzers named, or the default ones)
 * and written by the exporter named format to output (NULL: stdout).
 * Returns the exit status memscope report ends with. */
int export_capture(const char *path, const char *format, const char *output,
                   const char *plugin_path, const char *const *names, size_t name_count,
                   char *const *options, size_t option_count);

/* The capture at path analyzed by leaks, hotspots and fragmentation and
 * written as the split layout of JSON files under
 * directory/MemoryAnalysis/<capture name>/ (cli/export_split.c,
 * docs/json-schema.md).  Returns the exit status memscope report ends with. */
int export_split(const char *path, const char *directory, const char *plugin_path,
                 char *const *options, size_t option_count);

#endif
