#!/bin/sh
# deps.sh: installs the Debian packages litepush needs to build, test and run.
#
# Usage: scripts/deps.sh [build|test]   (default: test, which is everything)
# As root (or with sudo) it runs apt-get; otherwise it names what is missing.
set -eu

build="autoconf automake make gcc pkg-config libfcgi-dev libsqlite3-dev
sqlite3 check libwslay-dev libjansson-dev"
test="$build lighttpd apache2 curl python3 python3-websockets clang
libclang-rt-14-dev"

case "${1:-test}" in
build) wanted=$build ;;
test) wanted=$test ;;
*) echo "usage: $0 [build|test]" >&2; exit 2 ;;
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
