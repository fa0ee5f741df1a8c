# seqloop: the only build file.
#   make                  library (build/libseqloop.a) and ./seqloop
#   make test             the whole test suite (ends with "N passed, N failed")
#   make check SAN=address,undefined   build and test under sanitizers (build-san/)
#   make fuzz             build the libFuzzer targets and run each briefly (clang)
#   make fuzz-long        each target to 10 million executions or 30 minutes (docs/reliability.md)
#   make bench            benchmarks (bench/; not tests, never gate CI)
#   make validate         long validations on real data (../shared/data)
#   make demo             the README's main job on an embedded default (build/demo/report.html)
#   make fault            the allocation-failure sweep (tests/fault/; sanitizer build)
#   make install          PREFIX=/usr/local DESTDIR=: binary, libraries, headers, seqloop.pc,
#                         man pages, bash completion, the Python package (docs/install.md)
#   make uninstall        removes exactly what install put there
#   make python           the Python bindings in the build tree (python/seqloop; docs/python.md)
#   make MPI=1            also the MPI binary $(B)/mpi/seqloop: fit across ranks (docs/scale.md)
CC      ?= gcc
SAN     ?=
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
WARN     = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CPPFLAGS = -Iinclude -D_GNU_SOURCE
BASEFLAGS = -std=c11 -fopenmp -fPIC $(WARN)
LDLIBS   = -llbfgs -lz -lcjson -lnettle -lsqlite3 -lopenblas -lm

ifeq ($(SAN),)
  B = build
  BIN = seqloop
else
  B = build-san
  BIN = $(B)/seqloop
  BASEFLAGS += -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

