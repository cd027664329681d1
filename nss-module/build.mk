# NSS PKCS#11 trust module: build/lib/libnssrevocheck.so (included by the top
# Makefile).
#
# The module installs into $(libdir)/pkcs11 (Debian's p11-kit module path);
# the p11-kit module file is installed with that absolute path filled in.
# Register the module in an NSS database with modutil (docs/NSS.md).
# The test drivers build/test/curl-nss-driver and build/test/nss-module-test
# are built by `make test-drivers` (and so `make test`) only, never by `make`:
# curl-nss-driver needs libcurl's headers, which the product does not.

NSS_CFLAGS      ?= $(shell pkg-config --cflags nss 2>/dev/null || echo -I/usr/include/nss -I/usr/include/nspr)
PKCS11_MODDIR   ?= $(libdir)/pkcs11
P11KIT_MODCONFDIR ?= $(prefix)/share/p11-kit/modules

NSSRC_SRCS := nss-module/state.c nss-module/module.c nss-module/objects.c nss-module/params.c \
	nss-module/unsupported.c nss-module/functions.c \
	adapters-common/rc_loader.c adapters-common/rc_daemon.c adapters-common/rc_helper.c
NSSRC_HDRS := nss-module/nssrc.h nss-module/nssrc_functions.h adapters-common/rc_loader.h adapters-common/rc_daemon.h adapters-common/rc_protocol.h go-shim/revocheck.h
NSSRC_MAP  := nss-module/nssrevocheck.map

ADAPTERS += $(BUILD)/lib/libnssrevocheck.so
TEST_DRIVERS += $(BUILD)/test/curl-nss-driver $(BUILD)/test/nss-module-test
INSTALL_TARGETS += install-nss-module
UNINSTALL_TARGETS += uninstall-nss-module

.PHONY: nss-module install-nss-module uninstall-nss-module

nss-module: $(BUILD)/lib/libnssrevocheck.so

# Headers only from NSS: the module links nothing of NSS (NSS loads it).
# -z nodelete: NSS dlcloses modules on C_Finalize, but our (and rc_loader's)
# pthread_atfork handlers stay registered for the life of the process.
$(BUILD)/lib/libnssrevocheck.so: $(NSSRC_SRCS) $(NSSRC_HDRS) $(NSSRC_MAP) VERSION $(BUILD_PATHS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(CWARN) $(CSHARED) $(NSS_CFLAGS) -Iadapters-common -Igo-shim -shared \
		-Wl,--version-script=$(NSSRC_MAP) -Wl,-z,nodelete -Wl,-z,defs \
		$(LDFLAGS) -o $@ $(NSSRC_SRCS) -ldl -lpthread

# libcurl's NSS back end (libcurl3-nss) is opened with dlopen, so the driver
# builds even where that back end is not installed; it does need curl's
# headers (libcurl4-openssl-dev) for the API's types and constants.
$(BUILD)/test/curl-nss-driver: integration/cdrivers/curl_nss.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(CWARN) -D_GNU_SOURCE $(LDFLAGS) -o $@ $< -ldl

# C-level conformance driver (run by integration/nsspkcs11_test.go).
$(BUILD)/test/nss-module-test: nss-module/test_module.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(CWARN) -D_GNU_SOURCE $(NSS_CFLAGS) $(LDFLAGS) -o $@ $< -ldl

install-nss-module: $(BUILD)/lib/libnssrevocheck.so
	install -d $(DESTDIR)$(PKCS11_MODDIR) $(DESTDIR)$(P11KIT_MODCONFDIR)
	install -m 0644 $(BUILD)/lib/libnssrevocheck.so $(DESTDIR)$(PKCS11_MODDIR)/libnssrevocheck.so
	sed -e 's|^module: .*|module: $(PKCS11_MODDIR)/libnssrevocheck.so|' \
		nss-module/revocheck.module > $(DESTDIR)$(P11KIT_MODCONFDIR)/revocheck.module
	chmod 0644 $(DESTDIR)$(P11KIT_MODCONFDIR)/revocheck.module

uninstall-nss-module:
	rm -f $(DESTDIR)$(PKCS11_MODDIR)/libnssrevocheck.so $(DESTDIR)$(P11KIT_MODCONFDIR)/revocheck.module
