/* quote.c: a value shown in a one-line reason, printable and cut short. */
#include "config.h"

#include <string.h>

#include "quote.h"

/* Returns how many characters byte c takes in a quoted value. */
static size_t
quote_width(unsigned char c)
{
	if (c == '"' || c == '\\')
		return 2;
	if (c < 0x20 || c > 0x7e)
		return 4;
	return 1;
}

/* Appends byte c, quoted, at out + *used. */
static void
quote_byte(char *out, size_t *used, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";

	if (c == '"' || c == '\\') {
		out[(*used)++] = '\\';
		out[(*used)++] = (char)c;
	} else if (c < 0x20 || c > 0x7e) {
		out[(*used)++] = '\\';
		out[(*used)++] = 'x';
		out[(*used)++] = hex[c >> 4];
		out[(*used)++] = hex[c & 0xf];
	} else
		out[(*used)++] = (char)c;
}

/* Writes a printable copy of a value, cut to QUOTE_MAX characters. */
const char *
quote_value(char out[QUOTE_SIZE], const char *data, size_t len, int flags)
{
	int    keep_end = (flags & QUOTE_KEEP_END) != 0;
	int    more = (flags & QUOTE_MORE) != 0;
	size_t start = 0, stop = len, width = 0, used = 0, i, w;

	if (keep_end) {
		start = len;
		while (start > 0) {
			w = quote_width((unsigned char)data[start - 1]);
			if (width + w > QUOTE_MAX)
				break;
			width += w;
			start--;
		}
	} else {
		for (stop = 0; stop < len; stop++) {
			w = quote_width((unsigned char)data[stop]);
			if (width + w > QUOTE_MAX)
				break;
			width += w;
		}
	}

	if (start > 0) {
		memcpy(out, "...", 3);
		used = 3;
	}
	for (i = start; i < stop; i++)
		quote_byte(out, &used, (unsigned char)data[i]);
	if (stop < len || more) {
		memcpy(out + used, "...", 3);
		used += 3;
	}
	out[used] = '\0';
	return out;
}
