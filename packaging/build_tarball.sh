#!/bin/sh
# Pack the PyInstaller folder as dist/desktop-rag-<version>-linux-<arch>.tar.gz.
# Usage: packaging/build_tarball.sh [APP_DIR] [OUT_DIR]   (run from the repository root)
# The archive unpacks to one folder; `touch portable.txt` beside the executables makes it
# keep its data in `data/` next to them (see packaging/README.md).
set -eu

APP_DIR=${1:-dist/desktop-rag}
OUT_DIR=${2:-dist}
VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' src/desktop_rag/__init__.py)
NAME="desktop-rag-$VERSION-linux-$(uname -m)"

if [ ! -x "$APP_DIR/desktop-rag" ] || [ ! -x "$APP_DIR/desktop-rag-gui" ]; then
    echo "build_tarball.sh: no frozen app in $APP_DIR (run 'make package')" >&2
    exit 1
fi
mkdir -p "$OUT_DIR"
# Fixed owner, order and times: the same folder always gives the same archive.
tar -C "$(dirname "$APP_DIR")" \
    --transform "s,^$(basename "$APP_DIR"),$NAME," \
    --sort=name --owner=0 --group=0 --numeric-owner \
    --mtime="@${SOURCE_DATE_EPOCH:-$(stat -c %Y src/desktop_rag/__init__.py)}" \
    -cf - "$(basename "$APP_DIR")" | gzip -n -6 >"$OUT_DIR/$NAME.tar.gz.tmp"
mv "$OUT_DIR/$NAME.tar.gz.tmp" "$OUT_DIR/$NAME.tar.gz"
echo "$OUT_DIR/$NAME.tar.gz ($(du -h "$OUT_DIR/$NAME.tar.gz" | cut -f1))"
