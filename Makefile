# fml: a mailing-list processor.  See README.md.
#
#   make            build lib/libfml.a and the programs in fml/
#   make demo       install deps, build, run a post through a demo list
#   make check      install deps, build, run every test
#   make install    PREFIX=/usr/local DESTDIR= (SYSCONFDIR: /etc for PREFIX=/usr)
#   make install-units  the systemd units into UNITDIR (/etc/systemd/system)
#   make uninstall  the programs, pages and units (edited configuration stays)
#   make fuzz       long libFuzzer runs (FUZZ_SECONDS per target)
#   make check-faults  the full error-injection and crash sweeps
#   make bench      side-by-side benchmarks against mlmmj

PREFIX   ?= /usr/local
DESTDIR  ?=
# a distribution's /usr keeps its configuration in /etc, as Debian does
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR  ?= /etc/systemd/system
BINDIR    = $(PREFIX)/bin
LIBEXEC   = $(PREFIX)/libexec/fml
ETCDIR    = $(SYSCONFDIR)/fml
MANDIR    = $(PREFIX)/share/man
SHAREDIR  = $(PREFIX)/share/fml
ML_DIR   ?= /var/spool/ml

CC       ?= cc
PKGS      = gmime-3.0 glib-2.0
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN      = -Wall -Wextra -Wformat=2 -Wmissing-prototypes -Wshadow -Wno-unused-parameter -fno-common
HARDEN    = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
OPT      ?= -O2 -g
CFLAGS   ?= $(OPT)
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS) -Ilib $(PKG_CFLAGS) \
	     -DFML_ETCDIR='"$(ETCDIR)"' -DFML_ML_DIR='"$(ML_DIR)"' \
	     -DFML_SHAREDIR='"$(SHAREDIR)"' -DFML_LIBEXEC='"$(LIBEXEC)"'
LDHARDEN  = -pie -Wl,-z,relro,-z,now -Wl,--as-needed
LIBS      = $(PKG_LIBS) -lgdbm -lmagic -larchive -lcrypt -lopendkim -lcrypto
# the alias pipe is lean: libc and gdbm only (tests/e2e/test_lean.py);
# what needs more is fmlproc's, which fml execs (doc/fml.8)
LEAN_LIBS = -lgdbm

