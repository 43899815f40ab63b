# collectd-kube-proxy. `make` builds the core archive, the CLI and the plugin;
# `make check` builds and runs every test. Out-of-tree builds: make BUILD=dir.
CC       ?= gcc
BUILD    ?= build
# One spelling per build dir (dependency files name targets the way BUILD is written).
override BUILD := $(patsubst $(CURDIR)/%,%,$(abspath $(BUILD)))
VERSION  := 0.1.0
CSTD     := -std=gnu11
WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
OPT      ?= -O2 -g
CFLAGS   ?=
CPPFLAGS += -D_GNU_SOURCE -DKP_VERSION='"$(VERSION)"'
ALL_CFLAGS = $(CSTD) $(WARN) $(OPT) -fPIC -fvisibility=hidden $(CFLAGS)
NETLIBS  := -lip4tc -lip6tc -lnftnl -lmnl -ljansson
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt -lm -pthread)
COLLECTD_CFLAGS := -DHAVE_CONFIG_H -I/usr/include/collectd

# ---- layout ------------------------------------------------------------------
# plugin/ is the pipeline, one folder per stage (docs/architecture.md):
#   sources/{dump,live} -> model -> checks -> output, collectd (the glue), cli.
#   config: the <Plugin kube_proxy> key table and a reader of collectd config
#   syntax, without collectd (used by the glue and by kube-proxy-check --check-config).
# Each folder compiles with its own private headers (-Iplugin/<folder>), the
# private headers of the folders listed in PRIVATE_<folder>, and a copy of
# only the public headers (include/kp) listed in USES_<folder> (linked into
# $(BUILD)/inc/<folder>/kp): including
# anything else fails to compile. Only the collectd folder sees collectd.
DIRS := model sources/dump sources/live checks config output collectd cli
USES_model         := arena model names
USES_sources/dump  := arena model names dump
USES_sources/live  := arena model names live dump
USES_checks        := arena model names checks
USES_config        := arena model names checks config
USES_output        := arena model names checks report
USES_collectd      := arena model names checks config live report
USES_cli           := arena model names checks config dump live report
# kube-proxy's /metrics answers go through the dump source's parser.
PRIVATE_sources/live := sources/dump
EXTRA_collectd     := $(COLLECTD_CFLAGS)

dir_of    = $(patsubst %/,%,$(dir $(1)))
inc_of    = $(addprefix $(BUILD)/inc/$(1)/kp/,$(addsuffix .h,$(USES_$(1))))
cflags_of = -I$(BUILD)/inc/$(1) $(addprefix -Iplugin/,$(1) $(PRIVATE_$(1))) $(EXTRA_$(1))

