# authgate -- GNU make, Debian 12.  See INSTALL.
#
#   make            build authgate-fcgi and authgate into build/
#   make check      every test; ends with "N passed, N failed"
#   make sanitize   the same tests, built with ASan + UBSan
#   make valgrind   the unit test programs under valgrind
#   make install    PREFIX=/usr/local DESTDIR=
#   make demo       a real login on http://127.0.0.1:8080/

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
LOCALSTATEDIR ?= /var
DATADIR	?= $(PREFIX)/share/authgate

CC	?= gcc
BUILD	?= build
PKGS	 = openssl libcurl json-c sqlite3
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libcurl is dlopen()ed at first use (lib/http.c): headers only.
PKG_LIBS   := $(shell pkg-config --libs openssl json-c sqlite3 2>/dev/null)

WARN	 = -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wmissing-prototypes \
	   -Wstrict-prototypes -Wpointer-arith -Wvla -Wno-unused-parameter
HARDEN	 = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
OPT	?= -O2 -g
CFLAGS	?=
AG_CFLAGS = -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L $(WARN) \
	   -DAG_CONF_DEFAULT_PATH='"$(SYSCONFDIR)/authgate/authgate.conf"' \
	   $(OPT) $(HARDEN) $(PKG_CFLAGS) -iquote lib -iquote fcgi $(SAN) $(CFLAGS)
AG_LDFLAGS = -pie -Wl,-z,relro,-z,now $(SAN) $(LDFLAGS)
LIBS	 = $(PKG_LIBS) -lfcgi -lm

