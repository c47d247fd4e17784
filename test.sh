#!/usr/bin/env bash
# Set up everything with the test extras (idempotent), then run the test suite offline.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$ROOT/scripts/bootstrap.sh" "[test]"
cd "$ROOT"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
exec "${PIXEL_VENV:-$ROOT/.venv}/bin/python" -m pytest -q "$@"
