#!/usr/bin/env bash
# Make Debian's Chromium available to the console's browser tests.
#
#   bash scripts/chromium-for-tests.sh     find chromium, or install it with apt-get
#                                          (as root); print its path
#
# The browser tests (tests/integration/test_console_browser.py, marker `browser`)
# drive it with Playwright's Python package through `executable_path`: Playwright
# never downloads a browser of its own (do not run `playwright install`). Without
# Chromium they skip with a message, or fail when CREDIT_ENGINE_REQUIRE_BROWSER=1
# (as in CI). CREDIT_ENGINE_TEST_CHROMIUM points the tests at another binary.
set -euo pipefail

say() { printf 'chromium-for-tests: %s\n' "$*" >&2; }

find_chromium() {
    if [ -n "${CREDIT_ENGINE_TEST_CHROMIUM:-}" ] && [ -x "$CREDIT_ENGINE_TEST_CHROMIUM" ]; then
        echo "$CREDIT_ENGINE_TEST_CHROMIUM"
        return 0
    fi
    command -v chromium 2>/dev/null || command -v chromium-browser 2>/dev/null
}

# The console is in Chinese: without a CJK font its screenshots show empty boxes.
ensure_cjk_font() {
    if command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh 2>/dev/null | head -n 1)" ]; then
        return 0
    fi
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing a Chinese font (fonts-wqy-zenhei) for the screenshots"
        # A missing font only spoils the screenshots: never fail the test setup for it.
        if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq \
            && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-zenhei >/dev/null; }; then
            say "could not install fonts-wqy-zenhei: screenshots will show boxes"
        fi
    else
        say "no Chinese font found: screenshots will show boxes (apt-get install fonts-wqy-zenhei)"
    fi
}

if BIN="$(find_chromium)"; then
    ensure_cjk_font
    say "using $BIN ($("$BIN" --version 2>/dev/null || echo 'version unknown'))"
    echo "$BIN"
    exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian's chromium with apt-get (not found on PATH)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null
fi

if BIN="$(find_chromium)"; then
    ensure_cjk_font
    say "installed $BIN ($("$BIN" --version 2>/dev/null || echo 'version unknown'))"
    echo "$BIN"
    exit 0
fi

say "Chromium is not installed and could not be installed here (run this script as"
say "root on Debian/Ubuntu, or apt-get install chromium, or set CREDIT_ENGINE_TEST_CHROMIUM)."
say "Without it the browser tests skip (or fail if CREDIT_ENGINE_REQUIRE_BROWSER=1)."
exit 0
