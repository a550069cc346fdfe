#!/bin/sh
# Build dist/desktop-rag_<version>_<arch>.deb from the PyInstaller folder with dpkg-deb.
# Usage: packaging/build_deb.sh [APP_DIR] [OUT_DIR]   (run from the repository root)
#
# Layout: the app in /opt/desktop-rag/, launchers /usr/bin/desktop-rag and
# /usr/bin/desktop-rag-gui, the menu entry from resources/*.desktop in /usr/share/applications/
# and icons under /usr/share/icons/hicolor/. No maintainer scripts: dpkg's triggers for the icon
# cache and the desktop database (hicolor-icon-theme, desktop-file-utils) run by themselves.
# DEB_COMPRESSION=gzip|xz|zstd picks dpkg-deb's compressor (gzip: fast, readable by any dpkg);
# DEB_MAINTAINER sets the Maintainer field (the default is a placeholder); BUILD_DIR (default
# build/deb) holds the staging tree; ICONS_DIR (default resources/icons) the icons.
set -eu

APP_DIR=${1:-dist/desktop-rag}
OUT_DIR=${2:-dist}
COMPRESSION=${DEB_COMPRESSION:-gzip}
MAINTAINER=${DEB_MAINTAINER:-Desktop RAG maintainers <maintainers@desktop-rag.invalid>}
VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' src/desktop_rag/__init__.py)
ARCH=$(dpkg --print-architecture)
STAGE="${BUILD_DIR:-build/deb}/desktop-rag_${VERSION}_$ARCH"
ICONS=${ICONS_DIR:-resources/icons}

if [ ! -x "$APP_DIR/desktop-rag" ] || [ ! -x "$APP_DIR/desktop-rag-gui" ]; then
    echo "build_deb.sh: no frozen app in $APP_DIR (run 'make package')" >&2
    exit 1
fi

rm -rf "$STAGE"
mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
    "$STAGE/usr/share/doc/desktop-rag"
cp -a "$APP_DIR" "$STAGE/opt/desktop-rag"
chmod -R u=rwX,go=rX "$STAGE/opt/desktop-rag"

# Launchers are scripts, not symlinks: the frozen app finds its _internal folder beside the
# real executable, and a script keeps that true whatever resolves the link.
for exe in desktop-rag desktop-rag-gui; do
    printf '#!/bin/sh\nexec /opt/desktop-rag/%s "$@"\n' "$exe" >"$STAGE/usr/bin/$exe"
    chmod 755 "$STAGE/usr/bin/$exe"
done

# The menu entry keeps its name from resources/: on Wayland the window is matched to its
# entry by that name (the app's desktopFileName), so it must not be renamed here.
set -- resources/*.desktop
if [ "$#" -ne 1 ] || [ ! -f "$1" ]; then
    echo "build_deb.sh: expected exactly one resources/*.desktop file" >&2
    exit 1
fi
if ! grep -q '^Exec=desktop-rag-gui' "$1"; then
    echo "build_deb.sh: $1 must start the app with Exec=desktop-rag-gui" >&2
    exit 1
fi
install -m 644 "$1" "$STAGE/usr/share/applications/$(basename "$1")"

# Icons: desktop-rag.svg becomes the scalable icon, every desktop-rag*.png goes to the
# size folder its own header states (bytes 16-19 of a PNG hold the width).
icon_count=0
for svg in "$ICONS"/desktop-rag.svg; do
    [ -f "$svg" ] || continue
    install -D -m 644 "$svg" "$STAGE/usr/share/icons/hicolor/scalable/apps/desktop-rag.svg"
    icon_count=$((icon_count + 1))
done
for png in $(find "$ICONS" -name 'desktop-rag*.png' 2>/dev/null | sort); do
    width=$(od -An -tu1 -j16 -N4 "$png" | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}')
    install -D -m 644 "$png" "$STAGE/usr/share/icons/hicolor/${width}x${width}/apps/desktop-rag.png"
    icon_count=$((icon_count + 1))
done
if [ "$icon_count" -eq 0 ]; then
    echo "build_deb.sh: no icon (expected $ICONS/desktop-rag.svg or desktop-rag*.png)" >&2
    exit 1
fi

cat >"$STAGE/usr/share/doc/desktop-rag/copyright" <<'COPYRIGHT'
Desktop RAG is released under the MIT license. The bundled folder /opt/desktop-rag/_internal
holds third-party components under their own licenses (Python, Qt/PySide6 under LGPLv3,
PyTorch, LanceDB, llama.cpp, all-MiniLM-L6-v2 under Apache-2.0, SmolLM2 under Apache-2.0);
their license files are kept beside them where their wheels ship them.
COPYRIGHT

# Depends: glibc (at least the build machine's: binaries built against it need its symbol
# versions) and every system library Qt's display plugins need beyond glibc (xcb, Wayland,
# EGL/GL, fontconfig ...). That list lives in desktop_rag.core.install.system_libs, which the app's
# launcher also uses to name what is missing, so the package and the check cannot drift.
# PYTHON: an interpreter that can import the package's dependencies (make package passes .venv's).
GLIBC=$(ldd --version | head -n 1 | awk '{print $NF}')
DISPLAY_DEPENDS=$(PYTHONPATH="src${PYTHONPATH:+:$PYTHONPATH}" "${PYTHON:-python3}" \
    -m desktop_rag.core.install.system_libs --deb-depends)
INSTALLED_KB=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
cat >"$STAGE/DEBIAN/control" <<CONTROL
Package: desktop-rag
Version: $VERSION
Section: utils
Priority: optional
Architecture: $ARCH
Installed-Size: $INSTALLED_KB
Depends: libc6 (>= $GLIBC), $DISPLAY_DEPENDS
Recommends: hicolor-icon-theme, desktop-file-utils, fonts-dejavu-core | fonts-freefont-ttf
Maintainer: $MAINTAINER
Description: chat with the folders on your own computer, fully offline
 Desktop RAG indexes the folders you choose (text, Markdown, PDF, Word, HTML,
 code) and answers questions about them with a local language model, citing
 the files and pages it used. Nothing leaves the computer: the embedding model
 (all-MiniLM-L6-v2) and a small chat model (SmolLM2-135M) are included.
 .
 Commands: desktop-rag-gui (the app), desktop-rag (command line; try
 "desktop-rag selftest").
CONTROL

mkdir -p "$OUT_DIR"
DEB="$OUT_DIR/desktop-rag_${VERSION}_$ARCH.deb"
dpkg-deb --root-owner-group -Z"$COMPRESSION" --build "$STAGE" "$DEB"
rm -rf "$STAGE"  # a second full copy of the app
echo "$DEB ($(du -h "$DEB" | cut -f1))"
