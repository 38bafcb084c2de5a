# faults.mk - `make test-faults`: the fault-injection suite (tests/faults/run.sh) on the real
# binary, a private PostgreSQL and the fake upstream (included by the top Makefile).
#
#   make test-faults                      SIGKILL at 20 moments, PostgreSQL restarted and down
#                                         past database.outage_timeout, upstream chaos, four
#                                         overlapping runs, relogins mid-run; ~2-3 min on 2 cores
#   make test-faults FAULTS='f_30 f_50'   only the case files whose names hold one of these
#   FAULTS_SEED=N make test-faults        repeat a run's random choices (printed at its start)
#
# It prints the figures of each fault (times tried, rows lost, ...) before its closing line.

FAULTS ?=

.PHONY: test-faults

test-faults: deps
	$(MAKE) all $(BUILD)/fakeup
	BUILD_DIR=$(abspath $(BUILD)) tests/faults/run.sh $(FAULTS)