# lib/ is one library in layer folders, lowest first: a module uses only
# its own folder and the ones before it (make check-layers).
LAYERS    = util mail list queue actions cmd proc web
LIB_SRC   = $(foreach l,$(LAYERS),$(sort $(wildcard lib/$(l)/*.c)))
LIB_OBJ   = $(patsubst lib/%.c,build/lib/%.o,$(LIB_SRC))
LIB_A     = build/libfml.a
empty    :=
space    := $(empty) $(empty)
comma    := ,
PROGS     = fml/fml fml/fmlproc fml/makefml fml/fmlqueue fml/fmldigest fml/fmlweb
UNIT_SRC  = $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  = $(patsubst tests/unit/%.c,build/unit/%,$(UNIT_SRC))

.PHONY: all deps demo check unit golden e2e fuzz-short fuzz bench install install-units uninstall clean format check-format FORCE \
	check-config check-layers check-faults

all: $(PROGS)

# the paths compiled in: every object is built again when one of them
# changes (a build for one PREFIX never installs under another)
PATHS = ETCDIR=$(ETCDIR) ML_DIR=$(ML_DIR) SHAREDIR=$(SHAREDIR) LIBEXEC=$(LIBEXEC)
build/paths: FORCE
	@mkdir -p build; [ "$$(cat $@ 2>/dev/null)" = "$(PATHS)" ] || echo "$(PATHS)" > $@
FORCE:

build/lib/%.o: lib/%.c build/paths
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIB_A): $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $(LIB_OBJ)

build/fml/%.o: fml/%.c build/paths
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

fml/fmlproc fml/makefml fml/fmlqueue fml/fmldigest fml/fmlweb fml/cfgen: fml/%: build/fml/%.o $(LIB_A)
	$(CC) $(LDHARDEN) -o $@ $< $(LIB_A) $(LIBS)

fml/fml: build/fml/fml.o $(LIB_A)
	$(CC) $(LDHARDEN) -o $@ $< $(LIB_A) $(LEAN_LIBS)

-include $(LIB_OBJ:.o=.d) $(wildcard build/fml/*.d)

# ---- the layers: no call up, no circle, names that say their file
check-layers: $(LIB_OBJ)
	@python3 tests/layers/check_layers.py --layers $(subst $(space),$(comma),$(LAYERS)) \
		--src lib $(LIB_OBJ)

# ---- dependencies: everything a fresh Debian machine needs to build and test
DEB_PKGS = gcc make pkg-config libgdbm-dev libmagic-dev libgmime-3.0-dev libarchive-dev \
	   libcrypt-dev libcmocka-dev python3 python3-pytest postfix strace clang \
	   libclang-rt-14-dev time mlmmj libopendkim-dev libssl-dev publicsuffix \
	   python3-dnslib python3-dkim lighttpd chromium chromium-driver python3-selenium
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

# ---- generated configuration documents (from lib/config_vars.def)
etc/default_config.cf: fml/cfgen
	fml/cfgen cf > $@.tmp && mv $@.tmp $@
doc/fml.cf.5: fml/cfgen doc/fml.cf.5.in
	fml/cfgen man doc/fml.cf.5.in > $@.tmp && mv $@.tmp $@
check-config: fml/cfgen
	@fml/cfgen cf | cmp -s - etc/default_config.cf || { echo "etc/default_config.cf is stale: run make etc/default_config.cf"; exit 1; }
	@fml/cfgen man doc/fml.cf.5.in | cmp -s - doc/fml.cf.5 || { echo "doc/fml.cf.5 is stale: run make doc/fml.cf.5"; exit 1; }
	@echo "config docs: in step with lib/list/config_vars.def"

# ---- tests
build/unit/%: tests/unit/%.c $(LIB_A) tests/unit/unit.h
	@mkdir -p build/unit
	$(CC) $(ALL_CFLAGS) $(LDHARDEN) -o $@ $< $(LIB_A) $(LIBS) -lcmocka

GOLDEN_SRC = $(sort $(wildcard tests/golden/*.c))
GOLDEN_BIN = $(patsubst tests/golden/%.c,build/golden/%,$(GOLDEN_SRC))
build/golden/%: tests/golden/%.c $(LIB_A)
	@mkdir -p build/golden
	$(CC) $(ALL_CFLAGS) $(LDHARDEN) -o $@ $< $(LIB_A) $(LIBS)

unit: $(UNIT_BIN)
	@sh tests/run-unit.sh $(UNIT_BIN)

golden: all $(GOLDEN_BIN)
	@sh tests/golden/run.sh

e2e: all
	@sh tests/run-e2e.sh

fuzz-short:
	@$(MAKE) -s -C tests/fuzz short

# The long fault sweeps: every injected error (EIO, ENOSPC, EDQUOT, once and
# from every point on) for every input, and the link-lock crash sweeps.
# make check runs a slice of each.
check-faults: all
	@FML_FAULTS_FULL=1 FML_CRASH_FULL=1 sh tests/run-e2e.sh -k "fault or crash"

fuzz:
	@$(MAKE) -C tests/fuzz long

check: deps
	@$(MAKE) all fml/cfgen
	@sh tests/check.sh

demo: deps
	@$(MAKE) all
	@sh tests/demo.sh

bench: deps all
	@sh bench/run.sh

format:
	clang-format -i lib/*/*.c lib/*/*.h fml/*.c tests/unit/*.c tests/unit/*.h tests/fuzz/*.c tests/fuzz/*.h tests/golden/*.c tests/e2e/*.c

check-format:
	@clang-format --dry-run -Werror lib/*/*.c lib/*/*.h fml/*.c tests/unit/*.c tests/unit/*.h tests/fuzz/*.c tests/fuzz/*.h tests/golden/*.c tests/e2e/*.c

# units and cron lines with this build's paths
UNITS     = fmlqueue.service fmlqueue.timer fmldigest.service fmldigest.timer
CRONS     = fmlqueue.cron fmldigest.cron
WEBCONFS  = fmlweb-nginx.conf fmlweb-apache.conf
build/etc/%: etc/% build/paths
	@mkdir -p $(@D)
	sed -e 's|/usr/local/bin|$(BINDIR)|g' -e 's|/usr/local/libexec/fml|$(LIBEXEC)|g' \
	    -e 's|/usr/local/etc/fml|$(ETCDIR)|g' -e 's|/var/spool/ml|$(ML_DIR)|g' $< > $@

install: all $(addprefix build/etc/,$(UNITS) $(CRONS) $(WEBCONFS))
	install -d $(DESTDIR)$(LIBEXEC) $(DESTDIR)$(BINDIR) $(DESTDIR)$(ETCDIR) \
		$(DESTDIR)$(SHAREDIR)/spool-skel $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8
	install -m 755 fml/fml $(DESTDIR)$(LIBEXEC)/fml
	install -m 755 fml/fmlproc $(DESTDIR)$(LIBEXEC)/fmlproc
	install -m 755 fml/fmlweb $(DESTDIR)$(LIBEXEC)/fmlweb
	install -m 755 fml/makefml $(DESTDIR)$(BINDIR)/makefml
	install -m 755 fml/fmlqueue $(DESTDIR)$(BINDIR)/fmlqueue
	install -m 755 fml/fmldigest $(DESTDIR)$(BINDIR)/fmldigest
	@# an edited configuration is never overwritten: the shipped one goes beside it
	@for f in site_init.cf sitedef.cf; do \
		t=$(DESTDIR)$(ETCDIR)/$$f; \
		if [ -f $$t ] && ! cmp -s etc/$$f $$t; then \
			install -m 644 etc/$$f $$t.dist; \
			echo "kept $(ETCDIR)/$$f (edited); the shipped one is $$f.dist"; \
		else install -m 644 etc/$$f $$t; fi; \
	done
	install -m 644 etc/default_config.cf $(addprefix build/etc/,$(UNITS) $(CRONS) $(WEBCONFS)) \
		$(DESTDIR)$(ETCDIR)/
	cp -R spool-skel/. $(DESTDIR)$(SHAREDIR)/spool-skel/
	install -m 644 doc/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 doc/*.7 $(DESTDIR)$(MANDIR)/man7/
	install -m 644 doc/*.8 $(DESTDIR)$(MANDIR)/man8/

# where systemd looks; then: systemctl daemon-reload &&
# systemctl enable --now fmlqueue.timer fmldigest.timer
install-units: $(addprefix build/etc/,$(UNITS))
	install -d $(DESTDIR)$(UNITDIR)
	install -m 644 $(addprefix build/etc/,$(UNITS)) $(DESTDIR)$(UNITDIR)/

uninstall:
	rm -f $(DESTDIR)$(LIBEXEC)/fml $(DESTDIR)$(LIBEXEC)/fmlproc $(DESTDIR)$(LIBEXEC)/fmlweb \
		$(addprefix $(DESTDIR)$(BINDIR)/,makefml fmlqueue fmldigest) \
		$(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS)) \
		$(addprefix $(DESTDIR)$(ETCDIR)/,default_config.cf $(UNITS) $(CRONS) $(WEBCONFS) site_init.cf.dist sitedef.cf.dist) \
		$(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(wildcard doc/*.5))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man7/,$(notdir $(wildcard doc/*.7))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(wildcard doc/*.8)))
	rm -rf $(DESTDIR)$(SHAREDIR)
	-rmdir $(DESTDIR)$(LIBEXEC) 2>/dev/null
	@echo "kept $(ETCDIR) (site_init.cf, sitedef.cf) and the lists under $(ML_DIR)"

clean:
	rm -f $(PROGS) fml/cfgen
	rm -rf build .test-tmp demo tests/fuzz/out

check-format-result:
	@if $(MAKE) -s check-format >/dev/null 2>&1; then echo "RESULT format 1 0"; \
	 else $(MAKE) -s check-format 2>&1 | head -20; echo "RESULT format 0 1"; fi
check-config-result:
	@if $(MAKE) -s check-config; then echo "RESULT config 1 0"; else echo "RESULT config 0 1"; fi
