#!/bin/sh
# The longest functions of lib/ and bin/ (lines from the name to the
# closing brace), longest first: mk/longest.sh [N] [dirs...]
n=${1:-10}; [ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- lib bin
find "$@" -name '*.c' | sort | xargs awk '
	FNR == 1 { name = "" }
	/^[a-zA-Z_][a-zA-Z0-9_]*\(/ { name = $0; sub(/\(.*/, "", name); start = FNR }
	/^}/ && name != "" { printf "%5d %s:%d %s\n", FNR - start + 1, FILENAME, start, name; name = "" }
' | sort -rn | head -n "$n"
