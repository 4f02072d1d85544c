#!/usr/bin/env bash
# The Debian packages baton's tests need beyond npm, installed when missing:
#   chromium       packages/cli/test/report-browser.test.ts opens the HTML
#                  report in a real headless browser (/usr/bin/chromium).
#   postgresql-15  server binaries for @baton/adapters-postgres's tests and the
#                  postgres-local drill; the tests create and stop their own
#                  clusters on free loopback ports (PG_BIN overrides the path).
# `pnpm test` runs this first, so the README's two commands work on a fresh
# machine; it prints nothing when everything is there. Not root and no sudo:
# it names what to install and fails.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ -z "${PG_BIN:-}" ] && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  missing+=(postgresql-15)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  echo "baton tests need these Debian packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "baton tests need ${missing[*]} and this system has no apt-get: install them by hand" >&2
  exit 1
fi

echo "== installing ${missing[*]} (Debian packages the tests need)"
"${SUDO[@]}" apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
