"""Pre-rendered Parquet shards: round trip, pixels equal to on-the-fly rendering, renderer fingerprint check."""

import itertools
import json

import numpy as np
import pytest
import torch

from pixel.data.prerender import MANIFEST, check_renderer, prerender_shards, read_manifest, stored_pixels
from pixel.data.pretraining import PretrainingCollator, PretrainingDataset
from pixel.data.text import TextSource
from pixel.model import SpanMaskingGenerator
from pixel.render import PangoCairoTextRenderer


@pytest.fixture(scope="module")
def renderer():
    return PangoCairoTextRenderer(rgb=True, rendering_strategy="bigrams")


@pytest.fixture()
def corpus(tmp_path):
    texts = {"en": "sentence number {} with some words", "zh": "第{}个句子，有一些词。"}
    for lang, pattern in texts.items():
        (tmp_path / f"{lang}.txt").write_text("\n".join(pattern.format(i) for i in range(30)))
    return [TextSource(path=str(tmp_path / f"{lang}.txt"), language=lang) for lang in texts]


@pytest.fixture()
def shards(tmp_path, corpus, renderer):
    blocks = PretrainingDataset(corpus, seed=5, shuffle_buffer=8).examples()
    prerender_shards(blocks, renderer, tmp_path / "shards", num_examples=36, shard_size=10, max_patches=63,
                     progress=False)  # fmt: skip
    return tmp_path / "shards"


def test_shards_hold_the_blocks_and_a_manifest(shards, corpus):
    manifest = read_manifest(shards)
    assert manifest["shards"] == [f"shard-0000{i}.parquet" for i in range(4)]  # 10 + 10 + 10 + 6
    assert manifest["num_examples"] == 36 and sum(manifest["languages"].values()) == 36
    assert manifest["renderer"]["rendering_strategy"] == "bigrams"
    assert (shards / "text_renderer_config.json").is_file()
    expected = [
        b["text"]
        for b in itertools.islice(PretrainingDataset(corpus, seed=5, shuffle_buffer=8).examples(), 36)
    ]
    stored = list(
        itertools.islice(
            PretrainingDataset([TextSource(prerendered=str(shards))], shuffle_buffer=0).examples(), 36
        )
    )
    assert [item["text"] for item in stored] == expected
    assert {item["language"] for item in stored} == {"en", "zh"}
    # The reconstruction pictures' rows: the manifest's languages, each with its first stored block.
    firsts = PretrainingDataset(
        [TextSource(prerendered=str(shards))], shuffle_buffer=0
    ).first_of_each_language()
    order = list(manifest["languages"])
    assert [item["language"] for item in firsts] == order
    assert firsts == [next(item for item in stored if item["language"] == tag) for tag in order]


@pytest.mark.parametrize("pixel_dtype", ["float32", "uint8"])
def test_stored_pixels_equal_rendering_on_the_fly(shards, renderer, pixel_dtype):
    items = list(itertools.islice(PretrainingDataset([TextSource(prerendered=str(shards))], shuffle_buffer=0)
                                  .examples(), 12))  # fmt: skip
    assert all("pixels" in item for item in items)
    collator = PretrainingCollator(
        renderer, SpanMaskingGenerator(), max_patches=63, seed=9, pixel_dtype=pixel_dtype
    )
    from_shards = collator(items)
    rendered = collator([{k: item[k] for k in ("text", "language", "example_id")} for item in items])
    assert from_shards.keys() == rendered.keys()
    for key in rendered:
        assert torch.equal(from_shards[key], rendered[key]), key
    strip = stored_pixels(items[0], 63)
    assert strip.shape == (16, 16 * (items[0]["num_text_patches"] + 1), 3)


def test_a_different_renderer_is_refused(shards, renderer):
    check_renderer(shards, renderer, max_patches=63)  # the same renderer passes
    with pytest.raises(ValueError, match="different renderer.*rendering_strategy"):
        check_renderer(
            shards, PangoCairoTextRenderer(rgb=True, rendering_strategy="continuous"), max_patches=63
        )
    with pytest.raises(ValueError, match="different renderer.*rgb"):
        check_renderer(
            shards, PangoCairoTextRenderer(rgb=False, rendering_strategy="bigrams"), max_patches=63
        )
    with pytest.raises(ValueError, match="data.max_patches >= 63"):
        check_renderer(shards, renderer, max_patches=31)
    manifest = json.loads((shards / MANIFEST).read_text())
    manifest["renderer_fingerprint"]["font_sha256"] = ["0" * 64]  # shards made with another font file
    (shards / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="font_sha256"):
        check_renderer(shards, renderer, max_patches=63)


def test_incomplete_folders_and_mixed_sources_are_refused(shards, corpus, tmp_path):
    (shards / "shard-00002.parquet").unlink()
    with pytest.raises(FileNotFoundError, match="shard-00002"):
        read_manifest(shards)
    with pytest.raises(FileNotFoundError, match="prerender.json"):
        read_manifest(tmp_path)
    with pytest.raises(ValueError, match="cannot be mixed"):
        PretrainingDataset([*corpus, TextSource(prerendered=str(shards))])
    with pytest.raises(ValueError, match="exactly one of"):
        TextSource(path="x.txt", prerendered=str(shards))


def test_prerender_refuses_a_used_folder_and_short_streams(shards, renderer, tmp_path):
    with pytest.raises(FileExistsError):
        prerender_shards([], renderer, shards, num_examples=1, progress=False)
    blocks = [{"text": "only one", "language": "en"}]
    with pytest.raises(ValueError, match="only 1 blocks"):
        prerender_shards(blocks, renderer, tmp_path / "short", num_examples=5, progress=False)


def test_stored_pixels_rejects_a_wrong_size():
    row = {
        "pixels": np.zeros(16 * 32 * 2, np.uint8).tobytes(),
        "num_text_patches": 1,
        "language": "en",
        "text": "x",
    }
    with pytest.raises(ValueError, match="do not fit a 16 x 32 strip"):
        stored_pixels(row, 63)
