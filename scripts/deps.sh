#!/bin/sh
# Installs what cairn needs on Debian 12, skipping what is already there.
#   scripts/deps.sh          build and run
#   scripts/deps.sh --test   also the test suite's clients and tools
set -eu
export DEBIAN_FRONTEND=noninteractive

BUILD="gcc make pkg-config libh2o-evloop-dev libssl-dev libxml2-dev libsqlite3-dev
       libcurl4-openssl-dev libisal-dev libyaml-dev libjansson-dev zlib1g-dev"
TEST="libcriterion-dev awscli s3cmd rclone python3 python3-boto3 python3-botocore python3-awscrt
      python3-pytest curl nginx-light clang-format"

want=$BUILD
[ "${1:-}" = "--test" ] && want="$BUILD $TEST"

missing=
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# Node.js 20 or later (the AWS SDK for JavaScript v3 needs it): some images
# ship it outside dpkg's view of npm, so look for the commands themselves.
if [ "${1:-}" = "--test" ] && ! { command -v node && command -v npm; } >/dev/null 2>&1; then
    missing="$missing nodejs npm"
fi
if [ -n "$missing" ]; then
    echo "deps: installing$missing"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing
fi
if [ "${1:-}" = "--test" ]; then
    (cd tests/e2e && npm install --no-audit --no-fund --silent)
fi
