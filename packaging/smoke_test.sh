#!/usr/bin/env bash
# Smoke test of the desktop bundle: build it, then run it the way a user would, from an empty
# folder with a clean environment (no PYTHONPATH, no virtualenv, not in the source tree):
#   1. kgstudio --version
#   2. kgstudio plugins --json: every built-in reader, exporter and backend loads from the bundle
#   3. kgstudio models: the embedded model is the one inside the bundle
#   4. kgstudio build IN -o out.ttl on one shared PDF: import, seeds, extraction with the embedded
#      model, Turtle export; the Turtle must parse (checked with rdflib from PYTHON)
#   5. plugins from a plugin folder: the example GEXF exporter (pip install --target) is listed
#      and exports; a deliberately broken plugin is reported and kgstudio still runs
#   6. the window opens on a virtual X server (Xvfb) and closes on Ctrl+C (skipped without xvfb)
#
#     bash packaging/smoke_test.sh [PDF]        # SKIP_BUILD=1 tests the bundle already in dist/
#
# Prints one line per check and a summary: bundle size, build and run times. Exit status 0 = passed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
python="${PYTHON:-$repo/.venv/bin/python}"
pdf="${1:-$repo/../shared/data/pdf/cv/CV_John_Doe.pdf}"
app="$repo/dist/kgstudio"

[ -f "$pdf" ] || { echo "smoke_test.sh: no such PDF: $pdf" >&2; exit 1; }
build_seconds="(not built)"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    started=$(date +%s)
    bash "$here/build.sh" "$python"
    build_seconds="$(( $(date +%s) - started )) s"
fi
[ -x "$app/kgstudio" ] || { echo "smoke_test.sh: no bundle at $app (run packaging/build.sh)" >&2; exit 1; }

scratch="$(mktemp -d "${TMPDIR:-/tmp}/kgstudio-smoke.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/in" "$scratch/home" "$scratch/plugins"
cp "$pdf" "$scratch/in/"
cd "$scratch"