LIB_SRC	 = $(sort $(wildcard lib/*.c))
LIB_OBJ	 = $(LIB_SRC:%.c=$(BUILD)/%.o)
FCGI_SRC = $(sort $(wildcard fcgi/h-*.c)) fcgi/fcgx.c fcgi/route.c
CMD_SRC	 = $(sort $(wildcard fcgi/cmd-*.c))
CMD_OBJ	 = $(CMD_SRC:%.c=$(BUILD)/%.o)
FCGI_OBJ = $(FCGI_SRC:%.c=$(BUILD)/%.o)
PROGS	 = $(BUILD)/authgate-fcgi $(BUILD)/authgate $(BUILD)/authgate-wrap
UNIT_SRC = $(sort $(wildcard tests/unit/test-*.c))
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: valgrind
.PHONY: all check unit sanitize install install-privsep demo deps clean lint fuzz bench

all: $(PROGS) $(BUILD)/tests/hello-fcgi $(BUILD)/www/env-c.cgi

$(BUILD)/%.o: %.c $(wildcard lib/*.h fcgi/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(AG_CFLAGS) -c -o $@ $<

# The SQL migrations, compiled in (sql/sql.mk defines SQL_OBJ).
include sql/sql.mk

$(BUILD)/libauthgate.a: $(LIB_OBJ) $(SQL_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/libhandlers.a: $(FCGI_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/authgate-fcgi: $(BUILD)/fcgi/authgate-fcgi.o $(BUILD)/libhandlers.a $(BUILD)/libauthgate.a
	$(CC) $(AG_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/authgate: $(BUILD)/fcgi/authgate.o $(CMD_OBJ) $(BUILD)/libhandlers.a $(BUILD)/libauthgate.a
	$(CC) $(AG_LDFLAGS) -o $@ $^ $(LIBS)

# The wrapper links neither libfcgi nor the handlers; libcurl is never
# loaded on its common path (lib/http.c loads it at first use).
$(BUILD)/authgate-wrap: $(BUILD)/fcgi/authgate-wrap.o $(BUILD)/libauthgate.a
	$(CC) $(AG_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

$(BUILD)/tests/%: tests/unit/%.c tests/unit/tap.h tests/unit/util.h $(BUILD)/libauthgate.a
	@mkdir -p $(dir $@)
	$(CC) $(AG_CFLAGS) -iquote tests/unit $(AG_LDFLAGS) -o $@ $< \
	    $(BUILD)/libauthgate.a $(LIBS)

# The C example of a legacy CGI program (www/cgi-bin/env.c).
$(BUILD)/www/env-c.cgi: www/cgi-bin/env.c
	@mkdir -p $(dir $@)
	$(CC) $(AG_CFLAGS) $(AG_LDFLAGS) -o $@ $<

$(BUILD)/tests/hello-fcgi: tests/bench/hello-fcgi.c
	@mkdir -p $(dir $@)
	$(CC) $(AG_CFLAGS) $(AG_LDFLAGS) -o $@ $< -lfcgi

# The CLI with its installed configuration in a fixed test directory,
# so tests/check-privsep can exercise the setgid rules for it.
PRIVSEP_CONF = /tmp/authgate-privsep-test/etc/authgate.conf
$(BUILD)/tests/authgate-privsep: fcgi/authgate.c lib/conf.c $(CMD_OBJ) $(BUILD)/libhandlers.a $(BUILD)/libauthgate.a
	@mkdir -p $(dir $@)
	$(CC) $(AG_CFLAGS) -UAG_CONF_DEFAULT_PATH \
	    -DAG_CONF_DEFAULT_PATH='"$(PRIVSEP_CONF)"' $(AG_LDFLAGS) -o $@ \
	    fcgi/authgate.c lib/conf.c $(CMD_OBJ) $(BUILD)/libhandlers.a \
	    $(BUILD)/libauthgate.a $(LIBS)

unit: $(UNIT_BIN) $(BUILD)/tests/authgate-privsep

# The whole suite: unit programs, then the integration tests (node,
# real oidc-provider, real lighttpd, real Chromium).  tests/run prints
# one line per test and the summary "N passed, N failed".
check: deps all unit
	BUILD=$(BUILD) tests/run

# Missing Debian packages and the test provider's node modules.
deps:
	tests/deps

# Every unit test program under valgrind (memcheck, leaks); ~70 s.
valgrind: unit
	BUILD=$(BUILD) tests/valgrind

sanitize:
	$(MAKE) BUILD=build-san OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" check

demo:
	tests/demo

bench: all
	tests/bench/run

lint:
	tests/lint

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DATADIR)/www \
	    $(DESTDIR)$(SYSCONFDIR)/authgate
	install -m 0755 $(BUILD)/authgate $(DESTDIR)$(BINDIR)/authgate
	install -m 0755 $(BUILD)/authgate-fcgi $(DESTDIR)$(SBINDIR)/authgate-fcgi
	install -m 0755 $(BUILD)/authgate-wrap $(DESTDIR)$(SBINDIR)/authgate-wrap
	install -m 0644 fcgi/authgate.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 fcgi/authgate-fcgi.8 fcgi/authgate-wrap.8 \
	    $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 lib/authgate.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 www/index.html www/authgate.js $(DESTDIR)$(DATADIR)/www/
	install -m 0644 www/examples/authgate.conf.example \
	    $(DESTDIR)$(SYSCONFDIR)/authgate/authgate.conf.example
	install -d $(DESTDIR)$(LOCALSTATEDIR)/lib/authgate
	@$(MAKE) --no-print-directory install-privsep

# Privilege separation (INSTALL): the group "authgate" alone reads the
# configuration and the session database; the programs are setgid to
# it, and authgate-wrap drops it before running a legacy program.  As
# root without DESTDIR this is done here; otherwise (packaging) the
# commands are printed for the package's post-install step.
AG_GROUP ?= authgate
PRIVSEP_CMDS = \
	getent group $(AG_GROUP) >/dev/null || groupadd --system $(AG_GROUP); \
	chgrp $(AG_GROUP) $(SBINDIR)/authgate-wrap $(SBINDIR)/authgate-fcgi \
	    $(BINDIR)/authgate; \
	chmod 2755 $(SBINDIR)/authgate-wrap $(SBINDIR)/authgate-fcgi \
	    $(BINDIR)/authgate; \
	chgrp $(AG_GROUP) $(SYSCONFDIR)/authgate $(LOCALSTATEDIR)/lib/authgate; \
	chmod 0750 $(SYSCONFDIR)/authgate; \
	chmod 0770 $(LOCALSTATEDIR)/lib/authgate

install-privsep:
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
		set -e; $(PRIVSEP_CMDS); \
		echo "install: group $(AG_GROUP) set up; keep authgate.conf" \
		    "0640 root:$(AG_GROUP)"; \
	else \
		echo "install: not root or DESTDIR set; at package install" \
		    "time run (as root):"; \
		echo '$(PRIVSEP_CMDS)' | tr ';' '\n' | sed 's/^ */    /'; \
	fi

clean:
	rm -rf build build-san build-fuzz

# Fuzz targets: replay programs for make check, libFuzzer for make fuzz.
include tests/fuzz/fuzz.mk
