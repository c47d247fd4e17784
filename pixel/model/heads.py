"""Task heads on the PIXEL encoder (spec §2.5)."""

from __future__ import annotations

__all__: list[str] = []
