# seqloop: the only build file.
#   make                  library (build/libseqloop.a) and ./seqloop
#   make test             the whole test suite (ends with "N passed, N failed")
#   make check SAN=address,undefined   build and test under sanitizers (build-san/)
#   make fuzz             build the libFuzzer targets and run each briefly (clang)
#   make bench            benchmarks (bench/; not tests, never gate CI)
#   make validate         long validations on real data (../shared/data)
#   make demo             the README's main job on an embedded default (build/demo/report.html)
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

.PHONY: all test check fuzz bench validate demo demo-run clean headers
all: $(BIN) $(B)/libseqloop.a $(UNIT_BIN)

$(B)/%.o: %.c $(wildcard include/seqloop/*.h src/*/*.h cli/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(B)/libseqloop.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(B)/libseqloop.a
	$(CC) $(BASEFLAGS) $(CFLAGS) -o $@ $(CLI_OBJ) $(B)/libseqloop.a $(LDLIBS)

$(B)/tests/%: tests/unit/%.c tests/unit/tap.h $(B)/libseqloop.a
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(CPPFLAGS) -Isrc $(CFLAGS) -o $@ $< $(B)/libseqloop.a $(LDLIBS)

# Every public header must compile on its own, as C and as C++.
headers:
	@for h in include/seqloop/*.h; do \
	  echo "#include \"$${h#include/}\"" | $(CC) -std=c11 -Iinclude -fsyntax-only -x c - || exit 1; \
	  echo "#include \"$${h#include/}\"" | g++ -std=c++11 -Iinclude -fsyntax-only -x c++ - || exit 1; \
	done; echo "headers: ok"

test: all headers
	tools/check_layers.sh
	tools/check_kinds.sh
	SEQLOOP_BIN=./$(BIN) SEQLOOP_UNIT_DIR=$(B)/tests tests/run.sh

check:
	$(MAKE) test SAN=$(or $(SAN),address,undefined)

FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN = $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
FUZZ_SECONDS ?= 20
build-fuzz/%: tests/fuzz/%.c $(LIB_SRC)
	@mkdir -p build-fuzz
	clang -std=c11 -g -O1 -fopenmp=libgomp -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $(CPPFLAGS) -Isrc -o $@ $< $(LIB_SRC) $(LDLIBS)
fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do \
	  name=$$(basename $$f); mkdir -p build-fuzz/corpus-$$name; \
	  echo "fuzz: $$name for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -artifact_prefix=build-fuzz/ build-fuzz/corpus-$$name tests/fuzz/seeds || exit 1; \
	done

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

clean:
	rm -rf build build-san build-fuzz seqloop
