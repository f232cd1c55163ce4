#!/usr/bin/env bash
# Make Debian's Chromium available for tests/test_browser.py (run by `make test`).
# Installs it with apt-get when this user can (root on Debian/Ubuntu, as in CI); otherwise writes
# the reason to test-output/browser-unavailable.txt so that the browser test is skipped with it.
set -u
mkdir -p test-output
rm -f test-output/browser-unavailable.txt
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the browser test (apt-get)..."
    if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
        exit 0
    fi
    echo "apt-get could not install chromium on this machine" > test-output/browser-unavailable.txt
else
    echo "Chromium is not installed and this user cannot install it (needs root and apt-get); install the 'chromium' package to run the browser test" > test-output/browser-unavailable.txt
fi
cat test-output/browser-unavailable.txt
exit 0
