# The fuzz targets (tests/fuzz) replayed on the committed corpus and on
# every past crash, built with the ordinary compiler (with its
# sanitizers where they work): each input must run without a crash, a
# sanitizer report or a broken promise the target checks.

# The corpus, the past crashes and the replays, installed with the
# tests (the Makefile's test-files).
FUZZ=$SR_TESTS/fuzz

# replay TARGET: every input of its corpus and its past crashes.
replay()
{
	_d=$FUZZ/corpus/$1
	[ -d "$FUZZ/crashes/$1" ] && _d="$_d $FUZZ/crashes/$1"
	# Written by the target as it goes: which input broke it.
	atf_check -o match:'^[1-9][0-9]* inputs ran$' -e ignore \
	    "$FUZZ/replay_$1" -x "$FUZZ/known-crashes" $_d
}

for _t in cgdparams edits template record sets ffs parts upgrade plist; do
	eval "atf_test_case $_t
${_t}_head() { atf_set descr 'fuzz target $_t: corpus and past crashes'; }
${_t}_body() { replay $_t; }"
done

atf_test_case known_crashes
known_crashes_head()
{
	atf_set descr "each input listed as a known crash still crashes"
	atf_set timeout 120
}
known_crashes_body()
{
	_fixed=
	for _c in $(grep -v '^#' "$FUZZ/known-crashes"); do
		_t=${_c#crashes/}
		_t=${_t%%/*}
		# A hang counts as still failing after 5 s.
		if timeout 5 "$FUZZ/replay_$_t" "$FUZZ/$_c" \
		    >/dev/null 2>&1; then
			_fixed="$_fixed $_c"
		fi
	done
	[ -z "$_fixed" ] || atf_fail "no longer crash (fixed?): take them" \
	    "off tests/fuzz/known-crashes so that they are replayed:$_fixed"
}

atf_init_test_cases()
{
	for _t in cgdparams edits template record sets ffs parts upgrade plist; do
		atf_add_test_case $_t
	done
	atf_add_test_case known_crashes
}
