#!/usr/bin/env bash
# Installs what the end-to-end tests drive: a real VS Code workbench (code-server 4.100.3,
# which is VS Code 1.100.3) from the npm registry, and Debian's Chromium. Idempotent.
# Usage: scripts/install-code-server.sh [DIR]   (default: $HOME/.cache/smmu-debug-e2e)
# The last line printed is the code-server launcher.
set -euo pipefail
CODE_SERVER=4.100.3
# code-server's @vscode/ripgrep dependency fetches a binary from outside the npm registry
# when it installs; it is handed Debian's ripgrep through its download cache instead.
RIPGREP_PKG=1.15.11
RIPGREP_ARCHIVE=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz
DIR=${1:-$HOME/.cache/smmu-debug-e2e}
BIN=$DIR/node_modules/.bin/code-server

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v rg >/dev/null || missing+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "${missing[@]}" >&2
fi

if [ -x "$BIN" ] && "$BIN" --version >/dev/null 2>&1; then
  echo "$BIN"
  exit 0
fi

cache="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-$RIPGREP_PKG"
mkdir -p "$cache"
if [ ! -s "$cache/$RIPGREP_ARCHIVE" ]; then
  staging=$(mktemp -d)
  cp "$(command -v rg)" "$staging/rg"
  tar czf "$cache/$RIPGREP_ARCHIVE" -C "$staging" rg
  rm -rf "$staging"
fi

mkdir -p "$DIR"
cd "$DIR"
[ -f package.json ] || echo '{ "name": "smmu-debug-e2e-host", "private": true }' > package.json
echo "installing code-server@$CODE_SERVER into $DIR (takes a few minutes)" >&2
npm_config_yes=true npm_config_unsafe_perm=true npm install --no-audit --no-fund "code-server@$CODE_SERVER" >&2
"$BIN" --version >&2
echo "$BIN"
