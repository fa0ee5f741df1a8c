#!/usr/bin/env bash
# scripts/setup.sh: install every dependency from Debian's packages.
# Safe to run twice: only missing packages are installed, and the package
# lists are refreshed only when something must be installed.
set -euo pipefail
PKGS=(
  build-essential
  zlib1g-dev
  libcjson-dev
  nettle-dev
  hmmer-examples
  python3-numpy
  python3-scipy
  python3-pandas
  clang
  libclang-rt-14-dev
  g++
  time
  liblbfgs-dev
  libopenblas-dev
  python3-torch
  libsqlite3-dev
  chromium
  fonts-dejavu-core
  python3-dev
  python3-cffi
  python3-pytest
  pkgconf
  openmpi-bin
  libopenmpi-dev
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PKGS[@]} packages already installed"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
