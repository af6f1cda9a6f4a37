/* sanitize.c: where a sanitizer build's programs write their reports. */
#include "config.h"

/*
 * A daemon is often started by a web server that passes it no environment
 * (mod_cgid, lighttpd's bin-environment) and keeps its standard error in
 * its own log, so ASAN_OPTIONS cannot say where reports go.  A build with
 * --enable-sanitizers compiles the place in: LITEPUSH_SANITIZER_LOG, a path
 * prefix to which each process that finds something adds ".PID".  The
 * runtimes call these hooks before main(); ASAN_OPTIONS and UBSAN_OPTIONS
 * still override them.
 */
#ifdef LITEPUSH_SANITIZER_LOG
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

const char *
__asan_default_options(void)
{
	return "log_path=" LITEPUSH_SANITIZER_LOG ":detect_leaks=1";
}

const char *
__ubsan_default_options(void)
{
	return "log_path=" LITEPUSH_SANITIZER_LOG ":print_stacktrace=1";
}
#else
/* ISO C wants at least one declaration in a file. */
typedef int sanitize_unused;
#endif
