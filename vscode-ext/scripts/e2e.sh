#!/usr/bin/env bash
# End-to-end test of the packaged extension in a real VS Code (code-server 4.100.3), driven by
# Debian's Chromium through playwright-core (scripts/e2e.mjs):
#   install code-server once -> build and `vsce package` -> install the .vsix -> a workspace with
#   a logged run -> open DVC Media -> move the shared slider -> the image and its box change ->
#   screenshot in vscode-ext/.e2e/shot.png.
# Run from anywhere: `bash vscode-ext/scripts/e2e.sh`. Env: DVCSTAGE_PYTHON (a Python with
# dvcstage installed; default: the repository's .venv), E2E_TIMEOUT (seconds for the driver, 240),
# E2E_MODE (panel | host; default panel: the real panel is driven; host: a stub page stands in
# for it and the driver plays the panel's side of docs/panel-host.md).
# Exits non-zero on failure; stops everything it started, by process group id.
set -euo pipefail

EXT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO=$(dirname "$EXT")
E2E=$EXT/.e2e
PY=${DVCSTAGE_PYTHON:-$REPO/.venv/bin/python}
START=$SECONDS
say() { printf 'e2e [%3ds] %s\n' $((SECONDS - START)) "$*"; }

[[ -x $PY ]] || command -v "$PY" >/dev/null || { echo "e2e: no Python at $PY (set DVCSTAGE_PYTHON)" >&2; exit 2; }

bash "$EXT/scripts/e2e-install.sh"
say "code-server ready"

cd "$EXT"
[[ -x node_modules/.bin/vsce ]] || npm ci --no-audit --no-fund
node scripts/build.mjs
MODE=${E2E_MODE:-panel}
grep -q 'shared-step' dist/webview/panel.js || { echo "e2e: the panel bundle has no input#shared-step" >&2; exit 1; }
VSCE=(node "$EXT/node_modules/@vscode/vsce/vsce" package --no-dependencies --allow-missing-repository --skip-license)
if [[ $MODE == host ]]; then
  say "NOTE: host mode (E2E_MODE=host): a stub page stands in for the panel"
  # Packaged from a copy, so that dist/ (which others' tests use) keeps the real bundle.
  rm -rf "$E2E/pkg" && mkdir -p "$E2E/pkg/dist/webview"
  cp -r package.json README.md .vscodeignore media "$E2E/pkg/"
  cp -r dist/extension "$E2E/pkg/dist/"
  echo 'document.getElementById("app").textContent = "e2e: host check";' >"$E2E/pkg/dist/webview/panel.js"
  echo '#app { font: 13px sans-serif; }' >"$E2E/pkg/dist/webview/panel.css"
  VSIX=$E2E/dvcstage-host-check.vsix
  (cd "$E2E/pkg" && "${VSCE[@]}" -o "$VSIX") >"$E2E/package.log" 2>&1 || { cat "$E2E/package.log" >&2; exit 1; }
else
  VSIX=$EXT/dist/dvcstage.vsix
  "${VSCE[@]}" -o "$VSIX" >"$E2E/package.log" 2>&1 || { cat "$E2E/package.log" >&2; exit 1; }
fi
say "packaged $(du -h "$VSIX" | cut -f1) $VSIX"

# A fresh profile, extensions folder and workspace every run: the test sees only the .vsix.
rm -rf "$E2E/userdata" "$E2E/extensions" "$E2E/xdg" "$E2E/workspace" "$E2E/shot.png"
mkdir -p "$E2E/userdata/User" "$E2E/extensions"
"$PY" "$EXT/scripts/e2e-workspace.py" "$E2E/workspace"
"$PY" - "$E2E/userdata/User/settings.json" "$PY" <<'PYEOF'
import json, sys
json.dump({
    "workbench.startupEditor": "none",
    "telemetry.telemetryLevel": "off",
    "security.workspace.trust.enabled": False,
    "extensions.autoUpdate": False,
    "extensions.autoCheckUpdates": False,
    "workbench.tips.enabled": False,
    "chat.commandCenter.enabled": False,
    "git.openRepositoryInParentFolders": "never",
    "dvcstage.pythonPath": sys.argv[2],
}, open(sys.argv[1], "w"), indent=2)
PYEOF

export XDG_CONFIG_HOME=$E2E/xdg/config XDG_DATA_HOME=$E2E/xdg/data XDG_CACHE_HOME=$E2E/xdg/cache
export TMPDIR=$E2E/tmp
mkdir -p "$TMPDIR"
printf 'auth: none\ncert: false\n' >"$E2E/cs-config.yaml"
CS=$E2E/cs/node_modules/.bin/code-server
ARGS=(--config "$E2E/cs-config.yaml" --user-data-dir "$E2E/userdata" --extensions-dir "$E2E/extensions")
"$CS" "${ARGS[@]}" --install-extension "$VSIX" >"$E2E/install-extension.log" 2>&1 \
  || { cat "$E2E/install-extension.log" >&2; exit 1; }
ls "$E2E/extensions" | grep -q '^dvcstage\.dvcstage-' || { echo "e2e: the .vsix did not install" >&2; exit 1; }
say "installed the .vsix"

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
CS_PID=
cleanup() {
  local status=$?
  if [[ -n $CS_PID ]] && kill -0 "$CS_PID" 2>/dev/null; then
    # code-server, its extension host and dvcstage-lsp share the process group setsid gave it.
    kill -TERM -- "-$CS_PID" 2>/dev/null || true
    for _ in $(seq 50); do pgrep -g "$CS_PID" >/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$CS_PID" 2>/dev/null || true
  fi
  if ((status != 0)); then
    echo "e2e: FAILED (exit $status); code-server log: $E2E/code-server.log" >&2
    tail -20 "$E2E/code-server.log" >&2 2>/dev/null || true
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

setsid "$CS" "${ARGS[@]}" --auth none --bind-addr "127.0.0.1:$PORT" --disable-telemetry \
  --disable-update-check --disable-workspace-trust --disable-getting-started-override \
  "$E2E/workspace" >"$E2E/code-server.log" 2>&1 &
CS_PID=$!
for _ in $(seq 120); do
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  kill -0 "$CS_PID" 2>/dev/null || { echo "e2e: code-server exited" >&2; exit 1; }
  sleep 0.5
done
curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null || { echo "e2e: code-server did not answer on :$PORT" >&2; exit 1; }
say "code-server on 127.0.0.1:$PORT (pid $CS_PID)"

# A Python without dvcstage, for the "how to install it" message (skipped when there is none).
NO_DVCSTAGE=
for candidate in /usr/bin/python3 /usr/local/bin/python3; do
  if [[ -x $candidate ]] && ! "$candidate" -c 'import dvcstage_lsp' 2>/dev/null; then NO_DVCSTAGE=$candidate; break; fi
done
E2E_PYTHON_WITHOUT_DVCSTAGE=$NO_DVCSTAGE \
E2E_MODE=$MODE E2E_PORT=$PORT E2E_WORKSPACE=$E2E/workspace E2E_SHOT=$E2E/shot.png \
  timeout "${E2E_TIMEOUT:-240}" node "$EXT/scripts/e2e.mjs"
say "passed ($MODE mode); screenshot $E2E/shot.png"
