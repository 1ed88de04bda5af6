# atrium build. `make` -> build/atrium; `make test`; `make test-asan`; `make run`; `make bench`.
# Everything under src/ is compiled; every tests/**/test_*.c becomes a Criterion binary;
# every tests/**/*_test.sh is a shell scenario run against the built binary.

BUILD   ?= build
SAN     ?=
PKGS    := libmicrohttpd jansson sqlite3 libsodium liboath libqrencode libpng zlib libcurl nettle
# Apps compiled in: one folder under src/apps each, one build switch each.
APPS    ?= $(notdir $(patsubst %/,%,$(wildcard src/apps/*/)))

CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-format-truncation -Wno-missing-field-initializers -Wshadow -Werror=implicit-function-declaration \
           -Werror=incompatible-pointer-types -D_GNU_SOURCE -Isrc -Isrc/core -I$(BUILD)/gen \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(foreach a,$(APPS),-DATRIUM_APP_$(shell echo $(a) | tr a-z A-Z))
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lwslay -lpthread -lm
ifeq ($(SAN),fuzz)
CFLAGS  += -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -Wno-unknown-warning-option
LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(SAN),1)
CFLAGS  += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRC  := $(wildcard src/core/*.c) src/apps/registry.c $(foreach a,$(APPS),$(wildcard src/apps/$(a)/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/embedded.o
EMBED    := $(sort $(wildcard src/core/migrations/*.sql) $(foreach a,$(APPS),$(wildcard src/apps/$(a)/migrations/*.sql)) \
            $(wildcard src/core/data/*.txt) $(shell find web -type f 2>/dev/null))
# Message catalogs: po/<lang>.po -> <build>/gen/locale/<lang>/LC_MESSAGES/atrium.mo,
# embedded like the migrations (i18n.c finds them by the gen/locale/ part).
LANGS    := $(basename $(notdir $(wildcard po/*.po)))
MO       := $(LANGS:%=$(BUILD)/gen/locale/%/LC_MESSAGES/atrium.mo)
EMBED    += $(MO)
TEST_SRC := $(shell find tests -name 'test_*.c' 2>/dev/null | sort)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
SUPPORT  := $(wildcard tests/support/*.c)

.PHONY: all run test test-asan bench fuzz fuzz-build clean setup po pot
all: $(BUILD)/atrium

$(BUILD)/tools/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -o $@ $<

$(BUILD)/gen/embedded.c: $(BUILD)/tools/embed $(EMBED) Makefile
	@mkdir -p $(dir $@)
	$(BUILD)/tools/embed $(EMBED) > $@.tmp && mv $@.tmp $@

# --check: a translation whose printf conversions differ from its msgid's
# fails the build instead of crashing a reply.
$(BUILD)/gen/locale/%/LC_MESSAGES/atrium.mo: po/%.po
	@mkdir -p $(dir $@)
	@echo "  MSGFMT  $<"
	@msgfmt --check -o $@.tmp $< && mv $@.tmp $@

$(BUILD)/obj/%.o: %.c $(wildcard src/core/*.h src/apps/*.h src/apps/*/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/gen/embedded.o: $(BUILD)/gen/embedded.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libatrium.a: $(LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/atrium: $(BUILD)/obj/src/main.o $(BUILD)/libatrium.a
	@echo "  LINK    $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# A test links the shared harness (tests/support/) and the support/ folder
# beside it, if any (tests/apps/codepop/support/ for codepop's fixture).
.SECONDEXPANSION:
$(BUILD)/tests/%: tests/%.c $(SUPPORT) $(BUILD)/libatrium.a $(wildcard tests/support/*.h) \
                  $$(wildcard $$(dir tests/$$*)support/*.c $$(dir tests/$$*)support/*.h)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	@$(CC) $(CFLAGS) -Itests $(LDFLAGS) -o $@ $< $(SUPPORT) $(wildcard $(dir $<)support/*.c) \
	    $(BUILD)/libatrium.a $(LDLIBS) -lcriterion

test: | setup
test: $(BUILD)/atrium $(TEST_BIN)
	@BUILD=$(BUILD) scripts/run-tests $(TEST_BIN)

test-asan:
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 test

# libFuzzer harnesses (tests/fuzz/fuzz_*.c): `make fuzz` builds them with clang
# into build-fuzz/ and runs each for FUZZ_SECONDS (CI runs them briefly).
FUZZ_SECONDS ?= 60
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/libatrium.a
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@$(CC) $(CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(BUILD)/libatrium.a $(LDLIBS)

fuzz-build: $(FUZZ_BIN)

fuzz:
	@$(MAKE) --no-print-directory BUILD=build-fuzz SAN=fuzz CC=clang fuzz-build
	@tests/fuzz/run build-fuzz $(FUZZ_SECONDS)

setup:
	@scripts/setup

# Translations (developer commands, not part of the build): `make po` extracts
# every message the API can answer into po/atrium.pot and merges it into each
# po/<lang>.po; translate the new or fuzzy entries, then build.
# The keywords are the reply helpers that translate their argument (atrium.h);
# the flags let msgfmt --check compare printf conversions. A bare "%s" is text
# already translated (or a provider's words), not a message: it is dropped.
POT      ?= po/atrium.pot
POT_SRC   = $(sort $(shell find src -name '*.[ch]'))
XGETTEXT := xgettext --language=C --from-code=UTF-8 --add-comments=TRANSLATORS: --add-location=file \
            --package-name=atrium --package-version=$$(sed -n 's/^\#define ATRIUM_VERSION "\(.*\)"/\1/p' src/core/atrium.h) \
            --msgid-bugs-address='the atrium maintainers' --keyword=N_ \
            --keyword=reply_error:4 --flag=reply_error:4:c-format \
            --keyword=reply_invalid:3 \
            --keyword=reply_invalidf:3 --flag=reply_invalidf:3:c-format \
            --keyword=i18n_text:2 --flag=i18n_text:2:pass-c-format \
            --keyword=tr:2 --flag=tr:2:pass-c-format
pot:
	@mkdir -p $(dir $(POT))
	@$(XGETTEXT) -o - $(POT_SRC) | sed 's/charset=CHARSET/charset=UTF-8/' > $(POT).tmp
	@msggrep --invert-match --msgid -E -e '^%s$$' -o $(POT) $(POT).tmp && rm -f $(POT).tmp

po: pot
	@for f in $(wildcard po/*.po); do msgmerge --quiet --update --backup=none --previous $$f $(POT) && \
	    msgfmt --check --statistics -o /dev/null $$f; done

run: setup $(BUILD)/atrium
	@scripts/run

bench: $(BUILD)/atrium
	@bench/run
	@[ ! -d src/apps/codepop ] || bench/codepop
	@[ ! -d src/apps/groupbuy ] || bench/groupbuy

clean:
	rm -rf build build-asan build-fuzz
