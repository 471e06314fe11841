/* visible.c - see visible.h. */
#include "visible.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "../exporters/exporter_common.h"

void visible_begin(struct visible *visible, FILE *out)
{
	*visible = (struct visible){ .out = out };
	visible->stream = open_memstream(&visible->buffer, &visible->size);
	if (visible->stream == NULL)
		visible->stream = out;
}

/* Whether the sequence of length bytes at text is one a terminal may
 * act on: a control character (newline and tab aside), DEL, or a C1
 * control (U+0080 to U+009F). */
static bool commands(const unsigned char *text, size_t length)
{
	if (length == 1)
		return (text[0] < 0x20 && text[0] != '\n' && text[0] != '\t') || text[0] == 0x7f;
	return length == 2 && text[0] == 0xc2 && text[1] < 0xa0;
}

int visible_finish(struct visible *visible)
{
	if (visible->stream == visible->out)
		return ferror(visible->out) ? -EIO : 0;
	int error = fclose(visible->stream) != 0 ? -EIO : 0;
	const unsigned char *text = (const unsigned char *)visible->buffer;
	for (size_t at = 0; error == 0 && at < visible->size;) {
		size_t length = exporter_utf8_sequence_length(text + at);
		/* A NUL ends what the sequence check reads: shown like the rest. */
		if (length == 0 || text[at] == '\0' || commands(text + at, length)) {
			fprintf(visible->out, "\\x%02x", text[at]);
			at++;
			continue;
		}
		fwrite(text + at, 1, length, visible->out);
		at += length;
	}
	free(visible->buffer);
	visible->buffer = NULL;
	if (error == 0 && ferror(visible->out))
		error = -EIO;
	return error;
}
