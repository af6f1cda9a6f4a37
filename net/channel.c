/* channel.c: what a channel name is, for every layer that takes one. */
#include "config.h"

#include "channel.h"

/* Returns non-zero if c may appear in a channel name. */
static int
channel_char(unsigned char c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c == '_' || c == '.' || c == ':' || c == '-';
}

/* Returns non-zero if name is a valid channel name. */
int
channel_valid(const char *name, size_t len)
{
	size_t i;

	if (name == NULL || len == 0 || len > CHANNEL_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!channel_char((unsigned char)name[i]))
			return 0;
	return 1;
}
