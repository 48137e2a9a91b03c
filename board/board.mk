# board/board.mk — board support, included at the end of the Makefile:
#
#   make deps-aarch64        host packages and the arm64 sysroot for the cross build
#   make TARGET=aarch64      cross-compile (board/target.mk has the settings)
#   make TARGET=aarch64 unit the unit tests for arm64 under qemu-aarch64
#   make install [TARGET=aarch64] [DESTDIR=DIR] [PREFIX=/usr]
#
# See board/README.md.

SYSROOT ?= $(CURDIR)/build-aarch64-sysroot
PREFIX ?= /usr
DESTDIR ?=
STRIP ?= strip

.PHONY: deps-aarch64 check-deps-aarch64 install

# --- make install -------------------------------------------------------------
#
# The firmware as the board runs it (for the host build as well):
#   $(PREFIX)/bin/sohoa
#   $(PREFIX)/lib/<multiarch>/sane/libsane-sohoa.so.1, /etc/sane.d/dll.d/sohoa,
#     /etc/sane.d/sohoa.conf (our virtual scanner; lists no device)
#   /etc/sohoa/sohoa.conf (0640; every setting, commented), an existing one kept
#   $(PREFIX)/share/sohoa/boards/*.conf
#   $(PREFIX)/share/man/man1/sohoa.1, man5/sohoa.conf.5
#   $(PREFIX)/lib/systemd/system/sohoa.service, sohoa-console@.service
#   $(PREFIX)/lib/sysusers.d/sohoa.conf, $(PREFIX)/lib/udev/rules.d/70-sohoa.rules
#   /etc/systemd/timesyncd.conf.d/sohoa.conf (the Debian NTP pool)
# Binaries lose their debugging sections (STRIP; the cross one for the target).
# Units are not enabled here: the image does that (board/image/mkimage.sh).
# When DESTDIR's /etc/group has the sohoa group (systemd-sysusers ran there)
# and we are root, /etc/sohoa and its config go to that group.
MULTIARCH = $(shell $(CC) -print-multiarch)
INSTALL_SANEDIR = $(PREFIX)/lib/$(MULTIARCH)/sane
INSTALL_UNITDIR := $(PREFIX)/lib/systemd/system
INSTALL_MANDIR := $(PREFIX)/share/man
INSTALL_SUBST = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@BINDIR@|$(PREFIX)/bin|g' \
	-e 's|@LIBDIR@|$(PREFIX)/lib/$(MULTIARCH)|g'

