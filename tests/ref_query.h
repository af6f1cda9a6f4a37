/* ref_query.h: a query-string and Last-Event-ID parser, as a test reference. */
#ifndef LITEPUSH_REF_QUERY_H
#define LITEPUSH_REF_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "query.h"

/*
 * What tests/check_query.c and tests/fuzz/fuzz_query.c compare
 * query_parse() and query_parse_last_event_id() with: parsers written the
 * obvious way (decode a whole pair into malloc'd memory, then split it),
 * which must agree with net/query.c on the outcome, on every field, and on
 * which kind of error comes first.
 *
 * Note that running out of memory aborts: this is test code, and a Check
 * test (in its own process) and a fuzz target both report an abort.
 */

/* The starts of net/query.c's reasons, one per kind of error. */
#define REF_QUERY_KIND_PERCENT  "bad percent-encoding in query: \""
#define REF_QUERY_KIND_CHANNEL  "bad channel \""
#define REF_QUERY_KIND_EMPTY    "empty channel name"
#define REF_QUERY_KIND_TOO_MANY "too many channels (at most 32)"
#define REF_QUERY_KIND_LAST_ID  "bad lastEventId \""
#define REF_QUERY_KIND_BACKLOG  "bad backlog \""
#define REF_QUERY_KIND_HEADER   "bad Last-Event-ID \""

/* The characters of a channel name, as the reference knows them. */
extern const char ref_query_channel_chars[];

/*
 * Parses len bytes of qs (no NUL needed) into q.  Returns 0 with *kind
 * NULL, or -1 with q zeroed and *kind the start of the reason
 * query_parse() must give (one of REF_QUERY_KIND_*).
 */
int ref_query_parse(
    const char *qs, size_t len, struct query *q, const char **kind);

/*
 * Parses the Last-Event-ID header value (a C string).  Returns 0 with *id,
 * 1 when the value is empty or blank, or -1 when it is bad; *id is 0 then.
 */
int ref_query_last_event_id(const char *value, int64_t *id);

#endif
