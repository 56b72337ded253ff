#!/usr/bin/env bash
# Installs what the end-to-end test needs, once: Debian packages (only when missing, only as root)
# and code-server from the npm registry under vscode-ext/.e2e/cs. Called by e2e.sh; safe to re-run.
set -euo pipefail

EXT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
E2E=$EXT/.e2e
CS_VERSION=4.100.3   # VS Code 1.100.3: the newest code-server whose engines.node accepts Node 20

missing=()
for pkg in libkrb5-dev ripgrep chromium; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "e2e-install: missing Debian packages: ${missing[*]} (install them as root: apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "e2e-install: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cs_pkg=$E2E/cs/node_modules/code-server/package.json
if [[ -f $cs_pkg ]] && grep -q "\"version\": \"$CS_VERSION\"" "$cs_pkg"; then
  exit 0
fi

echo "e2e-install: npm install code-server@$CS_VERSION (about a minute)"
export TMPDIR=$E2E/tmp
mkdir -p "$E2E/cs" "$TMPDIR"
# @vscode/ripgrep's postinstall downloads rg from GitHub, which these machines cannot reach:
# seed its download cache with Debian's rg instead.
cache=$TMPDIR/vscode-ripgrep-cache-1.15.11
mkdir -p "$cache"
staging=$(mktemp -d)
cp /usr/bin/rg "$staging/rg"
tar czf "$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$staging" rg
rm -rf "$staging"
cd "$E2E/cs"
echo '{"name":"cs-host","private":true}' > package.json
# unsafe_perm: the postinstall refuses root otherwise; yes: node-pty's postinstall runs `npx node-gyp`.
npm_config_yes=true npm_config_unsafe_perm=true npm install --no-audit --no-fund --foreground-scripts \
  "code-server@$CS_VERSION" > "$E2E/install.log" 2>&1 || {
  tail -40 "$E2E/install.log" >&2
  exit 1
}
