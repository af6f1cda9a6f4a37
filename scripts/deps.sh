#!/bin/sh
# deps.sh: installs the Debian packages litepush needs to build, test and run.
#
# Usage: scripts/deps.sh [build|demo|demo-apache|test|bench]
#   (default: test, everything the tests need; demo adds lighttpd to
#   build, demo-apache adds Apache; bench adds nginx with nchan to test,
#   for bench/compare)
# As root (or with sudo) it runs apt-get; otherwise it names what is missing.
set -eu

build="autoconf automake make gcc pkg-config libfcgi-dev libsqlite3-dev
sqlite3 check libwslay-dev libjansson-dev nettle-dev libjwt-dev"
# procps for ps (tests/lib.sh, sse_scenarios.sh): not in a minimal Debian
# image, unlike coreutils and util-linux (timeout, setpriv, flock, setsid).
# clang: the second compiler check.sh builds with, and libFuzzer;
# clang-format: the layout check.sh checks.  python3-jwt and openssl
# mint the tokens and make the keys of the grant tests.  postgresql-15:
# the server the PostgreSQL tests start their own cluster of (psql from
# postgresql-client-15 drives them).
test="$build lighttpd apache2 curl python3 python3-websockets libfcgi-bin clang
clang-format libclang-rt-14-dev chromium procps python3-jwt openssl
postgresql-15 postgresql-client-15"

case "${1:-test}" in
build) wanted=$build ;;
demo) wanted="$build lighttpd curl" ;;
demo-apache) wanted="$build apache2 curl" ;;
test | bench)
	wanted=$test
	[ "${1:-test}" = bench ] && wanted="$wanted nginx libnginx-mod-nchan"
	# The browser tests run Node.js and npm (tests/browser/): Debian's
	# unless the machine has them already, from elsewhere.
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		wanted="$wanted nodejs npm"
	fi
	;;
*) echo "usage: $0 [build|demo|demo-apache|test|bench]" >&2; exit 2 ;;
esac

missing=
for p in $wanted; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then
	sudo=
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	sudo=sudo
else
	echo "litepush needs these Debian packages:$missing" >&2
	echo "install them with: sudo apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing >/dev/null
