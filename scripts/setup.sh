#!/usr/bin/env bash
# Everything the tests need on a fresh Debian machine: Debian's chromium for the docs test (never a browser
# download), Debian's redis-server for the Redis store tests, the npm packages pinned in package-lock.json, and
# the runtimes of the runtime smoke test (Node 22 and 24, Bun, Deno, workerd through miniflare), each pinned in
# its own folder under tools/runtimes/ (its own package.json and package-lock.json, so npm never mixes them).
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

# The runtimes download in parallel (a few hundred MB from the npm registry); any failure fails the set-up.
pids=()
for folder in tools/runtimes/*/; do
  (cd "$folder" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) &
  pids+=("$!:$folder")
done
status=0
for entry in "${pids[@]}"; do
  if ! wait "${entry%%:*}"; then echo "could not install the runtime in ${entry#*:}" >&2; status=1; fi
done
exit "$status"
