# ops.mk - install, uninstall, lint (included by the top Makefile).
#
#   make install [PREFIX=/usr/local] [DESTDIR=]   binary, man page, example config
#   make uninstall [PREFIX=...] [DESTDIR=]        removes exactly what install put there
#   make lint                                     installs the linters (scripts/deps.sh lint),
#                                                 then scripts/lint.sh checks workflows, units,
#                                                 manifests, YAML, shell scripts, the man page

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/refresher
INSTALL ?= install

# What install puts where (uninstall removes the same list).
INSTALLED_FILES = $(DESTDIR)$(BINDIR)/refresher $(DESTDIR)$(MANDIR)/man1/refresher.1 \
	$(DESTDIR)$(DOCDIR)/refresher.yaml

.PHONY: install uninstall lint

install: $(BUILD)/refresher
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DOCDIR)
	$(INSTALL) -m 0755 $(BUILD)/refresher $(DESTDIR)$(BINDIR)/refresher
	$(INSTALL) -m 0644 deploy/man/refresher.1 $(DESTDIR)$(MANDIR)/man1/refresher.1
	$(INSTALL) -m 0644 refresher.yaml $(DESTDIR)$(DOCDIR)/refresher.yaml

uninstall:
	rm -f $(INSTALLED_FILES)
	rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true

lint:
	@scripts/deps.sh lint
	$(MAKE) $(BUILD)/refresher
	BUILD=$(BUILD) scripts/lint.sh
