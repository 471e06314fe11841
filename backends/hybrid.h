/* hybrid.h - the hybrid backend's threshold (hybrid.c). */
#ifndef MEMSCOPE_HYBRID_H
#define MEMSCOPE_HYBRID_H

#include <stdint.h>

/* The size from which the hybrid backend records every block when the user
 * names none: where sampling at interval would pick a block 99 times in
 * 100, ln(100) intervals (2.4 MB at the default 512 KiB). */
uint64_t hybrid_default_exact_above(uint64_t interval);

#endif
