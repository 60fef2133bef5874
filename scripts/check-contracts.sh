#!/usr/bin/env bash
# Builds and tests the Solidity contracts in contracts/ offline (forge + solcjs via
# contracts/solc-shim.sh), and fails if the committed ABI/bytecode artifacts in
# contracts/artifacts/ differ from what the sources compile to.
#
#   scripts/check-contracts.sh            build, check artifacts, run forge tests
#   scripts/check-contracts.sh --update   build and rewrite contracts/artifacts/, then test
#
# Needs the tools from scripts/install-tools.sh.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
contracts="$root/contracts"
forge="$root/node_modules/@foundry-rs/forge-linux-amd64/bin/forge"

update=0
case "${1:-}" in
  "") ;;
  --update) update=1 ;;
  *) echo "usage: $0 [--update]" >&2; exit 2 ;;
esac

for f in "$forge" "$root/node_modules/solc/solc.js"; do
  if [[ ! -e "$f" ]]; then
    echo "check-contracts: $f is missing; run scripts/install-tools.sh first" >&2
    exit 1
  fi
done

# forge resolves a relative `solc` path from the current directory, so run it from
# the project directory and give it the shim's absolute path.
cd "$contracts"
export FOUNDRY_SOLC="$contracts/solc-shim.sh"
export FOUNDRY_OFFLINE=true

echo "==> forge build"
"$forge" build

echo "==> artifacts"
if [[ $update -eq 1 ]]; then
  node "$contracts/scripts/export-artifacts.js" write "$contracts/out" "$contracts/artifacts"
else
  node "$contracts/scripts/export-artifacts.js" check "$contracts/out" "$contracts/artifacts"
fi

echo "==> forge test"
"$forge" test
