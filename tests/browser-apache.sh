#!/bin/sh
# browser-apache.sh: the pages in headless Chromium behind Apache, with
# mod_proxy_fcgi and mod_proxy_wstunnel (apache.conf.example) and the daemons
# from their systemd units; see browser.sh.

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
require_command /usr/sbin/apache2
server=apache
# shellcheck source=tests/browser.sh
. "$top_srcdir/tests/browser.sh"
