#!/usr/bin/env bash
# Make a Java runtime available to the Spark tests (pyspark runs Spark in a JVM).
#
#   bash scripts/java-for-tests.sh     find (or install) Java 17+; print its home
#
# Java is found from JAVA_HOME, `java` on PATH, or /usr/lib/jvm/*. If none is
# found and we are root with apt-get, openjdk-17-jre-headless is installed (as
# scripts/postgres-for-tests.sh installs PostgreSQL). If Java still cannot be
# had, the script says so and exits 0: the Spark tests then skip, or fail when
# CREDIT_ENGINE_REQUIRE_SPARK=1 (as in CI).
set -euo pipefail

say() { printf 'java-for-tests: %s\n' "$*" >&2; }

java_major() {
    # The major version of the java binary $1 (17 for "17.0.12", 8 for "1.8.0").
    local version
    version="$("$1" -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')"
    case "$version" in
        1.*) echo "${version#1.}" | cut -d. -f1 ;;
        *) echo "$version" | cut -d. -f1 | cut -d- -f1 ;;
    esac
}

find_java() {
    local candidate
    for candidate in ${JAVA_HOME:+"$JAVA_HOME/bin/java"} "$(command -v java 2>/dev/null || true)" \
        $(ls -d /usr/lib/jvm/*/bin/java 2>/dev/null | sort -V -r); do
        if [ -n "$candidate" ] && [ -x "$candidate" ] && [ "$(java_major "$candidate")" -ge 17 ] 2>/dev/null; then
            dirname "$(dirname "$(readlink -f "$candidate")")"
            return 0
        fi
    done
    return 1
}

if ! HOME_DIR="$(find_java)"; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing openjdk-17-jre-headless with apt-get (no Java 17+ found)"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
    fi
    if ! HOME_DIR="$(find_java)"; then
        say "no Java 17+ runtime found (JAVA_HOME, java on PATH, /usr/lib/jvm/*)."
        say "Install one (Debian/Ubuntu: apt-get install openjdk-17-jre-headless) or set JAVA_HOME."
        say "Without it the Spark tests skip (or fail if CREDIT_ENGINE_REQUIRE_SPARK=1)."
        exit 0
    fi
fi
say "Java runtime: $HOME_DIR ($(java_major "$HOME_DIR/bin/java"))"
echo "$HOME_DIR"
