#!/usr/bin/env bash
# Everything the tests need on a fresh Debian machine: Debian's chromium for the docs test (never a browser
# download) and the npm packages pinned in package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
chromium --version

npm ci --no-audit --no-fund
