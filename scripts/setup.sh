#!/usr/bin/env bash
# Everything the tests need on a fresh Debian machine: Debian's chromium for the docs test (never a browser
# download) and the npm packages pinned in package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  # A mirror that answers slowly or not at all once should not fail the whole run: try three times.
  for attempt in 1 2 3; do
    if $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null; then
      break
    fi
    if [ "$attempt" = 3 ]; then echo "could not install Debian's chromium" >&2; exit 1; fi
    sleep 10
  done
fi
chromium --version

npm ci --no-audit --no-fund
