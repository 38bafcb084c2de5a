# bench.mk - `make bench`: issue 5's benchmark (scripts/bench.sh). Never part of `make test`.
#
#   make bench                          # the default cases, about 10-15 minutes on 2 cores
#   make bench BENCH_CASES=full         # the whole N x L x C cross product and more (hours)
#   make bench BENCH_CASES='100k/50/256 100k/0/256/x4/shard'   # chosen cases
#   make profile                        # one CPU-bound case (PROFILE_CASE, 10k/0/256) under
#                                       # callgrind: instructions per row and the top functions
#
# See scripts/bench.sh for the case syntax and what each column means.

.PHONY: bench profile

PROFILE_CASE ?= 10k/0/256
PROFILE_OUT  ?= $(BUILD)/profile

BENCH_TOOLS = $(BUILD)/bench-rusage $(BUILD)/bench-wpath

bench: all $(BUILD)/fakeup $(BENCH_TOOLS)
	BUILD_DIR=$(abspath $(BUILD)) scripts/bench.sh

# Runs a command and reports its own wall time, peak RSS and CPU (getrusage of the child).
$(BUILD)/bench-rusage: scripts/bench/rusage.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $< $(LDFLAGS)

# The write path alone: src/db.c's claim and write-back, driven without HTTP.
$(BUILD)/bench-wpath: scripts/bench/wpath.c $(LIB_OBJS) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(LIB_OBJS) $(PKG_LIBS) $(LDFLAGS)

# Instructions (Ir) do not depend on the machine's load, unlike times: the figure to compare
# before and after a change. Needs valgrind (make deps installs it).
profile: all $(BUILD)/fakeup $(BENCH_TOOLS)
	@mkdir -p $(PROFILE_OUT)
	BUILD_DIR=$(abspath $(BUILD)) BENCH_OUT=$(abspath $(PROFILE_OUT)) \
	  REFRESHER_REAL=$(abspath $(BUILD))/refresher REFRESHER_BIN=$(abspath scripts/bench/callgrind.sh) \
	  CALLGRIND_OUT=$(abspath $(PROFILE_OUT))/callgrind.out scripts/bench.sh $(PROFILE_CASE)
	@n=$$(echo "$(PROFILE_CASE)" | cut -d/ -f1 | sed 's/k$$/000/; s/M$$/000000/'); \
	  ir=$$(callgrind_annotate $(PROFILE_OUT)/callgrind.out | awk '/PROGRAM TOTALS/ {gsub(",", "", $$1); print $$1}'); \
	  echo "profile: $(PROFILE_CASE): $$ir instructions, $$((ir / (n > 0 ? n : 1))) per row (callgrind, whole process; N=0: the whole run)"; \
	  callgrind_annotate --inclusive=yes $(PROFILE_OUT)/callgrind.out | grep -E '^ *[0-9,]+ .* src/.*\[' | head -16
