# quality.mk - sanitizers, valgrind, fuzzing, and the suite through a transaction-mode pooler
# (included by the top Makefile).
#
#   make asan          unit tests + the whole integration suite built with ASan/UBSan/LSan
#                      (-O1 -g, into build-asan/); any sanitizer report fails it
#   make valgrind      full sweeps (VALGRIND_TESTS) with build/refresher under valgrind memcheck:
#                      0 errors, 0 bytes definitely lost, or it fails
#   make fuzz          builds the libFuzzer harnesses of tests/fuzz/ (clang, into build-fuzz/)
#                      and runs each for FUZZ_SECONDS (60); prints executions per harness;
#                      a crash lands in tests/fuzz/crashes/<harness>/ and fails it
#   make fuzz-regress  runs every harness once over its corpus and crashes (no fuzzing)
#   make test-pooler   the whole integration suite with the refresher behind pgbouncer
#                      (pool_mode = transaction; tests/integration/lib.sh, POOLER=pgbouncer)

ASAN_BUILD     ?= build-asan
ASAN_LDFLAGS    = -fsanitize=address,undefined
VALGRIND_TESTS ?= t_10 t_30 t_45 t_72 t_99
FUZZ_BUILD     ?= build-fuzz
FUZZ_CC        ?= clang
FUZZ_SECONDS   ?= 60
FUZZ_SAN        = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS     = -O1 -g $(FUZZ_SAN)
FUZZ_HARNESSES  = $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS       = $(FUZZ_HARNESSES:%=$(FUZZ_BUILD)/fuzz_%)
FUZZ_LIB_OBJS   = $(LIB_SRCS:src/%.c=$(FUZZ_BUILD)/obj/%.o)
# Kept between runs (make would delete them as intermediates of the pattern rules).
.SECONDARY: $(FUZZ_LIB_OBJS)

.PHONY: asan valgrind fuzz fuzz-build fuzz-regress test-pooler

asan: deps
	$(MAKE) BUILD=$(ASAN_BUILD) CFLAGS="$(SAN_FLAGS)" LDFLAGS="$(ASAN_LDFLAGS)" \
		$(ASAN_BUILD)/refresher $(ASAN_BUILD)/unit $(ASAN_BUILD)/fakeup
	scripts/asan.sh $(ASAN_BUILD)

valgrind: deps
	$(MAKE) all $(BUILD)/fakeup
	BUILD_DIR=$(abspath $(BUILD)) scripts/valgrind.sh $(VALGRIND_TESTS)

test-pooler: deps
	$(MAKE) all $(BUILD)/fakeup
	POOLER=pgbouncer BUILD_DIR=$(abspath $(BUILD)) tests/integration/run.sh

fuzz-build: $(FUZZ_BINS)

fuzz: deps
	$(MAKE) fuzz-build
	scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_HARNESSES)

fuzz-regress: fuzz-build
	scripts/fuzz.sh $(FUZZ_BUILD) 0 $(FUZZ_HARNESSES)

# The project's modules (not main.c), instrumented for libFuzzer's coverage and the sanitizers.
$(FUZZ_BUILD)/obj/%.o: src/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(BASE_CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(PKG_CFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_LIB_OBJS) $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(BASE_CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(PKG_CFLAGS) -o $@ $< \
		$(FUZZ_LIB_OBJS) $(PKG_LIBS)

# make clean also removes the sanitizer and fuzzing builds.
.PHONY: quality-clean
clean: quality-clean
quality-clean:
	rm -rf $(ASAN_BUILD) $(FUZZ_BUILD)
