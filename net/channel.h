/* channel.h: what a channel name is, for every layer that takes one. */
#ifndef LITEPUSH_CHANNEL_H
#define LITEPUSH_CHANNEL_H

#include <stddef.h>

/*
 * A channel name is 1 to CHANNEL_MAX bytes of [A-Za-z0-9_.:-].  The
 * store's schema enforces the same rule with a CHECK (check_store.c tests
 * that the two agree on every byte); the query parser, the publish
 * envelope and the tool check it here first, so that a bad name gets a
 * clear reason before it reaches the store.
 */
#define CHANNEL_MAX 64

/* Returns non-zero if the len bytes of name are a valid channel name. */
int channel_valid(const char *name, size_t len);

#endif
