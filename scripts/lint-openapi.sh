#!/usr/bin/env bash
# Lints docs/openapi.yaml with Redocly CLI (version pinned in package.json / package-lock.json).
# Installs what it needs: Debian's nodejs + npm packages when node is absent (root or sudo),
# then the locked npm dev dependencies when node_modules/.bin/redocly is missing.
# Exit status: 0 when the description is valid, non-zero on lint errors or setup failure.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "lint-openapi: node and npm are required (install Node.js >= 18.17)" >&2
    exit 1
  fi
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "lint-openapi: installing Debian packages nodejs npm" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
echo "lint-openapi: node $(node --version), npm $(npm --version 2>/dev/null)"

if [ ! -x node_modules/.bin/redocly ]; then
  log="$(mktemp)"
  trap 'rm -f "$log"' EXIT
  if ! npm ci --no-audit --no-fund --loglevel=error >"$log" 2>&1; then
    cat "$log" >&2
    echo "lint-openapi: npm ci failed" >&2
    exit 1
  fi
fi

exec npx --no-install redocly lint docs/openapi.yaml
