# Fuzzing (tests/fuzz/README.md), included by the Makefile.
#
#   make fuzz                 build the libFuzzer targets with clang and
#                             run each for FUZZ_SECONDS (default 60)
#   make fuzz FUZZ_TARGETS=ffs FUZZ_SECONDS=600
#   make fuzz-triage          group the inputs kept in build/fuzz/crashes
#                             by the failure and where it happened
#   make fuzz-merge           minimise what the runs found into the
#                             committed corpus (tests/fuzz/corpus)
#
# make check replays the committed corpus and every past crash
# (tests/fuzz/crashes) through each target built with $(CC) and a small
# main (tests/fuzz/replay.c): no clang needed.  Where $(CC) can build
# and run AddressSanitizer programs, the replay is built with it.

FUZZ_TARGETS	?= cgdparams edits template record sets ffs parts upgrade plist
FUZZ_SECONDS	?= 60
FUZZ_CC		?= clang
FUZZB		 = $(CURDIR)/build/fuzz
FUZZ_SAN	 = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		   -fno-omit-frame-pointer
REPLAYB		 = $(CHECKB)/fuzz

TESTS_SH	+= t_fuzz_replay

fuzz: fuzz-deps
	$(MAKE) B=$(FUZZB)/obj CC="$(FUZZ_CC) $(FUZZ_SAN) \
	    -fsanitize=fuzzer-no-link" $(FUZZB)/obj/libsharedroot.a
	$(MAKE) $(FUZZ_TARGETS:%=$(FUZZB)/fuzz_%)
	sh mk/fuzz.sh run $(FUZZB) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-merge:
	sh mk/fuzz.sh merge $(FUZZB) 0 $(FUZZ_TARGETS)

fuzz-triage:
	sh mk/fuzz.sh triage $(FUZZB) 0 $(FUZZ_TARGETS)

fuzz-deps:
	@sh mk/deps.sh fuzz

$(FUZZB)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZB)/obj/libsharedroot.a
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -g -O1 -std=c11 \
	    -D_GNU_SOURCE $(PKG_CFLAGS) -Ilib -Itests/fuzz -o $@ $< \
	    $(FUZZB)/obj/libsharedroot.a $(PKG_LIBS)

# The replay: the library and targets built again, with the sanitizers
# where they work here.
$(REPLAYB)/san:
	@mkdir -p $(@D)
	@if printf 'int main(void){return 0;}\n' | $(CC) $(FUZZ_SAN) -x c - \
	    -o $(@D)/santest 2>/dev/null && $(@D)/santest; then \
	    echo '$(FUZZ_SAN)' > $@; else : > $@; fi; rm -f $(@D)/santest

fuzz-replay: $(REPLAYB)/san
	$(MAKE) B=$(REPLAYB)/obj CC="$(CC) $$(cat $(REPLAYB)/san)" \
	    $(REPLAYB)/obj/libsharedroot.a
	$(MAKE) $(FUZZ_TARGETS:%=$(REPLAYB)/replay_%)

$(REPLAYB)/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h tests/fuzz/replay.c \
    $(REPLAYB)/obj/libsharedroot.a $(REPLAYB)/san
	$(CC) $$(cat $(REPLAYB)/san) $(CFLAGS) $(PKG_CFLAGS) -Itests/fuzz \
	    -o $@ $< tests/fuzz/replay.c $(REPLAYB)/obj/libsharedroot.a \
	    $(PKG_LIBS)

tests: fuzz-replay $(CHECKB)/tests/t_fuzz_replay
$(CHECKB)/tests/t_fuzz_replay: tests/fuzz/known-crashes
$(CHECKB)/tests/Kyuafile: mk/fuzz.mk

.PHONY: fuzz fuzz-merge fuzz-triage fuzz-deps fuzz-replay
