#!/usr/bin/env bash
# Installs what VoxDB needs to build and test on Debian 12. Idempotent: it
# installs only the packages that are missing. Run as root.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libabsl-dev libflatbuffers-dev flatbuffers-compiler liburing-dev libedit-dev
  libxxhash-dev libasio-dev libbenchmark-dev libgtest-dev libgmock-dev
  # the PostgreSQL peer of the benchmarks (bench/peers/postgres) and its tests
  libpq-dev postgresql-15
  # TLS and SCRAM-SHA-256 (net/), and the fuzzers (clang's libFuzzer, tests/fuzz)
  libssl-dev openssl clang-14 libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all build dependencies present"
fi
