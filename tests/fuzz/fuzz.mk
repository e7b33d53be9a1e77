# tests/fuzz/fuzz.mk -- fuzz targets; included by the top-level Makefile
# (paths are relative to the repository root).
#
#   make fuzz-replay-bins     $(BUILD)/fuzz/replay-NAME: each target linked
#                             with standalone.c; tests/check-fuzz-replay
#                             runs them over the committed corpus and
#                             regressions in `make check`
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="jwt json"]
#                             clang + libFuzzer + ASan + UBSan in
#                             build-fuzz/; each target fuzzes for
#                             FUZZ_SECONDS from tests/fuzz/corpus/NAME/;
#                             new inputs go to build-fuzz/corpus/NAME/,
#                             crashes to build-fuzz/crashes/NAME/, the log
#                             to build-fuzz/fuzz-NAME.log.  `make -j2 -k
#                             fuzz` runs two at a time and goes on after a
#                             crash.
#   make fuzz-build           only build the libFuzzer binaries
#
# A crash found by `make fuzz` is kept: copy it to
# tests/fuzz/regressions/NAME/ and `make check` replays it from then on.

# Including this file changes neither the default goal nor BUILD.
fuzz_saved_goal := $(.DEFAULT_GOAL)
BUILD		?= build

FUZZ_ALL	 = $(sort $(patsubst tests/fuzz/fuzz-%.c,%,\
		   $(wildcard tests/fuzz/fuzz-*.c)))
FUZZ_TARGETS	?= $(FUZZ_ALL)
FUZZ_SECONDS	?= 60
FUZZ_TIMEOUT	?= 25
FUZZ_CC		?= clang
FUZZ_BUILD	?= build-fuzz
FUZZ_SAN	 = -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
# AG_CFLAGS less _FORTIFY_SOURCE, which hides overflows from ASan.
FUZZ_CFLAGS	 = $(filter-out -D_FORTIFY_SOURCE=%,$(AG_CFLAGS)) $(FUZZ_SAN)
# The library and its compiled-in SQL migrations (sql/sql.mk).
FUZZ_LIB_OBJ	 = $(LIB_SRC:lib/%.c=$(FUZZ_BUILD)/lib/%.o) \
		   $(FUZZ_BUILD)/gen/sql.o
FUZZ_HDR	 = tests/fuzz/fuzz.h
# Handlers a target drives, linked in besides the library:
# FUZZ_EXTRA_NAME, and the same files as prerequisites below.
FUZZ_EXTRA_mfaroute = fcgi/h-mfa.c

.PHONY: fuzz fuzz-build fuzz-replay-bins

# --- replay, with the project's compiler, for `make check` ----------

fuzz-replay-bins: $(FUZZ_ALL:%=$(BUILD)/fuzz/replay-%)

check: fuzz-replay-bins

$(BUILD)/fuzz/replay-%: tests/fuzz/fuzz-%.c tests/fuzz/standalone.c \
    $(FUZZ_HDR) $(BUILD)/libauthgate.a
	@mkdir -p $(dir $@)
	$(CC) $(AG_CFLAGS) -iquote tests/fuzz -DFUZZ_NAME=$* $(AG_LDFLAGS) \
	    -o $@ tests/fuzz/fuzz-$*.c $(FUZZ_EXTRA_$*) tests/fuzz/standalone.c \
	    $(BUILD)/libauthgate.a $(LIBS)

$(BUILD)/fuzz/replay-mfaroute $(FUZZ_BUILD)/fuzz-mfaroute: \
    $(FUZZ_EXTRA_mfaroute) fcgi/handlers.h

# --- libFuzzer, with clang ------------------------------------------

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz-%)

fuzz: $(FUZZ_TARGETS:%=fuzz-run-%)

$(FUZZ_BUILD)/lib/%.o: lib/%.c $(wildcard lib/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/gen/sql.o: $(BUILD)/gen/sql.c lib/db.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ \
	    $(BUILD)/gen/sql.c

$(FUZZ_BUILD)/libauthgate.a: $(FUZZ_LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz-%: tests/fuzz/fuzz-%.c $(FUZZ_HDR) \
    $(FUZZ_BUILD)/libauthgate.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -iquote tests/fuzz -fsanitize=fuzzer \
	    -o $@ $< $(FUZZ_EXTRA_$*) $(FUZZ_BUILD)/libauthgate.a $(LIBS)

# Not a file: one fuzzing run.  Fails (and prints the log's end) when
# libFuzzer found a crash, a leak or a timeout.
fuzz-run-%: $(FUZZ_BUILD)/fuzz-%
	@mkdir -p $(FUZZ_BUILD)/corpus/$* $(FUZZ_BUILD)/crashes/$*
	@echo "fuzz-$*: $(FUZZ_SECONDS)s, log in $(FUZZ_BUILD)/fuzz-$*.log"
	@if $< -max_total_time=$(FUZZ_SECONDS) -timeout=$(FUZZ_TIMEOUT) \
	    -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_BUILD)/crashes/$*/ \
	    $(if $(wildcard tests/fuzz/dict/$*.dict),-dict=tests/fuzz/dict/$*.dict) \
	    $(FUZZ_BUILD)/corpus/$* tests/fuzz/corpus/$* \
	    >$(FUZZ_BUILD)/fuzz-$*.log 2>&1; then \
		sed -n "s/^Done \(.*\)/fuzz-$*: \1, no crash/p" \
		    $(FUZZ_BUILD)/fuzz-$*.log; \
	else \
		tail -n 60 $(FUZZ_BUILD)/fuzz-$*.log; \
		echo "fuzz-$*: FAILED; input in $(FUZZ_BUILD)/crashes/$*/"; \
		exit 1; \
	fi

.DEFAULT_GOAL := $(fuzz_saved_goal)
