#!/usr/bin/env bash
# regress/unit/check_layers.sh: the layer check of gatewayd (TAP output;
# regress/run-tests.sh unit runs it, docs/architecture.md explains it).
#
#   bash regress/unit/check_layers.sh [GATEWAYD_DIR]
#
# gatewayd/src is cut in layers, one folder each, lowest first:
#
#   base < rpc < db < ingest < notify < model < sync < vendors < pipeline < plugins < http < state < admin < gateway < main
#
# (rpc is the gRPC transport over grpc core, the only code that includes
# grpc headers; state is src/gatewayd.h, the struct of the running server;
# main is src/main.c). A file may use its own layer and the layers below it, never
# one above. Four checks:
#   1. every source file lives in a layer (a new folder is added here, in
#      its place in the order, or the check fails);
#   2. no #include "x/y.h" of a higher layer, and no #include "common/…"
#      (the old name of base/);
#   3. no call by name into a higher layer: the graph of which object file
#      uses a symbol which other one defines (nm of the objects of
#      `make -C gatewayd SANITIZE=1`, the build the unit tests make anyway);
#   4. no cycle in that graph: files (modules: a .c and its .h) that call
#      each other by name, directly or round a circle, are listed.
# Exit status 0 when all pass.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
GW=$(cd "${1:-$HERE/../../gatewayd}" && pwd)
LAYERS="base rpc db ingest notify model sync vendors pipeline plugins http state admin gateway main"
WORK=$(mktemp -d /tmp/gw-layers.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

n=0
failed=0
tap() { # tap OK|FAIL description [details file]
	n=$((n + 1))
	if [ "$1" = OK ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
		[ -n "${3:-}" ] && [ -s "$3" ] && sed 's/^/#   /' "$3"
	fi
}

# The layer of a path under src/ ("gateway/proxy.c" → gateway), "" if none.
layer_awk='
function layer_of(p,   d) {
	if (p == "gatewayd.h") return "state"
	if (p == "main.c") return "main"
	if (index(p, "/") == 0) return ""
	d = substr(p, 1, index(p, "/") - 1)
	return (d in rank) ? d : ""
}
BEGIN { nl = split(LAYERS, L, " "); for (i = 1; i <= nl; i++) rank[L[i]] = i }
'

cd "$GW/src" || exit 2
find . -name '*.[ch]' | sed 's#^\./##' | sort > "$WORK/files"

# 1. every file in a layer
awk -v LAYERS="$LAYERS" "$layer_awk"'{ if (layer_of($0) == "") print $0 ": not in any layer" }' \
	"$WORK/files" > "$WORK/unplaced"
[ -s "$WORK/unplaced" ] && tap FAIL "every source file of gatewayd/src is in a layer" "$WORK/unplaced" ||
	tap OK "every source file of gatewayd/src is in a layer"

# 2. includes
while read -r f; do
	grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
		sed -E 's/^([0-9]+):.*"([^"]+)".*/\1 \2/' | awk -v f="$f" '{print f, $1, $2}'
done < "$WORK/files" > "$WORK/includes"
awk -v LAYERS="$LAYERS" "$layer_awk"'
{
	f = $1; line = $2; inc = $3
	if (inc ~ /^common\//) {
		print f ":" line ": includes \"" inc "\" (common/ is now base/)"
		next
	}
	if (index(inc, "/") == 0) next           # the extension'"'"'s headers (pattern.h), generated code
	lf = layer_of(f); li = layer_of(inc)
	if (lf == "" || li == "") next
	if (rank[li] > rank[lf])
		print f ":" line ": " lf " includes \"" inc "\" of the higher layer " li
}' "$WORK/includes" > "$WORK/up_includes"
[ -s "$WORK/up_includes" ] && tap FAIL "no #include of a higher layer" "$WORK/up_includes" ||
	tap OK "no #include of a higher layer"

# 3 and 4 need the objects
if ! make -s -C "$GW" SANITIZE=1 > "$WORK/build.log" 2>&1; then
	tap FAIL "gatewayd builds (for the symbol graph)" "$WORK/build.log"
	echo "1..$n"
	exit 1
fi
OBJ="$GW/build/asan/src"
(cd "$OBJ" && find . -name '*.o' | sed 's#^\./##' | sort) > "$WORK/objs"
while read -r o; do
	m=${o%.o}
	nm -g --defined-only "$OBJ/$o" | awk -v m="$m" 'NF == 3 && $2 ~ /[TDBRCVW]/ {print $3, m}'
done < "$WORK/objs" | sort > "$WORK/defs"
while read -r o; do
	m=${o%.o}
	nm -u "$OBJ/$o" | awk -v m="$m" '{print $NF, m}'
done < "$WORK/objs" | sort > "$WORK/uses"
# module → module edges with one symbol each for the message
join "$WORK/uses" "$WORK/defs" | awk '$2 != $3 {print $2, $3, $1}' | sort -k1,2 -u > "$WORK/edges"

awk -v LAYERS="$LAYERS" "$layer_awk"'
{
	la = layer_of($1 ".c"); lb = layer_of($2 ".c")
	if (la != "" && lb != "" && rank[lb] > rank[la])
		print $1 " (" la ") calls " $3 " of " $2 " (" lb ", a higher layer)"
}' "$WORK/edges" > "$WORK/up_calls"
[ -s "$WORK/up_calls" ] && tap FAIL "no call into a higher layer" "$WORK/up_calls" ||
	tap OK "no call into a higher layer"

# 4. cycles: two modules are in one cycle when each reaches the other
awk '
{ if (!(($1, $2) in e)) { e[$1, $2] = 1; adj[$1] = adj[$1] " " $2 }; node[$1] = 1; node[$2] = 1 }
END {
	for (a in node) {                      # reach[a, b]: b reachable from a
		delete seen; top = 0; stack[++top] = a
		while (top > 0) {
			x = stack[top--]; k = split(adj[x], nx, " ")
			for (i = 1; i <= k; i++) if (!(nx[i] in seen)) { seen[nx[i]] = 1; stack[++top] = nx[i]; reach[a, nx[i]] = 1 }
		}
	}
	for (a in node) {
		if (a in done || !((a, a) in reach)) continue
		c = ""
		for (b in node) if ((a, b) in reach && (b, a) in reach) { c = c " " b; done[b] = 1 }
		print c
	}
}' "$WORK/edges" | while read -r cyc; do
	echo "$cyc" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//'
	echo
done | sort > "$WORK/cycles"
if [ -s "$WORK/cycles" ]; then
	# name one call of each pair inside a cycle, so the message shows where it is
	while read -r cyc; do
		echo "cycle: $cyc"
		for a in $cyc; do for b in $cyc; do
			awk -v a="$a" -v b="$b" '$1 == a && $2 == b {print "    " a " calls " $3 " of " b; exit}' "$WORK/edges"
		done; done
	done < "$WORK/cycles" > "$WORK/cycles.txt"
	tap FAIL "no files calling each other by name in a circle" "$WORK/cycles.txt"
else
	tap OK "no files calling each other by name in a circle"
fi
echo "1..$n"
exit $failed