SRC      := $(foreach d,$(DIRS),$(wildcard plugin/$(d)/*.c))
GLUE_SRC := $(wildcard plugin/collectd/*.c)
CLI_SRC  := $(wildcard plugin/cli/*.c)
CORE_SRC := $(filter-out $(GLUE_SRC) $(CLI_SRC),$(SRC))
obj_of    = $(patsubst plugin/%.c,$(BUILD)/obj/%.o,$(1))
CORE_OBJ := $(call obj_of,$(CORE_SRC))
GLUE_OBJ := $(call obj_of,$(GLUE_SRC))
CLI_OBJ  := $(call obj_of,$(CLI_SRC))
# ar keeps one member per file name: two folders must not both have a util.c.
DUP_NAMES := $(strip $(foreach n,$(sort $(notdir $(SRC))),$(if $(word 2,$(filter %/$(n),$(SRC))),$(n))))
$(if $(DUP_NAMES),$(error plugin/: file names must be unique across folders: $(DUP_NAMES)))

# Tests, fuzzers and benchmarks may include any header, private ones too.
ALL_INC := -Iinclude $(addprefix -Iplugin/,$(DIRS))
DEPFLAGS = -MMD -MP

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TEST_SUPPORT_SRC := $(wildcard tests/unit/support_*.c)
# Unit tests of the collectd glue: linked with its objects and tests/unit/plugin_stubs.c
# (the daemon's functions), compiled with collectd's headers.
GLUE_TESTS := test_plugin_glue test_config_table
GLUE_TEST_BIN := $(addprefix $(BUILD)/tests/,$(GLUE_TESTS))

CORE_LIB := $(BUILD)/libkpcore.a
CLI_BIN  := $(BUILD)/kube-proxy-check
PLUGIN   := $(BUILD)/kube_proxy.so

.PHONY: all core cli plugin check deps layers unit integration clang asan format format-check \
        bench fuzz fuzz-build fuzz-smoke fuzz-core demo clean install deb

all: core cli plugin

core: $(CORE_LIB)
cli: $(CLI_BIN)
plugin: $(PLUGIN)

.SECONDEXPANSION:
# Symbolic links, so that the compiler's dependency files name a path whose
# time is the header's own.
INC_LINKS := $(foreach d,$(DIRS),$(call inc_of,$(d)))
$(INC_LINKS): $(BUILD)/inc/%.h:
	@mkdir -p $(dir $@)
	@ln -sfn $(CURDIR)/include/kp/$(notdir $*).h $@

$(BUILD)/obj/%.o: plugin/%.c | $$(call inc_of,$$(call dir_of,$$*))
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(call cflags_of,$(call dir_of,$*)) $(ALL_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(CORE_LIB): $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(CLI_BIN): $(CLI_OBJ) $(CORE_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(NETLIBS) -lpthread

# One file to deploy: the core is linked in; only module_register is exported.
$(PLUGIN): $(GLUE_OBJ) $(CORE_LIB)
	$(CC) $(ALL_CFLAGS) -shared -Wl,--exclude-libs,ALL -o $@ $^ $(NETLIBS) -lpthread

TEST_CPPFLAGS = $(CPPFLAGS) $(ALL_INC) -Itests/unit -DKP_SOURCE_DIR='"$(CURDIR)"'

# Test sources compile to objects of their own, so each has its dependency
# file; the glue tests and the daemon stubs see collectd's headers.
TEST_OBJ := $(BUILD)/tests/obj
SUPPORT_OBJ := $(patsubst tests/unit/%.c,$(TEST_OBJ)/%.o,$(TEST_SUPPORT_SRC))
$(addprefix $(TEST_OBJ)/,$(addsuffix .o,$(GLUE_TESTS) plugin_stubs)): TEST_EXTRA := $(COLLECTD_CFLAGS)

# kept between runs (make would delete them as intermediate files)
.SECONDARY: $(patsubst tests/unit/%.c,$(TEST_OBJ)/%.o,$(wildcard tests/unit/*.c))
$(TEST_OBJ)/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CPPFLAGS) $(TEST_EXTRA) $(ALL_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/tests/%: $(TEST_OBJ)/%.o $(SUPPORT_OBJ) $(CORE_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(NETLIBS) $(CHECK_LIBS)

$(GLUE_TEST_BIN): $(BUILD)/tests/%: $(TEST_OBJ)/%.o $(TEST_OBJ)/plugin_stubs.o $(SUPPORT_OBJ) \
                  $(GLUE_OBJ) $(CORE_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(NETLIBS) $(CHECK_LIBS)

-include $(wildcard $(BUILD)/obj/*/*.d $(BUILD)/obj/*/*/*.d $(BUILD)/tests/obj/*.d \
  $(BUILD)/bench/*.d $(BUILD)/fuzz/*.d)

# ---- tests -----------------------------------------------------------------
# Installs missing Debian packages first (root), then runs the suites in
# order (stopping at the first that fails); each prints its own "N passed,
# N failed" line, integration last. Ends with the leftover guard: the
# integration helpers record every namespace, temp dir and process they
# create in KP_RUN_DIR, and tests/integration/leftovers.sh fails the check,
# naming each, if any of them is still there.
CHECK_STEPS := all layers format-check unit clang asan fuzz-smoke integration
check: deps
	@KP_RUN_DIR=$$(mktemp -d /tmp/kp-run.XXXXXX) && chmod 755 "$$KP_RUN_DIR" && export KP_RUN_DIR && \
	rc=0; for step in $(CHECK_STEPS); do \
	  $(MAKE) --no-print-directory $$step || { rc=1; echo "make check: $$step failed"; break; }; \
	done; \
	tests/integration/leftovers.sh "$$KP_RUN_DIR" || rc=1; \
	rm -rf "$$KP_RUN_DIR"; exit $$rc

deps:
	@tests/install-deps.sh

# No two files of plugin/ call each other, directly or around a loop, and
# no call goes against the folder direction (tests/tools/layers.sh).
layers: all
	@tests/tools/layers.sh $(BUILD)

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
$(BUILD)/bench/%: tests/bench/%.c $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_INC) $(ALL_CFLAGS) $(DEPFLAGS) -o $@ $< $(CORE_LIB) $(NETLIBS) -lpthread
bench: deps $(BENCH_BIN)
	@tests/bench/bench.sh $(BUILD)
# collectd's VmRSS from read 100 to read READS (default 10000) with 1k
# services in both backends and families (tests/bench/rss-over-time.sh;
# SERVICES, INTERVAL, LIMIT_KIB; about half an hour on 2 busy cores).
.PHONY: bench-memory
bench-memory: deps plugin
	@bash tests/bench/rss-over-time.sh $(BUILD)

# ---- demo -----------------------------------------------------------------------
# On a fresh Debian 12 machine, as root: installs the packages, builds, runs
# collectd with the plugin against a demo namespace (tests/demo.sh).
demo:
	@bash tests/demo.sh $(BUILD)

# ---- fuzzing -------------------------------------------------------------------
# libFuzzer targets (tests/fuzz/fuzz_*.c), clang with ASan+UBSan. The core is
# rebuilt from source with coverage instrumentation in $(BUILD)/fuzzcore (not
# the gcc archive). `make fuzz` runs each target FUZZ_SECONDS (default 60)
# or until FUZZ_RUNS executions (when set; FUZZ_CAMPAIGN=N: until each
# target's campaign ledger holds N), FUZZ_JOBS targets at a time
# (FUZZ_TARGETS: which, in that order; default all),
# inputs up to FUZZ_MAX_LEN bytes; `make fuzz-smoke` about 10 s each, two at
# a time. tests/fuzz/run.sh replays tests/fuzz/regress/ first and prints
# "fuzz: N passed, N failed". The long run: docs/fuzzing.md.
FUZZ_SECONDS ?= 60
FUZZ_RUNS    ?=
FUZZ_CAMPAIGN ?=
FUZZ_JOBS    ?= 1
FUZZ_MAX_LEN ?= 65536
FUZZ_TARGETS ?=
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN     := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
FUZZ_CORE    := $(BUILD)/fuzzcore/libkpcore.a

fuzz-core:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/fuzzcore CC=clang OPT="-O1 -g" \
	  CFLAGS="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" core

$(BUILD)/fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) fuzz-core
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) $(ALL_INC) $(DEPFLAGS) $(CSTD) $(WARN) -O1 -g -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< \
	  $(FUZZ_CORE) $(NETLIBS) -lpthread

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	@FUZZ_RUNS='$(FUZZ_RUNS)' FUZZ_CAMPAIGN='$(FUZZ_CAMPAIGN)' FUZZ_JOBS='$(FUZZ_JOBS)' FUZZ_MAX_LEN='$(FUZZ_MAX_LEN)' \
	  tests/fuzz/run.sh $(BUILD)/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	@FUZZ_CORPUS=fresh FUZZ_JOBS=2 tests/fuzz/run.sh $(BUILD)/fuzz 10

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
