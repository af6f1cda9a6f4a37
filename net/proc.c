/* proc.c: process set-up both daemons share: signals and the open-file limit. */
#include "config.h"

#include <sys/resource.h>

#include <signal.h>
#include <string.h>

#include "proc.h"

/* Installs handler for SIGTERM, SIGINT and SIGUSR1 and ignores SIGPIPE. */
void
proc_signals(void (*handler)(int))
{
	struct sigaction sa;
	sigset_t         set;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* Raises the soft limit of open files to the hard one. */
void
proc_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}
