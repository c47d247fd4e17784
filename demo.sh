#!/usr/bin/env bash
# Set up everything (idempotent), then run the main job on its built-in default.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$ROOT/scripts/bootstrap.sh"
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"
exec "${PIXEL_VENV:-$ROOT/.venv}/bin/pixel" demo "$@"
