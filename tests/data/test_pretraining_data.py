import itertools

import numpy as np
import pytest
import torch

from pixel.data.pretraining import PretrainingCollator, PretrainingDataset, padded_length
from pixel.data.text import TextSource
from pixel.data.transforms import pixel_values_to_tensor
from pixel.model import SpanMaskingGenerator
from pixel.render import Encoding, PangoCairoTextRenderer


@pytest.mark.parametrize(
    ("longest", "expected"),
    [(1, 63), (62, 63), (63, 63), (64, 127), (127, 127), (128, 191), (500, 511), (511, 511)],
)
def test_padded_length_plus_cls_is_a_multiple_of_64(longest, expected):
    assert padded_length(longest) == expected
    assert (padded_length(longest) + 1) % 64 == 0


def test_padded_length_rejects_overlong():
    with pytest.raises(ValueError, match="512"):
        padded_length(512)


@pytest.fixture(scope="module")
def renderer():
    return PangoCairoTextRenderer(rgb=True)


def items(texts):
    return [{"text": t, "language": "x", "example_id": i} for i, t in enumerate(texts)]


def test_collator_pads_white_with_text_plus_eos_attended(renderer):
    collator = PretrainingCollator(renderer, SpanMaskingGenerator(), mask_ratio=0.25, max_patches=511, seed=3)
    texts = ["Hello world.", "A longer sentence " * 6, "中文 文本"]
    batch = collator(items(texts))
    batch_size, seq_length = batch["attention_mask"].shape
    assert batch_size == 3 and (seq_length + 1) % 64 == 0 and seq_length <= 511
    assert batch["pixel_values"].shape == (3, 3, 16, 16 * seq_length)
    for row, text in enumerate(texts):
        num = renderer(text).num_text_patches
        assert batch["attention_mask"][row].tolist() == [1.0] * (num + 1) + [0.0] * (seq_length - num - 1)
        assert torch.all(batch["pixel_values"][row, :, :, 16 * (num + 1) :] == 1.0)  # white padding
        assert torch.all(batch["pixel_values"][row, :, :, 16 * num : 16 * (num + 1)] == 0.0)  # black EOS
    mask = batch["patch_mask"]
    assert set(mask.unique().tolist()) <= {0.0, 1.0}
    assert torch.all(mask.sum(1) <= np.ceil(seq_length * 0.25))
    assert torch.all(
        (mask * batch["attention_mask"]).sum(1) >= 1
    )  # the first span of a round lies in the text
    assert batch["noise"].shape == (3, seq_length) and torch.all((batch["noise"] >= 0) & (batch["noise"] < 1))


def test_collator_caps_at_max_patches_and_pads_to_max(renderer):
    collator = PretrainingCollator(renderer, None, max_patches=63, pad_to_max=True)
    batch = collator(items(["word " * 200, "x"]))
    assert batch["attention_mask"].shape == (2, 63) and "patch_mask" not in batch
    assert batch["attention_mask"][0].sum() == 63


def test_masks_depend_on_seed_and_example_only(renderer):
    texts = ["Hello world, this is a test.", "Another one."]
    a = PretrainingCollator(renderer, SpanMaskingGenerator(), seed=1)(items(texts))
    b = PretrainingCollator(renderer, SpanMaskingGenerator(), seed=1)(items(texts))
    c = PretrainingCollator(renderer, SpanMaskingGenerator(), seed=2)(items(texts))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["noise"], c["noise"])


class RandomRenderer:
    """Stand-in renderer: random (possibly coloured) strips, so the collator's conversion is checked on every value."""

    def __init__(self, rgb: bool, max_seq_length: int = 511):
        self.rgb, self.max_seq_length = rgb, max_seq_length

    def __call__(self, text: str) -> Encoding:
        rng = np.random.default_rng(len(text))
        shape = (16, 16 * self.max_seq_length, 3) if self.rgb else (16, 16 * self.max_seq_length)
        return Encoding(pixel_values=rng.integers(0, 256, shape, dtype=np.uint8), num_text_patches=len(text))


