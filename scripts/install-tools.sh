#!/usr/bin/env bash
# Installs the project's non-Rust tooling, pinned and offline-reproducible:
#   - npm packages from package-lock.json (Foundry's anvil/cast/forge binaries, solcjs,
#     viem, ethers) into ./node_modules, via `npm ci` when missing or stale;
#   - a Python venv at tests/.venv with web3 pinned (from PyPI), when missing.
# Idempotent and quiet on success: it prints only where the tools are, as KEY=path
# lines (ANVIL, CAST, FORGE, SOLCJS, PYTHON). On failure it shows the failing
# command's output.
# Needs: node >= 20 with npm, python3 >= 3.10; network access to the npm registry and
# PyPI only when something has to be installed.
set -euo pipefail

WEB3_VERSION="8.0.0"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Runs a command with its output captured; shows the output only if it fails.
quiet() {
  local log rc=0
  log="$(mktemp "${TMPDIR:-/tmp}/install-tools.XXXXXX")"
  "$@" >"$log" 2>&1 || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "install-tools: command failed (exit $rc): $*" >&2
    cat "$log" >&2
  fi
  rm -f "$log"
  return "$rc"
}

die() { echo "install-tools: $*" >&2; exit 1; }

command -v node >/dev/null || die "node is required (>= 20)"
command -v npm >/dev/null || die "npm is required"
command -v python3 >/dev/null || die "python3 is required"

# ------------------------------------------------------------------------ npm
# node_modules is up to date when the stamp written after the last successful
# `npm ci` holds the current hash of package.json + package-lock.json and the
# binaries are present.
stamp="node_modules/.altius-install-stamp"
want_stamp="$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)"
bins=(
  node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil
  node_modules/@foundry-rs/cast-linux-amd64/bin/cast
  node_modules/@foundry-rs/forge-linux-amd64/bin/forge
  node_modules/solc/solc.js
)
npm_ok=1
[[ -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" ]] || npm_ok=0
for b in "${bins[@]}"; do [[ -e "$b" ]] || npm_ok=0; done
if [[ $npm_ok -eq 0 ]]; then
  # --ignore-scripts: none of the pinned packages needs an install script, and none
  # may download anything at install time.
  quiet npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  for b in "${bins[@]}"; do [[ -e "$b" ]] || die "npm ci did not install $b"; done
  echo "$want_stamp" >"$stamp"
fi

# --------------------------------------------------------------------- python
venv="tests/.venv"
py="$venv/bin/python"
have_web3() {
  [[ -x "$py" ]] && "$py" -c "import importlib.metadata as m, sys; sys.exit(m.version('web3') != '$WEB3_VERSION')" 2>/dev/null
}
if ! have_web3; then
  if [[ ! -x "$py" ]] || ! "$py" -m pip --version >/dev/null 2>&1; then
    rm -rf "$venv"
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
      # Debian's python3 ships venv/ensurepip separately.
      rm -rf "$venv"
      if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        quiet apt-get update
        quiet env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
          python3-venv
        quiet python3 -m venv "$venv"
      else
        die "python3 -m venv failed; install the python3-venv package"
      fi
    fi
  fi
  quiet "$py" -m pip install --disable-pip-version-check --no-input --quiet "web3==$WEB3_VERSION"
  have_web3 || die "web3==$WEB3_VERSION is not importable from $venv"
fi

# ------------------------------------------------------------------- report
echo "ANVIL=$root/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
echo "CAST=$root/node_modules/@foundry-rs/cast-linux-amd64/bin/cast"
echo "FORGE=$root/node_modules/@foundry-rs/forge-linux-amd64/bin/forge"
echo "SOLCJS=$root/node_modules/solc/solc.js"
echo "PYTHON=$root/$py"
