#!/usr/bin/env bash
# tools/check_layers.sh: check the module graph. The table between the
# "layers:begin" and "layers:end" markers of docs/dependencies.md says, for
# each module (a folder of src/), its public headers (include/seqloop/) and
# the modules it may include. Every #include of a file under src/MOD/ and of
# MOD's public headers is checked: "seqloop/x.h" must be a header of MOD or
# of a module in its row; a private header (src/MOD/x.h) is MOD's alone, so a
# relative include of another module's folder ("../other/x.h") is always a
# violation. cli may include anything public; nothing includes cli/.
# Also fails when a public header belongs to no module, or a folder of src/
# has no row. Prints each violation; exits 1 if any.
set -u
cd "$(dirname "$0")/.."
table=$(sed -n '/<!-- layers:begin -->/,/<!-- layers:end -->/p' docs/dependencies.md |
        grep -E '^\| [a-z]+ \|' | grep -v '^| module |')
declare -A owner=() uses=() headers=()
while IFS='|' read -r _ mod hdrs deps _; do
  mod=$(echo $mod); headers[$mod]=$(echo $hdrs); uses[$mod]=$(echo $deps)
  for h in ${headers[$mod]}; do owner[$h]=$mod; done
done <<< "$table"
bad=0
say() { echo "layer violation: $*"; bad=1; }
[ ${#headers[@]} -gt 0 ] || say "no module table found in docs/dependencies.md"
for h in include/seqloop/*.h; do
  n=$(basename "$h" .h); [ "$n" = seqloop ] && continue
  [ -n "${owner[$n]:-}" ] || say "include/seqloop/$n.h belongs to no module in docs/dependencies.md"
done
for d in src/*/; do
  m=$(basename "$d"); [ -n "${headers[$m]+x}" ] || say "src/$m has no row in docs/dependencies.md"
done
for mod in "${!headers[@]}"; do
  files=(src/$mod/*.[ch])
  for h in ${headers[$mod]}; do files+=(include/seqloop/$h.h); done
  for f in "${files[@]}"; do
    [ -e "$f" ] || continue
    while read -r inc; do
      case "$inc" in
        seqloop/*) h=${inc#seqloop/}; h=${h%.h}; o=${owner[$h]:-?} ;;
        ../*/*) o=${inc#../}; o=${o%%/*}
                [ "$o" = "$mod" ] || say "$f includes $inc (a private header of module $o; use its public header)"
                continue ;;
        *) continue ;;
      esac
      [ "$o" = "$mod" ] && continue
      case " ${uses[$mod]} " in *" $o "*) ;; *) say "$f includes $inc (module $o; $mod may include: ${uses[$mod]:-nothing})" ;; esac
    done < <(grep -oE '^#include "[^"]+"' "$f" | sed -E 's/#include "(.*)"/\1/')
  done
done
if grep -rqE '#include "(\.\./)*cli/' src include 2>/dev/null; then say "library includes cli/"; fi
# cli/ is glue over the public API: no private header of a module.
while read -r hit; do say "$hit (cli uses public headers only)"; done < <(grep -nE '#include "\.\./src/' cli/*.c cli/*.h 2>/dev/null)
[ $bad -eq 0 ] && echo "layers: ok"
exit $bad
