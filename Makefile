# criu: checkpoint/restore for Linux processes.
#
#   make            build criu/criu (installs missing build packages first)
#   make test       build and run every test; last line "N passed, N failed"
#   make check      source checks: no x86 specifics outside arch/, -I folders
#                   exist (scripts/check-arch.py; make test runs it too)
#   make demo       show the main job on a sample process
#   make bench      benchmarks; results go to Documentation/performance.md
#   make fuzz       build the fuzz targets (clang) and run each for FUZZ_TIME s
#                   (make test runs each over its corpus, FUZZ_TEST_TIME s more)
#   make V=1        show the commands
#
# New sources are picked up by wildcard: criu/*.c, criu/arch/x86/*.c,
# images/*.proto, images/est/*.proto, test/unit/test-*.c, test/fuzz/fuzz-*.c;
# fd kinds are rows of criu/include/fd-kinds.def.

.DEFAULT_GOAL := all
SHELL := /bin/bash

CC		?= gcc
CLANG		?= clang
PROTOC_C	?= protoc-c
PYTHON		?= /usr/bin/python3
ARCH		:= x86
FUZZ_TIME	?= 60

ifeq ($(V),1)
Q :=
E := @true
else
Q := @
E := @echo
endif

CFLAGS		?= -O2 -g
WARNINGS	:= -Wall -Wextra
CPPFLAGS	+= -D_GNU_SOURCE -Iinclude/common -Iinclude/arch/$(ARCH) -Icriu/include \
		   -Icriu/arch/$(ARCH)/include -Iimages -Icompel/include/uapi -MMD -MP
CRIU_VERSION	:= $(shell cat VERSION 2>/dev/null || echo 0.0)
CRIU_GITID	:= $(shell git describe --always --dirty 2>/dev/null || echo unknown)
CPPFLAGS	+= -DCRIU_VERSION=\"$(CRIU_VERSION)\" -DCRIU_GITID=\"$(CRIU_GITID)\"
# The objects that print the version are rebuilt when it changes: the stamp
# is rewritten only when its text differs.
VERSION_STAMP	:= criu/.version-stamp
$(shell echo '$(CRIU_VERSION) $(CRIU_GITID)' | cmp -s - $(VERSION_STAMP) || \
	echo '$(CRIU_VERSION) $(CRIU_GITID)' > $(VERSION_STAMP))
criu/main.o criu/inventory.o test/unit/test-inventory: $(VERSION_STAMP)
PKG_LIBS	:= libprotobuf-c libcap libxxhash libnl-3.0 libnl-route-3.0 gnutls libzstd
CPPFLAGS	+= $(shell pkg-config --cflags libnl-3.0 2>/dev/null)
LDLIBS		+= $(shell pkg-config --libs $(PKG_LIBS) 2>/dev/null)

# ---- dependencies ---------------------------------------------------------
# install-deps.sh is a fast no-op when everything is present.
.PHONY: deps
deps:
	$(Q)./scripts/install-deps.sh

