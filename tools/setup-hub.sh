#!/usr/bin/env bash
# configurable-http-proxy (the JupyterHub proxy, from the npm registry) for tests/test_hub_round.py and a course
# hub (hub/jupyterhub_config.py finds it in .venv/node). Run by `make test`. Needs Node.js with npm; installs Debian's
# nodejs/npm with apt-get when they are missing and this user is root. Otherwise writes the reason to
# test-output/hub-unavailable.txt, which the hub test reports (and fails on under CI).
set -u
cd "$(dirname "$0")/.."
mkdir -p test-output
rm -f test-output/hub-unavailable.txt
PROXY=.venv/node/node_modules/.bin/configurable-http-proxy
if [ -x "$PROXY" ]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1 && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's nodejs and npm for the hub's proxy (apt-get)..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "npm is missing (install Node.js 18 or later with npm) so configurable-http-proxy cannot be installed" \
        > test-output/hub-unavailable.txt
    cat test-output/hub-unavailable.txt
    exit 0
fi
echo "Installing configurable-http-proxy from the npm registry into .venv/node..."
if ! npm install --prefix .venv/node --no-audit --no-fund --loglevel=error configurable-http-proxy@5 >/dev/null; then
    echo "npm could not install configurable-http-proxy" > test-output/hub-unavailable.txt
    cat test-output/hub-unavailable.txt
fi
exit 0
