#!/bin/sh
# memory.sh: placeholder, written in this session (issue 12).
exit 0
