/* query.h: parsing what a subscriber asks for: channels, resume point, backlog. */
#ifndef LITEPUSH_QUERY_H
#define LITEPUSH_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "channel.h"

#define QUERY_MAX_CHANNELS 32

/* An errbuf this size always holds the whole of any reason written here. */
#define QUERY_ERRLEN 256

/* A parsed subscription request.  Pure data: about 2 KiB, fine on a stack. */
struct query {
	size_t  nchannels; /* 1..QUERY_MAX_CHANNELS, deduplicated, in order */
	char    channels[QUERY_MAX_CHANNELS][CHANNEL_MAX + 1];
	int     has_last_id;
	int64_t last_id; /* from lastEventId= */
	int     has_backlog;
	int64_t backlog; /* from backlog= */
};

/*
 * Parses a URL query string (without the '?'; len bytes, need not be
 * NUL-terminated): `channel=` (repeatable, or comma-separated; `default`
 * when absent), `lastEventId=N`, `backlog=N`, percent-decoded, '+' as a
 * space; other parameters are ignored.  Returns 0, or -1 with a one-line
 * reason in errbuf (the body of a 400).
 *
 * The rules, in detail:
 * - Pairs are split on '&' only; empty pairs are skipped; a pair without
 *   '=' is a name with an empty value.  Names and values are both
 *   percent-decoded, in every pair (ignored ones too): a bad or truncated
 *   escape ("%G1", "%4") is an error.  Names match exactly and are
 *   case-sensitive ("channels=", "Channel=" are ignored).
 * - Note that a channel value is split on ',' after decoding, so "%2C"
 *   separates channels just like ','.  Every item must be a valid channel
 *   (channel_valid()); an empty item ("channel=", "a,,b", "a,") is
 *   an error.  Duplicates are dropped, keeping the first order; more than
 *   QUERY_MAX_CHANNELS distinct channels is an error.
 * - lastEventId and backlog are decimal digits only (no sign, no blanks),
 *   0..INT64_MAX.  An empty value means "absent".  When repeated, the last
 *   one wins (an empty last one makes it absent again), but every one of
 *   them must be valid.
 * - The first error in query order is the one reported; the parse stops
 *   there.  One pass, no allocation, no recursion: linear in len.
 * - Reasons are printable ASCII; they quote the offending (decoded) value,
 *   cut to 64 characters with "...", with '"' and '\' backslashed and
 *   other bytes outside 0x20..0x7E as \xHH.  errbuf may be NULL; it is
 *   truncated to errlen (QUERY_ERRLEN always suffices) and set to "" on
 *   success.
 * - *q is always reinitialised; on error it is all zero (no channels).
 */
int query_parse(
    const char *qs, size_t len, struct query *q, char *errbuf, size_t errlen);

/*
 * Parses the value of a Last-Event-ID header (decimal, 0..INT64_MAX,
 * surrounding blanks allowed).  An empty value is "no resume point" and
 * returns 1; a valid id returns 0; anything else -1 with a reason.
 *
 * Blanks are spaces and tabs, trimmed at both ends only; a NULL or all-blank
 * value is empty.  *idp is the id on 0 and 0 otherwise.  Reasons follow
 * query_parse()'s rules (errbuf may be NULL).
 */
int query_parse_last_event_id(
    const char *value, int64_t *idp, char *errbuf, size_t errlen);

#endif
