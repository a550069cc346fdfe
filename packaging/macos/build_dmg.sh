#!/bin/sh
# Build dist/desktop-rag-<version>-macos-<arch>.dmg from "dist/Desktop RAG.app" (macOS only).
# Usage: packaging/macos/build_dmg.sh   (run from the repository root after `make package`,
# which calls it on macOS once PyInstaller has written the .app)
#
# Optional signing and notarization (needed for Gatekeeper to open the app without a warning):
#   CODESIGN_IDENTITY="Developer ID Application: Name (TEAMID)"  signs the .app and the .dmg
#   NOTARY_PROFILE=<profile>   notarizes with `xcrun notarytool` (a keychain profile made with
#                              `xcrun notarytool store-credentials`) and staples the ticket
set -eu

APP="dist/Desktop RAG.app"
VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' src/desktop_rag/__init__.py)
DMG="dist/desktop-rag-$VERSION-macos-$(uname -m).dmg"
STAGE=build/dmg

if [ "$(uname -s)" != Darwin ]; then
    echo "build_dmg.sh: hdiutil exists only on macOS" >&2
    exit 1
fi
if [ ! -x "$APP/Contents/MacOS/desktop-rag-gui" ]; then
    echo "build_dmg.sh: no app bundle at $APP (run 'make package')" >&2
    exit 1
fi

if [ -n "${CODESIGN_IDENTITY:-}" ]; then
    # Hardened runtime is required for notarization. torch and llama.cpp load code at run
    # time, hence the entitlement for unsigned executable memory and library validation off.
    ENTITLEMENTS=build/entitlements.plist
    mkdir -p build
    cat >"$ENTITLEMENTS" <<'PLIST'
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
    <key>com.apple.security.cs.allow-unsigned-executable-memory</key><true/>
    <key>com.apple.security.cs.disable-library-validation</key><true/>
</dict>
</plist>
PLIST
    codesign --force --deep --timestamp --options runtime \
        --entitlements "$ENTITLEMENTS" --sign "$CODESIGN_IDENTITY" "$APP"
    codesign --verify --deep --strict --verbose=2 "$APP"
fi

rm -rf "$STAGE"
mkdir -p "$STAGE"
# ditto keeps the symlinks and extended attributes a signed bundle depends on; cp -R may not.
ditto "$APP" "$STAGE/Desktop RAG.app"
ln -s /Applications "$STAGE/Applications"
rm -f "$DMG"
hdiutil create -volname "Desktop RAG $VERSION" -srcfolder "$STAGE" -fs HFS+ \
    -format UDZO -imagekey zlib-level=9 -ov "$DMG"

if [ -n "${CODESIGN_IDENTITY:-}" ]; then
    codesign --force --timestamp --sign "$CODESIGN_IDENTITY" "$DMG"
    if [ -n "${NOTARY_PROFILE:-}" ]; then
        xcrun notarytool submit "$DMG" --keychain-profile "$NOTARY_PROFILE" --wait
        xcrun stapler staple "$DMG"
    fi
fi
echo "$DMG ($(du -h "$DMG" | cut -f1))"
