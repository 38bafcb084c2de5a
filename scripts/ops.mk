# ops.mk - install, uninstall, lint (included by the top Makefile).
#
#   make install [PREFIX=/usr/local] [DESTDIR=]   binary, man page, example configs and the
#                                                 migrations under PREFIX/share/refresher
#   make uninstall [PREFIX=...] [DESTDIR=]        removes exactly what install put there
#   make lint                                     installs the linters (scripts/deps.sh lint),
#                                                 then scripts/lint.sh checks workflows, units,
#                                                 manifests, YAML, shell scripts, the man page

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/refresher
INSTALL ?= install

# The migrations (sql/*.sql), the optional role and the oauth2 example table, and the example
# configs: what setting up a database and a config needs without the repository.
SQL_FILES     = $(wildcard sql/*.sql)
SQL_SUBDIRS   = roles oauth2
EXAMPLE_FILES = refresher.yaml refresher.oauth2.yaml refresher.json.yaml

# What install puts where (uninstall removes the same list).
INSTALLED_FILES = $(DESTDIR)$(BINDIR)/refresher $(DESTDIR)$(MANDIR)/man1/refresher.1 \
	$(EXAMPLE_FILES:%=$(DESTDIR)$(DATADIR)/%) $(SQL_FILES:%=$(DESTDIR)$(DATADIR)/%) \
	$(foreach d,$(SQL_SUBDIRS),$(patsubst %,$(DESTDIR)$(DATADIR)/%,$(wildcard sql/$(d)/*.sql)))

.PHONY: install uninstall lint

install: $(BUILD)/refresher
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DATADIR)/sql
	$(INSTALL) -m 0755 $(BUILD)/refresher $(DESTDIR)$(BINDIR)/refresher
	$(INSTALL) -m 0644 deploy/man/refresher.1 $(DESTDIR)$(MANDIR)/man1/refresher.1
	$(INSTALL) -m 0644 $(EXAMPLE_FILES) $(DESTDIR)$(DATADIR)/
	$(INSTALL) -m 0644 $(SQL_FILES) $(DESTDIR)$(DATADIR)/sql/
	for d in $(SQL_SUBDIRS); do \
		$(INSTALL) -d $(DESTDIR)$(DATADIR)/sql/$$d && \
		$(INSTALL) -m 0644 sql/$$d/*.sql $(DESTDIR)$(DATADIR)/sql/$$d/ || exit 1; \
	done

uninstall:
	rm -f $(INSTALLED_FILES)
	for d in $(SQL_SUBDIRS); do rmdir $(DESTDIR)$(DATADIR)/sql/$$d 2>/dev/null; done; true
	rmdir $(DESTDIR)$(DATADIR)/sql $(DESTDIR)$(DATADIR) 2>/dev/null || true

lint:
	@scripts/deps.sh lint
	$(MAKE) $(BUILD)/refresher
	BUILD=$(BUILD) scripts/lint.sh
