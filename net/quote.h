/* quote.h: a value shown in a one-line reason, printable and cut short. */
#ifndef LITEPUSH_QUOTE_H
#define LITEPUSH_QUOTE_H

#include <stddef.h>

/* How many characters of an offending value a reason shows. */
#define QUOTE_MAX 64

/* Room for a quoted value: the characters, two "..." and the NUL. */
#define QUOTE_SIZE (QUOTE_MAX + 7)

/* quote_value() flags. */
#define QUOTE_KEEP_END                                                         \
	0x1            /* cut at the start: show where the value went wrong */
#define QUOTE_MORE 0x2 /* the value goes on past len */

/*
 * Writes len bytes of data to out as printable ASCII ('"' and '\'
 * backslashed, bytes outside 0x20..0x7E as \xHH), at most QUOTE_MAX
 * characters; what is left out shows as "...", at the start with
 * QUOTE_KEEP_END, else at the end (and at the end with QUOTE_MORE).
 * Returns out, for use in a format's arguments.
 */
const char *quote_value(
    char out[QUOTE_SIZE], const char *data, size_t len, int flags);

#endif
