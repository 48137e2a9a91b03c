# board/target.mk — cross-compilation settings, read by the Makefile before
# anything else. Without TARGET it sets nothing, so the host build is
# untouched.
#
#   make TARGET=aarch64            sohoa, libsohoa.a, the SANE backend and the
#                                  unit tests for arm64, in build-aarch64/
#   make TARGET=aarch64 unit       those tests under qemu-aarch64
#   make TARGET=aarch64 install DESTDIR=rootfs
#
# Why a sysroot and not multiarch -dev:arm64 packages: Debian 12's
# libleptonica-dev and libumockdev-dev are not "Multi-Arch: same", so their
# arm64 versions cannot be installed next to the amd64 ones the host build
# needs (apt would remove libleptonica-dev, libtesseract-dev and
# libumockdev-dev). Every arm64 library therefore comes from a sysroot that
# mmdebstrap extracts from Debian's arm64 packages (board/board.mk,
# `make deps-aarch64`); the compiler is Debian's cross gcc
# (crossbuild-essential-arm64) pointed at it with --sysroot, pkg-config reads
# the sysroot's .pc files, and qemu-aarch64 runs the tests with the sysroot as
# its library root (-L, QEMU_LD_PREFIX).

ifeq ($(TARGET),aarch64)
TARGET_TRIPLET := aarch64-linux-gnu
# Kept outside BUILD: the Makefile includes every *.d under BUILD, and the
# sysroot has directories such as etc/ld.so.conf.d.
SYSROOT ?= $(CURDIR)/build-aarch64-sysroot
CC := $(TARGET_TRIPLET)-gcc --sysroot=$(SYSROOT)
STRIP := $(TARGET_TRIPLET)-strip
# The host's pkg-config, reading only the sysroot's .pc files and prefixing
# their paths with it ($(shell) in make 4.3 does not see exported variables,
# hence the assignments in the command).
TARGET_PKG_CONFIG_ENV := PKG_CONFIG_SYSROOT_DIR=$(SYSROOT) \
	PKG_CONFIG_LIBDIR=$(SYSROOT)/usr/lib/$(TARGET_TRIPLET)/pkgconfig:$(SYSROOT)/usr/share/pkgconfig
PKG_CONFIG := $(TARGET_PKG_CONFIG_ENV) pkg-config
ifeq ($(SANITIZE),1)
BUILD ?= build-aarch64-asan
else
BUILD ?= build-aarch64
endif
else ifneq ($(TARGET),)
$(error TARGET=$(TARGET) is not supported; use TARGET=aarch64 or no TARGET for the host)
endif
