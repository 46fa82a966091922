#!/usr/bin/env bash
# Installs Debian's chromium for the HTML report's browser test (tests/it/html.rs).
# Idempotent and non-interactive: does nothing when /usr/bin/chromium already exists.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    echo "browser: chromium already installed ($(/usr/bin/chromium --version 2>/dev/null || echo 'version unknown'))"
    exit 0
fi

# Run as root directly; otherwise go through sudo when it is there.
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "browser: chromium missing and not root (no sudo); skipping install" >&2
        exit 0
    fi
fi

export DEBIAN_FRONTEND=noninteractive
# Only refresh the package lists when apt does not know the package yet.
if ! apt-cache show chromium >/dev/null 2>&1; then
    echo "browser: apt-get update (chromium not in the package lists yet)"
    $SUDO apt-get update -qq
fi
echo "browser: apt-get install -y chromium"
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
echo "browser: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
