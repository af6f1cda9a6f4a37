/* fuzz_cors.c: libFuzzer target: --cors-origin values and the header lines built from a request's Origin. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "cors.h"
#include "fuzz.h"

/*
 * The input is an origin to configure and a request's Origin, separated
 * by a newline.  cors_add() must take any bytes, and give a reason when it
 * refuses.  For an accepted one, cors_headers() must write only whole
 * "Name: value\r\n" lines of printable bytes (an Origin is never a way to
 * inject a header), echo exactly the Origin it allows, and an allowed
 * Origin is a fixed point: configured itself, it is accepted and allows
 * itself (the list holds the form a browser sends).
 */

/* Copies up to the next newline (or the end) into out; returns the rest. */
static const uint8_t *
take_line(const uint8_t *p, const uint8_t *end, char *out, size_t size)
{
	size_t n = 0;

	while (p < end && *p != '\n') {
		if (n + 1 < size && *p != '\0')
			out[n++] = (char)*p;
		p++;
	}
	out[n] = '\0';
	return p < end ? p + 1 : p;
}

/* Checks that out is whole header lines of printable bytes. */
static void
check_lines(const char *out)
{
	const char *p;

	for (p = out; *p != '\0'; p++) {
		if (*p == '\r') {
			FUZZ_REQUIREF(p[1] == '\n', "a CR without LF: %s", out);
			p++;
			continue;
		}
		FUZZ_REQUIREF(
		    (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f,
		    "a byte 0x%02X in the headers", (unsigned char)*p);
	}
	FUZZ_REQUIRE(
	    p == out || (p - out >= 2 && p[-2] == '\r' && p[-1] == '\n'));
}

/* Checks the fixed point: origin configured allows itself. */
static void
check_fixed_point(const char *origin)
{
	struct cors *again = cors_create();
	char         reason[256];

	FUZZ_REQUIRE(again != NULL);
	FUZZ_REQUIREF(cors_add(again, origin, reason, sizeof reason) == 0,
	    "an allowed Origin is refused as a value: %s", reason);
	FUZZ_REQUIRE(cors_allowed(again, origin));
	cors_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char value[CORS_ORIGIN_MAX + 64], origin[CORS_ORIGIN_MAX + 64];
	char reason[256], out[CORS_HEADERS_MAX], want[CORS_ORIGIN_MAX + 64];
	const uint8_t *p = data, *end = data + size;
	struct cors   *cors = cors_create();
	int            rc, preflight;

	FUZZ_REQUIRE(cors != NULL);
	p = take_line(p, end, value, sizeof value);
	take_line(p, end, origin, sizeof origin);
	preflight = size > 0 && (data[0] & 1);
	reason[0] = '\0';
	if (cors_add(cors, value, reason, sizeof reason) != 0) {
		FUZZ_REQUIRE(reason[0] != '\0');
		FUZZ_REQUIRE(!cors_enabled(cors));
		cors_free(cors);
		return 0;
	}
	FUZZ_REQUIRE(cors_configure(
	                 cors, CORS_AUTHORIZATION, reason, sizeof reason) == 0);
	rc = cors_headers(cors, origin, preflight, out, sizeof out);
	FUZZ_REQUIRE(rc == 0 || rc == 1);
	FUZZ_REQUIRE(rc == cors_allowed(cors, origin));
	check_lines(out);
	FUZZ_REQUIRE(strncmp(out, "Vary: Origin\r\n", 14) == 0);
	if (rc == 1) {
		snprintf(want, sizeof want,
		    "Access-Control-Allow-Origin: %s\r\n",
		    strcmp(value, "*") == 0 ? "*" : origin);
		FUZZ_REQUIREF(strstr(out, want) != NULL, "no echo in %s", out);
		if (strcmp(value, "*") != 0)
			check_fixed_point(origin);
	} else
		FUZZ_REQUIRE(strstr(out, "Access-Control-") == NULL);
	cors_free(cors);
	return 0;
}