# A user's environment: nothing of the build machine's Python leaks in.
kgstudio() {
    env -i HOME="$scratch/home" PATH=/usr/bin:/bin LANG=C.UTF-8 TMPDIR="${TMPDIR:-/tmp}" \
        KGSTUDIO_PLUGIN_PATH="${PLUGIN_PATH:-}" "$app/kgstudio" "$@"
}
check() { echo "ok: $*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

version="$(kgstudio --version)"
[[ "$version" == kgstudio\ * ]] || fail "--version printed '$version'"
check "--version: $version"

kgstudio plugins --json > plugins.json
"$python" - plugins.json <<'EOF' || fail "built-in plugins do not all load from the bundle"
import json, sys
found = json.load(open(sys.argv[1]))
broken = [(k, p["name"], p["error"] or p["problems"]) for k, ps in found.items() for p in ps if not p["ok"]]
assert not broken, broken
names = {k: {p["name"] for p in ps} for k, ps in found.items()}
assert {"pdf", "email", "spreadsheet", "text"} <= names["readers"], names
assert {"ttl", "graphml", "cypher"} <= names["exporters"], names
assert {"llamacpp", "openai"} <= names["backends"], names
EOF
check "plugins: $(kgstudio plugins | grep -c ' ok ') built-in plugins load"

model="$(kgstudio models --json)"
"$python" -c 'import json, sys; models = json.loads(sys.argv[1]); app = sys.argv[2]
embedded = [m for m in models if m["source"] == "embedded"]
assert embedded and embedded[0]["path"].startswith(app), models' "$model" "$app" \
    || fail "the embedded model is not the bundle's: $model"
check "models: the embedded model is inside the bundle"

started=$(date +%s)
status=0
kgstudio build in -o out.ttl 2> build.log || status=$?
[ "$status" = 0 ] || { cat build.log >&2; fail "build exited with $status"; }
build_run="$(( $(date +%s) - started ))"
grep -q "^Import: 1 imported" build.log || { cat build.log >&2; fail "the PDF was not imported"; }
extraction="$(grep '^Extraction:' build.log)" || { cat build.log >&2; fail "no extraction report"; }
[[ "$extraction" =~ ([0-9]+)\ model\ calls ]] && [ "${BASH_REMATCH[1]}" -gt 0 ] \
    || fail "the embedded model was never asked: $extraction"
"$python" -c 'import rdflib, sys; g = rdflib.Graph().parse(sys.argv[1], format="turtle"); print(len(g))' \
    out.ttl > statements.txt || fail "out.ttl is not valid Turtle"
check "build: $(basename "$pdf") -> out.ttl ($(cat statements.txt) RDF statements) in ${build_run} s; $extraction"

# Plugins in a frozen app: installed into a plugin folder, found through their entry points.
"$python" -m pip install --no-deps --no-build-isolation -q --target "$scratch/plugins" "$repo/plugins/kgstudio-gexf"
mkdir -p "$scratch/broken/kgstudio_broken-0.1.dist-info"
printf 'Metadata-Version: 2.1\nName: kgstudio-broken\nVersion: 0.1\n' \
    > "$scratch/broken/kgstudio_broken-0.1.dist-info/METADATA"
printf '[kgstudio.exporters]\nbroken = kgstudio_broken:Exporter\n' \
    > "$scratch/broken/kgstudio_broken-0.1.dist-info/entry_points.txt"
echo 'raise RuntimeError("this plugin is broken on purpose")' > "$scratch/broken/kgstudio_broken.py"
PLUGIN_PATH="$scratch/plugins:$scratch/broken"
PLUGIN_PATH="$PLUGIN_PATH" kgstudio plugins > plugins.txt
grep -Eq '^  gexf +ok ' plugins.txt || { cat plugins.txt >&2; fail "the GEXF plugin is not listed as loaded"; }
grep -q 'broken.*FAILED: RuntimeError: this plugin is broken on purpose' plugins.txt \
    || { cat plugins.txt >&2; fail "the broken plugin is not reported"; }
PLUGIN_PATH="$PLUGIN_PATH" kgstudio --version > /dev/null || fail "a broken plugin stops kgstudio"
PLUGIN_PATH="$PLUGIN_PATH" kgstudio export out.kgs --format gexf --status all -o out.gexf > /dev/null \
    || fail "export through the GEXF plugin failed"
grep -q '<gexf xmlns="http://gexf.net/1.3"' out.gexf || fail "out.gexf is not GEXF"
check "plugin folder: the GEXF exporter loads and exports; a broken plugin is reported, kgstudio runs"

# The window, on a real X server (Qt's xcb plugin and the system libraries it needs), with the
# broken plugin still in the path. Ctrl+C (SIGINT) closes it.
if command -v xvfb-run >/dev/null && command -v xwininfo >/dev/null; then
    cat > window.sh <<'EOF'
app=$1 home=$2 plugins=$3
env -i HOME="$home" PATH=/usr/bin:/bin LANG=C.UTF-8 DISPLAY="$DISPLAY" XAUTHORITY="${XAUTHORITY:-}" \
    KGSTUDIO_PLUGIN_PATH="$plugins" "$app/kgstudio" > window.log 2>&1 &
pid=$!
for _ in $(seq 90); do
    xwininfo -root -tree | grep '"kgstudio": ("kgstudio"' > window.txt && break
    sleep 1
done
kill -INT "$pid"
wait "$pid"
EOF
    status=0
    timeout 180 xvfb-run -a -s "-screen 0 1280x800x24" bash window.sh "$app" "$scratch/home" "$PLUGIN_PATH" \
        || status=$?
    [ -s window.txt ] || { cat window.log >&2; fail "no kgstudio window appeared on the X server"; }
    [ "$status" = 0 ] || { cat window.log >&2; fail "the window did not close cleanly on Ctrl+C ($status)"; }
    check "window: opened on Xvfb ($(grep -o '[0-9]*x[0-9]*+' window.txt | head -1 | tr -d +)) and closed on Ctrl+C"
else
    echo "skipped: window check (needs xvfb-run and xwininfo: apt-get install xvfb x11-utils)"
fi

echo "passed: bundle $(du -sh "$app" | cut -f1) ($app), build ${build_seconds}, headless build ${build_run} s"
