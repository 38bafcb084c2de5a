# bench.mk - `make bench`: issue 5's benchmark (scripts/bench.sh). Never part of `make test`.
#
#   make bench                          # the default cases, about 10-15 minutes on 2 cores
#   make bench BENCH_CASES=full         # the whole N x L x C cross product and more (hours)
#   make bench BENCH_CASES='100k/50/256 100k/0/256/x4/shard'   # chosen cases
#
# See scripts/bench.sh for the case syntax and what each column means.

.PHONY: bench

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
