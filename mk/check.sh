#!/bin/sh
# Run the test suite with kyua and end with "N passed, N failed[, N skipped]".
dir=$1
results=$dir/results.db
rm -f "$results"
cd "$dir" || exit 1
kyua test --results-file="$results" >kyua.out 2>&1
kyua report --results-file="$results" --verbose \
    --results-filter=broken,failed >failures.txt 2>&1
grep -E '^[^ ].*->' kyua.out | sed 's/^/  /'
summary=$(kyua report --results-file="$results" | grep '^Test cases:')
# "Test cases: 12 total, 1 skipped, 0 expected failures, 0 broken, 0 failed"
set -- $(echo "$summary" | tr -cs '0-9' ' ')
total=${1:-0} skipped=${2:-0} xfail=${3:-0} broken=${4:-0} failed=${5:-0}
passed=$((total - skipped - xfail - broken - failed))
bad=$((broken + failed))
if [ "$bad" -ne 0 ]; then
	cat failures.txt
fi
if [ -z "$summary" ]; then
	cat kyua.out
	echo "0 passed, 1 failed"
	exit 1
fi
if [ "$skipped" -ne 0 ]; then
	echo "$passed passed, $bad failed, $skipped skipped"
else
	echo "$passed passed, $bad failed"
fi
[ "$bad" -eq 0 ]
