#!/bin/sh
# browser-lighttpd.sh: the pages in headless Chromium behind lighttpd, with
# mod_fastcgi and mod_proxy (lighttpd.conf.example) and the daemons
# from their systemd units; see browser.sh.

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
require_command /usr/sbin/lighttpd
server=lighttpd
# shellcheck source=tests/browser.sh
. "$top_srcdir/tests/browser.sh"
