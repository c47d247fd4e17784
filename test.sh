#!/usr/bin/env bash
# Set up everything with the test extras (idempotent), type-check the whole package, then run the test suite
# offline.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$ROOT/scripts/bootstrap.sh" "[test]"
cd "$ROOT"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
VENV="${PIXEL_VENV:-$ROOT/.venv}"
"$VENV/bin/mypy" pixel
exec "$VENV/bin/python" -m pytest -q "$@"
