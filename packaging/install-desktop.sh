#!/usr/bin/env bash
# Put the bundle this script sits in on the user's menu and PATH (no root needed):
#   ~/.local/bin/kgstudio -> this folder's kgstudio, plus the .desktop file, icon and AppStream file.
#     ./install-desktop.sh [PREFIX]     (default PREFIX: ~/.local; /usr/local for everyone, as root)
set -euo pipefail
app="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
prefix="${1:-$HOME/.local}"
install -d "$prefix/bin"
ln -sfn "$app/kgstudio" "$prefix/bin/kgstudio"
# Exec= names the absolute path, so the menu entry works even when PREFIX/bin is not on PATH.
sed "s|^Exec=kgstudio|Exec=$app/kgstudio|" "$app/share/applications/kgstudio.desktop" \
    | install -D -m 644 /dev/stdin "$prefix/share/applications/kgstudio.desktop"
install -D -m 644 "$app/share/icons/hicolor/scalable/apps/kgstudio.svg" \
    "$prefix/share/icons/hicolor/scalable/apps/kgstudio.svg"
install -D -m 644 "$app/share/metainfo/io.github.kgstudio.metainfo.xml" \
    "$prefix/share/metainfo/io.github.kgstudio.metainfo.xml"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$prefix/share/applications" || true
echo "installed: $prefix/bin/kgstudio and the kgstudio menu entry"
