"""The ``blocks`` engine: words cut into blocks (``Strategy.blocks``), each block from a patch boundary.

Serves ``grapheme_bigrams``, ``words`` and ``mono`` on the exact block -> patch-tile cache (``TileCache``), and
every patch-aligned strategy's reference path (``use_cache=False``: each run laid out and drawn by Pango on the
strip, the published renderer's work), ``bigrams`` included, with the published quirks where
``Strategy.published`` says so.
"""

from __future__ import annotations

from operator import attrgetter, itemgetter

import numpy as np

from pixel.render.compose import TileCache, block_patches
from pixel.render.config import RendererConfig
from pixel.render.engines.base import PatchEngine, blacken
from pixel.render.glyphs import DottedCircles
from pixel.render.layout import SentenceLayout, WordPlan, google_quirk, layout_words
from pixel.render.strategies import Block, BlockFunction

_PLAN, _CIRCLES = itemgetter(1), attrgetter("circles")  # of a laid-out word (start, plan, blocks drawn)


class BlockEngine(PatchEngine):
    def __init__(self, config: RendererConfig) -> None:
        super().__init__(config)
        strategy = config.strategy
        assert strategy.blocks is not None  # (``make_engine`` sends only block strategies here)
        self.block_function: BlockFunction = strategy.blocks
        self.quirks = strategy.published  # the published bigrams renderer's truncation and word map
        self._cache: TileCache | None = None
        self._circles: DottedCircles | None = None

    @property
    def dotted_circles(self) -> DottedCircles:
        """Counts the dotted circles HarfBuzz inserts into runs (``Encoding.num_inserted_dotted_circles``)."""
        if self._circles is None:
            self._circles = DottedCircles(self.backend)
        return self._circles

    @property
    def cache(self) -> TileCache:
        if self._cache is None:
            config = self.config
            self._cache = TileCache(self.backend, config.pixels_per_patch, config.cache_megabytes)
        return self._cache

    def blocks_of(self, word: str, rtl: bool) -> list[Block]:
        return self.block_function(word, rtl, self.config.pixels_per_patch)

    def _begin(self) -> None:
        if self.config.use_cache:
            self.cache.begin()

    def _layout(self, words: list[str], rtl: bool, start: int, max_length: int) -> SentenceLayout:
        if self.quirks:
            words = google_quirk(words)
        plans = self._plans(words, rtl)
        return layout_words(words, plans, start, max_length, self.quirks, self.config.max_seq_length, rtl)

    def _plans(self, words: list[str], rtl: bool) -> list[WordPlan]:
        """Measure words (from the tile cache when on)."""
        if self.config.use_cache:
            return self.cache.plans(words, (rtl, False), lambda w: self._new_word_blocks(w, rtl))
        P = self.config.pixels_per_patch
        return [
            WordPlan(blocks, [block_patches(self.backend, b, P) for b in blocks])
            for blocks in (self.blocks_of(word, rtl) for word in words)
        ]

    def _new_word_blocks(self, word: str, rtl: bool) -> list[Block]:
        """The blocks of a word the tile cache meets for the first time, with the dotted circles of its runs counted
        now: each run is measured and counted in turn, so Pango lays it out once for both (its width is cached
        for the tile cache, which measures it next)."""
        blocks = self.blocks_of(word, rtl)
        backend, count = self.backend, self.dotted_circles.run
        for block in blocks:
            for run in block.runs:
                backend.extent(run)
                count(run)
        return blocks

    def _draw(self, layouts: list[SentenceLayout], black: list[int]) -> tuple[np.ndarray, int, int]:
        pixels = None
        # A word wider than the room left is cut by cairo at its EOS patch: drawn directly.
        if self.config.use_cache and all(layout.clip is None for layout in layouts):
            words = [w for layout in layouts for w in layout.words]
            missing = sum(plan.unknown for _, plan, _ in words)
            circles = self._plan_circles(layouts, words)
            coverage = self.cache.assemble(words, self.config.max_seq_length)
            if coverage is not None:
                pixels = self.channels(np.invert(coverage))
        else:
            placed = [item for layout in layouts for item in layout.placed]
            missing = sum(self.backend.extent(run).unknown_glyphs for _, b in placed for run in b.runs)
            circles = self.dotted_circles.runs(run for _, b in placed for run in b.runs)
        if pixels is None:
            pixels = self._draw_direct(layouts)
        return blacken(pixels, black, self.config.pixels_per_patch), missing, circles

    def _plan_circles(self, layouts: list[SentenceLayout], words: list[tuple[int, WordPlan, int]]) -> int:
        """Dotted circles in the drawn blocks of laid-out ``words`` (those of ``layouts``).

        A word's count is kept on its plan, so a strip of counted words costs two C-level maps.
        """
        try:
            total = sum(map(_CIRCLES, map(_PLAN, words)))
        except TypeError:  # words not counted yet (``WordPlan.circles`` is None)
            runs = self.dotted_circles.runs
            for _, plan, _ in words:
                if plan.circles is None:
                    plan.circles = runs(run for block in plan.blocks for run in block.runs)
            total = sum(map(_CIRCLES, map(_PLAN, words)))
        for layout in layouts:  # truncation cuts only a lone first word (``layout_words``)
            if len(layout.words) == 1 and layout.words[0][2] < len(layout.words[0][1].blocks):
                _, plan, drawn = layout.words[0]
                assert plan.circles is not None  # counted above
                cut = [run for block in plan.blocks[:drawn] for run in block.runs]
                total += self.dotted_circles.runs(cut) - plan.circles
        return total
