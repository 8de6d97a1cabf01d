#!/usr/bin/env bash
# Everything the tests need on a fresh Debian machine: Debian's chromium for the docs test (never a browser
# download), Debian's redis-server for the Redis store tests, and the npm packages pinned in package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  # A mirror that answers slowly or not at all once should not fail the whole run: try three times.
  for attempt in 1 2 3; do
    if $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null; then
      break
    fi
    if [ "$attempt" = 3 ]; then echo "could not install Debian's ${missing[*]}" >&2; exit 1; fi
    sleep 10
  done
fi
chromium --version
redis-server --version

npm ci --no-audit --no-fund
