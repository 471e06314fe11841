/* results_text.h - analyzer results (tables, findings) as text on a
 * terminal: what `memscope analyze` prints. */
#ifndef MEMSCOPE_RESULTS_TEXT_H
#define MEMSCOPE_RESULTS_TEXT_H

#include <stdio.h>

#include "memscope/plugin.h"

/* Prints results, symbolizing STACK columns through host; at most
 * max_rows rows a table (0: all).  Returns 0 or -EIO. */
int results_print_text(const memscope_host *host, memscope_capture *capture,
                       const memscope_results *results, size_t max_rows, FILE *out);

#endif
