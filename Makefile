# revocheck — build, test and install.
# Directory variables follow the GNU conventions (set with ?=, DESTDIR only in
# install rules); LIBDIR may be a Debian multiarch path.

VERSION     := $(shell cat VERSION)
PREFIX      ?= /usr/local
prefix      ?= $(PREFIX)
exec_prefix ?= $(prefix)
bindir      ?= $(exec_prefix)/bin
LIBDIR      ?= $(exec_prefix)/lib
libdir      ?= $(LIBDIR)
includedir  ?= $(prefix)/include
pkgconfigdir ?= $(libdir)/pkgconfig
sysconfdir  ?= /etc
mandir      ?= $(prefix)/share/man
unitdir     ?= $(prefix)/lib/systemd/system

BUILD   := build
GO      ?= go
CC      ?= cc
CFLAGS  ?= -O2 -g
# Every C adapter is built with these; warnings are errors.
CWARN   := -std=c11 -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes
# Reproducible: the same commit gives the same bytes wherever it is built
# (make repro-check). No source directory in debug info (-ffile-prefix-map;
# -trimpath for Go), no Go build ID (-buildid=), no VCS stamp (a tarball and
# a clone build alike), no timestamps anywhere.
CREPRO  := -ffile-prefix-map=$(CURDIR)=.
# REVOCHECK_LIBDIR: where librevocheck.so.0 is installed; REVOCHECK_BINDIR:
# where a forked child finds `revocheck` for its helper process
# (adapters-common/rc_helper.c).
CSHARED := -fPIC -fvisibility=hidden -D_GNU_SOURCE -DREVOCHECK_VERSION='"$(VERSION)"' \
	-DREVOCHECK_LIBDIR='"$(libdir)"' -DREVOCHECK_BINDIR='"$(bindir)"' -I$(BUILD)/include $(CREPRO)
GOFLAGS_BUILD := -trimpath -buildvcs=false
# Paths decided at build time (core/paths; REVOCHECK_LIBDIR in C): the
# installed code knows where its libraries are instead of guessing.
GOLDFLAGS := -buildid= -X github.com/revocheck/revocheck/core/version.Version=$(VERSION) \
	-X 'github.com/revocheck/revocheck/core/paths.LibDir=$(libdir)'
# A packager's flags: CPPFLAGS, CFLAGS and LDFLAGS reach every C compile and
# link (LDFLAGS also the Go shared library's external link); CGO_CFLAGS,
# CGO_CPPFLAGS and CGO_LDFLAGS reach cgo. Exported only when set: an empty
# CGO_CFLAGS would drop Go's default -O2 -g.
CPPFLAGS ?=
LDFLAGS  ?=
$(foreach v,CGO_CFLAGS CGO_CPPFLAGS CGO_LDFLAGS,$(if $(filter undefined,$(origin $(v))),,$(eval export $(v))))

ADAPTERS :=
# Test-only programs (build/test/*): built by test-drivers, never by all.
TEST_DRIVERS :=

.PHONY: all go-bin go-lib adapters test-drivers hardening-check repro-check vendor test check peer-test go-test vet fuzz demo deps install uninstall install-core uninstall-core docker-test clean FORCE

all: go-bin go-lib adapters

go-bin: $(BUILD)/bin/revocheck
go-lib: $(BUILD)/lib/librevocheck.so $(BUILD)/include/revocheck.h $(BUILD)/lib/pkgconfig/revocheck.pc

# Go decides what is stale; always ask it. The program is linked like the
# libraries (PIE, by the C linker with LDFLAGS): relro/now and a GNU build
# ID for debug symbols, as a distribution expects.
$(BUILD)/bin/revocheck: FORCE
	@mkdir -p $(@D)
	$(GO) build $(GOFLAGS_BUILD) -buildmode=pie -ldflags "$(GOLDFLAGS) -linkmode=external -extldflags '$(LDFLAGS)'" \
		-o $@ ./cmd/revocheck

$(BUILD)/lib/librevocheck.so: FORCE
	@mkdir -p $(@D)
	$(GO) build $(GOFLAGS_BUILD) -buildmode=c-shared \
		-ldflags "$(GOLDFLAGS) -extldflags '-Wl,-soname,librevocheck.so.0 -Wl,--version-script=$(CURDIR)/go-shim/librevocheck.map $(LDFLAGS)'" \
		-o $@ ./go-shim
	@rm -f $(BUILD)/lib/librevocheck.h
	@ln -sf librevocheck.so $(BUILD)/lib/librevocheck.so.0

$(BUILD)/include/revocheck.h: go-shim/revocheck.h
	@mkdir -p $(@D)
	cp $< $@

$(BUILD)/lib/pkgconfig/revocheck.pc: go-shim/revocheck.pc.in VERSION
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(prefix)|' -e 's|@LIBDIR@|$(libdir)|' -e 's|@INCLUDEDIR@|$(includedir)|' \
		-e 's|@VERSION@|$(VERSION)|' $< > $@

# What compiles a path in is rebuilt when the path changes (`make`, then
# `make install LIBDIR=...`): this file changes only when a value does.
BUILD_PATHS := $(BUILD)/.paths
$(BUILD_PATHS): FORCE
	@mkdir -p $(@D)
	@printf 'libdir=$(libdir)\nbindir=$(bindir)\n' | cmp -s - $@ || printf 'libdir=$(libdir)\nbindir=$(bindir)\n' > $@

