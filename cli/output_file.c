/* output_file.c - see output_file.h. */
#include "output_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool output_file_same(const char *path, const char *other)
{
	struct stat a, b;
	return stat(path, &a) == 0 && stat(other, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

char *output_file_partial_path(const char *path)
{
	const char *slash = strrchr(path, '/');
	int directory = slash != NULL ? (int)(slash - path) + 1 : 0;
	char *partial;
	if (asprintf(&partial, "%.*s.%s.%ld.partial", directory, path, path + directory,
	             (long)getpid()) < 0)
		return NULL;
	return partial;
}

int output_file_open(struct output_file *file, const char *path)
{
	*file = (struct output_file){ 0 };
	struct stat existing;
	if (stat(path, &existing) == 0 && !S_ISREG(existing.st_mode)) {
		/* /dev/null, /dev/stdout, a pipe: written as it is. */
		if ((file->out = fopen(path, "we")) == NULL)
			return -errno;
		return 0;
	}
	if ((file->path = strdup(path)) == NULL ||
	    (file->temporary = output_file_partial_path(path)) == NULL) {
		free(file->path);
		file->path = NULL;
		return -ENOMEM;
	}
	int fd = open(file->temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0 || (file->out = fdopen(fd, "w")) == NULL) {
		int error = -errno;
		if (fd >= 0) {
			close(fd);
			unlink(file->temporary);
		}
		free(file->path);
		free(file->temporary);
		*file = (struct output_file){ 0 };
		return error;
	}
	return 0;
}

int output_file_close(struct output_file *file, bool keep)
{
	int error = 0;
	if (file->out != NULL && fclose(file->out) != 0)
		error = -errno;
	if (file->temporary != NULL && keep && error == 0 &&
	    rename(file->temporary, file->path) != 0)
		error = -errno;
	if (file->temporary != NULL && (!keep || error < 0))
		unlink(file->temporary);
	free(file->path);
	free(file->temporary);
	*file = (struct output_file){ 0 };
	return error;
}
