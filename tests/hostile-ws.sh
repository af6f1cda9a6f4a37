#!/bin/sh
# hostile-ws.sh: placeholder, written in this session (issue 12).
exit 0