# Each adapter adds its artifacts to ADAPTERS and its rules here.
include $(wildcard openssl-provider/build.mk nss-module/build.mk gnutls-hook/build.mk packaging/build.mk)

adapters: $(ADAPTERS)

# The C drivers the integration tests run; they need the test-only headers
# (libcurl4-openssl-dev), which `make` alone does not.
test-drivers: $(TEST_DRIVERS)

# install/uninstall mirror each other; DESTDIR appears only here.
install: all install-core $(INSTALL_TARGETS)
uninstall: uninstall-core $(UNINSTALL_TARGETS)

install-core:
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(libdir) $(DESTDIR)$(includedir) $(DESTDIR)$(pkgconfigdir)
	install -m 0755 $(BUILD)/bin/revocheck $(DESTDIR)$(bindir)/revocheck
	install -m 0755 $(BUILD)/lib/librevocheck.so $(DESTDIR)$(libdir)/librevocheck.so.0
	ln -sf librevocheck.so.0 $(DESTDIR)$(libdir)/librevocheck.so
	install -m 0644 go-shim/revocheck.h $(DESTDIR)$(includedir)/revocheck.h
	sed -e 's|@PREFIX@|$(prefix)|' -e 's|@LIBDIR@|$(libdir)|' -e 's|@INCLUDEDIR@|$(includedir)|' \
		-e 's|@VERSION@|$(VERSION)|' go-shim/revocheck.pc.in > $(DESTDIR)$(pkgconfigdir)/revocheck.pc

uninstall-core:
	rm -f $(DESTDIR)$(bindir)/revocheck $(DESTDIR)$(libdir)/librevocheck.so.0 $(DESTDIR)$(libdir)/librevocheck.so \
		$(DESTDIR)$(includedir)/revocheck.h $(DESTDIR)$(pkgconfigdir)/revocheck.pc

deps:
	@scripts/deps.sh

# Under make test a missing client, library, tool or Docker engine fails the
# test with the apt-get command that installs it (harness.Require); set
# REVOCHECK_REQUIRE_ALL=0 to let such tests skip instead (they are counted).
REVOCHECK_REQUIRE_ALL ?= 1

GO_TEST_CMD := REVOCHECK_REQUIRE_ALL=$(REVOCHECK_REQUIRE_ALL) REVOCHECK_BUILD=$(CURDIR)/$(BUILD) \
	$(GO) test -json -count=1 -timeout 40m ./...
DOCKER_TEST_CMD := REVOCHECK_REQUIRE_ALL=$(REVOCHECK_REQUIRE_ALL) docker/run-tests.sh
TESTSUMMARY := $(BUILD)/test/testsummary

# make test: every test — Go unit tests (fuzz seeds included), the C ABI test,
# the integration tests with real clients, and the Docker tests. Every client
# and the Docker engine are required (REVOCHECK_REQUIRE_ALL above).
# One summary for both: failed tests' output, one line per skipped test, and
# the closing line "N passed, N failed, N skipped" (scripts/testsummary).
test: deps all vet test-drivers $(TESTSUMMARY)
	$(TESTSUMMARY) -run '$(GO_TEST_CMD)' -run scripts/check-hardening.sh -run '$(DOCKER_TEST_CMD)'

# A packager's -z now / -z relro reach every shipped .so (a scratch build).
hardening-check:
	@scripts/check-hardening.sh

# Offline builds: copy every Go module into vendor/ (not committed); with it
# present, GOFLAGS=-mod=vendor GOPROXY=off make needs no network.
vendor:
	$(GO) mod vendor

# Two clean builds of HEAD in different directories are byte-identical.
repro-check:
	@scripts/repro-check.sh

check: test

vet:
	$(GO) vet ./...

go-test: all test-drivers $(TESTSUMMARY)
	$(TESTSUMMARY) -run '$(GO_TEST_CMD)'

docker-test: all
	$(DOCKER_TEST_CMD)

# The stacks' own suites (Debian's curl, GnuTLS, OpenSSL) with and without
# the adapters; hours, so never part of test (docs/PEER-TEST.md).
# Options: make peer-test PEER_TEST_ARGS='--only curl -j2'.
peer-test: all
	scripts/peer-test.sh $(PEER_TEST_ARGS)

$(TESTSUMMARY): FORCE
	@mkdir -p $(@D)
	$(GO) build -trimpath -o $@ ./scripts/testsummary

# make fuzz FUZZTIME=3m runs every fuzz target for FUZZTIME each.
FUZZTIME ?= 30s
fuzz:
	@scripts/fuzz-all.sh $(FUZZTIME)

# The README's first command: builds everything, makes a local PKI and cache,
# starts local TLS servers and shows real clients refusing the revoked one.
demo: deps all
	@scripts/demo.sh

clean:
	rm -rf $(BUILD)

FORCE:

# Development tool for the demo and manual tests (not installed).
go-bin: $(BUILD)/bin/revocheck-testsites
$(BUILD)/bin/revocheck-testsites: FORCE
	@mkdir -p $(@D)
	$(GO) build $(GOFLAGS_BUILD) -ldflags "-buildid=" -o $@ ./integration/cmd/testsites
