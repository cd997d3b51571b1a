#!/usr/bin/env bash
# Install the supervisor console's browser assets from the npm registry and copy
# the files the service serves into credit_engine/console/static/vendor/.
#
#   bash scripts/console-assets.sh          install (idempotent: nothing to do when
#                                           the vendor folder matches package-lock.json)
#   bash scripts/console-assets.sh --check  exit 1 unless the vendor folder is current
#
# The versions are pinned in package.json and package-lock.json (committed);
# node_modules/ and the vendor folder are not committed (.gitignore): no third-party
# code lives in the repository, and nothing is fetched from a CDN at run time. The
# service serves the vendor folder from local files; without it, /console shows a
# page saying to run `make setup`. A deployment runs this script (or copies a vendor
# folder made by it) and may point CREDIT_ENGINE_CONSOLE_ASSETS_DIR at that folder.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$REPO/credit_engine/console/static/vendor"
STAMP="$VENDOR/.lock-sha256"

say() { printf 'console-assets: %s\n' "$*" >&2; }

lock_hash() { sha256sum "$REPO/package-lock.json" | cut -d' ' -f1; }

current() {
    [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(lock_hash)" ] \
        && [ -f "$VENDOR/echarts.min.js" ] && [ -f "$VENDOR/htmx.min.js" ]
}

if [ "${1:-}" = "--check" ]; then
    if current; then exit 0; fi
    say "the console's assets are missing or stale; run: make setup (or bash scripts/console-assets.sh)"
    exit 1
fi

if current && [ -f "$REPO/node_modules/axe-core/axe.min.js" ]; then
    say "assets are current ($VENDOR)"
    exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing Node.js and npm with apt-get (npm not found)"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
    fi
fi
if ! command -v npm >/dev/null 2>&1; then
    say "npm is not installed, so the console's chart and htmx libraries cannot be"
    say "installed: install Node.js and npm (Debian: apt-get install nodejs npm) and"
    say "run 'make setup' again. The API works without them; /console says what is missing."
    exit 1
fi

cd "$REPO"
say "installing the pinned packages of package-lock.json with npm ci"
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
mkdir -p "$VENDOR"
cp node_modules/echarts/dist/echarts.min.js "$VENDOR/echarts.min.js"
cp node_modules/echarts/LICENSE "$VENDOR/echarts.LICENSE.txt"
cp node_modules/htmx.org/dist/htmx.min.js "$VENDOR/htmx.min.js"
cp node_modules/htmx.org/LICENSE "$VENDOR/htmx.LICENSE.txt"
node -e 'const p=require("./package-lock.json").packages;const v={};for(const n of ["echarts","htmx.org","zrender"]){v[n]=p["node_modules/"+n].version}process.stdout.write(JSON.stringify(v,null,1)+"\n")' >"$VENDOR/versions.json"
lock_hash >"$STAMP"
say "assets ready in ${VENDOR#"$REPO"/} ($(tr -d '\n ' <"$VENDOR/versions.json"))"
