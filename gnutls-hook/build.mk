# GnuTLS verify hook (included by the top Makefile).
#
#   build/lib/librevocheck-gnutls.so      the preload library (LD_PRELOAD or
#                                         /etc/ld.so.preload); links libc only
#   build/lib/librevocheck-gnutls-api.so  the explicit opt-in API
#                                         (revocheck-gnutls.h); links libgnutls
#   build/lib/pkgconfig/revocheck-gnutls.pc  its pkg-config file
#   build/test/gnutls-verify-driver       test driver (direct GnuTLS calls, fork)
#   build/test/curl-gnutls-driver         test driver (libcurl's GnuTLS back end;
#                                         needs libcurl's headers)
# The test drivers are built by `make test-drivers` (and `make test`) only.

GNUTLS_HOOK_COMMON := gnutls-hook/gh_check.c adapters-common/rc_loader.c adapters-common/rc_daemon.c adapters-common/rc_helper.c
GNUTLS_HOOK_HDRS   := gnutls-hook/gh_check.h adapters-common/rc_loader.h adapters-common/rc_daemon.h adapters-common/rc_protocol.h go-shim/revocheck.h
GNUTLS_API_SONAME  := librevocheck-gnutls-api.so.0
# libcurl3-gnutls ships no development symlink: link its runtime file.
CURL_GNUTLS_SO     ?= $(shell $(CC) -print-file-name=libcurl-gnutls.so.4)

ADAPTERS += $(BUILD)/lib/librevocheck-gnutls.so $(BUILD)/lib/librevocheck-gnutls-api.so \
	$(BUILD)/include/revocheck-gnutls.h $(BUILD)/lib/pkgconfig/revocheck-gnutls.pc
TEST_DRIVERS += $(BUILD)/test/gnutls-verify-driver $(BUILD)/test/curl-gnutls-driver
INSTALL_TARGETS += install-gnutls
UNINSTALL_TARGETS += uninstall-gnutls

.PHONY: gnutls-hook gnutls-hook-test install-gnutls uninstall-gnutls

gnutls-hook: $(BUILD)/lib/librevocheck-gnutls.so $(BUILD)/lib/librevocheck-gnutls-api.so \
	$(BUILD)/include/revocheck-gnutls.h
gnutls-hook-test: gnutls-hook $(BUILD)/test/gnutls-verify-driver $(BUILD)/test/curl-gnutls-driver

# -z defs with only libc/libdl/libpthread on the command line: any direct
# reference to a GnuTLS function fails the link, so the preload library can
# never grow a DT_NEEDED on libgnutls (it would load GnuTLS into every
# process of the system). --as-needed drops the empty libdl/libpthread stubs.
$(BUILD)/lib/librevocheck-gnutls.so: gnutls-hook/preload.c gnutls-hook/gh_complete.c adapters-common/rc_der.h \
		$(GNUTLS_HOOK_COMMON) $(GNUTLS_HOOK_HDRS) \
		gnutls-hook/revocheck-gnutls.map VERSION $(BUILD_PATHS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(CWARN) $(CSHARED) -Iadapters-common -Igo-shim -shared \
		-Wl,-soname,librevocheck-gnutls.so -Wl,--version-script=gnutls-hook/revocheck-gnutls.map \
		-Wl,-z,defs -Wl,--as-needed $(LDFLAGS) -o $@ gnutls-hook/preload.c gnutls-hook/gh_complete.c $(GNUTLS_HOOK_COMMON) -ldl -lpthread

$(BUILD)/lib/librevocheck-gnutls-api.so: gnutls-hook/api.c gnutls-hook/revocheck-gnutls.h $(GNUTLS_HOOK_COMMON) \
		$(GNUTLS_HOOK_HDRS) gnutls-hook/revocheck-gnutls-api.map VERSION $(BUILD_PATHS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(CWARN) $(CSHARED) -Iadapters-common -Igo-shim -Ignutls-hook -shared \
		-Wl,-soname,$(GNUTLS_API_SONAME) -Wl,--version-script=gnutls-hook/revocheck-gnutls-api.map \
		-Wl,-z,defs -Wl,--as-needed $(LDFLAGS) -o $@ gnutls-hook/api.c $(GNUTLS_HOOK_COMMON) -lgnutls -ldl -lpthread
	@ln -sf librevocheck-gnutls-api.so $(BUILD)/lib/$(GNUTLS_API_SONAME)

$(BUILD)/include/revocheck-gnutls.h: gnutls-hook/revocheck-gnutls.h
	@mkdir -p $(@D)
	cp $< $@

# pkg-config for the API library, like revocheck.pc for librevocheck.
GNUTLS_PC_SED := -e 's|@PREFIX@|$(prefix)|' -e 's|@LIBDIR@|$(libdir)|' -e 's|@INCLUDEDIR@|$(includedir)|' \
	-e 's|@VERSION@|$(VERSION)|'
$(BUILD)/lib/pkgconfig/revocheck-gnutls.pc: gnutls-hook/revocheck-gnutls.pc.in VERSION $(BUILD_PATHS)
	@mkdir -p $(@D)
	sed $(GNUTLS_PC_SED) $< > $@

$(BUILD)/test/gnutls-verify-driver: gnutls-hook/test/verify_driver.c gnutls-hook/revocheck-gnutls.h \
		$(BUILD)/lib/librevocheck-gnutls-api.so
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(CWARN) -D_GNU_SOURCE -Ignutls-hook $(LDFLAGS) -o $@ gnutls-hook/test/verify_driver.c \
		-L$(BUILD)/lib -lrevocheck-gnutls-api -Wl,-rpath,'$$ORIGIN/../lib' -lgnutls

$(BUILD)/test/curl-gnutls-driver: integration/cdrivers/curl_gnutls.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(CWARN) -D_GNU_SOURCE $(LDFLAGS) -o $@ $< $(CURL_GNUTLS_SO)

# The preload library is only installed; putting it in /etc/ld.so.preload
# is an administrator's decision (see gnutls-hook/README.md).
install-gnutls: $(BUILD)/lib/librevocheck-gnutls.so $(BUILD)/lib/librevocheck-gnutls-api.so
	install -d $(DESTDIR)$(libdir) $(DESTDIR)$(includedir)
	install -m 0644 $(BUILD)/lib/librevocheck-gnutls.so $(DESTDIR)$(libdir)/librevocheck-gnutls.so
	install -m 0644 $(BUILD)/lib/librevocheck-gnutls-api.so $(DESTDIR)$(libdir)/$(GNUTLS_API_SONAME)
	ln -sf $(GNUTLS_API_SONAME) $(DESTDIR)$(libdir)/librevocheck-gnutls-api.so
	install -m 0644 gnutls-hook/revocheck-gnutls.h $(DESTDIR)$(includedir)/revocheck-gnutls.h
	install -d $(DESTDIR)$(pkgconfigdir)
	sed $(GNUTLS_PC_SED) gnutls-hook/revocheck-gnutls.pc.in > $(DESTDIR)$(pkgconfigdir)/revocheck-gnutls.pc
	chmod 0644 $(DESTDIR)$(pkgconfigdir)/revocheck-gnutls.pc

uninstall-gnutls:
	rm -f $(DESTDIR)$(libdir)/librevocheck-gnutls.so $(DESTDIR)$(libdir)/$(GNUTLS_API_SONAME) \
		$(DESTDIR)$(libdir)/librevocheck-gnutls-api.so $(DESTDIR)$(includedir)/revocheck-gnutls.h \
		$(DESTDIR)$(pkgconfigdir)/revocheck-gnutls.pc
