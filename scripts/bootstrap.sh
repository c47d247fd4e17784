#!/usr/bin/env bash
# Idempotent set-up shared by ./demo.sh and ./test.sh: system libraries and fonts (apt), a virtualenv,
# torch pinned to the CPU wheel first (so no CUDA build is ever pulled), then this package, then PIXEL's font.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${PIXEL_VENV:-$ROOT/.venv}"
EXTRAS="${1:-}"

apt_packages=(fonts-noto-core fonts-noto-cjk libpango-1.0-0 libpangocairo-1.0-0 libpangoft2-1.0-0 libcairo2 libharfbuzz0b libfontconfig1 fontconfig)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[setup] installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}" \
    || { $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; }
fi

PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating virtualenv $VENV"
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.pixel-installed$EXTRAS"
if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
  "$VENV/bin/python" -m pip install -q --upgrade pip
  # torch first and pinned: a later unpinned requirement then finds it satisfied.
  "$VENV/bin/python" -m pip install -q "torch==2.13.0"
  "$VENV/bin/python" -m pip install -q -e "$ROOT$EXTRAS"
  touch "$stamp"
fi

# PIXEL's main font, GoNotoCurrent.ttf (not in Debian): fetched from the pixar-render wheel without installing it,
# sha256-verified, kept in ~/.local/share/pixel/fonts (or $PIXEL_FONTS_DIR). Idempotent; without it the renderer
# falls back to Noto Sans with a warning.
if font_status=$("$VENV/bin/pixel" fonts --install --check 2>&1); then
  echo "[setup] ${font_status%%$'\n'*}"
else
  echo "$font_status" >&2
  echo "[setup] WARNING: GoNotoCurrent.ttf could not be installed (see above); renderers use Noto Sans instead" >&2
fi
