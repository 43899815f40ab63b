# collectd-kube-proxy. `make` builds the core archive, the CLI and the plugin;
# `make check` builds and runs every test. Out-of-tree builds: make BUILD=dir.
CC       ?= gcc
BUILD    ?= build
VERSION  := 0.1.0
CSTD     := -std=gnu11
WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
OPT      ?= -O2 -g
CFLAGS   ?=
CPPFLAGS += -Iinclude -D_GNU_SOURCE -DKP_VERSION='"$(VERSION)"'
ALL_CFLAGS = $(CSTD) $(WARN) $(OPT) -fPIC -fvisibility=hidden $(CFLAGS)
NETLIBS  := -lip4tc -lip6tc -lnftnl -lmnl
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt -lm -pthread)
COLLECTD_CFLAGS := -DHAVE_CONFIG_H -I/usr/include/collectd

# The core: every plugin/*.c except the collectd glue and the CLI entry.
GLUE_SRC := $(wildcard plugin/kube_proxy*.c)
CLI_SRC  := plugin/cli_main.c
CORE_SRC := $(filter-out $(GLUE_SRC) $(CLI_SRC),$(wildcard plugin/*.c))
CORE_OBJ := $(patsubst plugin/%.c,$(BUILD)/obj/%.o,$(CORE_SRC))
GLUE_OBJ := $(patsubst plugin/%.c,$(BUILD)/obj/%.o,$(GLUE_SRC))
HEADERS  := $(wildcard include/kp/*.h plugin/*.h)

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TEST_SUPPORT_SRC := $(wildcard tests/unit/support_*.c)

CORE_LIB := $(BUILD)/libkpcore.a
CLI_BIN  := $(BUILD)/kube-proxy-check
PLUGIN   := $(BUILD)/kube_proxy.so

.PHONY: all core cli plugin check deps bench unit integration corpus clang asan valgrind-unit \
        format format-check fuzz bench demo clean install

all: core cli $(if $(GLUE_SRC),plugin)

core: $(CORE_LIB)
cli: $(CLI_BIN)
plugin: $(PLUGIN)

$(BUILD)/obj/%.o: plugin/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(if $(filter kube_proxy%,$*),$(COLLECTD_CFLAGS)) -c $< -o $@

$(CORE_LIB): $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(CLI_BIN): $(BUILD)/obj/cli_main.o $(CORE_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(NETLIBS) -lpthread

# One file to deploy: the core is linked in; only module_register is exported.
$(PLUGIN): $(GLUE_OBJ) $(CORE_LIB)
	$(CC) $(ALL_CFLAGS) -shared -Wl,--exclude-libs,ALL -o $@ $^ $(NETLIBS) -lpthread

$(BUILD)/tests/%: tests/unit/%.c $(TEST_SUPPORT_SRC) $(CORE_LIB) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/unit -DKP_SOURCE_DIR='"$(CURDIR)"' $(ALL_CFLAGS) -o $@ $< \
	  $(TEST_SUPPORT_SRC) $(CORE_LIB) $(NETLIBS) $(CHECK_LIBS)

# ---- tests -----------------------------------------------------------------
# Installs missing Debian packages first (root), then runs the suites in
# order; each prints its own "N passed, N failed" line, integration last.
check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory format-check
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory clang
	@$(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory integration

deps:
	@tests/install-deps.sh

unit: $(UNIT_BIN)
	@tests/run-unit.sh $(UNIT_BIN)

# Warning-free with clang too (separate build dir, nothing installed).
clang:
	$(MAKE) --no-print-directory BUILD=$(BUILD)/clang CC=clang all

# Unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (clang).
asan:
	$(MAKE) --no-print-directory BUILD=$(BUILD)/asan CC=clang OPT="-O1 -g" \
	  CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	  unit

integration: all
	@tests/integration/run-all.sh $(BUILD)

# ---- style -----------------------------------------------------------------
format:
	clang-format -i $$(git ls-files '*.c' '*.h')
format-check:
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

# ---- benchmark ----------------------------------------------------------------
BENCH_SRC := $(wildcard tests/bench/bench_*.c)
BENCH_BIN := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
$(BUILD)/bench/%: tests/bench/%.c $(CORE_LIB) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $< $(CORE_LIB) $(NETLIBS) -lpthread
bench: deps $(BENCH_BIN)
	@tests/bench/bench.sh $(BUILD)

# ---- collectd glue unit test ---------------------------------------------------
# The glue sources + stubs of the daemon (tests/unit/plugin_stubs.c) + the
# core: this explicit rule replaces the pattern rule for this one binary.
GLUE_TEST_SRC := tests/unit/plugin_stubs.c $(GLUE_SRC)
GLUE_HDR := plugin/kube_proxy_glue.h tests/unit/plugin_stubs.h
$(GLUE_OBJ): plugin/kube_proxy_glue.h
$(BUILD)/tests/test_plugin_glue: tests/unit/test_plugin_glue.c $(GLUE_TEST_SRC) $(GLUE_HDR) \
                                 $(TEST_SUPPORT_SRC) $(CORE_LIB) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(COLLECTD_CFLAGS) -Iplugin -Itests/unit -DKP_SOURCE_DIR='"$(CURDIR)"' \
	  $(ALL_CFLAGS) -o $@ $< $(GLUE_TEST_SRC) $(TEST_SUPPORT_SRC) $(CORE_LIB) $(NETLIBS) \
	  $(CHECK_LIBS)

# ---- demo -----------------------------------------------------------------------
# On a fresh Debian 12 machine, as root: installs the packages, builds, runs
# collectd with the plugin against a demo namespace (tests/demo.sh).
demo:
	@bash tests/demo.sh $(BUILD)

# ---- fuzzing -------------------------------------------------------------------
# libFuzzer targets (tests/fuzz/fuzz_*.c), clang with ASan+UBSan. The core is
# rebuilt from source with coverage instrumentation in $(BUILD)/fuzzcore (not
# the gcc archive). `make fuzz` runs each target FUZZ_SECONDS (default 60);
# `make fuzz-smoke` about 10 s each. tests/fuzz/run.sh replays
# tests/fuzz/regress/ first and prints "fuzz: N passed, N failed".
FUZZ_SECONDS ?= 60
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN     := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
FUZZ_CORE    := $(BUILD)/fuzzcore/libkpcore.a
.PHONY: fuzz-build fuzz-smoke fuzz-core

fuzz-core:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/fuzzcore CC=clang OPT="-O1 -g" \
	  CFLAGS="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" core

$(BUILD)/fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) $(HEADERS) fuzz-core
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) $(CSTD) $(WARN) -O1 -g -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< \
	  $(FUZZ_CORE) $(NETLIBS) -lpthread

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	@tests/fuzz/run.sh $(BUILD)/fuzz $(FUZZ_SECONDS)

fuzz-smoke: fuzz-build
	@FUZZ_CORPUS=fresh tests/fuzz/run.sh $(BUILD)/fuzz 10

# ---- config table unit test (glue-linked, like test_plugin_glue) ------------------
$(BUILD)/tests/test_config_table: tests/unit/test_config_table.c $(GLUE_TEST_SRC) $(GLUE_HDR) \
                                  $(TEST_SUPPORT_SRC) $(CORE_LIB) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(COLLECTD_CFLAGS) -Iplugin -Itests/unit -DKP_SOURCE_DIR='"$(CURDIR)"' \
	  $(ALL_CFLAGS) -o $@ $< $(GLUE_TEST_SRC) $(TEST_SUPPORT_SRC) $(CORE_LIB) $(NETLIBS) \
	  $(CHECK_LIBS)

# ---- install and packages --------------------------------------------------------
# make install [DESTDIR=...] [PREFIX=/usr/local]: the CLI in $(PREFIX)/sbin,
# the plugin in collectd's plugin dir, the drop-in in collectd's include dir
# (an existing one is kept: it is the admin's configuration), man pages and
# docs under $(PREFIX)/share. RPM builds override PLUGINDIR and CONFDIR.
PREFIX    ?= /usr/local
PLUGINDIR ?= /usr/lib/collectd
CONFDIR   ?= /etc/collectd/collectd.conf.d
MANDIR    ?= $(PREFIX)/share/man
DOCDIR    ?= $(PREFIX)/share/doc/collectd-kube-proxy

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(CONFDIR) \
	  $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR)
	install -m 0755 $(CLI_BIN) $(DESTDIR)$(PREFIX)/sbin/kube-proxy-check
	install -m 0644 $(PLUGIN) $(DESTDIR)$(PLUGINDIR)/kube_proxy.so
	@if [ -e $(DESTDIR)$(CONFDIR)/kube_proxy.conf ]; then \
	  echo "install: keeping the existing $(DESTDIR)$(CONFDIR)/kube_proxy.conf"; \
	else \
	  echo "install -m 0644 conf/kube_proxy.conf $(DESTDIR)$(CONFDIR)/kube_proxy.conf"; \
	  install -m 0644 conf/kube_proxy.conf $(DESTDIR)$(CONFDIR)/kube_proxy.conf; \
	fi
	install -m 0644 docs/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 docs/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 docs/*.md $(DESTDIR)$(DOCDIR)/

# make deb: the Debian binary package, built with dpkg-buildpackage from a
# copy of the tree where packaging/debian becomes debian/ (dpkg wants it at
# the top); the .deb lands in $(BUILD)/. Needs dpkg-dev and debhelper.
.PHONY: deb
deb:
	@command -v dpkg-buildpackage >/dev/null && [ -f /usr/share/perl5/Debian/Debhelper/Dh_Lib.pm ] || \
	  { echo "make deb: needs dpkg-dev and debhelper (apt-get install dpkg-dev debhelper)" >&2; exit 1; }
	@set -e; tmp=$$(mktemp -d /tmp/kp-deb.XXXXXX); trap 'rm -rf "$$tmp"' EXIT; \
	src=$$tmp/collectd-kube-proxy-$(VERSION); mkdir -p "$$src"; \
	tar -C "$(CURDIR)" --exclude-vcs --exclude=./build --exclude='./build-*' --exclude=./run \
	  --exclude='*.o' --exclude='*.a' --exclude='*.so' --exclude=./packaging/debian \
	  --exclude=./tests/fuzz/corpus-run -cf - . | tar -C "$$src" -xf -; \
	cp -a packaging/debian "$$src/debian"; \
	echo "make deb: dpkg-buildpackage -us -uc -b in $$src"; \
	(cd "$$src" && dpkg-buildpackage -us -uc -b) >"$$tmp/build.log" 2>&1 || \
	  { tail -n 40 "$$tmp/build.log" >&2; echo "make deb: dpkg-buildpackage failed" >&2; exit 1; }; \
	mkdir -p "$(BUILD)"; cp "$$tmp"/*.deb "$(BUILD)/"; cp "$$tmp/build.log" "$(BUILD)/deb-build.log"; \
	ls -1 "$(BUILD)"/*.deb

# make rpm: the RPM (packaging/rpm/collectd-kube-proxy.spec) built here with
# rpmbuild --nodeps (its BuildRequires are Fedora names) against collectd's
# source from Debian's source package; packages in $(BUILD)/rpm/RPMS/.
# packaging/rpm/README.md says more. Needs rpm and a deb-src entry
# (tests/install-deps.sh).
.PHONY: rpm
rpm:
	@packaging/rpm/build-rpm.sh $(BUILD) $(VERSION)
