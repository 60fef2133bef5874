#!/usr/bin/env bash
# solc-shim.sh - lets forge use solcjs (npm package `solc`) as its compiler, offline.
#
# forge cannot download a native solc here, but it accepts a path to a compiler
# (`solc = ...` in foundry.toml or FOUNDRY_SOLC). It talks to that compiler in
# two ways, which this script bridges to solcjs:
#   <solc> --version            -> forge wants a line "Version: X.Y.Z+commit.H.Linux.g++"
#   <solc> --standard-json ...  -> standard JSON on stdin/stdout; forge adds flags
#                                  (--allow-paths, --base-path, --include-path) that
#                                  solcjs rejects or does not need: forge already
#                                  inlines every source in the JSON, so we drop them.
# solcjs also prints ">>>" lines (SMT solver notes) on stdout, which would corrupt
# the JSON; they are removed.
# solcjs is given files, not pipes, on both sides: reading a piped stdin it can fail
# with EAGAIN (node makes the pipe non-blocking and solcjs reads it synchronously),
# and it ends with process.exit() right after writing, which truncates its output
# at 64 KiB when stdout is a pipe (as under forge).
#
# The solcjs used is <repo>/node_modules/solc/solc.js (installed by
# scripts/install-tools.sh), or $SOLCJS if set (path to solc.js).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
solcjs="${SOLCJS:-$here/../node_modules/solc/solc.js}"
if [[ ! -f "$solcjs" ]]; then
  echo "solc-shim: solcjs not found at $solcjs (run scripts/install-tools.sh)" >&2
  exit 1
fi

mode=""
for arg in "$@"; do
  case "$arg" in
    --version|-V) mode=version ;;
    --standard-json) mode=standard-json ;;
  esac
done

case "$mode" in
  version)
    v="$(node "$solcjs" --version)"          # e.g. 0.8.30+commit.73712a01.Emscripten.clang
    echo "solc, the solidity compiler commandline interface"
    echo "Version: ${v%%.Emscripten*}.Linux.g++"
    ;;
  standard-json)
    tmp="$(mktemp -d "${TMPDIR:-/tmp}/solc-shim.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    cat >"$tmp/input.json"
    node "$solcjs" --standard-json <"$tmp/input.json" >"$tmp/output.json"
    sed '/^>>>/d' "$tmp/output.json"
    ;;
  *)
    echo "solc-shim: only --version and --standard-json are supported (got: $*)" >&2
    exit 2
    ;;
esac
