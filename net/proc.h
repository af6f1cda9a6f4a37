/* proc.h: process set-up both daemons share: signals and the open-file limit. */
#ifndef LITEPUSH_PROC_H
#define LITEPUSH_PROC_H

/*
 * Installs handler for SIGTERM, SIGINT and SIGUSR1 (SA_RESTART), ignores
 * SIGPIPE (a client gone is seen as EPIPE), answers SIGHUP with a line on
 * standard error and nothing else (the daemons log to standard error, so
 * there is no log file to reopen, and their options are read once: a
 * SIGHUP from logrotate or a closing terminal must not end them), and
 * unblocks the four signals: Apache's threaded MPMs start CGI children
 * with SIGTERM blocked.
 */
void proc_signals(void (*handler)(int));

/* Raises the soft limit of open files to the hard one: a client is a file. */
void proc_raise_nofile(void);

/*
 * Makes memory freed in large blocks go back to the system at once (glibc's
 * mmap threshold fixed at PROC_MMAP_THRESHOLD instead of rising after the
 * first large free).  A daemon calls it once, before it allocates much.
 */
#define PROC_MMAP_THRESHOLD (128 * 1024)
void proc_memory_returns(void);

#endif