# ---- images: protobuf schemas -----------------------------------------------
# images/est/ holds the schemas of the established format (package est);
# protoc-c runs from images/ for both, so those are named "est/NAME.proto",
# their generated files land next to them and include each other as
# "est/NAME.pb-c.h".
# images/fd-kind.proto (enum fd_kind) is generated from the fd-kind table.
FD_KIND_PROTO	:= images/fd-kind.proto
PROTOS		:= $(sort $(wildcard images/*.proto images/est/*.proto) $(FD_KIND_PROTO))
PB_C		:= $(PROTOS:.proto=.pb-c.c)
PB_H		:= $(PROTOS:.proto=.pb-c.h)
PB_O		:= $(PB_C:.c=.o)

images/%.pb-c.c images/%.pb-c.h: images/%.proto | deps
	$(E) "  PROTOC  $<"
	$(Q)$(PROTOC_C) --proto_path=images --c_out=images $<

# One FD_NAME = value line per FD_KIND row of criu/include/fd-kinds.def.
$(FD_KIND_PROTO): criu/include/fd-kinds.def
	$(E) "  GEN     $@"
	$(Q){ echo '// Generated from criu/include/fd-kinds.def: edit that table.'; \
	      echo 'syntax = "proto2";'; echo 'enum fd_kind {'; \
	      printf '#define FD_KIND(n, v, o, e) FD_##n = v;\n#include "fd-kinds.def"\n' | \
		$(CC) -E -P -x c -Icriu/include - | sed '/^$$/d; s/^/\t/' | sort -t= -k2n; \
	      echo '}'; } > $@.tmp && mv $@.tmp $@
images/files.pb-c.c images/files.pb-c.h: $(FD_KIND_PROTO)
images/files.pb-c.o: images/fd-kind.pb-c.h

# Generated code is not ours to keep warning-clean.
images/%.pb-c.o: images/%.pb-c.c
	$(E) "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -D_GNU_SOURCE -Iimages -MMD -MP -c -o $@ $<

# ---- compel ------------------------------------------------------------------
# The sub-make always runs; its outputs keep their timestamps when nothing
# changed, so what depends on them is rebuilt only when they really change.
COMPEL_LIB	:= compel/libcompel.a
COMPEL_TOOL	:= compel/compel
COMPEL_STD	:= compel/plugins/std/std.lib.o
.PHONY: compel FORCE
compel: $(COMPEL_LIB)
$(COMPEL_LIB) $(COMPEL_TOOL) $(COMPEL_STD): FORCE | deps
	$(Q)$(MAKE) -s --no-print-directory -C compel V=$(V)

# ---- freestanding blobs: criu/pie/NAME.c -> criu/pie/NAME-blob.h --------------
# Parasite and restorer code, built against compel's std runtime and embedded
# in criu by `compel hgen`. criu/pie/include/ holds the headers both sides share
# (plain C on <linux/types.h>, no libc).
PIE_SRC		:= $(wildcard criu/pie/*.c)
PIE_BLOB	:= $(PIE_SRC:.c=-blob.h)
PIE_CPPFLAGS	:= -Icompel/plugins/std/include -Icompel/plugins/std/arch/$(ARCH)/include \
		   -Icompel/include/common -Iinclude/common -Iinclude/arch/$(ARCH) \
		   -Icriu/arch/$(ARCH)/include -Icriu/pie/include -Icriu/pie/arch/$(ARCH) -MMD -MP
CPPFLAGS	+= -Icriu/pie/include -Icriu/pie

# Keep the objects: make's clean-up of intermediates would otherwise print
# after the test summary, which must stay the last line of `make test`.
.SECONDARY: $(PIE_SRC:.c=.po)

criu/pie/%.po: criu/pie/%.c $(COMPEL_TOOL)
	$(E) "  PCC     $@"
	$(Q)$(CC) $$(./$(COMPEL_TOOL) cflags) $(WARNINGS) $(PIE_CPPFLAGS) -c -o $@ $<

criu/pie/%-blob.h: criu/pie/%.po $(COMPEL_STD) $(COMPEL_TOOL)
	$(E) "  HGEN    $@"
	$(Q)ld -r -o criu/pie/$*.built.o $< $(COMPEL_STD)
	$(Q)./$(COMPEL_TOOL) hgen -i criu/pie/$*.built.o -o $@ -p $(subst -,_,$*)

# ---- criu ----------------------------------------------------------------------
CRIU_SRC	:= $(wildcard criu/*.c criu/arch/$(ARCH)/*.c)
CRIU_OBJ	:= $(CRIU_SRC:.c=.o)
CRIU_LIBOBJ	:= $(filter-out criu/main.o,$(CRIU_OBJ))
CRIU_INTERNAL	:= criu/libcriu-internal.a

$(CRIU_OBJ): $(PB_H) $(PIE_BLOB)

criu/%.o: criu/%.c | deps
	$(E) "  CC      $@"
	$(Q)$(CC) $(CFLAGS) $(WARNINGS) $(CPPFLAGS) -c -o $@ $<

$(CRIU_INTERNAL): $(CRIU_LIBOBJ) $(PB_O)
	$(E) "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

criu/criu: criu/main.o $(CRIU_INTERNAL) $(COMPEL_LIB)
	$(E) "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) -o $@ criu/main.o $(CRIU_INTERNAL) $(COMPEL_LIB) $(LDLIBS)

.PHONY: all
all: criu/criu

# ---- libcriu: the C API over RPC (criu/lib/criu.h, Documentation/rpc.md) ----------
# Position-independent objects of its own (.lo), the rpc schema among them.
LIBCRIU_SONAME	:= libcriu.so.2
LIBCRIU_SO	:= criu/lib/$(LIBCRIU_SONAME)
LIBCRIU_OBJ	:= criu/lib/criu.lo criu/lib/rpc.pb-c.lo

criu/lib/criu.lo: criu/lib/criu.c criu/lib/criu.h images/rpc.pb-c.h | deps
	$(E) "  CC      $@"
	$(Q)$(CC) $(CFLAGS) $(WARNINGS) -fPIC -fvisibility=default -D_GNU_SOURCE -Icriu/lib -Iimages \
		-c -o $@ $<

criu/lib/rpc.pb-c.lo: images/rpc.pb-c.c images/rpc.pb-c.h
	$(E) "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -fPIC -D_GNU_SOURCE -Iimages -c -o $@ $<

$(LIBCRIU_SO): $(LIBCRIU_OBJ)
	$(E) "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) -shared -Wl,-soname,$(LIBCRIU_SONAME) -o $@ $^ \
		$(shell pkg-config --libs libprotobuf-c 2>/dev/null)
all: $(LIBCRIU_SO)

# ---- install ---------------------------------------------------------------------
PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
LIBDIR		?= $(PREFIX)/lib
INCLUDEDIR	?= $(PREFIX)/include
MANDIR		?= $(PREFIX)/share/man
.PHONY: install
install: all
	$(Q)install -D -m 755 criu/criu $(DESTDIR)$(SBINDIR)/criu
	$(Q)install -D -m 755 $(LIBCRIU_SO) $(DESTDIR)$(LIBDIR)/$(LIBCRIU_SONAME)
	$(Q)ln -sf $(LIBCRIU_SONAME) $(DESTDIR)$(LIBDIR)/libcriu.so
	$(Q)install -D -m 644 criu/lib/criu.h $(DESTDIR)$(INCLUDEDIR)/criu/criu.h
	$(Q)install -D -m 644 Documentation/criu.8 $(DESTDIR)$(MANDIR)/man8/criu.8
	$(Q)mkdir -p $(DESTDIR)$(LIBDIR)/pkgconfig
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(CRIU_VERSION)|' \
		criu/lib/criu.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/criu.pc
	$(E) "  INSTALL $(DESTDIR)$(PREFIX)"

# ---- tests ---------------------------------------------------------------------
UNIT_SRC	:= $(wildcard test/unit/test-*.c)
UNIT_BIN	:= $(UNIT_SRC:.c=)
TEST_HELPERS	:= $(wildcard test/lib/*.c)

# A test may have sources of its own besides test-NAME.c (listed below).
test/unit/test-%: test/unit/test-%.c $(CRIU_INTERNAL) $(TEST_HELPERS) $(COMPEL_LIB)
	$(E) "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) $(WARNINGS) $(CPPFLAGS) -Itest/lib -o $@ $< \
		$(filter-out $< $(TEST_HELPERS),$(filter %.c,$^)) $(TEST_HELPERS) \
		$(CRIU_INTERNAL) $(COMPEL_LIB) $(LDLIBS)

# libcriu's own test links the shared library as a caller would.
test/rpc/test-libcriu: test/rpc/test-libcriu.c criu/lib/criu.h $(LIBCRIU_SO)
	$(E) "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) $(WARNINGS) -D_GNU_SOURCE -Icriu/lib -o $@ $< \
		$(LIBCRIU_SO) -Wl,-rpath,'$$ORIGIN/../../criu/lib'

E2E_SRC		:= $(wildcard test/e2e/*.c)
E2E_BIN		:= $(E2E_SRC:.c=)

test/e2e/%: test/e2e/%.c $(wildcard test/e2e/*.h)
	$(E) "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) $(WARNINGS) -D_GNU_SOURCE -Iinclude/common -o $@ $< -lpthread

.PHONY: test-build test check
check:
	$(Q)$(PYTHON) scripts/check-arch.py

test-build: all $(UNIT_BIN) $(E2E_BIN) test/rpc/test-libcriu fuzz-build
	$(Q)if [ -f compel/Makefile ]; then $(MAKE) --no-print-directory -C compel V=$(V) test-build; fi

test: test-build
	$(Q)$(PYTHON) test/run.py

# ---- fuzzing -------------------------------------------------------------------
# criu's objects are built once with the sanitizers and coverage (clang) into
# one archive; each target links against it. `make test` runs every target
# over its corpus and for FUZZ_TEST_TIME s more (test/fuzz/run.py); `make
# fuzz` runs each for FUZZ_TIME s, adding what it finds to corpus/NAME.run/.
FUZZ_SRC	:= $(wildcard test/fuzz/fuzz-*.c)
FUZZ_BIN	:= $(FUZZ_SRC:.c=)
FUZZ_CRIU_SRC	:= $(filter-out criu/main.c,$(CRIU_SRC))
FUZZ_SAN	:= -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_FLAGS	:= -g -O1 -fsanitize=fuzzer $(FUZZ_SAN)
FUZZ_OBJDIR	:= test/fuzz/obj
FUZZ_OBJ	:= $(patsubst %.c,$(FUZZ_OBJDIR)/%.o,$(FUZZ_CRIU_SRC) $(PB_C))
FUZZ_LIB	:= test/fuzz/libcriu-fuzz.a

$(FUZZ_OBJ): $(PB_H) $(PIE_BLOB)

$(FUZZ_OBJDIR)/criu/%.o: criu/%.c | deps
	$(E) "  CLANG   $@"
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) -g -O1 -fsanitize=fuzzer-no-link $(FUZZ_SAN) $(WARNINGS) $(CPPFLAGS) -c -o $@ $<

$(FUZZ_OBJDIR)/images/%.o: images/%.c | deps
	$(E) "  CLANG   $@"
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) -g -O1 -fsanitize=fuzzer-no-link $(FUZZ_SAN) -D_GNU_SOURCE -Iimages -MMD -MP \
		-c -o $@ $<

$(FUZZ_LIB): $(FUZZ_OBJ)
	$(E) "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

test/fuzz/fuzz-%: test/fuzz/fuzz-%.c $(FUZZ_LIB) $(COMPEL_LIB) | deps
	$(E) "  CLANG   $@"
	$(Q)$(CLANG) $(FUZZ_FLAGS) $(WARNINGS) $(CPPFLAGS) -o $@ $< $(FUZZ_LIB) \
		$(COMPEL_LIB) $(LDLIBS)

.PHONY: fuzz-build fuzz
fuzz-build: $(FUZZ_BIN)
fuzz: fuzz-build
	$(Q)for f in $(FUZZ_BIN); do \
		c=test/fuzz/corpus/$$(basename $$f); mkdir -p $$c.run $$c; \
		echo "== $$f for $(FUZZ_TIME)s"; \
		$$f -max_total_time=$(FUZZ_TIME) -print_final_stats=1 $$c.run $$c || exit 1; \
	done

# ---- demo and bench ------------------------------------------------------------
scripts/demo-counter: scripts/demo-counter.c
	$(E) "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) $(WARNINGS) -o $@ $<

.PHONY: demo bench
demo: all scripts/demo-counter
	$(Q)./scripts/demo.sh

# The network lock's bench links criu's own objects.
test/bench/netlock: test/bench/netlock.c $(CRIU_INTERNAL) $(COMPEL_LIB)
	$(E) "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) $(WARNINGS) $(CPPFLAGS) -o $@ $< $(CRIU_INTERNAL) $(COMPEL_LIB) $(LDLIBS)

bench: all test/bench/netlock
	$(Q)if [ -f compel/Makefile ]; then $(MAKE) --no-print-directory -C compel V=$(V) bench; fi
	$(Q)./scripts/bench.sh

# ---- housekeeping --------------------------------------------------------------
.PHONY: clean
clean:
	$(Q)rm -f $(CRIU_OBJ) criu/criu $(CRIU_INTERNAL) $(LIBCRIU_SO) $(LIBCRIU_OBJ) $(PB_C) $(PB_H) $(PB_O) $(PIE_BLOB) $(FD_KIND_PROTO) \
		criu/pie/*.po criu/pie/*.built.o \
		$(UNIT_BIN) $(E2E_BIN) $(FUZZ_BIN) $(FUZZ_LIB) test/rpc/test-libcriu scripts/demo-counter test/bench/netlock \
		$$(find . -name '*.d' -not -path './.git/*')
	$(Q)rm -rf $(FUZZ_OBJDIR)
	$(Q)if [ -f compel/Makefile ]; then $(MAKE) --no-print-directory -C compel clean; fi

-include $(CRIU_OBJ:.o=.d) $(PB_O:.o=.d) $(PIE_SRC:.c=.d) $(FUZZ_OBJ:.o=.d) $(FUZZ_BIN:=.d)
