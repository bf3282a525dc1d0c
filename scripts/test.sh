#!/usr/bin/env bash
# The whole test suite, with what it needs set up first (README: "Test it"). On a fresh machine
# it starts (or installs, when running as root) a local PostgreSQL server and names it in
# YINGJI_TEST_POSTGRES_URL, installs Debian's Chromium with a CJK font and Node.js for the
# console's browser test, LibreOffice (headless) and xmllint for the document tests, moto's
# S3-compatible server (PyPI) for the attachment store's test, runs `npm ci` in e2e/, and then runs `cargo test --locked --workspace`
# (or `cargo test --locked` with the arguments given instead of `--workspace`). YINGJI_TEST_NO_SETUP=1 skips the set-up. `.ci/run` calls this script.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '== %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
apt_install() {
  command -v apt-get >/dev/null || return 1
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -q && as_root apt-get install -y -q "$@"
}

if [ "${YINGJI_TEST_NO_SETUP:-0}" != 1 ]; then
  say "PostgreSQL"
  if [ -z "${YINGJI_TEST_POSTGRES_URL:-}" ]; then
    if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
      if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
        apt_install postgresql || echo "could not install PostgreSQL; its test variants will be skipped"
      fi
      if ls /etc/postgresql/*/main >/dev/null 2>&1; then
        version="$(ls /etc/postgresql | sort -V | tail -n1)"
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null ||
          as_root pg_ctlcluster "$version" main start 2>/dev/null || true
        for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && break; sleep 1; done
      fi
    fi
    if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
      url="postgres://postgres@127.0.0.1:5432/postgres"
      # A fresh installation asks for a password over TCP: let the local test user in.
      if ! psql "$url" -Atc 'select 1' >/dev/null 2>&1; then
        hba="$(ls /etc/postgresql/*/main/pg_hba.conf 2>/dev/null | tail -n1)"
        if [ -n "$hba" ] && as_root sh -c "grep -q '^host all all 127.0.0.1/32 trust' '$hba' || sed -i '1i host all all 127.0.0.1/32 trust' '$hba'"; then
          as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main reload 2>/dev/null || true
          sleep 1
        fi
      fi
      if psql "$url" -Atc 'select 1' >/dev/null 2>&1; then
        export YINGJI_TEST_POSTGRES_URL="$url"
      else
        echo "PostgreSQL is running but does not let postgres@127.0.0.1 in; its test variants will be skipped"
      fi
    else
      echo "no PostgreSQL server on 127.0.0.1:5432; its test variants will be skipped"
    fi
  fi
  echo "YINGJI_TEST_POSTGRES_URL=${YINGJI_TEST_POSTGRES_URL:-(unset)}"

  say "browser for the console's end-to-end test (Debian chromium, a CJK font, Node.js)"
  if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "wqy\|noto sans cjk"; then
    apt_install chromium fonts-wqy-microhei || echo "could not install chromium; the browser test will say so"
  fi
  say "document readers for the documents' and statistics' tests (LibreOffice headless, xmllint)"
  if [ ! -x /usr/bin/soffice ] || ! command -v xmllint >/dev/null; then
    apt_install --no-install-recommends libreoffice-writer-nogui libreoffice-calc-nogui libxml2-utils ||
      echo "could not install LibreOffice; the document tests will say so"
  fi
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_install nodejs npm || echo "could not install Node.js; the browser test will say so"
  fi
  if command -v npm >/dev/null; then
    (cd e2e && npm ci --no-audit --no-fund)
  fi
  say "an S3-compatible server for the attachment store's test (moto, from PyPI, in target/moto-venv)"
  if [ -z "${YINGJI_TEST_MOTO:-}" ]; then
    venv="target/moto-venv"
    if [ ! -x "$venv/bin/moto_server" ]; then
      python3 -m venv "$venv" 2>/dev/null || { apt_install python3-venv && python3 -m venv "$venv"; } || true
      "$venv/bin/pip" install --quiet "moto[server]" || echo "could not install moto; the S3 test will say so"
    fi
    if [ -x "$venv/bin/moto_server" ]; then
      export YINGJI_TEST_MOTO="$PWD/$venv/bin/moto_server"
    fi
  fi
  echo "YINGJI_TEST_MOTO=${YINGJI_TEST_MOTO:-(unset)}"
fi

if [ "$#" -eq 0 ]; then
  set -- --workspace
fi
say "cargo test --locked $*"
exec cargo test --locked "$@"
