#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs (npm and PyPI packages,
# through scripts/install-tools.sh), then runs formatting and lint checks, the Rust tests,
# the Solidity tests and the end-to-end tests against the real `altius` binary.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
passed=0
failed=0

step() { printf '\n==> %s\n' "$*"; }
count() { # count PASSED FAILED
  passed=$((passed + $1)); failed=$((failed + $2))
}

step "installing test tools"
bash scripts/install-tools.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "cargo test"
status=0
cargo test --workspace --no-fail-fast 2>&1 | tee "$log/cargo.txt" || status=$?
p=$(grep -Eo '^test result: .* ([0-9]+) passed' "$log/cargo.txt" | grep -Eo '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
f=$(grep -Eo '^test result: .* ([0-9]+) failed' "$log/cargo.txt" | grep -Eo '[0-9]+ failed' | awk '{s+=$1} END {print s+0}')
[ "$status" -ne 0 ] && [ "$f" -eq 0 ] && f=1
count "$p" "$f"

step "forge build and test (contracts/)"
status=0
bash scripts/check-contracts.sh 2>&1 | tee "$log/forge.txt" || status=$?
p=$(grep -Eo '[0-9]+ tests passed' "$log/forge.txt" | tail -n 1 | grep -Eo '^[0-9]+' || echo 0)
f=$(grep -Eo '[0-9]+ failed' "$log/forge.txt" | tail -n 1 | grep -Eo '^[0-9]+' || echo 0)
[ "$status" -ne 0 ] && [ "$f" -eq 0 ] && f=1
count "$p" "$f"

step "building the altius binary for the end-to-end tests"
cargo build -p altius-sequencer --bin altius

step "end-to-end tests (node --test: viem, ethers, cast)"
export ALTIUS_BIN="$root/target/debug/altius"
status=0
node --test --test-concurrency=1 tests/e2e/ 2>&1 | tee "$log/node.txt" || status=$?
p=$(grep -E '^# pass [0-9]+' "$log/node.txt" | awk '{print $3}' | tail -n 1)
f=$(grep -E '^# fail [0-9]+' "$log/node.txt" | awk '{print $3}' | tail -n 1)
p=${p:-0}; f=${f:-0}
[ "$status" -ne 0 ] && [ "$f" -eq 0 ] && f=1
count "$p" "$f"

step "end-to-end tests (web3.py)"
status=0
tests/.venv/bin/python tests/e2e/test_web3.py 2>&1 | tee "$log/py.txt" || status=$?
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log/py.txt" | tail -n 1)
p=$(echo "${line:-0 passed, 0 failed}" | awk '{print $1}')
f=$(echo "${line:-0 passed, 0 failed}" | awk '{print $3}')
[ "$status" -ne 0 ] && [ "$f" -eq 0 ] && f=1
count "$p" "$f"

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
