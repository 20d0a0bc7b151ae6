#!/bin/sh
# Installs what cairn needs on Debian 12, skipping what is already there.
#   scripts/deps.sh          build and run
#   scripts/deps.sh --test   also the test suite's clients and tools
set -eu
export DEBIAN_FRONTEND=noninteractive

BUILD="gcc make pkg-config libh2o-evloop-dev libssl-dev libxml2-dev libsqlite3-dev
       libcurl4-openssl-dev libisal-dev libyaml-dev libjansson-dev zlib1g-dev"
TEST="libcriterion-dev awscli s3cmd rclone python3 python3-boto3 python3-pytest
      nodejs npm curl nginx-light clang-format"

want=$BUILD
[ "${1:-}" = "--test" ] && want="$BUILD $TEST"

missing=
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "deps: installing$missing"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing
fi
if [ "${1:-}" = "--test" ]; then
    (cd tests/e2e && npm install --no-audit --no-fund --silent)
fi
