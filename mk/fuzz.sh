#!/bin/sh
# make fuzz and make fuzz-merge (see mk/fuzz.mk).
#
#   fuzz.sh run BUILD SECONDS TARGET...
#	run each target for SECONDS on a working corpus in BUILD/corpus,
#	seeded from tests/fuzz/corpus; crashes, timeouts and OOMs go to
#	BUILD/crashes (fuzz.sh triage BUILD 0 TARGET... groups them by
#	where they crashed); one line of figures a target; exit 1 if any
#	input was kept there.
#   fuzz.sh triage BUILD 0 TARGET...
#	group the inputs kept in BUILD/crashes by the failure and where.
#   fuzz.sh merge BUILD 0 TARGET...
#	minimise the working and committed corpus of each target into
#	tests/fuzz/corpus (libFuzzer -merge=1).
cd "$(dirname "$0")/.." || exit 1
mode=$1 b=$2 secs=$3
shift 3
status=0
mkdir -p "$b/log"

size()
{
	n=$(find "$1" -type f | wc -l)
	k=$(find "$1" -type f -exec cat {} + | wc -c)
	echo "$n inputs, $(( (k + 1023) / 1024 )) KiB"
}

for t in "$@"; do
	fz=$b/fuzz_$t
	seeds=tests/fuzz/corpus/$t
	work=$b/corpus/$t
	[ -x "$fz" ] || { echo "fuzz: $t: $fz not built" >&2; exit 1; }
	mkdir -p "$work" "$b/crashes/$t" "$seeds"
	dict=
	[ -f "tests/fuzz/$t.dict" ] && dict=-dict=tests/fuzz/$t.dict
	case $mode in
	run)
		log=$b/log/$t.log
		before=$(ls "$b/crashes/$t" | wc -l)
		# One job at a time (the machine is shared); a crash, a
		# timeout or running out of memory is kept and the run goes
		# on, so that one bug does not hide the next.
		"$fz" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 \
		    -ignore_ooms=1 -max_total_time="$secs" -timeout=30 \
		    -rss_limit_mb=2560 -artifact_prefix="$b/crashes/$t/" \
		    $dict "$work" "$seeds" >"$log" 2>&1
		# "#N: cov: C ft: F corp: K exec/s E oom/timeout/crash: a/b/c
		# time: Ts job: J"
		last=$(grep '^#[0-9]*: cov:' "$log" | tail -1)
		runs=$(echo "$last" | sed -n 's/^#\([0-9]*\):.*/\1/p')
		took=$(echo "$last" | sed -n 's/.* time: \([0-9]*\)s.*/\1/p')
		otc=$(echo "$last" | sed -n 's|.*oom/timeout/crash: \([0-9/]*\).*|\1|p')
		new=$(ls "$b/crashes/$t" | wc -l)
		echo "fuzz: $t: ${runs:-?} runs in ${took:-?} s;" \
		    "corpus $(size "$work"); oom/timeout/crash ${otc:-?};" \
		    "$((new - before)) new input(s) in $b/crashes/$t" \
		    "(log: $log)"
		[ "$new" -gt "$before" ] && status=1
		;;
	triage)
		# Each kept input run alone: what and where (the first two
		# frames), grouped; one example of each.
		for f in "$b/crashes/$t"/*; do
			[ -f "$f" ] || continue
			sig=$("$fz" -runs=1 -timeout=30 "$f" 2>&1 |
			    awk '/^SUMMARY:/ { s = $2 " " $3; sub(/ \(.*/, "", s) }
				/fuzz check failed|runtime error/ { c = $0 }
				/^ *#[0-9]+ / && !/sanitizer|fuzzer::|libc\.so/ {
				    x = $0; sub(/^ *#[0-9]+ 0x[0-9a-f]* (in )?/, "", x)
				    sub(/ \(BuildId.*/, "", x)
				    if (x ~ /^\(/) { sub(/^.*\//, "", x); sub(/\)$/, "", x) }
				    else if (x ~ / \(/) { sub(/ \(.*\//, " [", x); sub(/\)$/, "]", x) }
				    else sub(/ \/.*\//, " ", x)
				    if (top == "") top = x
				    if (ours == "" && x ~ /\.c:[0-9]/) ours = x }
				END { if (c == "" && s == "")
					print "runs clean now (fixed)"
				    else
					print (c != "" ? c : s) " at " top \
					    (ours != top ? " from " ours : "") }')
			echo "$sig|$f"
		done | sort | awk -F'|' -v t="$t" '
			$1 != last { if (n) print "  " n "x " last "\n     e.g. " ex;
			    last = $1; n = 0; ex = $2 }
			{ n++ }
			END { if (n) print "  " n "x " last "\n     e.g. " ex;
			    else print "  (none)" }' |
		    sed "1s/^/fuzz: $t:\n/"
		;;
	merge)
		out=$b/merged/$t
		rm -rf "$out"
		mkdir -p "$out"
		"$fz" -merge=1 $dict "$out" "$seeds" "$work" \
		    >"$b/log/$t.merge.log" 2>&1 || {
			echo "fuzz: $t: merge failed (see $b/log/$t.merge.log)"
			status=1
			continue
		}
		rm -rf "$seeds"
		mv "$out" "$seeds"
		echo "fuzz: $t: committed corpus now $(size "$seeds")"
		;;
	esac
done
exit $status
