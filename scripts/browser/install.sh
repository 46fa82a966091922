#!/usr/bin/env bash
# Installs the browser for the HTML report's browser test (tests/it/html.rs): Debian's
# chromium, as its headless shell (package `chromium-headless-shell`, built from the same
# chromium source and version).
#
# Why the headless shell and not the full `chromium` package: the test asserts that opening
# report.html attempts no network request at all, and the full browser makes requests of its
# own on every start (the signed-in-accounts check to accounts.google.com and the on-device
# model component update to update.googleapis.com) that no command-line flag turns off. The
# headless shell has neither service, so any connection the test sees comes from the page.
#
# Idempotent and non-interactive: does nothing when the browser is already there.
set -euo pipefail

BIN=/usr/bin/chromium-headless-shell
PKG=chromium-headless-shell

if [ -x "$BIN" ]; then
    echo "browser: $PKG already installed ($("$BIN" --version 2>/dev/null || echo 'version unknown'))"
    exit 0
fi

# Run as root directly; otherwise go through sudo when it is there.
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "browser: $PKG missing and not root (no sudo); not installing" >&2
        exit 0
    fi
fi

export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when apt does not know the package yet.
if ! apt-cache show "$PKG" >/dev/null 2>&1; then
    echo "browser: apt-get update ($PKG not in the package lists yet)"
    $SUDO apt-get update -qq
fi
echo "browser: apt-get install -y $PKG fonts-dejavu-core"
$SUDO apt-get install -y -qq --no-install-recommends "$PKG" fonts-dejavu-core >/dev/null
echo "browser: installed $("$BIN" --version 2>/dev/null || echo "$PKG")"
