# mmsql build.  `make` builds mmsqld and the tools; `make test` runs every
# test suite (see README.md).  `make SANITIZE=address,undefined` builds the
# same tree with sanitizers into build-san/.
#
# Layout conventions (so that modules can be added without editing this file):
#   src/<module>/*.c        -> build/lib/libmm_<module>.a
#   src/server/main.c       -> build/mmsqld
#   tools/<name>.c          -> build/<name>            (links every module)
#   test/unit/test_<module>[_x].c -> build/test/test_<module>[_x]
#                              (links the modules in UNIT_DEPS_<module>)
#   test/sim/*.c            -> build/raft-sim
#   test/fuzz/fuzz_<x>.c    -> build/fuzz/fuzz_<x>     (clang + libFuzzer)

CC      ?= cc
OPT     ?= -O2
CFLAGS  += -std=gnu11 -g $(OPT) -Wall -Wextra -Werror -Wno-unused-parameter \
           -D_GNU_SOURCE -Isrc -MMD -MP
LDLIBS  += -lrocksdb -lsqlite3 -lssl -lcrypto -lpthread -lm

ifdef SANITIZE
  B       ?= build-san
  CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDFLAGS += -fsanitize=$(SANITIZE)
else
  B       ?= build
endif

# Link order: a module may only depend on modules to its right.
MODULES := server proto sql table txn store raft util
LIBS     = $(foreach m,$(MODULES),$(if $(wildcard src/$(m)/*.c),$(B)/lib/libmm_$(m).a))

UNIT_DEPS_util  := util
UNIT_DEPS_raft  := raft util
UNIT_DEPS_store := store util
UNIT_DEPS_txn   := txn store raft util
UNIT_DEPS_table := table sql txn store raft util
UNIT_DEPS_sql   := sql table txn store raft util
UNIT_DEPS_proto := proto sql table txn store raft util
UNIT_DEPS_server:= $(MODULES)

define module_rules
$(1)_SRC := $$(filter-out src/server/main.c,$$(wildcard src/$(1)/*.c))
$(1)_OBJ := $$(patsubst %.c,$(B)/obj/%.o,$$($(1)_SRC))
$(B)/lib/libmm_$(1).a: $$($(1)_OBJ)
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(eval $(call module_rules,$(m))))

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

UNIT_SRC   := $(wildcard test/unit/test_*.c)
UNIT_BINS  := $(patsubst test/unit/%.c,$(B)/test/%,$(UNIT_SRC))
TOOL_SRC   := $(wildcard tools/*.c)
TOOL_BINS  := $(patsubst tools/%.c,$(B)/%,$(TOOL_SRC))
SIM_SRC    := $(wildcard test/sim/*.c)
FUZZ_SRC   := $(wildcard test/fuzz/fuzz_*.c)
FUZZ_BINS  := $(patsubst test/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRC))

unit_module = $(firstword $(subst _, ,$(patsubst test_%,%,$(notdir $(1)))))
unit_libs   = $(foreach m,$(UNIT_DEPS_$(call unit_module,$(1))),$(B)/lib/libmm_$(m).a)

.PHONY: all test unit sim fuzz fuzz_bins integration clean san
all: $(B)/mmsqld $(TOOL_BINS) $(if $(SIM_SRC),$(B)/raft-sim) $(UNIT_BINS)

$(B)/mmsqld: $(B)/obj/src/server/main.o $(LIBS)
	$(CC) $(LDFLAGS) -o $@ -Wl,--start-group $^ -Wl,--end-group $(LDLIBS)

# Raft tools need only the log and util (they must build while other modules change).
$(B)/raft-%: $(B)/obj/tools/raft-%.o $(B)/lib/libmm_raft.a $(B)/lib/libmm_util.a
	$(CC) $(LDFLAGS) -o $@ -Wl,--start-group $^ -Wl,--end-group $(LDLIBS)

$(B)/%: $(B)/obj/tools/%.o $(LIBS)
	$(CC) $(LDFLAGS) -o $@ -Wl,--start-group $^ -Wl,--end-group $(LDLIBS)

$(B)/raft-sim: $(patsubst %.c,$(B)/obj/%.o,$(SIM_SRC)) $(B)/lib/libmm_raft.a $(B)/lib/libmm_util.a
	$(CC) $(LDFLAGS) -o $@ -Wl,--start-group $^ -Wl,--end-group $(LDLIBS)

.SECONDEXPANSION:
$(B)/test/%: $(B)/obj/test/unit/%.o $$(call unit_libs,%)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ -Wl,--start-group $^ -Wl,--end-group $(LDLIBS)

# Fuzz targets: every library source is compiled once with clang for
# fuzzing (ASan + UBSan + coverage), archived, and linked into each target.
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -Isrc -fsanitize=address,undefined -Wall -Wextra -Wno-unused-parameter
FUZZ_LIB_SRC := $(filter-out src/server/main.c,$(wildcard src/*/*.c))
FUZZ_LIB_OBJ := $(patsubst %.c,$(B)/fuzzobj/%.o,$(FUZZ_LIB_SRC))
$(B)/fuzzobj/%.o: %.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@
$(B)/fuzzobj/libfuzzmm.a: $(FUZZ_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^
$(B)/fuzz/%: test/fuzz/%.c $(B)/fuzzobj/libfuzzmm.a
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(B)/fuzzobj/libfuzzmm.a $(LDLIBS)

unit: $(UNIT_BINS)
	@scripts/run-unit.sh $(UNIT_BINS)

sim: $(B)/raft-sim
	$(B)/raft-sim --seeds 1-2000

fuzz_bins: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@scripts/run-fuzz.sh $(FUZZ_BINS)

integration: $(B)/mmsqld $(TOOL_BINS)
	/usr/bin/python3 -m pytest -q test/integration

test:
	scripts/test.sh

san:
	$(MAKE) SANITIZE=address,undefined

clean:
	rm -rf build build-san

-include $(shell find $(B)/obj $(B)/fuzzobj -name '*.d' 2>/dev/null)
