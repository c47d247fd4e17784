"""Span masking for PIXEL pretraining (spec §2.3), a pure function of its inputs and a `np.random.Generator`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["SpanMaskingGenerator"]


class SpanMaskingGenerator:
    """BEiT-style span masking over a 1-row strip, with PIXEL-M4's per-call sizes.

    Spans of length 1..max_span_length are drawn with the given cumulative weights (default P = .2 .2 .2 .2 .1 .1).
    With spacing "span" a new span must keep `span` unmasked patches to each side of it; an int spacing uses that
    fixed gap (0 = none). Each round makes up to `max_attempts` attempts and stops at the first that masks something;
    the first attempt of every round places the span inside the text (the published code resets this rule per
    round, which is why masked patches concentrate in the text).
    """

    def __init__(
        self,
        max_span_length: int = 6,
        spacing: int | str = "span",
        cumulative_span_weights: Sequence[float] | None = (0.2, 0.4, 0.6, 0.8, 0.9, 1.0),
        max_attempts: int = 100,
    ) -> None:
        if cumulative_span_weights is None:
            cumulative_span_weights = np.arange(1, max_span_length + 1) / max_span_length
        weights = np.asarray(cumulative_span_weights, dtype=np.float64)
        if len(weights) != max_span_length or np.any(np.diff(weights) < 0):
            raise ValueError(
                f"cumulative_span_weights {list(cumulative_span_weights)} must be non-decreasing with "
                f"max_span_length={max_span_length} entries"
            )
        if spacing != "span" and not (isinstance(spacing, int) and spacing >= 0):
            raise ValueError(f"spacing must be 'span' or a non-negative int, got {spacing!r}")
        self.max_span_length = max_span_length
        self.spacing = spacing
        self.cumulative_span_weights = weights
        self.max_attempts = max_attempts

    def __repr__(self) -> str:
        return (
            f"SpanMaskingGenerator(max_span_length={self.max_span_length}, spacing={self.spacing!r}, "
            f"cumulative_span_weights={self.cumulative_span_weights.tolist()})"
        )

    def _sample_span(self, rng: np.random.Generator) -> int:
        # random.choices(range(1, n + 1), cum_weights=w) semantics: bisect_right on u * w[-1]
        u = rng.random() * self.cumulative_span_weights[-1]
        return int(np.searchsorted(self.cumulative_span_weights, u, side="right")) + 1

    def _mask_round(
        self, mask: np.ndarray, max_add: int, num_text_patches: int | None, rng: np.random.Generator
    ) -> tuple[int, int, int]:
        """Returns (patches added, left, span) of the accepted attempt, or (0, 0, 0)."""
        total = len(mask)
        for attempt in range(self.max_attempts):
            span = self._sample_span(rng)
            if span >= total:
                continue
            if attempt == 0 and num_text_patches is not None:
                left = int(rng.integers(0, max(0, num_text_patches - span) + 1))
            else:
                left = int(rng.integers(0, total - span + 1))
            gap = span if self.spacing == "span" else self.spacing
            if gap and (mask[max(0, left - gap) : left].any() or mask[left + span : left + span + gap].any()):
                continue
            added = span - int(mask[left : left + span].sum())
            if 0 < added <= max_add:
                mask[left : left + span] = 1
                return added, left, span
        return 0, 0, 0

    def __call__(
        self,
        num_patches_total: int,
        num_text_patches: int | None,
        num_patches_to_mask: int,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """int32 0/1 mask of length `num_patches_total` with up to `num_patches_to_mask` ones (fewer if no span fits).

        num_text_patches: patches the first span of each round must fall in (M4 passes text + EOS); None = anywhere.
        """
        return self.sample(num_patches_total, num_text_patches, num_patches_to_mask, rng)[0]

    def sample(
        self,
        num_patches_total: int,
        num_text_patches: int | None,
        num_patches_to_mask: int,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Like `__call__`, also returning the accepted spans as (left, length) in acceptance order (spans may overlap
        earlier ones, so they are not the mask's runs)."""
        if not 0 <= num_patches_to_mask <= num_patches_total:
            raise ValueError(f"cannot mask {num_patches_to_mask} of {num_patches_total} patches")
        mask = np.zeros(num_patches_total, dtype=np.int32)
        spans: list[tuple[int, int]] = []
        masked = 0
        while masked < num_patches_to_mask:
            max_add = min(num_patches_to_mask - masked, self.max_span_length)
            added, left, span = self._mask_round(mask, max_add, num_text_patches, rng)
            if added == 0:
                break
            masked += added
            spans.append((left, span))
        return mask, spans
