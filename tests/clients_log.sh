# clients_log.sh: reading the log the browser tests' clients write
# (tests/browser/restart.mjs, tests/browser/cors.mjs) to $clients_log,
# one line per thing seen: "TIME CLIENT WHAT VALUES...", WHAT being open,
# event ID DATA, request LAST-EVENT-ID, error READYSTATE...  Sourced after
# lib.sh by tests/restart-eventsource.sh and tests/cors-browser.sh.

# shellcheck shell=sh
# The sourcing script sets $clients_log.
# shellcheck disable=SC2154

# Prints how many lines "$2 ..." client $1 logged.
logged()
{
	awk -v client="$1" -v what="$2" '$2 == client && $3 == what { n++ }
	    END { print n + 0 }' "$clients_log"
}

# Prints, one a line, the words after "$2" of the lines client $1 logged.
logged_values()
{
	awk -v client="$1" -v what="$2" '$2 == client && $3 == what {
	    $1 = $2 = $3 = ""; sub(/^ +/, ""); print }' "$clients_log"
}

# Prints, one a line, the id of the last event client $1 got before each
# of its opens but the first (what its Last-Event-ID should then be).
ids_before_reopens()
{
	awk -v client="$1" '$2 != client { next }
	    $3 == "event" { last = $4 }
	    $3 == "open" && opens++ > 0 { print last }' "$clients_log"
}
