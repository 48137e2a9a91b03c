# board/image.mk — the station's disk image and its boot test (board/IMAGE.md).
#
#   make deps-image   the Debian packages both need (mmdebstrap, qemu, e2fsprogs, ...)
#                     and binfmt_misc for arm64 programs
#   make image        out/image/sohoa-arm64.img (+ .img.zst, .img.bmap, and the
#                     kernel, initrd and command line QEMU boots); IMG_BOARD=rpi4
#                     for the Pi's board config (default qemu-virt)
#   make image-test   boots it in qemu-system-aarch64 and runs a job through the
#                     serial console to a receiver on this machine
#
# Work files in build-img/, results and the cached base root file system
# (keyed on board/image/packages.txt) in out/image/.

IMG_OUT ?= out/image
IMG_BUILD ?= build-img
IMG_BOARD ?= qemu-virt
IMG_PACKAGES := mmdebstrap arch-test qemu-user-static binfmt-support qemu-system-arm \
	e2fsprogs fdisk zstd bmap-tools socat openssl softhsm2 opensc poppler-utils jq curl \
	python3 util-linux kmod

.PHONY: deps-image check-deps-image image image-test

deps-image:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$SUDO apt-get update -q && $$SUDO apt-get install -y -q --no-install-recommends $(IMG_PACKAGES) \
	&& board/image/binfmt.sh

check-deps-image:
	@( for c in mmdebstrap arch-test qemu-aarch64-static qemu-system-aarch64 mkfs.ext4 sfdisk \
	     zstd bmaptool socat openssl softhsm2-util pkcs11-tool pdfsig jq curl depmod; do \
	     command -v $$c >/dev/null || exit 1; done ) && board/image/binfmt.sh >/dev/null 2>&1 \
	  || { echo "sohoa: the image tools are missing; running 'make deps-image'"; \
	       $(MAKE) --no-print-directory deps-image; }

image: check-deps-image
	@IMG_OUT=$(IMG_OUT) IMG_BUILD=$(IMG_BUILD) IMG_BOARD=$(IMG_BOARD) MAKE="$(MAKE)" \
	  board/image/mkimage.sh

image-test: check-deps-image $(BUILD)/fixturegen
	@[ -f $(IMG_OUT)/sohoa-arm64.img ] || $(MAKE) --no-print-directory image
	@IMG_OUT=$(IMG_OUT) IMG_BUILD=$(IMG_BUILD) BUILD=$(BUILD) board/image/test.sh
