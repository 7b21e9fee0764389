#!/usr/bin/env bash
# One-time (idempotent) set-up for a fresh machine: Node 24 and pnpm installed project-locally
# under .tools/ (the machine's own Node may be older), workspace dependencies from the lockfile,
# and the local Postgres, Redis and NATS checked and started when down.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

NODE_SPEC="node@24"
PNPM_SPEC="pnpm@10.34.9"

if [ ! -x .tools/bin/node ] || ! .tools/bin/node -e 'process.exit(+process.versions.node.split(".")[0] >= 24 ? 0 : 1)'; then
  echo "setup: installing $NODE_SPEC and $PNPM_SPEC into .tools/" >&2
  mkdir -p .tools
  npm install --prefix .tools --no-save --no-audit --no-fund --loglevel=error "$NODE_SPEC" "$PNPM_SPEC" >&2
  mkdir -p .tools/bin
  ln -sf ../node_modules/.bin/node .tools/bin/node
  ln -sf ../node_modules/.bin/pnpm .tools/bin/pnpm
fi
export PATH="$root/.tools/bin:$PATH"

frozen="--frozen-lockfile"
[ -f pnpm-lock.yaml ] || frozen=""
pnpm install $frozen --reporter=append-only >&2

if [ "${SKIP_INFRA:-}" != "1" ]; then
  bash infra/ensure-services.sh >&2
fi
