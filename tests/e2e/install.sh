#!/usr/bin/env bash
# tests/e2e/install.sh: make install / uninstall into a temporary prefix (with
# DESTDIR), then build docs/install.md's example program with nothing but
# `pkg-config --cflags --libs seqloop` and run it on real data; man pages,
# completion, versions and the Python package as installed.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
PREFIX="$TMP/prefix"
VERSION=$("$BIN" --version | awk '{print $2}')

# SAN builds install from build/ (the ordinary library); install's own prerequisites build it.
if ! make -C "$ROOT" -s install PREFIX="$PREFIX" > "$TMP/install.log" 2>&1; then
  nok "make install PREFIX=$PREFIX: $(tail -c 400 "$TMP/install.log")"; exit 1
fi
ok "make install PREFIX=tmp"
for f in bin/seqloop lib/libseqloop.a lib/libseqloop.so "lib/libseqloop.so.$VERSION" lib/libseqloop.so.0 \
         include/seqloop/seqloop.h lib/pkgconfig/seqloop.pc share/man/man1/seqloop.1 \
         share/man/man1/seqloop-fit.1 share/man/man1/seqloop-audit-cycle.1 share/bash-completion/completions/seqloop; do
  check "installed $f" test -e "$PREFIX/$f"
done
check "libseqloop.so has soname libseqloop.so.0" sh -c "readelf -d '$PREFIX/lib/libseqloop.so' | grep -q 'SONAME.*libseqloop.so.0'"
check "installed seqloop --version = $VERSION" test "$("$PREFIX/bin/seqloop" --version)" = "seqloop $VERSION"
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
check "pkg-config --modversion seqloop = $VERSION" test "$(pkg-config --modversion seqloop)" = "$VERSION"
check "seqloop.pc lists the private libraries" sh -c "pkg-config --static --libs seqloop | grep -q -- -llbfgs"

# one man page per command of seqloop -h, each naming every long option of its table
for cmd in $("$BIN" -h | awk '/^  [a-z]/ {print $1}'); do
  page="$PREFIX/share/man/man1/seqloop-$cmd.1"
  [ -e "$page" ] || { nok "man page for $cmd"; continue; }
  json=$("$BIN" $cmd --options-json 2>/dev/null || "$BIN" $cmd run --options-json 2>/dev/null || "$BIN" $cmd export --options-json)
  missing=$(printf '%s' "$json" | $PY -c 'import json,sys,re; t=open(sys.argv[1]).read().replace("\\-","-"); print(" ".join(o["name"] for o in json.load(sys.stdin)["options"] if "--"+o["name"] not in t))' "$page" 2>&1 || echo "no table")
  check "seqloop-$cmd.1 lists every option of the table${missing:+ (missing: $missing)}" test -z "$missing"
done
if command -v man > /dev/null; then
  check "man renders seqloop-fit.1 with --lambda-j" sh -c "MANWIDTH=100 man -l '$PREFIX/share/man/man1/seqloop-fit.1' 2>/dev/null | grep -q -- '--lambda-j'"
fi
# bash completion: load it and ask for completions as bash would
comp() { # comp WORDS...: the completions of the last word
  bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _seqloop; printf "%s\n" "${COMPREPLY[@]}"' _ "$PREFIX/share/bash-completion/completions/seqloop" "$@"
}
check "completion: 'seqloop fi' -> fit" test "$(comp seqloop fi)" = "fit"
check "completion: 'seqloop fit --lambda-' -> --lambda-h --lambda-j" test "$(comp seqloop fit --lambda- | sort | tr '\n' ' ')" = "--lambda-h --lambda-j "
check "completion: 'seqloop audit cy' -> cycle" test "$(comp seqloop audit cy)" = "cycle"
choices=$(comp seqloop weights --convention '' | sort | tr '\n' ' ')
check "completion: 'seqloop weights --convention ' offers the choices ($choices)" test "$choices" = "eve plmc "

# the example program of docs/install.md, built with pkg-config alone
sed -n '/<!-- example:begin -->/,/<!-- example:end -->/p' "$ROOT/docs/install.md" | sed '1,2d;$d' | sed '$d' > "$TMP/example.c"
if gcc -std=c11 -o "$TMP/example" "$TMP/example.c" $(pkg-config --cflags --libs seqloop) 2> "$TMP/cc.err"; then
  ok "docs/install.md's example builds with pkg-config --cflags --libs seqloop alone"
  CASE=example
  ALN="$DATA/ww_pf00397/PF00397_WW_pfam_full.fasta"
  if need "$ALN"; then
    out=$(LD_LIBRARY_PATH="$PREFIX/lib" "$TMP/example" "$ALN" 2> "$TMP/ex.err"); rc=$?
    neff_cli=$("$BIN" audit --json "$ALN" 2>/dev/null | $PY -c 'import json,sys; d=json.load(sys.stdin); print("%.1f" % d["neff"])' 2>/dev/null)
    check "example runs on WW (rc $rc): $out" test "$rc" -eq 0
    check "example: version from sl_version() and the macros ($VERSION ($VERSION))" sh -c "echo '$out' | grep -q 'seqloop $VERSION ($VERSION)'"
    check "example: Neff equals seqloop audit's ($neff_cli)" sh -c "[ -n '$neff_cli' ] && echo '$out' | grep -q 'Neff=$neff_cli '"
    check "example runs against the installed .so (ldd)" sh -c "LD_LIBRARY_PATH='$PREFIX/lib' ldd '$TMP/example' | grep -q '$PREFIX/lib/libseqloop.so.0'"
  fi
else
  nok "docs/install.md's example does not build: $(head -c 400 "$TMP/cc.err")"
fi

# the Python package as installed: importable from the prefix's dist-packages alone
pydir=$(ls -d "$PREFIX"/lib/python3*/dist-packages 2>/dev/null | head -1)
check "python package installed under $pydir" test -e "$pydir/seqloop/__init__.py"
check "installed python package imports and reports $VERSION" \
  test "$(cd "$TMP" && PYTHONPATH="$pydir" $PY -c 'import seqloop; print(seqloop.version(), seqloop.__file__.startswith(__import__("sys").argv[1]))' "$pydir" 2>&1)" = "$VERSION True"

# DESTDIR staging and uninstall
make -C "$ROOT" -s install DESTDIR="$TMP/stage" PREFIX=/usr > "$TMP/stage.log" 2>&1
check "DESTDIR=stage PREFIX=/usr stages under the DESTDIR (python in lib/python3/dist-packages)" \
  test -x "$TMP/stage/usr/bin/seqloop" -a -e "$TMP/stage/usr/lib/python3/dist-packages/seqloop/__init__.py"
check "the staged seqloop.pc says prefix=/usr" grep -qx 'prefix=/usr' "$TMP/stage/usr/lib/pkgconfig/seqloop.pc"
make -C "$ROOT" -s uninstall PREFIX="$PREFIX" > "$TMP/un.log" 2>&1
left=$(find "$PREFIX" -type f | head -5)
check "make uninstall removes every installed file${left:+ (left: $left)}" test -z "$left"
exit $FAILED
