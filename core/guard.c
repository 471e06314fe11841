/* guard.c - the thread state of guard.h, in every program memscope's code
 * runs in: the traced program (the runtime) and memscope itself, whose
 * thread drains rings (cli/drain.c). */
#include "guard.h"

__thread struct memscope_thread memscope_thread __attribute__((tls_model("initial-exec")));
