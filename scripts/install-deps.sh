#!/usr/bin/env bash
# Installs every build, test and run dependency of Encore from Debian 12 packages.
# Idempotent: a second run is quick. Needs root (or sudo).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PKGS=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-url1.81-dev
  libsqlitecpp-dev libsqlite3-dev sqlite3
  libssl-dev openssl ca-certificates
  nlohmann-json3-dev catch2 libcli11-dev
  libhowardhinnant-date-dev tzdata
  clang libclang-rt-14-dev
  faketime libfaketime wrk curl jq
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
