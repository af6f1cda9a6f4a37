/* fuzz.h: what the litepush fuzz targets share: a property check. */
#ifndef LITEPUSH_FUZZ_H
#define LITEPUSH_FUZZ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * A property that does not hold is a crash like any other: the target says
 * which one, with the offending bytes when it has them, and aborts, so that
 * libFuzzer saves the input and prints the stack.
 */

/* Aborts with a message about the property at file:line. */
static void __attribute__((noreturn, unused, format(printf, 3, 4)))
fuzz_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: property violated: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* Checks cond; on failure aborts naming it. */
#define FUZZ_REQUIRE(cond)                                                     \
	do {                                                                   \
		if (!(cond))                                                   \
			fuzz_fail(__FILE__, __LINE__, "%s", #cond);            \
	} while (0)

/* Checks cond; on failure aborts with a printf-style message. */
#define FUZZ_REQUIREF(cond, ...)                                               \
	do {                                                                   \
		if (!(cond))                                                   \
			fuzz_fail(__FILE__, __LINE__, __VA_ARGS__);            \
	} while (0)

/*
 * Writes a C-escaped copy of len bytes of data to out (size bytes, cut
 * with "..."), for messages; returns out.
 */
static const char *__attribute__((unused))
fuzz_escape(char *out, size_t size, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t               i, used = 0;

	for (i = 0; i < len && used + 8 < size; i++) {
		if (p[i] == '\\' || p[i] == '"')
			used += (size_t)snprintf(out + used, 8, "\\%c", p[i]);
		else if (p[i] < 0x20 || p[i] >= 0x7f)
			used +=
			    (size_t)snprintf(out + used, 8, "\\x%02X", p[i]);
		else
			out[used++] = (char)p[i];
	}
	if (i < len && used + 4 <= size)
		used += (size_t)snprintf(out + used, 4, "...");
	if (size > 0)
		out[used < size ? used : size - 1] = '\0';
	return out;
}

/* A small deterministic generator (xorshift64*), seeded from the input. */
static uint64_t __attribute__((unused)) fuzz_random(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * UINT64_C(2685821657736338717);
}

/* Returns a seed for fuzz_random() made from the input (FNV-1a, never 0). */
static uint64_t __attribute__((unused)) fuzz_seed(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t             h = UINT64_C(14695981039346656037);
	size_t               i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * UINT64_C(1099511628211);
	return h != 0 ? h : 1;
}

#endif