@pytest.mark.parametrize("rgb", [True, False])
def test_collator_pixels_equal_the_shared_transform_padded_white(rgb):
    texts = ["x" * 5, "y" * 70, "z" * 20]
    renderer = RandomRenderer(rgb)
    batch = PretrainingCollator(renderer, SpanMaskingGenerator(), max_patches=127)(items(texts))
    pixel_values = batch["pixel_values"]
    assert pixel_values.shape == (3, 3, 16, 16 * 127) and pixel_values.is_contiguous()
    for row, text in enumerate(texts):
        width = 16 * (len(text) + 1)
        expected = pixel_values_to_tensor(renderer(text).pixel_values)[:, :, :width]
        assert torch.equal(pixel_values[row, :, :, :width], expected)
        assert torch.all(pixel_values[row, :, :, width:] == 1.0)
    as_bytes = PretrainingCollator(renderer, SpanMaskingGenerator(), max_patches=127, pixel_dtype="uint8")
    uint8 = as_bytes(items(texts))
    assert uint8["pixel_values"].dtype == torch.uint8
    assert torch.equal(uint8["pixel_values"].float() / 255, pixel_values)  # what the device does with it
    assert all(torch.equal(uint8[k], batch[k]) for k in batch if k != "pixel_values")


def test_collator_rejects_unknown_pixel_dtype(renderer):
    with pytest.raises(ValueError, match="pixel_dtype"):
        PretrainingCollator(renderer, pixel_dtype="float16")


@pytest.fixture()
def corpus(tmp_path):
    for lang in ("en", "uk"):
        lines = [f"{lang} sentence number {i} with some words" for i in range(40)]
        (tmp_path / f"{lang}.txt").write_text("\n".join(lines))
    return [TextSource(path=str(tmp_path / f"{lang}.txt"), language=lang) for lang in ("en", "uk")]


def loader(corpus, renderer, seed, workers, skip=0):
    dataset = PretrainingDataset(corpus, seed=seed, shuffle_buffer=16, batch_size=4, skip_batches=skip)
    collator = PretrainingCollator(renderer, SpanMaskingGenerator(), max_patches=127, seed=seed)
    return torch.utils.data.DataLoader(dataset, batch_size=4, num_workers=workers, collate_fn=collator)


def batches(corpus, renderer, seed, workers, n=6, skip=0):
    return list(itertools.islice(loader(corpus, renderer, seed, workers, skip), n))


def same(x, y):
    return len(x) == len(y) and all(
        all(torch.equal(a[k], b[k]) for k in a) for a, b in zip(x, y, strict=True)
    )


def test_deterministic_given_seed_and_workers_and_resumable(corpus, renderer):
    two = batches(corpus, renderer, seed=0, workers=2)
    assert same(two, batches(corpus, renderer, seed=0, workers=2))
    assert not same(two, batches(corpus, renderer, seed=1, workers=2))
    assert same(
        two[3:], batches(corpus, renderer, seed=0, workers=2, n=3, skip=3)
    )  # resume without rendering


def test_dataset_yields_every_language_and_repeats(corpus):
    dataset = PretrainingDataset(corpus, seed=0, shuffle_buffer=0, stopping_strategy="all_exhausted")
    stream = list(itertools.islice(dataset.examples(), 200))  # 80 lines: several epochs
    assert {item["language"] for item in stream} == {"en", "uk"}
    assert len({item["example_id"] for item in stream}) == 200
    assert stream[0]["text"] in {
        "en sentence number 0 with some words",
        "uk sentence number 0 with some words",
    }


def test_first_of_each_language_in_source_order(corpus):
    dataset = PretrainingDataset(corpus[::-1], seed=0, shuffle_buffer=16)
    stream = list(itertools.islice(dataset.examples(), 20))
    firsts = dataset.first_of_each_language()
    assert firsts == [next(item for item in stream if item["language"] == tag) for tag in ("uk", "en")]
    assert dataset.first_of_each_language(max_items=0) == [stream[0]]  # looks no further than asked


class _ItemByItem(PangoCairoTextRenderer):
    render_batch = None  # the collator then renders item by item


def test_collator_batch_rendering_equals_item_by_item():
    texts = ["Hello world. " * 30, "مرحبا بالعالم " * 12, "中文 文本 " * 40, "Hello again, world.", ""]
    collate = [
        PretrainingCollator(cls(rgb=rgb), SpanMaskingGenerator(), max_patches=127, seed=1)
        for cls in (PangoCairoTextRenderer, _ItemByItem)
        for rgb in (False, True)
    ]
    batches = [c(items(texts)) for c in collate]
    for batch in batches[1:]:
        assert batch.keys() == batches[0].keys()
        for key in batch:
            assert torch.equal(batch[key], batches[0][key]), key
