/* own_fd.h - memscope's descriptors inside the traced process, out of the
 * program's way.  A program takes the lowest free number for each file it
 * opens and may close any it did not open (a daemon's close loop, or
 * closefrom): memscope's descriptors sit high, close-on-exec, and whoever
 * keeps one checks that the number still leads to its file before using
 * it again (timeline.c, capture_writer_watch), so that a number the
 * program reused is never read, written or closed by memscope.  pipe and
 * pipe2 are defined here too: libunwind's pipe goes high; and close, dup2
 * and dup3, which give libunwind a new pipe before the program takes one
 * of its numbers (own_fd.c). */
#ifndef MEMSCOPE_OWN_FD_H
#define MEMSCOPE_OWN_FD_H

/* fd moved high (fd itself closed) and close-on-exec; fd unchanged when
 * it cannot move.  System calls only: safe inside malloc. */
int own_fd_move(int fd);

#endif
