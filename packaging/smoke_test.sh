#!/bin/sh
# Run the frozen app the way a user on a clean, offline machine would, and time it.
# Usage: packaging/smoke_test.sh [APP_DIR]   (default dist/desktop-rag; exit 0 = all passed)
#
# Clean: an empty environment (nothing from the build venv: no PYTHONPATH, no VIRTUAL_ENV,
# no HF cache) and a fresh HOME. Offline: a network namespace of its own (`unshare -n`,
# needs root or user namespaces); where that is refused, proxies point at a closed port.
# Unprivileged: run as root, the app runs as `nobody`, so a bundle it cannot write to (an
# installed /opt/desktop-rag) is what it gets, as on a user's machine.
set -eu

APP_DIR=${1:-dist/desktop-rag}
if [ ! -x "$APP_DIR/desktop-rag" ] || [ ! -x "$APP_DIR/desktop-rag-gui" ]; then
    echo "smoke_test.sh: no frozen app in $APP_DIR (run 'make package')" >&2
    exit 2
fi
APP_DIR=$(cd "$APP_DIR" && pwd)
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
mkdir -p "$SCRATCH/home" "$SCRATCH/gui-data"
chmod 755 "$SCRATCH"
chmod 777 "$SCRATCH/home" "$SCRATCH/gui-data"

if unshare -n true 2>/dev/null; then
    OFFLINE="unshare -n"
    echo "network: none (unshare -n: the app runs in an empty network namespace)"
else
    OFFLINE=""
    echo "network: not isolated (unshare -n refused); proxies point at 127.0.0.1:9"
fi

AS_USER=""
NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && $NOBODY test -x "$APP_DIR/desktop-rag"; then
    AS_USER=$NOBODY
    echo "user: nobody (the bundle is read-only to the app)"
else
    echo "user: $(id -un)"
fi

clean_run() {
    # shellcheck disable=SC2086  # OFFLINE and AS_USER are command prefixes or nothing
    $OFFLINE $AS_USER env -i PATH=/usr/bin:/bin HOME="$SCRATCH/home" LANG=C.UTF-8 \
        QT_QPA_PLATFORM=offscreen \
        http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 \
        HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 no_proxy= \
        "$@"
}

now() { date +%s.%N; }
took() { echo "$1 $(now)" | awk '{printf "%.2f s", $2 - $1}'; }

step() {
    title=$1
    shift
    echo "== $title"
    start=$(now)
    if ! clean_run "$@" >"$SCRATCH/out" 2>&1; then
        cat "$SCRATCH/out"
        echo "FAILED: $title (after $(took "$start"))"
        exit 1
    fi
    cat "$SCRATCH/out"
    echo "-- $title: $(took "$start")"
}

expect_ok() {
    if ! tail -n 1 "$SCRATCH/out" | grep -q '^SELFTEST OK'; then
        echo "FAILED: $1 did not end with SELFTEST OK"
        exit 1
    fi
}

step "desktop-rag --version" "$APP_DIR/desktop-rag" --version
step "desktop-rag --help" "$APP_DIR/desktop-rag" --help
step "desktop-rag selftest" "$APP_DIR/desktop-rag" selftest
expect_ok "desktop-rag selftest"
step "desktop-rag-gui --self-test" "$APP_DIR/desktop-rag-gui" --self-test
expect_ok "desktop-rag-gui --self-test"

# The self-test never touches Qt: start the real window (offscreen) and let the services
# open the index and load the model, then stop it. Still running and nothing logged = pass.
GUI_SECONDS=20
echo "== desktop-rag-gui runs for $GUI_SECONDS s"
set +e
clean_run DESKTOP_RAG_HOME="$SCRATCH/gui-data" timeout "$GUI_SECONDS" "$APP_DIR/desktop-rag-gui" \
    >"$SCRATCH/out" 2>&1
code=$?
set -e
if [ "$code" -ne 124 ]; then
    cat "$SCRATCH/out"
    echo "FAILED: desktop-rag-gui exited with $code within $GUI_SECONDS s"
    exit 1
fi
if [ ! -f "$SCRATCH/gui-data/logs/app.log" ]; then
    cat "$SCRATCH/out"
    echo "FAILED: desktop-rag-gui did not start its log"
    exit 1
fi
if grep -E "Traceback|ERROR|CRITICAL" "$SCRATCH/out" "$SCRATCH/gui-data/logs/app.log"; then
    echo "FAILED: desktop-rag-gui reported errors (above)"
    exit 1
fi
echo "-- desktop-rag-gui: still running after $GUI_SECONDS s, no errors logged"
echo "package-test: all passed"
