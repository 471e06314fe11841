/* array.h - growing the plugin host's arrays of records. */
#ifndef MEMSCOPE_PLUGINS_ARRAY_H
#define MEMSCOPE_PLUGINS_ARRAY_H

#include <errno.h>
#include <stdlib.h>

/* Makes room for one more element in *array of count elements of size
 * bytes, doubling *capacity (from 8).  Returns 0 or -ENOMEM. */
static inline int array_make_room(void **array, size_t *capacity, size_t count, size_t size)
{
	if (count < *capacity)
		return 0;
	size_t wanted = *capacity ? *capacity * 2 : 8;
	void *grown = realloc(*array, wanted * size);
	if (!grown)
		return -ENOMEM;
	*array = grown;
	*capacity = wanted;
	return 0;
}

#endif