LIB_SRC = $(wildcard src/base/*.c src/seq/*.c src/kern/*.c src/audit/*.c src/models/*.c src/score/*.c src/struct/*.c src/sample/*.c src/design/*.c src/ledger/*.c src/report/*.c)
CLI_SRC = $(wildcard cli/*.c)
LIB_OBJ = $(LIB_SRC:%.c=$(B)/%.o)
CLI_OBJ = $(CLI_SRC:%.c=$(B)/%.o)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

# MPI=1: the binary is $(B)/mpi/seqloop, linked from the same library and CLI
# objects (the library has no MPI in it, so a fit runs the same machine code
# as the default build's) and cli/dist.c compiled with Open MPI's flags
# (mpicc --showme) and -DSEQLOOP_MPI. Without MPI=1 nothing of MPI is built.
MPI ?=
ifeq ($(MPI),1)
  MPI_CFLAGS := $(shell mpicc --showme:compile 2>/dev/null)
  MPI_LIBS := $(shell mpicc --showme:link 2>/dev/null)
  $(if $(MPI_LIBS),,$(error make MPI=1 needs Open MPI (mpicc): scripts/setup.sh installs openmpi-bin and libopenmpi-dev))
  BIN = $(B)/mpi/seqloop
  CLI_OBJ := $(filter-out $(B)/cli/dist.o,$(CLI_OBJ)) $(B)/mpi/dist.o
endif

.PHONY: all test check fuzz fuzz-long bench validate demo demo-run clean headers fault install uninstall python
all: $(BIN) $(B)/libseqloop.a $(B)/libseqloop.so $(UNIT_BIN)

$(B)/%.o: %.c $(wildcard include/seqloop/*.h src/*/*.h cli/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(B)/libseqloop.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# The shared library: soname libseqloop.so.MAJOR; the private libraries are
# linked in (DT_NEEDED) so that `-lseqloop` alone links a program.
VERSION := $(shell sed -n 's/^\#define SL_VERSION "\(.*\)"/\1/p' include/seqloop/base.h)
SOMAJOR := $(firstword $(subst ., ,$(VERSION)))
$(B)/libseqloop.so: $(LIB_OBJ)
	$(CC) $(BASEFLAGS) $(CFLAGS) -shared -Wl,-soname,libseqloop.so.$(SOMAJOR) -o $@.$(VERSION) $^ $(LDLIBS)
	ln -sf libseqloop.so.$(VERSION) $@.$(SOMAJOR) && ln -sf libseqloop.so.$(SOMAJOR) $@

$(BIN): $(CLI_OBJ) $(B)/libseqloop.a
	$(CC) $(BASEFLAGS) $(CFLAGS) -o $@ $(CLI_OBJ) $(B)/libseqloop.a $(LDLIBS) $(MPI_LIBS)

$(B)/mpi/dist.o: cli/dist.c $(wildcard include/seqloop/*.h cli/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(CPPFLAGS) -DSEQLOOP_MPI $(MPI_CFLAGS) $(CFLAGS) -c $< -o $@

$(B)/tests/%: tests/unit/%.c tests/unit/tap.h $(B)/libseqloop.a
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(CPPFLAGS) -Isrc $(CFLAGS) -o $@ $< $(B)/libseqloop.a $(LDLIBS)

# Every public header must compile on its own, as C and as C++.
headers:
	@for h in include/seqloop/*.h; do \
	  echo "#include \"$${h#include/}\"" | $(CC) -std=c11 -Iinclude -fsyntax-only -x c - || exit 1; \
	  echo "#include \"$${h#include/}\"" | g++ -std=c++11 -Iinclude -fsyntax-only -x c++ - || exit 1; \
	done; echo "headers: ok"

test: all headers python
	tools/check_layers.sh
	tools/check_kinds.sh
	SEQLOOP_BIN=./$(BIN) SEQLOOP_UNIT_DIR=$(B)/tests tests/run.sh

check:
	$(MAKE) test SAN=$(or $(SAN),address,undefined)

FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN = $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
FUZZ_SECONDS ?= 20
# fuzz-long: each target to FUZZ_RUNS executions or FUZZ_LONG_SECONDS, whichever comes first
FUZZ_RUNS ?= 10000000
FUZZ_LONG_SECONDS ?= 1800
FUZZ_CFLAGS = -std=c11 -g -O1 -fopenmp=libgomp -fsanitize=address,undefined -fno-sanitize-recover=all $(CPPFLAGS) -Isrc
# The library is compiled once for every target (instrumented for coverage).
FUZZ_LIB_OBJ = $(LIB_SRC:%.c=build-fuzz/obj/%.o)
build-fuzz/obj/%.o: %.c $(wildcard include/seqloop/*.h src/*/*.h)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
build-fuzz/libseqloop-fuzz.a: $(FUZZ_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^
build-fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz_common.h build-fuzz/libseqloop-fuzz.a
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< build-fuzz/libseqloop-fuzz.a $(LDLIBS) -lnettle
# Seed model files of every kind, fitted here on a synthetic alignment (the
# sealed model-file target starts from them).
build-fuzz/seeds-model/ok: $(BIN)
	@mkdir -p build-fuzz/seeds-model
	awk 'BEGIN { srand(11); a = "ACDEFGHIKLMNPQRSTVWY-"; for (n = 0; n < 40; n++) { s = ""; \
	  for (i = 0; i < 12; i++) s = s substr(a, 1 + int(rand() * 21), 1); printf(">s%d\n%s\n", n, s) } }' > build-fuzz/seeds-model/syn.fa
	./$(BIN) fit --model profile -q -o build-fuzz/seeds-model/profile.model build-fuzz/seeds-model/syn.fa
	./$(BIN) fit --model potts -q -m 3 -o build-fuzz/seeds-model/potts.model build-fuzz/seeds-model/syn.fa
	./$(BIN) fit --model ar -q -o build-fuzz/seeds-model/ar.model build-fuzz/seeds-model/syn.fa
	./$(BIN) fit --model tfm -q -t 1 --layers 1 --width 8 --heads 2 --context 16 --steps 2 --batch 4 -o build-fuzz/seeds-model/tfm.model build-fuzz/seeds-model/syn.fa
	rm -f build-fuzz/seeds-model/syn.fa build-fuzz/seeds-model/*.prov.json build-fuzz/seeds-model/*.ckpt && touch $@
fuzz: $(FUZZ_BIN) build-fuzz/seeds-model/ok
	@for f in $(FUZZ_BIN); do \
	  name=$$(basename $$f); mkdir -p build-fuzz/corpus-$$name; \
	  echo "fuzz: $$name for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -artifact_prefix=build-fuzz/ build-fuzz/corpus-$$name tests/fuzz/seeds build-fuzz/seeds-model 2> build-fuzz/$$name.log || { tail -40 build-fuzz/$$name.log; exit 1; }; \
	  tail -1 build-fuzz/$$name.log; \
	done
fuzz-long: $(FUZZ_BIN) build-fuzz/seeds-model/ok
	@for f in $(FUZZ_BIN); do \
	  name=$$(basename $$f); mkdir -p build-fuzz/corpus-$$name; \
	  $$f -runs=$(FUZZ_RUNS) -max_total_time=$(FUZZ_LONG_SECONDS) -max_len=65536 -print_final_stats=1 \
	    -artifact_prefix=build-fuzz/ build-fuzz/corpus-$$name tests/fuzz/seeds build-fuzz/seeds-model 2> build-fuzz/$$name.long.log; \
	  echo "$$name: exit $$? $$(grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' build-fuzz/$$name.long.log | tr '\n' ' ') $$(grep -E '#[0-9]+.*(DONE|cov:)' build-fuzz/$$name.long.log | tail -1)"; \
	done | tee build-fuzz/fuzz-long.txt

# Allocation-failure injection: the sanitizer build's objects linked with
# tests/fault/fault.c and every allocator wrapped (docs/reliability.md).
FAULT_WRAP = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=posix_memalign,--wrap=aligned_alloc,--wrap=strdup
FAULT_MAX ?= 400
build-san/seqloop-fault: tests/fault/fault.c $(CLI_SRC) $(LIB_SRC)
	$(MAKE) SAN=address,undefined build-san/seqloop build-san/libseqloop.a
	$(CC) -std=c11 -fopenmp -fsanitize=address,undefined -fno-omit-frame-pointer -g -O1 -o $@ \
	  $(CLI_SRC:%.c=build-san/%.o) tests/fault/fault.c build-san/libseqloop.a $(FAULT_WRAP) $(LDLIBS)
fault: build-san/seqloop-fault
	tests/fault/sweep.sh build-san/seqloop-fault $(FAULT_MAX)

bench: all
	bench/run.sh

validate: all
	tests/validate.sh

# The README's main job on RRM_1 (Pfam), which Debian's hmmer-examples installs: ingest and
# audit, fit (ar: exact samples and entropy; potts: couplings for contacts and variant scores),
# score every single mutant of the focus, sample, and write one offline HTML report.
# demo-run does the same without building (SL: the binary; tests/e2e/report.sh calls it).
DEMO_ALN ?= /usr/share/doc/hmmer/examples/testsuite/RRM_1.sto.gz
DEMO_DIR ?= build/demo
SL ?= ./$(BIN)
demo: all
	@$(MAKE) --no-print-directory demo-run SL=$(SL) DEMO_DIR=$(DEMO_DIR)
demo-run:
	@mkdir -p $(DEMO_DIR)
	$(SL) audit --focus-first $(DEMO_ALN)
	$(SL) fit -q --model ar --focus-first --lambda-j 0.01 --lambda-h 0.01 -o $(DEMO_DIR)/rrm.ar $(DEMO_ALN)
	$(SL) fit -q --model potts --focus-first -m 100 -o $(DEMO_DIR)/rrm.potts $(DEMO_ALN)
	$(SL) score -q -m $(DEMO_DIR)/rrm.potts --all-singles -o $(DEMO_DIR)/singles.csv
	$(SL) sample -q -m $(DEMO_DIR)/rrm.ar -n 1000 --seed 1 -o $(DEMO_DIR)/samples.fa
	$(SL) report -q --focus-first -a $(DEMO_ALN) -m $(DEMO_DIR)/rrm.ar --contacts-model $(DEMO_DIR)/rrm.potts \
	  -s $(DEMO_DIR)/singles.csv --samples $(DEMO_DIR)/samples.fa --title "RRM_1 (Pfam PF00076), seqloop demo" \
	  -o $(DEMO_DIR)/report.html
	@echo "demo: open $(DEMO_DIR)/report.html (the same data: $(DEMO_DIR)/report.json)"

# ---- install (docs/install.md) ------------------------------------------------
PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
BASHCOMPDIR  ?= $(PREFIX)/share/bash-completion/completions
PYTHON     ?= /usr/bin/python3
PYVER      := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
# Debian's python3 reads /usr/lib/python3/dist-packages and /usr/local/lib/python3.X/dist-packages.
PYDIR      ?= $(if $(filter /usr,$(PREFIX)),$(PREFIX)/lib/python3/dist-packages,$(PREFIX)/lib/python$(PYVER)/dist-packages)
PRIVLIBS    = $(filter-out -lm,$(LDLIBS)) -lm -fopenmp

build/man/seqloop.1 build/seqloop.bash: $(BIN) tools/gen_man.py
	rm -rf build/man && $(PYTHON) tools/gen_man.py man ./$(BIN) build/man
	$(PYTHON) tools/gen_man.py bash ./$(BIN) build/seqloop.bash

install: all build/man/seqloop.1 build/seqloop.bash python
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/seqloop \
	  $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(PYDIR)/seqloop
	install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/seqloop
	install -m 644 build/libseqloop.a $(DESTDIR)$(LIBDIR)/libseqloop.a
	install -m 755 build/libseqloop.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libseqloop.so.$(VERSION)
	ln -sf libseqloop.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libseqloop.so.$(SOMAJOR)
	ln -sf libseqloop.so.$(SOMAJOR) $(DESTDIR)$(LIBDIR)/libseqloop.so
	install -m 644 include/seqloop/*.h $(DESTDIR)$(INCLUDEDIR)/seqloop/
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCLUDEDIR)' '' \
	  'Name: seqloop' 'Description: generative models of protein families (profile, Potts, arDCA, transformer), scoring, sampling, design' \
	  'Version: $(VERSION)' 'Libs: -L$${libdir} -lseqloop' 'Libs.private: $(PRIVLIBS)' \
	  'Cflags: -I$${includedir}' > $(DESTDIR)$(PKGCONFIGDIR)/seqloop.pc
	install -m 644 build/man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 build/seqloop.bash $(DESTDIR)$(BASHCOMPDIR)/seqloop
	install -m 644 python/seqloop/*.py $(DESTDIR)$(PYDIR)/seqloop/
	install -m 755 python/seqloop/_seqloop_cffi*.so $(DESTDIR)$(PYDIR)/seqloop/
	@echo "installed seqloop $(VERSION) under $(DESTDIR)$(PREFIX)"

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/seqloop $(DESTDIR)$(LIBDIR)/libseqloop.a $(DESTDIR)$(LIBDIR)/libseqloop.so \
	  $(DESTDIR)$(LIBDIR)/libseqloop.so.$(SOMAJOR) $(DESTDIR)$(LIBDIR)/libseqloop.so.$(VERSION) \
	  $(DESTDIR)$(PKGCONFIGDIR)/seqloop.pc $(DESTDIR)$(BASHCOMPDIR)/seqloop \
	  $(DESTDIR)$(MANDIR)/man1/seqloop.1 $(DESTDIR)$(MANDIR)/man1/seqloop-*.1
	rm -rf $(DESTDIR)$(INCLUDEDIR)/seqloop $(DESTDIR)$(PYDIR)/seqloop

# The Python bindings (cffi API mode, Debian's python3-cffi): one extension
# module, linked with the static library so it needs no rpath.
# Always from the ordinary build/ library (a sanitizer runtime cannot be loaded into python3).
python:
	$(MAKE) SAN= build/libseqloop.a python/seqloop/_seqloop_cffi.stamp
python/seqloop/_seqloop_cffi.stamp: python/build_cffi.py python/seqloop/_cdef.h python/seqloop/_glue.c python/seqloop/_glue.h build/libseqloop.a
	cd python && $(PYTHON) build_cffi.py ../build/libseqloop.a "$(LDLIBS)"
	touch $@

clean:
	rm -rf build build-san build-fuzz seqloop python/seqloop/_seqloop_cffi* python/build_tmp
