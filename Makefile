# sohoa — build, tests, benchmarks.
#
#   make            build build/sohoa
#   make deps       install every Debian 12 package the build, tests and demo need
#   make check      unit + integration tests (SANITIZE=1 for ASan/UBSan)
#   make asan       the same tests under ASan/UBSan, in build-asan/
#   make bench      sohoa vs OCRmyPDF on the same generated pages
#   make bench-station  press → queued latency, daemon memory, queue throughput
#   make demo       the main job end to end on embedded defaults

# TARGET=aarch64 cross-compiles (board/target.mk sets CC, PKG_CONFIG, BUILD).
PKG_CONFIG ?= pkg-config
-include board/target.mk

SANITIZE ?= 0
ifeq ($(SANITIZE),1)
BUILD ?= build-asan
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT := -O1
# leaks inside libraries we cannot fix (tests/lsan.supp says which and why)
export LSAN_OPTIONS := suppressions=$(CURDIR)/tests/lsan.supp
else
BUILD ?= build
SAN_FLAGS :=
OPT := -O2
endif

CC ?= cc
# Libraries the firmware links; every one comes from a Debian -dev package.
PKGS := lept tesseract jansson libtiff-4 libjpeg zlib libcrypto libssl libcurl libusb-1.0 \
	p11-kit-1 harfbuzz harfbuzz-subset libqpdf sqlite3 libxml-2.0 sane-backends libgpiod libedit libxcrypt
TEST_PKGS := cmocka umockdev-1.0
FIXTURE_PKGS := pangocairo cairo

# Debian 12 packages: build, tests, benchmark and demo.
DEB_PACKAGES := build-essential pkg-config \
	libleptonica-dev libtesseract-dev tesseract-ocr tesseract-ocr-vie tesseract-ocr-eng \
	tesseract-ocr-osd libtiff-dev libjpeg-dev libpng-dev zlib1g-dev libjansson-dev \
	libunistring-dev libssl-dev libcurl4-openssl-dev libsqlite3-dev libxml2-dev \
	libusb-1.0-0-dev libgpiod-dev libedit-dev libcrypt-dev libp11-kit-dev libsane-dev libsane1 sane-utils \
	libcmocka-dev libcairo2-dev libpango1.0-dev fonts-liberation fonts-liberation2 fonts-dejavu-core \
	libharfbuzz-dev libqpdf-dev \
	qpdf poppler-utils ocrmypdf softhsm2 opensc umockdev libumockdev-dev \
	img2pdf time jq python3 valgrind libxml2-utils

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lunistring -lpthread -lm

# Project flags live in SOHOA_CFLAGS so that a CFLAGS given on the command
# line (e.g. CFLAGS=-O0) adds to them instead of dropping the warnings.
CFLAGS ?= $(OPT) -g
SOHOA_CFLAGS := -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
	-fstack-protector-strong -MMD -MP $(SAN_FLAGS)
ifneq ($(SANITIZE),1)
SOHOA_CFLAGS += -D_FORTIFY_SOURCE=2
endif
ALL_CFLAGS = $(SOHOA_CFLAGS) $(CFLAGS)
LDFLAGS += $(SAN_FLAGS)
# The firmware's own pthread_setcanceltype() (drivers/scanner.c) must be
# seen by the SANE backends it dlopen()s.
LDFLAGS += -Wl,--export-dynamic-symbol=pthread_setcanceltype

