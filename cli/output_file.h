/* output_file.h - a file memscope writes whole or not at all: -o of a
 * report (and, by the same name beside it, of a capture, cli/run.c).  It is written under a temporary name beside its place and put
 * there (rename) only once complete, so a report that fails leaves the
 * file that was there as it was. */
#ifndef MEMSCOPE_OUTPUT_FILE_H
#define MEMSCOPE_OUTPUT_FILE_H

#include <stdbool.h>
#include <stdio.h>

struct output_file {
	char *path;                /* where it goes */
	char *temporary;           /* where it is written: .NAME.PID.partial beside it;
	                              NULL for what is not a regular file (/dev/null, a
	                              pipe), written as it is */
	FILE *out;
};

/* Whether two paths name one file (both exist, same device and inode). */
bool output_file_same(const char *path, const char *other);

/* Where a file that replaces path is written first: .NAME.PID.partial
 * beside it (PID this process's).  NULL when memory is short. */
char *output_file_partial_path(const char *path);

/* Opens a file to write that will replace path.  Returns 0 or -errno. */
int output_file_open(struct output_file *file, const char *path);

/* Closes the file and, when keep, puts it in place; otherwise removes it.
 * Returns 0, or -errno of writing or renaming (the file is removed). */
int output_file_close(struct output_file *file, bool keep);

#endif
