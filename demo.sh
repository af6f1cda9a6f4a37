#!/bin/sh
# demo.sh: sets litepush up and runs the demo (the README's first command).
#
# Installs the Debian packages it needs (as root or with sudo), builds in
# build/, creates var/events.db and follows it with `litepush tail`.  Publish
# from another terminal and watch the events arrive; Ctrl-C stops it.
set -eu
cd "$(dirname "$0")"
top=$(pwd)
scripts/deps.sh build
if [ ! -x build/cli/litepush ]; then
	./autogen.sh
	mkdir -p build
	(cd build && ../configure -q && make -s -j"$(nproc 2>/dev/null || echo 2)")
fi
litepush=$top/build/cli/litepush
mkdir -p var
"$litepush" init var/events.db
id=$("$litepush" publish var/events.db demo --event hello "litepush is running")

cat <<END
litepush: following $top/var/events.db (channels demo and clock).

Publish from another terminal, with the tool or with the sqlite3 shell:
  $litepush publish var/events.db demo "hello"
  sqlite3 var/events.db "INSERT INTO events(channel, data) VALUES('demo', 'hi')"

Ctrl-C stops.
END
exec "$litepush" tail var/events.db demo clock --from $((id - 1))