# Everything but main() goes into a static library the tests link too.
LIB_SRCS := $(sort $(wildcard firmware/*.c ocr/*.c signer/*.c drivers/*.c))
LIB_SRCS := $(filter-out firmware/main.c drivers/sane_virtual.c,$(LIB_SRCS))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/firmware/main.o

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
# Test-side models and helpers (e.g. the CCID reader + PIV card model) that
# several unit tests link.
SUPPORT_SRCS := $(sort $(wildcard tests/unit/support/*.c))
SUPPORT_OBJS := $(SUPPORT_SRCS:%.c=$(BUILD)/%.o)
SUPPORT_LIB := $(BUILD)/libtestsupport.a

FIXTURE_SRCS := $(sort $(wildcard tests/fixtures/*.c))
FIXTURE_BIN := $(BUILD)/fixturegen

.PHONY: all deps check-deps check unit integration asan bench bench-extract bench-extract-heldout bench-extract-bitonal bench-sign bench-station demo fixtures \
	clean format fuzz

all: $(BUILD)/sohoa

# Installs what is missing; the build targets call check-deps first.
deps:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$SUDO apt-get update -q && $$SUDO apt-get install -y -q --no-install-recommends $(DEB_PACKAGES)

check-deps:
	@$(PKG_CONFIG) --exists $(PKGS) $(TEST_PKGS) $(FIXTURE_PKGS) \
	  && [ -f /usr/share/tesseract-ocr/5/tessdata/vie.traineddata ] \
	  && ( for c in qpdf pdftotext pdfimages pdffonts pdfinfo jq python3; do \
	         command -v $$c >/dev/null || exit 1; done ) \
	  && [ -f /usr/include/unistr.h ] \
	  && [ -f /usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf ] \
	  && ( for c in softhsm2-util pkcs11-tool umockdev-wrapper pdfsig openssl; do \
	         command -v $$c >/dev/null || exit 1; done ) \
	  || { echo "sohoa: some build or test dependencies are missing; running 'make deps'"; \
	       $(MAKE) --no-print-directory deps; }

$(BUILD)/%.o: %.c | check-deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(BUILD)/libsohoa.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/sohoa: $(MAIN_OBJ) $(BUILD)/libsohoa.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/support/%.o: tests/unit/support/%.c | check-deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) $(shell $(PKG_CONFIG) --cflags $(TEST_PKGS)) -I. -c $< -o $@

$(SUPPORT_LIB): $(SUPPORT_SRCS:tests/unit/support/%.c=$(BUILD)/tests/support/%.o)
	@mkdir -p $(dir $@)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libsohoa.a $(SUPPORT_LIB) | check-deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) $(shell $(PKG_CONFIG) --cflags $(TEST_PKGS)) -I. -o $@ $< \
	  $(SUPPORT_LIB) $(BUILD)/libsohoa.a $(LDFLAGS) $(PKG_LIBS) $(shell $(PKG_CONFIG) --libs $(TEST_PKGS))

$(FIXTURE_BIN): $(FIXTURE_SRCS) | check-deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(shell $(PKG_CONFIG) --cflags $(FIXTURE_PKGS) lept) -o $@ $(FIXTURE_SRCS) \
	  $(LDFLAGS) $(shell $(PKG_CONFIG) --libs $(FIXTURE_PKGS) lept) -lm

fixtures: $(FIXTURE_BIN)

unit: $(UNIT_BINS) $(BUILD)/sohoa
	@BUILD=$(BUILD) tests/run-unit.sh $(UNIT_BINS)

integration: $(BUILD)/sohoa $(FIXTURE_BIN)
	@BUILD=$(BUILD) tests/integration/run.sh

# All tests; the last line is "N passed, N failed".
check: $(BUILD)/sohoa $(UNIT_BINS) $(FIXTURE_BIN)
	@BUILD=$(BUILD) tests/run-all.sh $(UNIT_BINS)

asan:
	$(MAKE) --no-print-directory SANITIZE=1 check

bench: $(BUILD)/sohoa $(FIXTURE_BIN)
	@BUILD=$(BUILD) tests/bench/bench.sh

# Extraction accuracy on a generated corpus (EXTRACT_DOCS documents, seed
# EXTRACT_SEED); documents already processed in its directory are not
# processed again. bench-extract-heldout measures on another seed's
# corpus: a second check that the rules hold beyond the first.
EXTRACT_DOCS ?= 200
EXTRACT_SEED ?= 1
EXTRACT_FLAGS ?=
EXTRACT_DIR ?= out/bench-extract$(if $(filter-out 1,$(EXTRACT_SEED)),-seed$(EXTRACT_SEED))
bench-extract: $(BUILD)/sohoa $(FIXTURE_BIN)
	@[ -f $(EXTRACT_DIR)/corpus/.count-$(EXTRACT_DOCS) ] || { rm -rf $(EXTRACT_DIR); \
	  $(FIXTURE_BIN) -o $(EXTRACT_DIR)/corpus --seed $(EXTRACT_SEED) --count $(EXTRACT_DOCS) \
	    $(EXTRACT_FLAGS) >/dev/null && touch $(EXTRACT_DIR)/corpus/.count-$(EXTRACT_DOCS); }
	OMP_THREAD_LIMIT=1 python3 tests/bench/bench_extract.py $(EXTRACT_DIR)/corpus \
	  --sohoa $(BUILD)/sohoa --out $(EXTRACT_DIR)/results

bench-extract-heldout:
	@$(MAKE) --no-print-directory bench-extract EXTRACT_SEED=7 EXTRACT_DOCS=100

# The first 40 documents of seed 1 as an office scanner set to black and
# white makes them (1 bit, 200 dpi, G4): seals and stamps as black as print.
bench-extract-bitonal:
	@$(MAKE) --no-print-directory bench-extract EXTRACT_DOCS=40 EXTRACT_FLAGS="--bitonal 200" \
	  EXTRACT_DIR=out/bench-extract-bitonal

# PAdES signing cost with SoftHSM2 (10-page PDF, 50 signatures, leak check).
$(BUILD)/bench_sign: tests/bench/bench_sign.c $(BUILD)/libsohoa.a | check-deps
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -I. -o $@ $< $(BUILD)/libsohoa.a $(LDFLAGS) $(PKG_LIBS)

bench-sign: $(BUILD)/sohoa $(BUILD)/bench_sign $(FIXTURE_BIN)
	@BUILD=$(BUILD) tests/bench/bench_sign.sh

# The station: press → queued latency, daemon memory, queue throughput.
$(BUILD)/bench_queue: tests/bench/bench_queue.c $(BUILD)/libsohoa.a | check-deps
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -I. -o $@ $< $(BUILD)/libsohoa.a $(LDFLAGS) $(PKG_LIBS)

bench-station: $(BUILD)/sohoa $(BUILD)/bench_queue $(FIXTURE_BIN)
	@BUILD=$(BUILD) tests/bench/bench_station.sh

demo: $(BUILD)/sohoa $(FIXTURE_BIN)
	@BUILD=$(BUILD) tests/demo.sh

# Our own SANE backend (a virtual ADF/duplex scanner serving page files), a plugin that
# libsane's dll backend loads from LD_LIBRARY_PATH; kept out of libsohoa.a above.
SANE_BACKEND := $(BUILD)/sane/libsane-sohoa.so.1
$(SANE_BACKEND): drivers/sane_virtual.c | check-deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -shared -fvisibility=hidden -o $@ $< $(LDFLAGS)
check unit demo: $(SANE_BACKEND)

format:
	clang-format -i $(wildcard */*.c */*.h tests/*/*.c)

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# libFuzzer targets (clang): build/fuzz/NAME; `make fuzz FUZZ_SECONDS=60`
# runs each for that long.
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)
FUZZ_SECONDS ?= 30
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -std=gnu11 -D_GNU_SOURCE -I.

build/fuzz/%: tests/fuzz/%.c $(LIB_SRCS) | check-deps
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) $(PKG_CFLAGS) -o $@ $< $(LIB_SRCS) $(PKG_LIBS)

fuzz: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do echo "== $$f"; mkdir -p build/fuzz/corpus-$$(basename $$f); \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 build/fuzz/corpus-$$(basename $$f) \
	    $$(ls -d tests/fuzz/seeds/$$(basename $$f) 2>/dev/null) \
	  2>&1 | tail -3 || exit 1; done

# Board support: install, cross-build checks, the firmware image.
-include board/board.mk board/image.mk
