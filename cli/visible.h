/* visible.h - text from a capture, shown on a terminal as what it says.
 * Function, file, thread and tag names come from the traced program and
 * may hold any bytes, escape sequences among them: written through a
 * visible stream, every byte a terminal could take as a command (control
 * characters but newline and tab, DEL, C1 controls, and bytes of no
 * well-formed UTF-8 sequence) is shown as \xNN, as the JSON, HTML and SVG
 * exporters escape them. */
#ifndef MEMSCOPE_VISIBLE_H
#define MEMSCOPE_VISIBLE_H

#include <stddef.h>
#include <stdio.h>

struct visible {
	FILE *out;                 /* where the text goes */
	FILE *stream;              /* where it is written first (out itself if memory ran out) */
	char *buffer;
	size_t size;
};

/* Starts holding text for out: write it to visible->stream. */
void visible_begin(struct visible *visible, FILE *out);

/* Writes what the stream holds to out, shown safely.  Returns 0, or -EIO
 * when out fails. */
int visible_finish(struct visible *visible);

#endif