install: $(BUILD)/sohoa $(SANE_BACKEND)
	@[ -n "$(MULTIARCH)" ] || { echo "sohoa: '$(CC) -print-multiarch' says nothing"; exit 1; }
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(INSTALL_SANEDIR) $(DESTDIR)/etc/sane.d/dll.d \
	  $(DESTDIR)/etc/sohoa $(DESTDIR)$(PREFIX)/share/sohoa/boards $(DESTDIR)$(INSTALL_MANDIR)/man1 \
	  $(DESTDIR)$(INSTALL_MANDIR)/man5 $(DESTDIR)$(INSTALL_UNITDIR) \
	  $(DESTDIR)$(PREFIX)/lib/sysusers.d \
	  $(DESTDIR)$(PREFIX)/lib/udev/rules.d $(DESTDIR)/etc/systemd/timesyncd.conf.d
	install -m 0755 $(BUILD)/sohoa $(DESTDIR)$(PREFIX)/bin/sohoa
	$(STRIP) --strip-debug $(DESTDIR)$(PREFIX)/bin/sohoa
	install -m 0644 $(SANE_BACKEND) $(DESTDIR)$(INSTALL_SANEDIR)/libsane-sohoa.so.1
	$(STRIP) --strip-debug $(DESTDIR)$(INSTALL_SANEDIR)/libsane-sohoa.so.1
	printf '# sohoa: the virtual ADF scanner (drivers/sane_virtual.c)\nsohoa\n' \
	  > $(DESTDIR)/etc/sane.d/dll.d/sohoa
	@[ -e $(DESTDIR)/etc/sane.d/sohoa.conf ] || { set -x; printf '%s\n' \
	  '# sohoa: the virtual ADF scanner (libsane-sohoa). No device is listed, so' \
	  '# real scanners only. For a demo or test, a device and its feeder:' \
	  '#   device virtual0 "Sohoa Virtual ADF"' '#   pages /var/lib/sohoa/feeder' \
	  '#   page_dpi 300' > $(DESTDIR)/etc/sane.d/sohoa.conf; }
	@if [ -e $(DESTDIR)/etc/sohoa/sohoa.conf ]; then \
	  echo "sohoa: keeping $(DESTDIR)/etc/sohoa/sohoa.conf; the default goes to sohoa.conf.dist"; \
	  conf=$(DESTDIR)/etc/sohoa/sohoa.conf.dist; else conf=$(DESTDIR)/etc/sohoa/sohoa.conf; fi; \
	  set -x; $(INSTALL_SUBST) board/sohoa.conf > $$conf.tmp && chmod 0640 $$conf.tmp && \
	  mv $$conf.tmp $$conf
	chmod 0750 $(DESTDIR)/etc/sohoa
	@gid=$$(awk -F: '$$1 == "sohoa" { print $$3 }' $(DESTDIR)/etc/group 2>/dev/null); \
	  if [ -n "$$gid" ] && [ "$$(id -u)" = 0 ]; then set -x; \
	  chgrp -R "$$gid" $(DESTDIR)/etc/sohoa; fi
	install -m 0644 board/boards/*.conf $(DESTDIR)$(PREFIX)/share/sohoa/boards/
	install -m 0644 board/man/sohoa.1 $(DESTDIR)$(INSTALL_MANDIR)/man1/sohoa.1
	install -m 0644 board/man/sohoa.conf.5 $(DESTDIR)$(INSTALL_MANDIR)/man5/sohoa.conf.5
	for u in sohoa.service sohoa-console@.service; do \
	  $(INSTALL_SUBST) board/systemd/$$u > $(DESTDIR)$(INSTALL_UNITDIR)/$$u && \
	  chmod 0644 $(DESTDIR)$(INSTALL_UNITDIR)/$$u || exit 1; done
	install -m 0644 board/sysusers/sohoa.conf $(DESTDIR)$(PREFIX)/lib/sysusers.d/sohoa.conf
	install -m 0644 board/udev/70-sohoa.rules $(DESTDIR)$(PREFIX)/lib/udev/rules.d/70-sohoa.rules
	install -m 0644 board/systemd/timesyncd-sohoa.conf \
	  $(DESTDIR)/etc/systemd/timesyncd.conf.d/sohoa.conf

# --- the arm64 sysroot ------------------------------------------------------

# What the cross build links (the PKGS, TEST_PKGS and FIXTURE_PKGS of the
# Makefile) and what the unit tests need at run time for arm64: SoftHSM2's
# module, libsane's test and pnm backends (in libsane1) and scanimage,
# umockdev's preload library, and Tesseract's data (arch-independent).
SYSROOT_PKGS := libc6-dev libleptonica-dev libtesseract-dev libtiff-dev libjpeg-dev libpng-dev \
	zlib1g-dev libjansson-dev libunistring-dev libssl-dev libcurl4-openssl-dev libsqlite3-dev \
	libxml2-dev libusb-1.0-0-dev libgpiod-dev libedit-dev libp11-kit-dev libsane-dev \
	libcmocka-dev libharfbuzz-dev libqpdf-dev libumockdev-dev libcairo2-dev libpango1.0-dev \
	libsofthsm2 sane-utils umockdev tesseract-ocr-vie tesseract-ocr-eng tesseract-ocr-osd
SYSROOT_SUITE := bookworm
SYSROOT_MIRRORS := "deb http://deb.debian.org/debian bookworm main" \
	"deb http://deb.debian.org/debian bookworm-updates main" \
	"deb http://deb.debian.org/debian-security bookworm-security main"
# Bump when SYSROOT_PKGS changes: a sysroot without this stamp is made again.
SYSROOT_STAMP := $(SYSROOT)/.sohoa-sysroot-1.mk
# Host side: the cross compiler, mmdebstrap, qemu-user (binfmt, so that the
# tests' child processes run too) and everything `make deps` installs (the
# tests run the host's softhsm2-util, openssl, qpdf ... through system()).
CROSS_DEB_PACKAGES := crossbuild-essential-arm64 mmdebstrap qemu-user-static binfmt-support \
	$(DEB_PACKAGES)

deps-aarch64:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$SUDO apt-get update -q && \
	$$SUDO apt-get install -y -q --no-install-recommends $(CROSS_DEB_PACKAGES) && \
	{ [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || $$SUDO update-binfmts --enable qemu-aarch64 \
	  || echo "sohoa: qemu-aarch64 is not registered with binfmt_misc; tests that start" \
	          "arm64 child processes will fail"; }
	@[ -f $(SYSROOT_STAMP) ] || $(MAKE) --no-print-directory sysroot-aarch64

# mmdebstrap's extract variant unpacks the packages and their dependencies
# without running maintainer scripts, so no emulation is needed to make it.
# Afterwards: absolute symlinks (libz.so -> /lib/...) are made relative so
# that the linker resolves them inside the sysroot, and dev/ and tmp/ go, as
# qemu -L would otherwise serve the sysroot's /dev and /tmp to the tests.
.PHONY: sysroot-aarch64
sysroot-aarch64:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	rm -rf $(SYSROOT).new && mkdir -p $(SYSROOT).new && \
	echo "sohoa: making the arm64 sysroot $(SYSROOT) with mmdebstrap" && \
	$$SUDO mmdebstrap --quiet --variant=extract --architectures=arm64 \
	  --include="$$(echo $(SYSROOT_PKGS) | tr ' ' ,)" $(SYSROOT_SUITE) $(SYSROOT).new \
	  $(SYSROOT_MIRRORS) && \
	$$SUDO chown -R "$$(id -u):$$(id -g)" $(SYSROOT).new && \
	rm -rf $(SYSROOT).new/dev $(SYSROOT).new/tmp && \
	cd $(SYSROOT).new && find . -type l -lname '/*' | while read -r l; do \
	  t=$$(readlink "$$l"); d=$$(dirname "$${l#./}"); \
	  [ "$$d" = . ] || d=$$(echo "$$d" | sed 's|[^/][^/]*|..|g'); \
	  ln -sfn "$$d$$t" "$$l"; done && cd $(CURDIR) && \
	echo "# arm64 sysroot for the cross build, made by board/board.mk" \
	  > $(SYSROOT_STAMP:$(SYSROOT)%=$(SYSROOT).new%) && \
	rm -rf $(SYSROOT) && mv $(SYSROOT).new $(SYSROOT)

ifeq ($(TARGET),aarch64)
# The stamp is a makefile so that make makes the sysroot first and then reads
# the Makefile again: PKG_CFLAGS and PKG_LIBS need the sysroot's .pc files.
-include $(SYSROOT_STAMP)
$(SYSROOT_STAMP):
	@echo "sohoa: the arm64 sysroot is missing; running 'make deps-aarch64'"
	@$(MAKE) --no-print-directory TARGET= deps-aarch64

# Every cross-compiled object depends on check-deps (Makefile); this checks
# the host side of the cross build the same way.
check-deps: check-deps-aarch64
check-deps-aarch64:
	@command -v $(TARGET_TRIPLET)-gcc >/dev/null && command -v qemu-aarch64-static >/dev/null \
	  || { echo "sohoa: the cross compiler or qemu-user is missing; running 'make deps-aarch64'"; \
	       $(MAKE) --no-print-directory TARGET= deps-aarch64; }

# `make TARGET=aarch64` builds everything that runs on the board, and the tests.
all: $(SANE_BACKEND) $(UNIT_BINS)

# --- the unit tests under qemu-aarch64 ---------------------------------------
#
# The Makefile's `unit` recipe runs tests/run-unit.sh on $(UNIT_BINS). For the
# target, that list becomes one small script per test, in $(QEMU_DIR), that
# runs the arm64 binary under qemu-aarch64 with the sysroot as its root for
# absolute paths that exist there (-L: the loader, the libraries, SoftHSM2's
# module at /usr/lib/softhsm, libsane's backends, Tesseract's data), or says
# why it is skipped. The prerequisites of `unit` and `all` were expanded
# above with the binaries themselves.
#
# What the tests run through system() is the host's: /bin/sh and the tools
# (softhsm2-util, openssl, qpdf ...) run natively, except three that must
# be arm64, found first in PATH: `cc` and `pkg-config` (test_token compiles
# a PKCS#11 shim that the arm64 process dlopens) and `scanimage` (it loads
# our arm64 SANE backend). Child processes that exec arm64 binaries directly
# (test_scanner re-executes itself) need qemu-aarch64 registered with
# binfmt_misc; QEMU_LD_PREFIX gives them the sysroot too.
QEMU := qemu-aarch64-static
QEMU_DIR := $(BUILD)/qemu
QEMU_TOOLS := $(QEMU_DIR)/bin/.made
QEMU_UNIT_BINS := $(UNIT_BINS)
UNIT_BINS := $(UNIT_BINS:$(BUILD)/tests/%=$(QEMU_DIR)/%)
unit: $(UNIT_BINS) $(QEMU_TOOLS)

# Test binaries that cannot run emulated, and why (printed in their place).
QEMU_SKIP_test_ccid := umockdev redirects /sys by the path of an fd opened on the root directory, \
	which qemu -L opens in the sysroot, so the CCID reader model never appears \
	(test_piv covers the card applet on arm64)
# A test that does not finish within its timeout is stopped and run again,
# saying so, up to its number of tries; one that hangs every time fails.
# test_scanner deadlocks under qemu-user now and then, in any test that
# starts libsane's test backend: the main thread waits in pthread_join for
# the backend's reader thread, which waits on a lock that nobody will release
# (15% of serial runs, 20% with four in parallel; two in a row once in CI;
# never seen in native runs). A whole run takes 3 s there, so it gets a short
# timeout and six tries (a 1-in-a-million failure at that rate).
QEMU_TIMEOUT := 100
QEMU_TRIES := 2
QEMU_TIMEOUT_test_scanner := 30
QEMU_TRIES_test_scanner := 6
qemu_timeout = $(or $(QEMU_TIMEOUT_test_$(1)),$(QEMU_TIMEOUT))
qemu_tries = $(or $(QEMU_TRIES_test_$(1)),$(QEMU_TRIES))
define qemu_wrapper
#!/bin/sh
# Made by board/board.mk: test_$(1) for aarch64 under qemu-aarch64.
$(if $(QEMU_SKIP_test_$(1)),echo "test_$(1): skipped under qemu-aarch64: $(strip $(QEMU_SKIP_test_$(1)))"
exit 0,export QEMU_LD_PREFIX='$(SYSROOT)' SOHOA_EMULATED=qemu-aarch64
export PATH='$(CURDIR)/$(QEMU_DIR)/bin':"$$PATH"
try=1
while :; do
    timeout -k 10 $(call qemu_timeout,$(1)) $(QEMU) -L '$(SYSROOT)' '$(CURDIR)/$(BUILD)/tests/test_$(1)' "$$@"
    rc=$$?
    [ "$$rc" = 124 ] && [ "$$try" -lt $(call qemu_tries,$(1)) ] || break
    echo "test_$(1): no end after $(call qemu_timeout,$(1)) s under qemu-aarch64 (try $$try of $(call qemu_tries,$(1))); running it again"
    try=$$((try + 1))
done
exit "$$rc")
endef

# (Recipes are expanded before they run: $(shell mkdir) makes the directory
# that $(file) writes into.)
$(QEMU_DIR)/test_%: board/board.mk
	$(shell mkdir -p $(dir $@))$(file >$@,$(call qemu_wrapper,$*))
	@chmod +x $@

$(QEMU_TOOLS): board/board.mk board/target.mk
	$(shell mkdir -p $(dir $@))
	@command -v $(QEMU) >/dev/null \
	  || { echo "sohoa: $(QEMU) is missing; run 'make deps-aarch64'"; exit 1; }
	@[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || echo "sohoa: warning: qemu-aarch64 is not" \
	  "registered with binfmt_misc; tests that start arm64 child processes will fail"
	$(file >$(dir $@)cc,#!/bin/sh$(newline)exec $(TARGET_TRIPLET)-gcc --sysroot='$(SYSROOT)' "$$@")
	$(file >$(dir $@)pkg-config,#!/bin/sh$(newline)exec env $(TARGET_PKG_CONFIG_ENV) \
	  $(shell command -v pkg-config) "$$@")
	$(file >$(dir $@)scanimage,#!/bin/sh$(newline)exec $(QEMU) -L '$(SYSROOT)' \
	  '$(SYSROOT)/usr/bin/scanimage' "$$@")
	@chmod +x $(dir $@)cc $(dir $@)pkg-config $(dir $@)scanimage
	@touch $@
endif

define newline


endef
