# Packaging (included by the top Makefile): the default configuration, man
# pages, systemd units, and `make deb`. docs/PACKAGING.md explains where
# everything goes and what the maintainer scripts do.
#
#   make install                 also installs everything below
#   make deb                     dpkg-buildpackage -us -uc -b of debian/; the .debs
#                                are copied to build/deb/

sysusersdir ?= $(prefix)/lib/sysusers.d
tmpfilesdir ?= $(prefix)/lib/tmpfiles.d
man1dir     ?= $(mandir)/man1
man5dir     ?= $(mandir)/man5

MAN1 := docs/man/revocheck.1
MAN5 := docs/man/revocheck.conf.5

INSTALL_TARGETS += install-dist
UNINSTALL_TARGETS += uninstall-dist

.PHONY: install-dist uninstall-dist deb

# The configuration is the administrator's once installed: an existing
# file is never overwritten (dpkg treats it as a conffile the same way).
# The unit names the installed binary, wherever bindir is.
install-dist:
	install -d $(DESTDIR)$(sysconfdir)/revocheck $(DESTDIR)$(man1dir) $(DESTDIR)$(man5dir) \
		$(DESTDIR)$(unitdir) $(DESTDIR)$(sysusersdir) $(DESTDIR)$(tmpfilesdir)
	@if [ -e $(DESTDIR)$(sysconfdir)/revocheck/config.toml ]; then \
		echo "keeping the existing $(DESTDIR)$(sysconfdir)/revocheck/config.toml"; \
	else \
		echo "install -m 0644 dist/config.toml $(DESTDIR)$(sysconfdir)/revocheck/config.toml"; \
		install -m 0644 dist/config.toml $(DESTDIR)$(sysconfdir)/revocheck/config.toml; \
	fi
	install -m 0644 $(MAN1) $(DESTDIR)$(man1dir)/
	install -m 0644 $(MAN5) $(DESTDIR)$(man5dir)/
	sed -e 's|^ExecStart=/usr/bin/revocheck|ExecStart=$(bindir)/revocheck|' \
		dist/systemd/revocheck-fetch.service > $(DESTDIR)$(unitdir)/revocheck-fetch.service
	chmod 0644 $(DESTDIR)$(unitdir)/revocheck-fetch.service
	install -m 0644 dist/systemd/revocheck-fetch.timer $(DESTDIR)$(unitdir)/revocheck-fetch.timer
	sed -e 's|^ExecStart=/usr/bin/revocheck|ExecStart=$(bindir)/revocheck|' \
		dist/systemd/revocheck-checkd.service > $(DESTDIR)$(unitdir)/revocheck-checkd.service
	chmod 0644 $(DESTDIR)$(unitdir)/revocheck-checkd.service
	install -m 0644 dist/systemd/revocheck-checkd.socket $(DESTDIR)$(unitdir)/revocheck-checkd.socket
	install -m 0644 dist/systemd/revocheck-sysusers.conf $(DESTDIR)$(sysusersdir)/revocheck.conf
	install -m 0644 dist/systemd/revocheck-tmpfiles.conf $(DESTDIR)$(tmpfilesdir)/revocheck.conf

# The configuration stays (like a dpkg conffile until purge).
uninstall-dist:
	rm -f $(DESTDIR)$(man1dir)/revocheck.1 $(DESTDIR)$(man5dir)/revocheck.conf.5 \
		$(DESTDIR)$(unitdir)/revocheck-fetch.service $(DESTDIR)$(unitdir)/revocheck-fetch.timer \
		$(DESTDIR)$(unitdir)/revocheck-checkd.service $(DESTDIR)$(unitdir)/revocheck-checkd.socket \
		$(DESTDIR)$(sysusersdir)/revocheck.conf $(DESTDIR)$(tmpfilesdir)/revocheck.conf

# The Debian source package (debian/) is the one way a .deb is made;
# dpkg-buildpackage writes to the parent directory, so they are moved here.
deb:
	dpkg-buildpackage -us -uc -b
	@mkdir -p $(BUILD)/deb
	mv ../revocheck_$(VERSION)_*.deb ../revocheck-dbgsym_$(VERSION)_*.deb ../librevocheck-dev_$(VERSION)_*.deb \
		../revocheck_$(VERSION)_*.buildinfo ../revocheck_$(VERSION)_*.changes $(BUILD)/deb/
	@ls -l $(BUILD)/deb
