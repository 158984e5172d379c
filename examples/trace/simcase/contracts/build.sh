#!/bin/sh
# build.sh rebuilds the committed artifacts build/Swap.bin and build/Swap.abi.json from
# Swap.sol with solc-js from npm at the version chains/ethereum/contracts pins. CI does not
# run it: the case uses the committed artifacts. Needs node and npm.
set -eu
SOLC_VERSION=0.8.28
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm init -y >/dev/null && npm install --silent "solc@$SOLC_VERSION")
mkdir -p "$here/build"
node "$here/build.js" "$tmp/node_modules/solc" "$here/build"
