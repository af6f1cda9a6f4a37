#!/bin/sh
# clients.sh: the unit tests of the Python clients' package, tests/clients/
# (selftest.py): the SSE parser, the chunked decoder, the WebSocket frame
# codec and the FastCGI records, fed whole, byte by byte and at every cut.

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

# Each test's line ("... ok") goes to the log; one check sums them up.
"$PYTHON" "$top_srcdir/tests/clients/selftest.py" -v 2>&1
expect_eq "tests/clients/selftest.py passes" 0 "$?"
finish
