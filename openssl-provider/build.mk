# OpenSSL 3 provider: build/lib/revocheck-openssl.so (included by the top Makefile).
#
# The module goes into OpenSSL's MODULESDIR, so that openssl.cnf can name it
# relatively (module = revocheck-openssl.so); the config snippet goes next to
# openssl.cnf. Override OSSL_MODULESDIR / OSSL_CONFDIR for other layouts.

OSSL_MODULESDIR ?= $(shell pkg-config --variable=modulesdir libcrypto 2>/dev/null || echo $(libdir)/ossl-modules)
OSSL_CONFDIR    ?= $(sysconfdir)/ssl

OSSL_PROV_SRCS := openssl-provider/provider.c openssl-provider/hook.c openssl-provider/complete.c adapters-common/rc_loader.c adapters-common/rc_daemon.c adapters-common/rc_helper.c
OSSL_PROV_HDRS := openssl-provider/rcossl.h adapters-common/rc_keys.h adapters-common/rc_loader.h adapters-common/rc_daemon.h adapters-common/rc_protocol.h go-shim/revocheck.h
OSSL_PROV_MAP  := openssl-provider/revocheck-openssl.map

ADAPTERS += $(BUILD)/lib/revocheck-openssl.so
INSTALL_TARGETS += install-openssl
UNINSTALL_TARGETS += uninstall-openssl

.PHONY: openssl-provider install-openssl uninstall-openssl

openssl-provider: $(BUILD)/lib/revocheck-openssl.so

# -z nodelete: OpenSSL dlcloses provider modules, but our ex_data callback
# and the verify wrapper stay registered in libcrypto for the process's life.
# -z defs: every symbol resolved at link time (libcrypto, libdl, pthread).
$(BUILD)/lib/revocheck-openssl.so: $(OSSL_PROV_SRCS) $(OSSL_PROV_HDRS) $(OSSL_PROV_MAP) VERSION $(BUILD_PATHS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(CWARN) $(CSHARED) -Iadapters-common -Igo-shim -shared \
		-Wl,--version-script=$(OSSL_PROV_MAP) -Wl,-z,nodelete -Wl,-z,defs \
		$(LDFLAGS) -o $@ $(OSSL_PROV_SRCS) -lcrypto -ldl -lpthread

# The snippet is installed with the installed library's path filled in, so
# the provider finds librevocheck.so.0 whatever the loader's search path is.
install-openssl: $(BUILD)/lib/revocheck-openssl.so
	install -d $(DESTDIR)$(OSSL_MODULESDIR) $(DESTDIR)$(OSSL_CONFDIR)
	install -m 0644 $(BUILD)/lib/revocheck-openssl.so $(DESTDIR)$(OSSL_MODULESDIR)/revocheck-openssl.so
	sed -e 's|^# *library = .*|library = $(libdir)/librevocheck.so.0|' \
		openssl-provider/revocheck-openssl.cnf > $(DESTDIR)$(OSSL_CONFDIR)/revocheck-openssl.cnf
	chmod 0644 $(DESTDIR)$(OSSL_CONFDIR)/revocheck-openssl.cnf

uninstall-openssl:
	rm -f $(DESTDIR)$(OSSL_MODULESDIR)/revocheck-openssl.so $(DESTDIR)$(OSSL_CONFDIR)/revocheck-openssl.cnf
