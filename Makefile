# refresher - build, test, demo. Plain make; libraries through pkg-config.

CC       ?= cc
PKGS      = libcurl json-c libpq yaml-0.1
BUILD    ?= build
WARN      = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Werror
CFLAGS   ?= -O2 -g
# Flags the code needs whatever CFLAGS the caller sets (make CFLAGS=... keeps these).
BASE_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -Iinclude
SAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell pkg-config --libs check 2>/dev/null)
MHD_CFLAGS = $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS   = $(shell pkg-config --libs libmicrohttpd 2>/dev/null)

SRCS      = $(wildcard src/*.c)
LIB_SRCS  = $(filter-out src/main.c,$(SRCS))
OBJS      = $(SRCS:src/%.c=$(BUILD)/obj/%.o)
LIB_OBJS  = $(LIB_SRCS:src/%.c=$(BUILD)/obj/%.o)
# The unit test binary: every suite plus its shared helpers (capture.c: fd 2 read back).
UNIT_SRCS = $(wildcard tests/unit/*.c)
UNIT_HEADERS = $(wildcard tests/unit/*.h)
HEADERS   = $(wildcard include/*.h)

.PHONY: all test unit integration demo deps deps-demo clean pkgcheck pkgcheck-unit pkgcheck-fake

all: $(BUILD)/refresher

# A missing -dev package is named before the compiler trips over its header.
pkgcheck:
	@scripts/pkgcheck.sh $(PKGS)
pkgcheck-unit:
	@scripts/pkgcheck.sh $(PKGS) check
pkgcheck-fake:
	@scripts/pkgcheck.sh libmicrohttpd

$(BUILD)/obj/%.o: src/%.c $(HEADERS) | pkgcheck
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(BUILD)/refresher: $(OBJS)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $(OBJS) $(PKG_LIBS) $(LDFLAGS)

$(BUILD)/unit: $(UNIT_SRCS) $(LIB_OBJS) $(HEADERS) $(UNIT_HEADERS) | pkgcheck-unit
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(PKG_CFLAGS) $(CHECK_CFLAGS) -o $@ $(UNIT_SRCS) $(LIB_OBJS) \
		$(PKG_LIBS) $(CHECK_LIBS) $(LDFLAGS)

$(BUILD)/fakeup: tests/fakeup/fakeup.c | pkgcheck-fake
	@mkdir -p $(BUILD)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(MHD_CFLAGS) -pthread -o $@ $< $(MHD_LIBS) -lpthread $(LDFLAGS)

# Installs the Debian packages that are missing (says which), then nothing else.
deps:
	@scripts/deps.sh

# Only what `make demo` needs.
deps-demo:
	@scripts/deps.sh demo

unit: $(BUILD)/unit
	$(BUILD)/unit

integration: $(BUILD)/refresher $(BUILD)/fakeup
	tests/integration/run.sh

test: deps
	$(MAKE) all $(BUILD)/unit $(BUILD)/fakeup
	$(BUILD)/unit
	tests/newcomer/run.sh
	tests/integration/run.sh

demo: deps-demo
	$(MAKE) -s all $(BUILD)/fakeup
	BUILD_DIR=$(abspath $(BUILD)) scripts/demo.sh

clean:
	rm -rf $(BUILD) .demo

# Further targets (install, lint, bench, fuzz, sanitizers) live beside the scripts they drive.
include $(sort $(wildcard scripts/*.mk))
